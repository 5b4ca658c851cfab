//! # MyArc with weak pointers
//!
//! Rebuild `MyArc<T>` with a `MyWeak<T>` beside it, as std's `Arc` and `sync::Weak`. The block
//! now has two atomic counts: `strong`, the number of `MyArc`s, and `weak`, the number of
//! `MyWeak`s plus one for all the `MyArc`s together (the convention of `MyRc`). The value is
//! a `ManuallyDrop<T>`, dropped by hand when `strong` reaches 0; the block is freed when
//! `weak` reaches 0.
//!
//! Two traps in the layout. Do not wrap the value in an `UnsafeCell` to be allowed to drop it
//! through a shared pointer: `UnsafeCell<T>` is invariant in `T`, so `MyArc<T>` would become
//! invariant too, and the variance test of stage 4 (which pins every pointer of this
//! project, this one included) stops compiling. And, as in `MyRc`, never make a reference to
//! the whole block: while one thread drops the value, another may be upgrading a `MyWeak`,
//! and a `&ArcInner<T>` made there would overlap the value being dropped (Miri reports it,
//! in the test that upgrades from inside the value's own `drop`). Reach the counts with
//! `&(*ptr.as_ptr()).strong` and the value with `&(*ptr.as_ptr()).value`, one field at a time.
//!
//! Two operations need more than an add:
//!
//! - `MyWeak::upgrade` must never bring a dropped value back. `fetch_add` on `strong` would:
//!   it adds 1 to a 0 as readily as to a 2, and a value that another thread is dropping comes
//!   back to life. The count may only move from a non-zero `n` to `n + 1`, checked and changed
//!   in one atomic step (`compare_exchange_weak`, retried when another thread got there
//!   first), and `upgrade` gives `None` when it sees 0.
//! - `MyArc::downgrade` must respect a lock. The next stage's `get_mut` has to know that no
//!   `MyWeak` exists, and takes the weak count from 1 to `LOCKED` (`usize::MAX`) for the moment
//!   it looks. While the count is `LOCKED`, `downgrade` waits (calling
//!   `crate::sync::spin_loop()`, which under loom lets the other threads run) and never adds to
//!   it: 1 more than `usize::MAX` is 0. `weak_count` reports 0 while the count is locked.
//!
//! The orderings are yours again, now for two lifetimes: the value's ends with the last strong
//! pointer, the block's with the last weak one, and every use of each must happen before its
//! end (the diagram of the last stage, twice). Write the reason next to each ordering. Miri
//! judges one case of each end, in `a_clone_dropped_on_another_thread_happens_before_the_free`
//! (another thread's uses, then our drop of the value and free of the block); the other
//! orders are judged by your argument. Loom models race one and two `upgrade`s against the
//! last strong drop (run them with `RUSTFLAGS="--cfg mastery_loom"`). `downgrade`'s ordering
//! gets one more job in the next stage, where it pairs with `get_mut`'s unlock.
//!
//! Every increment keeps last stage's overflow check: `clone` and `upgrade` on the strong
//! count, `downgrade` and `MyWeak::clone` on the weak count abort the process when the count
//! they find is past `usize::MAX / 2`. Four tests forge such a count in a child process and
//! expect each of the four to abort it.
//!
//! `MyWeak<T>` is `Send` and `Sync` under the same bound as `MyArc<T>` (see its doc).
//!
//! Afterwards you will be able to write a compare-exchange loop, keep two lifetimes (the
//! value's and the block's) apart with two atomic counts, and order each end after every use.
//!
//! Read: Mara Bos, "Rust Atomics and Locks", chapter 6, section "Weak Pointers":
//! <https://marabos.nl/atomics/building-arc.html#weak-pointers>; the source of std's
//! `Weak::upgrade`: <https://doc.rust-lang.org/src/alloc/sync.rs.html>.

use crate::sync::{AtomicUsize, Ordering, fence, spin_loop};
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

/// The weak count while `get_mut` (next stage) holds it locked.
pub(crate) const LOCKED: usize = usize::MAX;
/// The most pointers of one kind we allow; past it, clone aborts.
const MAX_REFCOUNT: usize = usize::MAX / 2;

