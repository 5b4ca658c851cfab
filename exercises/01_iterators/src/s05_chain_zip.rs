//! # Chain, zip and enumerate: adapters over two iterators, and over state
//!
//! - `a.chain(b)` yields every item of `a`, then every item of `b`. It holds both halves as
//!   `Option`s. When `a` returns `None`, the chain sets its `a` to `None`, which drops the first
//!   half at once (freeing whatever it holds) and makes "is the first half done?" a fact of the
//!   type instead of a flag to keep in sync: there is no way to call `next` on a half that is
//!   gone. An iterator may do anything after it has returned `None` once (panic, start over),
//!   so the chain must never poll an exhausted first half again.
//! - `a.zip(b)` yields pairs `(x, y)` until either side runs out. It asks `a` first, and when
//!   `a` is done it does not call `b` at all: `b` may be expensive, or its next item may be
//!   one the caller still wants (`zip` a short iterator with `b.by_ref()`).
//! - `it.enumerate()` yields `(0, x0), (1, x1), ...`: an adapter with a counter of its own.
//!
//! Their `size_hint`s combine the inner ones: a chain has the *sum* (which can overflow: the
//! lower bound saturates at `usize::MAX`, the upper becomes `None` when it overflows, so use
//! `saturating_add` and `checked_add`), a zip the *minimum* (where `None` means "no bound", so
//! the minimum of `None` and `Some(n)` is `Some(n)`), an enumerate the inner one.
//!
//! Afterwards you can model an adapter's state with `Option` so that invalid states cannot be
//! represented, and compose hints without overflow.
//!
//! Read: *Programming Rust* (2nd ed.), chapter 15, "chain", "zip", "enumerate"; the source of
//! `core::iter::Chain`: <https://doc.rust-lang.org/src/core/iter/adapters/chain.rs.html>.

use crate::s01_trait::MyIterator;

/// The adapter returned by [`MyIterator::chain`]: the items of `a`, then those of `b`.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Chain<A, B> {
    /// The first half; `None` once it has been exhausted (and dropped).
    a: Option<A>,
    /// The second half.
    b: Option<B>,
}

impl<A, B> Chain<A, B> {
    #[inline]
    pub(crate) fn new(a: A, b: B) -> Self {
        Chain {
            a: Some(a),
            b: Some(b),
        }
    }
}

impl<A, B> MyIterator for Chain<A, B>
where
    A: MyIterator,
    B: MyIterator<Item = A::Item>,
{
    type Item = A::Item;

    #[inline]
    fn next(&mut self) -> Option<A::Item> {
        // TODO: every item of the first half, then every item of the second. Once the first
        // half has returned None it is never polled again, and it is dropped then, not when
        // the chain is.
        todo!()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: bounds on the number of items left, still true when that number does not
        // fit in a usize.
        todo!()
    }

    #[inline]
    fn fold<Acc, G>(self, init: Acc, g: G) -> Acc
    where
        G: FnMut(Acc, A::Item) -> Acc,
    {
        crate::s07_zero_cost::chain_fold(self.a, self.b, init, g)
    }
}

/// The adapter returned by [`MyIterator::zip`]: pairs of items of `a` and `b`.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Zip<A, B> {
    a: A,
    b: B,
}

impl<A, B> Zip<A, B> {
    #[inline]
    pub(crate) fn new(a: A, b: B) -> Self {
        Zip { a, b }
    }
}

impl<A: MyIterator, B: MyIterator> MyIterator for Zip<A, B> {
    type Item = (A::Item, B::Item);

    #[inline]
    fn next(&mut self) -> Option<(A::Item, B::Item)> {
        // TODO: a pair from both sides; never poll `b` when `a` is done.
        todo!()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: bounds on the number of items left, as tight as this adapter can know them.
        todo!()
    }
}

/// The adapter returned by [`MyIterator::enumerate`]: `(index, item)` pairs.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Enumerate<I> {
    iter: I,
    /// The index of the next item.
    count: usize,
}

impl<I> Enumerate<I> {
    #[inline]
    pub(crate) fn new(iter: I) -> Self {
        Enumerate { iter, count: 0 }
    }
}

impl<I: MyIterator> MyIterator for Enumerate<I> {
    type Item = (usize, I::Item);

