//! # Layout arithmetic: aligning, block sizes and placing a request in a free block
//!
//! An allocator that keeps its free list *inside* the free memory has one rule the compiler
//! cannot check for you: every piece of memory that may ever be free must be able to hold a
//! free-list node. On this machine a node is two words (its size and the pointer to the next
//! free block), so no block may be smaller than [`MIN_BLOCK`] bytes, and every block starts
//! and ends on a multiple of [`BLOCK_ALIGN`]. This stage is the arithmetic that keeps that
//! rule, with no pointers yet:
//!
//! - [`align_up`] rounds an address up to a power-of-two alignment, and says `None` instead
//!   of wrapping around when the result does not fit in a `usize`.
//! - [`block_size`] turns a [`Layout`] into the size of the block that serves it: at least
//!   `MIN_BLOCK`, rounded up to `BLOCK_ALIGN`. A 4-byte `i32` gets a 16-byte block: when it is
//!   freed, its block must hold a node again.
//! - [`place`] decides where a request goes inside a free block. Alignment can leave *front
//!   padding* before the returned address, and the block can be longer than needed, leaving
//!   *back padding*. Each padding must be either zero or at least `MIN_BLOCK`, so that it can
//!   go back on the free list as a block of its own. Padding of 8 bytes could be neither
//!   handed out (the caller's `free` only knows the layout, so it could never come back) nor
//!   kept (no node fits in it): it would leak, forever. rust-osdev/linked-list-allocator
//!   had exactly this bug.
//!
//! Why it matters: every later stage calls these functions, and an off-by-eight here becomes
//! a free-list node written over a live allocation. Such a bug does not crash where it happens:
//! two blocks overlap, the program writes through both, and the corruption shows up much later
//! somewhere else. Under Miri the overlap is reported at the first access through the older
//! pointer, as `attempting a read access using <TAG> ..., but that tag does not exist in the
//! borrow stack for this location`. This is why the borrow checker forbids two live `&mut` to
//! the same bytes, and in `unsafe` code the arithmetic here is what keeps that promise.
//!
//! The tests are property tests: a small seeded random generator (xorshift) draws thousands
//! of addresses and layouts, and [`place`] is checked against a brute-force search of every
//! possible start address.
//!
//! Afterwards you can round an address up to an alignment without overflow, and say why every
//! block and every piece of padding must be able to hold a free-list node.
//!
//! Read: CS:APP (Bryant and O'Hallaron), chapter 9.9, "Dynamic Memory Allocation", on
//! alignment, minimum block size and fragmentation; the Rustonomicon on `Layout` and
//! alignment: <https://doc.rust-lang.org/nomicon/exotic-sizes.html>.

use std::alloc::Layout;
use std::mem::{align_of, size_of};

/// Every block starts and ends on a multiple of this (the alignment of a free-list node).
pub const BLOCK_ALIGN: usize = align_of::<usize>();

/// The smallest block: a free-list node is a size and a next pointer.
pub const MIN_BLOCK: usize = 2 * size_of::<usize>();

/// The largest alignment the allocator serves; larger requests are refused.
pub const MAX_ALIGN: usize = 4096;

/// Rounds `addr` up to the next multiple of `align`, or `None` if that overflows `usize`.
///
/// `align` must be a power of two.
pub fn align_up(addr: usize, align: usize) -> Option<usize> {
    debug_assert!(
        align.is_power_of_two(),
        "alignment {align} is not a power of two"
    );
    let mask = align - 1;
    // `addr + mask` is the only step that can overflow; clearing the low bits cannot.
    addr.checked_add(mask).map(|a| a & !mask)
}

/// The size of the block that serves `layout`: at least [`MIN_BLOCK`], a multiple of
/// [`BLOCK_ALIGN`], never smaller than `layout.size()`. `None` if that size is larger than
/// any allocation can be (`isize::MAX`).
pub fn block_size(layout: Layout) -> Option<usize> {
    let size = align_up(layout.size().max(MIN_BLOCK), BLOCK_ALIGN)?;
    (size <= isize::MAX as usize).then_some(size)
}

/// Where a request goes inside a free block: `front` bytes of padding, then `size` bytes
/// handed out at `start`, then `back` bytes of padding. `front + size + back` is the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Bytes between the start of the free block and `start`: zero or at least `MIN_BLOCK`.
    pub front: usize,
    /// The address handed out, aligned to the request.
    pub start: usize,
    /// The block handed out: `block_size(layout)`.
    pub size: usize,
    /// Bytes after the block handed out: zero or at least `MIN_BLOCK`.
    pub back: usize,
}

