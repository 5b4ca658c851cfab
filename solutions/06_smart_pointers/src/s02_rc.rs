//! # MyRc: shared ownership, counted with `Cell`
//!
//! Build `MyRc<T>`, a single-threaded reference-counted pointer. `MyRc::new` allocates one
//! block, [`RcInner`], holding the value and two counts. Every `MyRc` to the block is a
//! *strong* pointer; `clone` only increments the strong count, and `Drop` decrements it. When
//! the last strong pointer goes, the value is dropped. The block itself is freed when the
//! *weak* count reaches zero: weak pointers arrive in the next stage, and until then the weak
//! count is exactly 1, the one weak reference that all strong pointers hold together. Keep that
//! convention now (`new` sets both counts to 1; the last strong drop drops the value and then
//! releases that one weak), and the next stage needs no change here.
//!
//! The counts are `Cell<usize>`: shared, yet mutable through `&`, and `!Sync`. The raw
//! `NonNull<RcInner<T>>` makes `MyRc` neither `Send` nor `Sync`, which is what we want: two
//! threads cloning the same `MyRc` would race on a non-atomic count.
//!
//! ```compile_fail,E0277
//! use smart_pointers::s02_rc::MyRc;
//!
//! let rc = MyRc::new(5);
//! std::thread::spawn(move || println!("{}", *rc)); // error[E0277]: `NonNull<..>` cannot be sent
//! ```
//!
//! A `MyRc` only gives shared access: there is no `DerefMut`, since other clones may be
//! reading the same value. `get_mut` gives `&mut T` only when this is the one pointer left (one
//! strong, no weak), and `try_unwrap` moves the value out under the same condition.
//!
//! ```compile_fail,E0596
//! use smart_pointers::s02_rc::MyRc;
//!
//! let mut rc = MyRc::new(String::new());
//! rc.push_str("no"); // error[E0596]: cannot borrow data in dereference of `MyRc<String>` as mutable
//! ```
//!
//! Two traps. First, the count must not overflow: `mem::forget` of clones in a loop could wrap
//! it to zero and free the value while it is still in use, so `clone` aborts the process
//! (`std::process::abort()`) when the count would overflow, as std's `Rc` does. A test forges
//! a count of `usize::MAX` in a child process and expects it to abort.
//! Second, go through raw pointers to *one field* of the block, never a `&RcInner<T>` to the
//! whole of it: in the next stage, code inside `T::drop` may read the counts while the drop
//! holds a `&mut T` to the value, and a reference to the whole block would overlap that
//! `&mut` (Miri reports it). `&raw const (*ptr).strong` (or `&(*ptr).strong`) names one field.
//!
//! Afterwards you will be able to explain reference counting, why `Rc` is `!Send`, and why a
//! shared pointer hands out only `&T`.
//!
//! Read: Programming Rust (2nd ed.), chapter 4 "Rc and Arc" and chapter 13 (`Deref`); the
//! source of std's `Rc`: <https://doc.rust-lang.org/src/alloc/rc.rs.html>.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

/// The heap block shared by every `MyRc` (and, next stage, `MyWeak`) to one value.
pub(crate) struct RcInner<T> {
    /// How many `MyRc`s point here. The value is alive while this is non-zero.
    pub(crate) strong: Cell<usize>,
    /// How many `MyWeak`s point here, plus one for all the strong pointers together.
    /// The block is freed when this reaches zero.
    pub(crate) weak: Cell<usize>,
    /// Dropped by hand when `strong` reaches zero, before the block is freed.
    pub(crate) value: ManuallyDrop<T>,
}

/// A single-threaded reference-counted pointer.
pub struct MyRc<T> {
    pub(crate) ptr: NonNull<RcInner<T>>,
    pub(crate) _owns: PhantomData<RcInner<T>>,
}

impl<T> MyRc<T> {
    /// Moves `value` into a new block with one strong pointer (this one).
    pub fn new(value: T) -> Self {
        let inner = Box::new(RcInner {
            strong: Cell::new(1),
            weak: Cell::new(1),
            value: ManuallyDrop::new(value),
        });
        Self {
            ptr: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
        }
    }

    /// How many `MyRc`s point to this value.
    pub fn strong_count(this: &Self) -> usize {
        strong(this.ptr).get()
    }

