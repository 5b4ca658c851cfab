//! # MyArc: reference counting across threads
//!
//! Build `MyArc<T>`, the thread-safe `MyRc`: the count is an `AtomicUsize`. (No weak pointers
//! yet: the next stage adds them.) Take the atomics from `crate::sync`, not
//! `std::sync::atomic`: under `--cfg mastery_loom` that module hands out loom's atomics, so the
//! same code is checked by loom's model checker.
//!
//! Every atomic operation takes an `Ordering`, and choosing them is this stage's lesson. An
//! atomic makes the *count* safe to share; the orderings decide what the count's changes say
//! about the *value*. The rule to keep: everything any thread does with the value must
//! *happen before* the drop that destroys it. A `Release` operation publishes what its thread
//! did before it; an `Acquire` operation (or an acquire `fence` after a relaxed one) that reads
//! what a release wrote makes all of that visible to what its thread does after it. The mirror
//! does not work on the publishing side: a release `fence` before a relaxed decrement
//! publishes only what comes before the fence, and the `fetch_sub` that another thread reads
//! comes after it, so nothing is paired (Miri rejects it):
//!
//! ```text
//!   thread A (drops a clone)                 thread B (drops the last clone)
//!   reads the value  (its last use)
//!         |  program order
//!         v
//!   count 2 -> 1  (Release)  --- read by --> count 1 -> 0  (Acquire)
//!                                                  |  program order
//!                                                  v
//!                                            drops the value, frees the block
//! ```
//!
//! A's read happens before B's free only through that arrow; take away either end and B may
//! free the value while A is still reading it. Decide, for `clone`, `drop` and `get_mut`, which
//! other threads' uses of the value must happen before what this thread does next, and pick
//! for each atomic operation the weakest ordering that makes it so. Write the reason next to
//! each one. (`clone` can be `Relaxed`: it runs on a `MyArc` this thread already holds, so
//! whatever made that one and the value visible here already happened.)
//!
//! A too-weak ordering passes most runs of an ordinary test; Miri's race detector
//! (in `a_clone_dropped_on_another_thread_happens_before_the_free`) and loom's models (under
//! `cargo test --release` with `RUSTFLAGS="--cfg mastery_loom"`) are the judges. A stronger
//! ordering than needed passes too, so the comment is where you prove you chose. The last
//! loom test shows a weakened `MyArc`, `WeakenedArc`, failing with a causality violation.
//!
//! The count must not overflow: `clone` aborts the process when the count passes
//! `usize::MAX / 2`, since threads may clone faster than a plain overflow check could stop
//! them. A test forges such a count in a child process and expects the clone to abort it.
//!
//! `MyArc<T>` is `Send` and `Sync` only when `T: Send + Sync`; the bounds are given, their
//! `// SAFETY:` reasons are yours, and the doc of [`MyArc`] shows the misuses they rule out.
//!
//! Afterwards you will be able to justify each ordering of a reference count, explain what
//! `Send` and `Sync` promise and when a type may implement them by hand, and read a loom
//! failure.
//!
//! Read: Mara Bos, "Rust Atomics and Locks", chapter 6 "Building Our Own Arc" (the basic
//! version): <https://marabos.nl/atomics/building-arc.html>; the Rustonomicon, "Implementing
//! Arc": <https://doc.rust-lang.org/nomicon/arc-mutex/arc.html>; for release, acquire and
//! fences, chapter 3 of Mara Bos's book: <https://marabos.nl/atomics/memory-ordering.html>.

use crate::sync::{AtomicUsize, Ordering, fence};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

/// The heap block shared by every `MyArc` to one value.
struct ArcInner<T> {
    /// How many `MyArc`s point here.
    count: AtomicUsize,
    value: T,
}

