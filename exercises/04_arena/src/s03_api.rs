//! # A richer API: slices, strings, closures and iterators
//!
//! Real arena users allocate more than single values: token slices, interned strings, nodes
//! built by a closure that itself allocates. Add to [`Arena`]:
//!
//! - `alloc_with(f)`: reserve the room first, then call `f` and write its result. `f` may
//!   allocate in the same arena; its allocations simply land after the reserved room.
//! - `try_alloc_slice_copy` / `alloc_slice_copy`: copy a `&[T]` of `Copy` values in one go
//!   (`ptr::copy_nonoverlapping`), and `alloc_str` on top of it.
//! - `try_alloc_slice_fill_copy(len, value)`: a slice of `len` copies. `len * size_of::<T>()`
//!   can overflow `usize`; a wrapped size would reserve a few bytes and then write `len`
//!   elements far past them. Compute the size with `Layout::array::<T>(len)`, which returns an
//!   error instead, and turn that error into `None`.
//! - `alloc_slice_fill_iter(iter)`: a slice of the items of an `ExactSizeIterator`. Its `len()`
//!   is a promise made by safe code, so it may be wrong: reserve `len()` slots, write *at most*
//!   that many items, and return only the prefix actually written if the iterator ends early.
//!   Unsafe code may rely on a safe trait's answer for efficiency, never for memory safety.
//!
//! Every allocation goes through `try_alloc_layout` from the first stage; the new code is
//! about sizes and initialisation. Writing into reserved memory goes through raw pointers
//! (`ptr.add(i).write(v)`): a `&mut [T]` over slots that are not yet initialised would claim
//! they hold valid `T`s. Only after every slot in the returned range is written does it become
//! a slice (`slice::from_raw_parts_mut`). An empty slice still needs an aligned, non-null
//! pointer.
//!
//! Afterwards you can reason about uninitialised memory, overflow in size computations, and
//! what unsafe code may and may not assume about safe traits.
//!
//! Read: the Rustonomicon, "Working with Uninitialized Memory" and "Unchecked Uninitialized
//! Memory" (<https://doc.rust-lang.org/nomicon/unchecked-uninit.html>); Rust for Rustaceans,
//! chapter 9 ("Unsafe Code": what a safe trait's contract is worth); bumpalo's
//! `alloc_slice_fill_iter` (<https://docs.rs/bumpalo/latest/bumpalo/struct.Bump.html>).

use std::alloc::Layout;
use std::ptr::NonNull;
use std::slice;

use crate::s01_chunk::{Arena, full};

impl Arena {
    /// Reserves room for a `T`, then calls `f` and moves its result there. `f` may itself
    /// allocate in this arena.
    ///
    /// # Panics
    /// With "arena is full" if there is no room (before `f` is called).
    pub fn alloc_with<T>(&self, f: impl FnOnce() -> T) -> &mut T {
        // TODO: as the doc comment says: the room is reserved before `f` runs, so whatever
        // `f` allocates lands after it.
        todo!()
    }

    /// Reserves uninitialised room for `len` values of `T`, or `None` if the size overflows or
    /// does not fit.
    fn try_alloc_array<T>(&self, len: usize) -> Option<NonNull<T>> {
        // TODO: as the doc comment says; a size that overflows is `None`, never a smaller
        // allocation.
        todo!()
    }

    /// Copies `src` into the arena, or returns `None` if it does not fit.
    pub fn try_alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Option<&mut [T]> {
        // TODO: a slice in the arena holding a copy of `src`; no reference covers the room
        // before every element in it is written.
        todo!()
    }

    /// Copies `src` into the arena.
    ///
    /// # Panics
    /// With "arena is full" if it does not fit.
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &mut [T] {
        // TODO: as `try_alloc_slice_copy`, with the panic of `full` when there is no room.
        todo!()
    }

    /// Copies `s` into the arena.
    ///
    /// # Panics
    /// With "arena is full" if it does not fit.
    pub fn alloc_str(&self, s: &str) -> &mut str {
        // TODO: a copy of `s` in the arena (its bytes are UTF-8 because they came from a
        // `str`).
        todo!()
    }

    /// A slice of `len` copies of `value`, or `None` if `len * size_of::<T>()` overflows or
    /// does not fit.
    pub fn try_alloc_slice_fill_copy<T: Copy>(&self, len: usize, value: T) -> Option<&mut [T]> {
        // TODO: as the doc comment says; no reference covers a slot before it is written.
        todo!()
    }

