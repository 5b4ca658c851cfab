//! # `realloc`: grow in place, shrink in place, otherwise move
//!
//! A growing `Vec` or `String` calls `realloc` every time it doubles. Moving is the fallback:
//! allocate the new size, copy, free the old block. Often it can be avoided:
//!
//! - **Shrink in place.** The block keeps its address and its tail goes back on the free list,
//!   where it merges with a free block after it. If the tail is shorter than a node (8 bytes),
//!   it cannot stand alone: it may still join a free block right after it; otherwise the block
//!   moves (to a block that fits exactly, so nothing leaks).
//! - **Grow in place.** If the block right after ours is free and large enough, take the part
//!   we need from its front, leaving the rest free (0 or at least `MIN_BLOCK` bytes, as ever).
//!   The neighbour's node must be rewritten further on, and its predecessor relinked.
//! - **Move.** Allocate with the same alignment, `copy_nonoverlapping` the old contents (the
//!   smaller of the two sizes), free the old block. Out of memory returns `None`, and the old
//!   block is still valid and unchanged: a failed `realloc` must not lose the data.
//!
//! The pointer `realloc` is given is the program's, and reaches only the old block (see
//! "Provenance" in the heap's stage): like `free`, `realloc` first turns it into the region's
//! own pointer to that address, which is what it links as a tail and hands back grown.
//!
//! Alignments up to 4096 survive every path, since a move allocates with the old alignment.
//! The zero-size policy: `realloc` to size 0 shrinks to a `MIN_BLOCK` block, like `alloc` of a
//! zero-sized layout; the block stays valid and must still be freed.
//!
//! After a `realloc` that moved, the old pointer is dead: the heap may hand the old block to
//! the next `alloc`, and a caller still writing through a `&mut [u8]` made before the call
//! would alias the new owner. The next stage has you write that bug on purpose and read
//! Miri's report. The heap can make the same mistake inside: if grow-in-place forgets to
//! relink the neighbour, the old node stays on the list and the next `alloc` hands out bytes
//! that are part of our grown block.
//! In safe Rust `Vec::reserve` takes `&mut self`, so no reference into the old buffer can
//! survive it: the borrow checker enforces for you what you enforce by hand here.
//!
//! Afterwards you can resize a block in place or move it without losing a byte, and say why a
//! failed `realloc` must leave the old block exactly as it was.
//!
//! Read: the `GlobalAlloc::realloc` contract: <https://doc.rust-lang.org/std/alloc/trait.GlobalAlloc.html#method.realloc>;
//! the Rustonomicon, "Growing" a Vec: <https://doc.rust-lang.org/nomicon/vec/vec-alloc.html>;
//! CS:APP chapter 9.9 on `realloc` in the implicit-list allocator of 9.9.12.

use crate::s01_layout::{MIN_BLOCK, block_size};
use crate::s02_free_list::FreeNode;
use crate::s03_heap::{Heap, Strategy};
use std::alloc::Layout;
use std::ptr::NonNull;

impl<S: Strategy> Heap<S> {
    /// Resizes the block at `ptr` (allocated with `old`) to `new_size` bytes with the same
    /// alignment: in place when possible, otherwise by moving it. Returns the block's address,
    /// or `None` (out of memory, or an impossible size) with the old block left untouched.
    ///
    /// # Safety
    ///
    /// `ptr` must have been returned by this heap for `old` and not freed since. On success the
    /// caller must use only the returned pointer (with the new layout) from then on.
    pub unsafe fn realloc(
        &mut self,
        ptr: NonNull<u8>,
        old: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>> {
        let new = Layout::from_size_align(new_size, old.align()).ok()?;
        let old_block = block_size(old)?;
        let new_block = block_size(new)?;
        // The program's pointer reaches only its old block: the tail's node may merge past it,
        // and a grown block is longer. Work with (and hand out) the region's pointer instead.
        let ptr = self.base.with_addr(ptr.addr());

        if new_block <= old_block {
            let tail = old_block - new_block;
            if tail == 0 {
                return Some(ptr);
            }
            // SAFETY: the tail `[ptr + new_block, ptr + old_block)` is part of our block, which
            // the caller no longer needs beyond `new_block`; it is derived from `ptr`, which
            // has the region's provenance.
            unsafe {
                let tail_ptr = ptr.add(new_block);
                if tail >= MIN_BLOCK {
                    self.list.insert(tail_ptr, tail);
                    return Some(ptr);
                }
                if let Some((prev, next)) = self.free_block_at(ptr.addr().get() + old_block) {
                    // Too short to stand alone: join the free block right after it.
                    let size = (*next.as_ptr()).size;
                    self.unlink(prev, next);
                    self.list.insert(tail_ptr, tail + size);
                    return Some(ptr);
                }
            }
        } else if self.grow_in_place(ptr, old_block, new_block) {
            return Some(ptr);
        }

        let moved = self.alloc(new)?;
        // SAFETY: both blocks are live and distinct (the old one is still allocated), each at
        // least `min(old.size(), new_size)` bytes long.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), old.size().min(new_size));
            self.free(ptr, old);
        }
        Some(moved)
    }

