//! # Bump up or bump down?
//!
//! Every arena so far bumps *upwards*: round the pointer up to the alignment, add the size,
//! compare with the end. Nick Fitzgerald's "Always Bump Downwards" observes that bumping
//! *downwards* needs less work: subtract the size from the pointer, round *down* to the
//! alignment with a single mask (`& !(align - 1)`), compare with the start. Rounding down
//! cannot overflow, and the only overflow check left is the subtraction. bumpalo bumps down
//! for this reason. The 2024 follow-up ("Bump Allocation: Up or Down?") revisits the
//! comparison with new benchmarks (u8, u64, u128 and byte slices, 10 000 allocations each, the
//! workloads of this project's benchmark) and finds that a carefully written bump-up path can
//! close much of the gap: measure, don't assume.
//!
//! Build [`DownArena`], the first stage's fixed arena bumping downwards: the bump pointer
//! starts one past the end of the buffer and moves towards `start`. What does not change is
//! written: `new` (which also sets the bump pointer one past the end), `try_alloc`, `alloc`
//! and `Drop`. Write what does: `try_alloc_layout`, `used` and `reset`. The same rules hold:
//! every pointer is derived from the buffer's start pointer (here: from the bump pointer,
//! which was), zero-sized values take no space, a request that does not fit returns `None`
//! without moving the pointer and without wrapping below address zero.
//!
//! Then run the benchmark (`mastery bench arena`): it runs the same workloads on the first
//! stage's `Arena` (up), on `DownArena` (down), on the growable `Bump`, on bumpalo and on
//! `Box::new`, and prints the ratios.
//!
//! Afterwards you can read the machine code cost of an allocation fast path, and explain what
//! an arena gains over the system allocator (no free list, no size classes, no locking, no
//! per-object header) and what it gives up (no individual free).
//!
//! Read: "Always Bump Downwards" (<https://fitzgeraldnick.com/2019/11/01/always-bump-downwards.html>);
//! "Bump Allocation: Up or Down?" (<https://coredumped.dev/2024/03/25/bump-allocation-up-or-down/>);
//! CS:APP chapter 9.9 (allocator throughput and utilisation).

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::ptr::NonNull;

use crate::s01_chunk::{BUFFER_ALIGN, dangling, full};

/// A bump allocator over one fixed buffer, allocating from the end towards the start.
///
/// Invariants:
/// - if `capacity > 0`, `start` points to a live allocation of `capacity` bytes aligned to
///   `BUFFER_ALIGN`, owned by this arena; otherwise `start` is dangling;
/// - `ptr` lies in `start ..= start + capacity`, is derived from `start`, and the bytes from
///   `ptr` to the end have been handed out;
/// - the buffer is only accessed through pointers derived from `start`.
pub struct DownArena {
    start: NonNull<u8>,
    capacity: usize,
    ptr: Cell<NonNull<u8>>,
}

// SAFETY: as for `Arena`: the buffer is owned and reachable only through borrows of the arena.
unsafe impl Send for DownArena {}

impl DownArena {
    fn buffer_layout(capacity: usize) -> Layout {
        Layout::from_size_align(capacity, BUFFER_ALIGN).expect("arena capacity too large")
    }

