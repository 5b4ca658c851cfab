//! # A heap: first-fit allocation with splitting, free with coalescing
//!
//! [`Heap`] owns one region of memory (taken from `std::alloc` with [`MAX_ALIGN`] alignment,
//! or lent to it with [`Heap::from_raw_parts`]) and manages it with the [`FreeList`] of the
//! last stage. At first the region is one free block. Then:
//!
//! - [`Heap::alloc`] walks the free blocks in address order, asks [`place`] where the request
//!   would go in each, and lets a [`Strategy`] pick one of the blocks that fit; [`FirstFit`]
//!   takes the first. The chosen block is *split*: the front padding (if any) stays on the
//!   list where the block was, the middle is handed out, the back padding (if any) becomes a
//!   new free block right after it. A block whose split would leave a *splinter* (see
//!   [`SPLINTER`]) is the last resort. Out of memory is `None`, never a panic.
//! - [`Heap::free`] hands the block back to the list, which merges it with its neighbours.
//!   The caller passes the same [`Layout`] it allocated with, so the heap can recompute the
//!   block's size with [`block_size`]: there is no per-block header. That is why `place`
//!   never hands out padding it could not get back.
//! - [`Heap::check`] runs the invariant walker; the tests call it after every operation, and
//!   after freeing everything the heap must be one free block again.
//!
//! The curriculum's example is a test here: `Heap::new(4096)`, allocate an `i32` and a
//! `String`, free the `i32`, and the next `i32` gets the freed block back, at the same address.
//!
//! Provenance: every pointer the heap writes through or hands out comes from the region's
//! base pointer, never from an integer (`-Zmiri-strict-provenance`); the region is aligned to
//! `MAX_ALIGN` so that `-Zmiri-symbolic-alignment-check` trusts every aligned address in it.
//! The pointer `free` is given is the program's, and reaches only the block it was handed (a
//! `Box<[u8; 24]>` gives back a pointer to its 24 bytes): once that block merges with a free
//! neighbour, a node kept through it is written past its end at the next split. What `free`
//! links into the list must be the region's own pointer to that address.
//!
//! Aliasing: a block handed out is the caller's alone until it is freed. If a split went wrong
//! by one node (the back padding linked 8 bytes too early), the heap's write of that node and
//! the program's `&mut [u8]` to its block would be two mutable accesses to the same bytes:
//! the borrow checker rejects that in safe Rust; here the invariant walker and Miri
//! (`attempting a read access using <TAG> ..., but that tag does not exist in the borrow
//! stack`) catch it. And `alloc` takes `&mut self`, so two threads cannot use one heap at
//! once (the last stage adds a lock). This does not compile:
//!
//! ```compile_fail,E0499
//! use allocator::s03_heap::Heap;
//! use std::alloc::Layout;
//!
//! let mut heap = Heap::new(4096).unwrap();
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         heap.alloc(Layout::new::<u64>());
//!     });
//!     s.spawn(|| {
//!         heap.alloc(Layout::new::<u64>()); // a second `&mut heap`, at the same time
//!     });
//! });
//! ```
//!
//! Afterwards you can split and merge blocks through raw pointers while keeping every
//! invariant by hand, and say whose pointer the heap may write through, and why.
//!
//! Read: CS:APP chapter 9.9 (placement, splitting, coalescing); the Rustonomicon on
//! allocating memory: <https://doc.rust-lang.org/nomicon/vec/vec-alloc.html>; Rust for
//! Rustaceans, chapter 9 ("Unsafe Code"), on `// SAFETY:` comments.

use crate::s01_layout::{
    BLOCK_ALIGN, MAX_ALIGN, MIN_BLOCK, Placement, align_up, block_size, place,
};
use crate::s02_free_list::{FreeList, FreeNode, FreeStats};
use std::alloc::Layout;
use std::ptr::NonNull;

/// A free block that can serve a request, and where in it the request would go.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    /// The node before `node` in the list, `None` if `node` is the head.
    pub(crate) prev: Option<NonNull<FreeNode>>,
    pub(crate) node: NonNull<FreeNode>,
    pub(crate) block_len: usize,
    pub(crate) placement: Placement,
}

