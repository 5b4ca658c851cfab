//! # PhantomData, variance and drop check
//!
//! A raw pointer tells the compiler nothing about what it points to: does the type own a `T`,
//! borrow one for `'a`, or merely mention `T` in its signature? `PhantomData` says it, and the
//! answer decides three things: *variance* (may a `Foo<&'static str>` be used as a
//! `Foo<&'a str>`?), the *auto traits* (`Send`, `Sync`) and, with `Drop`, the *drop check*.
//! Build three small types, each a `NonNull` plus the `PhantomData` that makes it right:
//!
//! - `Ref<'a, T>`, a `&'a T` made from a raw pointer. `PhantomData<&'a T>` ties it to the
//!   borrow (it cannot outlive the referent) and makes it covariant in `'a` and `T`, like
//!   `&'a T`. `Copy`; `Send` and `Sync` when `T: Sync`, like `&T`.
//! - `Mut<'a, T>`, a `&'a mut T` made from a raw pointer. `PhantomData<&'a mut T>` makes it
//!   *invariant* in `T`: if a `Mut<'_, &'static str>` could be used as a `Mut<'_, &'a str>`,
//!   you could write a short-lived `&'a str` into a place that promises `'static`.
//! - `Id<T>`, a typed index (`Id<User>` and `Id<Order>` do not mix) that never owns or touches
//!   a `T`. `PhantomData<fn() -> T>` keeps it covariant in `T` and makes it `Send`, `Sync`
//!   and `Copy` whatever `T` is, as a function pointer is. (Not `'static` whatever `T` is:
//!   `fn() -> T` outlives `'a` only when `T` does.) Its traits are written by hand, because
//!   `#[derive]` would add a `T: Clone` (etc.) bound and `Id<String>` would not be `Copy`:
//!   `Clone` and `Copy` are given, `PartialEq`, `Hash` and `Debug` are yours.
//!
//! The markers of `Ref` and `Id` are given, since the tests need them to compile; the marker of
//! `Mut` is yours to fix. The examples on [`Ref`] and [`Mut`] are misuses the markers must
//! reject, and the `doc` check fails until `Mut`'s is right.
//!
//! What `PhantomData` still does once a type has a `Drop` impl. A `Drop` impl makes the
//! compiler assume the drop may use every `T` the type is generic over, so whatever `T`
//! borrows must strictly outlive the value: that holds for `MyBox<T>` whether or not it has a
//! `PhantomData<T>`. What the marker still decides is variance and the auto traits. The
//! exception is std: `Box`, `Vec` and `Rc` mark their drop `#[may_dangle]` (unstable), which
//! promises not to *use* a `T` but only to drop it, and then `PhantomData<T>` is what tells the
//! compiler that a `T` is dropped. That is why std's `Box<&str>` accepts the code below, and
//! our `MyBox<&str>` rejects it: `s` is dropped first, while `b` still holds a `&str` into it.
//! With `Box::new` the same lines compile (a test below pins it).
//!
//! ```compile_fail,E0597
//! use smart_pointers::s01_box::MyBox;
//!
//! let (b, s);
//! s = String::from("dropped before b");
//! b = MyBox::new(s.as_str()); // error[E0597]: `s` does not live long enough
//! ```
//!
//! The tests pin the variance of every pointer of this project (they compile only if
//! `MyBox`, `MyRc`, `MyWeak` and `MyArc` are covariant, as std's are) and the auto traits of
//! the three types here.
//!
//! Afterwards you will be able to choose the `PhantomData` for a raw-pointer type, predict its
//! variance and auto traits, and explain drop check.
//!
//! Read: the Rustonomicon, "Subtyping and Variance", "PhantomData" and "Drop Check":
//! <https://doc.rust-lang.org/nomicon/subtyping.html>,
//! <https://doc.rust-lang.org/nomicon/phantom-data.html>,
//! <https://doc.rust-lang.org/nomicon/dropck.html>; the table in the docs of
//! `std::marker::PhantomData`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A shared borrow `&'a T`, held as a raw pointer.
///
/// It cannot outlive what it borrows:
///
/// ```compile_fail,E0597
/// use smart_pointers::s04_variance::Ref;
///
/// let r;
/// {
///     let s = String::from("short-lived");
///     r = Ref::new(&s); // error[E0597]: `s` does not live long enough
/// }
/// println!("{}", r.get());
/// ```
pub struct Ref<'a, T> {
    ptr: NonNull<T>,
    /// Borrows a `T` for `'a`: covariant, and tied to the referent's lifetime.
    _borrow: PhantomData<&'a T>,
}

impl<'a, T> Ref<'a, T> {
    /// Borrows `value` for `'a`.
    pub fn new(value: &'a T) -> Self {
        // TODO
        todo!()
    }

    /// The reference back, with its full lifetime `'a`.
    pub fn get(self) -> &'a T {
        // TODO
        todo!()
    }
}

