//! # Growth: a list of chunks
//!
//! A fixed capacity is rarely known up front. [`Bump`] starts small (or empty) and, when the
//! current chunk cannot hold a request, allocates a new chunk and bumps in that one. This is
//! bumpalo's design:
//!
//! - each new chunk is at least double the previous one (so a million allocations need only
//!   about twenty chunks) and at least large enough for the request, aligned for it;
//! - old chunks are never moved or freed while the arena lives, so every reference into them
//!   stays valid; the rest of an old chunk is simply abandoned;
//! - `allocated_bytes` counts the bytes of every chunk, and an optional allocation limit makes
//!   requests fail (`None`) rather than grow past it;
//! - `reset(&mut self)` frees every chunk but the largest (the last) and rewinds into it, so a
//!   loop of "fill, reset" settles on one chunk and stops calling the system allocator.
//!
//! The hot path must stay tiny, because this is what the benchmark measures against bumpalo:
//! keep the bump pointer itself (derived from the chunk's base pointer, as in the first stage)
//! and the end address of the current chunk in `Cell`s, compute the aligned address, compare
//! with the end, store. Everything else (a new chunk, the limit, the chunk list in a
//! `RefCell`) goes in a separate `#[cold]` function.
//!
//! Watch the arithmetic: `addr + align - 1` and `aligned + size` can overflow for absurd
//! layouts, a new chunk's size can overflow when doubled, and `Layout::from_size_align` refuses
//! sizes past `isize::MAX`: each of these is `None`, never a panic or a wrap-around. When
//! `std::alloc::alloc` returns null, `try_alloc_layout` returns `None` too.
//!
//! `try_alloc`, `alloc`, `alloc_slice_copy` and `alloc_str` are written: they are the first
//! stages' methods on top of this stage's `try_alloc_layout`.
//!
//! Afterwards you can manage several raw allocations with one owner, keep a fast path fast,
//! and explain why references into old chunks survive growth (nothing ever moves).
//!
//! Read: "Always Bump Downwards" (<https://fitzgeraldnick.com/2019/11/01/always-bump-downwards.html>);
//! bumpalo's `Bump` docs, on chunks, `allocated_bytes` and `set_allocation_limit`
//! (<https://docs.rs/bumpalo/latest/bumpalo/struct.Bump.html>); CS:APP chapter 9.9.

use std::alloc::{self, Layout};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use crate::s01_chunk::{dangling, full};

/// The size of the first chunk when none was asked for.
pub const MIN_CHUNK_SIZE: usize = 512;

/// The minimum alignment of a chunk (requests with a larger alignment get a chunk aligned for
/// them).
pub const CHUNK_ALIGN: usize = 16;

/// One block obtained from the global allocator.
struct Chunk {
    start: NonNull<u8>,
    layout: Layout,
}

/// A growable bump arena: a list of chunks, bumping upwards in the last one.
///
/// Invariants:
/// - `chunks` owns every chunk, oldest first, each allocated with its `layout`;
/// - if there is a chunk, `ptr` lies in the last chunk (or one past its end) and is derived
///   from that chunk's `start`, and `end` is the address one past that chunk; if there is none,
///   `ptr` is dangling and `end` is 0, so every non-zero request takes the slow path;
/// - `allocated` is the sum of the chunks' sizes and never exceeds `limit` (when set) because
///   of a new chunk;
/// - chunk memory is only accessed through pointers derived from the chunks' `start`.
pub struct Bump {
    ptr: Cell<NonNull<u8>>,
    end: Cell<usize>,
    chunks: RefCell<Vec<Chunk>>,
    allocated: Cell<usize>,
    limit: Cell<Option<usize>>,
}

// SAFETY: as for `Arena`: the chunks are owned, nothing in them is reachable without borrowing
// the arena, and values in them are never read or dropped as their type again. `Cell` keeps
// `Bump` `!Sync`.
unsafe impl Send for Bump {}

impl Default for Bump {
    fn default() -> Self {
        Bump::new()
    }
}

