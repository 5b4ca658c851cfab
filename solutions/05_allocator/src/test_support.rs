//! Helpers the stages' tests share: a seeded random generator, a layout of `n` bytes, the heap's
//! invariant walker that fails the test on a broken heap, and a watchdog for tests that take a
//! lock.

use crate::s02_free_list::FreeStats;
use crate::s03_heap::{Heap, Strategy};
use std::alloc::Layout;

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

/// Runs `body` on a thread of its own and fails if it does not finish in time: with a
/// lock that is never released, the next request spins forever.
pub(crate) fn watchdog(body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        body();
        tx.send(()).unwrap();
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("the test panicked, or hung: is the lock released when its guard drops?");
}
