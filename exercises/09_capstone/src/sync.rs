//! The crate's synchronisation primitives: loom's under `cfg(mastery_loom)`, std's otherwise.
//!
//! The stages take their atomics, cells, locks and threads from here, so the same code runs on
//! real threads in the ordinary tests and under loom's model checker in the loom tests. The
//! crates this one builds on (`smart_pointers`, `mpsc`) switch the same way on the same cfg, so
//! a loom build checks their atomics too. `UnsafeCell` has loom's closure-based API in both
//! builds: `with_mut` for a write, which lets loom see (and reject) two threads in one cell.

#[cfg(mastery_loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(mastery_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
#[cfg(mastery_loom)]
#[allow(unused_imports)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex};
#[cfg(mastery_loom)]
#[allow(unused_imports)]
pub(crate) use loom::thread;

#[cfg(not(mastery_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
#[cfg(not(mastery_loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::{Arc, Condvar, Mutex};
#[cfg(not(mastery_loom))]
#[allow(unused_imports)]
pub(crate) use std::thread;

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
