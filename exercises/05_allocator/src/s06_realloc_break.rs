//! # Break it: a view of the block kept across `realloc`
//!
//! After a `realloc` that moved the block, every pointer and every reference to the old block
//! *dangles*: it still holds an address, but the heap has taken those bytes back, and its next
//! `alloc` may hand them to someone else. Using one is a *use after free*. In safe Rust a
//! `Vec` cannot suffer it: `push` takes `&mut self`, so no reference into the old buffer
//! survives a reallocation. In `unsafe` code avoiding it is your job; this stage has you write
//! it on purpose, and read what Miri says.
//!
//! Write [`extend_from_within`] the way a hurried C programmer would. The program's view of
//! its block, `view`, is given: a `&mut [u8]` over the old block, as `Vec::as_mut_slice` would
//! hand it out. Grow the block with `heap.realloc`, then copy `view[range]` into the new tail.
//! Read through `view`, not through `ptr`: the raw `ptr` came from the heap and carries the
//! region's own permission, so Miri could not tell your stale read from the heap's own.
//! The tests set the heap up so that the block *must* move (the block after it is in use) and
//! so that natively nothing overwrites the old bytes (the freed block merges into a free block
//! before it): natively, every test passes. A block that grows in place would hide the bug
//! from Miri too, since nothing touches the old bytes; that is why the tests make the move
//! certain, and one test shows the in-place case.
//!
//! What Miri says. With `std::alloc` behind the `Vec`, reading the moved block is reported as
//! `memory access failed: allocN has been freed, so this pointer is dangling`: allocation
//! `allocN`, the old buffer, no longer exists. Our heap gives nothing back to Miri (its region
//! stays one live allocation), so the same bug shows up as an aliasing violation under Stacked
//! Borrows, Miri's default model:
//!
//! - `error: Undefined Behavior: trying to retag from <TAG> for SharedReadOnly permission at
//!   allocN[0x40], but that tag does not exist in the borrow stack for this location`, at
//!   your `view[range]`, which reborrows `view`: `allocN` is the heap's region, and `0x40`
//!   the offset of the old block in it (the test's block is the region's second, 64 bytes).
//! - `help: <TAG> was created by a Unique retag at offsets [0x40..0x80]`: `view`, made by
//!   the `from_raw_parts_mut` line before the call.
//! - `help: <TAG> was later invalidated at offsets [0x40..0x80] by a read access`, in
//!   `Heap::realloc`: the move read the old block through the heap's own pointer to copy it.
//!   From that read on, the bytes are the heap's again and `view` may not touch them: this
//!   is how a use after free looks inside an allocator of your own.
//!
//! The runner's summary under the verdict names the line where the bug was noticed; the
//! `help:` lines are in the full report above it (and in `.mastery/last-run.log`).
//!
//! The fix: after `realloc`, use only the pointer it returned. Copy within the grown block
//! (its first bytes are the old contents), or copy the range out before the call, as
//! `Vec::extend_from_within` does in safe Rust.
//!
//! Afterwards you can say what a dangling pointer is and why a moved block leaves one behind,
//! read a Stacked Borrows report from the error line to the access that invalidated the tag,
//! and say why a `realloc` that happened to grow in place proves nothing.
//!
//! Read: the `GlobalAlloc::realloc` contract (the old pointer is invalid after a success):
//! <https://doc.rust-lang.org/std/alloc/trait.GlobalAlloc.html#method.realloc>; the
//! Rustonomicon, "References" and "Aliasing": <https://doc.rust-lang.org/nomicon/aliasing.html>.

use crate::s03_heap::{Heap, Strategy};
use std::alloc::Layout;
use std::ops::Range;
use std::ptr::NonNull;
use std::slice;