    /// Creates an arena with room for `capacity` bytes (nothing is allocated for 0).
    ///
    /// # Panics
    /// If `capacity` exceeds `isize::MAX`; aborts if the system is out of memory.
    pub fn new(capacity: usize) -> DownArena {
        let start = if capacity == 0 {
            dangling(BUFFER_ALIGN)
        } else {
            let layout = Self::buffer_layout(capacity);
            // SAFETY: the layout has a non-zero size.
            let ptr = unsafe { alloc::alloc(layout) };
            NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout))
        };
        // SAFETY: one past the end of the allocation (or `start` itself for capacity 0).
        let end = unsafe { start.add(capacity) };
        DownArena {
            start,
            capacity,
            ptr: Cell::new(end),
        }
    }

    /// The number of bytes used so far, alignment padding included.
    pub fn used(&self) -> usize {
        // TODO: as the doc comment says.
        todo!()
    }

    /// Reserves room for `layout` below the bump pointer, or returns `None` if it does not
    /// fit. Zero-sized layouts always succeed and use no capacity.
    #[inline]
    pub fn try_alloc_layout(&self, layout: Layout) -> Option<NonNull<u8>> {
        // TODO: as the doc comment says, bumping down, with the guarantees of the first
        // stage's `try_alloc_layout` (alignment, provenance, no overflow, a refusal changes
        // nothing).
        todo!()
    }

    /// Moves `value` into the arena, or returns `None` (dropping `value`) if there is no room.
    #[inline]
    pub fn try_alloc<T>(&self, value: T) -> Option<&mut T> {
        let ptr = self.try_alloc_layout(Layout::new::<T>())?.cast::<T>();
        // SAFETY: aligned, valid for a `T`, unique, and alive as long as `&self`.
        unsafe {
            ptr.write(value);
            Some(&mut *ptr.as_ptr())
        }
    }

    /// Moves `value` into the arena.
    ///
    /// # Panics
    /// With "arena is full" if there is no room.
    #[inline]
    pub fn alloc<T>(&self, value: T) -> &mut T {
        match self.try_alloc(value) {
            Some(r) => r,
            None => full(Layout::new::<T>()),
        }
    }

    /// Makes the whole capacity available again. Destructors do not run.
    pub fn reset(&mut self) {
        // TODO: as the doc comment says: the whole buffer free again.
        todo!()
    }
}