impl Bump {
    /// An arena with no chunk yet: the first allocation allocates one.
    pub fn new() -> Bump {
        Bump {
            ptr: Cell::new(NonNull::dangling()),
            end: Cell::new(0),
            chunks: RefCell::new(Vec::new()),
            allocated: Cell::new(0),
            limit: Cell::new(None),
        }
    }

    /// An arena whose first chunk holds at least `capacity` bytes (none for 0).
    ///
    /// # Panics
    /// If that chunk cannot be allocated.
    pub fn with_capacity(capacity: usize) -> Bump {
        let bump = Bump::new();
        if capacity > 0 {
            let layout =
                Layout::from_size_align(capacity, CHUNK_ALIGN).expect("capacity too large");
            bump.new_chunk(layout, 0)
                .unwrap_or_else(|| alloc::handle_alloc_error(layout));
        }
        bump
    }

    /// Reserves room for `layout`, growing if needed, or returns `None` if the size overflows,
    /// the allocation limit forbids a new chunk, or the system is out of memory.
    ///
    /// The pointer is aligned, valid for writes of `layout.size()` bytes, and never returned
    /// again. Zero-sized layouts always succeed and never allocate a chunk.
    #[inline]
    pub fn try_alloc_layout(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() == 0 {
            return Some(dangling(layout.align()));
        }
        let ptr = self.ptr.get();
        let addr = ptr.addr().get();
        let aligned = addr.wrapping_add(layout.align() - 1) & !(layout.align() - 1);
        let end = self.end.get();
        if aligned >= addr && aligned <= end && end - aligned >= layout.size() {
            // SAFETY: `addr <= aligned` and `aligned + size <= end`, so both pointers stay in
            // the current chunk (or one past it), derived from `ptr` and thus from its start.
            unsafe {
                let result = ptr.add(aligned - addr);
                self.ptr.set(result.add(layout.size()));
                return Some(result);
            }
        }
        self.alloc_slow(layout)
    }

    /// The slow path: a new chunk, at least double the last one and large enough for `layout`.
    #[cold]
    #[inline(never)]
    fn alloc_slow(&self, layout: Layout) -> Option<NonNull<u8>> {
        let last = self.chunks.borrow().last().map_or(0, |c| c.layout.size());
        let mut size = last
            .saturating_mul(2)
            .max(MIN_CHUNK_SIZE)
            .max(layout.size());
        if let Some(limit) = self.limit.get() {
            let room = limit.saturating_sub(self.allocated.get());
            if layout.size() > room {
                return None;
            }
            size = size.min(room);
        }
        let chunk_layout = Layout::from_size_align(size, layout.align().max(CHUNK_ALIGN)).ok()?;
        let start = self.new_chunk(chunk_layout, layout.size())?;
        Some(start)
    }

    /// Allocates a chunk with `chunk_layout`, makes it the current one with its first `used`
    /// bytes taken, and returns its start (or `None` if the system is out of memory).
    fn new_chunk(&self, chunk_layout: Layout, used: usize) -> Option<NonNull<u8>> {
        debug_assert!(used <= chunk_layout.size() && chunk_layout.size() > 0);
        // SAFETY: the layout has a non-zero size.
        let start = NonNull::new(unsafe { alloc::alloc(chunk_layout) })?;
        self.chunks.borrow_mut().push(Chunk {
            start,
            layout: chunk_layout,
        });
        self.allocated
            .set(self.allocated.get() + chunk_layout.size());
        self.end.set(start.addr().get() + chunk_layout.size());
        // SAFETY: `used <= size`, so this stays inside the new chunk (or one past it).
        self.ptr.set(unsafe { start.add(used) });
        Some(start)
    }

    /// Moves `value` into the arena, or returns `None` (dropping `value`) if it cannot.
    #[inline]
    pub fn try_alloc<T>(&self, value: T) -> Option<&mut T> {
        let ptr = self.try_alloc_layout(Layout::new::<T>())?.cast::<T>();
        // SAFETY: `ptr` is aligned, valid for a `T` and unique; chunks are freed only by
        // `reset` or `drop`, which need the arena unborrowed.
        unsafe {
            ptr.write(value);
            Some(&mut *ptr.as_ptr())
        }
    }

