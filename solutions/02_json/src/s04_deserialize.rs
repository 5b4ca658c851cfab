//! s04_deserialize
