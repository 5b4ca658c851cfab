//! # The ABA problem
//!
//! A compare-and-swap asks "is it still `A`?" when what it means is "has nothing happened?".
//! If, between a thread's load and its CAS, other threads change the value from `A` to `B`
//! and back to `A`, the CAS succeeds on a stale premise. With nodes that get reused that is
//! not a curiosity but a corrupted data structure.
//!
//! Build [`IndexStack`], the lock-free free list at the heart of every slot pool: a Treiber
//! stack whose elements are slot indices `0..capacity`, linked through a `next` array. A thread
//! pops an index to own that slot and pushes it back when done, so indices are reused all the
//! time. The head is one `AtomicU64` holding the top index in its low 32 bits and a *tag* in
//! its high 32 bits.
//!
//! - `pop` loads the head, reads `next[top]`, and CASes the head from what it saw to `next`.
//!   Split in two ([`IndexStack::pop_begin`], [`IndexStack::pop_commit`]) so that a test can
//!   stop a thread between its load and its CAS and script the classic interleaving:
//!   stack `0 → 1 → 2`; thread 1 loads head `0`, next `1`; thread 2 pops `0`, pops `1`,
//!   pushes `0` back (stack `0 → 2`); thread 1's CAS sees `0` and succeeds, and installs
//!   `1` as the head, a slot that thread 2 owns. Slot 1 is now handed out twice, and slot 2
//!   is lost. The test `untagged_stack_hands_out_a_slot_twice` plays this on a stack built
//!   with [`IndexStack::untagged`]; loom finds the same bug on its own in
//!   `untagged_stack_is_caught_by_loom`.
//! - The fix: every successful CAS on the head increments the tag ([`IndexStack::tagged`]). A
//!   head that went `0 → … → 0` now comes back with a different tag, so the stale CAS fails
//!   and the thread retries. (A 32-bit tag can in principle wrap around between a load and a
//!   CAS: 4 billion operations while one thread is preempted. Deferred reuse, stage 9, avoids
//!   even that.)
//! - The `next` entries are atomics, so a stale read of one is a wrong *value*, never
//!   undefined behaviour: this structure is safe Rust, and ABA shows up as a logic error. In a
//!   pointer-based stack that frees nodes, the same stale read would be a use-after-free.
//!
//! Why the MPSC queue of stage 6 is ABA-free: its producers compare only `tail.index`, a
//! counter that never comes back to an old value (it would take 2^64 pushes to wrap), never a
//! pointer; the only thread that frees blocks (the consumer) never CASes at all, and a
//! producer whose CAS fails never dereferences the block it loaded. ABA needs a CAS whose
//! expected value was loaded before someone else recycled it.
//!
//! Afterwards you can reproduce the ABA problem on purpose, explain why a tag (or deferred
//! reuse) fixes it, and tell which lock-free structures are exposed to it.
//!
//! Read: *The Art of Multiprocessor Programming*, chapter 10.6 (the ABA problem) and 11.2 (the
//! Treiber stack); *C++ Concurrency in Action*, chapter 7.2.

use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// The empty stack's "top index".
const NIL: u32 = u32::MAX;

fn pack(tag: u32, index: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(index)
}

fn index_of(head: u64) -> u32 {
    head as u32
}

fn tag_of(head: u64) -> u32 {
    (head >> 32) as u32
}

/// What [`IndexStack::pop_begin`] saw: the head (index and tag) and the index below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopAttempt {
    seen: u64,
    next: u32,
}

impl PopAttempt {
    /// The index this attempt would pop.
    pub fn index(&self) -> u32 {
        index_of(self.seen)
    }
}

/// A lock-free stack of slot indices `0..capacity`: the free list of a slot pool.
pub struct IndexStack {
    /// `next[i]`: the index below `i` while `i` is on the stack (`NIL` at the bottom).
    next: Box<[AtomicU32]>,
    /// Tag in the high 32 bits, top index in the low 32 bits.
    head: AtomicU64,
    /// Whether successful CASes bump the tag (the fix) or leave it at 0 (the bug).
    tagged: bool,
}

impl IndexStack {
    /// A stack holding every index, `0` on top: each slot starts free.
    pub fn tagged(capacity: u32) -> Self {
        Self::with_all(capacity, true)
    }

    /// The same without tags: exposed to ABA. Kept to show the bug.
    pub fn untagged(capacity: u32) -> Self {
        Self::with_all(capacity, false)
    }

    fn with_all(capacity: u32, tagged: bool) -> Self {
        assert!(capacity < NIL, "capacity must leave room for the NIL index");
        let next = (0..capacity)
            .map(|i| AtomicU32::new(if i + 1 < capacity { i + 1 } else { NIL }))
            .collect();
        let top = if capacity > 0 { 0 } else { NIL };
        Self {
            next,
            head: AtomicU64::new(pack(0, top)),
            tagged,
        }
    }

