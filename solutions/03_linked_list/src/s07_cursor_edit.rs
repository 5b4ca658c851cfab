//! # Cursors: editing in the middle
//!
//! With a cursor at the right place, every edit is O(1). Write, on the previous stage's
//! `CursorMut`, `insert_after`, `insert_before`, `remove_current`, `split_after`, and
//! `List::append`:
//!
//! - `insert_after` / `insert_before` add an element next to the current one; at the ghost,
//!   `insert_after` pushes at the front and `insert_before` at the back. The cursor stays on
//!   its element (its index grows by one when inserting before it).
//! - `remove_current` unlinks the current element, returns it, and moves to the next element
//!   (or the ghost); at the ghost it returns `None`.
//! - `split_after` cuts the list after the current element and returns the rest as a new list;
//!   at the ghost it takes the whole list.
//! - `append(&mut self, other)` moves all of `other` to the back of `self` in O(1): a few links
//!   change, no node is visited.
//!
//! Each of these rewrites up to four links (`next` and `prev` on both sides), plus `head`,
//! `tail` and `len` at the ends. The tests check every link after random edits, against a
//! `Vec` model. Keep in mind that the cursor's own `Rc` is one more strong owner of the
//! current node: stage 1's `into_elem` (`Rc::try_unwrap`) succeeds only once no other strong
//! owner is left.
//!
//! Afterwards you will know how to keep the links of a doubly linked structure consistent, and
//! when smart pointers are worth their cost: a list beats a `Vec` only for edits at a position
//! you already hold.
//!
//! Read: Too Many Lists, "A Production-Quality Unsafe Doubly-Linked Deque", section
//! Implementing Cursors (<https://rust-unofficial.github.io/too-many-lists/sixth-cursors-impl.html>).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::s01_front::{List, Node, into_elem};
use crate::s06_cursor::CursorMut;

impl<T> List<T> {
    /// Moves every element of `other` to the back of `self`, leaving `other` empty. O(1).
    pub fn append(&mut self, other: &mut List<T>) {
        let Some(other_head) = other.head.take() else {
            return;
        };
        match self.tail.take() {
            Some(tail) => {
                other_head.borrow_mut().prev = Rc::downgrade(&tail);
                tail.borrow_mut().next = Some(other_head);
            }
            None => self.head = Some(other_head),
        }
        self.tail = other.tail.take();
        self.len += std::mem::take(&mut other.len);
    }
}

/// Links a new node holding `elem` right after `node`.
fn link_after<T>(list: &mut List<T>, node: &Rc<RefCell<Node<T>>>, elem: T) {
    let new = Node::new(elem);
    let mut cur = node.borrow_mut();
    {
        let mut new_mut = new.borrow_mut();
        match cur.next.take() {
            Some(next) => {
                next.borrow_mut().prev = Rc::downgrade(&new);
                new_mut.next = Some(next);
            }
            None => list.tail = Some(Rc::clone(&new)),
        }
        new_mut.prev = Rc::downgrade(node);
    }
    cur.next = Some(new);
    list.len += 1;
}

