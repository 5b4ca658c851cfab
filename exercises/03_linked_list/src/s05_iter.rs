//! # Iteration: by value, by callback, and the borrowing iterator that cannot be
//!
//! Three ways to visit the elements:
//!
//! - `IntoIter<T>`, the owning iterator: `for x in list` consumes the list. It wraps the list
//!   and pops: `next` from the front, `next_back` (from `DoubleEndedIterator`) from the back.
//!   Used from both ends it meets in the middle, and every element comes out exactly once.
//!   Give it an exact `size_hint`, so it can be an `ExactSizeIterator`.
//! - `for_each(&self, f)`, a callback: walk from `head`, borrow each node, call `f` with a
//!   reference to its element, then move on to a clone of the node's `next`. The reference
//!   given to `f` lives only during the call, inside the node's borrow, so no borrow escapes.
//!   `for_each_mut` does the same with `borrow_mut` and `&mut T`.
//! - `FromIterator` and `Extend`, so that `collect()` and `extend()` build lists.
//!
//! What is missing is `iter(&self)` yielding `&'a T`, the iterator every std collection has.
//! Each element sits behind its own `RefCell`, and a `&T` to it may only live as long as the
//! `Ref` guard of that node. An iterator would have to keep the guard after `next` returns,
//! and the guard of every node it has ever yielded, since the caller may keep all the
//! references. Yielding `Ref<'a, T>` fails too, one step later: to reach the next node,
//! `next` must borrow it through the current node's guard, which `next` gives away:
//!
//! ```compile_fail,E0505
//! use std::cell::{Ref, RefCell};
//! use std::rc::Rc;
//!
//! struct Node<T> {
//!     elem: T,
//!     next: Option<Rc<RefCell<Node<T>>>>,
//! }
//!
//! struct Iter<'a, T>(Option<Ref<'a, Node<T>>>);
//!
//! impl<'a, T> Iterator for Iter<'a, T> {
//!     type Item = Ref<'a, T>;
//!
//!     fn next(&mut self) -> Option<Self::Item> {
//!         self.0.take().map(|node_ref| {
//!             // The next node is reached through `node_ref` ...
//!             self.0 = node_ref.next.as_ref().map(|next| next.borrow());
//!             // ... which is moved out here while still borrowed:
//!             // error[E0505]: cannot move out of `node_ref` because it is borrowed
//!             // (and E0597: `node_ref` does not live long enough for `'a`)
//!             Ref::map(node_ref, |node| &node.elem)
//!         })
//!     }
//! }
//! ```
//!
//! The safe options left are the ones above: move the values out, lend them to a callback, or
//! yield clones of the `Rc`s (which exposes the nodes). Stage 7 writes the borrowing `Iter`
//! with raw pointers, where the compiler can check it.
//!
//! Afterwards you will be able to explain why a safe borrowing iterator over
//! `Rc<RefCell<_>>` nodes cannot exist, and what to offer instead.
//!
//! Read: Too Many Lists, "A Bad but Safe Doubly-Linked Deque", sections Iteration and Final
//! Code (<https://rust-unofficial.github.io/too-many-lists/fourth-iteration.html>), and the std
//! docs of `DoubleEndedIterator`
//! (<https://doc.rust-lang.org/std/iter/trait.DoubleEndedIterator.html>).

use crate::s01_front::List;

/// An owning iterator over a [`List`], from the front or from the back.
pub struct IntoIter<T>(List<T>);

impl<T> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        // TODO: an iterator that owns every element of the list.
        todo!("List::into_iter")
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        // TODO: the elements front to back, each moved out once.
        todo!("IntoIter::next")
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // TODO: exactly the number of elements left.
        todo!("IntoIter::size_hint")
    }
}

impl<T> DoubleEndedIterator for IntoIter<T> {
    fn next_back(&mut self) -> Option<T> {
        // TODO: the elements back to front, each moved out once; the two ends never yield
        // the same element.
        todo!("IntoIter::next_back")
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

impl<T> List<T> {
    /// Calls `f` with each element, front to back.
    ///
    /// # Panics
    ///
    /// If `f` mutably borrows the node it is given (say, through `peek_front_mut`).
    pub fn for_each(&self, mut f: impl FnMut(&T)) {
        // TODO: `f` on every element, front to back. No reference to an element may outlive
        // the call of `f` that received it.
        todo!("List::for_each")
    }

    /// Calls `f` with a mutable reference to each element, front to back.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        // TODO: the same as `for_each`, with mutable access.
        todo!("List::for_each_mut")
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        // TODO: a list of the iterator's elements, in order.
        todo!("List::from_iter")
    }
}

impl<T> Extend<T> for List<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        // TODO: the iterator's elements added after the last one, in order.
        todo!("List::extend")
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::List;
    use crate::testing::{DropLog, assert_links, drain};

