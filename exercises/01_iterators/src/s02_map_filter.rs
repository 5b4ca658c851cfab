//! # Map and filter: lazy adapters
//!
//! An adapter is a struct that *owns* the iterator it adapts and the closure it applies, and
//! implements `MyIterator` itself. `it.map(f)` does no work at all: it moves `it` and `f` into a
//! `Map { iter, f }` and returns it. Work happens only when someone calls `next` on the `Map`,
//! which calls `next` on the inner iterator and applies `f` to what comes out. That is
//! laziness: `Counter::new(3).map(|x| x * 2)` computes nothing until it is consumed, and a
//! pipeline `a.map(f).filter(p)` is a chain of structs nested like Russian dolls,
//! `Filter<Map<A, F>, P>`, each with a `next` that pulls from the one inside.
//!
//! Build `Map::next` and `Filter::next`, and their `size_hint`s:
//!
//! - `Map` yields exactly as many items as its inner iterator, so it reports the inner hint.
//! - `Filter` yields between none and all of them: `(0, upper of the inner)`.
//!
//! The closures are `FnMut`, not `Fn`: a closure may update state it captured (a running
//! total, a counter of calls), and the adapter owns it, so it can call it through `&mut self`.
//! `Filter` calls its predicate exactly once per inner item, and `Map` calls `f` exactly once
//! per item it yields, never for an item nobody asked for.
//!
//! (Each adapter also overrides `fold`, delegating to a function of stage 7; leave those lines
//! as they are until then.)
//!
//! Because an adapter takes its source by value, the source is gone once adapted: the compiler
//! rejects any later use of it. Borrow it with `by_ref()` (or `&mut it`) to adapt part of it
//! and keep the rest:
//!
//! ```compile_fail,E0382
//! use iterators::s01_trait::{Counter, MyIterator};
//!
//! let mut counter = Counter::new(5);
//! let mut doubled = counter.map(|x| x * 2);
//! assert_eq!(doubled.next(), Some(2));
//! assert_eq!(counter.next(), Some(2)); // `counter` was moved into the Map
//! ```
//!
//! ```
//! use iterators::s01_trait::{Counter, MyIterator};
//!
//! let mut counter = Counter::new(5);
//! let mut doubled = counter.by_ref().map(|x| x * 2);
//! assert_eq!(doubled.next(), Some(2));
//! assert_eq!(counter.next(), Some(2)); // the Map only borrowed `counter`
//! ```
//!
//! Afterwards you can write a lazy adapter that owns its inner iterator and an `FnMut`, and
//! chain methods into pipelines whose types the compiler builds for you.
//!
//! Read: *Programming Rust* (2nd ed.), chapter 14 (closures, `FnMut`) and chapter 15
//! ("Iterator Adapters"); the source of `core::iter::Map`:
//! <https://doc.rust-lang.org/src/core/iter/adapters/map.rs.html>.

use crate::s01_trait::MyIterator;

/// The adapter returned by [`MyIterator::map`]: yields `f(x)` for every `x` of `iter`.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Map<I, F> {
    iter: I,
    f: F,
}

impl<I, F> Map<I, F> {
    #[inline]
    pub(crate) fn new(iter: I, f: F) -> Self {
        Map { iter, f }
    }
}

