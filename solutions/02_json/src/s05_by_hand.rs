//! s05_by_hand
