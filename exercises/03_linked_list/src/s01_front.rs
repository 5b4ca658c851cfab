//! # Front operations: Rc, RefCell and Weak
//!
//! Build the front half of a doubly linked deque, `List<T>`, out of the standard library's
//! smart pointers and no `unsafe`. Each node lives in an `Rc<RefCell<Node<T>>>`:
//!
//! - `Rc` (shared ownership): a node in the middle is reached from its predecessor's `next`
//!   and from its successor's `prev`, so no single `Box` can own it.
//! - `RefCell` (interior mutability): an `Rc` only hands out `&Node`, yet pushing must rewrite
//!   the neighbours' links. `RefCell` moves the "one writer or many readers" rule from compile
//!   time to run time: `borrow_mut()` panics if the node is already borrowed.
//! - `Weak` (a non-owning pointer): the `next` links own the nodes, the `prev` links must not.
//!   Two strong pointers pointing at each other form a cycle whose counts never reach zero, so
//!   it is never freed (stage 4 shows the leak). `Weak::upgrade` gives back an `Rc` while the
//!   node is alive and `None` afterwards.
//!
//! The list keeps a strong `head`, a strong `tail` (stage 3 explains why the tail must be
//! strong) and its `len`. Write `new`, `len`, `is_empty`, `push_front` and `pop_front`.
//!
//! `pop_front` has to move the element out of its node. An `Rc` only lends `&T`; you get the
//! value back with `Rc::try_unwrap` (or `Rc::into_inner`), which succeeds only when yours is
//! the last strong pointer, and then `RefCell::into_inner`. So before unwrapping, every other
//! strong pointer to the node (the list's `head`, and its `tail` when the node is also the
//! last one) must be gone. In a one-element list `head` and `tail` are the same node: it has
//! two strong owners.
//!
//! Afterwards you will know the basic tools of `Box`, `Rc` and `Weak`, and how `RefCell` lets
//! shared nodes be mutated. Every element must be dropped exactly once: the tests count drops.
//!
//! Read: Too Many Lists, "A Bad but Safe Doubly-Linked Deque", sections Layout and Breaking
//! (<https://rust-unofficial.github.io/too-many-lists/fourth-layout.html>), and the Rust Book,
//! chapter 15 (<https://doc.rust-lang.org/book/ch15-04-rc.html> and the RefCell section after it).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// An owning link: `None` at the end of the list.
pub(crate) type Link<T> = Option<Rc<RefCell<Node<T>>>>;

/// One element and its two links. Invariant: `next` owns the following node; `prev` is a
/// `Weak` pointer to the node before (an empty `Weak::new()` at the head).
pub(crate) struct Node<T> {
    pub(crate) elem: T,
    pub(crate) next: Link<T>,
    pub(crate) prev: Weak<RefCell<Node<T>>>,
}

impl<T> Node<T> {
    /// A new, unlinked node.
    pub(crate) fn new(elem: T) -> Rc<RefCell<Node<T>>> {
        Rc::new(RefCell::new(Node {
            elem,
            next: None,
            prev: Weak::new(),
        }))
    }
}

/// Moves the element out of a node that has just been unlinked.
///
/// Panics if anything else still holds a strong pointer to the node: that would be a bug in
/// the list, which must drop its own pointers first.
pub(crate) fn into_elem<T>(node: Rc<RefCell<Node<T>>>) -> T {
    // TODO: the node's element, by value (no `Clone`); the panic above when `node` is not the
    // last strong pointer to it.
    todo!("into_elem")
}

/// A doubly linked deque.
///
/// Invariants: `head` and `tail` are both `None` or both `Some`; following `next` from `head`
/// visits `len` nodes and ends at `tail`; each node's `prev` points at the node before it.
pub struct List<T> {
    pub(crate) head: Link<T>,
    pub(crate) tail: Link<T>,
    pub(crate) len: usize,
}

impl<T> List<T> {
    /// An empty list. Allocates nothing.
    pub fn new() -> Self {
        // TODO: no head, no tail, length zero.
        todo!("List::new")
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        // TODO
        todo!("List::len")
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        // TODO
        todo!("List::is_empty")
    }

    /// Adds `elem` at the front.
    pub fn push_front(&mut self, elem: T) {
        // TODO: the new node becomes the head, linked both ways with the old head (the
        // forward link owns, the back link does not); in an empty list it is the tail too.
        todo!("List::push_front")
    }

