//! # Lifetimes do the safety work
//!
//! Look again at `fn alloc<T>(&self, value: T) -> &mut T`. With the elided lifetime written
//! out it is `fn alloc<'arena, T>(&'arena self, value: T) -> &'arena mut T`: every reference
//! the arena hands out borrows the arena. That one lifetime is the whole safety argument of a
//! bump allocator, the same one bumpalo makes:
//!
//! - the buffer is freed in `drop`, which needs the arena owned, so no reference can outlive
//!   it: a use-after-free does not compile;
//! - `reset(&mut self)` makes all memory reusable, and `&mut self` means no `&'arena` borrow is
//!   alive: nobody can observe the old values being overwritten;
//! - the arena is not `Sync` (`Cell` is not), so two threads never bump the offset at once.
//!   It is `Send`: moving the whole arena to another thread moves every borrow's owner too.
//!
//! Build `Arena::reset`, then a [`Stack`] whose nodes live in the arena. The stack holds
//! `&'a Arena` and `&'a Node<'a, T>`: its values borrow the *arena*, not the stack, so a value
//! returned by `push` or yielded by `iter` stays usable after the stack itself is gone, and
//! cloning a stack shares its nodes instead of copying them. Get the signatures' lifetimes to
//! say exactly that, and the compiler proves the rest.
//!
//! Each example below is a real memory error that the borrow checker rejects; each compiles
//! once its marked line is removed or changed back. The curriculum's example, a `reset` while
//! references still borrow the arena, is on [`Arena::reset`]. A reference that outlives its
//! arena would point into freed memory:
//!
//! ```compile_fail,E0597
//! use arena::s01_chunk::Arena;
//! let r: &mut u32;
//! {
//!     let arena = Arena::new(64);
//!     r = arena.alloc(7);
//! } // the arena is dropped here; moving the print above this line makes it compile
//! println!("{r}");
//! ```
//!
//! Two threads sharing `&Arena` would race on the bump offset (`move ||`, which moves the
//! whole arena into the thread, compiles):
//!
//! ```compile_fail,E0277
//! use arena::s01_chunk::Arena;
//! let arena = Arena::new(1024);
//! std::thread::scope(|s| {
//!     s.spawn(|| arena.alloc(1u32).to_string()); // shares &Arena: rejected
//! });
//! ```
//!
//! Afterwards you can read and write lifetime parameters that thread through a data structure
//! (`Node<'a, T>` pointing at `Node<'a, T>`), and explain why these lifetimes rule out
//! use-after-free.
//!
//! Read: the Rustonomicon, "Lifetimes" and "Limits of Lifetimes"
//! (<https://doc.rust-lang.org/nomicon/lifetimes.html>); Rust for Rustaceans, chapter 1
//! ("Foundations": borrowing, lifetimes and variance); bumpalo's docs on `reset`
//! (<https://docs.rs/bumpalo/latest/bumpalo/struct.Bump.html#method.reset>).

use crate::s01_chunk::Arena;

// SAFETY: the arena owns its buffer and nothing in it is reachable without borrowing the
// arena, so moving the arena to another thread moves exclusive access with it. Values left in
// the buffer are never read or dropped as `T` again (only overwritten after `reset`), so a
// `!Send` value stored in it is never touched from the new thread. The arena stays `!Sync`.
unsafe impl Send for Arena {}

impl Arena {
    /// Forgets every allocation and makes the whole capacity available again, without freeing
    /// the buffer. Destructors of the values in it do not run.
    ///
    /// A `reset` while `x` and `y` still borrow the arena would let the next allocation
    /// overwrite them; `&mut self` makes it a compile error:
    ///
    /// ```compile_fail,E0502
    /// use arena::s01_chunk::Arena;
    /// let mut arena = Arena::new(1024);
    /// let x = arena.alloc(42);
    /// let y = arena.alloc(100);
    /// arena.reset(); // the line that must be rejected
    /// println!("{} {}", x, y);
    /// ```
    pub fn reset(&mut self) {
        // TODO: as the doc comment says. (Why is that safe, given only `&mut self`?)
        todo!()
    }
}

/// A node of a [`Stack`], stored in the arena.
pub struct Node<'a, T> {
    value: T,
    next: Option<&'a Node<'a, T>>,
}

/// A persistent stack whose nodes live in an arena: pushing allocates one node, cloning shares
/// every node.
pub struct Stack<'a, T> {
    arena: &'a Arena,
    head: Option<&'a Node<'a, T>>,
    len: usize,
}

impl<'a, T> Stack<'a, T> {
    /// An empty stack that allocates in `arena`.
    pub fn new(arena: &'a Arena) -> Self {
        // TODO: an empty stack.
        todo!()
    }