impl Drop for DownArena {
    fn drop(&mut self) {
        if self.capacity > 0 {
            // SAFETY: allocated in `new` with this layout, freed once, here.
            unsafe { alloc::dealloc(self.start.as_ptr(), Self::buffer_layout(self.capacity)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Align64, addr};

    #[test]
    fn allocations_move_downwards() {
        let arena = DownArena::new(64);
        let a = addr(arena.alloc(1u32));
        let b = addr(arena.alloc(2u32));
        let c = addr(arena.alloc(3u32));
        assert!(
            a > b && b > c,
            "each allocation must lie below the previous one"
        );
        assert_eq!(
            (a - b, b - c),
            (4, 4),
            "u32s bumped downwards are packed tightly"
        );
        assert_eq!(
            arena.used(),
            12,
            "used counts the bytes from the bump pointer up to the end of the buffer"
        );
    }

    #[test]
    fn earlier_references_stay_valid() {
        let arena = DownArena::new(512);
        let refs: Vec<&mut u64> = (0..40).map(|i| arena.alloc(i)).collect();
        for (i, r) in refs.into_iter().enumerate() {
            assert_eq!(*r, i as u64);
            *r = 0;
        }
    }

    #[test]
    fn addresses_are_rounded_down_to_the_alignment() {
        let arenas: Vec<DownArena> = (0..8).map(|_| DownArena::new(256)).collect();
        for arena in &arenas {
            arena.alloc(1u8);
            let x = arena.alloc(5u64);
            assert_eq!(addr(x) % 8, 0, "u64 below a u8 must be 8-byte aligned");
            let y = arena.alloc(Align64([3; 64]));
            assert_eq!(
                addr(y) % 64,
                0,
                "a 64-byte aligned type needs a multiple of 64"
            );
            assert_eq!((*x, y.0[0]), (5, 3));
            assert!(arena.used() <= 1 + 7 + 8 + 63 + 64);
        }
    }

    #[test]
    fn sizes_that_are_not_a_multiple_of_the_alignment_are_aligned() {
        let arena = DownArena::new(256);
        for align in [1, 2, 4, 8, 16, 32] {
            let layout = Layout::from_size_align(3, align).unwrap();
            let p = arena.try_alloc_layout(layout).unwrap();
            assert_eq!(
                p.addr().get() % align,
                0,
                "a 3-byte request aligned to {align} got a misaligned address: subtract the size first, then round down"
            );
            // SAFETY (test): the arena gave us 3 writable bytes at `p`.
            unsafe { p.as_ptr().write_bytes(0xAB, 3) };
        }
    }

    #[test]
    fn an_address_rounded_down_below_the_start_is_refused() {
        // A 4096-byte alignment in a 32-byte buffer: `end - 16` is inside the buffer, but the
        // 4096-aligned address below it almost always lies before the buffer's start.
        let layout = Layout::from_size_align(16, 4096).unwrap();
        let arenas: Vec<DownArena> = (0..4).map(|_| DownArena::new(32)).collect();
        for arena in &arenas {
            let start = arena.start.addr().get();
            match arena.try_alloc_layout(layout) {
                Some(p) => {
                    assert!(
                        p.addr().get() >= start,
                        "an address rounded down below the start of the buffer was handed out: compare with start after rounding down"
                    );
                    assert_eq!(p.addr().get() % 4096, 0);
                }
                None => assert_eq!(
                    arena.used(),
                    0,
                    "a refused request must not move the pointer"
                ),
            }
        }
    }

    #[test]
    fn the_whole_capacity_is_usable_and_then_refused() {
        let arena = DownArena::new(16);
        assert_eq!(arena.alloc([9u8; 16]), &[9u8; 16]);
        assert_eq!(arena.used(), 16);
        assert!(arena.try_alloc(1u8).is_none());
        let small = DownArena::new(12);
        assert!(small.try_alloc(1u32).is_some());
        assert!(small.try_alloc(2u64).is_some(), "4 + 8 bytes fit in 12");
        assert!(small.try_alloc(3u8).is_none());
        assert_eq!(small.used(), 12);
    }

    #[test]
    fn zero_sized_values_take_no_space() {
        let arena = DownArena::new(0);
        arena.alloc(());
        let e = arena.alloc([0u64; 0]);
        assert_eq!(addr(e) % 8, 0);
        assert_eq!(arena.used(), 0);
        assert!(arena.try_alloc(1u8).is_none());
    }

    #[test]
    fn zero_sized_requests_are_aligned_and_take_no_space() {
        let arena = DownArena::new(64);
        arena.alloc(1u8);
        for align in [2, 8, 64, 4096] {
            let layout = Layout::from_size_align(0, align).unwrap();
            let p = arena.try_alloc_layout(layout).unwrap_or_else(|| {
                panic!(
                    "a zero-sized request aligned to {align} was refused: zero-sized requests \
                     always succeed, whatever their alignment"
                )
            });
            assert_eq!(
                p.addr().get() % align,
                0,
                "a zero-sized request aligned to {align} got a misaligned address: it needs an \
                 aligned pointer like any other request, though it uses no bytes"
            );
            assert_eq!(
                arena.used(),
                1,
                "a zero-sized request aligned to {align} used capacity: zero-sized requests \
                 take no space, not even padding"
            );
        }
    }

    #[test]
    fn an_oversized_layout_is_refused_without_wrapping() {
        let arena = DownArena::new(32);
        arena.alloc(1u8);
        let huge = Layout::from_size_align(isize::MAX as usize, 1).unwrap();
        assert!(
            arena.try_alloc_layout(huge).is_none(),
            "addr - size must not wrap around"
        );
        let big = Layout::from_size_align(33, 1).unwrap();
        assert!(arena.try_alloc_layout(big).is_none());
        assert_eq!(
            arena.used(),
            1,
            "a refused request must not move the pointer"
        );
    }

    #[test]
    #[should_panic(expected = "arena is full")]
    fn alloc_panics_when_full() {
        let arena = DownArena::new(4);
        arena.alloc(1u64);
    }

    #[test]
    fn reset_rewinds_to_the_end() {
        let mut arena = DownArena::new(64);
        let first = addr(arena.alloc(1u64));
        arena.alloc([0u8; 40]);
        arena.reset();
        assert_eq!(arena.used(), 0);
        assert_eq!(
            addr(arena.alloc(2u64)),
            first,
            "after reset, the first slot is reused"
        );
    }
}
