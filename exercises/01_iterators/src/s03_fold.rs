//! # Fold and the consumers built on it
//!
//! An adapter produces an iterator; a *consumer* drains one and produces a value. The mother
//! of the consumers is `fold`: start from `init`, and combine the accumulator with every item,
//! left to right, `g(g(g(init, x1), x2), x3)`. `count` is a fold that adds one per item, `sum`
//! a fold that adds the items, `last` a fold that keeps the latest, `for_each` a fold whose
//! accumulator is `()`.
//!
//! Write these as the free functions below; the trait's default methods (`it.fold(...)`,
//! `it.count()`, ...) call them. `fold` here is the *default*: it has nothing but `next` to work
//! with, so it is a `while let` loop. Build `count`, `sum`, `last` and `for_each` on the trait
//! method `iter.fold(...)`, not on a loop of your own: then an iterator that overrides `fold`
//! with something faster (stage 7) speeds them all up for free. (And never call `iter.fold` from
//! inside `fold` itself: for an iterator that does not override it, that is `fold` calling
//! itself forever.)
//!
//! `fold` always runs to the end. The *short-circuiting* consumers, `nth`, `any`, `all` and
//! `find`, must stop at the first item that decides the answer and leave the rest of the
//! iterator untouched, so they take `&mut I` and loop on `next` themselves. (std gives them a
//! `try_fold`, a fold that can stop early; that is the next step after this course.)
//!
//! Afterwards you can tell internal iteration (`fold`: the iterator drives the loop) from
//! external iteration (`next`: the caller drives), and know which consumers can use which.
//!
//! Read: *Programming Rust* (2nd ed.), chapter 15, "Consuming Iterators"; the provided methods
//! of `Iterator`: <https://doc.rust-lang.org/std/iter/trait.Iterator.html#method.fold>.

use std::ops::Add;

use crate::s01_trait::MyIterator;

/// The default `fold`: combines `init` with every item of `iter`, in order, using `next`.
#[inline]
pub fn fold<I, B, G>(iter: I, init: B, g: G) -> B
where
    I: MyIterator,
    G: FnMut(B, I::Item) -> B,
{
    // TODO: `g` applied to every item in order, starting from `init`; the final accumulator.
    // This is the default every other `fold` falls back to: it has only `next` to work with.
    todo!()
}

/// Calls `f` on every item, in order. Built on `iter.fold`.
#[inline]
pub fn for_each<I, F>(iter: I, f: F)
where
    I: MyIterator,
    F: FnMut(I::Item),
{
    // TODO: `f` called on every item, in order.
    todo!()
}

/// The number of items. Built on `iter.fold`.
#[inline]
pub fn count<I: MyIterator>(iter: I) -> usize {
    // TODO: the number of items (consuming them all).
    todo!()
}

/// `S::default()` plus every item. Built on `iter.fold`.
#[inline]
pub fn sum<I, S>(iter: I) -> S
where
    I: MyIterator,
    S: Default + Add<I::Item, Output = S>,
{
    // TODO: the items added up; no items sum to the default value of `S` (zero).
    todo!()
}

/// The last item, or `None` if there is none. Built on `iter.fold`.
#[inline]
pub fn last<I: MyIterator>(iter: I) -> Option<I::Item> {
    // TODO: the last item, or None for no items.
    todo!()
}

/// The `n`th item (counting from 0): consumes `n + 1` items, or all of them if there are fewer.
#[inline]
pub fn nth<I: MyIterator + ?Sized>(iter: &mut I, n: usize) -> Option<I::Item> {
    // TODO: the item at index n (counting from 0), the n items before it consumed; None if
    // the iterator ends first. Nothing is pulled after that item (or after the end).
    todo!()
}

/// Whether some item satisfies `predicate`; consumes items up to and including the first match.
#[inline]
pub fn any<I, P>(iter: &mut I, predicate: P) -> bool
where
    I: MyIterator,
    P: FnMut(I::Item) -> bool,
{
    // TODO: whether some item matches; not one item pulled after the first match.
    todo!()
}

/// Whether every item satisfies `predicate` (true for none); consumes items up to and
/// including the first that fails.
#[inline]
pub fn all<I, P>(iter: &mut I, predicate: P) -> bool
where
    I: MyIterator,
    P: FnMut(I::Item) -> bool,
{
    // TODO: whether every item matches (true for none); not one item pulled after the
    // first that fails.
    todo!()
}

/// The first item that satisfies `predicate`; consumes items up to and including it.
#[inline]
pub fn find<I, P>(iter: &mut I, predicate: P) -> Option<I::Item>
where
    I: MyIterator,
    P: FnMut(&I::Item) -> bool,
{
    // TODO: the first item that matches, or None; not one item pulled after it.
    todo!()
}

#[cfg(test)]
mod tests {
    use crate::s01_trait::{Counter, MyIter, MyIterator};
    use crate::test_support::probe;

    /// A source that only supports internal iteration: its `fold` works, its `next` panics.
    /// Consumers built on `iter.fold` work on it; consumers that loop on `next` do not.
    struct FoldOnly(Vec<u32>);