    /// The head that replaces `old` when it now points at `index`.
    fn successor(&self, old: u64, index: u32) -> u64 {
        let tag = if self.tagged {
            tag_of(old).wrapping_add(1)
        } else {
            0
        };
        pack(tag, index)
    }

    /// Puts `index` back on the stack. The caller must own it (have popped it and not pushed
    /// it since); pushing an index twice corrupts the stack (but is not undefined behaviour).
    ///
    /// # Panics
    ///
    /// If `index` is not below the capacity.
    pub fn push(&self, index: u32) {
        assert!(
            (index as usize) < self.next.len(),
            "index {index} out of range"
        );
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // We own `index`, so nobody else writes `next[index]` now. Relaxed: the CAS below
            // publishes it.
            self.next[index as usize].store(index_of(head), Ordering::Relaxed);
            // Release: the `next` store happens-before any pop that Acquires this head.
            match self.head.compare_exchange_weak(
                head,
                self.successor(head, index),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }

    /// Takes an index off the stack, or `None` if every slot is taken.
    pub fn pop(&self) -> Option<u32> {
        loop {
            let attempt = self.pop_begin()?;
            if let Some(index) = self.pop_commit(attempt) {
                return Some(index);
            }
        }
    }

    /// The first half of `pop`: reads the head and the index below it. `None` if empty.
    pub fn pop_begin(&self) -> Option<PopAttempt> {
        // Acquire: pairs with the Release CAS of the push that installed this head, so the
        // `next` entry it wrote is visible.
        let seen = self.head.load(Ordering::Acquire);
        let top = index_of(seen);
        if top == NIL {
            return None;
        }
        let next = self.next[top as usize].load(Ordering::Relaxed);
        Some(PopAttempt { seen, next })
    }

    /// The second half of `pop`: swings the head from what `attempt` saw to the index below.
    /// Returns the popped index, or `None` if the head changed meanwhile (retry from
    /// `pop_begin`).
    pub fn pop_commit(&self, attempt: PopAttempt) -> Option<u32> {
        // Relaxed: `pop_begin`'s Acquire load already synchronized with the push that
        // installed `attempt.seen` (every change of the head is an RMW, so it continues the
        // release sequence of every earlier push). A CAS that succeeds finds that same head
        // (the tag rules out an equal value written since), so it has nothing new to acquire.
        self.head
            .compare_exchange(
                attempt.seen,
                self.successor(attempt.seen, attempt.next),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| attempt.index())
    }

    /// The indices on the stack, top first. For tests: only meaningful while no other thread
    /// pushes or pops. Stops after `capacity + 1` steps, so a corrupted (cyclic) stack still
    /// returns.
    pub fn snapshot(&self) -> Vec<u32> {
        let mut out = Vec::new();
        // Relaxed: the caller guarantees no push or pop runs concurrently, so whatever ended
        // them (a join) already ordered their writes before these reads.
        let mut index = index_of(self.head.load(Ordering::Relaxed));
        while index != NIL && out.len() <= self.next.len() {
            out.push(index);
            index = self.next[index as usize].load(Ordering::Relaxed);
        }
        out
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a CAS loop never made progress", f)
    }

    #[test]
    fn a_new_stack_holds_every_index_lowest_on_top() {
        assert_eq!(IndexStack::tagged(4).snapshot(), vec![0, 1, 2, 3]);
        assert_eq!(IndexStack::tagged(0).snapshot(), Vec::<u32>::new());
    }

    #[test]
    fn pop_and_push_are_last_in_first_out() {
        within(5, || {
            let s = IndexStack::tagged(3);
            assert_eq!(s.pop(), Some(0));
            assert_eq!(s.pop(), Some(1));
            s.push(0);
            assert_eq!(s.snapshot(), vec![0, 2]);
            assert_eq!(s.pop(), Some(0), "the last index pushed comes off first");
            assert_eq!(s.pop(), Some(2));
            assert_eq!(s.pop(), None, "every slot is taken");
            s.push(1);
            assert_eq!(s.pop(), Some(1));
        });
    }

    #[test]
    fn pop_commit_fails_if_the_head_moved() {
        within(5, || {
            let s = IndexStack::tagged(3);
            let attempt = s.pop_begin().expect("the stack is full");
            assert_eq!(attempt.index(), 0);
            assert_eq!(s.pop(), Some(0));
            assert_eq!(
                s.pop_commit(attempt),
                None,
                "the head changed: the CAS must fail"
            );
            assert_eq!(s.snapshot(), vec![1, 2]);
        });
    }

    /// The scripted ABA interleaving on the untagged stack: the stale CAS succeeds.
    #[test]
    fn untagged_stack_hands_out_a_slot_twice() {
        within(5, || {
            let s = IndexStack::untagged(3);
            let stale = s.pop_begin().unwrap(); // thread 1: sees head 0, next 1
            let a = s.pop().unwrap(); // thread 2 pops 0 ...
            let b = s.pop().unwrap(); // ... and 1 ...
            s.push(a); // ... and gives 0 back: the head is 0 again, with 2 below it
            assert_eq!((a, b), (0, 1));
            assert_eq!(
                s.pop_commit(stale),
                Some(0),
                "without a tag, the stale CAS sees head 0 and succeeds (that is the bug)"
            );
            assert_eq!(
                s.snapshot(),
                vec![1, 2],
                "the stale CAS installed slot 1, which thread 2 still owns, as the head"
            );
            assert_eq!(s.pop(), Some(b), "slot 1 is handed out a second time");
        });
    }

    /// The same interleaving on the tagged stack: the stale CAS fails, the retry is right.
    #[test]
    fn tagged_stack_rejects_the_stale_compare_and_swap() {
        within(5, || {
            let s = IndexStack::tagged(3);
            let stale = s.pop_begin().unwrap();
            let a = s.pop().unwrap();
            let b = s.pop().unwrap();
            s.push(a);
            assert_eq!(
                s.pop_commit(stale),
                None,
                "head 0 came back with a new tag: the stale CAS must fail"
            );
            assert_eq!(
                s.snapshot(),
                vec![0, 2],
                "the failed CAS must leave the stack alone"
            );
            assert_eq!(s.pop(), Some(0), "the retry pops what is really on top");
            assert_eq!(s.snapshot(), vec![2]);
            s.push(b);
            assert_eq!(s.snapshot(), vec![1, 2]);
        });
    }

    #[test]
    fn the_tag_changes_on_every_successful_operation() {
        within(5, || {
            let s = IndexStack::tagged(2);
            let mut tags = HashSet::new();
            for _ in 0..5 {
                tags.insert(s.pop_begin().unwrap().seen);
                let i = s.pop().unwrap();
                s.push(i);
            }
            assert_eq!(
                tags.len(),
                5,
                "the same top index must come with a new tag after each pop and push"
            );
        });
    }

    /// Threads take slots, check nobody else holds them, and give them back.
    #[test]
    fn no_slot_is_ever_held_twice_under_contention() {
        let rounds = if cfg!(miri) { 50 } else { 20_000 };
        within(10, move || {
            let slots = 4u32;
            let stack = Arc::new(IndexStack::tagged(slots));
            let held: Arc<Vec<AtomicBool>> =
                Arc::new((0..slots).map(|_| AtomicBool::new(false)).collect());
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (stack, held) = (Arc::clone(&stack), Arc::clone(&held));
                    std::thread::spawn(move || {
                        for _ in 0..rounds {
                            if let Some(i) = stack.pop() {
                                assert!(
                                    !held[i as usize]
                                        .swap(true, std::sync::atomic::Ordering::SeqCst),
                                    "slot {i} handed out while another thread held it"
                                );
                                held[i as usize].store(false, std::sync::atomic::Ordering::SeqCst);
                                stack.push(i);
                            }
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            let mut left = stack.snapshot();
            left.sort_unstable();
            assert_eq!(left, vec![0, 1, 2, 3], "every slot must be back, once");
        });
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use crate::sync::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;

    /// Two threads take and return slots; a slot must never be held by both. One thread does
    /// pop, pop, push, push while the other pops and pushes: the ABA interleaving is among
    /// the runs loom explores. At the end all three slots must come out, once each.
    fn two_users(stack: IndexStack) {
        let stack = Arc::new(stack);
        let held: Arc<Vec<AtomicBool>> = Arc::new((0..3).map(|_| AtomicBool::new(false)).collect());
        let take = |stack: &IndexStack, held: &[AtomicBool]| {
            let i = stack.pop().expect(
                "a free slot was lost (three slots, at most three held): ABA, or a pop that \
                 read a stale `next` (the push's Release and the pop's Acquire publish it)",
            );
            assert!(
                !held[i as usize].swap(true, Ordering::Relaxed),
                "slot {i} handed out twice: ABA, or a pop that read a stale `next` (the push's \
                 Release and the pop's Acquire publish it)"
            );
            i
        };
        let give = |stack: &IndexStack, held: &[AtomicBool], i: u32| {
            held[i as usize].store(false, Ordering::Relaxed);
            stack.push(i);
        };
        let other = {
            let (stack, held) = (Arc::clone(&stack), Arc::clone(&held));
            thread::spawn(move || {
                let i = take(&stack, &held);
                give(&stack, &held, i);
            })
        };
        let a = take(&stack, &held);
        let b = take(&stack, &held);
        give(&stack, &held, a);
        give(&stack, &held, b);
        other.join().unwrap();
        // Every slot is free again: three pops must yield three different slots.
        for _ in 0..3 {
            take(&stack, &held);
        }
        assert_eq!(stack.pop(), None, "only three slots exist");
    }

    #[test]
    fn tagged_stack_never_hands_out_a_slot_twice() {
        loom::model(|| two_users(IndexStack::tagged(3)));
    }

    #[test]
    #[should_panic(expected = "ABA")]
    fn untagged_stack_is_caught_by_loom() {
        loom::model(|| two_users(IndexStack::untagged(3)));
    }
}
