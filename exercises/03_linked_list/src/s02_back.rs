//! # Back operations: walking the Weak links
//!
//! Add `push_back` and `pop_back`, the mirror images of stage 1. The new part is the way
//! back: a node's `prev` is a `Weak` pointer, and to use it you `upgrade()` it into an `Rc`,
//! which returns `None` when there is no previous node (at the head, whose `prev` is
//! `Weak::new()`).
//!
//! `pop_back` unlinks the tail: its predecessor becomes the new tail and loses its `next`
//! (the strong pointer that owned the old tail). When the tail has no predecessor, the list
//! had one element, whose node is both `head` and `tail`: clear both before moving the element
//! out with `Rc::try_unwrap`, or the unwrap finds a second owner.
//!
//! The tests drive the list with thousands of random operations on both ends and compare
//! every result with `std::collections::VecDeque`, the model, and check the links after each
//! step: every `prev` must point at the node before, `tail` must be the last node.
//!
//! Afterwards you can move both ways through a structure whose back pointers do not own
//! anything, the shape of parent pointers in trees and of observers in graphs.
//!
//! Read: Too Many Lists, "A Bad but Safe Doubly-Linked Deque", section Symmetric Junk
//! (<https://rust-unofficial.github.io/too-many-lists/fourth-symmetry.html>), and the Rust
//! Book, "Reference Cycles Can Leak Memory", on `Weak::upgrade`
//! (<https://doc.rust-lang.org/book/ch15-06-reference-cycles.html>).

use std::rc::{Rc, Weak};

use crate::s01_front::{List, Node, into_elem};

impl<T> List<T> {
    /// Adds `elem` at the back.
    pub fn push_back(&mut self, elem: T) {
        // TODO: the mirror image of `push_front`: link the new node after the old tail, or
        // make it the head as well if the list was empty.
        todo!("List::push_back")
    }

    /// Removes the back element and returns it, or `None` if the list is empty.
    pub fn pop_back(&mut self) -> Option<T> {
        // TODO: the back element, or None. The list's invariants hold afterwards (the new
        // tail has no forward link; an emptied list has neither head nor tail), and nothing
        // but your own variable owns the old node when its element comes out.
        todo!("List::pop_back")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use crate::List;
    use crate::testing::{DropLog, Rng, assert_links, drain};

    #[test]
    fn pop_back_on_empty_returns_none() {
        let mut list: List<u8> = List::new();
        assert_eq!(list.pop_back(), None);
        assert_eq!(list.len(), 0);
    }

    #[test]
    fn push_back_then_pop_front_keeps_order() {
        let mut list = List::new();
        for i in 0..5 {
            list.push_back(i);
            assert_links(&list);
        }
        assert_eq!(
            drain(&mut list),
            vec![0, 1, 2, 3, 4],
            "push_back appends: popping from the front returns the elements in order"
        );
    }

    #[test]
    fn push_back_then_pop_back_returns_the_last_pushed_first() {
        let mut list = List::new();
        list.push_back(1);
        list.push_back(2);
        list.push_back(3);
        assert_eq!(list.pop_back(), Some(3));
        assert_links(&list);
        assert_eq!(list.pop_back(), Some(2));
        assert_eq!(list.pop_back(), Some(1));
        assert_eq!(list.pop_back(), None);
        assert!(list.is_empty());
        assert_links(&list);
    }

    #[test]
    fn one_element_can_leave_by_either_end() {
        let mut list = List::new();
        list.push_back('x');
        assert_eq!(
            list.pop_front(),
            Some('x'),
            "pushed at the back, popped at the front"
        );
        assert_links(&list);
        list.push_front('y');
        assert_eq!(
            list.pop_back(),
            Some('y'),
            "pushed at the front, popped at the back"
        );
        assert!(
            list.head.is_none() && list.tail.is_none(),
            "pop_back of the only element must clear head as well as tail"
        );
    }

    #[test]
    fn pop_back_frees_the_old_tail_and_fixes_the_new_one() {
        let mut list = List::new();
        list.push_back(1);
        list.push_back(2);
        let old_tail = std::rc::Rc::downgrade(list.tail.as_ref().unwrap());
        assert_eq!(list.pop_back(), Some(2));
        assert!(
            old_tail.upgrade().is_none(),
            "the popped node must be freed"
        );
        let tail = list.tail.as_ref().unwrap();
        assert!(
            tail.borrow().next.is_none(),
            "the new tail must not point at the removed node"
        );
        assert_links(&list);
    }

    #[test]
    fn random_operations_match_vecdeque() {
        let steps = if cfg!(miri) { 300 } else { 5_000 };
        for seed in 1..=4u64 {
            let mut rng = Rng::new(seed);
            let mut list = List::new();
            let mut model = VecDeque::new();
            for step in 0..steps {
                let value = step as u32;
                match rng.below(4) {
                    0 => {
                        list.push_front(value);
                        model.push_front(value);
                    }
                    1 => {
                        list.push_back(value);
                        model.push_back(value);
                    }
                    2 => assert_eq!(
                        list.pop_front(),
                        model.pop_front(),
                        "seed {seed}, step {step}: pop_front"
                    ),
                    _ => assert_eq!(
                        list.pop_back(),
                        model.pop_back(),
                        "seed {seed}, step {step}: pop_back"
                    ),
                }
                assert_eq!(list.len(), model.len(), "seed {seed}, step {step}: len");
                if step % 64 == 0 {
                    assert_links(&list);
                }
            }
            assert_links(&list);
            assert_eq!(drain(&mut list), Vec::from(model), "seed {seed}: contents");
        }
    }

    #[test]
    fn every_element_is_dropped_exactly_once_from_both_ends() {
        let log = DropLog::new();
        let mut list = List::new();
        for id in 0..50 {
            if id % 2 == 0 {
                list.push_back(log.track(id));
            } else {
                list.push_front(log.track(id));
            }
        }
        for _ in 0..10 {
            drop(list.pop_back());
            drop(list.pop_front());
        }
        assert_eq!(log.count(), 20);
        drop(list);
        assert_eq!(
            log.dropped(),
            (0..50).collect::<Vec<_>>(),
            "every element dropped exactly once"
        );
    }
}
