//! # Borrowing iterators over raw links
//!
//! The iterator that stage 5 showed the `Rc<RefCell<_>>` list cannot have: `iter(&self)`
//! yielding `&'a T`, and with it `iter_mut(&mut self)` yielding `&'a mut T`, both
//! double-ended and exact-sized. Each iterator holds its two ends (`front`, `back`), how many
//! elements lie between them inclusive (`len`), and a `PhantomData` that ties it to the
//! list's borrow: `&'a T` for `Iter`, `&'a mut T` for `IterMut`. The raw links carry no
//! lifetime; that `'a` is the whole safety argument, and the borrow checker enforces it. An
//! element borrowed from an iterator keeps the list borrowed:
//!
//! ```compile_fail,E0502
//! use linked_list::RawList;
//!
//! let mut list = RawList::new();
//! list.push_back(1);
//! let first = list.iter().next().unwrap();
//! list.pop_front(); // error[E0502]: `list` is also borrowed as immutable
//! println!("{first}");
//! ```
//!
//! Write `iter`, `iter_mut`, and `next` and `next_back` of both iterators (`size_hint` is
//! written: it reports `len`). The rules the tests check, under Miri as well:
//!
//! - every element comes out exactly once, from whichever end reaches it first. Once `len` is
//!   0 the ends have met, and both return `None`, although their links still point at nodes.
//!   For `IterMut` this is what soundness rests on: an element yielded twice would be two
//!   `&mut` to one node, the bug of the previous stage;
//! - every reference handed out stays valid while the others are in use: a caller may
//!   `collect()` them all, or hold a `&T` from `peek_front` while `iter` walks past it. So
//!   `Iter` reads the nodes through shared references only, and `IterMut` makes a `&mut` to an
//!   element only when it yields it.
//!
//! Afterwards you will understand how a `PhantomData` lifetime carries a borrow through raw
//! pointers, and why a mutable iterator is sound exactly when it never yields an element
//! twice: the invariant std's `iter_mut` of every collection keeps.
//!
//! Read: Too Many Lists, "A Production-Quality Unsafe Doubly-Linked Deque", section Boring
//! Combinatorics (<https://rust-unofficial.github.io/too-many-lists/sixth-combinatorics.html>),
//! and the Rustonomicon, "Splitting Borrows"
//! (<https://doc.rust-lang.org/nomicon/borrow-splitting.html>).

use std::marker::PhantomData;

use crate::s08_raw::{RawLink, RawList};

impl<T> RawList<T> {
    /// A borrowing iterator, front to back (and back to front with `.rev()`).
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            front: self.head,
            back: self.tail,
            len: self.len,
            _list: PhantomData,
        }
    }

    /// A mutably borrowing iterator, front to back (and back to front with `.rev()`).
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut {
            front: self.head,
            back: self.tail,
            len: self.len,
            _list: PhantomData,
        }
    }
}