impl Candidate {
    /// The address of the free block.
    pub fn block_addr(&self) -> usize {
        self.node.as_ptr().addr()
    }

    /// The size of the free block.
    pub fn block_len(&self) -> usize {
        self.block_len
    }

    /// Where the request would go in the block.
    pub fn placement(&self) -> Placement {
        self.placement
    }
}

/// Back padding shorter than this and shorter than the request is a splinter: a free block
/// too small to be useful. Splinters pile up at the front of an address-ordered list, where
/// every later `alloc` and `free` has to step over them, so the blocks that would leave one
/// are not offered to the strategy unless no other block fits; then the first of them is,
/// rather than running out of memory. An exact fit (no back padding) is never a splinter, and
/// neither is back padding of `SPLINTER` bytes or of the request's own size.
pub const SPLINTER: usize = 4 * MIN_BLOCK;

/// Picks the free block a request is served from.
pub trait Strategy {
    /// Chooses one of `candidates`: the free blocks that can serve the request without leaving
    /// a splinter, in address order, or, if there are none, the first block that can serve it
    /// at all. The iterator is lazy, so a strategy that stops early walks less of the list.
    fn choose<I: Iterator<Item = Candidate>>(&mut self, candidates: I) -> Option<Candidate>;
}

/// The first block, in address order, that fits.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstFit;

impl Strategy for FirstFit {
    fn choose<I: Iterator<Item = Candidate>>(&mut self, mut candidates: I) -> Option<Candidate> {
        candidates.next()
    }
}

/// A region of memory managed by an address-ordered, coalescing free list.
///
/// Invariant: `list` holds exactly the free blocks of `[base, base + size)`; every other byte
/// of the region belongs to exactly one live allocation.
#[derive(Debug)]
pub struct Heap<S = FirstFit> {
    pub(crate) base: NonNull<u8>,
    pub(crate) size: usize,
    /// Whether the region came from `std::alloc` in `with_strategy` and is freed on drop.
    pub(crate) owned: bool,
    pub(crate) list: FreeList,
    pub(crate) strategy: S,
}

// SAFETY: the heap owns its region (or has exclusive use of a lent one) and all pointers into
// it; nothing in it is tied to a thread.
unsafe impl<S: Send> Send for Heap<S> {}

impl Heap<FirstFit> {
    /// A first-fit heap of `size` bytes (rounded down to a multiple of `BLOCK_ALIGN`), or
    /// `None` if that is too small to hold one free-list node or the memory is not available.
    pub fn new(size: usize) -> Option<Self> {
        Self::with_strategy(size, FirstFit)
    }
}

impl<S: Strategy> Heap<S> {
    /// A heap of `size` bytes using `strategy`; see [`Heap::new`].
    pub fn with_strategy(size: usize, strategy: S) -> Option<Self> {
        let size = size & !(BLOCK_ALIGN - 1);
        if size < MIN_BLOCK {
            return None;
        }
        let layout = Layout::from_size_align(size, MAX_ALIGN).ok()?;
        // SAFETY: `layout` has a non-zero size.
        let base = NonNull::new(unsafe { std::alloc::alloc(layout) })?;
        // SAFETY: the region is ours, `size` bytes, aligned to MAX_ALIGN.
        let mut heap = unsafe { Self::init(base, size, strategy) };
        heap.owned = true;
        Some(heap)
    }

    /// A heap managing `size` bytes at `base`, which it will not free. `None` if, after
    /// aligning the start to `BLOCK_ALIGN`, less than one free-list node fits; in that case
    /// nothing is written.
    ///
    /// # Safety
    ///
    /// `[base, base + size)` must be valid for reads and writes for as long as the heap and
    /// any block it hands out are used, and nothing else may access it meanwhile.
    pub unsafe fn from_raw_parts(base: NonNull<u8>, size: usize, strategy: S) -> Option<Self> {
        let addr = base.as_ptr().addr();
        let skip = align_up(addr, BLOCK_ALIGN)? - addr;
        let size = size.checked_sub(skip)? & !(BLOCK_ALIGN - 1);
        if size < MIN_BLOCK {
            return None;
        }
        // SAFETY: `skip < size` of the caller's region, so the new base is inside it; the rest
        // is the caller's promise.
        Some(unsafe { Self::init(base.add(skip), size, strategy) })
    }

