//! # Take and skip: adapters that count
//!
//! `take(n)` yields at most `n` items; `skip(n)` drops the first `n` and yields the rest. Both
//! are adapters like `Map`: a struct owning the inner iterator and a count. The traps are all in
//! the edges:
//!
//! - `take(n)` must stop *before* pulling item `n + 1`: once it has yielded `n` items it
//!   returns `None` without touching the inner iterator. So `take(0)` never calls the inner
//!   `next` at all, and `take(3)` on an infinite iterator ends after consuming exactly 3 items
//!   (the rest is still there, if you took it `by_ref`).
//! - `skip(n)` is lazy like every adapter: building it skips nothing. The first `next` skips
//!   (use `nth`: it is made for this), later ones just pull.
//! - `size_hint` must stay *true* and exact where the inner one is: `take(n)` of `(lo, hi)` is at
//!   most `n` on both sides; `skip(n)` subtracts `n`, never going below 0 (`saturating_sub`). An
//!   infinite iterator reports `(usize::MAX, None)`; arithmetic on that must not overflow.
//!
//! Afterwards you can write adapters whose laziness and bounds are exact, and reason about how
//! many times an adapter pulls from what it wraps, which is what makes `take` safe on an
//! infinite source.
//!
//! Read: *Programming Rust* (2nd ed.), chapter 15, "take and take_while", "skip and
//! skip_while"; the source of `core::iter::Take`:
//! <https://doc.rust-lang.org/src/core/iter/adapters/take.rs.html>.

use crate::s01_trait::MyIterator;

/// The adapter returned by [`MyIterator::take`]: the first `n` items of `iter`, at most.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Take<I> {
    iter: I,
    /// How many items may still be yielded.
    n: usize,
}

impl<I> Take<I> {
    #[inline]
    pub(crate) fn new(iter: I, n: usize) -> Self {
        Take { iter, n }
    }
}

impl<I: MyIterator> MyIterator for Take<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        // TODO: the inner items, at most n of them in all; once n have gone out, None
        // without calling the inner `next` again (so `take(0)` never calls it).
        todo!()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: bounds on the number of items left, as tight as this adapter can know them.
        todo!()
    }
}

/// The adapter returned by [`MyIterator::skip`]: the items of `iter` after the first `n`.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Skip<I> {
    iter: I,
    /// How many items are still to be skipped (0 once the first `next` has run).
    n: usize,
}

impl<I> Skip<I> {
    #[inline]
    pub(crate) fn new(iter: I, n: usize) -> Self {
        Skip { iter, n }
    }
}

impl<I: MyIterator> MyIterator for Skip<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        // TODO: the inner items after the first n. The skipping happens on the first call,
        // not when the adapter is built, and only once.
        todo!()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: bounds on the number of items left, as tight as this adapter can know them.
        todo!()
    }

    #[inline]
    fn fold<Acc, G>(self, init: Acc, g: G) -> Acc
    where
        G: FnMut(Acc, I::Item) -> Acc,
    {
        crate::s07_zero_cost::skip_fold(self.iter, self.n, init, g)
    }
}

#[cfg(test)]
mod tests {
    use crate::s01_trait::{Counter, MyIter, MyIterator};
    use crate::test_support::{Hint, Untouchable, drain, probe};
    use std::cell::Cell;
    use std::rc::Rc;

    /// 0, 1, 2, ... forever (wrapping), counting the calls to `next`; reports an infinite hint.
    struct Naturals {
        next_value: u64,
        calls: Rc<Cell<usize>>,
    }

    fn naturals() -> (Naturals, Rc<Cell<usize>>) {
        let calls = Rc::new(Cell::new(0));
        let n = Naturals {
            next_value: 0,
            calls: Rc::clone(&calls),
        };
        (n, calls)
    }

    impl MyIterator for Naturals {
        type Item = u64;
        fn next(&mut self) -> Option<u64> {
            self.calls.set(self.calls.get() + 1);
            let v = self.next_value;
            self.next_value = v.wrapping_add(1);
            Some(v)
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (usize::MAX, None)
        }
    }

    #[test]
    fn take_yields_the_first_n_items() {
        assert_eq!(drain(Counter::new(10).take(3)), vec![1, 2, 3]);
    }

    #[test]
    fn take_more_than_available_yields_them_all() {
        assert_eq!(drain(Counter::new(2).take(5)), vec![1, 2]);
    }

    #[test]
    fn take_zero_never_touches_the_source() {
        let mut it = Untouchable.take(0);
        assert_eq!(
            it.next(),
            None,
            "take(0) must return None without calling the inner next"
        );
        assert_eq!(it.next(), None);
    }