    /// Moves `value` into the arena.
    ///
    /// # Panics
    /// With "arena is full" if it cannot grow.
    #[inline]
    pub fn alloc<T>(&self, value: T) -> &mut T {
        match self.try_alloc(value) {
            Some(r) => r,
            None => full(Layout::new::<T>()),
        }
    }

    /// Copies `src` into the arena.
    ///
    /// # Panics
    /// With "arena is full" if it cannot grow.
    #[inline]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &mut [T] {
        let layout = Layout::for_value(src);
        let Some(ptr) = self.try_alloc_layout(layout) else {
            full(layout)
        };
        let ptr = ptr.cast::<T>();
        // SAFETY: `ptr` is valid for `src.len()` values of `T` and does not overlap `src`;
        // after the copy every element is initialised.
        unsafe {
            ptr.as_ptr()
                .copy_from_nonoverlapping(src.as_ptr(), src.len());
            std::slice::from_raw_parts_mut(ptr.as_ptr(), src.len())
        }
    }

    /// Copies `s` into the arena.
    ///
    /// # Panics
    /// With "arena is full" if it cannot grow.
    pub fn alloc_str(&self, s: &str) -> &mut str {
        let bytes = self.alloc_slice_copy(s.as_bytes());
        // SAFETY: an exact copy of a valid `str`.
        unsafe { std::str::from_utf8_unchecked_mut(bytes) }
    }

    /// Frees every chunk but the last (the largest) and rewinds into it. Destructors of the
    /// values in the arena do not run.
    ///
    /// Inline, like the fast path: a loop that fills and resets the arena settles on one chunk,
    /// and then a reset is three stores.
    #[inline]
    pub fn reset(&mut self) {
        let chunks = self.chunks.get_mut();
        if chunks.len() > 1 {
            free_all_but_last(chunks);
        }
        let Some(last) = chunks.last() else { return };
        self.ptr.set(last.start);
        self.end.set(last.start.addr().get() + last.layout.size());
        self.allocated.set(last.layout.size());
    }

    /// The total size of every chunk the arena holds (used or not).
    pub fn allocated_bytes(&self) -> usize {
        self.allocated.get()
    }

    /// The number of chunks the arena holds.
    pub fn chunk_count(&self) -> usize {
        self.chunks.borrow().len()
    }

    /// Limits `allocated_bytes`: a request that would need a chunk past the limit fails.
    /// `None` removes the limit. Chunks already allocated stay.
    pub fn set_allocation_limit(&self, limit: Option<usize>) {
        self.limit.set(limit);
    }

    /// The current allocation limit.
    pub fn allocation_limit(&self) -> Option<usize> {
        self.limit.get()
    }
}

/// Frees every chunk but the last one (the slow part of `reset`).
fn free_all_but_last(chunks: &mut Vec<Chunk>) {
    let last = chunks.len() - 1;
    for chunk in chunks.drain(..last) {
        // SAFETY: each chunk was allocated with its layout; `reset` takes `&mut self`, which
        // proves nothing borrows it any more.
        unsafe { alloc::dealloc(chunk.start.as_ptr(), chunk.layout) };
    }
}