/// A thread-safe reference-counted pointer.
///
/// # Send and Sync
///
/// `MyArc<T>` is `Send` and `Sync` only when `T: Send + Sync`: sending a `MyArc` to another
/// thread shares the `T` (so `T: Sync`), and whichever thread drops last drops the `T` (so
/// `T: Send`). A `MyArc<Cell<i32>>` would let two threads write one `Cell` at once:
///
/// ```compile_fail,E0277
/// use smart_pointers::s05_arc::MyArc;
/// use std::cell::Cell;
///
/// let a = MyArc::new(Cell::new(1));
/// std::thread::spawn(move || a.set(2)); // error[E0277]: `Cell<i32>` cannot be shared between threads
/// ```
///
/// ```compile_fail,E0277
/// use smart_pointers::s05_arc::MyArc;
/// use std::cell::RefCell;
///
/// let a = MyArc::new(RefCell::new(1));
/// std::thread::spawn(move || *a.borrow_mut() = 2); // error[E0277]: `RefCell<i32>` cannot be shared
/// ```
///
/// And `T: Sync` alone is not enough: the last clone may be dropped on another thread, which
/// then drops the `T`. A `MutexGuard` is `Sync` but not `Send` (it must be unlocked by the
/// thread that locked):
///
/// ```compile_fail,E0277
/// use smart_pointers::s05_arc::MyArc;
/// use std::sync::Mutex;
///
/// static M: Mutex<i32> = Mutex::new(1);
/// let a = MyArc::new(M.lock().unwrap());
/// std::thread::spawn(move || **a + 1); // error[E0277]: `MutexGuard<'_, i32>` cannot be sent
/// ```
pub struct MyArc<T> {
    ptr: NonNull<ArcInner<T>>,
    _owns: PhantomData<ArcInner<T>>,
}

// SAFETY: sending a `MyArc<T>` to another thread lets that thread read the `T` (needs
// `T: Sync`) and perhaps drop it, as the last owner (needs `T: Send`).
unsafe impl<T: Send + Sync> Send for MyArc<T> {}
// SAFETY: a `&MyArc<T>` can be cloned into a `MyArc<T>`, so sharing one is sending one.
unsafe impl<T: Send + Sync> Sync for MyArc<T> {}

impl<T> MyArc<T> {
    /// Moves `value` into a new block with a count of 1.
    pub fn new(value: T) -> Self {
        let inner = Box::new(ArcInner {
            count: AtomicUsize::new(1),
            value,
        });
        Self {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
        }
    }

    fn inner(&self) -> &ArcInner<T> {
        // SAFETY: while this `MyArc` exists the count is at least 1, so the block is alive;
        // nothing hands out a `&mut` to any part of it while another `MyArc` exists.
        unsafe { self.ptr.as_ref() }
    }

    /// How many `MyArc`s point to this value. Other threads may change it at any moment:
    /// use it for diagnostics and tests, not for synchronization.
    pub fn strong_count(this: &Self) -> usize {
        this.inner().count.load(Ordering::Relaxed)
    }

    /// Whether two `MyArc`s point to the same block.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.ptr == other.ptr
    }

    /// A unique reference to the value, if this is the only `MyArc` to it.
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        // Acquire: pairs with the release decrements of the clones that were dropped, so their
        // uses of the value happen before ours. (`&mut this` means no clone can appear.)
        if this.inner().count.load(Ordering::Acquire) == 1 {
            // SAFETY: we are the only pointer, and `this` is mutably borrowed.
            Some(unsafe { &mut this.ptr.as_mut().value })
        } else {
            None
        }
    }
}

impl<T> Clone for MyArc<T> {
    fn clone(&self) -> Self {
        // Relaxed: the new pointer is created from one we hold, so nothing needs publishing.
        let old = self.inner().count.fetch_add(1, Ordering::Relaxed);
        // Half the range: even if many threads pass this check at once before one aborts,
        // the count cannot wrap around to 0.
        if old > usize::MAX / 2 {
            std::process::abort();
        }
        Self {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for MyArc<T> {
    fn drop(&mut self) {
        // Release: our uses of the value happen before the last owner's drop of it.
        if self.inner().count.fetch_sub(1, Ordering::Release) == 1 {
            // Acquire: synchronize with every other owner's release decrement, so all their
            // uses of the value happen before we drop it and free the block.
            fence(Ordering::Acquire);
            // SAFETY: the count reached 0: no other pointer exists or can be made. The block
            // came from `Box::leak` in `new`.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
        }
    }
}

impl<T> Deref for MyArc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T: fmt::Debug> fmt::Debug for MyArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        T::fmt(self, f)
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::MyArc;
    use crate::test_support::{is_child, run_child, with_watchdog};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    struct DropCounter(Arc<AtomicUsize>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn clone_and_drop_count_like_myrc() {
        let x = MyArc::new(42);
        let y = MyArc::clone(&x);
        assert_eq!(MyArc::strong_count(&x), 2);
        assert!(MyArc::ptr_eq(&x, &y));
        assert!(
            !MyArc::ptr_eq(&x, &MyArc::new(42)),
            "ptr_eq compares the blocks, not the values: another MyArc::new(42) is not the same"
        );
        drop(y);
        assert_eq!(MyArc::strong_count(&x), 1);
        assert_eq!(*x, 42);
        assert_eq!(format!("{x:?}"), "42");
    }

    #[test]
    fn value_dropped_once_with_the_last_pointer() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = MyArc::new(DropCounter(drops.clone()));
        let b = a.clone();
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0, "b still holds the value");
        drop(b);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            1,
            "the last drop drops the value once"
        );
    }

