//! Fixtures the stages' tests share: a way to drain an iterator with `next` alone, and sources
//! that show what an adapter or a consumer did to them.

use crate::s01_trait::{Counter, MyIterator};
use std::cell::Cell;
use std::rc::Rc;

/// The most items `drain` takes: more than any test's iterator yields.
const DRAIN_LIMIT: usize = 10_000;

/// Drains an iterator with `next` alone, so a stage's tests need nothing from later stages.
/// Panics past `DRAIN_LIMIT` items, so that an iterator that never ends fails its test instead
/// of hanging it.
pub(crate) fn drain<I: MyIterator>(mut it: I) -> Vec<I::Item> {
    let mut out = Vec::new();
    while let Some(x) = it.next() {
        assert!(
            out.len() < DRAIN_LIMIT,
            "the iterator yielded more than {DRAIN_LIMIT} items and kept going: \
             does `next` return None once it is exhausted?"
        );
        out.push(x);
    }
    out
}

/// A source that panics if anyone pulls from it: proves that nothing ran.
pub(crate) struct Untouchable;

impl MyIterator for Untouchable {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        panic!("the source was pulled from, but adapters must be lazy and pull only what they need")
    }
}

/// Yields 1..=n and counts the calls to `next`. It keeps the default size hint, `(0, None)`, so
/// nothing can learn from it how much is left without pulling.
pub(crate) struct Probe {
    left: Counter,
    calls: Rc<Cell<usize>>,
}

/// A `Probe` yielding 1..=n, and its count of calls to `next`.
pub(crate) fn probe(n: u32) -> (Probe, Rc<Cell<usize>>) {
    let calls = Rc::new(Cell::new(0));
    let p = Probe {
        left: Counter::new(n),
        calls: Rc::clone(&calls),
    };
    (p, calls)
}

impl MyIterator for Probe {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        self.calls.set(self.calls.get() + 1);
        self.left.next()
    }
}

/// Reports a hint it was given, whatever it yields (it yields nothing).
pub(crate) struct Hint(pub(crate) usize, pub(crate) Option<usize>);

impl MyIterator for Hint {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0, self.1)
    }
}