    /// A slice of the items of `iter`, which reports its length up front.
    ///
    /// Reserves room for `iter.len()` items and writes at most that many; if the iterator ends
    /// early, the returned slice holds only the items it yielded. Extra items are not taken.
    ///
    /// # Panics
    /// With "arena is full" if `iter.len()` items do not fit.
    pub fn alloc_slice_fill_iter<T, I>(&self, iter: I) -> &mut [T]
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: ExactSizeIterator,
    {
        // TODO: as the doc comment says. The iterator's `len` may be wrong: never write past
        // the room reserved, never return a slot that was not written, and panic with "arena
        // is full" on a length too large to fit.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::addr;
    use std::cell::Cell;

    /// An iterator whose `len()` claims `claimed` items but yields `actual` ones.
    struct Liar {
        claimed: usize,
        actual: usize,
        yielded: usize,
    }

    impl Liar {
        fn new(claimed: usize, actual: usize) -> Self {
            Liar {
                claimed,
                actual,
                yielded: 0,
            }
        }
    }

    impl Iterator for Liar {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            (self.yielded < self.actual).then(|| {
                self.yielded += 1;
                self.yielded as u32
            })
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (self.claimed, Some(self.claimed))
        }
    }

    impl ExactSizeIterator for Liar {
        fn len(&self) -> usize {
            self.claimed
        }
    }

    #[test]
    fn alloc_with_builds_the_value_in_place() {
        let arena = Arena::new(64);
        let v = arena.alloc_with(|| [5u16; 4]);
        v[3] = 6;
        assert_eq!(v, &[5, 5, 5, 6]);
    }

    #[test]
    fn alloc_with_allows_the_closure_to_allocate_too() {
        let arena = Arena::new(64);
        let outer = arena.alloc_with(|| {
            let inner = arena.alloc(41u64);
            *inner += 1;
            (inner as *const u64, *inner)
        });
        // SAFETY (test): `inner` lives in the arena, which is alive.
        assert_eq!(
            unsafe { *outer.0 },
            42,
            "the closure's allocation was overwritten"
        );
        assert_eq!(outer.1, 42);
        assert!(
            addr(outer) < outer.0.addr(),
            "alloc_with must reserve its room before calling f: the closure's allocation must land after it"
        );
        assert!(arena.used() >= 8 + 16);
    }