impl Drop for Bump {
    fn drop(&mut self) {
        for chunk in self.chunks.get_mut().drain(..) {
            // SAFETY: each chunk was allocated with its layout and is freed once, here.
            unsafe { alloc::dealloc(chunk.start.as_ptr(), chunk.layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Align64, addr};

    /// Whether `size` bytes at `p` lie inside one of the arena's chunks.
    fn inside_a_chunk(bump: &Bump, p: NonNull<u8>, size: usize) -> bool {
        let p = p.addr().get();
        bump.chunks.borrow().iter().any(|chunk| {
            let start = chunk.start.addr().get();
            start <= p && p + size <= start + chunk.layout.size()
        })
    }

    /// Allocates `value` through `try_alloc_layout`, checking the room before writing to it: a
    /// write to a misaligned address or past the end of a chunk would abort the whole run.
    fn alloc_checked<T>(bump: &Bump, value: T) -> &mut T {
        let layout = Layout::new::<T>();
        let room = bump.try_alloc_layout(layout).expect("room for the value");
        assert_eq!(
            room.addr().get() % layout.align(),
            0,
            "a request aligned to {} got a misaligned address: align the address in the fast path, and give a new chunk the request's alignment (at least CHUNK_ALIGN)",
            layout.align()
        );
        assert!(
            inside_a_chunk(bump, room, layout.size()),
            "a {}-byte request was handed out past the end of its chunk: the fast path's bounds check must use the aligned address, padding included",
            layout.size()
        );
        let room = room.cast::<T>();
        // SAFETY (test): the arena reserved this aligned room inside a chunk, for us alone.
        unsafe {
            room.write(value);
            &mut *room.as_ptr()
        }
    }

    #[test]
    fn a_new_bump_allocates_nothing_until_used() {
        let bump = Bump::new();
        assert_eq!(bump.allocated_bytes(), 0);
        assert_eq!(bump.chunk_count(), 0);
        bump.alloc(());
        assert_eq!(
            bump.allocated_bytes(),
            0,
            "a zero-sized value must not allocate a chunk"
        );
        assert_eq!(*bump.alloc(5u8), 5);
        assert_eq!(bump.chunk_count(), 1);
        assert!(bump.allocated_bytes() >= 1);
        let empty = Bump::with_capacity(0);
        assert_eq!(
            (empty.chunk_count(), empty.allocated_bytes()),
            (0, 0),
            "with_capacity(0) must not allocate a chunk"
        );
    }

    #[test]
    fn with_capacity_allocates_one_chunk_that_is_used_first() {
        let bump = Bump::with_capacity(100);
        assert_eq!(bump.chunk_count(), 1);
        assert!(bump.allocated_bytes() >= 100);
        for i in 0..100u8 {
            bump.alloc(i);
        }
        assert_eq!(bump.chunk_count(), 1, "100 bytes fit in the first chunk");
    }

    #[test]
    fn references_into_old_chunks_stay_valid() {
        let bump = Bump::with_capacity(64);
        let n = if cfg!(miri) { 300 } else { 5_000 };
        let refs: Vec<&mut u64> = (0..n).map(|i| bump.alloc(i)).collect();
        assert!(bump.chunk_count() > 1, "{n} u64s cannot fit in 64 bytes");
        for (i, r) in refs.into_iter().enumerate() {
            assert_eq!(*r, i as u64, "allocation {i} was lost when the arena grew");
            *r = 0;
        }
    }

    #[test]
    fn each_new_chunk_at_least_doubles() {
        let bump = Bump::with_capacity(64);
        let mut sizes = vec![bump.allocated_bytes()];
        let n = if cfg!(miri) { 2_000 } else { 20_000 };
        for i in 0..n {
            let before = bump.allocated_bytes();
            bump.alloc(i as u32);
            let added = bump.allocated_bytes() - before;
            if added > 0 {
                sizes.push(added);
            }
        }
        assert!(
            sizes.len() >= 4,
            "the arena should have grown several times: {sizes:?}"
        );
        assert!(
            sizes.len() <= 12,
            "chunks must grow geometrically, not one small chunk at a time: {sizes:?}"
        );
        for pair in sizes.windows(2) {
            assert!(
                pair[1] >= 2 * pair[0],
                "chunk sizes must at least double: {sizes:?}"
            );
        }
        assert_eq!(bump.chunk_count(), sizes.len());
    }

    #[test]
    fn a_large_request_gets_a_chunk_that_fits() {
        let bump = Bump::with_capacity(16);
        let big = bump.alloc([7u8; 10_000]);
        assert_eq!(big[9_999], 7);
        assert!(bump.allocated_bytes() >= 16 + 10_000);
        let aligned = alloc_checked(&bump, Align64([1; 64]));
        assert_eq!(aligned.0[63], 1);
    }

    #[test]
    fn addresses_are_aligned_in_every_chunk() {
        let bump = Bump::with_capacity(80);
        for _ in 0..40 {
            bump.alloc(1u8);
            let x = alloc_checked(&bump, Align64([2; 64]));
            let y = alloc_checked(&bump, 3u128);
            assert_eq!(addr(y) % align_of::<u128>(), 0);
            assert_eq!(x.0[63], 2);
            assert_eq!(*y, 3);
        }
        assert!(bump.chunk_count() > 1);
    }

    #[test]
    fn a_new_chunk_is_aligned_for_the_request_that_needs_it() {
        // The first request of an empty arena always takes the slow path, so each of these
        // chunks is allocated for a 64-byte alignment; the global allocator would usually
        // give only 16.
        let bumps: Vec<Bump> = (0..16).map(|_| Bump::new()).collect();
        for bump in &bumps {
            let x = alloc_checked(bump, Align64([3; 64]));
            assert_eq!(x.0[0], 3);
        }
    }

    #[test]
    fn a_request_aligned_past_the_chunk_end_goes_to_a_new_chunk() {
        // After one byte, a u64 needs 7 bytes of padding and then 8: 16 > 12. The size alone
        // (1 + 8 = 9) would fit, so a bounds check made before aligning keeps it in this chunk
        // and the u64 ends 4 bytes past it.
        let bump = Bump::with_capacity(12);
        let byte = bump.try_alloc_layout(Layout::new::<u8>()).unwrap();
        assert!(inside_a_chunk(&bump, byte, 1));
        let word = bump.try_alloc_layout(Layout::new::<u64>()).unwrap();
        assert!(
            inside_a_chunk(&bump, word, 8),
            "a u64 aligned past the end of the chunk was handed out anyway: the fast path's bounds check must use the aligned address, padding included"
        );
        assert_eq!(
            bump.chunk_count(),
            2,
            "the u64 does not fit after alignment, so it needs a new chunk"
        );
    }

    #[test]
    fn zero_sized_requests_are_aligned_and_allocate_nothing() {
        let bump = Bump::new();
        for round in 0..2 {
            for align in [2, 8, 64, 4096] {
                let layout = Layout::from_size_align(0, align).unwrap();
                let p = bump
                    .try_alloc_layout(layout)
                    .expect("zero-sized requests always succeed");
                assert_eq!(
                    p.addr().get() % align,
                    0,
                    "a zero-sized request aligned to {align} got a misaligned address: it \
                     needs an aligned pointer like any other request, though it uses no bytes"
                );
            }
            assert_eq!(
                bump.chunk_count(),
                round,
                "zero-sized requests must not allocate a chunk"
            );
            // The second round starts after one byte, with the bump pointer at an odd address.
            bump.alloc(1u8);
        }
    }

    #[test]
    fn slices_and_strings_span_growth() {
        let bump = Bump::with_capacity(32);
        let nums = bump.alloc_slice_copy(&[1u64, 2, 3, 4, 5, 6, 7, 8]);
        let words: Vec<&str> = (0..200)
            .map(|i| &*bump.alloc_str(&format!("word{i}")))
            .collect();
        assert_eq!(nums.iter().sum::<u64>(), 36);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(*w, format!("word{i}"));
        }
        assert!(bump.alloc_slice_copy::<u32>(&[]).is_empty());
    }

    #[test]
    fn the_allocation_limit_is_respected() {
        let bump = Bump::new();
        bump.set_allocation_limit(Some(1000));
        assert_eq!(bump.allocation_limit(), Some(1000));
        assert!(
            bump.try_alloc_layout(Layout::new::<[u8; 2000]>()).is_none(),
            "2000 bytes exceed a limit of 1000: refuse the request before capping the chunk's size to the room left"
        );
        assert_eq!(
            bump.allocated_bytes(),
            0,
            "a refused request must not allocate"
        );
        let mut count = 0;
        while bump.try_alloc(0u64).is_some() {
            count += 1;
            assert!(
                count <= 125,
                "the limit of 1000 bytes allows at most 125 u64s"
            );
        }
        assert!(count > 0);
        assert!(
            bump.allocated_bytes() <= 1000,
            "allocated {}",
            bump.allocated_bytes()
        );
        bump.set_allocation_limit(None);
        assert!(
            bump.try_alloc(0u64).is_some(),
            "removing the limit allows growth again"
        );
    }

    #[test]
    fn a_request_that_fills_the_limit_exactly_is_granted() {
        let bump = Bump::new();
        bump.set_allocation_limit(Some(64));
        assert!(
            bump.try_alloc([7u8; 64]).is_some(),
            "64 bytes under a limit of 64 fit exactly: refuse only a request larger than the room left"
        );
        assert_eq!(bump.allocated_bytes(), 64);
        assert!(bump.try_alloc(1u8).is_none(), "the limit is reached");
    }

    #[test]
    fn absurd_layouts_fail_without_panicking() {
        let bump = Bump::with_capacity(64);
        bump.alloc(1u8);
        let huge = Layout::from_size_align(isize::MAX as usize, 1).unwrap();
        assert!(bump.try_alloc_layout(huge).is_none());
        let almost_huge = Layout::from_size_align(isize::MAX as usize - 8, 8).unwrap();
        assert!(bump.try_alloc_layout(almost_huge).is_none());
        assert_eq!(bump.chunk_count(), 1);
        assert!(bump.try_alloc(2u8).is_some());
    }

    #[test]
    fn reset_keeps_only_the_largest_chunk() {
        let mut bump = Bump::with_capacity(64);
        let mut last_chunk = 0;
        let n = if cfg!(miri) { 1_000 } else { 10_000 };
        for i in 0..n {
            let before = bump.allocated_bytes();
            bump.alloc(i as u64);
            if bump.allocated_bytes() > before {
                last_chunk = bump.allocated_bytes() - before;
            }
        }
        assert!(bump.chunk_count() > 2);
        bump.reset();
        assert_eq!(bump.chunk_count(), 1, "reset must free all chunks but one");
        assert_eq!(
            bump.allocated_bytes(),
            last_chunk,
            "reset must keep the largest (last) chunk"
        );
        let first = addr(bump.alloc(1u64));
        for i in 0..last_chunk / 8 - 1 {
            bump.alloc(i as u64);
        }
        assert_eq!(
            bump.chunk_count(),
            1,
            "the kept chunk must be reused from its start"
        );
        bump.reset();
        assert_eq!(
            addr(bump.alloc(2u64)),
            first,
            "reset rewinds to the start of the chunk"
        );
        for i in 0..last_chunk / 8 - 1 {
            bump.alloc(i as u64);
        }
        let past = bump.try_alloc_layout(Layout::new::<u64>()).unwrap();
        assert!(
            inside_a_chunk(&bump, past, 8),
            "after reset, a value was handed out past the end of the kept chunk: reset must set the end of the fast path to the end of that chunk"
        );
        assert_eq!(
            bump.chunk_count(),
            2,
            "the kept chunk is full: the next value needs a new chunk"
        );
    }

    #[test]
    fn reset_of_an_empty_bump_is_harmless() {
        let mut bump = Bump::new();
        bump.reset();
        assert_eq!(bump.chunk_count(), 0);
        assert_eq!(*bump.alloc(3u16), 3);
    }

    #[test]
    fn a_bump_can_be_moved_to_another_thread() {
        let bump = Bump::new();
        bump.alloc(1u32);
        let bump = std::thread::spawn(move || {
            bump.alloc(2u32);
            bump
        })
        .join()
        .unwrap();
        assert_eq!(bump.chunk_count(), 1);
    }
}