    /// # Safety
    /// `base` aligned to `BLOCK_ALIGN`, `size >= MIN_BLOCK` a multiple of it, the region ours.
    unsafe fn init(base: NonNull<u8>, size: usize, strategy: S) -> Self {
        let mut list = FreeList::new();
        // SAFETY: the whole region is one free block, valid and unused (the caller's promise).
        unsafe { list.insert(base, size) };
        Heap {
            base,
            size,
            owned: false,
            list,
            strategy,
        }
    }

    /// The number of bytes the heap manages.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A block of `block_size(layout)` bytes aligned to `layout.align()`, or `None` if no
    /// free block can serve it (out of memory, or an alignment above `MAX_ALIGN`).
    ///
    /// Zero-sized requests get a real `MIN_BLOCK` block with an address of their own.
    pub fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let candidates = Candidates {
            prev: None,
            cur: self.list.head,
            layout,
            need: block_size(layout)?,
            splintering: None,
            offered: false,
        };
        let chosen = self.strategy.choose(candidates)?;
        // SAFETY: `chosen` was made from the current list, which has not changed since.
        Some(unsafe { self.take(chosen) })
    }

    /// Unlinks the candidate's block, puts its front and back padding back on the list, and
    /// returns the address handed out.
    ///
    /// # Safety
    /// `c` must describe a block of the current list, with its current predecessor.
    pub(crate) unsafe fn take(&mut self, c: Candidate) -> NonNull<u8> {
        let Placement {
            front, size, back, ..
        } = c.placement;
        let node = c.node;
        // SAFETY: `node` is a node of the list; all pointers below stay inside its block and
        // are derived from it. The padding pieces cannot touch the neighbours of the block:
        // the list never holds two touching blocks, so the block's neighbours are in use.
        unsafe {
            let mut link = (*node.as_ptr()).next;
            if back > 0 {
                let back_node = node.cast::<u8>().add(front + size).cast::<FreeNode>();
                back_node.as_ptr().write(FreeNode {
                    size: back,
                    next: link,
                });
                link = Some(back_node);
            }
            if front > 0 {
                (*node.as_ptr()).size = front;
                (*node.as_ptr()).next = link;
                link = Some(node);
            }
            match c.prev {
                Some(p) => (*p.as_ptr()).next = link,
                None => self.list.head = link,
            }
            node.cast::<u8>().add(front)
        }
    }

    /// Gives the block at `ptr` back to the heap.
    ///
    /// # Safety
    ///
    /// `ptr` must have been returned by `alloc` (or `realloc`) on this heap with this
    /// `layout`, and not freed since; the caller must not use the block afterwards.
    pub unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout) {
        // A layout that was allocated has a block size; anything else breaks the contract.
        let Some(size) = block_size(layout) else {
            return;
        };
        // The program's pointer may reach only the block it was given; once the block merges
        // with a neighbour, its node must reach further. Use the region's pointer instead.
        let block = self.base.with_addr(ptr.addr());
        // SAFETY: the block came from this heap (the caller's promise), so it is aligned, at
        // least MIN_BLOCK long, inside the region (whose provenance `block` has) and no longer
        // in use.
        unsafe { self.list.insert(block, size) };
    }

    /// Runs the invariant walker over the region.
    pub fn check(&self) -> Result<FreeStats, String> {
        let start = self.base.as_ptr().addr();
        self.list.check(start, start + self.size)
    }
}

impl<S> Drop for Heap<S> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: allocated in `with_strategy` with exactly this layout.
            unsafe {
                let layout = Layout::from_size_align_unchecked(self.size, MAX_ALIGN);
                std::alloc::dealloc(self.base.as_ptr(), layout);
            }
        }
    }
}