/// The heap block shared by every `MyArc` and `MyWeak` to one value.
pub(crate) struct ArcInner<T> {
    /// How many `MyArc`s point here. The value is alive while this is non-zero.
    pub(crate) strong: AtomicUsize,
    /// How many `MyWeak`s point here, plus one while any `MyArc` does; `LOCKED` while a
    /// `get_mut` checks for uniqueness. The block is freed when this reaches zero.
    pub(crate) weak: AtomicUsize,
    /// Dropped by hand when `strong` reaches zero.
    pub(crate) value: ManuallyDrop<T>,
}

/// A thread-safe reference-counted pointer with weak pointers.
pub struct MyArc<T> {
    pub(crate) ptr: NonNull<ArcInner<T>>,
    _owns: PhantomData<ArcInner<T>>,
}

/// A pointer to a `MyArc`'s block that does not keep the value alive.
///
/// `Send` and `Sync` under the same bound as `MyArc<T>`, since an upgrade gives a `MyArc`:
///
/// ```compile_fail,E0277
/// use smart_pointers::s06_arc_weak::MyArc;
/// use std::cell::Cell;
///
/// let a = MyArc::new(Cell::new(1));
/// let w = MyArc::downgrade(&a);
/// std::thread::spawn(move || w.upgrade().map(|c| c.set(2))); // error[E0277]: `Cell<i32>` cannot be shared
/// ```
pub struct MyWeak<T> {
    /// `None` for `MyWeak::new()`, which points nowhere and allocated nothing.
    ptr: Option<NonNull<ArcInner<T>>>,
    _owns: PhantomData<ArcInner<T>>,
}

// SAFETY: a `MyArc` shares the `T` with other threads (`T: Sync`) and may be the one that
// drops it (`T: Send`).
unsafe impl<T: Send + Sync> Send for MyArc<T> {}
// SAFETY: a `&MyArc<T>` can be cloned into a `MyArc<T>`.
unsafe impl<T: Send + Sync> Sync for MyArc<T> {}
// SAFETY: a `MyWeak` can be upgraded into a `MyArc`, so the same bounds apply.
unsafe impl<T: Send + Sync> Send for MyWeak<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for MyWeak<T> {}

/// The strong count of the block at `ptr`.
///
/// # Safety
///
/// The caller holds a `MyArc` or `MyWeak` to the block, so it is allocated.
unsafe fn strong<'a, T>(ptr: NonNull<ArcInner<T>>) -> &'a AtomicUsize {
    // SAFETY: the block is allocated (the caller's contract); the reference covers the count
    // alone, never the value another thread may be dropping.
    unsafe { &(*ptr.as_ptr()).strong }
}

/// The weak count of the block at `ptr`.
///
/// # Safety
///
/// As for `strong`.
unsafe fn weak<'a, T>(ptr: NonNull<ArcInner<T>>) -> &'a AtomicUsize {
    // SAFETY: as for `strong`.
    unsafe { &(*ptr.as_ptr()).weak }
}

impl<T> MyArc<T> {
    /// Moves `value` into a new block with one strong pointer (this one).
    pub fn new(value: T) -> Self {
        let inner = Box::new(ArcInner {
            strong: AtomicUsize::new(1),
            weak: AtomicUsize::new(1),
            value: ManuallyDrop::new(value),
        });
        Self {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
        }
    }

    fn strong(&self) -> &AtomicUsize {
        // SAFETY: we are a `MyArc` to the block.
        unsafe { strong(self.ptr) }
    }

    fn weak(&self) -> &AtomicUsize {
        // SAFETY: we are a `MyArc` to the block.
        unsafe { weak(self.ptr) }
    }

    /// How many `MyArc`s point to this value (a snapshot, for diagnostics).
    pub fn strong_count(this: &Self) -> usize {
        this.strong().load(Ordering::Relaxed)
    }

    /// How many `MyWeak`s point to this value (a snapshot, for diagnostics).
    pub fn weak_count(this: &Self) -> usize {
        match this.weak().load(Ordering::Relaxed) {
            // A `get_mut` on another clone holds the lock, which it only takes from 1.
            LOCKED => 0,
            // We are a `MyArc`, so the strong pointers' shared weak reference is there.
            n => n - 1,
        }
    }