    /// The free block starting exactly at `addr`, with its predecessor in the list.
    fn free_block_at(&self, addr: usize) -> Option<(Option<NonNull<FreeNode>>, NonNull<FreeNode>)> {
        let mut prev = None;
        let mut cur = self.list.head;
        while let Some(node) = cur {
            let a = node.as_ptr().addr();
            if a >= addr {
                return (a == addr).then_some((prev, node));
            }
            prev = Some(node);
            // SAFETY: nodes of the list are valid free blocks.
            cur = unsafe { (*node.as_ptr()).next };
        }
        None
    }

    /// Removes `node` from the list.
    ///
    /// # Safety
    /// `prev` must be `node`'s predecessor in the list (`None` if `node` is the head).
    unsafe fn unlink(&mut self, prev: Option<NonNull<FreeNode>>, node: NonNull<FreeNode>) {
        // SAFETY: both are nodes of the list (the caller's promise).
        unsafe {
            let next = (*node.as_ptr()).next;
            match prev {
                Some(p) => (*p.as_ptr()).next = next,
                None => self.list.head = next,
            }
        }
    }

    /// Extends the block `[ptr, ptr + old_block)` to `new_block` bytes by taking the front of
    /// the free block right after it, if there is one and what remains of it is 0 or at least
    /// `MIN_BLOCK` bytes.
    fn grow_in_place(&mut self, ptr: NonNull<u8>, old_block: usize, new_block: usize) -> bool {
        let extra = new_block - old_block;
        let Some((prev, next)) = self.free_block_at(ptr.addr().get() + old_block) else {
            return false;
        };
        // SAFETY: `next` is a node of the list and `prev` its predecessor; the new node is
        // inside `next`'s block, derived from `next`.
        unsafe {
            let size = (*next.as_ptr()).size;
            let Some(rest) = size.checked_sub(extra) else {
                return false;
            };
            if rest == 0 {
                self.unlink(prev, next);
            } else if rest >= MIN_BLOCK {
                let moved = next.cast::<u8>().add(extra).cast::<FreeNode>();
                let after = (*next.as_ptr()).next;
                moved.as_ptr().write(FreeNode {
                    size: rest,
                    next: after,
                });
                match prev {
                    Some(p) => (*p.as_ptr()).next = Some(moved),
                    None => self.list.head = Some(moved),
                }
            } else {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::s01_layout::block_size;
    use crate::s02_free_list::FreeStats;
    use crate::s03_heap::Heap;
    use crate::test_support::{Rng, bytes, checked, handed_back};
    use std::alloc::Layout;
    use std::ptr::NonNull;

    /// Fills `n` bytes at `p` with `i as u8 ^ seed`.
    fn fill(p: NonNull<u8>, n: usize, seed: u8) {
        for i in 0..n {
            // SAFETY: the tests fill only live blocks of at least `n` bytes.
            unsafe { p.add(i).write(i as u8 ^ seed) };
        }
    }

    fn holds(p: NonNull<u8>, n: usize, seed: u8) -> bool {
        // SAFETY: the tests read only live blocks of at least `n` bytes.
        (0..n).all(|i| unsafe { p.add(i).read() } == i as u8 ^ seed)
    }

    #[test]
    fn growing_into_a_free_neighbour_keeps_the_address() {
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(64)).unwrap();
        let b = heap.alloc(bytes(64)).unwrap();
        let c = heap.alloc(bytes(64)).unwrap();
        fill(a, 64, 1);
        // SAFETY: b and a are live with these layouts.
        let grown = unsafe {
            heap.free(b, bytes(64));
            heap.realloc(a, bytes(64), 128)
        };
        assert_eq!(
            grown,
            Some(a),
            "the free 64 bytes after `a` are exactly what it needs"
        );
        assert!(holds(a, 64, 1), "growing in place keeps the contents");
        assert_eq!(
            checked(&heap).blocks,
            1,
            "the neighbour was used up: only the tail is free"
        );
        assert_eq!(checked(&heap).free_bytes, 4096 - 192);
        // SAFETY: a (now 128 bytes) and c are live.
        unsafe {
            heap.free(a, bytes(128));
            heap.free(c, bytes(64));
        }
        assert_eq!(checked(&heap).blocks, 1);
        assert_eq!(checked(&heap).free_bytes, 4096);
    }

    #[test]
    fn growing_takes_only_the_front_of_a_large_neighbour() {
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(64)).unwrap();
        fill(a, 64, 2);
        // SAFETY: a is live.
        let grown = unsafe { heap.realloc(a, bytes(64), 200) };
        assert_eq!(grown, Some(a));
        assert!(holds(a, 64, 2));
        assert_eq!(
            checked(&heap),
            FreeStats {
                free_bytes: 4096 - 200,
                largest: 4096 - 200,
                blocks: 1
            },
            "the free block now starts at 200"
        );
        let b = heap.alloc(bytes(16)).unwrap();
        assert_eq!(
            b.as_ptr().addr() - a.as_ptr().addr(),
            200,
            "the moved node is valid"
        );
    }

    #[test]
    fn growing_past_a_busy_neighbour_moves_and_copies() {
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(64)).unwrap();
        let _b = heap.alloc(bytes(64)).unwrap();
        fill(a, 64, 3);
        // SAFETY: a is live.
        let moved = unsafe { heap.realloc(a, bytes(64), 128) }.unwrap();
        assert_ne!(moved, a, "`b` is in the way: the block must move");
        assert!(holds(moved, 64, 3), "a move copies the old contents");
        assert_eq!(
            checked(&heap).free_bytes,
            4096 - 128 - 64,
            "the old block was freed"
        );
        let again = heap.alloc(bytes(64)).unwrap();
        assert_eq!(again, a, "and is reused");
    }