    impl MyIterator for FoldOnly {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            panic!("this consumer looped on next; build it on iter.fold instead")
        }
        fn fold<B, G>(self, init: B, mut g: G) -> B
        where
            G: FnMut(B, u32) -> B,
        {
            let mut acc = init;
            for x in self.0 {
                acc = g(acc, x);
            }
            acc
        }
    }

    #[test]
    fn fold_combines_left_to_right() {
        let s = Counter::new(4).fold(String::from("0"), |acc, x| format!("({acc}+{x})"));
        assert_eq!(
            s, "((((0+1)+2)+3)+4)",
            "fold must combine init with x1 first, then x2..."
        );
    }

    #[test]
    fn fold_on_empty_returns_init() {
        assert_eq!(Counter::new(0).fold(42, |_, _| panic!("no items")), 42);
    }

    #[test]
    fn fold_moves_items_into_the_accumulator() {
        let words = vec![String::from("lazy"), String::from("iterators")];
        let joined = words.my_iter().fold(String::new(), |acc, w| {
            if acc.is_empty() {
                w.clone()
            } else {
                acc + " " + w
            }
        });
        assert_eq!(joined, "lazy iterators");
    }

    #[test]
    fn count_counts_every_item() {
        assert_eq!(Counter::new(7).count(), 7);
        assert_eq!(Counter::new(0).count(), 0, "an empty iterator has count 0");
        assert_eq!((0..1000).my_iter().filter(|x| x % 3 == 0).count(), 334);
    }

    #[test]
    fn sum_adds_values_and_references() {
        let total: u32 = Counter::new(100).sum();
        assert_eq!(total, 5050);
        let data = [1i64, -2, 30];
        let total: i64 = data[..].my_iter().sum();
        assert_eq!(
            total, 29,
            "summing &i64 into an i64 works through Add<&i64> for i64"
        );
        let empty: u64 = (0u64..0).my_iter().sum();
        assert_eq!(empty, 0, "the sum of nothing is S::default()");
    }

    #[test]
    fn last_returns_the_final_item() {
        assert_eq!(Counter::new(5).last(), Some(5));
        assert_eq!(
            Counter::new(0).last(),
            None,
            "an empty iterator has no last item"
        );
        let words = ["x", "y", "z"];
        assert_eq!(words[..].my_iter().last(), Some(&"z"));
    }

    #[test]
    fn for_each_visits_every_item_in_order() {
        let mut seen = Vec::new();
        Counter::new(4).for_each(|x| seen.push(x));
        assert_eq!(seen, vec![1, 2, 3, 4]);
    }

    #[test]
    fn fold_based_consumers_go_through_fold() {
        assert_eq!(
            FoldOnly(vec![3, 4, 5]).count(),
            3,
            "count must be built on iter.fold, so that fold overrides speed it up"
        );
        assert_eq!(
            FoldOnly(vec![3, 4, 5]).sum::<u32>(),
            12,
            "sum must use iter.fold"
        );
        assert_eq!(
            FoldOnly(vec![3, 4, 5]).last(),
            Some(5),
            "last must use iter.fold"
        );
        let mut seen = Vec::new();
        FoldOnly(vec![1, 2]).for_each(|x| seen.push(x));
        assert_eq!(seen, vec![1, 2], "for_each must use iter.fold");
    }

    #[test]
    fn nth_zero_is_next() {
        let mut c = Counter::new(3);
        assert_eq!(c.nth(0), Some(1));
        assert_eq!(c.nth(0), Some(2));
    }

    #[test]
    fn nth_consumes_the_items_before_it() {
        let mut c = Counter::new(10);
        assert_eq!(c.nth(2), Some(3), "nth(2) is the third item");
        assert_eq!(c.nth(2), Some(6), "and counts again from where it stopped");
        assert_eq!(c.next(), Some(7));
    }

    #[test]
    fn nth_past_the_end_is_none_and_stops_at_the_end() {
        let (source, calls) = probe(3);
        let mut source = source;
        assert_eq!(source.nth(10), None);
        assert_eq!(
            calls.get(),
            4,
            "3 items then a None: nth must stop pulling at the end"
        );
    }

    #[test]
    fn any_stops_at_the_first_match() {
        let (mut source, calls) = probe(100);
        assert!(source.any(|x| x == 4));
        assert_eq!(
            calls.get(),
            4,
            "any must stop pulling once it found a match"
        );
        assert_eq!(source.next(), Some(5), "the rest is left in the iterator");
    }

    #[test]
    fn any_on_empty_or_without_match_is_false() {
        assert!(
            !Counter::new(0).any(|_| true),
            "no item, so no item matches"
        );
        let (mut source, calls) = probe(5);
        assert!(!source.any(|x| x > 9));
        assert_eq!(
            calls.get(),
            6,
            "without a match, any reads all 5 items and the None"
        );
    }

    #[test]
    fn all_stops_at_the_first_failure() {
        let (mut source, calls) = probe(100);
        assert!(!source.all(|x| x < 3));
        assert_eq!(
            calls.get(),
            3,
            "all must stop pulling at the first item that fails"
        );
    }

    #[test]
    fn all_on_empty_is_true() {
        assert!(
            Counter::new(0).all(|_| false),
            "every item of nothing satisfies anything"
        );
        assert!(Counter::new(5).all(|x| x <= 5));
    }

    #[test]
    fn find_returns_the_first_match_and_leaves_the_rest() {
        let (mut source, calls) = probe(100);
        assert_eq!(source.find(|x| x % 7 == 0), Some(7));
        assert_eq!(
            calls.get(),
            7,
            "find must stop pulling once it found a match"
        );
        assert_eq!(
            source.find(|x| x % 7 == 0),
            Some(14),
            "the search resumes after 7"
        );
        assert_eq!(Counter::new(5).find(|x| *x > 5), None);
    }

    #[test]
    fn find_on_borrowed_items() {
        let names = vec!["ann", "bob", "cyd"];
        let found = names.my_iter().find(|n| n.starts_with('b'));
        assert_eq!(found, Some(&"bob"));
    }
}
