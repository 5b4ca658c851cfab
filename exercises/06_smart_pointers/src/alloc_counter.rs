//! A counting global allocator for the tests: it counts, per thread, the allocations and
//! deallocations that go through it, so a test can prove that a pointer type freed exactly
//! what it allocated, and allocated nothing where it must not.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static FREES: Cell<usize> = const { Cell::new(0) };
    static BIG_ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BIG_FREES: Cell<usize> = const { Cell::new(0) };
}

/// Blocks aligned to at least this are also counted apart: std itself never asks for such an
/// alignment, so a test can follow one value's memory while the panic machinery allocates.
pub(crate) const BIG_ALIGN: usize = 512;

fn bump(counter: &'static std::thread::LocalKey<Cell<usize>>) {
    // `try_with`: the counters have no destructor, but a thread being torn down may still
    // allocate after its thread-locals are gone; those calls are simply not counted.
    let _ = counter.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`; the counters never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        if layout.align() >= BIG_ALIGN {
            bump(&BIG_ALLOCS);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump(&FREES);
        if layout.align() >= BIG_ALIGN {
            bump(&BIG_FREES);
        }
        // SAFETY: `ptr` came from `System` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        if layout.align() >= BIG_ALIGN {
            bump(&BIG_ALLOCS);
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation frees one block and allocates another.
        bump(&ALLOCS);
        bump(&FREES);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What one closure allocated and freed on the current thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) allocs: usize,
    pub(crate) frees: usize,
}

/// Runs `f` and returns its result with the allocations and frees it made on this thread.
pub(crate) fn count<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    let (a0, f0) = (ALLOCS.with(Cell::get), FREES.with(Cell::get));
    let r = f();
    let (a1, f1) = (ALLOCS.with(Cell::get), FREES.with(Cell::get));
    (
        r,
        Counts {
            allocs: a1 - a0,
            frees: f1 - f0,
        },
    )
}

/// Like `count`, but counts only blocks aligned to `BIG_ALIGN` or more.
pub(crate) fn count_big<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    let (a0, f0) = (BIG_ALLOCS.with(Cell::get), BIG_FREES.with(Cell::get));
    let r = f();
    let (a1, f1) = (BIG_ALLOCS.with(Cell::get), BIG_FREES.with(Cell::get));
    (
        r,
        Counts {
            allocs: a1 - a0,
            frees: f1 - f0,
        },
    )
}
