//! # Collect: one method, many collections
//!
//! `it.collect::<C>()` builds any collection `C` that implements `FromMyIterator<Item>`. The
//! trait is generic over the item type `A`, where `MyIterator` has an associated type: one
//! collection can be built from many item types (a `String` from `char`s and from `&str`s),
//! while an iterator has exactly one item type. `collect` itself is one line in the trait,
//! `C::from_my_iter(self)`; the work is in the impls, which you write:
//!
//! - `Vec<T>` from `T`, `String` from `char` and from `&str`, `HashMap<K, V>` from `(K, V)` pairs
//!   (a later pair replaces an earlier one with the same key);
//! - `SortedVec<T>`, a container of your own that keeps its items sorted, so that `contains`
//!   is a binary search: collecting into it is how it is built;
//! - `Result<C, E>` from `Result<T, E>`: `Ok` of the collection if every item is `Ok`, else the
//!   *first* `Err`, and not one item pulled after it. Build `C` from an adapter of your own that
//!   yields the `Ok` values and stops at the first `Err`, keeping the error aside.
//!
//! **Size hints.** A collector may use `size_hint().0` to reserve room up front (one
//! allocation instead of many), but it must not *trust* it: a buggy iterator may yield more or
//! fewer items than it claims, and the collection must still hold exactly what was yielded.
//!
//! **`impl Trait`.** Three small functions, [`parse_all`], [`even_squares`] and [`boxed`], use
//! `impl Trait` in argument and in return position and its dynamic alternative, `Box<dyn ..>`;
//! their docs say what each form means.
//!
//! A type that is not a collection has no `FromMyIterator` impl, and the compiler says so:
//!
//! ```compile_fail,E0277
//! use iterators::s01_trait::{Counter, MyIterator};
//!
//! let n: u32 = Counter::new(3).collect();
//! ```
//!
//! Afterwards you can write a trait generic over its input where an associated type would be
//! too narrow, use `impl Trait` on both sides of a signature, and chain a whole pipeline into
//! one expression:
//!
//! ```
//! use iterators::s01_trait::{MyIter, MyIterator};
//!
//! let v: Vec<i32> = (0..10).my_iter().filter(|x| x % 2 == 0).map(|x| x * x).take(3).collect();
//! assert_eq!(v, [0, 4, 16]);
//! ```
//!
//! Read: *Programming Rust* (2nd ed.), chapter 15, "Building Collections: collect and
//! FromIterator", and chapter 13 (utility traits); *Rust for Rustaceans*, chapter 2 (`impl
//! Trait`, trait objects and their lifetime bounds); *Rust Design Patterns*, "Newtype"
//! (`SortedVec` is one, whose only way in keeps its invariant):
//! <https://rust-unofficial.github.io/patterns/patterns/behavioural/newtype.html>.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::ParseIntError;

use crate::s01_trait::{MyIter, MyIterator};

/// Collections that can be built from a [`MyIterator`] of `A`s; what [`MyIterator::collect`]
/// calls.
#[diagnostic::on_unimplemented(
    message = "a value of type `{Self}` cannot be collected from an iterator of `{A}`",
    label = "not a collection of `{A}`: it has no `FromMyIterator<{A}>` impl"
)]
pub trait FromMyIterator<A>: Sized {
    /// Builds the collection from every item of `iter`.
    fn from_my_iter<I: MyIterator<Item = A>>(iter: I) -> Self;
}

/// A plain `push` loop is a complete answer. Why the reference does more:
///
/// `push` checks the capacity on every item, and that branch keeps the compiler from
/// vectorising the loop; std's `collect` skips it only for iterators that implement the
/// *unsafe* trait `TrustedLen`, whose implementors promise an exact hint. The reference impl
/// gets the same loop without trusting anyone: it pulls at most `size_hint().0` items into the
/// room reserved for them, each written through a pointer and counted with `set_len`, stops at
/// the first `None`, and `push`es whatever comes after. Its own loop counter, not the hint,
/// keeps every write inside the reserved room. That is the one `unsafe` block of this project,
/// there for stage 7's benchmark.
impl<T> FromMyIterator<T> for Vec<T> {
    #[inline]
    fn from_my_iter<I: MyIterator<Item = T>>(mut iter: I) -> Self {
        let lower = iter.size_hint().0;
        let mut v: Vec<T> = Vec::with_capacity(lower);
        // Up to `lower` items go into the room reserved for them without a capacity check, a
        // loop the compiler can vectorise. The hint only bounds the loop: `next` ends it.
        for _ in 0..lower {
            let Some(x) = iter.next() else { break };
            let len = v.len();
            // SAFETY: `v` was created with room for at least `lower` items, and each turn of
            // this loop, at most `lower` of them, adds one; so `len < lower <= v.capacity()`
            // and the slot at `len` is allocated and unused. The item is written before the
            // length counts it: `v` holds only initialised items at every step, even if a
            // later `next` panics.
            unsafe {
                v.as_mut_ptr().add(len).write(x);
                v.set_len(len + 1);
            }
        }
        // A hint that was too low: the rest goes through `push`, which grows `v` as needed.
        iter.for_each(|x| v.push(x));
        v
    }
}

