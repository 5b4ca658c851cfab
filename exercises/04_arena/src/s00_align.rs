//! # Aligning addresses: the arithmetic of a bump allocator
//!
//! A bump allocator hands out pieces of one buffer by moving an offset forward. Before the
//! next stage does that over raw memory, with `unsafe` code and Miri watching, this one does
//! the arithmetic alone, on plain numbers, where a mistake is an ordinary failed assertion.
//!
//! Write two functions:
//!
//! - `align_up(addr, align)`: the smallest multiple of `align` that is at least `addr`, or
//!   `None` if there is none in a `usize`. Alignments are powers of two (every `Layout`'s
//!   is), which makes this an add and a mask, no division.
//! - `bump_up(base, offset, capacity, layout)`: where the next allocation of `layout` goes in
//!   a buffer that starts at address `base`, holds `capacity` bytes and has used the first
//!   `offset` of them: the allocation's offset from `base`, and the offset just past it.
//!   `None` when it does not fit, or when the arithmetic would overflow.
//!
//! Three details decide whether it is right, and the next stage relies on each:
//!
//! - **Align the address, not the offset.** A `u64` needs an address that is a multiple of 8.
//!   `base + offset` is what must be rounded up; rounding the offset gives the same answer
//!   only when `base` itself is aligned enough, and a buffer aligned to 16 is not aligned
//!   to 64.
//! - **Check the bounds after the padding.** The allocation ends at its aligned offset plus
//!   its size; that, not `offset + size`, must be at most `capacity`. Ending exactly at
//!   `capacity` fits.
//! - **No wrap-around.** Rounding up near `usize::MAX`, or adding a huge size, must give
//!   `None`, never a small number: a wrapped result would point back into the buffer.
//!
//! Zero-sized layouts are not special here (they get an aligned offset and use no bytes); the
//! next stage decides what an arena does with them.
//!
//! Afterwards you can align an address with a mask, and say why the padding before an
//! allocation depends on where the buffer starts, not only on how much of it is used.
//!
//! Read: the `std::alloc::Layout` docs
//! (<https://doc.rust-lang.org/std/alloc/struct.Layout.html>); CS:APP chapter 9.9 (alignment
//! and padding in allocators); Rust for Rustaceans, chapter 2 ("Types": alignment and layout).

use std::alloc::Layout;

/// Rounds `addr` up to the next multiple of `align`, or returns `None` if that multiple does
/// not fit in a `usize`. `align` is a power of two.
pub fn align_up(addr: usize, align: usize) -> Option<usize> {
    // TODO: as the doc comment says.
    todo!()
}

