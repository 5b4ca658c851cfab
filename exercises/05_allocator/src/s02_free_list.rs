//! # A free list stored in the free memory, kept in address order and coalesced
//!
//! A malloc-like allocator has nowhere to keep its bookkeeping but the memory it manages. The
//! trick is that free memory is, by definition, unused: each free block holds a [`FreeNode`]
//! at its start (its size and a pointer to the next free block), and the list of free blocks
//! costs no memory at all. This stage builds that list, [`FreeList`], over memory someone else
//! owns:
//!
//! - [`FreeList::insert`] puts a block back, keeping the list sorted by address, and
//!   *coalesces*: if the block touches the free block before it or after it, they become one
//!   block. Without this, a heap that was full and is empty again is cut into thousands of
//!   small blocks and cannot serve one large request (external fragmentation). There are four
//!   cases (no neighbour, the previous one, the next one, both) and each has its own test.
//! - [`FreeList::blocks`] walks the list; [`FreeList::check`] is the *invariant walker*: it
//!   proves that every block lies inside the region, is aligned, can hold a node, comes after
//!   the previous block and does not touch it. The tests call it after every operation, here
//!   and in every later stage. It must also catch a corrupted list, not only bless a good one.
//!
//! The pointers are raw on purpose. A `&mut FreeNode` to a block that is also handed out to a
//! user as `&mut [u8]` would be two live `&mut` to the same bytes: say a bug in `insert` links
//! a block that is still allocated. The user writes a string into it; `insert` later writes
//! the block's `next` pointer over the first 8 bytes of that string; the user reads garbage,
//! or, worse, the allocator follows the user's bytes as a `next` pointer and hands the same
//! memory out twice. Miri reports the first access through the invalidated pointer as
//! `Undefined Behavior: attempting a write access using <TAG> at alloc123[0x0], but that tag
//! does not exist in the borrow stack for this location`. The borrow checker forbids this in
//! safe code; here only the invariants you check by hand do. Read and write nodes with
//! `ptr.read()`, `ptr.write()` or `(*ptr).field` through raw pointers, keep every pointer
//! derived from the one you were given (strict provenance: never turn an integer back into a
//! pointer), and create no references to free memory.
//!
//! Afterwards you can keep an intrusive list inside the memory it describes, through raw
//! pointers that keep their provenance, and check its invariants from outside.
//!
//! Read: CS:APP chapter 9.9.6 to 9.9.13 (implicit and explicit free lists, coalescing); The
//! Garbage Collection Handbook, chapter 7 (allocation: free lists, first fit); Philipp
//! Oppermann, "Allocator Designs", the linked list allocator:
//! <https://os.phil-opp.com/allocator-designs/#linked-list-allocator>; the Rustonomicon on
//! raw pointers and aliasing: <https://doc.rust-lang.org/nomicon/aliasing.html>.

use crate::s01_layout::{BLOCK_ALIGN, MIN_BLOCK};
use std::ptr::NonNull;

/// The header of a free block, stored in the first bytes of the block itself.
#[repr(C)]
#[derive(Debug)]
pub struct FreeNode {
    /// The size of the whole free block in bytes, including this node.
    pub(crate) size: usize,
    /// The next free block, at a higher address.
    pub(crate) next: Option<NonNull<FreeNode>>,
}

/// What the invariant walker measured: the basis of every fragmentation figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreeStats {
    /// Free bytes in all blocks.
    pub free_bytes: usize,
    /// The largest free block (the largest request that can surely be served, padding aside).
    pub largest: usize,
    /// The number of free blocks.
    pub blocks: usize,
}

/// A singly linked list of free blocks, sorted by address, no two of them adjacent.
///
/// Invariant: every node is the start of a free block that was given to [`FreeList::insert`]
/// and is still free; blocks are sorted by address and neither overlap nor touch.
#[derive(Debug, Default)]
pub struct FreeList {
    pub(crate) head: Option<NonNull<FreeNode>>,
}

// SAFETY: a FreeList owns the free blocks it links, like a Box owns its contents; it holds no
// thread-local state, so moving it to another thread is sound.
unsafe impl Send for FreeList {}

impl FreeList {
    /// An empty list.
    pub const fn new() -> Self {
        FreeList { head: None }
    }

    /// Returns the block `[block, block + size)` to the list, in address order, merged with
    /// the free block before it and the one after it when they touch.
    ///
    /// # Safety
    ///
    /// The block must be valid for reads and writes, `block` aligned to `BLOCK_ALIGN`, `size`
    /// a multiple of `BLOCK_ALIGN` and at least `MIN_BLOCK`; it must overlap no block in the
    /// list and nothing the caller still uses; and it must share its provenance (come from
    /// the same allocation) with every block it may be merged with.
    pub unsafe fn insert(&mut self, block: NonNull<u8>, size: usize) {
        // TODO: add the block to the list so that the invariant above holds again: in address
        // order, and merged with any free block it touches.
        todo!("FreeList::insert")
    }