impl<T> CursorMut<'_, T> {
    /// Inserts `elem` after the current element; at the ghost, at the front of the list.
    pub fn insert_after(&mut self, elem: T) {
        match &self.current {
            Some(node) => link_after(self.list, node, elem),
            None => self.list.push_front(elem),
        }
    }

    /// Inserts `elem` before the current element; at the ghost, at the back of the list.
    pub fn insert_before(&mut self, elem: T) {
        let Some(node) = &self.current else {
            self.list.push_back(elem);
            return;
        };
        let prev = node.borrow().prev.upgrade();
        match prev {
            Some(prev) => link_after(self.list, &prev, elem),
            None => self.list.push_front(elem),
        }
        self.index += 1;
    }

    /// Removes the current element and returns it; the cursor moves to the next element (or
    /// the ghost). At the ghost, returns `None` and changes nothing.
    pub fn remove_current(&mut self) -> Option<T> {
        let node = self.current.take()?;
        let (prev, next) = {
            let mut node = node.borrow_mut();
            let prev = std::mem::replace(&mut node.prev, Weak::new()).upgrade();
            (prev, node.next.take())
        };
        // Each of these two assignments drops one strong pointer to `node`.
        match &prev {
            Some(prev) => prev.borrow_mut().next = next.clone(),
            None => self.list.head = next.clone(),
        }
        match &next {
            Some(next) => {
                next.borrow_mut().prev = prev.as_ref().map_or_else(Weak::new, Rc::downgrade);
            }
            None => self.list.tail = prev,
        }
        self.list.len -= 1;
        self.current = next;
        Some(into_elem(node))
    }

    /// Cuts the list after the current element and returns the elements after it. At the
    /// ghost, returns the whole list and leaves it empty.
    pub fn split_after(&mut self) -> List<T> {
        let Some(node) = &self.current else {
            return std::mem::take(self.list);
        };
        let Some(first) = node.borrow_mut().next.take() else {
            return List::new();
        };
        first.borrow_mut().prev = Weak::new();
        let tail = self.list.tail.replace(Rc::clone(node));
        let kept = self.index + 1;
        let split_len = self.list.len - kept;
        self.list.len = kept;
        List {
            head: Some(first),
            tail,
            len: split_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::List;
    use crate::testing::{DropLog, Rng, assert_links, drain};

    fn list_of(values: &[u32]) -> List<u32> {
        let mut list = List::new();
        for &v in values {
            list.push_back(v);
        }
        list
    }

    #[test]
    fn edits_on_an_empty_list() {
        let mut list: List<u32> = List::new();
        let mut cursor = list.cursor_front_mut();
        assert_eq!(
            cursor.remove_current(),
            None,
            "the ghost has nothing to remove"
        );
        assert!(
            cursor.split_after().is_empty(),
            "an empty list splits into two empty lists"
        );
        cursor.insert_after(7);
        assert_eq!(cursor.index(), None, "the cursor stays at the ghost");
        drop(cursor);
        assert_links(&list);
        assert_eq!(drain(&mut list), vec![7]);
    }

    #[test]
    fn inserts_go_next_to_the_current_element() {
        let mut list = list_of(&[1, 3]);
        let mut cursor = list.cursor_front_mut();
        cursor.insert_after(2);
        assert_eq!(
            cursor.index(),
            Some(0),
            "insert_after keeps the cursor in place"
        );
        cursor.insert_before(0);
        assert_eq!(
            cursor.index(),
            Some(1),
            "insert_before shifts the cursor's index"
        );
        assert_eq!(cursor.current().as_deref(), Some(&1));
        cursor.move_next();
        cursor.move_next();
        cursor.insert_after(4);
        drop(cursor);
        assert_links(&list);
        assert_eq!(drain(&mut list), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn inserts_at_the_ghost_go_to_the_ends() {
        let mut list = list_of(&[5]);
        let mut cursor = list.cursor_front_mut();
        cursor.move_prev();
        cursor.insert_after(4);
        cursor.insert_before(6);
        assert_eq!(cursor.index(), None, "the cursor stays at the ghost");
        drop(cursor);
        assert_links(&list);
        assert_eq!(drain(&mut list), vec![4, 5, 6]);
    }

    #[test]
    fn remove_current_unlinks_and_moves_to_the_next() {
        let log = DropLog::new();
        let mut list = List::new();
        for id in 0..4 {
            list.push_back(log.track(id));
        }
        let mut cursor = list.cursor_front_mut();
        cursor.move_next();
        let removed = cursor.remove_current().expect("the cursor is on element 1");
        assert_eq!(removed.id, 1);
        assert_eq!(cursor.index(), Some(1));
        assert_eq!(cursor.current().map(|t| t.id), Some(2), "moved to the next");
        cursor.move_next();
        assert_eq!(
            cursor.remove_current().map(|t| t.id),
            Some(3),
            "remove the tail"
        );
        assert_eq!(cursor.index(), None, "removing the tail moves to the ghost");
        cursor.move_next();
        assert_eq!(
            cursor.remove_current().map(|t| t.id),
            Some(0),
            "remove the head"
        );
        drop(cursor);
        assert_links(&list);
        assert_eq!(list.len(), 1);
        drop(removed);
        assert_eq!(log.dropped(), vec![0, 1, 3]);
        drop(list);
        assert_eq!(log.dropped(), vec![0, 1, 2, 3], "each element dropped once");
    }

    #[test]
    fn split_after_cuts_the_list_in_two() {
        let mut list = list_of(&[1, 2, 3, 4, 5]);
        let mut cursor = list.cursor_front_mut();
        cursor.move_next();
        let mut rest = cursor.split_after();
        assert_eq!(cursor.index(), Some(1));
        drop(cursor);
        assert_links(&list);
        assert_links(&rest);
        assert_eq!(drain(&mut rest), vec![3, 4, 5]);
        assert_eq!(drain(&mut list), vec![1, 2]);
    }

    #[test]
    fn split_after_at_the_tail_or_ghost() {
        let mut list = list_of(&[1, 2]);
        let mut cursor = list.cursor_front_mut();
        cursor.move_prev();
        cursor.move_prev();
        let empty = cursor.split_after();
        assert!(empty.is_empty(), "nothing follows the tail");
        cursor.move_next();
        let mut all = cursor.split_after();
        drop(cursor);
        assert!(list.is_empty(), "splitting at the ghost takes everything");
        assert_links(&list);
        assert_links(&all);
        assert_eq!(drain(&mut all), vec![1, 2]);
    }

    #[test]
    fn append_joins_two_lists_and_empties_the_other() {
        let mut a = list_of(&[1, 2]);
        let mut b = list_of(&[3, 4]);
        a.append(&mut b);
        assert!(
            b.is_empty(),
            "append moves every element out of the other list"
        );
        assert_links(&a);
        assert_links(&b);
        let mut empty = List::new();
        a.append(&mut empty);
        empty.append(&mut a);
        assert_links(&empty);
        assert!(a.is_empty());
        assert_eq!(drain(&mut empty), vec![1, 2, 3, 4]);
    }

    /// Random cursor sessions against a `Vec` and a position (`None` for the ghost).
    #[test]
    fn random_cursor_edits_match_a_vec_model() {
        let sessions = if cfg!(miri) { 20 } else { 300 };
        let mut rng = Rng::new(0x5eed);
        let mut list = List::new();
        let mut model: Vec<u32> = Vec::new();
        let mut next_value = 0u32;
        for session in 0..sessions {
            let mut pos = if model.is_empty() { None } else { Some(0) };
            let mut cursor = list.cursor_front_mut();
            for step in 0..30 {
                let ctx = format!("session {session}, step {step}");
                next_value += 1;
                match rng.below(9) {
                    0 | 1 => {
                        cursor.move_next();
                        pos = match pos {
                            Some(i) if i + 1 < model.len() => Some(i + 1),
                            Some(_) => None,
                            None if model.is_empty() => None,
                            None => Some(0),
                        };
                    }
                    2 => {
                        cursor.move_prev();
                        pos = match pos {
                            Some(0) => None,
                            Some(i) => Some(i - 1),
                            None => model.len().checked_sub(1),
                        };
                    }
                    3 | 4 => {
                        cursor.insert_after(next_value);
                        match pos {
                            Some(i) => model.insert(i + 1, next_value),
                            None => model.insert(0, next_value),
                        }
                    }
                    5 => {
                        cursor.insert_before(next_value);
                        match pos {
                            Some(i) => {
                                model.insert(i, next_value);
                                pos = Some(i + 1);
                            }
                            None => model.push(next_value),
                        }
                    }
                    6 | 7 => {
                        let expected = pos.map(|i| model.remove(i));
                        if let Some(i) = pos {
                            pos = (i < model.len()).then_some(i);
                        }
                        assert_eq!(cursor.remove_current(), expected, "{ctx}: remove_current");
                    }
                    _ => {
                        let split_at = pos.map_or(0, |i| i + 1);
                        let expected = model.split_off(split_at);
                        let mut rest = cursor.split_after();
                        assert_links(&rest);
                        assert_eq!(drain(&mut rest), expected, "{ctx}: split_after");
                        if pos.is_none() {
                            assert_eq!(model.len(), 0);
                        }
                    }
                }
                assert_eq!(cursor.index(), pos, "{ctx}: index");
                let current = cursor.current().map(|v| *v);
                assert_eq!(current, pos.map(|i| model[i]), "{ctx}: current");
            }
            drop(cursor);
            assert_links(&list);
            assert_eq!(list.len(), model.len(), "session {session}: len");
            if session % 3 == 0 {
                // Append a small list built on the side.
                let mut other = List::new();
                for _ in 0..rng.below(4) {
                    next_value += 1;
                    other.push_back(next_value);
                    model.push(next_value);
                }
                list.append(&mut other);
                assert_links(&list);
            }
        }
        assert_eq!(drain(&mut list), model, "final contents");
    }

    /// The whole library as a user would use it: a playlist edited in place.
    #[test]
    fn capstone_a_playlist_edited_with_a_cursor() {
        let mut playlist: List<String> = ["intro", "verse", "chorus", "outro"]
            .into_iter()
            .map(String::from)
            .collect();
        playlist.push_front(String::from("count-in"));
        {
            let mut cursor = playlist.cursor_front_mut();
            // Find "chorus", repeat it, and drop the "verse" before it.
            let mut steps = 0;
            while cursor.current().is_some_and(|song| *song != "chorus") {
                assert!(
                    steps < 5,
                    "five move_next calls from the front of five songs never reached \"chorus\": \
                     does move_next move the cursor?"
                );
                cursor.move_next();
                steps += 1;
            }
            assert_eq!(cursor.index(), Some(3));
            cursor.insert_after(String::from("chorus (reprise)"));
            cursor.move_prev();
            assert_eq!(cursor.remove_current().as_deref(), Some("verse"));
            cursor.current().unwrap().make_ascii_uppercase();
        }
        assert_eq!(
            playlist.peek_front().as_deref().map(String::as_str),
            Some("count-in")
        );
        // Cut the set after the reprise, and play an encore list after it.
        let mut rest = {
            let mut cursor = playlist.cursor_front_mut();
            for _ in 0..3 {
                cursor.move_next();
            }
            cursor.split_after()
        };
        let mut encore: List<String> = std::iter::once(String::from("encore")).collect();
        playlist.append(&mut encore);
        playlist.append(&mut rest);
        assert_links(&playlist);
        let mut lengths = 0;
        playlist.for_each(|song| lengths += song.len());
        let order: Vec<String> = playlist.into_iter().rev().collect();
        assert_eq!(
            order,
            [
                "outro",
                "encore",
                "chorus (reprise)",
                "CHORUS",
                "intro",
                "count-in"
            ],
            "the edited playlist, played backwards"
        );
        assert_eq!(lengths, order.iter().map(String::len).sum::<usize>());
    }
}
