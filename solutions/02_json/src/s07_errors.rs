//! s07_errors