    /// Whether two `MyRc`s point to the same block (not merely to equal values).
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.ptr == other.ptr
    }

    /// A unique reference to the value, if this is the only pointer to it (strong or weak).
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        if strong(this.ptr).get() == 1 && weak(this.ptr).get() == 1 {
            // SAFETY: no other `MyRc` or `MyWeak` exists, so nothing else can reach the
            // value while `this` is mutably borrowed; the reference names only the field.
            Some(unsafe { &mut (*this.ptr.as_ptr()).value })
        } else {
            None
        }
    }

    /// Moves the value out if this is the only strong pointer; gives `this` back otherwise.
    /// Weak pointers may remain: they will find the value gone.
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        if strong(this.ptr).get() != 1 {
            return Err(this);
        }
        let this = ManuallyDrop::new(this);
        let ptr = this.ptr;
        strong(ptr).set(0);
        // SAFETY: we were the last strong pointer and have just set the count to 0, so no one
        // else will read, drop or move the value: we move it out exactly once.
        let value = unsafe { ManuallyDrop::take(&mut (*ptr.as_ptr()).value) };
        // SAFETY: the strong pointers' shared weak reference is released exactly once, here.
        unsafe { release_weak(ptr) };
        Ok(value)
    }
}

/// The strong count of the block at `ptr`.
pub(crate) fn strong<'a, T>(ptr: NonNull<RcInner<T>>) -> &'a Cell<usize> {
    // SAFETY: callers hold a strong or weak pointer to the block, so it is allocated; the
    // reference covers only the `strong` field, never the value.
    unsafe { &(*ptr.as_ptr()).strong }
}

/// The weak count of the block at `ptr`.
pub(crate) fn weak<'a, T>(ptr: NonNull<RcInner<T>>) -> &'a Cell<usize> {
    // SAFETY: as for `strong`.
    unsafe { &(*ptr.as_ptr()).weak }
}

/// Adds one to a count, aborting on overflow: a wrapped count would free a value in use.
#[inline]
pub(crate) fn increment(count: &Cell<usize>) {
    let n = count.get();
    if n == usize::MAX {
        std::process::abort();
    }
    count.set(n + 1);
}

/// Releases one weak reference and frees the block if it was the last.
///
/// # Safety
///
/// The caller owns one weak reference to the block (the strong pointers' shared one counts)
/// and does not use `ptr` afterwards. The value must already be dropped when the count can
/// reach zero.
pub(crate) unsafe fn release_weak<T>(ptr: NonNull<RcInner<T>>) {
    let w = weak(ptr);
    w.set(w.get() - 1);
    if w.get() == 0 {
        // SAFETY: the block came from `Box::leak` in `new`, and no pointer of any kind to it
        // is left. `value` is a `ManuallyDrop`, so freeing does not drop it again.
        drop(unsafe { Box::from_raw(ptr.as_ptr()) });
    }
}