impl FromMyIterator<char> for String {
    #[inline]
    fn from_my_iter<I: MyIterator<Item = char>>(iter: I) -> Self {
        // Every char is at least one byte.
        let mut s = String::with_capacity(iter.size_hint().0);
        iter.for_each(|c| s.push(c));
        s
    }
}

impl<'a> FromMyIterator<&'a str> for String {
    #[inline]
    fn from_my_iter<I: MyIterator<Item = &'a str>>(iter: I) -> Self {
        let mut s = String::new();
        iter.for_each(|part| s.push_str(part));
        s
    }
}

impl<K: Eq + Hash, V> FromMyIterator<(K, V)> for HashMap<K, V> {
    #[inline]
    fn from_my_iter<I: MyIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = HashMap::with_capacity(iter.size_hint().0);
        iter.for_each(|(k, v)| {
            map.insert(k, v);
        });
        map
    }
}

/// A vector whose items are always in ascending order, built by collecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedVec<T> {
    /// Invariant: sorted in ascending order.
    items: Vec<T>,
}

impl<T: Ord> SortedVec<T> {
    /// The items, in ascending order.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }

    /// Whether `item` is in the vector, by binary search.
    #[inline]
    pub fn contains(&self, item: &T) -> bool {
        self.items.binary_search(item).is_ok()
    }
}

impl<T: Ord> FromMyIterator<T> for SortedVec<T> {
    #[inline]
    fn from_my_iter<I: MyIterator<Item = T>>(iter: I) -> Self {
        let mut items: Vec<T> = iter.collect();
        // Stable sort: equal items keep the order they were yielded in.
        items.sort();
        SortedVec { items }
    }
}

impl<T, E, C: FromMyIterator<T>> FromMyIterator<Result<T, E>> for Result<C, E> {
    #[inline]
    fn from_my_iter<I: MyIterator<Item = Result<T, E>>>(iter: I) -> Self {
        let mut error = None;
        let collected = C::from_my_iter(UntilErr {
            iter,
            error: &mut error,
        });
        match error {
            Some(e) => Err(e),
            None => Ok(collected),
        }
    }
}

/// Yields the `Ok` values of `iter` and ends at the first `Err`, which it stores in `error`.
struct UntilErr<'e, I, E> {
    iter: I,
    error: &'e mut Option<E>,
}

impl<T, E, I: MyIterator<Item = Result<T, E>>> MyIterator for UntilErr<'_, I, E> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.error.is_some() {
            return None;
        }
        match self.iter.next()? {
            Ok(x) => Some(x),
            Err(e) => {
                *self.error = Some(e);
                None
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.error.is_some() {
            (0, Some(0))
        } else {
            // Any item may be the error that ends it.
            (0, self.iter.size_hint().1)
        }
    }
}

/// The squares of the even numbers of `values`, in order, computed lazily as they are pulled.
///
/// `-> impl MyIterator<Item = u64>` in return position is an opaque type: the function picks
/// it (here a `Map<Filter<SliceIter<'_, u64>, _>, _>` that no one could write out, because
/// closures have no names) and callers see only the trait. The returned iterator borrows
/// `values`, which the signature says with the lifetime `'_`.
pub fn even_squares(values: &[u64]) -> impl MyIterator<Item = u64> + '_ {
    values.my_iter().filter(|x| **x % 2 == 0).map(|x| x * x)
}

/// Parses every word as a `u32`: all the numbers, or the error of the first word that is not one.
///
/// `words: impl MyIterator<Item = &'a str>` in argument position is an anonymous generic
/// parameter: the caller picks the type.
pub fn parse_all<'a>(words: impl MyIterator<Item = &'a str>) -> Result<Vec<u32>, ParseIntError> {
    words.map(str::parse::<u32>).collect()
}