    #[inline]
    fn next(&mut self) -> Option<(usize, I::Item)> {
        // TODO: pair the next item with its index, and count on.
        todo!()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: one item out per item in.
        todo!()
    }

    #[inline]
    fn fold<Acc, G>(self, init: Acc, g: G) -> Acc
    where
        G: FnMut(Acc, (usize, I::Item)) -> Acc,
    {
        crate::s07_zero_cost::enumerate_fold(self.iter, self.count, init, g)
    }
}

#[cfg(test)]
mod tests {
    use crate::s01_trait::{Counter, MyIter, MyIterator};
    use crate::test_support::{Hint, drain};
    use std::cell::Cell;
    use std::rc::Rc;

    /// Yields 1..=n, counts the calls to `next`, panics if polled again after its `None`, and
    /// records when it is dropped.
    struct Strict {
        left: Counter,
        done: bool,
        calls: Rc<Cell<usize>>,
        dropped: Rc<Cell<bool>>,
    }

    struct Watch {
        calls: Rc<Cell<usize>>,
        dropped: Rc<Cell<bool>>,
    }

    fn strict(n: u32) -> (Strict, Watch) {
        let calls = Rc::new(Cell::new(0));
        let dropped = Rc::new(Cell::new(false));
        let s = Strict {
            left: Counter::new(n),
            done: false,
            calls: Rc::clone(&calls),
            dropped: Rc::clone(&dropped),
        };
        (s, Watch { calls, dropped })
    }

