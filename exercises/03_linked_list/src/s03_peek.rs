//! # Peeking: `Ref`, `RefMut` and borrows checked at run time
//!
//! Write `peek_front`, `peek_back`, `peek_front_mut` and `peek_back_mut`. They cannot return
//! `&T`: the element sits inside a `RefCell`, and the only way in is `borrow()`, which returns
//! a guard, `Ref<'_, Node<T>>`, that counts the borrow while it lives. A reference into the
//! node may not outlive that guard, and the guard is a local of `peek`:
//!
//! ```compile_fail,E0515
//! use std::cell::RefCell;
//! use std::rc::Rc;
//!
//! struct Node<T> {
//!     elem: T,
//! }
//!
//! struct List<T> {
//!     head: Option<Rc<RefCell<Node<T>>>>,
//! }
//!
//! impl<T> List<T> {
//!     // error[E0515]: cannot return value referencing temporary value
//!     fn peek_front(&self) -> Option<&T> {
//!         self.head.as_ref().map(|node| &node.borrow().elem)
//!     }
//! }
//! ```
//!
//! So return the guard itself, narrowed to the element with `Ref::map` (and `RefMut::map`
//! for the `_mut` versions). The caller holds the guard as long as it reads the element, and
//! the `RefCell` knows the node is borrowed for exactly that long.
//!
//! This is also why the list keeps a strong `tail`. A `Ref` must borrow a `RefCell` that
//! lives as long as `&self`. A `Weak` tail would have to be upgraded into a temporary `Rc`,
//! which dies at the end of `peek_back`, and the guard with it.
//!
//! The `_mut` versions take `&self`: `RefCell` makes that possible, because it checks the
//! "one writer or many readers" rule itself. The price is that a conflict is found at run
//! time, as a panic, rather than by the compiler. The tests show it: with one element, head
//! and tail are the same node, so holding `peek_front()` while asking for `peek_back_mut()`
//! panics; and a node held borrowed elsewhere makes `push_front` panic when it rewrites that
//! node's `prev`.
//!
//! Afterwards you will know what interior mutability costs: a counter per node, a check per
//! access, and errors that move from compile time to run time.
//!
//! Read: Too Many Lists, "A Bad but Safe Doubly-Linked Deque", section Peeking
//! (<https://rust-unofficial.github.io/too-many-lists/fourth-peek.html>), and the docs of
//! `std::cell::Ref::map` (<https://doc.rust-lang.org/std/cell/struct.Ref.html#method.map>).

use std::cell::{Ref, RefMut};

use crate::s01_front::List;