/// Appends a copy of the bytes `range` of the block at `ptr` to its end: the block grows from
/// `layout.size()` to `layout.size() + range.len()` bytes through [`Heap::realloc`], and the
/// grown block is returned. `None`, with the block untouched, if the heap has no room.
///
/// **Unsound on purpose.** It copies from `view`, the program's view of the old block, after
/// `realloc` moved the block. Miri reports it.
///
/// # Safety
///
/// `ptr` must have been returned by `heap` for `layout`, with all `layout.size()` bytes
/// initialised, and not freed since; `range` must lie within `0..layout.size()`.
pub unsafe fn extend_from_within<S: Strategy>(
    heap: &mut Heap<S>,
    ptr: NonNull<u8>,
    layout: Layout,
    range: Range<usize>,
) -> Option<NonNull<u8>> {
    // The program's view of its block.
    // SAFETY: the caller's promise: a live, initialised block of `layout.size()` bytes.
    let view: &mut [u8] = unsafe { slice::from_raw_parts_mut(ptr.as_ptr(), layout.size()) };
    // TODO: grow the block through `heap.realloc`, then copy `view[range]` into its new tail,
    // reading it from `view` after the call (the bug this stage is about).
    todo!("extend_from_within")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{bytes, checked};

    /// Fills `n` bytes at `p` with `i as u8 ^ seed`.
    fn fill(p: NonNull<u8>, n: usize, seed: u8) {
        for i in 0..n {
            // SAFETY: the tests pass live blocks of at least `n` bytes.
            unsafe { p.as_ptr().add(i).write(i as u8 ^ seed) };
        }
    }

    /// The `n` bytes at `p`.
    fn read(p: NonNull<u8>, n: usize) -> Vec<u8> {
        // SAFETY: the tests pass live, initialised blocks of at least `n` bytes.
        unsafe { slice::from_raw_parts(p.as_ptr(), n) }.to_vec()
    }

    /// `[free 64][block 64][busy 64][free ...]`: the block cannot grow in place, and once it
    /// moves, its old bytes merge into the free block before it without being written.
    fn block_that_must_move(heap: &mut Heap) -> (NonNull<u8>, NonNull<u8>) {
        let before = heap.alloc(bytes(64)).unwrap();
        let block = heap.alloc(bytes(64)).unwrap();
        let busy = heap.alloc(bytes(64)).unwrap();
        assert_eq!(block.addr().get(), before.addr().get() + 64);
        assert_eq!(busy.addr().get(), block.addr().get() + 64);
        // SAFETY: `before` came from this heap with this layout.
        unsafe { heap.free(before, bytes(64)) };
        fill(block, 64, 0);
        fill(busy, 64, 0xEE);
        (block, busy)
    }

    #[test]
    fn a_moved_block_gets_the_copy_at_its_end() {
        let mut heap = Heap::new(1024).unwrap();
        let (block, busy) = block_that_must_move(&mut heap);
        let old = read(block, 64);
        // SAFETY: `block` is a live, initialised block of 64 bytes from this heap.
        let grown = unsafe { extend_from_within(&mut heap, block, bytes(64), 8..40) }
            .expect("a heap of 1024 bytes has room for 96 more");
        assert_ne!(
            grown, block,
            "the block after this one is in use, so growing the block by range.len() bytes must move it"
        );
        let now = read(grown, 96);
        assert_eq!(
            now[..64],
            old[..],
            "the grown block must start with the old contents"
        );
        assert_eq!(
            now[64..],
            old[8..40],
            "the 32 bytes appended must be a copy of bytes 8..40 of the block"
        );
        assert_eq!(
            read(busy, 64),
            read_pattern(0xEE),
            "the block after the old one is someone else's: nothing may be written there"
        );
        checked(&heap);
        // SAFETY: both blocks came from this heap with these layouts.
        unsafe {
            heap.free(grown, bytes(96));
            heap.free(busy, bytes(64));
        }
        assert_eq!(
            checked(&heap).blocks,
            1,
            "freeing everything must leave one free block: the grown block has 96 bytes"
        );
    }

    /// The pattern `fill` writes with `seed`, 64 bytes.
    fn read_pattern(seed: u8) -> Vec<u8> {
        (0..64).map(|i| i as u8 ^ seed).collect()
    }

    #[test]
    fn a_block_that_grows_in_place_gets_the_copy_at_its_end() {
        let mut heap = Heap::new(1024).unwrap();
        let block = heap.alloc(bytes(64)).unwrap();
        fill(block, 64, 0x5A);
        // SAFETY: `block` is a live, initialised block of 64 bytes from this heap.
        let grown = unsafe { extend_from_within(&mut heap, block, bytes(64), 0..64) }
            .expect("a heap of 1024 bytes has room for 128 bytes");
        assert_eq!(
            grown, block,
            "the space after the block is free, so realloc must grow it in place"
        );
        let now = read(grown, 128);
        assert_eq!(
            now[..64],
            read_pattern(0x5A)[..],
            "the old contents must stay"
        );
        assert_eq!(
            now[64..],
            read_pattern(0x5A)[..],
            "the 64 bytes appended must be a copy of the whole block"
        );
        checked(&heap);
    }

    #[test]
    fn no_room_to_grow_returns_none_and_keeps_the_block() {
        let mut heap = Heap::new(128).unwrap();
        let block = heap.alloc(bytes(64)).unwrap();
        let _busy = heap.alloc(bytes(64)).unwrap();
        fill(block, 64, 0x33);
        // SAFETY: `block` is a live, initialised block of 64 bytes from this heap.
        let grown = unsafe { extend_from_within(&mut heap, block, bytes(64), 0..16) };
        assert!(grown.is_none(), "a full heap has no room for 80 bytes");
        assert_eq!(
            read(block, 64),
            read_pattern(0x33),
            "a failed extend_from_within must leave the block as it was"
        );
        checked(&heap);
    }
}
