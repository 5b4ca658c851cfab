//! # Bonus: the same deque with raw pointers
//!
//! A bridge to phase 1. `RawList<T>` is the deque of stages 1 to 5 without `Rc`, `RefCell` or
//! `Weak`: each node is a `Box` turned into a raw pointer with `Box::into_raw`, linked by
//! `Option<NonNull<RawNode<T>>>` both ways, and turned back into a `Box` with `Box::from_raw`
//! when it leaves the list. Nothing counts owners or borrows at run time any more; the list's
//! own invariants carry the whole safety argument:
//!
//! - every node reachable from `head` was made by `Box::into_raw`, is owned by the list, and is
//!   freed exactly once, by `pop_front`, `pop_back` or `Drop`;
//! - `next` and `prev` of neighbouring nodes point at each other, `head` has no `prev`, `tail`
//!   has no `next`, and `len` counts the nodes.
//!
//! Keep `unsafe` small: one block per dereference or `from_raw`, each with a `// SAFETY:`
//! comment that names the invariant it relies on. `PhantomData<Box<RawNode<T>>>` tells the
//! compiler (and drop check) that the list owns `T`s, which a pair of `NonNull`s does not say.
//! `new`, `len` and `is_empty` are written; write the pushes, the pops, the four peeks and
//! `Drop`.
//!
//! What the raw design buys, against stages 1 to 5:
//!
//! - `peek_front(&self) -> Option<&T>`, a plain reference checked by the borrow checker at
//!   compile time, where the `Rc<RefCell<_>>` list needed `Ref` guards (and, two stages on, a
//!   borrowing iterator, which that list could not have at all);
//! - one allocation per node holding `T` and two pointers, instead of an `Rc` allocation that
//!   also holds two counters and a borrow flag, and no counting on every step;
//! - the bugs the compiler no longer catches: a use after free or a double free is now
//!   undefined behaviour, not a panic. The Miri check of this stage runs the tests in an
//!   interpreter that reports such bugs.
//!
//! The borrow checker still guards the public API. A `&T` from `peek_front` keeps the list
//! borrowed, so it cannot outlive an element popped from under it:
//!
//! ```compile_fail,E0502
//! use linked_list::RawList;
//!
//! let mut list = RawList::new();
//! list.push_back(1);
//! let first = list.peek_front().unwrap();
//! list.pop_front(); // error[E0502]: `list` is also borrowed as immutable
//! println!("{first}");
//! ```
//!
//! `RawList` is neither `Send` nor `Sync`, because `NonNull` is neither; std's `LinkedList`
//! adds `unsafe impl`s for both, and so could this list, since it owns its nodes outright.
//!
//! Afterwards you will understand what `Rc` and `RefCell` were checking for you at run time,
//! and how to state and keep, in `// SAFETY:` comments, the invariants that replace those checks
//! once the pointers are raw: the way phase 1 writes every `unsafe` line.
//!
//! Read: Too Many Lists, "A Production-Quality Unsafe Doubly-Linked Deque", sections Layout and
//! Basics (<https://rust-unofficial.github.io/too-many-lists/sixth-layout.html>), and the
//! Rustonomicon on `PhantomData` and drop check
//! (<https://doc.rust-lang.org/nomicon/phantom-data.html>).

use std::marker::PhantomData;
use std::ptr::NonNull;

pub(crate) type RawLink<T> = Option<NonNull<RawNode<T>>>;

pub(crate) struct RawNode<T> {
    pub(crate) elem: T,
    pub(crate) next: RawLink<T>,
    pub(crate) prev: RawLink<T>,
}

/// A doubly linked deque with raw links. See the module docs for its invariants.
pub struct RawList<T> {
    pub(crate) head: RawLink<T>,
    pub(crate) tail: RawLink<T>,
    pub(crate) len: usize,
    _owns: PhantomData<Box<RawNode<T>>>,
}

