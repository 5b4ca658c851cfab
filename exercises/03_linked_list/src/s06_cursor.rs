//! # Cursors: walking through the ghost
//!
//! A list earns its keep where a `Vec` is slow: inserting and removing in the middle, and
//! joining or cutting lists, in O(1) once you are at the right place. The tool for "the right
//! place" is a cursor, shaped after std's unstable `linked_list::CursorMut`. This stage builds
//! the cursor and its moves; the next one edits the list through it.
//!
//! `CursorMut<'a, T>` borrows the list mutably (so nothing else can change it meanwhile) and
//! holds an `Rc` to its current node, or `None` for the "ghost" position, which sits between
//! the tail and the head. The positions form a ring:
//!
//! ```text
//!   ghost -> head -> ... -> tail -> ghost -> head ...     (move_next)
//!   ghost -> tail -> ... -> head -> ghost -> tail ...     (move_prev)
//! ```
//!
//! Write `cursor_front_mut` (the cursor starts at the head, or at the ghost if the list is
//! empty), `index` (the current element's position from the head, `None` at the ghost),
//! `current` (a `RefMut` guard on the current element, `None` at the ghost), `move_next` and
//! `move_prev`. The cursor keeps its `index` up to date as it moves, so that `index` costs
//! nothing; on an empty list every move stays at the ghost.
//!
//! The cursor's `Rc` is one more strong owner of its node, next to the list's own links:
//! harmless while it only reads, and the thing to remember in the next stage, where nodes are
//! unlinked and freed.
//!
//! Afterwards you will know how a cursor turns "a position in a list" into a value you can
//! hold, and why its ghost position makes every move total: no move can fail, at either end.
//!
//! Read: the std docs of `CursorMut`
//! (<https://doc.rust-lang.org/std/collections/linked_list/struct.CursorMut.html>).

use std::cell::RefMut;

use crate::s01_front::{Link, List};

/// A cursor over a [`List`] that can edit it. See the module docs for the ghost position.
pub struct CursorMut<'a, T> {
    pub(crate) list: &'a mut List<T>,
    /// The current node, or `None` at the ghost position.
    pub(crate) current: Link<T>,
    /// The index of `current`; meaningless at the ghost.
    pub(crate) index: usize,
}

impl<T> List<T> {
    /// A cursor at the front element, or at the ghost if the list is empty.
    pub fn cursor_front_mut(&mut self) -> CursorMut<'_, T> {
        // TODO: a cursor at the front element (index 0), or at the ghost.
        todo!("List::cursor_front_mut")
    }
}

impl<T> CursorMut<'_, T> {
    /// The index of the current element, or `None` at the ghost.
    pub fn index(&self) -> Option<usize> {
        // TODO
        todo!("CursorMut::index")
    }

    /// A mutable borrow of the current element, or `None` at the ghost.
    pub fn current(&mut self) -> Option<RefMut<'_, T>> {
        // TODO: a guard on the current element, as `peek_front_mut` gives one.
        todo!("CursorMut::current")
    }

    /// Moves to the next element; from the tail to the ghost, from the ghost to the head.
    pub fn move_next(&mut self) {
        // TODO: as the doc comment says; `index` stays the current element's index.
        todo!("CursorMut::move_next")
    }

    /// Moves to the previous element; from the head to the ghost, from the ghost to the tail.
    pub fn move_prev(&mut self) {
        // TODO: as the doc comment says; `index` stays the current element's index.
        todo!("CursorMut::move_prev")
    }
}

#[cfg(test)]
mod tests {
    use crate::List;
    use crate::testing::{Rng, assert_links, drain};

    fn list_of(values: &[u32]) -> List<u32> {
        let mut list = List::new();
        for &v in values {
            list.push_back(v);
        }
        list
    }

    #[test]
    fn a_cursor_starts_at_the_front_and_walks_through_the_ghost() {
        let mut list = list_of(&[10, 20, 30]);
        let mut cursor = list.cursor_front_mut();
        assert_eq!(cursor.index(), Some(0));
        assert_eq!(cursor.current().as_deref(), Some(&10));
        cursor.move_next();
        cursor.move_next();
        assert_eq!(
            (cursor.index(), cursor.current().as_deref().copied()),
            (Some(2), Some(30))
        );
        cursor.move_next();
        assert_eq!(cursor.index(), None, "after the tail comes the ghost");
        assert!(cursor.current().is_none(), "the ghost has no element");
        cursor.move_next();
        assert_eq!(cursor.index(), Some(0), "after the ghost comes the head");
        cursor.move_prev();
        assert_eq!(cursor.index(), None, "before the head is the ghost");
        cursor.move_prev();
        assert_eq!(
            (cursor.index(), cursor.current().as_deref().copied()),
            (Some(2), Some(30)),
            "before the ghost is the tail"
        );
    }

    #[test]
    fn a_cursor_on_an_empty_list_stays_at_the_ghost() {
        let mut list: List<u32> = List::new();
        let mut cursor = list.cursor_front_mut();
        assert_eq!(cursor.index(), None, "an empty list has only the ghost");
        assert!(cursor.current().is_none(), "the ghost has no element");
        cursor.move_next();
        assert_eq!(
            cursor.index(),
            None,
            "move_next on an empty list stays at the ghost"
        );
        cursor.move_prev();
        assert_eq!(
            cursor.index(),
            None,
            "move_prev on an empty list stays at the ghost"
        );
        assert!(cursor.current().is_none());
    }

    #[test]
    fn current_edits_the_element_in_place() {
        let mut list = list_of(&[1, 2, 3]);
        let mut cursor = list.cursor_front_mut();
        cursor.move_next();
        *cursor.current().unwrap() = 20;
        drop(cursor);
        assert_eq!(
            drain(&mut list),
            vec![1, 20, 3],
            "moving a cursor must not change the links: only the element under it changes"
        );
    }

    /// Random walks over lists of 0 to 5 elements, against a position (`None` for the ghost).
    #[test]
    fn random_moves_match_a_position_model() {
        let mut rng = Rng::new(0xc0de);
        for len in 0..6u32 {
            let values: Vec<u32> = (1..=len).map(|i| i * 10).collect();
            let mut list = list_of(&values);
            let mut cursor = list.cursor_front_mut();
            let mut pos = if values.is_empty() { None } else { Some(0) };
            for step in 0..40 {
                let ctx = format!("a list of {len}, step {step}");
                if rng.below(2) == 0 {
                    cursor.move_next();
                    pos = match pos {
                        Some(i) if i + 1 < values.len() => Some(i + 1),
                        Some(_) => None,
                        None => (!values.is_empty()).then_some(0),
                    };
                    assert_eq!(cursor.index(), pos, "{ctx}: index after move_next");
                } else {
                    cursor.move_prev();
                    pos = match pos {
                        Some(0) => None,
                        Some(i) => Some(i - 1),
                        None => values.len().checked_sub(1),
                    };
                    assert_eq!(cursor.index(), pos, "{ctx}: index after move_prev");
                }
                let current = cursor.current().map(|v| *v);
                assert_eq!(current, pos.map(|i| values[i]), "{ctx}: current element");
            }
            drop(cursor);
            assert_links(&list);
            assert_eq!(
                drain(&mut list),
                values,
                "moving a cursor must leave the list as it was"
            );
        }
    }
}