/// The free blocks that can serve `layout` without leaving a splinter, in address order; if
/// there are none, the first block that can serve it at all.
struct Candidates {
    prev: Option<NonNull<FreeNode>>,
    cur: Option<NonNull<FreeNode>>,
    layout: Layout,
    /// `block_size(layout)`: blocks shorter than this are skipped without calling `place`.
    need: usize,
    /// The first block that fits but would leave a splinter, the last resort.
    splintering: Option<Candidate>,
    /// Whether a block that leaves no splinter has been yielded.
    offered: bool,
}

/// Whether `p` would leave back padding shorter than both the request and `SPLINTER`.
fn leaves_splinter(p: &Placement) -> bool {
    p.back != 0 && p.back < p.size.min(SPLINTER)
}

impl Iterator for Candidates {
    type Item = Candidate;

    fn next(&mut self) -> Option<Candidate> {
        while let Some(node) = self.cur {
            // SAFETY: nodes of the list are valid free blocks; the list does not change while
            // `alloc` iterates (it holds `&mut self`).
            let (block_len, next) = unsafe { ((*node.as_ptr()).size, (*node.as_ptr()).next) };
            let prev = self.prev;
            self.prev = Some(node);
            self.cur = next;
            if block_len < self.need {
                continue;
            }
            if let Some(placement) = place(node.as_ptr().addr(), block_len, self.layout) {
                let candidate = Candidate {
                    prev,
                    node,
                    block_len,
                    placement,
                };
                if !leaves_splinter(&placement) {
                    self.offered = true;
                    return Some(candidate);
                }
                self.splintering.get_or_insert(candidate);
            }
        }
        if self.offered {
            None
        } else {
            self.splintering.take()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Rng, bytes, checked, handed_back};

    fn whole(size: usize) -> FreeStats {
        FreeStats {
            free_bytes: size,
            largest: size,
            blocks: 1,
        }
    }

    fn offset<S>(heap: &Heap<S>, p: NonNull<u8>) -> usize {
        p.as_ptr().addr() - heap.base.as_ptr().addr()
    }

    #[test]
    fn a_freed_block_is_reused_at_the_same_address() {
        // The curriculum's example.
        let mut heap = Heap::new(4096).expect("a 4096-byte heap");
        let a = heap.alloc(Layout::new::<i32>()).expect("room for an i32");
        let b = heap
            .alloc(Layout::new::<String>())
            .expect("room for a String");
        // SAFETY: fresh, aligned blocks of the right size.
        unsafe {
            a.cast::<i32>().write(42);
            b.cast::<String>().write(String::from("hello"));
            assert_eq!(a.cast::<i32>().read(), 42);
            assert_eq!(*b.cast::<String>().as_ref(), "hello");
            heap.free(a, Layout::new::<i32>());
        }
        checked(&heap);
        let c = heap.alloc(Layout::new::<i32>()).unwrap();
        assert_eq!(c, a, "first fit must hand the freed i32 block out again");
        // SAFETY: `b` holds a String written above; `c` is live.
        unsafe {
            assert_eq!(*b.cast::<String>().as_ref(), "hello", "the String survived");
            b.cast::<String>().drop_in_place();
            heap.free(b, Layout::new::<String>());
            heap.free(c, Layout::new::<i32>());
        }
        assert_eq!(checked(&heap), whole(4096));
    }

    #[test]
    fn a_fresh_heap_is_one_free_block_of_the_whole_size() {
        let heap = Heap::new(1000).unwrap();
        assert_eq!(heap.size(), 1000);
        assert_eq!(checked(&heap), whole(1000));
        let heap = Heap::new(1001).unwrap();
        assert_eq!(heap.size(), 1000, "the size is rounded down to BLOCK_ALIGN");
    }

    #[test]
    fn a_heap_too_small_for_a_node_is_refused() {
        for size in [0, 1, 8, MIN_BLOCK - 1] {
            assert!(
                Heap::new(size).is_none(),
                "a {size}-byte heap cannot hold its own free-list node"
            );
        }
        let mut heap = Heap::new(MIN_BLOCK).expect("exactly one node fits");
        assert_eq!(checked(&heap), whole(MIN_BLOCK));
        assert!(heap.alloc(Layout::new::<u8>()).is_some());
    }

    #[test]
    fn lent_memory_too_small_for_a_node_is_not_written() {
        // Eight bytes: writing a 16-byte node here is out of bounds, which Miri reports.
        let mut word = Box::new(0u64);
        let base = NonNull::from(&mut *word).cast::<u8>();
        // SAFETY: the box outlives the (refused) heap and is not touched meanwhile.
        let heap = unsafe { Heap::from_raw_parts(base, 8, FirstFit) };
        assert!(heap.is_none(), "8 bytes cannot hold a node");
        assert_eq!(*word, 0, "a refused heap must not write anything");
    }

    #[test]
    fn lent_memory_is_managed_but_not_freed() {
        let mut words = vec![0u64; 64];
        let base = NonNull::new(words.as_mut_ptr()).unwrap().cast::<u8>();
        // SAFETY: `words` outlives the heap and is not touched while the heap lives.
        let mut heap = unsafe { Heap::from_raw_parts(base, 512, FirstFit) }.unwrap();
        assert_eq!(checked(&heap), whole(512));
        let p = heap.alloc(Layout::new::<[u64; 4]>()).unwrap();
        assert_eq!(p, base, "the first block starts at the lent memory");
        // SAFETY: allocated above.
        unsafe { heap.free(p, Layout::new::<[u64; 4]>()) };
        drop(heap);
        words[63] = 1; // still ours: dropping the heap did not free it
    }

    #[test]
    fn out_of_memory_returns_none_and_keeps_the_heap_intact() {
        let mut heap = Heap::new(1024).unwrap();
        assert!(
            heap.alloc(Layout::from_size_align(1025, 8).unwrap())
                .is_none()
        );
        assert!(
            heap.alloc(Layout::from_size_align(isize::MAX as usize, 1).unwrap())
                .is_none()
        );
        let mut blocks = Vec::new();
        while let Some(p) = heap.alloc(Layout::new::<[u8; 16]>()) {
            blocks.push(p);
        }
        assert_eq!(blocks.len(), 1024 / 16, "every byte of the heap is usable");
        assert_eq!(checked(&heap).free_bytes, 0);
        for p in blocks {
            // SAFETY: allocated above with this layout.
            unsafe { heap.free(p, Layout::new::<[u8; 16]>()) };
            checked(&heap);
        }
        assert_eq!(checked(&heap), whole(1024));
    }

    #[test]
    fn first_fit_takes_the_lowest_block_that_fits() {
        let mut heap = Heap::new(4096).unwrap();
        let l = Layout::from_size_align(64, 8).unwrap();
        let p: Vec<_> = (0..4).map(|_| heap.alloc(l).unwrap()).collect();
        // SAFETY: allocated above.
        unsafe {
            heap.free(p[0], l);
            heap.free(p[2], l);
        }
        assert_eq!(checked(&heap).blocks, 3, "two holes and the tail");
        let q = heap.alloc(Layout::from_size_align(32, 8).unwrap()).unwrap();
        assert_eq!(q, p[0], "the lowest hole comes first");
        let r = heap.alloc(l).unwrap();
        assert_eq!(r, p[2], "the 32 bytes left of the first hole are too small");
    }

    #[test]
    fn splitting_keeps_the_rest_of_the_block_free() {
        let mut heap = Heap::new(4096).unwrap();
        let p = heap.alloc(Layout::new::<[u8; 100]>()).unwrap();
        assert_eq!(offset(&heap, p), 0);
        let stats = checked(&heap);
        assert_eq!(
            stats,
            FreeStats {
                free_bytes: 4096 - 104,
                largest: 4096 - 104,
                blocks: 1
            },
            "100 bytes take a 104-byte block; the rest stays one free block"
        );
    }

    #[test]
    fn back_padding_too_small_for_a_node_is_never_handed_out() {
        // 40 bytes: a 32-byte request would leave 8 bytes nobody could ever free.
        let mut heap = Heap::new(40).unwrap();
        assert!(heap.alloc(Layout::new::<[u8; 32]>()).is_none());
        let p = heap.alloc(Layout::new::<[u8; 24]>()).expect("24 + 16 fits");
        assert_eq!(checked(&heap).free_bytes, 16);
        // SAFETY: allocated above.
        unsafe { heap.free(p, Layout::new::<[u8; 24]>()) };
        assert_eq!(checked(&heap), whole(40), "all 40 bytes came back");
    }

    #[test]
    fn check_rejects_a_free_block_outside_the_heap() {
        let a = Heap::new(4096).unwrap();
        let b = Heap::new(4096).unwrap();
        let (mut low, high) = if a.base < b.base { (a, b) } else { (b, a) };
        // Corrupt the lower heap's list: its head becomes the higher heap's free block.
        let own = low.list.head.replace(high.list.head.unwrap());
        assert!(
            low.check().is_err(),
            "a free block past the end of the heap must be reported: check the list against \
             [base, base + size)"
        );
        low.list.head = own;
        assert_eq!(checked(&low), whole(4096));
    }

    #[test]
    fn a_block_that_would_leave_a_splinter_is_the_last_resort() {
        let mut heap = Heap::new(4096).unwrap();
        let hole = Layout::from_size_align(64, 8).unwrap();
        let a = heap.alloc(hole).unwrap();
        let b = heap.alloc(Layout::new::<u64>()).unwrap();
        // SAFETY: allocated above.
        unsafe { heap.free(a, hole) };
        let l48 = Layout::from_size_align(48, 8).unwrap();
        let p = heap.alloc(l48).unwrap();
        assert_eq!(
            offset(&heap, p),
            80,
            "48 bytes from the 64-byte hole would leave a 16-byte splinter"
        );
        let l32 = Layout::from_size_align(32, 8).unwrap();
        let q = heap.alloc(l32).unwrap();
        assert_eq!(
            offset(&heap, q),
            0,
            "32 bytes leave 32, as many as the request: not a splinter"
        );
        // SAFETY: all allocated above.
        unsafe {
            heap.free(p, l48);
            heap.free(q, l32);
            heap.free(b, Layout::new::<u64>());
        }
        assert_eq!(checked(&heap), whole(4096));

        let hole = Layout::from_size_align(128, 8).unwrap();
        let a = heap.alloc(hole).unwrap();
        let b = heap.alloc(Layout::new::<u64>()).unwrap();
        // SAFETY: allocated above.
        unsafe { heap.free(a, hole) };
        let l96 = Layout::from_size_align(96, 8).unwrap();
        let p = heap.alloc(l96).unwrap();
        assert_eq!(
            offset(&heap, p),
            144,
            "96 bytes from the 128-byte hole would leave 32, shorter than the request and than \
             SPLINTER ({SPLINTER}): a splinter"
        );
        // SAFETY: all allocated above.
        unsafe {
            heap.free(p, l96);
            heap.free(b, Layout::new::<u64>());
        }
        assert_eq!(checked(&heap), whole(4096));

        let mut small = Heap::new(64).unwrap();
        let r = small
            .alloc(l48)
            .expect("the only block that fits serves the request, splinter or not");
        assert_eq!(offset(&small, r), 0);
        assert_eq!(checked(&small).free_bytes, 16);
    }

    #[test]
    fn front_padding_from_alignment_goes_back_on_the_list() {
        let mut heap = Heap::new(3 * 4096).unwrap();
        let small = heap.alloc(Layout::new::<u64>()).unwrap();
        let page = Layout::from_size_align(64, 4096).unwrap();
        let p = heap.alloc(page).unwrap();
        assert_eq!(p.as_ptr().addr() % 4096, 0, "a page-aligned request");
        assert_eq!(offset(&heap, p), 4096);
        assert_eq!(
            checked(&heap),
            FreeStats {
                free_bytes: 3 * 4096 - 16 - 64,
                largest: 2 * 4096 - 64,
                blocks: 2
            },
            "the 4080 bytes skipped for alignment must stay free, not leak"
        );
        let q = heap.alloc(Layout::new::<[u8; 4000]>()).unwrap();
        assert_eq!(
            offset(&heap, q),
            16,
            "the front padding serves the next request"
        );
        // SAFETY: all allocated above.
        unsafe {
            heap.free(p, page);
            heap.free(small, Layout::new::<u64>());
            heap.free(q, Layout::new::<[u8; 4000]>());
        }
        assert_eq!(checked(&heap), whole(3 * 4096));
    }

    #[test]
    fn every_alignment_up_to_4096_is_honoured() {
        let mut heap = Heap::new(64 * 1024).unwrap();
        let mut live = Vec::new();
        for shift in 0..=12 {
            for size in [1, 24, 100] {
                let layout = Layout::from_size_align(size, 1 << shift).unwrap();
                let p = heap.alloc(layout).expect("room left");
                assert_eq!(
                    p.as_ptr().addr() % (1 << shift),
                    0,
                    "alignment {} not honoured",
                    1 << shift
                );
                checked(&heap);
                live.push((p, layout));
            }
        }
        for (p, layout) in live {
            // SAFETY: allocated above.
            unsafe { heap.free(p, layout) };
            checked(&heap);
        }
        assert_eq!(checked(&heap), whole(64 * 1024));
    }

    #[test]
    fn alignments_above_4096_are_refused() {
        let mut heap = Heap::new(64 * 1024).unwrap();
        assert!(
            heap.alloc(Layout::from_size_align(8, 8192).unwrap())
                .is_none()
        );
        assert_eq!(checked(&heap), whole(64 * 1024));
    }

    #[test]
    fn zero_sized_requests_get_distinct_blocks() {
        let mut heap = Heap::new(256).unwrap();
        let zst = Layout::new::<()>();
        let a = heap.alloc(zst).unwrap();
        let b = heap.alloc(zst).unwrap();
        assert_ne!(a, b, "two live allocations never share an address");
        assert_eq!(checked(&heap).free_bytes, 256 - 2 * MIN_BLOCK);
        // SAFETY: allocated above.
        unsafe {
            heap.free(a, zst);
            heap.free(b, zst);
        }
        assert_eq!(checked(&heap), whole(256));
    }

    #[test]
    fn random_allocations_never_overlap_and_all_come_back() {
        let steps = if cfg!(miri) { 150 } else { 4000 };
        let size = 32 * 1024;
        let mut heap = Heap::new(size).unwrap();
        let mut rng = Rng(0x5EED);
        let mut live: Vec<(NonNull<u8>, Layout, u8)> = Vec::new();
        for step in 0..steps {
            if live.is_empty() || rng.below(5) < 3 {
                let layout = Layout::from_size_align(rng.below(300), 1 << rng.below(7)).unwrap();
                let Some(p) = heap.alloc(layout) else {
                    continue;
                };
                let tag = step as u8;
                // SAFETY: a fresh block of at least `layout.size()` bytes.
                unsafe { p.as_ptr().write_bytes(tag, layout.size()) };
                live.push((p, layout, tag));
            } else {
                let (p, layout, tag) = live.swap_remove(rng.below(live.len()));
                // SAFETY: a live block, filled with `tag` when it was allocated.
                let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), layout.size()) };
                assert!(
                    bytes.iter().all(|&b| b == tag),
                    "step {step}: a block was overwritten while it was live"
                );
                // SAFETY: allocated with `layout`, freed once.
                unsafe { heap.free(p, layout) };
            }
            let stats = checked(&heap);
            let used: usize = live.iter().map(|&(_, l, _)| block_size(l).unwrap()).sum();
            assert_eq!(
                stats.free_bytes + used,
                size,
                "step {step}: bytes went missing"
            );
        }
        while let Some((p, layout, _)) = live.pop() {
            // SAFETY: allocated with `layout`, freed once.
            unsafe { heap.free(p, layout) };
        }
        assert_eq!(checked(&heap), whole(size));
    }

    // The next two tests free blocks the way a program does: through a pointer made from its
    // own unique reference to the block (a `Box`, a `&mut [u8]`), which is allowed to touch
    // those bytes and no others. Under Miri, "attempting a write access using <TAG> ..., but
    // that tag does not exist in the borrow stack for this location", where <TAG> "was created
    // by a SharedReadWrite retag at offsets [0x0..0x18]" in `handed_back` (the program's 24
    // bytes), means the heap kept that pointer as a node of its list, then wrote through it
    // past the block's end or handed it out for a bigger block: `free` must insert a pointer
    // of the heap's own region at that address (see "Provenance" in the header).

    #[test]
    fn a_block_freed_through_the_programs_pointer_merges_and_splits() {
        let mut heap = Heap::new(1024).unwrap();
        let a = heap.alloc(bytes(24)).unwrap();
        // SAFETY: `a` is live with this layout; the program's pointer to it is freed once.
        unsafe { heap.free(handed_back(a, 24), bytes(24)) };
        assert_eq!(
            checked(&heap),
            whole(1024),
            "the freed block merges with the free rest of the heap"
        );
        // First fit splits the merged block: the back padding's node goes at offset 16, which
        // the program's pointer to the old 24-byte block does not cover.
        let b = heap.alloc(bytes(16)).unwrap();
        let c = heap.alloc(bytes(64)).unwrap();
        assert_eq!((offset(&heap, b), offset(&heap, c)), (0, 16));
        // SAFETY: `c` is a live block of 64 bytes.
        unsafe { c.as_ptr().write_bytes(7, 64) };
        // SAFETY: both live with these layouts, freed once.
        unsafe {
            heap.free(handed_back(c, 64), bytes(64));
            heap.free(handed_back(b, 16), bytes(16));
        }
        assert_eq!(checked(&heap), whole(1024));
    }

    #[test]
    fn blocks_freed_through_the_programs_pointers_coalesce_into_one_usable_block() {
        let mut heap = Heap::new(4096).unwrap();
        let l24 = bytes(24);
        let [a, b, c, guard] = [(); 4].map(|_| heap.alloc(l24).unwrap());
        // SAFETY: all live with `l24`, each freed once, through the program's own pointer.
        unsafe {
            heap.free(handed_back(c, 24), l24);
            heap.free(handed_back(a, 24), l24);
            heap.free(handed_back(b, 24), l24); // joins both neighbours: one 72-byte block
        }
        let stats = checked(&heap);
        assert_eq!(
            (stats.blocks, stats.largest),
            (2, 4096 - 96),
            "the three freed blocks are one, before the guard; the tail is the other"
        );
        let whole_hole = Layout::from_size_align(72, 8).unwrap();
        let p = heap.alloc(whole_hole).unwrap();
        assert_eq!(p, a, "an exact fit: the merged block");
        // The program uses all 72 bytes of its new block, across the three old ones.
        // SAFETY: `p` is a live block of 72 bytes.
        unsafe { p.as_ptr().write_bytes(9, 72) };
        // SAFETY: both live with these layouts, freed once.
        unsafe {
            heap.free(handed_back(p, 72), whole_hole);
            heap.free(handed_back(guard, 24), l24);
        }
        assert_eq!(checked(&heap), whole(4096));
    }

    #[test]
    fn a_heap_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Heap>();
        let mut heap = Heap::new(1024).unwrap();
        let p = heap.alloc(Layout::new::<u64>()).unwrap().as_ptr().addr();
        let heap = std::thread::spawn(move || {
            assert!(heap.alloc(Layout::new::<u64>()).is_some());
            heap
        })
        .join()
        .unwrap();
        assert_eq!(heap.check().unwrap().free_bytes, 1024 - 32);
        assert_ne!(p, 0);
    }
}