    fn list_of(values: &[i32]) -> List<i32> {
        let mut list = List::new();
        for &v in values {
            list.push_back(v);
        }
        list
    }

    #[test]
    fn into_iter_yields_front_to_back() {
        let values: Vec<i32> = list_of(&[1, 2, 3]).into_iter().collect();
        assert_eq!(values, vec![1, 2, 3]);
        let mut n = 0;
        for x in list_of(&[4, 5]) {
            n += x;
        }
        assert_eq!(n, 9, "a List works in a for loop");
    }

    #[test]
    fn into_iter_rev_yields_back_to_front() {
        let values: Vec<i32> = list_of(&[1, 2, 3]).into_iter().rev().collect();
        assert_eq!(values, vec![3, 2, 1]);
    }

    #[test]
    fn both_ends_meet_in_the_middle_without_repeats() {
        for n in 0..8 {
            let values: Vec<i32> = (0..n).collect();
            let mut iter = list_of(&values).into_iter();
            let (mut front, mut back) = (Vec::new(), Vec::new());
            while let Some(x) = iter.next() {
                front.push(x);
                match iter.next_back() {
                    Some(y) => back.push(y),
                    None => break,
                }
            }
            assert_eq!(iter.next(), None, "n = {n}: exhausted from the front");
            assert_eq!(iter.next_back(), None, "n = {n}: exhausted from the back");
            back.reverse();
            front.extend(back);
            assert_eq!(
                front, values,
                "n = {n}: every element exactly once, in order"
            );
        }
    }

    #[test]
    fn into_iter_has_an_exact_size() {
        let mut iter = list_of(&[1, 2, 3, 4]).into_iter();
        assert_eq!(iter.len(), 4);
        iter.next();
        iter.next_back();
        assert_eq!(
            iter.size_hint(),
            (2, Some(2)),
            "size_hint counts what is left"
        );
    }

    #[test]
    fn dropping_a_half_used_into_iter_drops_the_rest_once() {
        let log = DropLog::new();
        let mut list = List::new();
        for id in 0..10 {
            list.push_back(log.track(id));
        }
        let mut iter = list.into_iter();
        let first = iter.next().unwrap();
        let last = iter.next_back().unwrap();
        assert_eq!((first.id, last.id), (0, 9));
        drop(iter);
        assert_eq!(log.dropped(), (1..9).collect::<Vec<_>>(), "the 8 left over");
        drop((first, last));
        assert_eq!(log.count(), 10);
    }

    #[test]
    fn for_each_visits_front_to_back_without_consuming() {
        let list = list_of(&[3, 1, 4, 1, 5]);
        let mut seen = Vec::new();
        list.for_each(|x| seen.push(*x));
        assert_eq!(seen, vec![3, 1, 4, 1, 5]);
        assert_eq!(list.len(), 5, "for_each only borrows");
        let mut empty_calls = 0;
        List::<i32>::new().for_each(|_| empty_calls += 1);
        assert_eq!(empty_calls, 0, "no call on an empty list");
    }

    #[test]
    fn for_each_releases_each_borrow_after_its_call() {
        let list = list_of(&[1, 2, 3]);
        let mut calls = 0;
        // Reading the list again from inside the callback is fine: shared borrows coexist.
        list.for_each(|x| {
            calls += 1;
            assert_eq!(*list.peek_front().unwrap(), 1);
            assert!(*x <= *list.peek_back().unwrap());
        });
        assert_eq!(calls, 3);
        let head = Rc::clone(list.head.as_ref().unwrap());
        assert!(
            head.try_borrow_mut().is_ok(),
            "no borrow may be left behind after for_each"
        );
    }

    #[test]
    fn for_each_mut_changes_every_element() {
        let mut list = list_of(&[1, 2, 3]);
        list.for_each_mut(|x| *x *= 10);
        assert_eq!(drain(&mut list), vec![10, 20, 30]);
    }

    #[test]
    fn collect_and_extend_append_in_order() {
        let mut list: List<i32> = (1..=3).collect();
        list.extend([4, 5]);
        assert_links(&list);
        assert_eq!(list.len(), 5);
        assert_eq!(drain(&mut list), vec![1, 2, 3, 4, 5]);
    }
}