impl<T> Clone for MyRc<T> {
    fn clone(&self) -> Self {
        increment(strong(self.ptr));
        Self {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for MyRc<T> {
    fn drop(&mut self) {
        let s = strong(self.ptr);
        s.set(s.get() - 1);
        if s.get() == 0 {
            // SAFETY: that was the last strong pointer: the value is dropped exactly once,
            // through a reference to the value field alone (code in `T::drop` may read the
            // counts through a `MyWeak`).
            unsafe { ManuallyDrop::drop(&mut (*self.ptr.as_ptr()).value) };
            // SAFETY: the strong pointers' shared weak reference, released once.
            unsafe { release_weak(self.ptr) };
        }
    }
}

impl<T> Deref for MyRc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a strong pointer keeps the value alive, and the only `&mut T` (`get_mut`)
        // requires that no other pointer exists.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T: fmt::Debug> fmt::Debug for MyRc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        T::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::MyRc;
    use crate::alloc_counter::{Counts, count};
    use crate::test_support::{is_child, run_child};
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    struct DropCounter(Rc<Cell<usize>>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn the_curriculum_example_counts_clones() {
        let x = MyRc::new(42);
        let y = MyRc::clone(&x);
        assert_eq!(MyRc::strong_count(&x), 2, "new gives 1, clone adds 1");
        drop(y);
        assert_eq!(MyRc::strong_count(&x), 1, "dropping a clone takes 1 off");
        assert_eq!(*x, 42);
    }

    #[test]
    fn clones_share_one_value() {
        let a = MyRc::new(RefCell::new(vec![1]));
        let b = a.clone();
        b.borrow_mut().push(2);
        assert_eq!(
            *a.borrow(),
            [1, 2],
            "clones point to the same value, not copies"
        );
        assert!(MyRc::ptr_eq(&a, &b));
        assert!(
            !MyRc::ptr_eq(&a, &MyRc::new(RefCell::new(vec![1, 2]))),
            "ptr_eq compares blocks, not values"
        );
    }

    #[test]
    fn clone_does_not_allocate() {
        let a = MyRc::new(1_u8);
        let (b, counts) = count(|| a.clone());
        assert_eq!(
            counts,
            Counts {
                allocs: 0,
                frees: 0
            },
            "clone only bumps a count"
        );
        drop(b);
    }

    #[test]
    fn value_dropped_once_when_the_last_clone_goes() {
        let drops = Rc::new(Cell::new(0));
        let ((), counts) = count(|| {
            let a = MyRc::new(DropCounter(drops.clone()));
            let clones: Vec<_> = (0..5).map(|_| a.clone()).collect();
            drop(a);
            assert_eq!(drops.get(), 0, "the value must live while any clone does");
            assert_eq!(MyRc::strong_count(&clones[0]), 5);
            drop(clones);
        });
        assert_eq!(
            drops.get(),
            1,
            "the last clone's drop drops the value, exactly once"
        );
        assert_eq!(
            counts.allocs, counts.frees,
            "every allocation (the block and the Vec) must be freed"
        );
        assert_eq!(
            counts.allocs, 2,
            "one block for the value (plus the Vec of clones)"
        );
    }

    #[test]
    fn get_mut_only_when_unique() {
        let mut a = MyRc::new(String::from("a"));
        MyRc::get_mut(&mut a)
            .expect("one strong pointer: get_mut must succeed")
            .push('b');
        let b = a.clone();
        assert!(
            MyRc::get_mut(&mut a).is_none(),
            "another clone exists: no &mut"
        );
        drop(b);
        assert!(
            MyRc::get_mut(&mut a).is_some(),
            "unique again after the clone dropped"
        );
        assert_eq!(*a, "ab");
    }

    #[test]
    fn try_unwrap_moves_out_of_a_unique_rc() {
        let drops = Rc::new(Cell::new(0));
        let (result, counts) = count(|| MyRc::try_unwrap(MyRc::new(DropCounter(drops.clone()))));
        let value = result.ok().expect("a unique MyRc must unwrap");
        assert_eq!(
            counts,
            Counts {
                allocs: 1,
                frees: 1
            },
            "try_unwrap frees the block"
        );
        assert_eq!(
            drops.get(),
            0,
            "try_unwrap moves the value out: it must not drop it"
        );
        drop(value);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn try_unwrap_of_a_shared_rc_gives_it_back() {
        let a = MyRc::new(7);
        let b = a.clone();
        let a = MyRc::try_unwrap(a).expect_err("two clones: try_unwrap must fail");
        assert_eq!(
            MyRc::strong_count(&a),
            2,
            "a failed try_unwrap changes no count"
        );
        drop(b);
        assert_eq!(MyRc::try_unwrap(a).ok(), Some(7));
    }

    #[test]
    fn zero_sized_values_work() {
        let a = MyRc::new(());
        let b = a.clone();
        assert_eq!(MyRc::strong_count(&b), 2);
        assert_eq!(*b, ());
    }

    #[test]
    fn rc_of_rc_drops_inside_out() {
        let drops = Rc::new(Cell::new(0));
        let inner = MyRc::new(DropCounter(drops.clone()));
        let outer = MyRc::new(inner.clone());
        drop(inner);
        assert_eq!(drops.get(), 0);
        drop(outer);
        assert_eq!(
            drops.get(),
            1,
            "dropping the outer MyRc releases the inner one"
        );
    }

    #[test]
    fn deref_coercion_and_debug() {
        fn shout(s: &str) -> String {
            s.to_uppercase()
        }
        let a = MyRc::new(String::from("hi"));
        assert_eq!(shout(&a), "HI", "&MyRc<String> coerces to &str");
        assert_eq!(format!("{a:?}"), "\"hi\"");
    }

    /// Run as a child process by `clone_aborts_when_the_count_would_overflow`.
    #[test]
    fn overflow_child() {
        if !is_child("s02_rc::tests::overflow_child") {
            return; // only does something when run as the child
        }
        let a = MyRc::new(0_u8);
        // SAFETY: `a` keeps the block alive; this forges the count a program would reach
        // after `usize::MAX` clones (say, `mem::forget` in a loop).
        unsafe { (*a.ptr.as_ptr()).strong.set(usize::MAX) };
        let _b = a.clone(); // must abort, never wrap to 0
        std::process::exit(0); // reached only if clone did not abort
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot spawn processes
    fn clone_aborts_when_the_count_would_overflow() {
        use std::os::unix::process::ExitStatusExt;
        let status = run_child("s02_rc::tests::overflow_child");
        assert_eq!(
            status.signal(),
            Some(6), // SIGABRT
            "a clone past usize::MAX must abort the process (std::process::abort), got {status}"
        );
    }
}
