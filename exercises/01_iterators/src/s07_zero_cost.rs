//! # Zero cost, measured: internal iteration
//!
//! Run `mastery bench iterators` before you start this stage. Summing `a.chain(b)` through your
//! adapters is far slower than through std's, although the code does the same additions. The
//! reason is *external* iteration: the default `fold` (stage 3) calls `Chain::next` once per
//! item, and every call asks "is the first half still there?" before doing any work. With
//! nested adapters, each item pays one such test per layer, and the compiler cannot hoist them
//! out of the loop.
//!
//! The cure is *internal* iteration: let each adapter override `fold` and hand the loop to the
//! iterator inside it. `Chain::fold` is then "fold all of `a`, then fold all of `b` into the
//! result": two tight loops, no per-item test. `Map::fold` folds its inner iterator with a
//! closure that applies `f` and then `g`; `Filter::fold` with one that calls `g` only when the
//! predicate holds; `Enumerate::fold` counts as it goes; `Skip::fold` skips once (with `nth`)
//! and then folds the rest. Each layer turns into a closure wrapped around the next, the
//! innermost source runs one plain loop, and after inlining nothing of the layers is left:
//! that is what *zero-cost abstraction* means, and why std's adapters override `fold` (and
//! `try_fold`, the early-stopping version). The benchmark also shows where std still wins: its
//! `collect` trusts the exact length of a `map` over a range through `TrustedLen`, an unsafe
//! trait, and writes without a capacity check (stage 6's header says how the reference solution
//! matches it without trusting the length), and its `Zip` of two slices indexes both directly.
//!
//! Sources take part too: `SliceIter::fold` (given in stage 1) is a plain `for` loop over the
//! slice, which the compiler unrolls and vectorises, where a loop on `next` re-checks the slice
//! it just shortened.
//!
//! The adapters' `fold` methods already call the functions below. Each one currently drains
//! its iterator with `next`: correct, and slow. Rewrite each to call the inner iterator's
//! `fold` instead. The consumers of stage 3 are built on `fold`, so `sum`, `count`, `last`,
//! `for_each` and `collect` all get the speed-up.
//!
//! The functions carry `#[inline]`: a hint that lets the optimiser merge each layer's closure
//! into the loop of the layer below even across crates (std marks its adapters the same way).
//!
//! An override must *visit exactly what the `next`-based default visits*: the same items, in the
//! same order, with the closures called the same number of times, in the same interleaving,
//! including on an adapter that was partly consumed with `next` before `fold` (a chain whose
//! first half is already gone, an enumerate whose count is already at 3, a skip that has
//! already skipped). The tests compare each override with the default on all of these.
//!
//! Afterwards you can explain why iterator chains compile to the same loop as hand-written
//! code, and prove it with a benchmark instead of believing it.
//!
//! Read: the `fold` overrides in `core::iter::adapters`, e.g.
//! <https://doc.rust-lang.org/src/core/iter/adapters/chain.rs.html>; "Rust's iterators are
//! zero-cost" in *The Rust Programming Language*, chapter 13.4:
//! <https://doc.rust-lang.org/book/ch13-04-performance.html>; *Programming Rust* (2nd ed.),
//! chapter 15.

use crate::s01_trait::MyIterator;

/// `Map::fold`: folds `g` over `f(x)` for every item `x` of `iter`.
#[inline]
pub fn map_fold<I, F, B, Acc, G>(mut iter: I, mut f: F, init: Acc, mut g: G) -> Acc
where
    I: MyIterator,
    F: FnMut(I::Item) -> B,
    G: FnMut(Acc, B) -> Acc,
{
    // TODO: the same result, with no `next` call here: the inner iterator runs the loop.
    // This loop on `next` is correct but slow.
    let mut acc = init;
    while let Some(x) = iter.next() {
        acc = g(acc, f(x));
    }
    acc
}

/// `Filter::fold`: folds `g` over the items of `iter` that satisfy `predicate`.
#[inline]
pub fn filter_fold<I, P, Acc, G>(mut iter: I, mut predicate: P, init: Acc, mut g: G) -> Acc
where
    I: MyIterator,
    P: FnMut(&I::Item) -> bool,
    G: FnMut(Acc, I::Item) -> Acc,
{
    // TODO: the same result, with no `next` call per item: the inner iterator runs the
    // loop. This loop on `next` is correct but slow.
    let mut acc = init;
    while let Some(x) = iter.next() {
        if predicate(&x) {
            acc = g(acc, x);
        }
    }
    acc
}