    #[test]
    fn growing_into_a_neighbour_too_small_moves() {
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(64)).unwrap();
        let b = heap.alloc(bytes(32)).unwrap();
        let _c = heap.alloc(bytes(64)).unwrap();
        fill(a, 64, 4);
        // SAFETY: a and b are live.
        let moved = unsafe {
            heap.free(b, bytes(32));
            heap.realloc(a, bytes(64), 128)
        }
        .unwrap();
        assert_ne!(moved, a, "32 free bytes cannot give 64");
        assert!(holds(moved, 64, 4));
        assert_eq!(checked(&heap).free_bytes, 4096 - 64 - 128);
    }

    #[test]
    fn growing_never_leaves_a_sliver_smaller_than_a_node() {
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(64)).unwrap();
        let b = heap.alloc(bytes(72)).unwrap();
        let _c = heap.alloc(bytes(64)).unwrap();
        fill(a, 64, 5);
        // SAFETY: a and b are live.
        let moved = unsafe {
            heap.free(b, bytes(72));
            heap.realloc(a, bytes(64), 128)
        }
        .unwrap();
        assert_ne!(
            moved, a,
            "taking 64 of the 72 free bytes would strand 8 bytes"
        );
        assert!(holds(moved, 64, 5));
        assert_eq!(checked(&heap).free_bytes, 4096 - 64 - 128);
    }

    #[test]
    fn shrinking_in_place_returns_the_tail() {
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(256)).unwrap();
        fill(a, 256, 6);
        // SAFETY: a is live.
        let shrunk = unsafe { heap.realloc(a, bytes(256), 64) };
        assert_eq!(shrunk, Some(a), "shrinking never needs to move here");
        assert!(holds(a, 64, 6));
        assert_eq!(
            checked(&heap),
            FreeStats {
                free_bytes: 4096 - 64,
                largest: 4096 - 64,
                blocks: 1
            },
            "the 192-byte tail merged with the free space after it"
        );
    }

    #[test]
    fn shrinking_by_less_than_a_node_never_leaks() {
        let mut heap = Heap::new(4096).unwrap();
        // Free neighbour: the 8 bytes join it, in place.
        let a = heap.alloc(bytes(24)).unwrap();
        fill(a, 24, 7);
        // SAFETY: a is live.
        let r = unsafe { heap.realloc(a, bytes(24), 16) };
        assert_eq!(r, Some(a), "the 8-byte tail joins the free block after it");
        assert!(holds(a, 16, 7));
        assert_eq!(
            checked(&heap).free_bytes,
            4096 - 16,
            "the 8-byte tail must go back to the heap: freed later with its 16-byte layout, \
             the block would never return it"
        );
        // Busy neighbour: the block moves, and all 24 bytes come back.
        let b = heap.alloc(bytes(24)).unwrap();
        let _c = heap.alloc(bytes(16)).unwrap();
        fill(b, 24, 8);
        // SAFETY: b is live.
        let r = unsafe { heap.realloc(b, bytes(24), 16) }.unwrap();
        assert!(holds(r, 16, 8));
        assert_eq!(checked(&heap).free_bytes, 4096 - 16 - 16 - 16);
    }

    #[test]
    fn a_move_copies_only_the_old_contents() {
        // The block that grows ends the heap, and the only free block that fits is at the
        // front. Copying `new_size` bytes from the old block would read 448 bytes past the end
        // of the heap (Miri: out-of-bounds): a move copies min(old size, new size) bytes.
        let mut heap = Heap::new(1024).unwrap();
        let front = heap.alloc(bytes(512)).unwrap();
        let _middle = heap.alloc(bytes(448)).unwrap();
        let last = heap.alloc(bytes(64)).unwrap();
        assert_eq!(checked(&heap).free_bytes, 0, "the heap is full");
        fill(last, 64, 14);
        // SAFETY: both live with these layouts; `last` is not used after the realloc.
        let moved = unsafe {
            heap.free(front, bytes(512));
            heap.realloc(last, bytes(64), 512)
        }
        .unwrap();
        assert_eq!(moved, front, "the only free block that fits");
        assert!(holds(moved, 64, 14), "a move copies the old contents");
    }

    #[test]
    fn a_failed_realloc_keeps_the_old_block() {
        let mut heap = Heap::new(256).unwrap();
        let a = heap.alloc(bytes(128)).unwrap();
        let b = heap.alloc(bytes(64)).unwrap();
        fill(a, 128, 9);
        let before = checked(&heap);
        // SAFETY: a is live.
        let r = unsafe { heap.realloc(a, bytes(128), 512) };
        assert_eq!(r, None, "512 bytes do not fit in a 256-byte heap");
        assert!(holds(a, 128, 9), "a failed realloc must not lose the data");
        assert_eq!(checked(&heap), before, "and must not change the heap");
        // SAFETY: both still live with these layouts.
        unsafe {
            heap.free(a, bytes(128));
            heap.free(b, bytes(64));
        }
        assert_eq!(checked(&heap).free_bytes, 256);
    }

    #[test]
    fn realloc_keeps_a_page_alignment_when_it_moves() {
        let mut heap = Heap::new(4 * 4096).unwrap();
        let page = Layout::from_size_align(64, 4096).unwrap();
        let a = heap.alloc(page).unwrap();
        let _b = heap.alloc(bytes(16)).unwrap();
        fill(a, 64, 10);
        // SAFETY: a is live.
        let moved = unsafe { heap.realloc(a, page, 4096) }.unwrap();
        assert_ne!(moved, a);
        assert_eq!(
            moved.as_ptr().addr() % 4096,
            0,
            "the old alignment must be kept"
        );
        assert!(holds(moved, 64, 10));
        // SAFETY: moved is live with 4096 bytes, page-aligned.
        unsafe { heap.free(moved, Layout::from_size_align(4096, 4096).unwrap()) };
        heap.check().unwrap();
    }

    #[test]
    fn realloc_to_zero_keeps_a_minimum_block() {
        let mut heap = Heap::new(1024).unwrap();
        let a = heap.alloc(bytes(100)).unwrap();
        // SAFETY: a is live.
        let z = unsafe { heap.realloc(a, bytes(100), 0) }.unwrap();
        assert_eq!(z, a);
        assert_eq!(
            checked(&heap).free_bytes,
            1024 - 16,
            "size 0 keeps a 16-byte block"
        );
        // SAFETY: z is live with size 0.
        unsafe { heap.free(z, bytes(0)) };
        assert_eq!(checked(&heap).free_bytes, 1024);
    }

    // The next test resizes blocks through the program's own pointer, made from a unique
    // reference to exactly its old block, as a `Box` or a `&mut [u8]` hands it back. Under Miri,
    // "attempting a write access using <TAG> ..., but that tag does not exist in the borrow
    // stack for this location", where <TAG> "was created by a SharedReadWrite retag at offsets
    // [0x0..0x18]" in `handed_back` (the old block's 24 bytes), means `realloc` linked a tail
    // or returned a grown block through that pointer: it must use the region's own pointer to
    // that address (see "Provenance" in the heap's stage).
    #[test]
    fn a_block_resized_through_the_programs_pointer_is_usable_and_its_tail_reusable() {
        // Grow in place: the program's pointer covers 24 bytes, the grown block 64.
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(24)).unwrap();
        let b = heap.alloc(bytes(40)).unwrap();
        let _guard = heap.alloc(bytes(16)).unwrap();
        // SAFETY: `b` and `a` are live with these layouts.
        let grown = unsafe {
            heap.free(b, bytes(40));
            heap.realloc(handed_back(a, 24), bytes(24), 64)
        }
        .unwrap();
        assert_eq!(
            grown, a,
            "the free 40 bytes after the block are all it needs"
        );
        fill(grown, 64, 11);
        assert!(holds(grown, 64, 11), "the grown block holds all 64 bytes");

        // Shrink in place: the 176-byte tail merges with the free rest of the heap, and the
        // next allocation splits it further on than the program's old block reached.
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(200)).unwrap();
        // SAFETY: `a` is live with this layout.
        let shrunk = unsafe { heap.realloc(handed_back(a, 200), bytes(200), 24) };
        assert_eq!(shrunk, Some(a));
        assert_eq!(checked(&heap).blocks, 1, "the tail joined the free rest");
        let c = heap.alloc(bytes(256)).unwrap();
        assert_eq!(
            c.as_ptr().addr() - a.as_ptr().addr(),
            24,
            "the tail is reused"
        );
        fill(c, 256, 12);
        assert!(holds(c, 256, 12));

        // Shrink by less than a node: the 8-byte tail joins the free block after it, and
        // their node starts 16 bytes into the program's 24-byte block.
        let mut heap = Heap::new(4096).unwrap();
        let a = heap.alloc(bytes(24)).unwrap();
        // SAFETY: `a` is live with this layout.
        let shrunk = unsafe { heap.realloc(handed_back(a, 24), bytes(24), 16) };
        assert_eq!(shrunk, Some(a));
        assert_eq!(checked(&heap).free_bytes, 4096 - 16);
        let d = heap.alloc(bytes(64)).unwrap();
        fill(d, 64, 13);
        assert!(holds(d, 64, 13));
    }

    #[test]
    fn seeded_random_alloc_free_realloc_keeps_every_invariant() {
        let steps = if cfg!(miri) { 150 } else { 4000 };
        let size = 32 * 1024;
        for seed in [7u64, 0xFEED_F00D] {
            let mut heap = Heap::new(size).unwrap();
            let mut rng = Rng(seed);
            let mut live: Vec<(NonNull<u8>, Layout, u8)> = Vec::new();
            for step in 0..steps {
                let roll = rng.below(10);
                if live.is_empty() || roll < 4 {
                    let layout =
                        Layout::from_size_align(rng.below(400), 1 << rng.below(7)).unwrap();
                    if let Some(p) = heap.alloc(layout) {
                        let tag = step as u8;
                        fill(p, layout.size(), tag);
                        live.push((p, layout, tag));
                    }
                } else if roll < 7 {
                    let (p, layout, tag) = live.swap_remove(rng.below(live.len()));
                    assert!(
                        holds(p, layout.size(), tag),
                        "step {step}: a live block changed"
                    );
                    // SAFETY: allocated with `layout`, freed once.
                    unsafe { heap.free(p, layout) };
                } else {
                    let i = rng.below(live.len());
                    let (p, layout, tag) = live[i];
                    let new_size = rng.below(800);
                    // SAFETY: live, allocated with `layout`.
                    match unsafe { heap.realloc(p, layout, new_size) } {
                        Some(q) => {
                            let kept = layout.size().min(new_size);
                            assert!(holds(q, kept, tag), "step {step}: realloc lost data");
                            let new = Layout::from_size_align(new_size, layout.align()).unwrap();
                            fill(q, new_size, tag);
                            live[i] = (q, new, tag);
                        }
                        None => assert!(holds(p, layout.size(), tag)),
                    }
                }
                let s = checked(&heap);
                let used: usize = live.iter().map(|&(_, l, _)| block_size(l).unwrap()).sum();
                assert_eq!(s.free_bytes + used, size, "step {step}: bytes went missing");
            }
            for (p, layout, _) in live {
                // SAFETY: allocated with `layout`, freed once.
                unsafe { heap.free(p, layout) };
            }
            assert_eq!(
                checked(&heap).blocks,
                1,
                "seed {seed}: everything freed, one block"
            );
        }
    }
}
