//! # Bonus: size classes in front of the free list
//!
//! Most allocations are small, and a first-fit list makes every one of them walk past the
//! small holes at the front of the heap, and every free walk to its place in address order.
//! Real allocators answer small requests from *segregated free lists*: one list per size
//! class, used as a stack. [`SizeClassHeap`] puts [`CLASSES`] of them in front of the heap:
//!
//! - A request with alignment at most [`CLASS_ALIGN`] whose block is at most
//!   [`LARGEST_CLASS`] (64 KiB) belongs to a class ([`class_of`]). Up to 256 bytes the
//!   classes are [`CLASS_STEP`] apart: the block size rounded up to a multiple of 16. Above,
//!   they are spaced geometrically: each doubling (256 to 512, 512 to 1024, ...) is cut into
//!   [`CLASSES_PER_DOUBLING`] steps, so the classes run 320, 384, 448, 512, 640, 768, ...
//!   Rounding up to a class then never wastes more than a quarter of the block, and 48
//!   classes cover every size up to 64 KiB (jemalloc's size classes follow the same rule).
//!   Allocation pops the class's list, in O(1); only when it is empty does the heap carve a
//!   new *batch* of blocks of exactly [`class_size`] bytes, aligned to `CLASS_ALIGN`, in one
//!   piece of about [`BATCH_BYTES`] (simple segregated storage). One heap walk then serves many allocations, and a class's
//!   blocks sit together instead of splitting the heap's free space between them. Each
//!   block of the batch can later go back to the heap on its own: the heap keeps no headers,
//!   it only needs disjoint blocks of the size it recomputes from the layout.
//! - Free pushes the block on its class's list, in O(1): the first word of the freed block
//!   becomes the `next` pointer, as in the main list. Anything else goes to the heap as before.
//!   As in the heap's `free`, the node is the region's pointer to the block, not the
//!   program's: a `Box<u8>` hands back a pointer that reaches one byte, and the node is eight.
//! - `realloc` within one class keeps the block (a `Vec<u8>` growing from 20 to 30 bytes
//!   does not move); between classes, or between a class and the heap, the block moves.
//! - Why classes for large blocks too? The heap's list is in address order, so every `free`
//!   walks it to find its place and every `alloc` walks it to the first fit. A program that
//!   keeps a hundred thousand blocks of 300 to 500 bytes (the nodes of a `BTreeMap<String,
//!   usize>` are that size) makes that list a hundred thousand blocks long once it frees
//!   them, and each later call walks it: in the benchmark's real program (`mastery bench
//!   allocator`), with classes up to 256 bytes only, dropping its maps of 250 000 `String`
//!   keys took 40 times as long as with glibc. With classes up to 64 KiB, the list only sees
//!   larger blocks, which programs allocate rarely.
//! - The price: blocks on class lists are not coalesced. Free memory cached in the classes
//!   cannot serve a large request until [`SizeClassHeap::trim`] gives it back to the heap,
//!   where it merges again. The tests check both sides: the benchmark gain, and that after
//!   freeing everything and trimming, the heap is one block again.
//!
//! A class list is a stack of raw pointers, which makes one classic bug easy: a double free.
//! Free block `a` twice and it is pushed twice; its `next` now points to itself, and the next
//! two allocations of that class both return `a`. Two owners then write through what each
//! believes is its own `&mut [u8]`: the second write invalidates the first owner's tag, and
//! Miri reports the first owner's next access with `attempting a read access using <TAG> ...,
//! but that tag does not exist in the borrow stack for this location`. Safe Rust makes a
//! double free impossible (`Box` is moved into `drop`); here the invariant walker at least
//! refuses a class list that is longer than the region could hold, which is how it catches
//! the cycle instead of looping forever.
//!
//! Afterwards you can put size classes in front of a general heap, say what they trade
//! (coalescing for speed), and catch a double free as a cycle in a list.
//!
//! Read: CS:APP chapter 9.9.14 (segregated free lists, simple segregated storage); The Garbage
//! Collection Handbook, chapter 7.6 (segregated fits); Philipp Oppermann, "Allocator Designs",
//! fixed-size block allocator: <https://os.phil-opp.com/allocator-designs/#fixed-size-block-allocator>;
//! the size classes table in the jemalloc manual (IMPLEMENTATION NOTES):
//! <https://jemalloc.net/jemalloc.3.html>.

use crate::s01_layout::block_size;
use crate::s02_free_list::FreeStats;
use crate::s03_heap::{FirstFit, Heap, Strategy};
use crate::s07_global::ArenaHeap;
use std::alloc::Layout;
use std::ptr::NonNull;