    #[test]
    fn get_mut_only_when_unique() {
        let mut a = MyArc::new(vec![1]);
        MyArc::get_mut(&mut a)
            .expect("unique: get_mut succeeds")
            .push(2);
        let b = a.clone();
        assert!(MyArc::get_mut(&mut a).is_none(), "a clone exists: no &mut");
        drop(b);
        assert_eq!(MyArc::get_mut(&mut a).map(|v| v.len()), Some(2));
    }

    /// Run as a child process by `clone_aborts_past_half_the_count_range`.
    #[test]
    fn overflow_child() {
        if !is_child("s05_arc::tests::overflow_child") {
            return; // only does something when run as the child
        }
        let a = MyArc::new(0_u8);
        // SAFETY: `a` keeps the block alive. This forges a count just past `usize::MAX / 2`,
        // as a program would reach with that many clones passed to `mem::forget`.
        let count = unsafe { &a.ptr.as_ref().count };
        count.store(usize::MAX / 2 + 1, Ordering::Relaxed);
        let _b = a.clone(); // must abort: more clones could wrap the count to 0
        std::process::exit(0); // reached only if clone did not abort
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot spawn processes
    fn clone_aborts_past_half_the_count_range() {
        use std::os::unix::process::ExitStatusExt;
        let status = run_child("s05_arc::tests::overflow_child");
        assert_eq!(
            status.signal(),
            Some(6), // SIGABRT
            "a clone that finds the count past usize::MAX / 2 must abort the process \
             (std::process::abort), got {status}"
        );
    }

    #[test]
    fn send_and_sync_exactly_when_t_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MyArc<Mutex<Vec<u8>>>>();
        assert_send_sync::<MyArc<AtomicUsize>>();
    }

    #[test]
    fn shared_across_threads() {
        let total = with_watchdog(|| {
            let data = MyArc::new((1..=100).collect::<Vec<u64>>());
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let d = data.clone();
                    std::thread::spawn(move || d.iter().sum::<u64>())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
        });
        assert_eq!(total, 2 * 5050);
    }

    #[test]
    fn a_clone_dropped_on_another_thread_happens_before_the_free() {
        // For Miri's data-race detector. The other thread reads the value, drops its clone and
        // says so through a `Relaxed` flag, which orders nothing: only the orderings on the
        // count can make its read happen before our drop of the value. Miri reports a data
        // race (this test's lines in its backtrace) when an ordering is too weak.
        let a = MyArc::new(String::from("shared"));
        let b = a.clone();
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let t = std::thread::spawn(move || {
            assert_eq!(b.as_bytes()[0], b's');
            drop(b);
            flag.store(true, Ordering::Relaxed);
        });
        with_watchdog(move || {
            while !done.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            drop(a); // the last pointer: drops the value and frees the block
        });
        t.join().unwrap();
    }