/// Places `layout` in the free block `[block_start, block_start + block_len)` at the lowest
/// address where both paddings are zero or at least [`MIN_BLOCK`], or `None` if it does not
/// fit (or its alignment is above [`MAX_ALIGN`]).
///
/// `block_start` and `block_len` must be multiples of [`BLOCK_ALIGN`].
pub fn place(block_start: usize, block_len: usize, layout: Layout) -> Option<Placement> {
    debug_assert!(block_start.is_multiple_of(BLOCK_ALIGN) && block_len.is_multiple_of(BLOCK_ALIGN));
    if layout.align() > MAX_ALIGN {
        return None;
    }
    let align = layout.align().max(BLOCK_ALIGN);
    let size = block_size(layout)?;
    let block_end = block_start.checked_add(block_len)?;

    let mut start = align_up(block_start, align)?;
    if start != block_start && start - block_start < MIN_BLOCK {
        // Front padding too small to be a free block: skip ahead far enough that it is one.
        start = align_up(block_start.checked_add(MIN_BLOCK)?, align)?;
    }
    let end = start.checked_add(size)?;
    if end > block_end {
        return None;
    }
    let back = block_end - end;
    if back != 0 && back < MIN_BLOCK {
        // A later start would only make the back padding smaller; see the tests' brute force.
        return None;
    }
    Some(Placement {
        front: start - block_start,
        start,
        size,
        back,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;

    const ROUNDS: usize = if cfg!(miri) { 200 } else { 20_000 };

    #[test]
    fn constants_describe_a_two_word_node() {
        assert_eq!(
            MIN_BLOCK,
            2 * size_of::<usize>(),
            "a node is a size and a pointer"
        );
        assert_eq!(BLOCK_ALIGN, align_of::<usize>());
        const { assert!(MIN_BLOCK.is_multiple_of(BLOCK_ALIGN)) };
    }

    #[test]
    fn align_up_rounds_to_the_next_multiple() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..ROUNDS {
            let addr = rng.below(1 << 40);
            let align = 1 << rng.below(13);
            let up = align_up(addr, align).expect("no overflow this far from usize::MAX");
            assert_eq!(
                up % align,
                0,
                "align_up({addr:#x}, {align}) = {up:#x} is not aligned"
            );
            assert!(
                up >= addr,
                "align_up({addr:#x}, {align}) went down to {up:#x}"
            );
            assert!(
                up - addr < align,
                "align_up({addr:#x}, {align}) = {up:#x} skipped a multiple of {align}"
            );
        }
    }

    #[test]
    fn align_up_keeps_an_aligned_address() {
        for align in [1, 2, 8, 16, 4096] {
            for k in 0..4 {
                assert_eq!(align_up(k * align, align), Some(k * align));
            }
        }
    }

    #[test]
    fn align_up_reports_overflow_instead_of_wrapping() {
        assert_eq!(
            align_up(usize::MAX, 8),
            None,
            "rounding usize::MAX up must not wrap around to 0"
        );
        assert_eq!(align_up(usize::MAX - 6, 8), None);
        assert_eq!(align_up(usize::MAX - 7, 8), Some(usize::MAX - 7));
        assert_eq!(align_up(usize::MAX, 1), Some(usize::MAX));
    }

    #[test]
    fn block_size_gives_tiny_and_zero_sized_requests_a_whole_node() {
        for size in [0, 1, 4, 15, 16] {
            let layout = Layout::from_size_align(size, 1).unwrap();
            assert_eq!(
                block_size(layout),
                Some(MIN_BLOCK),
                "a {size}-byte request must get a block that can hold a node when freed"
            );
        }
        assert_eq!(block_size(Layout::new::<i32>()), Some(MIN_BLOCK));
    }

    #[test]
    fn block_size_is_the_smallest_multiple_that_fits() {
        let mut rng = Rng(12345);
        for _ in 0..ROUNDS {
            let size = rng.below(100_000);
            let layout = Layout::from_size_align(size, 1).unwrap();
            let b = block_size(layout).unwrap();
            assert!(
                b >= size && b >= MIN_BLOCK,
                "block {b} too small for {size}"
            );
            assert_eq!(b % BLOCK_ALIGN, 0, "block {b} breaks the block alignment");
            assert!(
                b - BLOCK_ALIGN < size.max(MIN_BLOCK),
                "block {b} for {size} bytes wastes a whole BLOCK_ALIGN"
            );
        }
    }

    #[test]
    fn block_size_refuses_sizes_no_allocation_can_have() {
        let huge = Layout::from_size_align(isize::MAX as usize, 1).unwrap();
        assert_eq!(
            block_size(huge),
            None,
            "rounding isize::MAX up gives a block larger than any allocation"
        );
    }

    /// The lowest valid start, by trying every multiple of BLOCK_ALIGN in the block.
    fn brute_force(block_start: usize, block_len: usize, layout: Layout) -> Option<usize> {
        let align = layout.align().max(BLOCK_ALIGN);
        let size = block_size(layout)?;
        (block_start..block_start + block_len)
            .step_by(BLOCK_ALIGN)
            .find(|&s| {
                let front = s - block_start;
                let fits = s + size <= block_start + block_len;
                let back = (block_start + block_len).wrapping_sub(s + size);
                s.is_multiple_of(align)
                    && (front == 0 || front >= MIN_BLOCK)
                    && fits
                    && (back == 0 || back >= MIN_BLOCK)
            })
    }

    #[test]
    fn place_uses_an_exact_fit_without_padding() {
        let p = place(4096, 16, Layout::new::<i32>()).expect("a 16-byte block fits an i32");
        assert_eq!(
            p,
            Placement {
                front: 0,
                start: 4096,
                size: 16,
                back: 0
            }
        );
    }

    #[test]
    fn place_skips_front_padding_too_small_for_a_node() {
        // 0x1008 rounded up to 16 is 0x1010: 8 bytes of front padding cannot hold a node,
        // so the request moves on to 0x1020 and the 24 bytes before it stay free.
        let layout = Layout::from_size_align(16, 16).unwrap();
        let p = place(0x1008, 256, layout).unwrap();
        assert_eq!(p.start, 0x1020, "front padding of 8 bytes would leak");
        assert_eq!(p.front, 24);
        assert_eq!(p.front + p.size + p.back, 256);
    }

    #[test]
    fn place_refuses_back_padding_too_small_for_a_node() {
        // A 24-byte block for a 16-byte request would leave 8 bytes nobody can free.
        assert_eq!(
            place(0, 24, Layout::new::<u64>()),
            None,
            "a 16-byte request in a 24-byte block leaves 8 bytes of back padding, too small \
             for a node: place must refuse that block"
        );
        assert!(
            place(0, 32, Layout::new::<u64>()).is_some(),
            "16 + 16 is fine"
        );
    }

    #[test]
    fn place_refuses_alignments_above_max_align() {
        let layout = Layout::from_size_align(8, 2 * MAX_ALIGN).unwrap();
        assert_eq!(place(0, 1 << 20, layout), None);
        let layout = Layout::from_size_align(8, MAX_ALIGN).unwrap();
        assert_eq!(place(64, 1 << 20, layout).map(|p| p.start), Some(MAX_ALIGN));
    }

    #[test]
    fn place_finds_the_lowest_valid_start_or_proves_there_is_none() {
        let mut rng = Rng(0xDEAD_BEEF);
        for _ in 0..ROUNDS {
            let block_start = rng.below(1 << 16) * BLOCK_ALIGN;
            let block_len = (MIN_BLOCK / BLOCK_ALIGN + rng.below(80)) * BLOCK_ALIGN;
            let size = rng.below(200);
            let align = 1 << rng.below(9);
            let layout = Layout::from_size_align(size, align).unwrap();
            let got = place(block_start, block_len, layout);
            let want = brute_force(block_start, block_len, layout);
            assert_eq!(
                got.map(|p| p.start),
                want,
                "place({block_start:#x}, {block_len}, size {size} align {align})"
            );
            if let Some(p) = got {
                assert_eq!(
                    p.front + p.size + p.back,
                    block_len,
                    "the pieces must tile the block"
                );
                assert_eq!(p.start, block_start + p.front);
                assert_eq!(p.start % align, 0, "the address handed out must be aligned");
                assert_eq!(Some(p.size), block_size(layout));
            }
        }
    }

    #[test]
    fn place_near_the_top_of_the_address_space_does_not_overflow() {
        let block_start = (usize::MAX - 127) & !(BLOCK_ALIGN - 1);
        assert_eq!(
            place(block_start, 64, Layout::from_size_align(8, 4096).unwrap()),
            None
        );
    }
}
