//! # Break it: two `&mut` to one node
//!
//! `peek_front_mut` and `peek_back_mut` each borrow the whole list mutably, so the borrow
//! checker will not let you hold both results at once. A caller who wants to compare or swap
//! the two ends would like one call that hands out both: write [`RawList::peek_ends_mut`],
//! returning `(&mut front, &mut back)`, the short way: one `&mut` made from `head`, one from
//! `tail`. It is a line or two of `unsafe` code, and it is wrong, on purpose.
//!
//! Why it is wrong: in a list of one element, `head` and `tail` point at the same node, so the
//! two `&mut T` point at the same element. A `&mut` promises that, while it is alive, nothing
//! else reads or writes what it points at, and two of them break each other's promise: the
//! compiler may keep `*front` in a register across a write through `back`. The test
//! `a_one_element_list_has_one_element_at_both_ends` adds 10 through `back` and reads `front`.
//! Natively it passes: debug builds do not exploit the promise. Miri checks the promise
//! itself. This stage's `miri` check passes when Miri reports an aliasing violation, and the
//! runner shows the report's summary under the verdict.
//!
//! What to look for in the report (Stacked Borrows). Every reference gets a *tag*
//! (`<204338>`), and each byte keeps a stack of the tags allowed to use it. Making a `&mut`
//! from a raw pointer is a *Unique retag*: it pushes a new tag and pops every tag above the
//! raw pointer's, so making `back` removes `front`'s tag from the element's bytes.
//!
//! - `error: Undefined Behavior: trying to retag from <TAG> for Unique permission at
//!   allocN[0x..], but that tag does not exist in the borrow stack for this location`,
//!   pointing at the pair you return (`while retagging field .0`): returning a reference
//!   retags it, which needs its tag, and `front`'s is gone. Miri notices the bug in your own
//!   function, before the test writes anything.
//! - `help: <TAG> was created by a Unique retag`, pointing at the `&mut` you made from `head`:
//!   the tag is `front`'s.
//! - `help: <TAG> was later invalidated ... by a Unique retag`, pointing at the `&mut` you
//!   made from `tail`: the cause, and the line to fix.
//!
//! Follow one tag number from the error to the two `help:` lines. The runner's summary under
//! the verdict names the line where Miri noticed the bug; the `help:` lines are in the full
//! report above it (and in `.mastery/last-run.log`). The sound version must refuse the case where the ends coincide (`None` when `len < 2`); the
//! next stage meets the same rule in `iter_mut`, whose two ends must never yield one element
//! twice.
//!
//! Afterwards you will understand why two live `&mut` to one value are undefined behaviour
//! even when every test passes, and you can read a Stacked Borrows report: the tag, where it
//! was created, and the line that invalidated it.
//!
//! Read: the Rustonomicon, "Aliasing" (<https://doc.rust-lang.org/nomicon/aliasing.html>), and
//! Too Many Lists, "Testing with Miri" and "Stacked Borrows"
//! (<https://rust-unofficial.github.io/too-many-lists/fifth-stacked-borrows.html>).

use crate::s08_raw::RawList;

impl<T> RawList<T> {
    /// The front and the back element, both mutably, or `None` if the list is empty.
    ///
    /// **Unsound on purpose.** In a list of one element, the front and the back are the same
    /// element: two live `&mut` to one node. Miri reports it.
    pub fn peek_ends_mut(&mut self) -> Option<(&mut T, &mut T)> {
        let (head, tail) = (self.head?, self.tail?);
        // UNSOUND (the bug this stage is about): both nodes are live and `&mut self` excludes
        // every other reference, but nothing here excludes `head == tail`, where the second
        // `&mut` is made from the same node while the first is still alive.
        unsafe { Some((&mut (*head.as_ptr()).elem, &mut (*tail.as_ptr()).elem)) }
    }
}

#[cfg(test)]
mod tests {
    use crate::RawList;

    #[test]
    fn the_ends_of_a_longer_list_are_front_and_back() {
        let mut list = RawList::new();
        for x in [1, 2, 3] {
            list.push_back(x);
        }
        let (front, back) = list
            .peek_ends_mut()
            .expect("a list of three elements has two ends");
        assert_eq!(
            (*front, *back),
            (1, 3),
            "peek_ends_mut must return (front, back), in that order"
        );
        std::mem::swap(front, back);
        assert_eq!(list.pop_front(), Some(3), "the swap must reach the list");
        assert_eq!(list.pop_back(), Some(1), "the swap must reach the list");
        assert_eq!(list.pop_back(), Some(2));
        assert!(list.peek_ends_mut().is_none(), "an empty list has no ends");
    }

    #[test]
    fn a_one_element_list_has_one_element_at_both_ends() {
        let mut list = RawList::new();
        list.push_back(1);
        let (front, back) = list.peek_ends_mut().expect(
            "peek_ends_mut must return both ends of a one-element list: the same element \
             twice (the bug this stage is about)",
        );
        *back += 10;
        // Natively this "works": both references point at the one element, now 11.
        assert_eq!(
            *front, 11,
            "front and back of a one-element list must be the same element"
        );
        assert_eq!(list.pop_front(), Some(11));
    }
}
