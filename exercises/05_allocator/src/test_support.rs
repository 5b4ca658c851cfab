//! Helpers the stages' tests share: a seeded random generator, a layout of `n` bytes, the heap's
//! invariant walker that fails the test on a broken heap, the pointer a program hands back to
//! `free`, and a watchdog for tests that take a lock.

use crate::s02_free_list::FreeStats;
use crate::s03_heap::{Heap, Strategy};
use std::alloc::Layout;
use std::ptr::NonNull;
use std::time::Duration;

/// xorshift64: a tiny seeded generator, so every failure can be replayed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` bytes at the alignment of a word.
pub(crate) fn bytes(n: usize) -> Layout {
    Layout::from_size_align(n, 8).unwrap()
}

/// The heap's statistics, after its invariant walker found nothing wrong.
pub(crate) fn checked<S: Strategy>(heap: &Heap<S>) -> FreeStats {
    heap.check()
        .unwrap_or_else(|e| panic!("heap invariant broken: {e}"))
}

/// The pointer a program hands back to `free`: one made from a unique reference to exactly
/// the `len` bytes it was given, as a `Box` or a `&mut [u8]` gives it. Under Miri its
/// permission covers those bytes and no others; the block is filled with `0xA5` first.
pub(crate) fn handed_back(p: NonNull<u8>, len: usize) -> NonNull<u8> {
    // SAFETY: the tests pass a live block of at least `len` bytes that nothing else uses.
    let block: &mut [u8] = unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), len) };
    block.fill(0xA5);
    NonNull::from(block).cast()
}

/// How long a test that takes a lock may run before it counts as hung: the tests take well
/// under a second natively, and much longer under Miri. A lock that is never released fails
/// every such test, and they run two at a time, so this is short enough for all of them to
/// report before the stage's time limit.
pub(crate) const PATIENCE: Duration = Duration::from_secs(if cfg!(miri) { 20 } else { 5 });

/// Runs `body` on a thread of its own and fails if it does not finish in time: with a
/// lock that is never released, the next request spins forever.
pub(crate) fn watchdog(body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        body();
        tx.send(()).unwrap();
    });
    rx.recv_timeout(PATIENCE)
        .expect("the test panicked, or hung: is the lock released when its guard drops?");
}