impl<T> RawList<T> {
    /// An empty list. Allocates nothing.
    pub fn new() -> Self {
        RawList {
            head: None,
            tail: None,
            len: 0,
            _owns: PhantomData,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `elem` at the front.
    pub fn push_front(&mut self, elem: T) {
        // TODO: a new node, owned by the list from now on, becomes the head; the links both
        // ways and `tail` keep the invariants in the header. Every `unsafe` block gets a
        // SAFETY comment.
        todo!("RawList::push_front")
    }

    /// Adds `elem` at the back.
    pub fn push_back(&mut self, elem: T) {
        // TODO: the mirror image of `push_front`.
        todo!("RawList::push_back")
    }

    /// Removes the front element and returns it, or `None` if the list is empty.
    pub fn pop_front(&mut self) -> Option<T> {
        // TODO: as the doc comment says; the node is freed here, exactly once, and nothing
        // points to it afterwards.
        todo!("RawList::pop_front")
    }

    /// Removes the back element and returns it, or `None` if the list is empty.
    pub fn pop_back(&mut self) -> Option<T> {
        // TODO
        todo!("RawList::pop_back")
    }

    /// The front element, or `None` if the list is empty.
    pub fn peek_front(&self) -> Option<&T> {
        // TODO: a plain `&T`, valid for as long as the list stays borrowed.
        todo!("RawList::peek_front")
    }

    /// The back element, or `None` if the list is empty.
    pub fn peek_back(&self) -> Option<&T> {
        // TODO
        todo!("RawList::peek_back")
    }

    /// The front element, mutably, or `None` if the list is empty.
    pub fn peek_front_mut(&mut self) -> Option<&mut T> {
        // TODO
        todo!("RawList::peek_front_mut")
    }

    /// The back element, mutably, or `None` if the list is empty.
    pub fn peek_back_mut(&mut self) -> Option<&mut T> {
        // TODO
        todo!("RawList::peek_back_mut")
    }
}

impl<T> Default for RawList<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for RawList<T> {
    fn drop(&mut self) {
        // TODO: free every node, in a loop. (Left empty, not `todo!()`: a panic in `drop`
        // while a failed test unwinds would abort the test run. Empty, it leaks every node.)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::testing::{DropLog, Rng};

    #[test]
    fn new_list_is_empty() {
        let mut list: RawList<i32> = RawList::new();
        assert!(list.is_empty());
        assert_eq!(list.len(), 0);
        assert_eq!(list.pop_front(), None);
        assert_eq!(list.pop_back(), None);
        assert_eq!(list.peek_front(), None);
        assert_eq!(list.peek_back_mut(), None);
    }

    #[test]
    fn both_ends_push_and_pop() {
        let mut list = RawList::new();
        list.push_back(2);
        list.push_front(1);
        list.push_back(3);
        assert_eq!(list.len(), 3);
        assert!(!list.is_empty(), "a list of three elements is not empty");
        assert_eq!(list.peek_front(), Some(&1));
        assert_eq!(list.peek_back(), Some(&3));
        assert_eq!(list.pop_back(), Some(3));
        assert_eq!(list.pop_front(), Some(1));
        assert_eq!(list.pop_front(), Some(2), "one element leaves by the front");
        assert_eq!(list.pop_back(), None);
        list.push_front(9);
        assert_eq!(list.pop_back(), Some(9), "one element leaves by the back");
        assert!(list.is_empty());
    }

    #[test]
    fn peek_mut_changes_the_ends() {
        let mut list = RawList::new();
        list.push_back(String::from("a"));
        list.push_back(String::from("b"));
        list.peek_front_mut().unwrap().push('!');
        list.peek_back_mut().unwrap().push('?');
        assert_eq!(list.pop_front().as_deref(), Some("a!"));
        assert_eq!(list.pop_front().as_deref(), Some("b?"));
    }

    #[test]
    fn random_operations_match_vecdeque() {
        let steps = if cfg!(miri) { 400 } else { 5_000 };
        let mut rng = Rng::new(7);
        let mut list = RawList::new();
        let mut model = VecDeque::new();
        for step in 0..steps {
            let value = step as u32;
            match rng.below(5) {
                0 => {
                    list.push_front(value);
                    model.push_front(value);
                }
                1 => {
                    list.push_back(value);
                    model.push_back(value);
                }
                2 => assert_eq!(list.pop_front(), model.pop_front(), "step {step}"),
                3 => assert_eq!(list.pop_back(), model.pop_back(), "step {step}"),
                _ => {
                    assert_eq!(list.peek_front(), model.front(), "step {step}");
                    assert_eq!(list.peek_back(), model.back(), "step {step}");
                }
            }
            assert_eq!(list.len(), model.len(), "step {step}: len");
        }
        while let Some(back) = model.pop_back() {
            assert_eq!(
                list.pop_back(),
                Some(back),
                "the contents, popped from the back (the prev links)"
            );
        }
        assert!(list.is_empty());
    }

    #[test]
    fn every_element_is_dropped_exactly_once() {
        let log = DropLog::new();
        let mut list = RawList::new();
        for id in 0..30 {
            list.push_back(log.track(id));
        }
        drop(list.pop_front());
        drop(list.pop_back());
        assert_eq!(log.dropped(), vec![0, 29]);
        drop(list);
        assert_eq!(
            log.dropped(),
            (0..30).collect::<Vec<_>>(),
            "dropping the list must free every node and drop every element once"
        );
    }

    #[test]
    fn zero_sized_elements_work() {
        let mut list = RawList::new();
        for _ in 0..10 {
            list.push_back(());
        }
        assert_eq!(list.len(), 10);
        assert_eq!(list.peek_front(), Some(&()));
        assert_eq!(list.pop_back(), Some(()));
        assert_eq!(list.len(), 9);
    }

    #[test]
    fn a_long_list_drops_without_recursion() {
        let n = if cfg!(miri) { 2_000 } else { 200_000 };
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut list = RawList::new();
                for i in 0..n {
                    list.push_back(i);
                }
                drop(list);
            })
            .expect("spawn a thread");
        handle
            .join()
            .expect("dropping the list on a small stack failed");
    }

    /// The two designs side by side: the same operations give the same answers.
    #[test]
    fn raw_list_and_rc_list_agree() {
        let steps = if cfg!(miri) { 300 } else { 3_000 };
        let mut rng = Rng::new(11);
        let mut raw = RawList::new();
        let mut safe = crate::List::new();
        for step in 0..steps {
            let value = step as u64;
            match rng.below(4) {
                0 => {
                    raw.push_front(value);
                    safe.push_front(value);
                }
                1 => {
                    raw.push_back(value);
                    safe.push_back(value);
                }
                2 => assert_eq!(raw.pop_front(), safe.pop_front(), "step {step}"),
                _ => assert_eq!(raw.pop_back(), safe.pop_back(), "step {step}"),
            }
            // A plain `&u64` against a `Ref<u64>` guard.
            assert_eq!(raw.peek_back(), safe.peek_back().as_deref(), "step {step}");
        }
        let mut from_safe = Vec::new();
        safe.for_each(|x| from_safe.push(*x));
        let from_raw: Vec<u64> = std::iter::from_fn(|| raw.pop_front()).collect();
        assert_eq!(from_raw, from_safe, "same contents, front to back");
    }
}
