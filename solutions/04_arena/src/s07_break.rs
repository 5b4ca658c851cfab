//! # Break it: a `&mut [u8]` over the whole chunk
//!
//! Stage 1 warned: never make a reference that covers the buffer, because `alloc` has already
//! handed out `&mut T`s into it. This stage asks you to do exactly that, on purpose, and to
//! read what Miri says. Write [`Arena::chunk_bytes_mut`]: the whole chunk, all `capacity`
//! bytes, as one `&mut [u8]`. It is one line of `unsafe` code, and it is wrong.
//!
//! Why it is wrong: a `&mut` promises that, while it is alive, nothing else reads or writes
//! the memory it covers. The `x` from `arena.alloc(..)` makes that promise for its 8 bytes;
//! the new slice makes it for all 64, the same 8 included. Two live `&mut` to one byte is
//! undefined behaviour, even before anything is written: the compiler may assume that a
//! write through the slice leaves `*x` unchanged, keep `*x` in a register, and print the old
//! value. The test `zeroing_the_chunk_zeroes_an_earlier_allocation` zeroes the chunk through
//! the slice and reads `x` again. Natively it passes: debug builds do not exploit the
//! promise, so the code "works", until an optimisation or a new compiler decides otherwise.
//! Miri checks the promise itself. This stage's `miri` check passes when Miri reports an
//! aliasing violation, and the runner shows the report's summary under the verdict.
//!
//! What to look for in the report (Stacked Borrows, Miri's default model). Every reference
//! gets a *tag* (`<231680>`); each byte keeps a stack of the tags allowed to use it:
//!
//! - `error: Undefined Behavior: trying to retag from <TAG> for SharedReadOnly permission
//!   at allocN[0x0], but that tag does not exist in the borrow stack for this location`,
//!   pointing at `assert_eq!(*x, 0, ..)`: reading `*x` needs `x`'s tag, which is gone.
//!   This is where the bug was *noticed*, not where it was made.
//! - `help: <TAG> was created by a Unique retag at offsets [0x0..0x8]`, pointing at
//!   `arena.alloc(..)` in the test: the tag is `x`, a unique reference to 8 bytes.
//! - `help: <TAG> was later invalidated at offsets [0x0..0x40] by a Unique retag`, pointing
//!   at *your* line, `slice::from_raw_parts_mut(..)`: creating a unique reference to all 64
//!   bytes removed every tag above it from those bytes' stacks, `x`'s included. This is the
//!   line to fix.
//!
//! Follow the same tag number from the error to the two `help:` lines; the last one is the
//! cause. The runner's summary under the verdict names the line where the bug was noticed
//! (the test's `assert_eq!`); the `help:` lines are in the full report above it (and in
//! `.mastery/last-run.log`). The next stage runs the same kind of bug under Tree Borrows, which tells it
//! differently.
//!
//! The sound version is stage 1's rule: touch the buffer only through raw pointers derived
//! from `start`, and only the bytes not yet handed out.
//!
//! Afterwards you can read a Stacked Borrows report: find the tag, where it was created, and
//! the line that invalidated it, and say why a `&mut` over memory that a live reference also
//! covers is undefined behaviour even when every test passes.
//!
//! Read: the Rustonomicon, "Aliasing" (<https://doc.rust-lang.org/nomicon/aliasing.html>);
//! Ralf Jung, "Stacked Borrows: An Aliasing Model for Rust"
//! (<https://plv.mpi-sws.org/rustbelt/stacked-borrows/>).

use std::slice;

use crate::s01_chunk::Arena;

impl Arena {
    /// The whole chunk, all `capacity` bytes, as one mutable slice (the bytes already handed
    /// out included).
    ///
    /// **Unsound on purpose.** While a reference returned by `alloc` is alive, this slice
    /// covers its bytes too: two live `&mut` to the same memory. Miri reports it.
    pub fn chunk_bytes_mut(&self) -> &mut [u8] {
        // UNSOUND (on purpose): the slice covers every reference handed out so far.
        unsafe { slice::from_raw_parts_mut(self.start.as_ptr(), self.capacity) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slice_is_the_whole_chunk() {
        let arena = Arena::new(48);
        let bytes = arena.chunk_bytes_mut();
        assert_eq!(
            bytes.len(),
            48,
            "chunk_bytes_mut must cover the whole chunk: capacity bytes"
        );
        assert_eq!(
            bytes.as_ptr().addr(),
            arena.start.as_ptr().addr(),
            "chunk_bytes_mut must start where the chunk starts"
        );
        bytes.fill(0xAB);
        // The slice is dead now; allocating after it is sound.
        let x = arena.alloc(7u8);
        assert_eq!(*x, 7);
        assert!(Arena::new(0).chunk_bytes_mut().is_empty());
    }

    #[test]
    fn zeroing_the_chunk_zeroes_an_earlier_allocation() {
        let arena = Arena::new(64);
        let x = arena.alloc(0x0102_0304_0506_0708u64);
        let bytes = arena.chunk_bytes_mut();
        for b in bytes.iter_mut() {
            *b = 0;
        }
        // Natively this "works": the bytes under `x` were zeroed, and `x` reads them.
        assert_eq!(
            *x, 0,
            "zeroing the whole chunk must zero the u64 allocated before"
        );
    }
}