/// `Skip::fold`: skips `n` items of `iter`, then folds `g` over the rest.
#[inline]
pub fn skip_fold<I, Acc, G>(mut iter: I, n: usize, init: Acc, mut g: G) -> Acc
where
    I: MyIterator,
    G: FnMut(Acc, I::Item) -> Acc,
{
    // TODO: the same result, with no `next` call per item: the inner iterator runs the loop
    // over what is left after the skip. This loop on `next` is correct but slow.
    let mut acc = init;
    let mut to_skip = n;
    while let Some(x) = iter.next() {
        if to_skip > 0 {
            to_skip -= 1;
        } else {
            acc = g(acc, x);
        }
    }
    acc
}

/// `Chain::fold`: folds `g` over what is left of `a`, then over `b`.
#[inline]
pub fn chain_fold<A, B, Acc, G>(mut a: Option<A>, mut b: Option<B>, init: Acc, mut g: G) -> Acc
where
    A: MyIterator,
    B: MyIterator<Item = A::Item>,
    G: FnMut(Acc, A::Item) -> Acc,
{
    // TODO: the same result, without asking "is `a` still there?" for every item. This loop
    // on `next` is correct but slow.
    let mut acc = init;
    loop {
        let x = match a.as_mut().and_then(|a| a.next()) {
            Some(x) => x,
            None => {
                a = None;
                match b.as_mut().and_then(|b| b.next()) {
                    Some(x) => x,
                    None => return acc,
                }
            }
        };
        acc = g(acc, x);
    }
}

/// `Enumerate::fold`: folds `g` over `(index, x)` for every item `x` of `iter`, the indices
/// starting at `count`.
#[inline]
pub fn enumerate_fold<I, Acc, G>(mut iter: I, count: usize, init: Acc, mut g: G) -> Acc
where
    I: MyIterator,
    G: FnMut(Acc, (usize, I::Item)) -> Acc,
{
    // TODO: the same result, with no `next` call per item: the inner iterator runs the loop,
    // and the indices go on from `count`. This loop on `next` is correct but slow.
    let mut acc = init;
    let mut index = count;
    while let Some(x) = iter.next() {
        acc = g(acc, (index, x));
        index += 1;
    }
    acc
}

#[cfg(test)]
mod tests {
    use crate::s01_trait::{MyIter, MyIterator};
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    /// What a `Recorder` saw: how often it was driven by `next` and by `fold`.
    #[derive(Default)]
    struct Stats {
        next_calls: Cell<usize>,
        fold_calls: Cell<usize>,
    }

    const POLLED_AFTER_NONE: &str = "the source was polled again after it returned None: once \
        it reports its end (a `nth` that returns None included), stop and return the accumulator";

    /// Yields its items through `next` or through an overridden `fold`, counting both.
    /// Like any iterator it may misbehave once it has returned `None`: it panics if polled again.
    struct Recorder {
        items: Vec<u32>,
        pos: usize,
        exhausted: bool,
        stats: Rc<Stats>,
    }

    fn recorder(items: Vec<u32>) -> (Recorder, Rc<Stats>) {
        let stats = Rc::new(Stats::default());
        let r = Recorder {
            items,
            pos: 0,
            exhausted: false,
            stats: Rc::clone(&stats),
        };
        (r, stats)
    }