    #[test]
    fn clone_drop_storm_drops_the_value_exactly_once() {
        let rounds = if cfg!(miri) { 3 } else { 200 };
        let per_thread = if cfg!(miri) { 20 } else { 1000 };
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        with_watchdog(move || {
            for _ in 0..rounds {
                let a = MyArc::new(DropCounter(d.clone()));
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        let mine = a.clone();
                        std::thread::spawn(move || {
                            let mut held = Vec::new();
                            for i in 0..per_thread {
                                held.push(mine.clone());
                                if i % 3 == 0 {
                                    held.clear();
                                }
                            }
                        })
                    })
                    .collect();
                drop(a);
                for h in handles {
                    h.join().unwrap();
                }
            }
        });
        assert_eq!(
            drops.load(Ordering::Relaxed),
            rounds,
            "each value must be dropped exactly once, by whichever thread drops last"
        );
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::MyArc;
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;
    use std::ptr::NonNull;

    /// A value whose every access loom checks: a write that does not *happen before* a later
    /// read (or write) on another thread is reported as a causality violation.
    struct Tracked(UnsafeCell<u32>);
    impl Tracked {
        fn write(&self, v: u32) {
            // SAFETY (of the test): each model writes from one thread at a time; loom checks it.
            self.0.with_mut(|p| unsafe { *p = v });
        }
    }
    impl Drop for Tracked {
        fn drop(&mut self) {
            // Not while unwinding from a violation loom found: the cell is still marked as
            // being written, and a second panic would abort the test process.
            if !std::thread::panicking() {
                self.0.with_mut(|p| unsafe { *p = 0 });
            }
        }
    }
    // SAFETY (of the test): loom's `UnsafeCell` reports every unsynchronized access.
    unsafe impl Sync for Tracked {}

    #[test]
    fn two_threads_drop_the_last_clones() {
        loom::model(|| {
            let a = MyArc::new(Tracked(UnsafeCell::new(1)));
            let b = a.clone();
            let t = thread::spawn(move || {
                b.write(2); // a use of the value that must happen before its drop
                drop(b);
            });
            drop(a);
            t.join().unwrap();
        });
    }

    #[test]
    fn clone_on_one_thread_drop_on_another() {
        loom::model(|| {
            let a = MyArc::new(Tracked(UnsafeCell::new(1)));
            let b = a.clone();
            let t = thread::spawn(move || {
                let c = b.clone();
                drop(b);
                c.write(3);
                assert!(MyArc::strong_count(&c) >= 1);
            });
            drop(a);
            t.join().unwrap();
        });
    }

    #[test]
    fn get_mut_after_another_thread_drops_its_clone() {
        loom::model(|| {
            let mut a = MyArc::new(Tracked(UnsafeCell::new(1)));
            let b = a.clone();
            let t = thread::spawn(move || {
                b.write(2);
                drop(b);
            });
            // If `get_mut` sees the count at 1, the other thread's write must happen before
            // ours.
            if let Some(v) = MyArc::get_mut(&mut a) {
                v.write(3);
            }
            t.join().unwrap();
        });
    }

    /// `MyArc` with every ordering `Relaxed`: a count that orders nothing.
    struct WeakenedArc<T> {
        ptr: NonNull<(AtomicUsize, T)>,
    }
    // SAFETY (of the test): as for `MyArc`; the point of the test is that the drop is wrong.
    unsafe impl<T: Send + Sync> Send for WeakenedArc<T> {}
    impl<T> WeakenedArc<T> {
        fn new(value: T) -> Self {
            Self {
                ptr: NonNull::from(Box::leak(Box::new((AtomicUsize::new(1), value)))),
            }
        }
        fn get(&self) -> &(AtomicUsize, T) {
            // SAFETY: while this `WeakenedArc` exists the count is at least 1, so the block is
            // alive (which is all this type gets right).
            unsafe { self.ptr.as_ref() }
        }
        fn clone(&self) -> Self {
            self.get().0.fetch_add(1, Ordering::Relaxed);
            Self { ptr: self.ptr }
        }
    }
    impl<T> Drop for WeakenedArc<T> {
        fn drop(&mut self) {
            // Relaxed, as everywhere in this type.
            if self.get().0.fetch_sub(1, Ordering::Relaxed) == 1 {
                // SAFETY: the count reached 0 (that is all this version gets right).
                drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
            }
        }
    }

    #[test]
    #[should_panic(expected = "Causality violation")]
    fn an_all_relaxed_count_is_a_data_race() {
        loom::model(|| {
            let a = WeakenedArc::new(Tracked(UnsafeCell::new(1)));
            let b = a.clone();
            let t = thread::spawn(move || {
                b.get().1.write(2);
                drop(b);
            });
            drop(a);
            t.join().unwrap();
        });
    }
}
