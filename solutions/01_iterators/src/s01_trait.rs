//! # The MyIterator trait
//!
//! Every iterator in Rust is one method, `next`, behind a trait with an associated type. This
//! stage gives you that trait, `MyIterator`, and asks you for its first implementations:
//!
//! - `Counter`, which counts `1, 2, ..., limit` and then returns `None` forever;
//! - `RangeIter`, the source behind `(0..10).my_iter()`, which yields *values*;
//! - `SliceIter`, the source behind `slice.my_iter()` and `vec.my_iter()`, which yields
//!   *references* `&'a T` that live as long as the borrowed slice (a lifetime in a trait's
//!   associated type: `type Item = &'a T`);
//! - the impls of `MyIterator` for `&mut I` and `Box<I>`, so that a borrowed or boxed iterator
//!   is an iterator too, even when `I` is the unsized `dyn MyIterator<Item = T>`.
//!
//! (`SliceIter` also overrides `fold`; that override is given, and stage 7 explains it.)
//!
//! Each source also reports an exact `size_hint`: `(n, Some(n))` where `n` is the number of
//! items left. The trait's default, `(0, None)`, is always true but tells a collector nothing.
//!
//! **Associated type or generic parameter?** `Item` is an associated type because a type has
//! *one* item type: `Counter` yields `u32`, full stop, and callers never have to name it
//! (`fn f<I: MyIterator>(it: I)` instead of `fn f<T, I: MyIterator<T>>(it: I)`). A generic
//! parameter (`trait MyIterator<T>`) would let one type implement the trait many times, which
//! is what `FromMyIterator<A>` wants in stage 6 (a `String` is built from `char`s *and* from
//! `&str`s), and what an iterator does not.
//!
//! **Object safety.** Every combinator of the trait carries `where Self: Sized`, so that
//! `dyn MyIterator<Item = T>` stays usable; your impls for `&mut I` and `Box<I>` (with
//! `I: ?Sized`) are what give a trait object its combinators back. The doc of [`MyIterator`]
//! shows how, with the two mistakes the compiler rejects.
//!
//! Afterwards you can choose between an associated type and a generic parameter, keep a trait
//! object safe, and write the lifetime bound that ties an iterator's items to the data it
//! borrows.
//!
//! Read: *Programming Rust* (2nd ed.), chapter 11 (traits, associated types) and chapter 15
//! (the `Iterator` trait); *Rust for Rustaceans*, chapter 2 (trait objects, object safety);
//! the `Iterator` docs: <https://doc.rust-lang.org/std/iter/trait.Iterator.html>.

use std::ops::{Add, Range};

use crate::s02_map_filter::{Filter, Map};
use crate::s04_take_skip::{Skip, Take};
use crate::s05_chain_zip::{Chain, Enumerate, Zip};
use crate::s06_collect::FromMyIterator;

/// An iterator: something that hands out items one at a time through [`MyIterator::next`].
///
/// Only `next` is required. Everything else has a default: the consumers (`fold`, `count`,
/// `sum`, ...) are written in stage 3, the adapters (`map`, `filter`, `take`, ...) in stages 2,
/// 4 and 5, `collect` in stage 6.
///
/// # Object safety
///
/// The combinators (`map`, `filter`, `fold`, ...) are generic and take `self` by value, so a
/// `dyn MyIterator` could not have them in its vtable. Each one carries `where Self: Sized`: it
/// is left out of the vtable, and the trait stays usable as `dyn MyIterator<Item = T>`. Through
/// a `&mut dyn MyIterator` or a `Box<dyn MyIterator>` the combinators are still there, because
/// those *pointers* are sized iterators (the impls for `&mut I` and `Box<I>`).
///
/// ```
/// use iterators::s01_trait::{Counter, MyIterator};
///
/// // Any sized iterator, including `&mut dyn MyIterator`, thanks to `impl MyIterator for &mut I`
/// // with `I: ?Sized`.
/// fn first_two<I: MyIterator>(mut it: I) -> (Option<I::Item>, Option<I::Item>) {
///     (it.next(), it.next())
/// }
///
/// let mut boxed: Box<dyn MyIterator<Item = u32>> = Box::new(Counter::new(3));
/// assert_eq!(first_two(&mut *boxed), (Some(1), Some(2)));
/// assert_eq!(boxed.next(), Some(3));
/// assert_eq!(boxed.next(), None);
/// ```
///
/// A generic method without `where Self: Sized` makes the whole trait unusable as `dyn`:
///
/// ```compile_fail,E0038
/// trait Unsized {
///     type Item;
///     fn next(&mut self) -> Option<Self::Item>;
///     fn map<B, F: FnMut(Self::Item) -> B>(self, f: F) -> Vec<B>; // no `where Self: Sized`
/// }
/// fn takes(_: &mut dyn Unsized<Item = u32>) {}
/// ```
///
/// and a `where Self: Sized` method cannot be called on the trait object itself, only on a
/// sized pointer to it:
///
/// ```compile_fail
/// use iterators::s01_trait::{Counter, MyIterator};
///
/// let mut counter = Counter::new(3);
/// let it: &mut dyn MyIterator<Item = u32> = &mut counter;
/// let total = (*it).fold(0, |acc, x| acc + x); // `(*it)` is unsized: `fold` is not in the vtable
/// ```
pub trait MyIterator {
    /// The type of the items: one per iterator type.
    type Item;

