//! # MyBox: owning one value on the heap
//!
//! Build `MyBox<T>`, the heap pointer that owns exactly one `T`: `new` allocates with
//! `std::alloc::alloc` and moves the value in, `Drop` drops the value and then frees the
//! memory, `Deref` and `DerefMut` let a `MyBox<T>` be used where a `&T` or `&mut T` is
//! expected (deref coercion), `into_inner` moves the value back out and frees the memory
//! without dropping the value, and `leak` gives up ownership for a `&'a mut T`. This is the
//! other side of the allocator project: `std::alloc::alloc` and `dealloc` call whatever
//! `#[global_allocator]` the program has, and hand it the `Layout` you pass, so the layout you
//! free with must be the layout you allocated with.
//!
//! The pointer is a `NonNull<T>`, not a `*mut T`: `NonNull` is never null (so
//! `Option<MyBox<T>>` is as small as `MyBox<T>`) and, unlike `*mut T`, it is *covariant* in
//! `T`, so a `MyBox<&'static str>` can be used where a `MyBox<&'a str>` is expected, as with
//! `Box`. The `PhantomData<T>` field says "this type owns a `T`". A test below only compiles
//! if `MyBox` is covariant.
//!
//! Two edges the tests pin. A zero-sized `T` (such as `()`) must allocate nothing:
//! `Layout::new::<T>().size() == 0` is not a valid request for `alloc`, and
//! `NonNull::dangling()` is a well-aligned pointer you may read and write a ZST through.
//! And a `T` whose `drop` panics must not leak the allocation: free the memory even while
//! unwinding (a small guard whose own `Drop` frees is the usual way). A counting global
//! allocator in the tests checks that every allocation is freed exactly once.
//!
//! Drop check: because `MyBox<T>` has a `Drop` impl, the compiler assumes that drop may use
//! the `T`, so anything the `T` borrows must strictly outlive the box. That is what makes the
//! code below a compile error (and not a use-after-free): `s` is declared after `b`, so it is
//! dropped first, while the `Inspector` in `b` still points at it and reads it in its `drop`.
//!
//! ```compile_fail,E0597
//! use smart_pointers::s01_box::MyBox;
//!
//! struct Inspector<'a>(&'a str);
//! impl Drop for Inspector<'_> {
//!     fn drop(&mut self) {
//!         println!("inspecting {}", self.0);
//!     }
//! }
//!
//! let (b, s);
//! s = String::from("gadget");
//! b = MyBox::new(Inspector(&s)); // error[E0597]: `s` does not live long enough
//! ```
//!
//! Afterwards you will be able to own heap memory through `NonNull<T>` and `PhantomData<T>`,
//! write a manual `Drop` that is correct during unwinding, and explain deref coercion.
//!
//! Read: Programming Rust (2nd ed.), chapter 13 "Utility Traits" (`Drop`, `Deref`); the
//! Rustonomicon, "PhantomData" and "Drop Check":
//! <https://doc.rust-lang.org/nomicon/phantom-data.html>,
//! <https://doc.rust-lang.org/nomicon/dropck.html>; the docs of `std::alloc::alloc`.