impl<B, I, F> MyIterator for Map<I, F>
where
    I: MyIterator,
    F: FnMut(I::Item) -> B,
{
    type Item = B;

    #[inline]
    fn next(&mut self) -> Option<B> {
        // TODO: `f` of the inner iterator's next item; None when the inner iterator is done.
        // Exactly one inner item pulled, and `f` called once, per call.
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
        G: FnMut(Acc, B) -> Acc,
    {
        crate::s07_zero_cost::map_fold(self.iter, self.f, init, g)
    }
}

/// The adapter returned by [`MyIterator::filter`]: yields the items of `iter` for which
/// `predicate` returns `true`.
#[must_use = "iterator adapters are lazy and do nothing unless consumed"]
#[derive(Debug, Clone)]
pub struct Filter<I, P> {
    iter: I,
    predicate: P,
}

impl<I, P> Filter<I, P> {
    #[inline]
    pub(crate) fn new(iter: I, predicate: P) -> Self {
        Filter { iter, predicate }
    }
}

impl<I, P> MyIterator for Filter<I, P>
where
    I: MyIterator,
    P: FnMut(&I::Item) -> bool,
{
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        // TODO: the next inner item that passes the predicate, or None when the inner
        // iterator ends first. The predicate sees each inner item exactly once.
        todo!()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: bounds on the number of items left, as tight as this adapter can know them
        // without calling the predicate.
        todo!()
    }

    #[inline]
    fn fold<Acc, G>(self, init: Acc, g: G) -> Acc
    where
        G: FnMut(Acc, I::Item) -> Acc,
    {
        crate::s07_zero_cost::filter_fold(self.iter, self.predicate, init, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_trait::{Counter, MyIter};
    use crate::test_support::{Untouchable, drain, probe};
    use std::cell::Cell;

    #[test]
    fn map_applies_the_function_to_every_item() {
        assert_eq!(drain(Counter::new(4).map(|x| x * 10)), vec![10, 20, 30, 40]);
    }

    #[test]
    fn map_can_change_the_item_type() {
        let words = ["a", "bb", "ccc"];
        let lens: Vec<usize> = drain(words[..].my_iter().map(|w| w.len()));
        assert_eq!(lens, vec![1, 2, 3]);
        let labels = drain((1..3).my_iter().map(|n| format!("#{n}")));
        assert_eq!(labels, vec!["#1".to_string(), "#2".to_string()]);
    }

    #[test]
    fn map_on_empty_yields_nothing_and_never_calls_f() {
        let mut it = Counter::new(0).map(|_: u32| -> u32 { panic!("f called on an empty source") });
        assert_eq!(it.next(), None);
    }

    #[test]
    fn building_a_pipeline_does_no_work() {
        let _pipeline = Untouchable
            .map(|x| x + 1)
            .filter(|x| x % 2 == 0)
            .map(|x| x * 3);
        // Dropping it unconsumed must not touch the source either.
    }

    #[test]
    fn map_calls_f_once_per_item_pulled() {
        let calls = Cell::new(0);
        let mut it = Counter::new(10).map(|x| {
            calls.set(calls.get() + 1);
            x
        });
        assert_eq!(calls.get(), 0, "map must not call f before the first next");
        it.next();
        it.next();
        assert_eq!(calls.get(), 2, "two items pulled, so f ran exactly twice");
    }

    #[test]
    fn map_accepts_an_fnmut_that_updates_its_state() {
        let mut total = 0;
        let running: Vec<u32> = drain(Counter::new(4).map(|x| {
            total += x;
            total
        }));
        assert_eq!(
            running,
            vec![1, 3, 6, 10],
            "an FnMut closure keeps its running total"
        );
        assert_eq!(total, 10);
    }

    #[test]
    fn map_size_hint_is_the_inner_hint() {
        let mut it = Counter::new(5).map(|x| x + 1);
        assert_eq!(
            it.size_hint(),
            (5, Some(5)),
            "map yields one item per inner item"
        );
        it.next();
        assert_eq!(it.size_hint(), (4, Some(4)));
        assert_eq!(Untouchable.map(|x| x).size_hint(), (0, None));
    }

    #[test]
    fn filter_keeps_the_matching_items_in_order() {
        let evens = drain(Counter::new(10).filter(|x| x % 2 == 0));
        assert_eq!(evens, vec![2, 4, 6, 8, 10]);
    }

    #[test]
    fn filter_that_rejects_everything_is_empty() {
        let mut it = Counter::new(5).filter(|_| false);
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None, "asking again after the end is still None");
    }

    #[test]
    fn filter_calls_the_predicate_once_per_inner_item() {
        let (source, next_calls) = probe(6);
        let checked = Cell::new(0);
        let kept = drain(source.filter(|x| {
            checked.set(checked.get() + 1);
            *x > 3
        }));
        assert_eq!(kept, vec![4, 5, 6]);
        assert_eq!(
            checked.get(),
            6,
            "each of the 6 items must be tested exactly once"
        );
        assert_eq!(
            next_calls.get(),
            7,
            "6 items and the final None: 7 calls to next"
        );
    }

    #[test]
    fn filter_pulls_only_as_far_as_the_next_match() {
        let (source, next_calls) = probe(100);
        let mut it = source.filter(|x| x % 10 == 0);
        assert_eq!(
            next_calls.get(),
            0,
            "filter must not pull before the first next"
        );
        assert_eq!(it.next(), Some(10));
        assert_eq!(
            next_calls.get(),
            10,
            "finding 10 takes exactly 10 pulls, not more"
        );
    }

    #[test]
    fn filter_size_hint_lower_is_zero_upper_is_inner() {
        let it = Counter::new(8).filter(|x| x % 2 == 0);
        assert_eq!(
            it.size_hint(),
            (0, Some(8)),
            "a filter may keep none or all of 8 items"
        );
        assert_eq!(Untouchable.filter(|_| true).size_hint(), (0, None));
    }

    #[test]
    fn filter_then_map_on_borrowed_items() {
        let scores = vec![55u32, 91, 78, 99, 12];
        let passed: Vec<String> = drain(
            scores
                .my_iter()
                .filter(|s| **s >= 60)
                .map(|s| format!("{s}!")),
        );
        assert_eq!(passed, vec!["91!", "78!", "99!"]);
    }

    #[test]
    fn map_and_filter_work_on_a_borrowed_iterator() {
        let mut c = Counter::new(6);
        let first_odd_tripled = c.by_ref().filter(|x| x % 2 == 1).map(|x| x * 3).next();
        assert_eq!(first_odd_tripled, Some(3));
        assert_eq!(
            c.next(),
            Some(2),
            "the adapters only consumed what they pulled"
        );
    }
}