    /// Advances the iterator and returns the next item, or `None` when it is exhausted.
    fn next(&mut self) -> Option<Self::Item>;

    /// Bounds on the number of items left: `(lower, upper)`, where `upper` is `None` when there
    /// is no known upper bound. A hint, never a promise: no code may rely on it for safety.
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }

    /// Calls `f` on each item, lazily (stage 2).
    #[inline]
    fn map<B, F>(self, f: F) -> Map<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> B,
    {
        Map::new(self, f)
    }

    /// Yields only the items for which `predicate` returns `true`, lazily (stage 2).
    #[inline]
    fn filter<P>(self, predicate: P) -> Filter<Self, P>
    where
        Self: Sized,
        P: FnMut(&Self::Item) -> bool,
    {
        Filter::new(self, predicate)
    }

    /// Folds every item into an accumulator: `g(...g(g(init, x1), x2)..., xn)` (stage 3).
    #[inline]
    fn fold<B, G>(self, init: B, g: G) -> B
    where
        Self: Sized,
        G: FnMut(B, Self::Item) -> B,
    {
        crate::s03_fold::fold(self, init, g)
    }

    /// Calls `f` on every item, in order (stage 3).
    #[inline]
    fn for_each<F>(self, f: F)
    where
        Self: Sized,
        F: FnMut(Self::Item),
    {
        crate::s03_fold::for_each(self, f)
    }

    /// Consumes the iterator and returns the number of items (stage 3).
    #[inline]
    fn count(self) -> usize
    where
        Self: Sized,
    {
        crate::s03_fold::count(self)
    }

    /// Adds every item to `S::default()` (stage 3).
    #[inline]
    fn sum<S>(self) -> S
    where
        Self: Sized,
        S: Default + Add<Self::Item, Output = S>,
    {
        crate::s03_fold::sum(self)
    }

    /// Consumes the iterator and returns its last item (stage 3).
    #[inline]
    fn last(self) -> Option<Self::Item>
    where
        Self: Sized,
    {
        crate::s03_fold::last(self)
    }

    /// Returns the `n`th item (from 0), consuming it and the `n` items before it (stage 3).
    #[inline]
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        crate::s03_fold::nth(self, n)
    }

    /// Whether `predicate` holds for some item; stops at the first that matches (stage 3).
    #[inline]
    fn any<P>(&mut self, predicate: P) -> bool
    where
        Self: Sized,
        P: FnMut(Self::Item) -> bool,
    {
        crate::s03_fold::any(self, predicate)
    }

    /// Whether `predicate` holds for every item; stops at the first that fails (stage 3).
    #[inline]
    fn all<P>(&mut self, predicate: P) -> bool
    where
        Self: Sized,
        P: FnMut(Self::Item) -> bool,
    {
        crate::s03_fold::all(self, predicate)
    }

    /// Returns the first item for which `predicate` holds, leaving the rest (stage 3).
    #[inline]
    fn find<P>(&mut self, predicate: P) -> Option<Self::Item>
    where
        Self: Sized,
        P: FnMut(&Self::Item) -> bool,
    {
        crate::s03_fold::find(self, predicate)
    }

    /// Yields at most the first `n` items (stage 4).
    #[inline]
    fn take(self, n: usize) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, n)
    }

    /// Skips the first `n` items, lazily (stage 4).
    #[inline]
    fn skip(self, n: usize) -> Skip<Self>
    where
        Self: Sized,
    {
        Skip::new(self, n)
    }

    /// Yields the items of `self`, then those of `other` (stage 5).
    #[inline]
    fn chain<U>(self, other: U) -> Chain<Self, U>
    where
        Self: Sized,
        U: MyIterator<Item = Self::Item>,
    {
        Chain::new(self, other)
    }

    /// Yields pairs `(a, b)` until either side is exhausted (stage 5).
    #[inline]
    fn zip<U>(self, other: U) -> Zip<Self, U>
    where
        Self: Sized,
        U: MyIterator,
    {
        Zip::new(self, other)
    }

    /// Yields `(index, item)` pairs, counting from 0 (stage 5).
    #[inline]
    fn enumerate(self) -> Enumerate<Self>
    where
        Self: Sized,
    {
        Enumerate::new(self)
    }

    /// Builds a collection from the items (stage 6).
    #[inline]
    fn collect<C>(self) -> C
    where
        Self: Sized,
        C: FromMyIterator<Self::Item>,
    {
        C::from_my_iter(self)
    }

    /// Borrows the iterator, so that an adapter can consume part of it and leave the rest.
    #[inline]
    fn by_ref(&mut self) -> &mut Self
    where
        Self: Sized,
    {
        self
    }
}

