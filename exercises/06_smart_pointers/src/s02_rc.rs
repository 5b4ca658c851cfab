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
        // TODO: a new block holding the value: one strong pointer (this one), and the strong
        // pointers' shared weak reference.
        todo!()
    }

    /// How many `MyRc`s point to this value.
    pub fn strong_count(this: &Self) -> usize {
        // TODO
        todo!()
    }

    /// Whether two `MyRc`s point to the same block (not merely to equal values).
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        // TODO
        todo!()
    }

    /// A unique reference to the value, if this is the only pointer to it (strong or weak).
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        // TODO: only when the strong count is 1 and the weak count is 1 (no `MyWeak`).
        todo!()
    }

    /// Moves the value out if this is the only strong pointer; gives `this` back otherwise.
    /// Weak pointers may remain: they will find the value gone.
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        // TODO: if this is the only strong pointer, the value, moved out (weak pointers may
        // remain: they must find it gone); `this` back otherwise.
        todo!()
    }
}

/// The strong count of the block at `ptr`.
pub(crate) fn strong<'a, T>(ptr: NonNull<RcInner<T>>) -> &'a Cell<usize> {
    // TODO: a reference to the `strong` field alone, never to the whole block.
    todo!()
}

/// The weak count of the block at `ptr`.
pub(crate) fn weak<'a, T>(ptr: NonNull<RcInner<T>>) -> &'a Cell<usize> {
    // TODO: as for `strong`.
    todo!()
}

/// Adds one to a count, aborting on overflow: a wrapped count would free a value in use.
#[inline]
pub(crate) fn increment(count: &Cell<usize>) {
    // TODO: add one; if the count cannot grow, abort the process (never wrap, never panic).
    todo!()
}

/// Releases one weak reference and frees the block if it was the last.
///
/// # Safety
///
/// The caller owns one weak reference to the block (the strong pointers' shared one counts)
/// and does not use `ptr` afterwards. The value must already be dropped when the count can
/// reach zero.
pub(crate) unsafe fn release_weak<T>(ptr: NonNull<RcInner<T>>) {
    // TODO: take one from the weak count; the last one frees the block.
    todo!()
}

impl<T> Clone for MyRc<T> {
    fn clone(&self) -> Self {
        // TODO: increment the strong count (with the overflow check), copy the pointer.
        todo!()
    }
}

impl<T> Drop for MyRc<T> {
    fn drop(&mut self) {
        // TODO: decrement the strong count; at zero, drop the value (through a `&mut` to the
        // value field alone) and then release the strong pointers' shared weak reference.
    }
}

impl<T> Deref for MyRc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // TODO: a shared reference to the value field.
        todo!()
    }
}

impl<T: fmt::Debug> fmt::Debug for MyRc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: format as the value does.
        todo!()
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