impl<T> List<T> {
    /// A shared borrow of the front element, or `None` if the list is empty.
    pub fn peek_front(&self) -> Option<Ref<'_, T>> {
        // TODO: a guard that gives the front element only, and keeps its node borrowed for as
        // long as it lives.
        todo!("List::peek_front")
    }

    /// A shared borrow of the back element, or `None` if the list is empty.
    pub fn peek_back(&self) -> Option<Ref<'_, T>> {
        // TODO: the same, through the tail.
        todo!("List::peek_back")
    }

    /// A mutable borrow of the front element, or `None` if the list is empty.
    ///
    /// # Panics
    ///
    /// If the front node is already borrowed (for example by a live `peek_back` on a
    /// one-element list).
    pub fn peek_front_mut(&self) -> Option<RefMut<'_, T>> {
        // TODO: the same as `peek_front`, with mutable access, still through `&self`.
        todo!("List::peek_front_mut")
    }

    /// A mutable borrow of the back element, or `None` if the list is empty.
    ///
    /// # Panics
    ///
    /// If the back node is already borrowed.
    pub fn peek_back_mut(&self) -> Option<RefMut<'_, T>> {
        // TODO
        todo!("List::peek_back_mut")
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::rc::Rc;

    use crate::List;
    use crate::testing::drain;

    /// Runs `f`, expecting it to panic with RefCell's "already borrowed" message.
    fn assert_borrow_panic(what: &str, f: impl FnOnce()) {
        let payload = catch_unwind(AssertUnwindSafe(f))
            .err()
            .unwrap_or_else(|| panic!("{what}: expected a RefCell borrow panic, got none"));
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            message.contains("already") && message.contains("borrowed"),
            "{what}: expected RefCell's 'already borrowed' panic, got {message:?}"
        );
    }

    #[test]
    fn peeks_on_an_empty_list_are_none() {
        let list: List<i32> = List::new();
        assert!(list.peek_front().is_none());
        assert!(list.peek_back().is_none());
        assert!(list.peek_front_mut().is_none());
        assert!(list.peek_back_mut().is_none());
    }

    #[test]
    fn peek_front_and_peek_back_see_the_two_ends() {
        let mut list = List::new();
        list.push_front(2);
        list.push_front(1);
        list.push_front(0);
        assert_eq!(*list.peek_front().unwrap(), 0, "front is the last pushed");
        assert_eq!(*list.peek_back().unwrap(), 2, "back is the first pushed");
        assert_eq!(list.len(), 3, "peeking removes nothing");
    }

    #[test]
    fn peek_mut_changes_the_element_in_place() {
        let mut list = List::new();
        list.push_front(String::from("b"));
        list.push_front(String::from("a"));
        list.peek_front_mut().unwrap().push('!');
        list.peek_back_mut().unwrap().push('?');
        assert_eq!(drain(&mut list), vec!["a!".to_string(), "b?".to_string()]);
    }

    #[test]
    fn many_shared_peeks_may_live_at_once() {
        let mut list = List::new();
        list.push_front(7);
        let front = list.peek_front().unwrap();
        let back = list.peek_back().unwrap();
        let again = list.peek_front().unwrap();
        assert_eq!(
            (*front, *back, *again),
            (7, 7, 7),
            "shared borrows of one node coexist"
        );
    }

    #[test]
    fn mutable_peeks_of_different_nodes_may_live_at_once() {
        let mut list = List::new();
        list.push_front(1);
        list.push_front(0);
        let mut front = list.peek_front_mut().unwrap();
        let mut back = list.peek_back_mut().unwrap();
        *front += 10;
        *back += 20;
        drop((front, back));
        assert_eq!(drain(&mut list), vec![10, 21]);
    }

    #[test]
    fn peek_guards_hold_a_borrow_of_the_node() {
        let mut list = List::new();
        list.push_front(1);
        let node = Rc::clone(list.head.as_ref().unwrap());
        {
            let _peek = list.peek_front().unwrap();
            assert!(
                node.try_borrow_mut().is_err(),
                "while a peek guard lives, the node counts as borrowed"
            );
        }
        assert!(
            node.try_borrow_mut().is_ok(),
            "dropping the guard releases the borrow"
        );
        {
            let _peek = list.peek_back_mut().unwrap();
            assert!(
                node.try_borrow().is_err(),
                "while a mutable peek guard lives, the node may not even be read"
            );
        }
    }

    #[test]
    fn holding_a_peek_while_taking_a_mutable_peek_of_the_same_node_panics() {
        let mut list = List::new();
        list.push_front(5);
        let front = list.peek_front().expect("one element");
        // One element: the back node is the front node, and it is borrowed.
        assert_borrow_panic("peek_back_mut while peek_front is held", || {
            let _ = list.peek_back_mut();
        });
        assert_eq!(*front, 5, "the shared borrow is still valid");
    }

    #[test]
    fn pushing_while_a_node_is_borrowed_panics() {
        let mut list = List::new();
        list.push_front(1);
        // A second owner of the head node keeps it borrowed, the way a peek guard would.
        let head = Rc::clone(list.head.as_ref().unwrap());
        let guard = head.borrow();
        assert_borrow_panic("push_front must rewrite the old head's prev", || {
            list.push_front(0);
        });
        drop(guard);
        assert_eq!(
            list.peek_back().as_deref(),
            Some(&1),
            "peek_back still works"
        );
    }
}