/// Counts `1, 2, ..., limit`, then returns `None` forever.
#[derive(Debug, Clone)]
pub struct Counter {
    /// The last number handed out (0 before the first call to `next`).
    count: u32,
    limit: u32,
}

impl Counter {
    /// A counter that yields `1..=limit`.
    #[inline]
    pub fn new(limit: u32) -> Self {
        Counter { count: 0, limit }
    }
}

impl MyIterator for Counter {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        // Invariant: count <= limit, so the increment cannot overflow.
        if self.count < self.limit {
            self.count += 1;
            Some(self.count)
        } else {
            None
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.limit - self.count) as usize;
        (left, Some(left))
    }
}

/// Integer types a [`RangeIter`] can step through. Implemented for the primitive integers.
pub trait Step: Copy + PartialOrd {
    /// The next value. Only called when `self < end` for some `end`, so it cannot overflow.
    fn successor(self) -> Self;
    /// The number of values in `start..end`, if it fits in a `usize` (0 when `start >= end`).
    fn steps_between(start: Self, end: Self) -> Option<usize>;
}

macro_rules! impl_step {
    ($($t:ty),*) => {$(
        impl Step for $t {
            #[inline]
            fn successor(self) -> Self {
                self + 1
            }
            #[inline]
            fn steps_between(start: Self, end: Self) -> Option<usize> {
                if start >= end {
                    Some(0)
                } else {
                    // The difference of two values of a type fits in the type's unsigned twin,
                    // which i128 holds for every type here but u128/i128 themselves.
                    usize::try_from((end as i128).checked_sub(start as i128)?).ok()
                }
            }
        }
    )*};
}

impl_step!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// The source behind `(start..end).my_iter()`: yields `start, start + 1, ..., end - 1`.
#[derive(Debug, Clone)]
pub struct RangeIter<A> {
    start: A,
    end: A,
}

impl<A: Step> MyIterator for RangeIter<A> {
    type Item = A;

    #[inline]
    fn next(&mut self) -> Option<A> {
        if self.start < self.end {
            let value = self.start;
            self.start = value.successor();
            Some(value)
        } else {
            None
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match A::steps_between(self.start, self.end) {
            Some(n) => (n, Some(n)),
            None => (usize::MAX, None),
        }
    }
}

/// The source behind `slice.my_iter()` and `vec.my_iter()`: yields `&'a T`, borrowed from the
/// slice for as long as the slice itself is borrowed.
#[derive(Debug, Clone)]
pub struct SliceIter<'a, T> {
    /// The items not yet handed out.
    rest: &'a [T],
}

impl<'a, T> MyIterator for SliceIter<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        let (first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rest.len(), Some(self.rest.len()))
    }

    /// Internal iteration over a slice: a plain `for` loop, which the compiler unrolls and
    /// vectorises better than repeated calls to `next`. (Given; stage 7 is about why.)
    #[inline]
    fn fold<B, G>(self, init: B, mut g: G) -> B
    where
        G: FnMut(B, &'a T) -> B,
    {
        let mut acc = init;
        for x in self.rest {
            acc = g(acc, x);
        }
        acc
    }
}

