//! # Break it under Tree Borrows
//!
//! Miri has a second aliasing model, Tree Borrows (Neven Villani and Ralf Jung), which this
//! stage runs with `-Zmiri-tree-borrows`. Write [`Arena::overwrite`]: copy `src` into the
//! chunk at byte offset `at`, through the previous stage's `chunk_bytes_mut`, and panic if
//! the bytes do not fit. Used on room not yet handed out, it is fine under Tree Borrows;
//! used on the bytes of a live allocation (the test
//! `the_write_over_an_allocation_is_seen_through_its_reference`), it is the same bug as
//! before, and Miri reports it at a different place.
//!
//! The difference between the two models:
//!
//! - **Stacked Borrows** treats creating a `&mut` (a *retag*) as if it were a write: the
//!   moment the whole-chunk slice exists, every earlier reference into the chunk is
//!   invalidated, written through or not. Under it, even
//!   `a_write_to_fresh_room_leaves_earlier_values_alone` is undefined behaviour: it makes the
//!   whole-chunk slice while `x` is alive, and the report blames `from_raw_parts_mut`
//!   ("was later invalidated ... by a Unique retag").
//! - **Tree Borrows** keeps a tree of tags per allocation. A new `&mut` starts *Reserved*: it
//!   behaves like a shared reference until its first write, so merely making the slice hurts
//!   nobody. The first write through it is a *foreign write* for `x` (an access through a tag
//!   that is not `x` or its child), which moves `x` to *Disabled*; the next use of `x` is
//!   the error. So the fresh-room test passes, and the other one stops with:
//!   `error: Undefined Behavior: reborrow through <TAG> at allocN[0x8] is forbidden` at
//!   `assert_eq!(*x, 0, ..)`; `help: the accessed tag <TAG> has state Disabled`;
//!   `help: the accessed tag <TAG> was created here, in the initial state Reserved` at
//!   `arena.alloc(..)`; and `help: the accessed tag <TAG> later transitioned to Disabled due
//!   to a foreign write access at offsets [0x8..0x10]` at *your* `overwrite` line: the write,
//!   not the retag.
//!
//! Tree Borrows accepts more programs (it was designed so that common unsafe code that only
//! *creates* overlapping references is not undefined behaviour), but writing memory that a
//! live `&mut` owns, through anything else, is undefined behaviour in both. Code should be
//! sound under both models: neither is Rust's final word yet, and Miri runs Stacked Borrows
//! unless told otherwise.
//!
//! Afterwards you can read a Tree Borrows report (the accessed tag, its state, the
//! transition and the access that caused it) and say which of two programs each model
//! rejects and why.
//!
//! Read: Neven Villani, Johannes Hostert, Derek Dreyer and Ralf Jung, "Tree Borrows" (PLDI
//! 2025, <https://doi.org/10.1145/3735592>), sections 1 to 3 for the states and transitions,
//! and Ralf Jung's blog post on it
//! (<https://www.ralfj.de/blog/2025/07/07/tree-borrows-paper.html>); the Rustonomicon,
//! "Aliasing" (<https://doc.rust-lang.org/nomicon/aliasing.html>).

use crate::s01_chunk::Arena;

impl Arena {
    /// Copies `src` into the chunk at byte offset `at`, through [`Arena::chunk_bytes_mut`].
    ///
    /// **Unsound on purpose** when those bytes belong to an allocation whose reference is
    /// still alive.
    ///
    /// # Panics
    /// If `at + src.len()` is more than the capacity.
    pub fn overwrite(&self, at: usize, src: &[u8]) {
        let end = at
            .checked_add(src.len())
            .expect("overwrite: at + len overflows");
        self.chunk_bytes_mut()[at..end].copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::addr;

    #[test]
    fn a_write_to_fresh_room_leaves_earlier_values_alone() {
        let arena = Arena::new(64);
        let x = arena.alloc(42u64);
        let at = arena.used();
        arena.overwrite(at, &[1, 2, 3]);
        assert_eq!(*x, 42, "overwrite must write only the bytes it is given");
        let y = arena.alloc(0u8);
        assert_eq!(addr(y), addr(x) + at, "the next allocation follows `x`");
    }

    #[test]
    #[should_panic]
    fn a_write_past_the_end_panics() {
        let arena = Arena::new(64);
        arena.overwrite(63, &[1, 2]);
    }

    #[test]
    fn the_write_over_an_allocation_is_seen_through_its_reference() {
        let arena = Arena::new(64);
        arena.alloc(1u8);
        let x = arena.alloc(0x0102_0304_0506_0708u64);
        // `x` is the last allocation, 8 bytes long.
        let at = arena.used() - 8;
        arena.overwrite(at, &0u64.to_ne_bytes());
        // Natively this "works": the bytes under `x` were overwritten, and `x` reads them.
        assert_eq!(*x, 0, "overwrite must write the bytes at offset `at`");
    }
}