/// Places an allocation of `layout` in a buffer that starts at address `base`, holds
/// `capacity` bytes, and has handed out its first `offset` bytes (`offset <= capacity`, and
/// `base + capacity` fits in a `usize`, as for any real buffer).
///
/// Returns `(at, new_offset)`: the allocation starts at `base + at`, an address aligned to
/// `layout.align()`, and ends at `base + new_offset`, with `offset <= at` and
/// `new_offset <= capacity`. Returns `None` if the allocation does not fit.
pub fn bump_up(
    base: usize,
    offset: usize,
    capacity: usize,
    layout: Layout,
) -> Option<(usize, usize)> {
    // TODO: as the doc comment says, with the three details of the header.
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("a valid layout")
    }

    #[test]
    fn align_up_rounds_to_the_next_multiple() {
        let cases = [
            (0, 8, 0),
            (1, 8, 8),
            (8, 8, 8),
            (9, 8, 16),
            (13, 1, 13),
            (0x1001, 4096, 0x2000),
            (0x2000, 4096, 0x2000),
            (usize::MAX - 7, 8, usize::MAX - 7),
            (usize::MAX, 1, usize::MAX),
        ];
        for (addr, align, expected) in cases {
            assert_eq!(
                align_up(addr, align),
                Some(expected),
                "align_up({addr:#x}, {align}) must be the smallest multiple of {align} that is \
                 at least {addr:#x}"
            );
        }
    }

    #[test]
    fn align_up_refuses_to_overflow() {
        for (addr, align) in [
            (usize::MAX, 2),
            (usize::MAX - 6, 8),
            (usize::MAX - 100, 4096),
        ] {
            assert_eq!(
                align_up(addr, align),
                None,
                "align_up({addr:#x}, {align}): rounding up past usize::MAX must be None, not a \
                 wrap to a small address"
            );
        }
    }

    #[test]
    fn a_u64_after_a_u8_is_padded_to_8() {
        let base = 0x1000;
        let (at, offset) = bump_up(base, 0, 64, Layout::new::<u8>()).expect("a u8 fits");
        assert_eq!(
            (at, offset),
            (0, 1),
            "the first byte of the buffer holds the u8"
        );
        assert_eq!(
            bump_up(base, offset, 64, Layout::new::<u64>()),
            Some((8, 16)),
            "after a u8 at offset 0, a u64 starts at offset 8 (7 bytes of padding) and ends \
             at 16"
        );
        assert_eq!(
            bump_up(base, 16, 64, Layout::new::<u8>()),
            Some((16, 17)),
            "a u8 needs no padding"
        );
    }

    #[test]
    fn the_address_is_aligned_not_the_offset() {
        assert_eq!(
            bump_up(0x1004, 0, 64, Layout::new::<u64>()),
            Some((4, 12)),
            "in a buffer at 0x1004, the first u64 must start at offset 4 (address 0x1008): \
             align the address, not the offset"
        );
        assert_eq!(
            bump_up(0x1010, 1, 256, layout(64, 64)),
            Some((0x30, 0x70)),
            "in a buffer at 0x1010 (16-aligned), a 64-aligned value must start at address \
             0x1040: align the address, not the offset"
        );
    }

    #[test]
    fn the_whole_capacity_is_usable_and_no_more() {
        assert_eq!(
            bump_up(0x1000, 0, 16, layout(16, 1)),
            Some((0, 16)),
            "an allocation that ends exactly at the capacity fits"
        );
        assert_eq!(
            bump_up(0x1000, 8, 16, layout(8, 8)),
            Some((8, 16)),
            "an allocation that ends exactly at the capacity fits"
        );
        assert_eq!(
            bump_up(0x1000, 0, 16, layout(17, 1)),
            None,
            "17 bytes do not fit in 16"
        );
        // 7 bytes of padding, then 8 bytes: 15 in all.
        assert_eq!(
            bump_up(0x1001, 0, 15, Layout::new::<u64>()),
            Some((7, 15)),
            "in a buffer at 0x1001, a u64 starts at offset 7 (address 0x1008) and ends at 15, \
             exactly the capacity"
        );
        assert_eq!(
            bump_up(0x1001, 0, 14, Layout::new::<u64>()),
            None,
            "in a buffer at 0x1001 of 14 bytes, a u64 needs 7 bytes of padding and 8 of its \
             own: the bounds check must count the padding"
        );
    }

    #[test]
    fn an_allocation_aligned_past_the_end_is_refused() {
        assert_eq!(
            bump_up(0x1001, 0, 100, layout(1, 4096)),
            None,
            "the next 4096-aligned address (0x2000) lies past the buffer's end (0x1065)"
        );
    }

    #[test]
    fn a_value_smaller_than_its_alignment_uses_only_its_size() {
        assert_eq!(
            bump_up(0x1000, 0, 8, layout(1, 16)),
            Some((0, 1)),
            "a 1-byte value aligned to 16, at a 16-aligned address, uses 1 byte and fits in 8: \
             padding goes before an allocation, never after it"
        );
        assert_eq!(
            bump_up(0x1000, 1, 64, layout(3, 4)),
            Some((4, 7)),
            "after 1 byte, a 3-byte value aligned to 4 starts at offset 4 and ends at 7: \
             padding goes before an allocation, never after it"
        );
    }

    #[test]
    fn huge_requests_are_refused_without_overflow() {
        let huge = layout(isize::MAX as usize, 1);
        assert_eq!(
            bump_up(0x1000, 0, 64, huge),
            None,
            "a request larger than the buffer is refused"
        );
        assert_eq!(
            bump_up(0, usize::MAX - 10, usize::MAX, huge),
            None,
            "offset + size past usize::MAX must be None, not a wrap to a small offset"
        );
        assert_eq!(
            bump_up(usize::MAX - 100, 0, 100, layout(1, 4096)),
            None,
            "rounding an address near usize::MAX up must be None, not a wrap"
        );
    }

    #[test]
    fn zero_sized_layouts_get_an_aligned_offset_and_use_no_bytes() {
        assert_eq!(bump_up(0x1000, 3, 8, layout(0, 1)), Some((3, 3)));
        assert_eq!(
            bump_up(0x1000, 3, 8, layout(0, 4)),
            Some((4, 4)),
            "a zero-sized value is placed at an aligned address, like any other"
        );
    }
}