impl<T> Clone for Ref<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ref<'_, T> {}

// SAFETY: a `Ref` is a `&T`, and `&T: Send` exactly when `T: Sync`.
unsafe impl<T: Sync> Send for Ref<'_, T> {}
// SAFETY: `&&T` gives only `&T`, so sharing needs `T: Sync`, as for `&T`.
unsafe impl<T: Sync> Sync for Ref<'_, T> {}

/// A unique borrow `&'a mut T`, held as a raw pointer.
///
/// It is invariant in `T`, like `&'a mut T`: a `Mut` of a `&'static str` cannot become a `Mut`
/// of a shorter-lived `&str`.
///
/// ```compile_fail
/// use smart_pointers::s04_variance::Mut;
///
/// fn shorten<'a, 'b>(m: Mut<'b, &'static str>) -> Mut<'b, &'a str> {
///     m // error: lifetime may not live long enough (`Mut` is invariant in `T`)
/// }
/// ```
pub struct Mut<'a, T> {
    ptr: NonNull<T>,
    // TODO: this marker makes `Mut` covariant in `T`, which is unsound for a unique borrow
    // (see the compile_fail example above). Choose the marker that gives `Mut`
    // the variance and auto traits of what it stands for.
    _borrow: PhantomData<&'a T>,
}

impl<'a, T> Mut<'a, T> {
    /// Borrows `value` uniquely for `'a`.
    pub fn new(value: &'a mut T) -> Self {
        // TODO
        todo!()
    }

    /// Reads through the borrow.
    pub fn get(&self) -> &T {
        // TODO
        todo!()
    }

    /// Writes through the borrow, for as long as `self` is borrowed.
    pub fn get_mut(&mut self) -> &mut T {
        // TODO
        todo!()
    }

    /// The unique reference back, with its full lifetime `'a`.
    pub fn into_mut(self) -> &'a mut T {
        // TODO
        todo!()
    }
}

// SAFETY: a `Mut` is a `&mut T`, which is `Send` when `T: Send`.
unsafe impl<T: Send> Send for Mut<'_, T> {}
// SAFETY: `&Mut<T>` gives only `&T`, so sharing needs `T: Sync`, as for `&mut T`.
unsafe impl<T: Sync> Sync for Mut<'_, T> {}

/// A typed index: an `Id<User>` cannot be passed where an `Id<Order>` is expected.
pub struct Id<T> {
    index: usize,
    /// Mentions `T` without owning or borrowing one: covariant, always `Send + Sync`.
    /// (With `PhantomData<T>`, an `Id<Rc<_>>` would not be `Send`.)
    _type: PhantomData<fn() -> T>,
}

impl<T> Id<T> {
    /// The id with this index.
    pub const fn new(index: usize) -> Self {
        // TODO
        todo!()
    }

    /// The index.
    pub const fn index(self) -> usize {
        // TODO
        todo!()
    }
}

// By hand: `#[derive(Clone, Copy, ..)]` would require `T: Clone`, `T: Copy`, ...
impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Id<T> {}

impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        // TODO: equal when the indices are.
        todo!()
    }
}

impl<T> Eq for Id<T> {}

impl<T> Hash for Id<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // TODO: hash the index, so that equal ids hash alike.
        todo!()
    }
}

impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: print as `Id(7)`.
        todo!()
    }
}
#[cfg(test)]
mod tests {
    use super::{Id, Mut, Ref};
    use crate::s01_box::MyBox;
    use crate::s02_rc::MyRc;
    use crate::s03_weak::MyWeak;
    use crate::s05_arc::MyArc;
    use crate::s06_arc_weak;
    use std::cell::Cell;
    use std::collections::HashSet;
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::rc::Rc;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_copy<T: Copy>() {}

    #[test]
    fn ref_gives_back_the_reference() {
        let v = vec![1, 2, 3];
        let r = Ref::new(&v);
        let r2 = r; // Copy
        assert_eq!(r.get().len() + r2.get().len(), 6);
        assert!(
            std::ptr::eq(r.get(), &v),
            "get must return the very reference given to new"
        );
    }