    /// The free blocks, in address order, as (start, size).
    pub fn blocks(&self) -> Blocks<'_> {
        // TODO: an iterator starting at the head.
        todo!("FreeList::blocks")
    }

    /// Walks the list and checks its invariants against the region `[start, end)`: every
    /// block inside the region, aligned to `BLOCK_ALIGN`, a multiple of `BLOCK_ALIGN` and at
    /// least `MIN_BLOCK` long, strictly after the previous block and not touching it.
    ///
    /// Reads a node only after checking that it lies inside the region, so a corrupted list
    /// gives an error instead of a wild read.
    pub fn check(&self, start: usize, end: usize) -> Result<FreeStats, String> {
        // TODO: the FreeStats of the list, or an error naming the first invariant it breaks;
        // no node is read before its address is known to be inside the region.
        todo!("FreeList::check")
    }
}

/// The iterator of [`FreeList::blocks`].
pub struct Blocks<'a> {
    next: Option<NonNull<FreeNode>>,
    _list: &'a FreeList,
}

impl Iterator for Blocks<'_> {
    type Item = (NonNull<u8>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        // TODO: the current block as (start, size), then move on to the next one.
        todo!("Blocks::next")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;
    use std::alloc::{Layout, alloc, dealloc};

    /// A 4096-aligned buffer from the system allocator, standing in for the heap's region.
    struct Buf {
        ptr: NonNull<u8>,
        layout: Layout,
    }

    impl Buf {
        fn new(size: usize) -> Buf {
            let layout = Layout::from_size_align(size, 4096).unwrap();
            // SAFETY: the layout has a non-zero size.
            let ptr = NonNull::new(unsafe { alloc(layout) }).expect("test buffer");
            Buf { ptr, layout }
        }
        fn at(&self, offset: usize) -> NonNull<u8> {
            assert!(offset < self.layout.size());
            // SAFETY: in bounds, checked above.
            unsafe { self.ptr.add(offset) }
        }
        fn start(&self) -> usize {
            self.ptr.as_ptr().addr()
        }
        fn end(&self) -> usize {
            self.start() + self.layout.size()
        }
        /// The blocks as (offset, size).
        fn blocks(&self, list: &FreeList) -> Vec<(usize, usize)> {
            list.blocks()
                .map(|(p, s)| (p.as_ptr().addr() - self.start(), s))
                .collect()
        }
        /// Writes a node by hand, to build lists the invariant walker must reject.
        fn node(&self, offset: usize, size: usize, next: Option<usize>) -> NonNull<FreeNode> {
            let node = self.at(offset).cast::<FreeNode>();
            let next = next.map(|o| self.at(o).cast::<FreeNode>());
            // SAFETY: in bounds and aligned (offsets in these tests are multiples of 8).
            unsafe { node.as_ptr().write(FreeNode { size, next }) };
            node
        }
    }

    impl Drop for Buf {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
        }
    }

    fn insert(buf: &Buf, list: &mut FreeList, offset: usize, size: usize) {
        // SAFETY: the tests insert disjoint, aligned pieces of `buf`.
        unsafe { list.insert(buf.at(offset), size) };
        if let Err(e) = list.check(buf.start(), buf.end()) {
            panic!("after inserting {offset}..{}: {e}", offset + size);
        }
    }

    #[test]
    fn a_new_list_is_empty_and_valid() {
        let list = FreeList::new();
        assert_eq!(list.blocks().count(), 0);
        assert_eq!(list.check(0, 4096), Ok(FreeStats::default()));
    }

    #[test]
    fn the_node_lives_in_the_free_block_itself() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 64, 48);
        // SAFETY: offset 64 holds the node just written by `insert`.
        let stored = unsafe { buf.at(64).cast::<usize>().read() };
        assert_eq!(stored, 48, "the first word of a free block is its size");
        assert_eq!(
            list.head.map(|n| n.as_ptr().addr()),
            Some(buf.start() + 64),
            "the head of the list is the address of the block"
        );
    }

    #[test]
    fn insert_keeps_blocks_in_address_order() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        for off in [1024, 0, 512, 2048, 256] {
            insert(&buf, &mut list, off, 32);
        }
        assert_eq!(
            buf.blocks(&list),
            vec![(0, 32), (256, 32), (512, 32), (1024, 32), (2048, 32)],
            "the list must stay sorted by address whatever the order of insertion"
        );
    }

    #[test]
    fn insert_with_no_free_neighbour_merges_nothing() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 0, 32);
        insert(&buf, &mut list, 128, 32);
        insert(&buf, &mut list, 64, 32); // 32..64 and 96..128 are still in use
        assert_eq!(buf.blocks(&list), vec![(0, 32), (64, 32), (128, 32)]);
    }

    #[test]
    fn insert_merges_with_the_previous_block() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 0, 32);
        insert(&buf, &mut list, 128, 32);
        insert(&buf, &mut list, 32, 48);
        assert_eq!(
            buf.blocks(&list),
            vec![(0, 80), (128, 32)],
            "0..32 and 32..80 touch: they must become one block"
        );
    }

    #[test]
    fn insert_merges_with_the_next_block() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 0, 32);
        insert(&buf, &mut list, 128, 32);
        insert(&buf, &mut list, 96, 32);
        assert_eq!(
            buf.blocks(&list),
            vec![(0, 32), (96, 64)],
            "96..128 and 128..160 touch: the merged block starts at 96"
        );
    }

    #[test]
    fn insert_merges_with_both_neighbours() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 0, 32);
        insert(&buf, &mut list, 64, 32);
        insert(&buf, &mut list, 256, 16);
        insert(&buf, &mut list, 32, 32);
        assert_eq!(
            buf.blocks(&list),
            vec![(0, 96), (256, 16)],
            "the hole 32..64 closes the gap between 0..32 and 64..96"
        );
    }

    #[test]
    fn insert_merges_before_the_head_and_after_the_tail() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 512, 64);
        insert(&buf, &mut list, 448, 64); // becomes the new head, merged with the old one
        insert(&buf, &mut list, 576, 64); // appended at the tail, merged
        assert_eq!(buf.blocks(&list), vec![(448, 192)]);
    }

    #[test]
    fn freeing_every_block_in_any_order_leaves_one_block() {
        let rounds: u64 = if cfg!(miri) { 3 } else { 200 };
        let size = 8192;
        for seed in 1..=rounds {
            let buf = Buf::new(size);
            let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            // Cut the buffer into pieces of 16..=256 bytes.
            let mut pieces = Vec::new();
            let mut off = 0;
            while off < size {
                let mut len = (MIN_BLOCK / 8 + rng.below(31)) * 8;
                if size - off < len + MIN_BLOCK {
                    len = size - off;
                }
                pieces.push((off, len));
                off += len;
            }
            // Shuffle them (Fisher-Yates) and free them in that order.
            for i in (1..pieces.len()).rev() {
                pieces.swap(i, rng.below(i + 1));
            }
            let mut list = FreeList::new();
            for &(off, len) in &pieces {
                insert(&buf, &mut list, off, len);
            }
            assert_eq!(
                buf.blocks(&list),
                vec![(0, size)],
                "seed {seed}: after freeing all {} pieces one block of the whole buffer must remain",
                pieces.len()
            );
        }
    }

    #[test]
    fn check_measures_free_bytes_and_the_largest_block() {
        let buf = Buf::new(4096);
        let mut list = FreeList::new();
        insert(&buf, &mut list, 0, 32);
        insert(&buf, &mut list, 100 * 8, 512);
        insert(&buf, &mut list, 2048, 64);
        let stats = list.check(buf.start(), buf.end()).unwrap();
        assert_eq!(
            stats,
            FreeStats {
                free_bytes: 608,
                largest: 512,
                blocks: 3
            }
        );
    }

    #[test]
    fn check_rejects_overlapping_blocks() {
        let buf = Buf::new(4096);
        let b = buf.node(64, 32, None);
        let a = buf.node(0, 128, Some(64));
        let list = FreeList { head: Some(a) };
        assert!(
            list.check(buf.start(), buf.end()).is_err(),
            "0..128 overlaps 64..96"
        );
        let _ = b;
    }

    #[test]
    fn check_rejects_blocks_out_of_address_order() {
        let buf = Buf::new(4096);
        buf.node(0, 32, None);
        let a = buf.node(256, 32, Some(0));
        let list = FreeList { head: Some(a) };
        assert!(
            list.check(buf.start(), buf.end()).is_err(),
            "256 followed by 0 breaks the address order"
        );
    }

    #[test]
    fn check_rejects_touching_blocks_that_were_not_merged() {
        let buf = Buf::new(4096);
        buf.node(32, 32, None);
        let a = buf.node(0, 32, Some(32));
        let list = FreeList { head: Some(a) };
        assert!(
            list.check(buf.start(), buf.end()).is_err(),
            "0..32 and 32..64 touch"
        );
    }

    #[test]
    fn check_rejects_blocks_outside_the_region() {
        let buf = Buf::new(4096);
        let a = buf.node(4000, 96, None);
        let list = FreeList { head: Some(a) };
        assert!(
            list.check(buf.start(), buf.end()).is_ok(),
            "4000..4096 lies inside the buffer"
        );
        assert!(
            list.check(buf.start(), buf.start() + 4064).is_err(),
            "4000..4096 runs past a region that ends at 4064"
        );
        assert!(
            list.check(buf.start() + 4008, buf.end()).is_err(),
            "4000..4096 starts before a region that starts at 4008"
        );
    }

    #[test]
    fn check_rejects_blocks_too_small_for_a_node() {
        let buf = Buf::new(4096);
        let a = buf.node(0, 8, None);
        let list = FreeList { head: Some(a) };
        assert!(
            list.check(buf.start(), buf.end()).is_err(),
            "8 bytes cannot hold a node"
        );
        let a = buf.node(0, 20, None);
        let list = FreeList { head: Some(a) };
        assert!(
            list.check(buf.start(), buf.end()).is_err(),
            "20 is not a multiple of 8"
        );
    }
}