    /// Pushes `value` and returns a reference to it that lives as long as the arena, not the
    /// stack.
    ///
    /// # Panics
    /// If the arena is full.
    pub fn push(&mut self, value: T) -> &'a T {
        // TODO: as the doc comment says: `value` on top of this stack, stored in the arena;
        // other clones of the stack do not see it.
        todo!()
    }

    /// Removes the top value from this stack (the node stays in the arena, where other clones
    /// may still see it) and returns a reference to it.
    pub fn pop(&mut self) -> Option<&'a T> {
        // TODO: as the doc comment says; nothing is freed.
        todo!()
    }

    /// The top value, borrowed from the arena.
    pub fn peek(&self) -> Option<&'a T> {
        // TODO: the top value, or `None`.
        todo!()
    }

    /// The number of values in the stack.
    pub fn len(&self) -> usize {
        // TODO: the number of values.
        todo!()
    }

    /// Whether the stack is empty.
    pub fn is_empty(&self) -> bool {
        // TODO: whether there is none.
        todo!()
    }

    /// Iterates from the top of the stack to the bottom; the items borrow the arena.
    pub fn iter(&self) -> Iter<'a, T> {
        // TODO: as the doc comment says.
        todo!()
    }
}

impl<T> Clone for Stack<'_, T> {
    /// A second stack sharing every node with this one: no value is copied.
    fn clone(&self) -> Self {
        // TODO: as the doc comment says: cloning copies no node.
        todo!()
    }
}

/// The iterator of [`Stack::iter`].
pub struct Iter<'a, T> {
    next: Option<&'a Node<'a, T>>,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        // TODO: the values from the top of the stack to the bottom.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack's values from the top, at most 100 of them: an iterator that never ends
    /// fails the comparison instead of filling memory.
    fn values<T: Copy>(stack: &Stack<'_, T>) -> Vec<T> {
        stack.iter().take(100).copied().collect()
    }

    #[test]
    fn reset_makes_the_whole_capacity_available_again() {
        let mut arena = Arena::new(64);
        arena.alloc([1u8; 64]);
        assert!(arena.try_alloc(1u8).is_none());
        arena.reset();
        assert_eq!(arena.used(), 0, "reset must rewind the offset");
        let again = arena.alloc([2u8; 64]);
        assert_eq!(again, &[2u8; 64]);
    }

    #[test]
    fn reset_reuses_the_same_memory() {
        let mut arena = Arena::new(64);
        let first = (arena.alloc(1u64) as *const u64).addr();
        arena.reset();
        let second = (arena.alloc(2u64) as *const u64).addr();
        assert_eq!(
            first, second,
            "after reset the first allocation starts at the same address"
        );
        assert_eq!(arena.capacity(), 64, "reset must not change the capacity");
    }

    #[test]
    fn an_arena_can_be_moved_to_another_thread() {
        fn assert_send<T: Send>(_: &T) {}
        let mut arena = Arena::new(64);
        assert_send(&arena);
        arena.alloc(1u32);
        let arena = std::thread::spawn(move || {
            arena.reset();
            *arena.alloc(5u32) += 1;
            arena
        })
        .join()
        .unwrap();
        assert_eq!(arena.used(), 4);
    }

    #[test]
    fn push_peek_pop_in_lifo_order() {
        let arena = Arena::new(1024);
        let mut stack = Stack::new(&arena);
        assert!(stack.is_empty());
        assert_eq!(stack.peek(), None);
        for i in 1..=3 {
            assert_eq!(*stack.push(i), i);
        }
        assert_eq!(stack.len(), 3);
        assert!(!stack.is_empty(), "a stack holding 3 values is not empty");
        assert_eq!(stack.peek(), Some(&3));
        assert_eq!(stack.pop(), Some(&3));
        assert_eq!(stack.pop(), Some(&2));
        assert_eq!(stack.pop(), Some(&1));
        assert_eq!(stack.len(), 0, "pop must decrement len");
        assert_eq!(stack.pop(), None, "popping an empty stack returns None");
        assert!(
            stack.is_empty(),
            "popping an empty stack must leave it empty, with len 0"
        );
    }

    #[test]
    fn iter_goes_from_top_to_bottom() {
        let arena = Arena::new(1024);
        let mut stack = Stack::new(&arena);
        for word in ["a", "b", "c"] {
            stack.push(word);
        }
        assert_eq!(
            values(&stack),
            ["c", "b", "a"],
            "iter must yield each value once, top to bottom, and stop after the bottom node"
        );
        assert_eq!(stack.len(), 3, "iterating must not consume the stack");
    }

    #[test]
    fn values_outlive_the_stack_that_pushed_them() {
        let arena = Arena::new(1024);
        let first;
        let all: Vec<&u32>;
        {
            let mut stack = Stack::new(&arena);
            first = stack.push(1);
            stack.push(2);
            all = stack.iter().take(100).collect();
        }
        // The stack is gone; its values borrow the arena, which is still alive.
        assert_eq!(*first, 1);
        assert_eq!(all, [&2, &1]);
    }

    #[test]
    fn clones_share_nodes_and_diverge() {
        let arena = Arena::new(1024);
        let mut base = Stack::new(&arena);
        base.push(1);
        let shared = base.push(2) as *const i32;
        let used = arena.used();
        let mut left = base.clone();
        let mut right = base.clone();
        assert_eq!(arena.used(), used, "cloning a stack must not allocate");
        left.push(10);
        right.push(20);
        right.push(21);
        assert_eq!(values(&left), [10, 2, 1]);
        assert_eq!(values(&right), [21, 20, 2, 1]);
        assert_eq!(values(&base), [2, 1]);
        assert_eq!(
            left.iter().nth(1).map(|r| r as *const i32),
            Some(shared),
            "clones must share the node, not copy it"
        );
        assert_eq!((left.len(), right.len(), base.len()), (3, 4, 2));
    }
}