/// Boxes any iterator as a trait object that may borrow for `'a`.
///
/// The dynamic alternative to `impl Trait`: one type for every iterator, chosen at run time.
/// It needs the `+ 'a` because a trait object's lifetime defaults to `'static`.
pub fn boxed<'a, I>(iter: I) -> Box<dyn MyIterator<Item = I::Item> + 'a>
where
    I: MyIterator + 'a,
{
    Box::new(iter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_trait::Counter;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Yields its items but reports whatever size hint it was told to: a buggy iterator that
    /// safe code must survive.
    struct Liar<T> {
        items: std::vec::IntoIter<T>,
        claimed: (usize, Option<usize>),
    }

    fn liar<T>(items: Vec<T>, claimed: (usize, Option<usize>)) -> Liar<T> {
        Liar {
            items: items.into_iter(),
            claimed,
        }
    }

    impl<T> MyIterator for Liar<T> {
        type Item = T;
        fn next(&mut self) -> Option<T> {
            self.items.next()
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            self.claimed
        }
    }

    /// Yields the given items and counts the calls to `next`.
    struct Probe<T> {
        items: std::vec::IntoIter<T>,
        calls: Rc<Cell<usize>>,
    }

    fn probe<T>(items: Vec<T>) -> (Probe<T>, Rc<Cell<usize>>) {
        let calls = Rc::new(Cell::new(0));
        let p = Probe {
            items: items.into_iter(),
            calls: Rc::clone(&calls),
        };
        (p, calls)
    }

    impl<T> MyIterator for Probe<T> {
        type Item = T;
        fn next(&mut self) -> Option<T> {
            self.calls.set(self.calls.get() + 1);
            self.items.next()
        }
    }

    #[test]
    fn collect_into_vec_keeps_order() {
        let v: Vec<u32> = Counter::new(5).collect();
        assert_eq!(v, vec![1, 2, 3, 4, 5]);
        let empty: Vec<u32> = Counter::new(0).collect();
        assert!(empty.is_empty());
    }

    #[test]
    fn collect_into_vec_reserves_from_the_lower_bound() {
        let v: Vec<u32> = Counter::new(100).collect();
        assert_eq!(v.len(), 100);
        assert!(
            v.capacity() < 128,
            "an exact size_hint of 100 should size the Vec once, from size_hint().0 (capacity {}: \
             pushing one by one into an empty Vec doubles it up to 128)",
            v.capacity()
        );
    }

    #[test]
    fn collect_does_not_trust_a_low_size_hint() {
        let v: Vec<u32> = liar(vec![1, 2, 3, 4, 5], (0, Some(0))).collect();
        assert_eq!(
            v,
            vec![1, 2, 3, 4, 5],
            "an iterator claiming 0 items yielded 5: keep all 5"
        );
        let s: String = liar(vec!['a', 'b', 'c'], (1, Some(1))).collect();
        assert_eq!(s, "abc");
    }

    #[test]
    fn collect_does_not_trust_a_high_size_hint() {
        let v: Vec<u32> = liar(vec![7, 8], (100, Some(100))).collect();
        assert_eq!(
            v,
            vec![7, 8],
            "an iterator claiming 100 items yielded 2: keep exactly 2"
        );
        let m: HashMap<u8, u8> = liar(vec![(1, 1)], (50, None)).collect();
        assert_eq!(m.len(), 1);
        let sorted: SortedVec<u8> = liar(vec![3, 1], (9, Some(9))).collect();
        assert_eq!(sorted.as_slice(), &[1, 3]);
    }

    #[test]
    fn collect_into_string_from_chars_and_strs() {
        let word = ['r', 'u', 's', 't'];
        let s: String = word[..].my_iter().map(|c| c.to_ascii_uppercase()).collect();
        assert_eq!(s, "RUST");
        let parts = ["lazy", " ", "iterators"];
        let joined: String = parts[..].my_iter().map(|p| *p).collect();
        assert_eq!(
            joined, "lazy iterators",
            "String is FromMyIterator<char> and <&str>"
        );
    }

    #[test]
    fn collect_into_hashmap_last_value_wins() {
        let pairs = [("a", 1), ("b", 2), ("a", 3)];
        let m: HashMap<&str, i32> = pairs[..].my_iter().map(|&(k, v)| (k, v)).collect();
        assert_eq!(m.len(), 2);
        assert_eq!(
            m["a"], 3,
            "a later pair with the same key replaces the earlier one"
        );
        assert_eq!(m["b"], 2);
    }

    #[test]
    fn collect_into_sorted_vec_sorts() {
        let data = [5, 3, 9, 1, 3];
        let sorted: SortedVec<i32> = data[..].my_iter().map(|x| *x).collect();
        assert_eq!(
            sorted.as_slice(),
            &[1, 3, 3, 5, 9],
            "a SortedVec keeps its items sorted"
        );
        assert!(sorted.contains(&9));
        assert!(sorted.contains(&1));
        assert!(!sorted.contains(&4), "4 was never collected");
        let empty: SortedVec<i32> = Counter::new(0).map(|x| x as i32).collect();
        assert!(empty.as_slice().is_empty());
        assert!(!empty.contains(&0));
    }

    #[test]
    fn sorted_vec_contains_uses_the_order() {
        let words: SortedVec<&str> = ["pear", "apple", "fig"][..].my_iter().map(|w| *w).collect();
        assert_eq!(words.as_slice(), &["apple", "fig", "pear"]);
        for w in ["apple", "fig", "pear"] {
            assert!(words.contains(&w), "{w} must be found");
        }
        assert!(!words.contains(&"kiwi"));
    }

    #[test]
    fn collect_results_all_ok() {
        let r: Result<Vec<u32>, String> = Counter::new(3).map(Ok).collect();
        assert_eq!(r, Ok(vec![1, 2, 3]));
        let none: Result<Vec<u32>, String> = Counter::new(0).map(Ok).collect();
        assert_eq!(
            none,
            Ok(vec![]),
            "no items, no error: Ok of an empty collection"
        );
    }

    #[test]
    fn collect_results_returns_the_first_error() {
        let items: Vec<Result<u32, String>> =
            vec![Ok(1), Err("second".into()), Ok(3), Err("fourth".into())];
        let r: Result<Vec<u32>, String> = liar(items, (4, Some(4))).collect();
        assert_eq!(r, Err("second".to_string()), "the first Err wins");
    }

    #[test]
    fn collect_results_stops_pulling_at_the_first_error() {
        let items: Vec<Result<u32, &str>> = vec![Ok(1), Ok(2), Err("bad"), Ok(4), Ok(5)];
        let (source, calls) = probe(items);
        let r: Result<Vec<u32>, &str> = source.collect();
        assert_eq!(r, Err("bad"));
        assert_eq!(
            calls.get(),
            3,
            "nothing may be pulled after the first error"
        );
    }

    /// A collection whose `from_my_iter` keeps calling `next` after the first `None`, as a
    /// collector is allowed to.
    struct Greedy(Vec<u32>);

    impl FromMyIterator<u32> for Greedy {
        fn from_my_iter<I: MyIterator<Item = u32>>(mut iter: I) -> Self {
            let mut items = Vec::new();
            for _ in 0..5 {
                items.extend(iter.next());
            }
            Greedy(items)
        }
    }

    #[test]
    fn collect_results_stays_stopped_when_polled_again() {
        let items: Vec<Result<u32, &str>> = vec![Ok(1), Err("first"), Ok(2), Err("second")];
        let (source, calls) = probe(items);
        let r: Result<Greedy, &str> = source.collect();
        assert_eq!(
            r.err(),
            Some("first"),
            "after the first Err the adapter must keep returning None, even if polled again"
        );
        assert_eq!(
            calls.get(),
            2,
            "nothing may be pulled after the first error"
        );
        let all_ok: Result<Greedy, &str> = liar(vec![Ok(1), Ok(2)], (2, Some(2))).collect();
        assert_eq!(all_ok.map(|g| g.0), Ok(vec![1, 2]));
    }

    /// Checks, as it collects, that every size hint its source gave was true of the items that
    /// followed: `lower <= left <= upper`.
    struct HonestHints;

    impl<T> FromMyIterator<T> for HonestHints {
        fn from_my_iter<I: MyIterator<Item = T>>(mut iter: I) -> Self {
            let mut hints = vec![iter.size_hint()];
            while iter.next().is_some() {
                hints.push(iter.size_hint());
            }
            let yielded = hints.len() - 1;
            for (taken, (lower, upper)) in hints.into_iter().enumerate() {
                let left = yielded - taken;
                assert!(
                    lower <= left,
                    "collecting into Result: after {taken} items the adapter's size_hint said at \
                     least {lower} more, but {left} came; any item may be the Err that ends it, \
                     so its lower bound must be 0"
                );
                assert!(
                    upper.is_none_or(|upper| left <= upper),
                    "collecting into Result: after {taken} items the adapter's size_hint said at \
                     most {upper:?} more, but {left} came; at most as many as the inner iterator \
                     has left"
                );
            }
            HonestHints
        }
    }

    #[test]
    fn collect_results_adapter_size_hint_is_honest() {
        let all_ok: Vec<Result<u32, &str>> = vec![Ok(1), Ok(2), Ok(3)];
        let r: Result<HonestHints, &str> = liar(all_ok, (3, Some(3))).collect();
        assert!(r.is_ok());
        let err_first: Vec<Result<u32, &str>> = vec![Err("bad"), Ok(2)];
        let r: Result<HonestHints, &str> = liar(err_first, (2, Some(2))).collect();
        assert!(r.is_err());
    }

    #[test]
    fn collect_results_into_other_collections() {
        let r: Result<String, u8> = ['o', 'k'][..].my_iter().map(|c| Ok(*c)).collect();
        assert_eq!(r, Ok("ok".to_string()));
        let r: Result<SortedVec<u32>, u8> = Counter::new(4)
            .map(|x| if x == 3 { Err(3) } else { Ok(x) })
            .collect();
        assert_eq!(r, Err(3));
    }

    #[test]
    fn even_squares_is_lazy_and_correct() {
        let values = [1u64, 2, 3, 4, 5, 6];
        let got: Vec<u64> = even_squares(&values).collect();
        assert_eq!(got, vec![4, 16, 36]);
        let mut it = even_squares(&values);
        assert_eq!(it.next(), Some(4), "the first even square is 2 * 2");
        assert_eq!(even_squares(&[]).next(), None);
        assert_eq!(
            even_squares(&[1, 3]).next(),
            None,
            "no even values, no squares"
        );
    }

    #[test]
    fn parse_all_collects_numbers_or_the_first_error() {
        let words = ["1", "22", "333"];
        assert_eq!(
            parse_all(words[..].my_iter().map(|w| *w)),
            Ok(vec![1, 22, 333])
        );
        let bad = ["1", "two", "-3"];
        let err = parse_all(bad[..].my_iter().map(|w| *w)).unwrap_err();
        assert_eq!(
            err,
            "two".parse::<u32>().unwrap_err(),
            "the error is the one for \"two\", the first word that is not a u32"
        );
    }

    #[test]
    fn boxed_iterators_may_borrow() {
        let data = vec![10u64, 20, 30];
        let mut sources: Vec<Box<dyn MyIterator<Item = u64> + '_>> = vec![
            boxed(data.my_iter().map(|x| *x)),
            boxed(Counter::new(2).map(u64::from)),
            boxed(even_squares(&data)),
        ];
        let firsts: Vec<Option<u64>> = sources.iter_mut().map(|s| s.next()).collect();
        assert_eq!(firsts, vec![Some(10), Some(1), Some(100)]);
        let rest: Vec<u64> = sources.remove(0).collect();
        assert_eq!(rest, vec![20, 30], "a boxed iterator keeps its position");
    }

    #[test]
    fn curriculum_example_pipeline() {
        let v = (0..10)
            .my_iter()
            .filter(|x| x % 2 == 0)
            .map(|x| x * x)
            .take(3)
            .collect::<Vec<_>>();
        assert_eq!(v, vec![0, 4, 16]);
    }

    #[test]
    fn capstone_word_statistics() {
        let text = "the quick brown fox jumps over the lazy dog the end";
        let words: Vec<&str> = text.split(' ').collect();

        let counts: HashMap<&str, usize> = words.my_iter().fold(HashMap::new(), |mut m, w| {
            *m.entry(*w).or_insert(0) += 1;
            m
        });
        assert_eq!(counts["the"], 3);
        assert_eq!(counts["fox"], 1);

        let long_words: SortedVec<&str> = words
            .my_iter()
            .filter(|w| w.len() >= 5)
            .map(|w| *w)
            .collect();
        assert_eq!(long_words.as_slice(), &["brown", "jumps", "quick"]);

        let first_letters: String = words
            .my_iter()
            .skip(1)
            .take(4)
            .map(|w| w.chars().next().unwrap_or(' '))
            .collect();
        assert_eq!(first_letters, "qbfj");

        let position: HashMap<&str, usize> =
            words.my_iter().enumerate().map(|(i, w)| (*w, i)).collect();
        assert_eq!(
            position["the"], 9,
            "the last occurrence of \"the\" is word 9"
        );

        let lengths: Result<Vec<u32>, ParseIntError> =
            parse_all(["3", "5", "7"][..].my_iter().map(|s| *s));
        let total: u32 = lengths.unwrap().my_iter().sum();
        assert_eq!(total, 15);
    }
}