use std::alloc::{self, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

/// A pointer to one heap-allocated `T` that it owns.
///
/// Invariant: `ptr` points to an initialized `T`; if `T` is not zero-sized, to memory
/// allocated with `std::alloc::alloc(Layout::new::<T>())` that this `MyBox` alone owns.
pub struct MyBox<T> {
    ptr: NonNull<T>,
    /// This type owns a `T` (and drops it).
    _owns: PhantomData<T>,
}

// SAFETY: a `MyBox<T>` owns its `T` exactly as a `T` would, so it may cross threads (or be
// shared between them) exactly when `T` may.
unsafe impl<T: Send> Send for MyBox<T> {}
// SAFETY: as above; `&MyBox<T>` only gives out `&T`.
unsafe impl<T: Sync> Sync for MyBox<T> {}

impl<T> MyBox<T> {
    /// Moves `value` to the heap. Allocates nothing if `T` is zero-sized.
    pub fn new(value: T) -> Self {
        // TODO: the value, moved into memory of its own (a zero-sized `T` needs none); an
        // allocation failure is reported, never ignored.
        todo!()
    }

    /// Moves the value out and frees the memory, without dropping the value.
    pub fn into_inner(this: Self) -> T {
        // TODO: the value, moved out, and the memory freed; the value itself is not dropped.
        todo!()
    }

    /// Gives up ownership: the value is never dropped and the memory never freed.
    pub fn leak<'a>(this: Self) -> &'a mut T
    where
        T: 'a,
    {
        // TODO: a `&'a mut T` to the value, which is then never dropped nor freed.
        todo!()
    }

    /// Gives up ownership for a raw pointer; `from_raw` takes it back.
    pub fn into_raw(this: Self) -> *mut T {
        // TODO: the pointer, with nothing dropped or freed.
        todo!()
    }

    /// Takes back ownership of a pointer that `into_raw` returned.
    ///
    /// # Safety
    ///
    /// `ptr` must come from `MyBox::<T>::into_raw` and must not have been passed to
    /// `from_raw` already.
    pub unsafe fn from_raw(ptr: *mut T) -> Self {
        // TODO: wrap the pointer again.
        todo!()
    }
}

impl<T> Drop for MyBox<T> {
    fn drop(&mut self) {
        // TODO: drop the value, then free the memory (none for a zero-sized `T`); the memory
        // is freed even when the value's `drop` panics.
    }
}

impl<T> Deref for MyBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // TODO: a shared reference to the value.
        todo!()
    }
}

impl<T> DerefMut for MyBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // TODO: a unique reference to the value.
        todo!()
    }
}

impl<T: Clone> Clone for MyBox<T> {
    fn clone(&self) -> Self {
        // TODO: a new box holding a clone of the value.
        todo!()
    }
}