/// The difference between the block sizes of neighbouring small classes.
pub const CLASS_STEP: usize = 16;
/// The small classes: blocks of 16, 32, ..., 256 bytes.
pub const SMALL_CLASSES: usize = 16;
/// The largest small class.
const SMALL_MAX: usize = SMALL_CLASSES * CLASS_STEP;
/// Above 256 bytes, each doubling of the block size is cut into this many classes.
pub const CLASSES_PER_DOUBLING: usize = 4;
/// The largest class block; larger requests go to the heap's list.
pub const LARGEST_CLASS: usize = 64 * 1024;
/// The number of classes: 16 small ones, then 4 per doubling from 256 bytes to 64 KiB.
pub const CLASSES: usize =
    SMALL_CLASSES + CLASSES_PER_DOUBLING * (LARGEST_CLASS / SMALL_MAX).ilog2() as usize;
/// Class blocks are aligned to this; requests with larger alignments go to the heap.
pub const CLASS_ALIGN: usize = 16;
/// An empty class is refilled with a batch of blocks of about this many bytes in total.
pub const BATCH_BYTES: usize = 1024;

/// The class that serves `layout`, or `None` if the heap serves it.
pub fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > CLASS_ALIGN {
        return None;
    }
    let size = block_size(layout)?;
    if size <= SMALL_MAX {
        return Some(size.div_ceil(CLASS_STEP) - 1);
    }
    if size > LARGEST_CLASS {
        return None;
    }
    // `size - 1` lies in [2^k, 2^(k+1)), a doubling cut into steps of 2^k / 4; the class is
    // the step that holds it. (`size - 1`, so that 512 is the last class of 256..=512.)
    let k = (size - 1).ilog2();
    let step = (1 << k) / CLASSES_PER_DOUBLING;
    let index = (size - 1 - (1 << k)) / step;
    Some(SMALL_CLASSES + (k - SMALL_MAX.ilog2()) as usize * CLASSES_PER_DOUBLING + index)
}

/// The block size of `class`.
pub fn class_size(class: usize) -> usize {
    if class < SMALL_CLASSES {
        return (class + 1) * CLASS_STEP;
    }
    let doubling = (class - SMALL_CLASSES) / CLASSES_PER_DOUBLING;
    let index = (class - SMALL_CLASSES) % CLASSES_PER_DOUBLING;
    let base = SMALL_MAX << doubling;
    base + (index + 1) * (base / CLASSES_PER_DOUBLING)
}

/// The layout a class block is carved from the heap with (and given back with).
fn class_layout(class: usize) -> Layout {
    debug_assert!(class < CLASSES);
    // SAFETY: CLASS_ALIGN is a power of two and a class size (at most 64 KiB) rounded up to it
    // is far below isize::MAX.
    unsafe { Layout::from_size_align_unchecked(class_size(class), CLASS_ALIGN) }
}

/// The header of a block on a class list.
struct ClassNode {
    next: Option<NonNull<ClassNode>>,
}

/// A [`Heap`] with segregated free lists for small blocks in front of it.
///
/// Invariant: every node on `classes[c]` is a block of `class_size(c)` bytes, aligned to
/// `CLASS_ALIGN`, allocated from `heap` with `class_layout(c)` and not in use; `cached` is
/// the sum of their sizes.
pub struct SizeClassHeap<S = FirstFit> {
    heap: Heap<S>,
    classes: [Option<NonNull<ClassNode>>; CLASSES],
    cached: usize,
}

// SAFETY: the class lists point into the heap's region, which the heap owns; moving the
// whole structure to another thread moves that ownership along.
unsafe impl<S: Send> Send for SizeClassHeap<S> {}

impl SizeClassHeap<FirstFit> {
    /// A first-fit heap of `size` bytes with size classes; see [`Heap::new`].
    pub fn new(size: usize) -> Option<Self> {
        Heap::new(size).map(Self::with_heap)
    }
}

impl<S: Strategy> SizeClassHeap<S> {
    /// Size classes in front of `heap`.
    pub fn with_heap(heap: Heap<S>) -> Self {
        SizeClassHeap {
            heap,
            classes: [None; CLASSES],
            cached: 0,
        }
    }