    /// Whether two `MyArc`s point to the same block.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.ptr == other.ptr
    }

    /// A new weak pointer to this value.
    pub fn downgrade(this: &Self) -> MyWeak<T> {
        let weak = this.weak();
        let mut n = weak.load(Ordering::Relaxed);
        loop {
            if n == LOCKED {
                // A `get_mut` is checking uniqueness; it holds the lock only briefly.
                spin_loop();
                n = weak.load(Ordering::Relaxed);
                continue;
            }
            if n > MAX_REFCOUNT {
                std::process::abort();
            }
            // Acquire: pairs with the `Release` unlock in `get_mut`, so that its load of the
            // strong count happens before this increment and before any later decrement of
            // the strong count by our caller: `get_mut` cannot read the count our caller leaves
            // (say 1, after it drops its `MyArc`) and hand out a `&mut T` while our `MyWeak`
            // can still upgrade. Kept although no loom model fails without it: the bad
            // execution needs a load to read a store made after it (load buffering), which
            // loom does not explore.
            match weak.compare_exchange_weak(n, n + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    return MyWeak {
                        ptr: Some(this.ptr),
                        _owns: PhantomData,
                    };
                }
                Err(current) => n = current,
            }
        }
    }
}

impl<T> Clone for MyArc<T> {
    fn clone(&self) -> Self {
        // Relaxed: made from a pointer we hold; nothing to publish.
        if self.strong().fetch_add(1, Ordering::Relaxed) > MAX_REFCOUNT {
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
        // Release: our uses of the value happen before the last owner drops it.
        if self.strong().fetch_sub(1, Ordering::Release) == 1 {
            // Acquire: every other owner's uses happen before the drop below.
            fence(Ordering::Acquire);
            // SAFETY: the strong count is 0 and `upgrade` never raises it from 0, so no
            // reference to the value exists or can be made: drop it, exactly once, through a
            // reference to the value field alone (other threads may read the counts).
            unsafe { ManuallyDrop::drop(&mut (*self.ptr.as_ptr()).value) };
            // Release the strong pointers' shared weak reference (may free the block).
            drop(MyWeak {
                ptr: Some(self.ptr),
                _owns: PhantomData,
            });
        }
    }
}

impl<T> Deref for MyArc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a strong pointer keeps the value alive, and `&mut T` is only handed out by
        // `get_mut` when no other pointer exists.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T: fmt::Debug> fmt::Debug for MyArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        T::fmt(self, f)
    }
}

impl<T> MyWeak<T> {
    /// A weak pointer to nothing: `upgrade` always gives `None`. Allocates nothing.
    pub const fn new() -> Self {
        Self {
            ptr: None,
            _owns: PhantomData,
        }
    }

    /// A strong pointer to the value, if it is still alive. Never resurrects a dropped value.
    pub fn upgrade(&self) -> Option<MyArc<T>> {
        let ptr = self.ptr?;
        // SAFETY: we are a `MyWeak` to the block.
        let strong = unsafe { strong(ptr) };
        let mut n = strong.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return None; // dropped, or being dropped: never go from 0 to 1
            }
            if n > MAX_REFCOUNT {
                std::process::abort();
            }
            // Relaxed: like `clone`, the value's visibility comes from the strong pointer
            // whose existence we just proved; the count itself is all we change.
            match strong.compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    return Some(MyArc {
                        ptr,
                        _owns: PhantomData,
                    });
                }
                Err(current) => n = current,
            }
        }
    }

    /// How many `MyArc`s point to the value (0 once it is dropped, or for `MyWeak::new()`).
    pub fn strong_count(&self) -> usize {
        // SAFETY: we are a `MyWeak` to the block.
        self.ptr
            .map_or(0, |ptr| unsafe { strong(ptr) }.load(Ordering::Relaxed))
    }
}