    impl MyIterator for Recorder {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            assert!(!self.exhausted, "{POLLED_AFTER_NONE}");
            self.stats.next_calls.set(self.stats.next_calls.get() + 1);
            let x = self.items.get(self.pos).copied();
            self.pos += usize::from(x.is_some());
            self.exhausted = x.is_none();
            x
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            let left = self.items.len() - self.pos;
            (left, Some(left))
        }
        fn fold<B, G>(self, init: B, mut g: G) -> B
        where
            G: FnMut(B, u32) -> B,
        {
            assert!(!self.exhausted, "{POLLED_AFTER_NONE}");
            self.stats.fold_calls.set(self.stats.fold_calls.get() + 1);
            let mut acc = init;
            for &x in &self.items[self.pos..] {
                acc = g(acc, x);
            }
            acc
        }
    }

    /// The reference: a fold driven by `next` alone, what the overrides must agree with.
    fn fold_by_next<I: MyIterator, B>(mut it: I, init: B, mut g: impl FnMut(B, I::Item) -> B) -> B {
        let mut acc = init;
        while let Some(x) = it.next() {
            acc = g(acc, x);
        }
        acc
    }

    fn push<T>(mut v: Vec<T>, x: T) -> Vec<T> {
        v.push(x);
        v
    }

    /// Builds the same pipeline twice, pulls `prefix` items from each with `next`, then drains
    /// one with its `fold` and the other with `fold_by_next`, logging every closure call into a
    /// shared trace. The items and the traces must agree.
    fn agree<I, T>(make: impl Fn(Rc<RefCell<Vec<String>>>) -> I, prefix: usize, what: &str)
    where
        I: MyIterator<Item = T>,
        T: std::fmt::Debug + PartialEq,
    {
        let run = |use_fold: bool| {
            let log = Rc::new(RefCell::new(Vec::new()));
            let mut it = make(Rc::clone(&log));
            let mut items = Vec::new();
            for _ in 0..prefix {
                items.extend(it.next());
            }
            log.borrow_mut().push("fold starts".to_string());
            let g = |v: Vec<T>, x: T| {
                log.borrow_mut().push(format!("g({x:?})"));
                push(v, x)
            };
            let items = if use_fold {
                it.fold(items, g)
            } else {
                fold_by_next(it, items, g)
            };
            let trace = log.borrow().clone();
            (items, trace)
        };
        let (by_fold, fold_trace) = run(true);
        let (by_next, next_trace) = run(false);
        assert_eq!(
            by_fold, by_next,
            "{what}, {prefix} pulled first: fold must yield what next yields"
        );
        assert_eq!(
            fold_trace, next_trace,
            "{what}, {prefix} pulled first: fold must call the closures in the same order"
        );
    }

    fn logged(log: &Rc<RefCell<Vec<String>>>, entry: String) {
        log.borrow_mut().push(entry);
    }

    #[test]
    fn map_fold_iterates_internally() {
        let (source, stats) = recorder(vec![1, 2, 3]);
        let out = source.map(|x| x * 10).fold(Vec::new(), push);
        assert_eq!(out, vec![10, 20, 30]);
        assert_eq!(
            stats.next_calls.get(),
            0,
            "Map::fold must not call the inner next"
        );
        assert_eq!(
            stats.fold_calls.get(),
            1,
            "Map::fold must call the inner fold once"
        );
    }

    #[test]
    fn filter_fold_iterates_internally() {
        let (source, stats) = recorder(vec![1, 2, 3, 4]);
        let out = source.filter(|x| x % 2 == 0).fold(Vec::new(), push);
        assert_eq!(out, vec![2, 4]);
        assert_eq!(
            stats.next_calls.get(),
            0,
            "Filter::fold must not call the inner next"
        );
        assert_eq!(
            stats.fold_calls.get(),
            1,
            "Filter::fold must call the inner fold once"
        );
    }

    #[test]
    fn skip_fold_skips_then_iterates_internally() {
        let (source, stats) = recorder(vec![1, 2, 3, 4, 5]);
        let out = source.skip(2).fold(Vec::new(), push);
        assert_eq!(out, vec![3, 4, 5]);
        assert!(
            stats.next_calls.get() <= 2,
            "Skip::fold may pull the 2 skipped items with next, no more (pulled {})",
            stats.next_calls.get()
        );
        assert_eq!(
            stats.fold_calls.get(),
            1,
            "then it must fold the rest with the inner fold"
        );
    }

    #[test]
    fn skip_fold_past_the_end_returns_init() {
        let (source, stats) = recorder(vec![1, 2]);
        let out = source.skip(5).fold(vec![99], push);
        assert_eq!(out, vec![99], "nothing is left after skipping 5 of 2");
        assert!(stats.next_calls.get() <= 3, "skipping stops at the end");
    }

    #[test]
    fn chain_fold_iterates_both_halves_internally() {
        let (a, a_stats) = recorder(vec![1, 2]);
        let (b, b_stats) = recorder(vec![3]);
        let out = a.chain(b).fold(Vec::new(), push);
        assert_eq!(out, vec![1, 2, 3]);
        for (name, stats) in [("first", &a_stats), ("second", &b_stats)] {
            assert_eq!(
                stats.next_calls.get(),
                0,
                "Chain::fold must not call next on the {name} half"
            );
            assert_eq!(
                stats.fold_calls.get(),
                1,
                "Chain::fold must fold the {name} half once"
            );
        }
    }

    #[test]
    fn chain_fold_after_the_first_half_is_gone() {
        let (a, a_stats) = recorder(vec![1]);
        let (b, b_stats) = recorder(vec![2, 3]);
        let mut it = a.chain(b);
        assert_eq!(it.next(), Some(1));
        assert_eq!(it.next(), Some(2), "this drops the first half");
        let out = it.fold(Vec::new(), push);
        assert_eq!(out, vec![3]);
        assert_eq!(
            a_stats.fold_calls.get(),
            0,
            "a dropped half cannot be folded"
        );
        assert_eq!(
            b_stats.fold_calls.get(),
            1,
            "the rest of the second half is folded"
        );
    }

    #[test]
    fn enumerate_fold_iterates_internally_and_counts_on() {
        let (source, stats) = recorder(vec![5, 6, 7]);
        let mut it = source.enumerate();
        assert_eq!(it.next(), Some((0, 5)));
        let out = it.fold(Vec::new(), push);
        assert_eq!(
            out,
            vec![(1, 6), (2, 7)],
            "indices continue from where next left off"
        );
        assert_eq!(stats.next_calls.get(), 1, "only the one next before fold");
        assert_eq!(
            stats.fold_calls.get(),
            1,
            "Enumerate::fold must call the inner fold"
        );
    }

    #[test]
    fn a_whole_pipeline_runs_as_one_internal_loop() {
        let (a, a_stats) = recorder((1..=10).collect());
        let (b, b_stats) = recorder((11..=20).collect());
        let total: u32 = a
            .chain(b)
            .map(|x| x * 2)
            .filter(|x| x % 3 == 0)
            .enumerate()
            .skip(1)
            .map(|(i, x)| i as u32 * x)
            .sum();
        let expected: u32 = (1..=20)
            .map(|x| x * 2)
            .filter(|x| x % 3 == 0)
            .enumerate()
            .skip(1)
            .map(|(i, x)| i as u32 * x)
            .sum();
        assert_eq!(
            total, expected,
            "the pipeline must compute what std's computes"
        );
        assert_eq!(
            a_stats.fold_calls.get(),
            1,
            "sum -> fold must reach the first source's fold"
        );
        assert_eq!(b_stats.fold_calls.get(), 1, "and the second source's fold");
        assert!(
            a_stats.next_calls.get() <= 3,
            "only skip(1) may pull with next (the first source saw {} calls)",
            a_stats.next_calls.get()
        );
        assert_eq!(b_stats.next_calls.get(), 0);
    }

    #[test]
    fn map_fold_visits_what_next_visits() {
        for len in 0..4u32 {
            for prefix in 0..=(len as usize + 1) {
                agree(
                    |log| {
                        (0..len).my_iter().map(move |x| {
                            logged(&log, format!("f({x})"));
                            x + 100
                        })
                    },
                    prefix,
                    &format!("map over {len} items"),
                );
            }
        }
    }

    #[test]
    fn filter_fold_visits_what_next_visits() {
        for len in 0..6u32 {
            for prefix in 0..=(len as usize + 1) {
                agree(
                    |log| {
                        (0..len).my_iter().filter(move |x| {
                            logged(&log, format!("p({x})"));
                            x % 3 != 1
                        })
                    },
                    prefix,
                    &format!("filter over {len} items"),
                );
            }
        }
    }

    #[test]
    fn skip_fold_visits_what_next_visits() {
        for len in 0..5u32 {
            for n in 0..=(len as usize + 1) {
                for prefix in 0..2 {
                    agree(
                        |log| {
                            (0..len)
                                .my_iter()
                                .map(move |x| {
                                    logged(&log, format!("pulled {x}"));
                                    x
                                })
                                .skip(n)
                        },
                        prefix,
                        &format!("skip({n}) over {len} items"),
                    );
                }
            }
        }
    }

    #[test]
    fn chain_fold_visits_what_next_visits() {
        for a_len in 0..3u32 {
            for b_len in 0..3u32 {
                for prefix in 0..=((a_len + b_len) as usize + 1) {
                    agree(
                        |log| {
                            let log2 = Rc::clone(&log);
                            (0..a_len)
                                .my_iter()
                                .map(move |x| {
                                    logged(&log, format!("a{x}"));
                                    x
                                })
                                .chain((10..10 + b_len).my_iter().map(move |x| {
                                    logged(&log2, format!("b{x}"));
                                    x
                                }))
                        },
                        prefix,
                        &format!("chain of {a_len} and {b_len} items"),
                    );
                }
            }
        }
    }

    #[test]
    fn enumerate_fold_visits_what_next_visits() {
        for len in 0..4u32 {
            for prefix in 0..=(len as usize + 1) {
                agree(
                    |log| {
                        (0..len)
                            .my_iter()
                            .map(move |x| {
                                logged(&log, format!("pulled {x}"));
                                x * 7
                            })
                            .enumerate()
                    },
                    prefix,
                    &format!("enumerate over {len} items"),
                );
            }
        }
    }

    #[test]
    fn nested_pipelines_visit_what_next_visits() {
        let data: Vec<u32> = (0..40).map(|x| (x * 37) % 23).collect();
        for prefix in [0, 1, 5, 17, 100] {
            agree(
                |log| {
                    let l1 = Rc::clone(&log);
                    let l2 = Rc::clone(&log);
                    data.my_iter()
                        .map(move |x| {
                            logged(&l1, format!("m{x}"));
                            x * 3
                        })
                        .filter(move |x| {
                            logged(&l2, format!("f{x}"));
                            x % 2 == 0
                        })
                        .chain(data.my_iter().skip(30).map(|x| x + 1000))
                        .enumerate()
                        .skip(2)
                },
                prefix,
                "map, filter, chain, skip, enumerate, skip",
            );
        }
    }
}