    /// Like [`Heap::alloc`]; small requests are served from their class first.
    pub fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let Some(class) = class_of(layout) else {
            return self.heap.alloc(layout);
        };
        match self.classes[class] {
            Some(node) => {
                // SAFETY: `node` is on the class list, so it is a valid, unused class block.
                self.classes[class] = unsafe { (*node.as_ptr()).next };
                self.cached -= class_size(class);
                Some(node.cast())
            }
            None => self.refill(class),
        }
    }

    /// Carves a batch of class blocks from the heap in one piece (about `BATCH_BYTES`,
    /// at least one block), returns the first and pushes the rest on the class list. One
    /// heap walk serves many allocations, and a class's blocks stay together instead of
    /// being scattered between the heap's other blocks. Falls back to a single block when
    /// the heap has no room for a batch.
    fn refill(&mut self, class: usize) -> Option<NonNull<u8>> {
        let size = class_size(class);
        let count = (BATCH_BYTES / size).max(1);
        let batch = Layout::from_size_align(size * count, CLASS_ALIGN).ok()?;
        let Some(first) = self.heap.alloc(batch) else {
            return self.heap.alloc(class_layout(class));
        };
        // Push from the last block down, so that the list hands out ascending addresses.
        for i in (1..count).rev() {
            // SAFETY: block `i` of the batch lies inside the block just carved (derived from
            // it), is aligned to CLASS_ALIGN (as `size` is a multiple of it) and unused. Each
            // block can later be freed to the heap on its own with `class_layout(class)`:
            // the heap needs no header, only disjoint blocks of the size it recomputes.
            unsafe {
                let node = first.add(i * size).cast::<ClassNode>();
                node.as_ptr().write(ClassNode {
                    next: self.classes[class],
                });
                self.classes[class] = Some(node);
            }
        }
        self.cached += (count - 1) * size;
        Some(first)
    }

    /// Like [`Heap::free`]; small blocks go on their class list.
    ///
    /// # Safety
    ///
    /// As for [`Heap::free`]: `ptr` came from this heap's `alloc` or `realloc` with `layout`
    /// and was not freed since.
    pub unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout) {
        let Some(class) = class_of(layout) else {
            // SAFETY: forwarded from the caller.
            return unsafe { self.heap.free(ptr, layout) };
        };
        // The program's pointer may reach only the bytes it asked for (a `Box<u8>` reaches
        // one); the node and the next owner of the block need the region's pointer.
        let node = self.heap.base.with_addr(ptr.addr()).cast::<ClassNode>();
        // SAFETY: the block is a class block of at least 16 bytes, aligned, no longer used.
        unsafe {
            node.as_ptr().write(ClassNode {
                next: self.classes[class],
            })
        };
        self.classes[class] = Some(node);
        self.cached += class_size(class);
    }

    /// Like [`Heap::realloc`]: in place within a class, moved between classes.
    ///
    /// # Safety
    ///
    /// As for [`Heap::realloc`].
    pub unsafe fn realloc(
        &mut self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>> {
        let new = Layout::from_size_align(new_size, layout.align()).ok()?;
        match (class_of(layout), class_of(new)) {
            // The block grows within its class: hand back the region's pointer, which reaches
            // all of it, not the program's, which reaches the old size only.
            (Some(a), Some(b)) if a == b => Some(self.heap.base.with_addr(ptr.addr())),
            // SAFETY: forwarded from the caller; the heap serves both sizes.
            (None, None) => unsafe { self.heap.realloc(ptr, layout, new_size) },
            _ => {
                let moved = self.alloc(new)?;
                // SAFETY: two distinct live blocks, each at least the copied length.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        ptr.as_ptr(),
                        moved.as_ptr(),
                        layout.size().min(new_size),
                    );
                    self.free(ptr, layout);
                }
                Some(moved)
            }
        }
    }

    /// Gives every cached class block back to the heap, where it coalesces.
    pub fn trim(&mut self) {
        for class in 0..CLASSES {
            while let Some(node) = self.classes[class] {
                // SAFETY: a valid class block, carved with `class_layout(class)`.
                unsafe {
                    self.classes[class] = (*node.as_ptr()).next;
                    self.heap.free(node.cast(), class_layout(class));
                }
            }
        }
        self.cached = 0;
    }

    /// Bytes held on the class lists.
    pub fn cached_bytes(&self) -> usize {
        self.cached
    }

    /// The heap's invariant walker, plus the class lists: every node inside the region,
    /// aligned to `CLASS_ALIGN`, outside every free block of the heap, and the lists no
    /// longer than the region can hold (a double free makes a cycle). The stats are the
    /// heap's: bytes cached in classes do not count as free.
    pub fn check(&self) -> Result<FreeStats, String> {
        let stats = self.heap.check()?;
        let start = self.heap.base.as_ptr().addr();
        let end = start + self.heap.size;
        let limit = self.heap.size / CLASS_STEP;
        let mut cached = 0;
        for (class, head) in self.classes.iter().enumerate() {
            let mut cur = *head;
            let mut len = 0;
            while let Some(node) = cur {
                let addr = node.as_ptr().addr();
                len += 1;
                if len > limit {
                    return Err(format!("class {class} has a cycle (a double free?)"));
                }
                if addr < start || addr + class_size(class) > end {
                    return Err(format!("class {class} block {addr:#x} is outside the heap"));
                }
                if !addr.is_multiple_of(CLASS_ALIGN) {
                    return Err(format!("class {class} block {addr:#x} is misaligned"));
                }
                if let Some((b, s)) = self.heap.list.blocks().find(|&(b, s)| {
                    let b = b.as_ptr().addr();
                    addr < b + s && b < addr + class_size(class)
                }) {
                    return Err(format!(
                        "class {class} block {addr:#x} overlaps the free block {:#x} of {s} bytes",
                        b.as_ptr().addr()
                    ));
                }
                cached += class_size(class);
                // SAFETY: the node lies inside the region and is aligned, checked above.
                cur = unsafe { (*node.as_ptr()).next };
            }
        }
        if cached != self.cached {
            return Err(format!(
                "{cached} bytes on the class lists, {} counted",
                self.cached
            ));
        }
        Ok(stats)
    }
}

