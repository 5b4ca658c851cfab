//! s06_derive