    #[test]
    fn alloc_with_moves_the_value_in_without_dropping_anything() {
        thread_local!(static DROPS: Cell<usize> = const { Cell::new(0) });
        struct Counted;
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.with(|d| d.set(d.get() + 1));
            }
        }
        let arena = Arena::new(16);
        let counted = arena.alloc_with(|| Counted);
        assert_eq!(
            DROPS.with(Cell::get),
            0,
            "alloc_with dropped a value: write into the reserved room with ptr.write, because an assignment (*ptr = value) first drops the old value, which was never initialised"
        );
        // The arena runs no destructor; drop this one by hand.
        // SAFETY (test): `counted` is a valid `Counted` that is never used again.
        unsafe { std::ptr::drop_in_place(counted) };
        assert_eq!(DROPS.with(Cell::get), 1);
    }

    #[test]
    fn slices_are_copied_and_independent() {
        let arena = Arena::new(256);
        let mut source = vec![1u32, 2, 3, 4];
        let copy = arena.alloc_slice_copy(&source);
        source[0] = 100;
        copy[1] = 20;
        assert_eq!(copy, &[1, 20, 3, 4], "the arena must hold its own copy");
        assert_eq!((copy.as_ptr()).addr() % align_of::<u32>(), 0);
        assert_eq!(arena.used() % 4, 0);
        assert!(arena.used() >= 16);
    }

    #[test]
    fn empty_slices_and_strings_work() {
        let arena = Arena::new(0);
        let empty: &mut [u64] = arena.alloc_slice_copy(&[]);
        assert!(empty.is_empty());
        assert_eq!(
            empty.as_ptr().addr() % 8,
            0,
            "an empty slice still needs an aligned pointer"
        );
        assert_eq!(arena.alloc_str(""), "");
        assert_eq!(
            arena.alloc_slice_fill_iter(std::iter::empty::<u8>()),
            &[] as &[u8]
        );
    }

    #[test]
    fn alloc_str_copies_utf8() {
        let arena = Arena::new(64);
        let s = arena.alloc_str("grüße, 世界");
        assert_eq!(s, "grüße, 世界");
        s.make_ascii_uppercase();
        assert_eq!(s, "GRüßE, 世界");
    }

    #[test]
    fn slice_copy_that_does_not_fit_is_refused() {
        let arena = Arena::new(16);
        assert!(
            arena.try_alloc_slice_copy(&[0u64; 3]).is_none(),
            "24 bytes do not fit in 16"
        );
        assert_eq!(arena.used(), 0);
        assert!(arena.try_alloc_slice_copy(&[0u64; 2]).is_some());
    }

    #[test]
    fn fill_copy_fills_every_slot() {
        let arena = Arena::new(128);
        let s = arena.try_alloc_slice_fill_copy(10, 0xABCDu16).unwrap();
        assert_eq!(s.len(), 10);
        assert!(s.iter().all(|&x| x == 0xABCD));
        let units = arena.try_alloc_slice_fill_copy(3, ()).unwrap();
        assert_eq!(units.len(), 3);
    }

    #[test]
    fn size_overflow_is_an_error_not_a_wrap_around() {
        let arena = Arena::new(64);
        // (usize::MAX / 4 + 1) * 8 wraps around to 8 bytes.
        assert!(
            arena
                .try_alloc_slice_fill_copy(usize::MAX / 4 + 1, 0u64)
                .is_none(),
            "len * size_of::<T>() overflowed: this must be None, not a tiny allocation"
        );
        assert!(
            arena
                .try_alloc_slice_fill_copy(usize::MAX / 8, 0u64)
                .is_none()
        );
        assert!(arena.try_alloc_slice_fill_copy(usize::MAX, 0u16).is_none());
        assert_eq!(
            arena.used(),
            0,
            "a refused request must not move the offset"
        );
    }

    #[test]
    fn fill_iter_collects_every_item() {
        let arena = Arena::new(256);
        let s = arena.alloc_slice_fill_iter((0..10).map(|i| i * i));
        assert_eq!(s, &[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
        let strings = arena.alloc_slice_fill_iter(["x", "y"].map(String::from));
        assert_eq!(strings, &["x", "y"]);
        // The arena does not run destructors: drop the strings by hand so nothing leaks.
        for s in strings.iter_mut() {
            drop(std::mem::take(s));
        }
    }

    #[test]
    fn fill_iter_survives_an_iterator_that_ends_early() {
        let arena = Arena::new(256);
        let s = arena.alloc_slice_fill_iter(Liar::new(10, 3));
        assert_eq!(
            s,
            &[1, 2, 3],
            "only the items actually yielded may be in the slice"
        );
    }

    #[test]
    fn fill_iter_never_writes_past_what_len_promised() {
        let arena = Arena::new(256);
        let liar = Liar::new(2, 50);
        let s = arena.alloc_slice_fill_iter(liar);
        assert_eq!(s, &[1, 2], "the slice holds exactly len() items");
        // An allocation right after the slice must not be overwritten by extra items.
        let next = arena.alloc(0xDEAD_BEEFu32);
        assert_eq!(*next, 0xDEAD_BEEF);
        assert_eq!(s, &[1, 2]);
        assert_eq!(arena.used(), 12, "2 items reserved, then one u32");
    }

    #[test]
    fn fill_iter_takes_no_more_items_than_len_promised() {
        let arena = Arena::new(256);
        let mut liar = Liar::new(2, 50);
        let s = arena.alloc_slice_fill_iter(&mut liar);
        assert_eq!(s, &[1, 2]);
        assert_eq!(
            liar.yielded, 2,
            "alloc_slice_fill_iter must stop calling next once len() items are written: the extra item it took is lost"
        );
    }

    #[test]
    #[should_panic(expected = "arena is full")]
    fn fill_iter_with_an_absurd_len_panics_cleanly() {
        let arena = Arena::new(256);
        // (usize::MAX / 4 + 2) * 4 bytes wraps around to 4: a wrapped size "fits".
        arena.alloc_slice_fill_iter(Liar::new(usize::MAX / 4 + 2, 1));
    }

    #[test]
    fn fill_iter_allows_the_iterator_to_allocate_in_the_same_arena() {
        let arena = Arena::new(512);
        let mut boxed = Vec::new();
        let s = arena.alloc_slice_fill_iter((0..8u32).inspect(|&i| {
            let side = arena.alloc(u64::from(i) + 100);
            boxed.push(side as *const u64);
        }));
        assert_eq!(s, &[0u32, 1, 2, 3, 4, 5, 6, 7]);
        for (i, p) in boxed.iter().enumerate() {
            // SAFETY (test): each pointer is an arena allocation, alive with the arena.
            assert_eq!(
                unsafe { **p },
                i as u64 + 100,
                "side allocation {i} was overwritten"
            );
        }
    }
}
