//! The crate's synchronisation primitives: loom's under `cfg(mastery_loom)`, std's otherwise.
//!
//! Every stage that is checked with loom takes its atomics, cells and threads from here, so the
//! same code runs on real threads in the ordinary tests and under loom's model checker in the
//! loom tests. `UnsafeCell` has loom's closure-based API in both builds: `with` for a shared
//! read, `with_mut` for a write, which lets loom see (and reject) every unsynchronised access.

#[cfg(mastery_loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(mastery_loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(mastery_loom)]
#[allow(unused_imports)]
pub(crate) use loom::sync::{Arc, Mutex};
#[cfg(mastery_loom)]
pub(crate) use loom::thread;

#[cfg(not(mastery_loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(not(mastery_loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::{Arc, Mutex};
#[cfg(not(mastery_loom))]
pub(crate) use std::thread;

/// Tells the scheduler that this thread is waiting for another one.
///
/// A spin-loop hint on real hardware; under loom a yield, so that the model checker lets the
/// thread being waited for run instead of exploring an endless spin.
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(mastery_loom)]
    loom::thread::yield_now();
    #[cfg(not(mastery_loom))]
    std::hint::spin_loop();
}

/// `std::cell::UnsafeCell` with loom's API: access goes through closures that receive a raw
/// pointer, so that loom (which tracks each access) and std (which does not) share one API.
#[cfg(not(mastery_loom))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

#[cfg(not(mastery_loom))]
#[allow(dead_code)]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    /// Unwraps the value.
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(mastery_loom))]
#[allow(dead_code)]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a pointer for reading; the caller guarantees no write happens meanwhile.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing; the caller guarantees exclusive access meanwhile.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
