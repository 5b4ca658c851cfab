//! The atomics the `MyArc` stages use: loom's under `--cfg mastery_loom`, std's otherwise.
//!
//! Stage code imports from `crate::sync` instead of `std::sync::atomic`, so that the same
//! source runs in ordinary tests, under Miri, and inside loom models.

#![allow(unused_imports)]

#[cfg(mastery_loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(mastery_loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering, fence};

#[cfg(not(mastery_loom))]
pub(crate) use std::hint::spin_loop;
#[cfg(not(mastery_loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering, fence};