/// Types with a `my_iter()` method that starts iterating over them.
pub trait MyIter {
    /// The iterator `my_iter` returns.
    type Iter: MyIterator;

    /// Starts iterating.
    fn my_iter(self) -> Self::Iter;
}

impl<A: Step> MyIter for Range<A> {
    type Iter = RangeIter<A>;

    #[inline]
    fn my_iter(self) -> RangeIter<A> {
        RangeIter {
            start: self.start,
            end: self.end,
        }
    }
}

impl<'a, T> MyIter for &'a [T] {
    type Iter = SliceIter<'a, T>;

    #[inline]
    fn my_iter(self) -> SliceIter<'a, T> {
        SliceIter { rest: self }
    }
}

impl<'a, T> MyIter for &'a Vec<T> {
    type Iter = SliceIter<'a, T>;

    #[inline]
    fn my_iter(self) -> SliceIter<'a, T> {
        SliceIter {
            rest: self.as_slice(),
        }
    }
}

/// A borrowed iterator is an iterator: `next` advances the one it points to. `?Sized` lets `I`
/// be `dyn MyIterator<Item = T>`.
impl<I: MyIterator + ?Sized> MyIterator for &mut I {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        (**self).next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (**self).size_hint()
    }
}

/// A boxed iterator is an iterator, `Box<dyn MyIterator<Item = T>>` included.
impl<I: MyIterator + ?Sized> MyIterator for Box<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        (**self).next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (**self).size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{drain, probe};

    #[test]
    fn counter_counts_from_one_to_its_limit() {
        assert_eq!(
            drain(Counter::new(5)),
            vec![1, 2, 3, 4, 5],
            "Counter::new(5) must yield 1, 2, 3, 4, 5"
        );
    }

    #[test]
    fn counter_returns_none_forever_once_done() {
        let mut c = Counter::new(1);
        assert_eq!(c.next(), Some(1));
        for _ in 0..3 {
            assert_eq!(
                c.next(),
                None,
                "an exhausted Counter must keep returning None"
            );
        }
    }

    #[test]
    fn counter_with_limit_zero_is_empty() {
        assert_eq!(
            Counter::new(0).next(),
            None,
            "Counter::new(0) yields nothing"
        );
    }

    #[test]
    fn counter_size_hint_is_exact_and_shrinks() {
        let mut c = Counter::new(3);
        assert_eq!(
            c.size_hint(),
            (3, Some(3)),
            "a fresh Counter::new(3) has 3 items left"
        );
        c.next();
        assert_eq!(
            c.size_hint(),
            (2, Some(2)),
            "after one next, 2 items are left"
        );
        c.next();
        c.next();
        assert_eq!(
            c.size_hint(),
            (0, Some(0)),
            "an exhausted Counter has 0 items left"
        );
        c.next();
        assert_eq!(
            c.size_hint(),
            (0, Some(0)),
            "next past the end must not go negative"
        );
    }

    #[test]
    fn default_size_hint_claims_nothing() {
        // `Probe` implements `next` only, so it has the trait's default `size_hint`.
        let (p, _) = probe(3);
        assert_eq!(
            p.size_hint(),
            (0, None),
            "the default size_hint must be (0, None): at least none, at most unknown, since an \
             iterator that did not say otherwise may yield anything from nothing to forever"
        );
    }

    #[test]
    fn range_my_iter_yields_values() {
        let v: Vec<i32> = drain((0..5).my_iter());
        assert_eq!(
            v,
            vec![0, 1, 2, 3, 4],
            "(0..5).my_iter() yields 0, 1, 2, 3, 4 by value"
        );
    }

    #[test]
    fn range_works_for_other_integer_types() {
        assert_eq!(drain((250u8..255).my_iter()), vec![250, 251, 252, 253, 254]);
        assert_eq!(drain((-2i64..1).my_iter()), vec![-2, -1, 0]);
        assert_eq!(drain((7usize..8).my_iter()), vec![7]);
    }

    #[test]
    fn empty_and_reversed_ranges_yield_nothing() {
        assert_eq!(drain((3..3).my_iter()), Vec::<i32>::new(), "3..3 is empty");
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = (5..2).my_iter();
        assert_eq!(reversed.size_hint(), (0, Some(0)), "5..2 has no items");
        assert_eq!(
            drain(reversed),
            Vec::<i32>::new(),
            "5..2 is empty, not a countdown"
        );
    }

    #[test]
    fn range_size_hint_is_exact() {
        let mut r = (10u32..20).my_iter();
        assert_eq!(r.size_hint(), (10, Some(10)), "10..20 has 10 items");
        r.next();
        assert_eq!(r.size_hint(), (9, Some(9)), "one taken, 9 left");
        if cfg!(target_pointer_width = "64") {
            let wide = (i64::MIN..i64::MAX).my_iter();
            assert_eq!(
                wide.size_hint(),
                (usize::MAX, Some(usize::MAX)),
                "i64::MIN..i64::MAX has 2^64 - 1 items: exactly usize::MAX, no overflow"
            );
        }
    }

    #[test]
    fn slice_my_iter_yields_references_into_the_slice() {
        let data = [10, 20, 30];
        let refs = drain(data[..].my_iter());
        assert_eq!(refs, vec![&10, &20, &30]);
        for (r, original) in refs.iter().zip(data.iter()) {
            assert!(
                std::ptr::eq(*r, original),
                "my_iter on a slice must hand out references to its elements, not copies"
            );
        }
    }

    #[test]
    fn vec_my_iter_borrows_the_vec() {
        let names = vec![String::from("ada"), String::from("grace")];
        let lens: Vec<usize> = drain(names.my_iter())
            .into_iter()
            .map(|s| s.len())
            .collect();
        assert_eq!(lens, vec![3, 5]);
        assert_eq!(names.len(), 2, "the Vec is only borrowed and still usable");
    }

    #[test]
    fn slice_size_hint_is_exact() {
        let data = [1u8, 2, 3, 4];
        let mut it = data[..].my_iter();
        assert_eq!(it.size_hint(), (4, Some(4)));
        it.next();
        it.next();
        assert_eq!(it.size_hint(), (2, Some(2)), "two taken, two left");
        let empty: &[u8] = &[];
        assert_eq!(empty.my_iter().size_hint(), (0, Some(0)));
        assert_eq!(empty.my_iter().next(), None);
    }

    /// Takes the first item through a generic `I`, so `I = &mut Counter` uses the `&mut I` impl.
    fn first<I: MyIterator>(mut it: I) -> Option<I::Item> {
        it.next()
    }

    #[test]
    fn mut_ref_advances_the_original() {
        let mut c = Counter::new(5);
        assert_eq!(first(&mut c), Some(1));
        assert_eq!(first(&mut c), Some(2));
        let borrowed = &mut c;
        assert_eq!(
            MyIterator::size_hint(&borrowed),
            (3, Some(3)),
            "&mut I must report I's size_hint"
        );
        assert_eq!(
            c.next(),
            Some(3),
            "next through &mut c must advance c itself"
        );
        assert_eq!(drain(&mut c), vec![4, 5], "drain(&mut c) drains c");
        assert_eq!(c.next(), None);
    }

    #[test]
    fn mut_ref_to_dyn_is_an_iterator() {
        let mut c = Counter::new(3);
        let dynamic: &mut dyn MyIterator<Item = u32> = &mut c;
        assert_eq!(
            first(&mut *dynamic),
            Some(1),
            "&mut dyn MyIterator is a MyIterator"
        );
        assert_eq!(drain(dynamic), vec![2, 3]);
    }

    #[test]
    fn boxed_dyn_iterator_works() {
        let mut boxed: Box<dyn MyIterator<Item = u32>> = Box::new(Counter::new(3));
        assert_eq!(
            boxed.size_hint(),
            (3, Some(3)),
            "Box<dyn> reports the inner size_hint"
        );
        assert_eq!(boxed.next(), Some(1));
        let rest = drain(boxed);
        assert_eq!(
            rest,
            vec![2, 3],
            "a Box<dyn MyIterator> is itself a MyIterator"
        );
    }

    #[test]
    fn dyn_iterators_of_different_types_share_one_vec() {
        let data = [7u32, 8];
        let sources: Vec<Box<dyn MyIterator<Item = u32>>> =
            vec![Box::new(Counter::new(2)), Box::new((5u32..7).my_iter())];
        let mut all = Vec::new();
        for mut source in sources {
            let dynamic: &mut dyn MyIterator<Item = u32> = &mut *source;
            all.extend(drain(dynamic));
        }
        all.extend(drain(data[..].my_iter()).into_iter().copied());
        assert_eq!(all, vec![1, 2, 5, 6, 7, 8]);
    }
}