    impl MyIterator for Strict {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            assert!(!self.done, "an exhausted iterator was polled again");
            self.calls.set(self.calls.get() + 1);
            let x = self.left.next();
            self.done = x.is_none();
            x
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            self.left.size_hint()
        }
    }

    impl Drop for Strict {
        fn drop(&mut self) {
            self.dropped.set(true);
        }
    }

    /// Yields 1, then None, then 2, then None forever: an iterator that is not fused, as
    /// iterators are allowed to be.
    struct Gappy {
        calls: u32,
    }

    impl MyIterator for Gappy {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            self.calls += 1;
            match self.calls {
                1 => Some(1),
                3 => Some(2),
                _ => None,
            }
        }
    }

    #[test]
    fn chain_yields_the_first_half_then_the_second() {
        assert_eq!(
            drain(Counter::new(2).chain((10u32..12).my_iter())),
            vec![1, 2, 10, 11]
        );
    }

    #[test]
    fn chain_with_empty_halves() {
        assert_eq!(drain(Counter::new(0).chain(Counter::new(2))), vec![1, 2]);
        assert_eq!(drain(Counter::new(2).chain(Counter::new(0))), vec![1, 2]);
        assert_eq!(
            drain(Counter::new(0).chain(Counter::new(0))),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn chain_never_polls_an_exhausted_first_half_again() {
        let (first, watch) = strict(2);
        let mut it = first.chain(Counter::new(3));
        assert_eq!(drain(&mut it), vec![1, 2, 1, 2, 3]);
        assert_eq!(it.next(), None);
        assert_eq!(
            it.next(),
            None,
            "asking again must not poll the first half again"
        );
        assert_eq!(
            watch.calls.get(),
            3,
            "2 items and one None from the first half, no more"
        );
    }

    #[test]
    fn chain_drops_the_first_half_once_it_is_exhausted() {
        let (first, watch) = strict(1);
        let mut it = first.chain(Counter::new(5));
        assert_eq!(it.next(), Some(1));
        assert!(!watch.dropped.get(), "the first half is still live");
        assert_eq!(it.next(), Some(1), "now from the second half");
        assert!(
            watch.dropped.get(),
            "once the first half returned None the chain must drop it (set its Option to None)"
        );
    }

    #[test]
    fn chain_size_hint_adds_and_saturates() {
        let mut it = Counter::new(3).chain(Counter::new(4));
        assert_eq!(it.size_hint(), (7, Some(7)));
        it.next();
        assert_eq!(it.size_hint(), (6, Some(6)));
        assert_eq!(
            Hint(usize::MAX, None).chain(Hint(5, Some(5))).size_hint(),
            (usize::MAX, None),
            "the lower bound saturates instead of overflowing"
        );
        assert_eq!(
            Hint(10, Some(usize::MAX))
                .chain(Hint(1, Some(1)))
                .size_hint(),
            (11, None),
            "an upper bound that overflows is no bound: None"
        );
        assert_eq!(Hint(1, Some(2)).chain(Hint(3, None)).size_hint(), (4, None));
        let mut drained = Counter::new(1).chain(Counter::new(1));
        drain(&mut drained);
        assert_eq!(drained.size_hint(), (0, Some(0)));
    }

    #[test]
    fn zip_pairs_items_until_the_shorter_ends() {
        let letters = ['a', 'b', 'c'];
        let pairs = drain(Counter::new(5).zip(letters[..].my_iter()));
        assert_eq!(pairs, vec![(1, &'a'), (2, &'b'), (3, &'c')]);
    }

    #[test]
    fn zip_does_not_poll_the_second_once_the_first_is_done() {
        let (second, watch) = strict(10);
        let pairs = drain(Counter::new(2).zip(second));
        assert_eq!(pairs, vec![(1, 1), (2, 2)]);
        assert_eq!(
            watch.calls.get(),
            2,
            "zip must ask the first iterator first and stop without calling the second"
        );
    }

    #[test]
    fn zip_with_by_ref_leaves_the_rest_of_the_second() {
        let mut numbers = Counter::new(5);
        let pairs = drain(Counter::new(2).zip(numbers.by_ref()));
        assert_eq!(pairs, vec![(1, 1), (2, 2)]);
        assert_eq!(numbers.next(), Some(3), "zip must not have eaten the 3");
    }

    #[test]
    fn zip_size_hint_is_the_minimum() {
        assert_eq!(
            Counter::new(3).zip(Counter::new(5)).size_hint(),
            (3, Some(3))
        );
        assert_eq!(
            Hint(2, None).zip(Hint(4, Some(6))).size_hint(),
            (2, Some(6))
        );
        assert_eq!(
            Hint(9, Some(9)).zip(Hint(1, None)).size_hint(),
            (1, Some(9))
        );
        assert_eq!(Hint(9, None).zip(Hint(1, None)).size_hint(), (1, None));
    }

    #[test]
    fn enumerate_counts_from_zero() {
        let words = ["zero", "one", "two"];
        let indexed = drain(words[..].my_iter().enumerate());
        assert_eq!(indexed, vec![(0, &"zero"), (1, &"one"), (2, &"two")]);
        assert_eq!(drain(Counter::new(0).enumerate()), vec![]);
    }

    #[test]
    fn enumerate_counts_items_not_calls() {
        let mut it = Counter::new(2).enumerate();
        assert_eq!(it.next(), Some((0, 1)));
        assert_eq!(it.next(), Some((1, 2)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
        assert_eq!(it.size_hint(), (0, Some(0)));
        let mut fresh = Counter::new(4).enumerate();
        assert_eq!(
            fresh.size_hint(),
            (4, Some(4)),
            "enumerate reports the inner hint"
        );
        fresh.next();
        assert_eq!(fresh.size_hint(), (3, Some(3)));
        let mut gappy = Gappy { calls: 0 }.enumerate();
        assert_eq!(gappy.next(), Some((0, 1)));
        assert_eq!(gappy.next(), None, "the source has a gap here");
        assert_eq!(
            gappy.next(),
            Some((1, 2)),
            "enumerate must count the items it yields, not the calls to next: the call that \
             found no item must not use up an index"
        );
    }

    #[test]
    fn adapters_compose_with_consumers() {
        let a = [1u64, 2, 3];
        let b = [10u64, 20];
        let total: u64 = a[..].my_iter().chain(b[..].my_iter()).sum();
        assert_eq!(total, 36);
        let dot: u64 = a[..]
            .my_iter()
            .zip(b[..].my_iter())
            .map(|(x, y)| x * y)
            .sum();
        assert_eq!(dot, 50);
        let odd_positions: Vec<u32> = drain(
            Counter::new(6)
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, x)| x),
        );
        assert_eq!(odd_positions, vec![2, 4, 6]);
        assert_eq!(
            Counter::new(3).chain(Counter::new(3)).enumerate().last(),
            Some((5, 3))
        );
    }
}