impl<S: Strategy + Default + Send> ArenaHeap for SizeClassHeap<S> {
    unsafe fn from_arena(base: NonNull<u8>, size: usize) -> Option<Self> {
        // SAFETY: the caller's promise is the one `from_raw_parts` needs.
        unsafe { Heap::from_raw_parts(base, size, S::default()) }.map(Self::with_heap)
    }
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        SizeClassHeap::alloc(self, layout)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { SizeClassHeap::free(self, ptr, layout) }
    }
    unsafe fn realloc(
        &mut self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>> {
        // SAFETY: forwarded from the caller.
        unsafe { SizeClassHeap::realloc(self, ptr, layout, new_size) }
    }
    fn check(&self) -> Result<FreeStats, String> {
        SizeClassHeap::check(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s07_global::{Arena, LockedHeap};
    use crate::test_support::{PATIENCE, Rng, bytes, handed_back, watchdog};
    use std::alloc::GlobalAlloc;

    fn stats(heap: &SizeClassHeap) -> FreeStats {
        heap.check()
            .unwrap_or_else(|e| panic!("invariant broken: {e}"))
    }

    #[test]
    fn small_requests_map_to_16_byte_classes() {
        assert_eq!(
            class_of(Layout::new::<u8>()),
            Some(0),
            "a 1-byte request: 16-byte class"
        );
        assert_eq!(class_of(bytes(16)), Some(0));
        assert_eq!(
            class_of(bytes(17)),
            Some(1),
            "17 bytes: a 24-byte block, class 32"
        );
        assert_eq!(class_of(bytes(32)), Some(1));
        assert_eq!(class_of(bytes(256)), Some(SMALL_CLASSES - 1));
        assert_eq!(class_of(Layout::from_size_align(16, 16).unwrap()), Some(0));
        assert_eq!(
            class_of(Layout::from_size_align(16, 32).unwrap()),
            None,
            "class blocks are only 16-aligned"
        );
        assert_eq!(class_size(0), 16);
        assert_eq!(class_size(SMALL_CLASSES - 1), 256);
    }

    #[test]
    fn larger_requests_map_to_four_classes_per_doubling() {
        let sizes: Vec<usize> = (SMALL_CLASSES..SMALL_CLASSES + 6).map(class_size).collect();
        assert_eq!(
            sizes,
            [320, 384, 448, 512, 640, 768],
            "above 256 bytes, each doubling is cut into four classes"
        );
        assert_eq!(
            class_of(bytes(257)),
            Some(SMALL_CLASSES),
            "257 bytes: class 320"
        );
        assert_eq!(
            class_of(bytes(320)),
            Some(SMALL_CLASSES),
            "320 bytes: class 320, the smallest that holds it"
        );
        assert_eq!(
            class_of(bytes(321)),
            Some(SMALL_CLASSES + 1),
            "321 bytes: class 384"
        );
        assert_eq!(
            class_of(bytes(512)),
            Some(SMALL_CLASSES + 3),
            "512 bytes: class 512"
        );
        assert_eq!(
            class_of(bytes(513)),
            Some(SMALL_CLASSES + 4),
            "513 bytes: class 640"
        );
        assert_eq!(class_size(CLASSES - 1), LARGEST_CLASS);
        assert_eq!(
            class_of(bytes(LARGEST_CLASS)),
            Some(CLASSES - 1),
            "64 KiB is the largest class"
        );
        assert_eq!(
            class_of(bytes(LARGEST_CLASS + 1)),
            None,
            "more than 64 KiB: the heap's list"
        );
        assert_eq!(class_of(Layout::from_size_align(4096, 4096).unwrap()), None);
    }

    #[test]
    fn every_size_gets_the_smallest_class_that_holds_it() {
        let step = if cfg!(miri) { 97 } else { 1 };
        for n in (1..=LARGEST_CLASS).step_by(step) {
            let block = block_size(bytes(n)).unwrap();
            let class = class_of(bytes(n)).unwrap();
            let size = class_size(class);
            assert!(
                size >= block,
                "{n} bytes: class {class} holds {size} bytes, less than the block of {block}"
            );
            assert!(
                class == 0 || class_size(class - 1) < block,
                "{n} bytes: class {class} ({size} bytes), but class {} ({} bytes) holds it too",
                class - 1,
                class_size(class - 1)
            );
            assert!(
                size - block < CLASS_STEP.max(block / CLASSES_PER_DOUBLING),
                "{n} bytes: rounding up to {size} wastes more than a quarter of the block"
            );
            assert_eq!(
                size % CLASS_ALIGN,
                0,
                "class {class} blocks stay 16-aligned"
            );
        }
    }

    #[test]
    fn a_freed_large_block_is_reused_without_walking_the_heap() {
        let mut heap = SizeClassHeap::new(64 * 1024).unwrap();
        let a = heap.alloc(bytes(5000)).unwrap();
        let before = stats(&heap);
        assert_eq!(
            before.free_bytes,
            64 * 1024 - 5120,
            "5000 bytes are carved as a block of class 5120"
        );
        // SAFETY: live, freed once.
        unsafe { heap.free(a, bytes(5000)) };
        assert_eq!(
            heap.cached_bytes(),
            5120,
            "the large block was cached in its class"
        );
        assert_eq!(
            stats(&heap),
            before,
            "and not given back to the heap's list"
        );
        let b = heap.alloc(bytes(4500)).unwrap();
        assert_eq!(
            b, a,
            "4500 bytes are the same class: the cached block is reused"
        );
        assert_eq!(heap.cached_bytes(), 0);
        // SAFETY: live, freed once.
        unsafe { heap.free(b, bytes(4500)) };
        heap.trim();
        assert_eq!(stats(&heap).blocks, 1);
    }

    #[test]
    fn a_freed_small_block_is_reused_last_in_first_out() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let a = heap.alloc(bytes(24)).unwrap();
        let b = heap.alloc(bytes(24)).unwrap();
        let cached = heap.cached_bytes();
        // SAFETY: both live, freed once.
        unsafe {
            heap.free(a, bytes(24));
            heap.free(b, bytes(24));
        }
        assert_eq!(
            heap.cached_bytes(),
            cached + 64,
            "two 32-byte blocks were cached"
        );
        assert_eq!(
            heap.alloc(bytes(30)).unwrap(),
            b,
            "the last freed block of class 32"
        );
        assert_eq!(heap.alloc(bytes(20)).unwrap(), a);
        assert_eq!(heap.cached_bytes(), cached);
        stats(&heap);
    }

    #[test]
    fn a_class_hit_does_not_touch_the_heap() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let a = heap.alloc(bytes(100)).unwrap();
        let before = stats(&heap);
        // SAFETY: live, freed once.
        unsafe { heap.free(a, bytes(100)) };
        assert_eq!(
            stats(&heap),
            before,
            "a freed class block stays out of the heap"
        );
        let b = heap.alloc(bytes(112)).unwrap();
        assert_eq!(b, a);
        assert_eq!(stats(&heap), before, "served from the class list alone");
    }

    #[test]
    fn an_empty_class_is_refilled_with_a_batch_of_neighbouring_blocks() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let first = heap.alloc(bytes(16)).unwrap();
        let count = BATCH_BYTES / 16;
        assert_eq!(
            heap.cached_bytes(),
            (count - 1) * 16,
            "one carved, the rest cached"
        );
        let after_refill = stats(&heap);
        assert_eq!(
            after_refill.free_bytes,
            4096 - BATCH_BYTES,
            "one heap block for the batch"
        );
        for i in 1..count {
            let p = heap.alloc(bytes(16)).unwrap();
            assert_eq!(
                p.as_ptr().addr() - first.as_ptr().addr(),
                i * 16,
                "the batch hands out its blocks in address order"
            );
        }
        assert_eq!(
            stats(&heap),
            after_refill,
            "no heap walk until the batch is used up"
        );
        assert_eq!(heap.cached_bytes(), 0);
        heap.alloc(bytes(16)).unwrap();
        assert_eq!(
            stats(&heap).free_bytes,
            4096 - 2 * BATCH_BYTES,
            "a second batch"
        );
    }

    #[test]
    fn a_heap_too_full_for_a_batch_still_serves_single_blocks() {
        let mut heap = SizeClassHeap::new(BATCH_BYTES / 2).unwrap();
        let p = heap.alloc(bytes(16)).expect("one 16-byte block fits");
        assert_eq!(
            heap.cached_bytes(),
            0,
            "no batch fitted: a single block was carved"
        );
        // SAFETY: live, freed once.
        unsafe { heap.free(p, bytes(16)) };
        heap.trim();
        assert_eq!(stats(&heap).free_bytes, BATCH_BYTES / 2);
    }

    #[test]
    fn class_blocks_are_aligned_to_16() {
        let mut heap = SizeClassHeap::new(8192).unwrap();
        let one = heap.alloc(Layout::new::<u8>()).unwrap();
        for n in [1, 8, 24, 40, 200] {
            let p = heap.alloc(Layout::from_size_align(n, 16).unwrap()).unwrap();
            assert_eq!(
                p.as_ptr().addr() % 16,
                0,
                "a 16-aligned request of {n} bytes"
            );
        }
        let _ = one;
        stats(&heap);
    }

    #[test]
    fn large_and_overaligned_requests_go_straight_to_the_heap() {
        let mut heap = SizeClassHeap::new(4 * LARGEST_CLASS).unwrap();
        let big = heap.alloc(bytes(LARGEST_CLASS + 1)).unwrap();
        let page = Layout::from_size_align(64, 4096).unwrap();
        let p = heap.alloc(page).unwrap();
        assert_eq!(p.as_ptr().addr() % 4096, 0);
        // SAFETY: both live, freed once.
        unsafe {
            heap.free(big, bytes(LARGEST_CLASS + 1));
            heap.free(p, page);
        }
        assert_eq!(heap.cached_bytes(), 0, "nothing was cached");
        assert_eq!(
            stats(&heap).blocks,
            1,
            "they were freed to the heap and merged"
        );
    }

    #[test]
    fn cached_blocks_coalesce_only_after_trim() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let blocks: Vec<_> = (0..64).map(|_| heap.alloc(bytes(40)).unwrap()).collect();
        for p in blocks {
            // SAFETY: live, freed once.
            unsafe { heap.free(p, bytes(40)) };
        }
        assert_eq!(
            heap.cached_bytes() + stats(&heap).free_bytes,
            4096,
            "every byte is either cached or free"
        );
        assert!(heap.cached_bytes() >= 64 * 48);
        assert!(
            heap.alloc(bytes(2000)).is_none(),
            "the cached blocks cannot serve a large request"
        );
        heap.trim();
        assert_eq!(heap.cached_bytes(), 0);
        let s = stats(&heap);
        assert_eq!(
            (s.free_bytes, s.blocks),
            (4096, 1),
            "trimmed: one block again"
        );
        assert!(heap.alloc(bytes(2000)).is_some());
    }

    #[test]
    fn realloc_stays_within_a_class_and_moves_between_classes() {
        let mut heap = SizeClassHeap::new(8192).unwrap();
        let p = heap.alloc(bytes(20)).unwrap();
        // SAFETY: p is live; every pointer is used within its current size.
        unsafe {
            p.as_ptr().write_bytes(0xAB, 20);
            let q = heap.realloc(p, bytes(20), 30).unwrap();
            assert_eq!(q, p, "20 and 30 bytes are both in class 32");
            let cached = heap.cached_bytes();
            let r = heap.realloc(q, bytes(30), 100).unwrap();
            assert_ne!(r, q, "100 bytes is another class");
            assert!(
                (0..20).all(|i| r.add(i).read() == 0xAB),
                "the move copies the data"
            );
            assert_eq!(
                heap.cached_bytes(),
                cached + 32 + (BATCH_BYTES / 112 - 1) * 112,
                "the old block went to class 32, and class 112 was refilled with a batch"
            );
            let s = heap.realloc(r, bytes(100), 2000).unwrap();
            assert!((0..20).all(|i| s.add(i).read() == 0xAB));
            let t = heap.realloc(s, bytes(2000), 10).unwrap();
            assert!((0..10).all(|i| t.add(i).read() == 0xAB));
            heap.free(t, bytes(10));
        }
        heap.trim();
        assert_eq!(stats(&heap).blocks, 1);
    }

    // The next test frees and resizes class blocks through the program's own pointer, made
    // from a unique reference to exactly the bytes it asked for. Under Miri, "attempting a
    // write access using <TAG> ..., but that tag does not exist in the borrow stack for this
    // location", where <TAG> "was created by a SharedReadWrite retag at offsets [0x0..0x1]" in
    // `handed_back` (the one byte asked for), means a class node was written, or a block handed
    // out again, through that pointer: use the region's own pointer to that address (see
    // "Provenance" in the heap's stage).
    #[test]
    fn class_blocks_freed_and_resized_through_the_programs_pointer_are_reusable() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let one = Layout::new::<u8>();
        let a = heap.alloc(one).unwrap();
        // SAFETY: `a` is live with this layout, freed once through the program's pointer.
        unsafe { heap.free(handed_back(a, 1), one) };
        let b = heap.alloc(bytes(16)).unwrap();
        assert_eq!(b, a, "the freed block is the top of class 16");
        // SAFETY: a live block of 16 bytes.
        unsafe { b.as_ptr().write_bytes(1, 16) };

        let c = heap.alloc(bytes(20)).unwrap();
        // SAFETY: `c` is live with this layout; from now on only `d` is used.
        let d = unsafe { heap.realloc(handed_back(c, 20), bytes(20), 30) }.unwrap();
        assert_eq!(d, c, "20 and 30 bytes are both in class 32");
        // SAFETY: `d` is a live block of 30 bytes.
        unsafe { d.as_ptr().write_bytes(2, 30) };
        // SAFETY: both live with these layouts, freed once.
        unsafe {
            heap.free(handed_back(d, 30), bytes(30));
            heap.free(handed_back(b, 16), bytes(16));
        }
        heap.trim();
        let s = stats(&heap);
        assert_eq!((s.free_bytes, s.blocks), (4096, 1), "everything came back");
    }

    #[test]
    fn check_accepts_a_heap_carved_whole_into_one_class() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let mut blocks = Vec::new();
        while let Some(p) = heap.alloc(bytes(16)) {
            blocks.push(p);
        }
        for p in blocks {
            // SAFETY: allocated above, freed once.
            unsafe { heap.free(p, bytes(16)) };
        }
        assert!(
            heap.check().is_ok(),
            "a class list as long as the region can hold, ending at the region's end, is \
             valid: {:?}",
            heap.check()
        );
        // Every byte is on class 0's list, none free: put the last 16 bytes alone on class
        // 1's list instead, a 32-byte block that would run 16 bytes past the region.
        let last = heap.classes[0].expect("a class list");
        let end = heap.heap.base.as_ptr().addr() + 4096;
        let straddling = last.with_addr(std::num::NonZero::new(end - 16).unwrap());
        // SAFETY: the region's last 16 bytes, a cached block no one uses.
        unsafe { straddling.write(ClassNode { next: None }) };
        heap.classes[0] = None;
        heap.classes[1] = Some(straddling);
        heap.cached = class_size(1);
        assert!(
            heap.check().is_err(),
            "a class block that starts inside the region but runs past its end must be reported"
        );
    }

    #[test]
    fn check_catches_class_blocks_outside_the_heap_or_over_its_free_blocks() {
        let a = SizeClassHeap::new(4096).unwrap();
        let b = SizeClassHeap::new(4096).unwrap();
        let (mut low, mut high) = if a.heap.base < b.heap.base {
            (a, b)
        } else {
            (b, a)
        };
        let p = high.alloc(bytes(16)).unwrap();
        // SAFETY: allocated above, freed once.
        unsafe { high.free(p, bytes(16)) };
        // A block of the other heap on this heap's list (with its bytes counted, so that only
        // its place is wrong).
        low.classes[0] = high.classes[0];
        low.cached = high.cached;
        assert!(
            low.check().is_err(),
            "a class block past the end of the region must be reported"
        );
        // A block 16 bytes into the heap's one free block, just past its node.
        let free = low.heap.list.head.unwrap().cast::<ClassNode>();
        let inside = free.map_addr(|a| a.checked_add(16).unwrap());
        // SAFETY: bytes of the heap's free block that no node uses; a node there ends its
        // list.
        unsafe { inside.write(ClassNode { next: None }) };
        low.classes[0] = Some(inside);
        low.cached = 16;
        assert!(
            low.check().is_err(),
            "a class block that overlaps a free block of the heap must be reported"
        );
        low.classes[0] = None;
        low.cached = 0;
        assert!(low.check().is_ok());
    }

    #[test]
    fn check_catches_a_double_free() {
        let mut heap = SizeClassHeap::new(4096).unwrap();
        let a = heap.alloc(bytes(16)).unwrap();
        // SAFETY: deliberately wrong, but harmless here: nothing uses `a` or allocates again,
        // and `check` reads the list without following it past its bound.
        unsafe {
            heap.free(a, bytes(16));
            heap.free(a, bytes(16));
        }
        // A walk without a bound never ends on a cycle: watch it from here.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Dropping the heap frees its region whole; the broken list is never followed.
            tx.send(heap.check().is_err()).unwrap();
        });
        let caught = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("check looped forever: bound the walk of a class list");
        assert!(caught, "a block on its own list twice is a cycle");
    }

    #[test]
    fn seeded_random_workload_with_classes_keeps_every_invariant() {
        let steps = if cfg!(miri) { 150 } else { 4000 };
        let size = 32 * 1024;
        let mut heap = SizeClassHeap::new(size).unwrap();
        let mut rng = Rng(0xC1A55);
        let mut live: Vec<(NonNull<u8>, Layout, u8)> = Vec::new();
        for step in 0..steps {
            let roll = rng.below(10);
            if live.is_empty() || roll < 4 {
                let n = if rng.below(8) == 0 {
                    rng.below(1500)
                } else {
                    rng.below(200)
                };
                let layout = Layout::from_size_align(n, 1 << rng.below(6)).unwrap();
                if let Some(p) = heap.alloc(layout) {
                    assert_eq!(p.as_ptr().addr() % layout.align(), 0);
                    // SAFETY: a fresh block of at least `n` bytes.
                    unsafe { p.as_ptr().write_bytes(step as u8, n) };
                    live.push((p, layout, step as u8));
                }
            } else if roll < 7 {
                let (p, layout, tag) = live.swap_remove(rng.below(live.len()));
                // SAFETY: live, filled with `tag`.
                let data = unsafe { std::slice::from_raw_parts(p.as_ptr(), layout.size()) };
                assert!(
                    data.iter().all(|&b| b == tag),
                    "step {step}: a live block changed"
                );
                // SAFETY: allocated with `layout`, freed once.
                unsafe { heap.free(p, layout) };
            } else {
                let i = rng.below(live.len());
                let (p, layout, tag) = live[i];
                let n = rng.below(600);
                // SAFETY: live, allocated with `layout`.
                if let Some(q) = unsafe { heap.realloc(p, layout, n) } {
                    // SAFETY: q holds at least `n` bytes, the first min(old, n) kept.
                    let kept =
                        unsafe { std::slice::from_raw_parts(q.as_ptr(), layout.size().min(n)) };
                    assert!(
                        kept.iter().all(|&b| b == tag),
                        "step {step}: realloc lost data"
                    );
                    // SAFETY: as above.
                    unsafe { q.as_ptr().write_bytes(tag, n) };
                    live[i] = (q, Layout::from_size_align(n, layout.align()).unwrap(), tag);
                }
            }
            let s = stats(&heap);
            assert!(s.free_bytes + heap.cached_bytes() <= size);
        }
        for (p, layout, _) in live {
            // SAFETY: allocated with `layout`, freed once.
            unsafe { heap.free(p, layout) };
        }
        heap.trim();
        let s = stats(&heap);
        assert_eq!((s.free_bytes, s.blocks), (size, 1), "everything came back");
    }

    #[test]
    fn a_locked_size_class_heap_is_a_global_allocator() {
        watchdog(|| {
            static ARENA: Arena<8192> = Arena::new();
            static HEAP: LockedHeap<SizeClassHeap> = LockedHeap::new(&ARENA);
            // SAFETY: each pointer is used within its layout and freed once.
            unsafe {
                let a = HEAP.alloc(bytes(24));
                assert!(HEAP.contains(a));
                HEAP.dealloc(a, bytes(24));
                assert_eq!(HEAP.alloc(bytes(32)), a, "reused from class 32");
                let b = HEAP.realloc(a, bytes(32), 1000);
                assert!(!b.is_null() && b != a);
                HEAP.dealloc(b, bytes(1000));
            }
            assert_eq!(
                HEAP.check().unwrap().free_bytes,
                8192 - BATCH_BYTES - 1024,
                "one batch of class 32 and the block of class 1024 stay cached, everything \
                 else came back"
            );
        });
    }

    // The threaded phase of a real program: more threads than cores, blocks of every class and
    // some above them, a window of live blocks per thread.
    #[test]
    fn more_threads_than_cores_allocate_every_size_in_seconds() {
        static ARENA: Arena<{ 8 << 20 }> = Arena::new();
        static HEAP: LockedHeap<SizeClassHeap> = LockedHeap::new(&ARENA);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Miri interprets every thread on one core, thousands of times slower than native code:
        // three threads and a few rounds still interleave their lock handovers for its race
        // detector, and finish in seconds.
        let (threads, rounds) = if cfg!(miri) {
            (3, 12)
        } else {
            (4 * cores.max(2), 4000)
        };
        let (tx, rx) = std::sync::mpsc::channel();
        for t in 0..threads {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0x7EAD + t as u64);
                let mut live = std::collections::VecDeque::new();
                for _ in 0..rounds {
                    let n = match rng.below(100) {
                        0..=1 => LARGEST_CLASS / 2 + rng.below(LARGEST_CLASS),
                        2..=14 => 256 + rng.below(4096),
                        _ => 1 + rng.below(256),
                    };
                    let layout = bytes(n);
                    // SAFETY: a fresh block of `n` bytes, or null.
                    let p = unsafe { HEAP.alloc(layout) };
                    assert!(!p.is_null(), "8 MiB is plenty for this workload");
                    // SAFETY: as above.
                    unsafe { p.write_bytes(t as u8, n) };
                    live.push_back((p, layout));
                    if live.len() > 16 {
                        let (q, l) = live.pop_front().unwrap();
                        // SAFETY: ours, filled with `t`, freed once.
                        unsafe {
                            let data = std::slice::from_raw_parts(q, l.size());
                            assert!(
                                data.iter().all(|&b| b == t as u8),
                                "another thread wrote here"
                            );
                            HEAP.dealloc(q, l);
                        }
                    }
                }
                for (q, l) in live {
                    // SAFETY: ours, freed once.
                    unsafe { HEAP.dealloc(q, l) };
                }
                tx.send(()).unwrap();
            });
        }
        drop(tx); // if every thread dies, `recv_timeout` fails at once
        let start = std::time::Instant::now();
        for _ in 0..threads {
            rx.recv_timeout(PATIENCE.saturating_sub(start.elapsed()))
                .expect(
                    "with more threads than cores the heap did not finish in time: is the lock \
                 released, does a waiting thread yield? Or a thread panicked",
                );
        }
        HEAP.check()
            .expect("the heap's invariants hold after the threads");
    }
}
