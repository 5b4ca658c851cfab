//! Helpers shared by the stages' tests: a drop recorder, a small seeded random number
//! generator and a check of the list's links.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::List;

/// Records the id of every [`Tracked`] value it handed out, each time one is dropped.
#[derive(Clone, Default)]
pub struct DropLog(Rc<RefCell<Vec<u32>>>);

impl DropLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// A value that writes `id` into this log when it is dropped.
    pub fn track(&self, id: u32) -> Tracked {
        Tracked {
            id,
            log: self.clone(),
        }
    }

    /// The ids dropped so far, sorted.
    pub fn dropped(&self) -> Vec<u32> {
        let mut ids = self.0.borrow().clone();
        ids.sort_unstable();
        ids
    }

    pub fn count(&self) -> usize {
        self.0.borrow().len()
    }
}

/// A value whose drop is recorded in a [`DropLog`].
pub struct Tracked {
    pub id: u32,
    log: DropLog,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.0.borrow_mut().push(self.id);
    }
}

/// xorshift64*: a seeded generator, so that a failing random test fails the same way each run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % n
    }
}

/// Walks the list from `head` and checks every invariant of the links: each node's `prev`
/// points at the node before it, `tail` is the last node, and `len` counts the nodes.
pub fn assert_links<T>(list: &List<T>) {
    let mut count = 0;
    let mut prev: Option<Rc<_>> = None;
    let mut cur = list.head.clone();
    while let Some(node) = cur {
        let back = node.borrow().prev.upgrade();
        match (&prev, &back) {
            (None, None) => assert!(
                Weak::ptr_eq(&node.borrow().prev, &Weak::new()),
                "the head's prev must be empty (Weak::new()), not a stale pointer to a freed \
                 node, which keeps that node's memory allocated"
            ),
            (Some(p), Some(b)) => assert!(
                Rc::ptr_eq(p, b),
                "node {count}: its prev link must point at the node before it"
            ),
            (None, Some(_)) => panic!("the head's prev link must be empty"),
            (Some(_), None) => panic!("node {count}: its prev link is dangling or empty"),
        }
        count += 1;
        cur = node.borrow().next.clone();
        prev = Some(node);
    }
    match (&prev, &list.tail) {
        (None, None) => {}
        (Some(last), Some(tail)) => assert!(
            Rc::ptr_eq(last, tail),
            "tail must be the last node reached from head"
        ),
        (None, Some(_)) => panic!("an empty list (no head) must have no tail"),
        (Some(_), None) => panic!("a non-empty list must have a tail"),
    }
    assert_eq!(
        count, list.len,
        "len must count the nodes reachable from head"
    );
}

/// Empties the list from the front into a `Vec` (stage 1's `pop_front` only).
pub fn drain<T>(list: &mut List<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(x) = list.pop_front() {
        out.push(x);
    }
    out
}