    #[test]
    fn take_on_an_infinite_source_consumes_exactly_n() {
        let (mut source, calls) = naturals();
        let firsts = drain(source.by_ref().take(3));
        assert_eq!(firsts, vec![0, 1, 2], "take(3) of 0, 1, 2, ... ends");
        assert_eq!(
            calls.get(),
            3,
            "take(3) must pull exactly 3 items, not a 4th to see the end"
        );
        assert_eq!(
            source.next(),
            Some(3),
            "the item after the taken ones is still there"
        );
    }

    #[test]
    fn take_stops_pulling_once_done() {
        let (source, calls) = naturals();
        let mut it = source.take(2);
        it.next();
        it.next();
        for _ in 0..5 {
            assert_eq!(it.next(), None);
        }
        assert_eq!(
            calls.get(),
            2,
            "asking a finished take again must not pull the source"
        );
    }

    #[test]
    fn take_size_hint_is_capped_at_n() {
        assert_eq!(Counter::new(10).take(3).size_hint(), (3, Some(3)));
        assert_eq!(Counter::new(2).take(3).size_hint(), (2, Some(2)));
        assert_eq!(
            naturals().0.take(5).size_hint(),
            (5, Some(5)),
            "take(5) of an infinite source has exactly 5 items"
        );
        assert_eq!(Hint(1, None).take(4).size_hint(), (1, Some(4)));
        assert_eq!(Hint(7, Some(9)).take(8).size_hint(), (7, Some(8)));
        assert_eq!(Untouchable.take(0).size_hint(), (0, Some(0)));
        let mut it = Counter::new(10).take(3);
        it.next();
        assert_eq!(
            it.size_hint(),
            (2, Some(2)),
            "the cap shrinks as items are taken"
        );
    }

    #[test]
    fn skip_drops_the_first_n_items() {
        assert_eq!(drain(Counter::new(6).skip(4)), vec![5, 6]);
        assert_eq!(
            drain(Counter::new(3).skip(0)),
            vec![1, 2, 3],
            "skip(0) skips nothing"
        );
    }

    #[test]
    fn skip_past_the_end_is_empty() {
        let mut it = Counter::new(3).skip(10);
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn skip_past_the_end_stops_pulling_at_the_end() {
        let (source, calls) = probe(3);
        let mut it = source.skip(10);
        assert_eq!(it.next(), None);
        assert_eq!(
            calls.get(),
            4,
            "skip(10) of 3 items reads 3 items and a None; then skip must stop pulling once the \
             source is exhausted (an iterator may do anything when polled after its None)"
        );
    }

    #[test]
    fn skip_is_lazy() {
        let _it = Untouchable.skip(5);
        let (source, calls) = naturals();
        let mut it = source.skip(3);
        assert_eq!(calls.get(), 0, "building skip(3) must not pull anything");
        assert_eq!(it.next(), Some(3));
        assert_eq!(
            calls.get(),
            4,
            "the first next skips 3 and yields the 4th: 4 pulls"
        );
        assert_eq!(it.next(), Some(4));
        assert_eq!(calls.get(), 5, "after that, one pull per item");
    }

    #[test]
    fn skip_size_hint_subtracts_without_underflow() {
        assert_eq!(Counter::new(10).skip(3).size_hint(), (7, Some(7)));
        assert_eq!(
            Counter::new(2).skip(5).size_hint(),
            (0, Some(0)),
            "skipping more than there is leaves 0, not an underflow"
        );
        assert_eq!(
            naturals().0.skip(3).size_hint(),
            (usize::MAX - 3, None),
            "an unknown upper bound stays unknown"
        );
        let mut it = Counter::new(10).skip(3);
        it.next();
        assert_eq!(
            it.size_hint(),
            (6, Some(6)),
            "after skipping, the hint is the inner one"
        );
    }

    #[test]
    fn take_and_skip_compose() {
        let page: Vec<i32> = drain((0..100).my_iter().skip(20).take(5));
        assert_eq!(
            page,
            vec![20, 21, 22, 23, 24],
            "skip(20).take(5) is the third page of 10"
        );
        let (source, calls) = naturals();
        let window = drain(source.skip(2).take(2));
        assert_eq!(window, vec![2, 3]);
        assert_eq!(
            calls.get(),
            4,
            "skip(2).take(2) pulls exactly 4 items from an infinite source"
        );
    }

    #[test]
    fn consumers_work_through_take_and_skip() {
        assert_eq!(Counter::new(10).skip(8).count(), 2);
        assert_eq!(Counter::new(10).take(4).sum::<u32>(), 10);
        assert_eq!(Counter::new(10).skip(2).last(), Some(10));
        assert_eq!(naturals().0.take(1000).last(), Some(999));
    }
}