/// A borrowing iterator over a [`RawList`]. `len` counts the elements between `front` and
/// `back` inclusive, so the two ends stop when they meet.
pub struct Iter<'a, T> {
    front: RawLink<T>,
    back: RawLink<T>,
    len: usize,
    _list: PhantomData<&'a T>,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.len == 0 {
            return None;
        }
        self.front.map(|node| {
            self.len -= 1;
            // SAFETY: `len > 0`, so `node` is one of the list's live nodes; the list is
            // borrowed shared for `'a`, so it is neither freed nor mutated meanwhile.
            let node = unsafe { &*node.as_ptr() };
            self.front = node.next;
            &node.elem
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<'a, T> DoubleEndedIterator for Iter<'a, T> {
    fn next_back(&mut self) -> Option<&'a T> {
        if self.len == 0 {
            return None;
        }
        self.back.map(|node| {
            self.len -= 1;
            // SAFETY: as in `next`.
            let node = unsafe { &*node.as_ptr() };
            self.back = node.prev;
            &node.elem
        })
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<'a, T> IntoIterator for &'a RawList<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// A mutably borrowing iterator over a [`RawList`]: like [`Iter`], and each element comes
/// out at most once, so the `&mut T`s it yields never alias.
pub struct IterMut<'a, T> {
    front: RawLink<T>,
    back: RawLink<T>,
    len: usize,
    _list: PhantomData<&'a mut T>,
}

impl<'a, T> Iterator for IterMut<'a, T> {
    type Item = &'a mut T;

    fn next(&mut self) -> Option<&'a mut T> {
        if self.len == 0 {
            return None;
        }
        self.front.map(|node| {
            self.len -= 1;
            let node = node.as_ptr();
            // SAFETY: `len > 0`, so `node` is a live node that neither end has yielded yet;
            // the list is borrowed mutably for `'a`, and this is the only time this node is
            // yielded, so the `&mut` to its element is the only reference to it. Reading
            // `next` through the raw pointer touches no element handed out before.
            unsafe {
                self.front = (*node).next;
                &mut (*node).elem
            }
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<'a, T> DoubleEndedIterator for IterMut<'a, T> {
    fn next_back(&mut self) -> Option<&'a mut T> {
        if self.len == 0 {
            return None;
        }
        self.back.map(|node| {
            self.len -= 1;
            let node = node.as_ptr();
            // SAFETY: as in `next`.
            unsafe {
                self.back = (*node).prev;
                &mut (*node).elem
            }
        })
    }
}

impl<T> ExactSizeIterator for IterMut<'_, T> {}

impl<'a, T> IntoIterator for &'a mut RawList<T> {
    type Item = &'a mut T;
    type IntoIter = IterMut<'a, T>;

    fn into_iter(self) -> IterMut<'a, T> {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use crate::RawList;
    use crate::testing::Rng;

    #[test]
    fn iter_borrows_every_element_both_ways() {
        let mut list = RawList::new();
        for i in 0..5 {
            list.push_back(i);
        }
        let forward: Vec<&i32> = list.iter().collect();
        assert_eq!(forward, vec![&0, &1, &2, &3, &4]);
        let backward: Vec<i32> = list.iter().rev().copied().collect();
        assert_eq!(backward, vec![4, 3, 2, 1, 0]);
        // The references all live at once: what the Rc<RefCell<_>> list could not offer.
        let first = list.peek_front().unwrap();
        let sum: i32 = (&list).into_iter().sum();
        assert_eq!((*first, sum), (0, 10));
        assert_eq!(list.iter().len(), 5);
    }

    #[test]
    fn iter_ends_meet_in_the_middle() {
        for n in 0..7 {
            let mut list = RawList::new();
            for i in 0..n {
                list.push_back(i);
            }
            let mut iter = list.iter();
            let mut seen = Vec::new();
            while let Some(x) = iter.next() {
                seen.push(*x);
                if let Some(y) = iter.next_back() {
                    seen.push(*y);
                }
            }
            assert_eq!(iter.next_back(), None, "n = {n}: both ends are exhausted");
            seen.sort_unstable();
            assert_eq!(
                seen,
                (0..n).collect::<Vec<_>>(),
                "n = {n}: each element once"
            );
        }
    }

    #[test]
    fn iterators_over_an_empty_list_yield_nothing() {
        let mut list: RawList<i32> = RawList::new();
        assert_eq!(list.iter().next(), None);
        assert_eq!(list.iter().next_back(), None);
        assert_eq!(list.iter_mut().next(), None);
        assert_eq!(list.iter_mut().next_back(), None);
        list.push_back(1);
        list.pop_front();
        assert_eq!(
            list.iter().count(),
            0,
            "a list emptied by pops has nothing to iterate"
        );
    }

    #[test]
    fn iter_mut_changes_every_element_in_place() {
        let mut list = RawList::new();
        for i in 0..5 {
            list.push_back(i);
        }
        for x in list.iter_mut() {
            *x *= 10;
        }
        for x in (&mut list).into_iter().rev() {
            *x += 1;
        }
        assert_eq!(
            list.iter().copied().collect::<Vec<_>>(),
            vec![1, 11, 21, 31, 41],
            "iter_mut must reach every element, both ways"
        );
        // All the `&mut`s alive at once, then written in turn.
        let all: Vec<&mut i32> = list.iter_mut().collect();
        assert_eq!(all.len(), 5);
        for (i, x) in (0..).zip(all) {
            *x = i * 100;
        }
        assert_eq!(
            list.iter().copied().collect::<Vec<_>>(),
            vec![0, 100, 200, 300, 400]
        );
    }

    #[test]
    fn iter_mut_ends_meet_in_the_middle() {
        for n in 0..7 {
            let mut list = RawList::new();
            for i in 0..n {
                list.push_back(i);
            }
            let mut iter = list.iter_mut();
            let mut refs = Vec::new();
            while let Some(x) = iter.next() {
                refs.push(x);
                if let Some(y) = iter.next_back() {
                    refs.push(y);
                }
            }
            assert!(
                iter.next_back().is_none(),
                "n = {n}: both ends are exhausted"
            );
            assert_eq!(
                refs.len(),
                n as usize,
                "n = {n}: iter_mut must yield each element once; one yielded twice is two \
                 `&mut` to one node"
            );
            for r in refs {
                *r += 100;
            }
            assert_eq!(
                list.iter().copied().collect::<Vec<_>>(),
                (100..100 + n).collect::<Vec<_>>(),
                "n = {n}: each element changed once"
            );
        }
    }

    #[test]
    fn iterators_match_vecdeque_after_random_operations() {
        let steps = if cfg!(miri) { 300 } else { 3_000 };
        let mut rng = Rng::new(21);
        let mut list = RawList::new();
        let mut model = VecDeque::new();
        for step in 0..steps {
            let value = step as u32;
            match rng.below(5) {
                0 | 1 => {
                    list.push_front(value);
                    model.push_front(value);
                }
                2 | 3 => {
                    list.push_back(value);
                    model.push_back(value);
                }
                _ => {
                    list.pop_front();
                    model.pop_front();
                    list.pop_back();
                    model.pop_back();
                }
            }
            if step % 25 == 0 {
                for (x, y) in list.iter_mut().zip(model.iter_mut()) {
                    *x += 1;
                    *y += 1;
                }
                assert!(
                    list.iter().eq(model.iter()),
                    "step {step}: forward contents"
                );
                assert!(
                    list.iter().rev().eq(model.iter().rev()),
                    "step {step}: backward contents (the prev links)"
                );
                assert_eq!(list.iter().len(), model.len(), "step {step}: iter().len()");
            }
        }
    }
}