    /// Removes the front element and returns it, or `None` if the list is empty.
    pub fn pop_front(&mut self) -> Option<T> {
        // TODO: the front element, or None. The invariants above hold afterwards (the new
        // head has no back link; an emptied list has neither head nor tail), and nothing but
        // your own variable owns the old node when its element comes out.
        todo!("List::pop_front")
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{DropLog, assert_links, drain};

    #[test]
    fn new_list_is_empty() {
        let mut list: List<i32> = List::new();
        assert_eq!(list.len(), 0, "a new list has no elements");
        assert!(list.is_empty(), "a new list is empty");
        assert_eq!(list.pop_front(), None, "popping an empty list returns None");
        assert_links(&list);
    }

    #[test]
    fn push_front_then_pop_front_returns_the_last_pushed_first() {
        let mut list = List::new();
        list.push_front(1);
        list.push_front(2);
        list.push_front(3);
        assert_links(&list);
        assert_eq!(list.pop_front(), Some(3));
        assert_eq!(list.pop_front(), Some(2));
        assert_eq!(list.pop_front(), Some(1));
        assert_eq!(list.pop_front(), None, "the list is empty again");
        assert!(list.is_empty());
    }

    #[test]
    fn len_counts_pushes_and_pops() {
        let mut list = List::new();
        for i in 0..10 {
            assert_eq!(list.len(), i);
            list.push_front(i);
        }
        assert_eq!(list.len(), 10);
        assert!(!list.is_empty(), "a list with elements is not empty");
        list.pop_front();
        list.pop_front();
        assert_eq!(list.len(), 8, "each pop removes one element");
        assert_links(&list);
    }

    #[test]
    fn one_element_list_has_head_and_tail_on_the_same_node() {
        let mut list = List::new();
        list.push_front("only");
        let head = list.head.as_ref().expect("a pushed list has a head");
        let tail = list.tail.as_ref().expect("a pushed list has a tail");
        assert!(
            Rc::ptr_eq(head, tail),
            "with one element, head and tail are the same node"
        );
        assert_eq!(
            Rc::strong_count(head),
            2,
            "the only node has two strong owners: head and tail"
        );
        assert_eq!(list.pop_front(), Some("only"));
        assert!(
            list.head.is_none() && list.tail.is_none(),
            "popping the last element must clear both head and tail"
        );
    }

    #[test]
    fn back_links_are_weak_and_point_at_the_previous_node() {
        let mut list = List::new();
        for i in 0..3 {
            list.push_front(i);
        }
        assert_links(&list);
        let head = Rc::clone(list.head.as_ref().unwrap());
        // `head` (the list's) and our clone.
        assert_eq!(
            Rc::strong_count(&head),
            2,
            "only the list's head pointer may own the first node; prev links must be Weak"
        );
        assert_eq!(
            Rc::weak_count(&head),
            1,
            "the second node's prev is a Weak pointer to the first"
        );
        let second = head.borrow().next.clone().unwrap();
        let back = second
            .borrow()
            .prev
            .upgrade()
            .expect("prev upgrades while alive");
        assert!(Rc::ptr_eq(&back, &head), "second.prev must be the head");
        assert!(
            head.borrow().prev.upgrade().is_none(),
            "the head has no previous node"
        );
    }

    #[test]
    fn pop_front_moves_values_out_without_clone() {
        // `String` and `Box` are not `Copy`: the list must give back the very value pushed.
        let mut list = List::new();
        list.push_front(Box::new(String::from("a")));
        list.push_front(Box::new(String::from("b")));
        assert_eq!(list.pop_front().as_deref().map(String::as_str), Some("b"));
        assert_eq!(list.pop_front().as_deref().map(String::as_str), Some("a"));
    }

    #[test]
    fn popped_nodes_are_freed() {
        let mut list = List::new();
        list.push_front(1);
        list.push_front(2);
        let weak = Rc::downgrade(list.head.as_ref().unwrap());
        assert_eq!(list.pop_front(), Some(2));
        assert!(
            weak.upgrade().is_none(),
            "a popped node must be freed, not kept alive by a stray strong pointer"
        );
        assert_links(&list);
    }

    #[test]
    fn every_element_is_dropped_exactly_once() {
        let log = DropLog::new();
        let mut list = List::new();
        for id in 0..100 {
            list.push_front(log.track(id));
        }
        for _ in 0..40 {
            let popped = list.pop_front().expect("60 elements remain");
            assert!(
                popped.id >= 60,
                "pop_front returns the newest element first"
            );
        }
        assert_eq!(
            log.count(),
            40,
            "the 40 popped values were dropped by the test"
        );
        drop(list);
        assert_eq!(
            log.dropped(),
            (0..100).collect::<Vec<_>>(),
            "every element must be dropped exactly once: by its pop or by dropping the list"
        );
    }

    #[test]
    fn a_list_can_be_refilled_after_being_emptied() {
        let mut list = List::new();
        for round in 0..3 {
            for i in 0..5 {
                list.push_front(round * 10 + i);
            }
            assert_links(&list);
            let expected: Vec<_> = (0..5).rev().map(|i| round * 10 + i).collect();
            assert_eq!(drain(&mut list), expected, "round {round}");
            assert_links(&list);
        }
    }
}