impl<T: fmt::Debug> fmt::Debug for MyBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: format as the value does.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::MyBox;
    use crate::alloc_counter::{Counts, count, count_big};
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts its drops in a shared cell.
    struct DropCounter(Rc<Cell<usize>>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn new_then_deref_reads_the_value() {
        let b = MyBox::new(41_u64);
        assert_eq!(*b + 1, 42, "`*b` must read the value that `new` moved in");
    }

    #[test]
    fn deref_mut_writes_through() {
        let mut b = MyBox::new(String::from("hello"));
        b.push_str(", world");
        assert_eq!(
            *b, "hello, world",
            "`DerefMut` must give access to the boxed value"
        );
    }

    #[test]
    fn deref_coercion_turns_mybox_string_into_str() {
        fn len(s: &str) -> usize {
            s.len()
        }
        let b = MyBox::new(String::from("four"));
        // `&MyBox<String>` -> `&String` -> `&str`, two derefs inserted by the compiler.
        assert_eq!(len(&b), 4);
    }

    #[test]
    fn new_and_drop_allocate_once_and_free_once() {
        let ((), counts) = count(|| drop(MyBox::new([7_u64; 4])));
        assert_eq!(
            counts,
            Counts {
                allocs: 1,
                frees: 1
            },
            "a MyBox of a non-zero-sized type allocates exactly once and frees exactly once"
        );
    }

    #[test]
    fn drop_drops_the_value_exactly_once() {
        let drops = Rc::new(Cell::new(0));
        let b = MyBox::new(DropCounter(Rc::clone(&drops)));
        assert_eq!(drops.get(), 0, "nothing may be dropped while the box lives");
        drop(b);
        assert_eq!(
            drops.get(),
            1,
            "dropping the box must drop the value exactly once"
        );
    }

    #[test]
    fn zero_sized_values_allocate_nothing() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static ZST_DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Zst;
        impl Drop for Zst {
            fn drop(&mut self) {
                ZST_DROPS.fetch_add(1, Ordering::Relaxed);
            }
        }
        let ((), counts) = count(|| {
            let b = MyBox::new(Zst);
            let _: &Zst = &b;
            drop(b);
            drop(MyBox::new(()));
        });
        assert_eq!(
            counts,
            Counts {
                allocs: 0,
                frees: 0
            },
            "a zero-sized type needs no memory: use NonNull::dangling(), never alloc(size 0)"
        );
        assert_eq!(
            ZST_DROPS.load(Ordering::Relaxed),
            1,
            "the drop of a zero-sized value must still run"
        );
    }

    #[test]
    fn into_inner_returns_the_value_and_frees_without_dropping() {
        let drops = Rc::new(Cell::new(0));
        let (value, counts) = count(|| MyBox::into_inner(MyBox::new(DropCounter(drops.clone()))));
        assert_eq!(
            counts,
            Counts {
                allocs: 1,
                frees: 1
            },
            "into_inner must free the heap memory"
        );
        assert_eq!(
            drops.get(),
            0,
            "into_inner moves the value out: it must not drop it"
        );
        drop(value);
        assert_eq!(drops.get(), 1);
        assert_eq!(MyBox::into_inner(MyBox::new(String::from("s"))), "s");
    }

    #[test]
    fn leak_gives_a_mutable_reference_that_outlives_the_box() {
        let r: &'static mut Vec<i32> = MyBox::leak(MyBox::new(vec![1, 2]));
        r.push(3);
        assert_eq!(r, &[1, 2, 3]);
        // Clean up, so leak checkers (Miri) stay quiet: hand the memory back to a box.
        // SAFETY: `r` came from `leak` of a `MyBox<Vec<i32>>` and is not used again.
        drop(unsafe { MyBox::from_raw(r as *mut Vec<i32>) });
    }

    #[test]
    fn leak_frees_nothing_and_drops_nothing() {
        let drops = Rc::new(Cell::new(0));
        let (r, counts) = count(|| MyBox::leak(MyBox::new(DropCounter(drops.clone()))));
        assert_eq!(counts.frees, 0, "a leaked box must not free its memory");
        assert_eq!(drops.get(), 0, "a leaked box must not drop its value");
        // SAFETY: `r` came from `leak` and is not used again.
        drop(unsafe { MyBox::from_raw(r as *mut DropCounter) });
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn into_raw_and_from_raw_round_trip() {
        let raw = MyBox::into_raw(MyBox::new(5_u8));
        // SAFETY: `raw` came from `into_raw` and is taken back exactly once.
        let b = unsafe { MyBox::from_raw(raw) };
        assert_eq!(*b, 5);
    }

    #[test]
    fn a_panicking_drop_still_frees_the_memory() {
        // Over-aligned, so that the counter can tell its block from the panic's allocations.
        #[repr(align(512))]
        struct PanicsOnDrop {
            armed: bool,
        }
        impl Drop for PanicsOnDrop {
            fn drop(&mut self) {
                if self.armed {
                    panic!("boom (a deliberate panic in a value's drop)");
                }
            }
        }
        const _: () = assert!(align_of::<PanicsOnDrop>() >= crate::alloc_counter::BIG_ALIGN);
        let (result, counts) = count_big(|| {
            let mut b = MyBox::new(PanicsOnDrop { armed: false });
            b.armed = true; // armed only once it is in the box
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(b)))
        });
        assert!(
            result.is_err(),
            "the value's drop panicked; the panic must propagate"
        );
        assert_eq!(
            counts,
            Counts {
                allocs: 1,
                frees: 1
            },
            "the memory must be freed even when the value's drop panics (free in a guard)"
        );
    }

    #[test]
    fn clone_makes_an_independent_copy() {
        let a = MyBox::new(vec![1]);
        let mut b = a.clone();
        b.push(2);
        assert_eq!((&*a, &*b), (&vec![1], &vec![1, 2]));
        assert_eq!(format!("{b:?}"), "[1, 2]");
    }

    #[test]
    fn option_of_mybox_is_pointer_sized() {
        assert_eq!(
            size_of::<Option<MyBox<u64>>>(),
            size_of::<*const u64>(),
            "NonNull's niche makes None free"
        );
    }

    #[test]
    fn mybox_is_covariant() {
        // This only compiles if `MyBox<T>` is covariant in `T`, as `NonNull<T>` is (and
        // `*mut T` is not): a box of a longer-lived reference can stand in for a box of a
        // shorter-lived one.
        fn shorten<'a>(b: MyBox<&'static str>) -> MyBox<&'a str> {
            b
        }
        let local = String::from("local");
        let mut b = shorten(MyBox::new("static"));
        *b = &local;
        assert_eq!(*b, "local");
    }

    #[test]
    fn mybox_is_send_and_sync_when_t_is() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MyBox<Vec<u8>>>();
        let b = MyBox::new(3_u32);
        let got = std::thread::spawn(move || *b).join().unwrap();
        assert_eq!(got, 3);
    }
}