impl<T> Default for MyWeak<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for MyWeak<T> {
    fn clone(&self) -> Self {
        if let Some(ptr) = self.ptr {
            // SAFETY: we are a `MyWeak` to the block. Relaxed: as for `MyArc::clone`. The
            // count cannot be `LOCKED` here: `get_mut` locks only when no `MyWeak` exists.
            if unsafe { weak(ptr) }.fetch_add(1, Ordering::Relaxed) > MAX_REFCOUNT {
                std::process::abort();
            }
        }
        Self {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for MyWeak<T> {
    fn drop(&mut self) {
        let Some(ptr) = self.ptr else { return };
        // SAFETY: we are a `MyWeak` (or the strong pointers' shared one) to the block.
        // Release: our uses of the block happen before whoever frees it.
        if unsafe { weak(ptr) }.fetch_sub(1, Ordering::Release) == 1 {
            // Acquire: every other pointer's uses of the block (its last count updates)
            // happen before the free. No loom model fails without it (loom checks accesses to
            // its cells and atomics, not the deallocation of the block); Miri does, in
            // `a_clone_dropped_on_another_thread_happens_before_the_free`.
            fence(Ordering::Acquire);
            // SAFETY: no pointer of any kind is left; the value was dropped when the strong
            // count reached 0 (it is a `ManuallyDrop`, so freeing does not drop it again).
            drop(unsafe { Box::from_raw(ptr.as_ptr()) });
        }
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::{MyArc, MyWeak};
    use crate::alloc_counter::{Counts, count};
    use crate::test_support::{is_child, run_child, with_watchdog};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    struct DropCounter(Arc<AtomicUsize>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether `w.upgrade()` gives a strong pointer. Where the answer must be "no", a pointer
    /// wrongly given is forgotten here instead of dropped: dropping it would drop the value a
    /// second time and crash the test before its assertion could say what went wrong.
    fn upgrades<T>(w: &MyWeak<T>) -> bool {
        let upgraded = w.upgrade();
        let some = upgraded.is_some();
        std::mem::forget(upgraded);
        some
    }

    /// The count just past the most pointers of one kind: what a program reaches with that
    /// many pointers passed to `mem::forget`. The next increment must abort.
    const FORGED: usize = usize::MAX / 2 + 1;

    /// The strong count of `a`'s block, to forge it.
    fn strong_of<T>(a: &MyArc<T>) -> &AtomicUsize {
        // SAFETY: `a` keeps the block alive; the reference covers the count alone.
        unsafe { &(*a.ptr.as_ptr()).strong }
    }

    /// The weak count of `a`'s block, to forge it.
    fn weak_of<T>(a: &MyArc<T>) -> &AtomicUsize {
        // SAFETY: as in `strong_of`.
        unsafe { &(*a.ptr.as_ptr()).weak }
    }

    /// Runs the child test `child` in a process of its own and expects it to be killed by
    /// SIGABRT (`std::process::abort`), because `what` found its count past `usize::MAX / 2`.
    fn expect_abort(child: &str, what: &str) {
        use std::os::unix::process::ExitStatusExt;
        let status = run_child(child);
        assert_eq!(
            status.signal(),
            Some(6), // SIGABRT
            "{what} that finds the count past usize::MAX / 2 must abort the process \
             (std::process::abort), got {status}"
        );
    }

    /// Run as a child process by `clone_aborts_past_half_the_count_range`.
    #[test]
    fn clone_overflow_child() {
        if !is_child("s06_arc_weak::tests::clone_overflow_child") {
            return; // only does something when run as the child
        }
        let a = MyArc::new(0_u8);
        strong_of(&a).store(FORGED, Ordering::Relaxed);
        let _b = a.clone(); // must abort: more clones could wrap the count to 0
        std::process::exit(0); // reached only if clone did not abort
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot spawn processes
    fn clone_aborts_past_half_the_count_range() {
        expect_abort(
            "s06_arc_weak::tests::clone_overflow_child",
            "a MyArc::clone",
        );
    }

    /// Run as a child process by `upgrade_aborts_past_half_the_count_range`.
    #[test]
    fn upgrade_overflow_child() {
        if !is_child("s06_arc_weak::tests::upgrade_overflow_child") {
            return;
        }
        let a = MyArc::new(0_u8);
        let w = MyArc::downgrade(&a);
        strong_of(&a).store(FORGED, Ordering::Relaxed);
        let _b = w.upgrade(); // must abort: an upgrade adds a strong pointer as clone does
        std::process::exit(0);
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot spawn processes
    fn upgrade_aborts_past_half_the_count_range() {
        expect_abort(
            "s06_arc_weak::tests::upgrade_overflow_child",
            "a MyWeak::upgrade",
        );
    }

    /// Run as a child process by `downgrade_aborts_past_half_the_weak_count_range`.
    #[test]
    fn downgrade_overflow_child() {
        if !is_child("s06_arc_weak::tests::downgrade_overflow_child") {
            return;
        }
        let a = MyArc::new(0_u8);
        weak_of(&a).store(FORGED, Ordering::Relaxed);
        let _w = MyArc::downgrade(&a); // must abort: more weak pointers could wrap it to 0
        std::process::exit(0);
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot spawn processes
    fn downgrade_aborts_past_half_the_weak_count_range() {
        expect_abort(
            "s06_arc_weak::tests::downgrade_overflow_child",
            "a MyArc::downgrade",
        );
    }

    /// Run as a child process by `weak_clone_aborts_past_half_the_weak_count_range`.
    #[test]
    fn weak_clone_overflow_child() {
        if !is_child("s06_arc_weak::tests::weak_clone_overflow_child") {
            return;
        }
        let a = MyArc::new(0_u8);
        let w = MyArc::downgrade(&a);
        weak_of(&a).store(FORGED, Ordering::Relaxed);
        let _w2 = w.clone(); // must abort, as downgrade does
        std::process::exit(0);
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot spawn processes
    fn weak_clone_aborts_past_half_the_weak_count_range() {
        expect_abort(
            "s06_arc_weak::tests::weak_clone_overflow_child",
            "a MyWeak::clone",
        );
    }

    #[test]
    fn downgrade_and_upgrade_while_alive() {
        let a = MyArc::new(String::from("v"));
        let w = MyArc::downgrade(&a);
        assert_eq!((MyArc::strong_count(&a), MyArc::weak_count(&a)), (1, 1));
        let b = w.upgrade().expect("the value is alive: upgrade succeeds");
        assert!(MyArc::ptr_eq(&a, &b));
        assert!(
            !MyArc::ptr_eq(&a, &MyArc::new(String::from("v"))),
            "ptr_eq compares the blocks, not the values"
        );
        assert_eq!(*b, "v");
        assert_eq!(
            w.strong_count(),
            2,
            "a successful upgrade adds a strong pointer"
        );
        let w2 = w.clone();
        assert_eq!(
            (MyArc::strong_count(&a), MyArc::weak_count(&a)),
            (2, 2),
            "two MyArc and two MyWeak: strong_count and weak_count count them"
        );
        drop(w2);
        assert_eq!(format!("{b:?}"), "\"v\"");
    }

    #[test]
    fn value_dropped_with_last_strong_block_freed_with_last_weak() {
        let drops = Arc::new(AtomicUsize::new(0));
        let ((), counts) = count(|| {
            let a = MyArc::new(DropCounter(drops.clone()));
            let w = MyArc::downgrade(&a);
            let w2 = w.clone();
            let (_, inner) = count(|| drop(a));
            assert_eq!(
                drops.load(Ordering::Relaxed),
                1,
                "the last strong drops the value"
            );
            assert_eq!(inner.frees, 0, "weak pointers remain: keep the block");
            assert!(
                !upgrades(&w),
                "the value is gone (the strong count is 0): upgrade gives None, never \
                 resurrects it"
            );
            assert_eq!(w.strong_count(), 0);
            drop(w);
            let (_, inner) = count(|| drop(w2));
            assert_eq!(inner.frees, 1, "the last weak pointer frees the block");
        });
        assert_eq!(
            counts,
            Counts {
                allocs: 1,
                frees: 1
            }
        );
        assert_eq!(drops.load(Ordering::Relaxed), 1, "dropped exactly once");
    }

    #[test]
    fn weak_new_allocates_nothing() {
        let (w, counts) = count(|| {
            let w = MyWeak::<u64>::new();
            drop(w.clone());
            w
        });
        assert_eq!(
            counts,
            Counts {
                allocs: 0,
                frees: 0
            },
            "MyWeak::new() allocates nothing"
        );
        assert!(w.upgrade().is_none());
        assert!(MyWeak::<u8>::default().upgrade().is_none());
    }

    #[test]
    fn downgrade_waits_while_the_weak_count_is_locked() {
        let a = MyArc::new(7_u8);
        let b = a.clone();
        // Hold the lock as a `get_mut` on another clone would, between its compare-exchange
        // and its unlocking store.
        weak_of(&a).store(super::LOCKED, Ordering::Relaxed);
        let t = std::thread::spawn(move || (MyArc::downgrade(&b), b));
        // Give the other thread time to reach `downgrade` (and, if it does not wait, to get
        // through it).
        let mut seen = super::LOCKED;
        for _ in 0..if cfg!(miri) { 20 } else { 200 } {
            seen = weak_of(&a).load(Ordering::Relaxed);
            if seen != super::LOCKED {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Unlock as `get_mut` does; a correct `downgrade` now adds its weak pointer to the 1.
        // (Had it not waited, its weak pointer would be lost: count it back in by hand, so that
        // the test reports the bug instead of freeing the block under `a`.)
        weak_of(&a).store(if seen == super::LOCKED { 1 } else { 2 }, Ordering::Release);
        let (w, b) = with_watchdog(move || t.join().unwrap());
        assert_eq!(
            seen,
            super::LOCKED,
            "downgrade changed the weak count while get_mut held it locked (usize::MAX): it must \
             spin until the lock is released, never add to usize::MAX (which wraps it to 0)"
        );
        assert_eq!(
            MyArc::weak_count(&a),
            1,
            "the weak pointer made after the unlock counts"
        );
        drop((w, b));
    }

    #[test]
    fn a_clone_dropped_on_another_thread_happens_before_the_free() {
        // For Miri's data-race detector. The other thread reads the value, drops its `MyArc`
        // and its `MyWeak`, and says so through a `Relaxed` flag, which orders nothing: only
        // the orderings on the counts can make its accesses happen before our drop of the
        // value and our free of the block. Miri reports a data race (this test's lines in its
        // backtrace) when an ordering is too weak.
        let a = MyArc::new(String::from("shared"));
        let b = a.clone();
        let w = MyArc::downgrade(&a);
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let t = std::thread::spawn(move || {
            assert_eq!(b.as_bytes()[0], b's');
            drop(b);
            drop(w);
            flag.store(true, Ordering::Relaxed);
        });
        with_watchdog(move || {
            while !done.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            drop(a); // the last strong and the last weak pointer: drops the value, frees the block
        });
        t.join().unwrap();
    }

    #[test]
    fn upgrade_inside_the_values_own_drop_is_none() {
        struct SelfAware {
            me: Mutex<MyWeak<SelfAware>>,
            seen: Arc<Mutex<Option<bool>>>,
        }
        impl Drop for SelfAware {
            fn drop(&mut self) {
                let upgraded = upgrades(&self.me.lock().unwrap());
                *self.seen.lock().unwrap() = Some(upgraded);
            }
        }
        let seen = Arc::new(Mutex::new(None));
        let a = MyArc::new(SelfAware {
            me: Mutex::new(MyWeak::new()),
            seen: seen.clone(),
        });
        *a.me.lock().unwrap() = MyArc::downgrade(&a);
        drop(a);
        assert_eq!(
            *seen.lock().unwrap(),
            Some(false),
            "upgrade in drop must not resurrect"
        );
    }

    #[test]
    fn send_and_sync_when_t_is() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MyArc<Mutex<u8>>>();
        assert_send_sync::<MyWeak<Mutex<u8>>>();
    }

    #[test]
    fn upgrades_race_the_last_drop_without_resurrecting() {
        let rounds = if cfg!(miri) { 4 } else { 300 };
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let came_back = with_watchdog(move || {
            let mut came_back = false;
            for round in 0..rounds {
                let a = MyArc::new(DropCounter(d.clone()));
                let weaks: Vec<_> = (0..2).map(|_| MyArc::downgrade(&a)).collect();
                let handles: Vec<_> = weaks
                    .into_iter()
                    .map(|w| {
                        let d = d.clone();
                        std::thread::spawn(move || {
                            let mut seen_none = false;
                            for _ in 0..if cfg!(miri) { 5 } else { 50 } {
                                match w.upgrade() {
                                    // The value of this round is dropped once `d` passes
                                    // `round`: a pointer to it now is a resurrection. It is
                                    // forgotten, so that the test can report it instead of
                                    // crashing on a second drop.
                                    Some(s) if seen_none || d.load(Ordering::Relaxed) > round => {
                                        std::mem::forget(s);
                                        return true;
                                    }
                                    Some(_) => {}
                                    None => seen_none = true,
                                }
                            }
                            false
                        })
                    })
                    .collect();
                drop(a);
                for h in handles {
                    came_back |= h.join().unwrap();
                }
            }
            came_back
        });
        assert!(
            !came_back,
            "upgrade gave a pointer to a value that was already dropped: it must never move \
             the strong count from 0 (a compare-exchange loop that gives up at 0)"
        );
        assert_eq!(
            drops.load(Ordering::Relaxed),
            rounds,
            "each value dropped exactly once"
        );
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::MyArc;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    /// A value whose every access loom checks, and that counts its drops.
    struct Tracked {
        cell: UnsafeCell<u32>,
        drops: Arc<AtomicUsize>,
    }
    impl Tracked {
        fn new(drops: &Arc<AtomicUsize>) -> Self {
            Self {
                cell: UnsafeCell::new(1),
                drops: drops.clone(),
            }
        }
        fn read(&self) -> u32 {
            // SAFETY (of the test): loom reports a read not ordered after every write.
            self.cell.with(|p| unsafe { *p })
        }
        fn write(&mut self, v: u32) {
            // SAFETY (of the test): loom reports a write not ordered after every access.
            self.cell.with_mut(|p| unsafe { *p = v });
        }
    }
    impl Drop for Tracked {
        fn drop(&mut self) {
            // Not while unwinding from a violation loom found: the cell may still be marked
            // as being accessed, and a second panic would abort the test process.
            if !std::thread::panicking() {
                self.write(0);
            }
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }
    // SAFETY (of the test): loom's `UnsafeCell` checks every access.
    unsafe impl Sync for Tracked {}

    #[test]
    fn upgrade_racing_the_last_drop_never_resurrects() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let a = MyArc::new(Tracked::new(&drops));
            let w = MyArc::downgrade(&a);
            let t = thread::spawn(move || {
                if let Some(s) = w.upgrade() {
                    assert_eq!(s.read(), 1, "an upgraded pointer sees the live value");
                }
            });
            drop(a);
            t.join().unwrap();
            assert_eq!(drops.load(Ordering::Relaxed), 1, "dropped exactly once");
        });
    }

    #[test]
    fn two_upgrades_racing_the_last_drop_never_resurrect() {
        // Two upgraders: one that moves the count off 0, even for a moment, lets the other
        // see a non-zero count and upgrade a value that is being dropped. Loom reports that
        // as a causality violation in `Tracked`'s cell (the upgraded pointer reads the value
        // the drop is writing) or, if the read comes after the drop, with the message below.
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let a = MyArc::new(Tracked::new(&drops));
            let w1 = MyArc::downgrade(&a);
            let w2 = w1.clone();
            let upgrader = |w: super::MyWeak<Tracked>| {
                move || {
                    if let Some(s) = w.upgrade() {
                        assert_eq!(
                            s.read(),
                            1,
                            "upgrade gave a pointer to a value that was already dropped: the \
                             strong count must never leave 0, not even for a moment"
                        );
                    }
                }
            };
            let t1 = thread::spawn(upgrader(w1));
            let t2 = thread::spawn(upgrader(w2));
            drop(a);
            t1.join().unwrap();
            t2.join().unwrap();
            assert_eq!(drops.load(Ordering::Relaxed), 1, "dropped exactly once");
        });
    }
}