    #[test]
    fn ref_is_covariant_like_a_shared_reference() {
        // Compiles only if `Ref` is covariant in `'a` and in `T`.
        fn shorten<'a, 'long: 'a>(r: Ref<'long, &'static str>) -> Ref<'a, &'a str> {
            r
        }
        let s: &'static str = "static";
        assert_eq!(*shorten(Ref::new(&s)).get(), "static");
    }

    #[test]
    fn ref_is_send_and_sync_when_t_is_sync() {
        assert_send_sync::<Ref<'static, Vec<u8>>>();
        assert_copy::<Ref<'static, String>>();
        static V: [u32; 3] = [1, 2, 3];
        let r = Ref::new(&V);
        let sum = std::thread::spawn(move || r.get().iter().sum::<u32>())
            .join()
            .unwrap();
        assert_eq!(sum, 6);
    }

    #[test]
    fn mut_writes_through_and_gives_back_the_reference() {
        let mut s = String::from("a");
        let mut m = Mut::new(&mut s);
        m.get_mut().push('b');
        assert_eq!(m.get(), "ab");
        m.into_mut().push('c');
        assert_eq!(s, "abc", "writes through a Mut land in the borrowed value");
    }

    #[test]
    fn mut_is_covariant_in_its_lifetime() {
        // A unique borrow may be shortened (only `T` is invariant).
        fn shorten<'a, 'long: 'a>(m: Mut<'long, i32>) -> Mut<'a, i32> {
            m
        }
        let mut x = 1;
        *shorten(Mut::new(&mut x)).get_mut() += 1;
        assert_eq!(x, 2);
    }

    #[test]
    fn mut_is_send_when_t_is() {
        fn assert_send<T: Send>() {}
        assert_send::<Mut<'static, Vec<u8>>>();
        let mut v = vec![1];
        let m = Mut::new(&mut v);
        std::thread::scope(|s| {
            s.spawn(move || m.into_mut().push(2));
        });
        assert_eq!(v, [1, 2]);
    }

    #[test]
    fn ids_compare_hash_and_print_by_index() {
        struct User;
        let a: Id<User> = Id::new(7);
        let b = a; // Copy, though `User` is not
        assert_eq!(
            a, b,
            "ids with the same index are equal: compare the indices"
        );
        assert_ne!(a, Id::new(8), "ids with different indices differ");
        assert_eq!(a.index(), 7);
        let set: HashSet<Id<User>> = [Id::new(1), Id::new(2), Id::new(1)].into_iter().collect();
        assert_eq!(set.len(), 2, "equal indices hash alike");
        let hash = |id: Id<User>| {
            let mut h = DefaultHasher::new();
            id.hash(&mut h);
            h.finish()
        };
        assert_ne!(
            hash(Id::new(1)),
            hash(Id::new(2)),
            "different indices hash differently: hash the index"
        );
        assert_eq!(
            format!("{a:?}"),
            "Id(7)",
            "Debug prints the index alone, as `Id(7)`"
        );
        assert_eq!(a.clone(), a, "a clone is equal to the original");
    }

    #[test]
    fn id_is_copy_send_and_sync_whatever_t_is() {
        // `Rc<Cell<u8>>` is neither `Send`, `Sync` nor `Copy`; an `Id` of it is all three,
        // because an `Id<T>` holds no `T` (that is what `PhantomData<fn() -> T>` says).
        assert_send_sync::<Id<Rc<Cell<u8>>>>();
        assert_copy::<Id<String>>();
        let id: Id<Rc<Cell<u8>>> = Id::new(3);
        assert_eq!(std::thread::spawn(move || id.index()).join().unwrap(), 3);
    }

    #[test]
    fn every_pointer_of_the_project_is_covariant() {
        // Each function compiles only if the pointer is covariant in `T`, as std's are.
        fn mybox<'a>(p: MyBox<&'static str>) -> MyBox<&'a str> {
            p
        }
        fn myrc<'a>(p: MyRc<&'static str>) -> MyRc<&'a str> {
            p
        }
        fn myweak<'a>(p: MyWeak<&'static str>) -> MyWeak<&'a str> {
            p
        }
        fn myarc<'a>(p: MyArc<&'static str>) -> MyArc<&'a str> {
            p
        }
        fn myarc2<'a>(p: s06_arc_weak::MyArc<&'static str>) -> s06_arc_weak::MyArc<&'a str> {
            p
        }
        fn myweak2<'a>(p: s06_arc_weak::MyWeak<&'static str>) -> s06_arc_weak::MyWeak<&'a str> {
            p
        }
        let _ = (mybox, myrc, myweak, myarc, myarc2, myweak2);
        // And it is what lets a pointer to long-lived data meet a pointer to local data:
        let local = String::from("local");
        let (long, short): (&'static str, &str) = ("static", local.as_str());
        let pair = [Ref::new(&long), Ref::new(&short)];
        assert_eq!(*pair[1].get(), "local");
    }

    #[test]
    fn std_box_may_dangle_where_mybox_may_not() {
        // Compiles with std's `Box` thanks to `#[may_dangle]`; the same with `MyBox` is the
        // third compile_fail example of this stage's header.
        let (b, s);
        s = String::from("dropped before b");
        b = Box::new(s.as_str());
        assert_eq!(*b, "dropped before b");
        // And `MyBox` accepts it when `s` outlives `b`:
        let s2 = String::from("outlives b2");
        let b2 = MyBox::new(s2.as_str());
        assert_eq!(*Ref::new(&*b2).get(), "outlives b2");
    }
}
