//! # Memory ordering: handing data from one thread to another
//!
//! The borrow checker stops two threads from touching the same data at once, but only for data
//! it can see through references. Once the data sits in an `UnsafeCell` and the "whose turn is
//! it" question is answered by an atomic flag, the compiler cannot help any more: whether the
//! reader sees the writer's data is decided by the *memory ordering* of the flag's operations,
//! and getting it wrong compiles, passes tests on x86, and breaks on ARM or under the optimiser.
//! From this stage on, you choose every ordering; loom and Miri judge the choice.
//!
//! **Happens-before.** Two accesses to the same memory, at least one a write, from different
//! threads, must be ordered by *happens-before*, or they are a data race: undefined behaviour,
//! whatever the hardware does. Within a thread, each statement happens-before the next. Across
//! threads the only link is an atomic: a `Release` store (or read-modify-write) *synchronises
//! with* an `Acquire` load (or read-modify-write) of the same atomic **that reads the value it
//! stored**. Chain the links and the write happens-before the read:
//!
//! ```text
//!   thread 1                               thread 2
//!   data.write(42)                           .
//!     |  (program order)                     .
//!     v                                      .
//!   flag.store(true, Release) ---------> flag.load(Acquire) == true
//!                        synchronises with     |  (program order)
//!                                              v
//!                                          data.read() == 42
//! ```
//!
//! Every link is needed. A load that reads `false` links nothing (thread 2 must not touch
//! `data` then). With `Relaxed` on either side there is no "synchronises with": the flag's
//! value still arrives (every ordering is atomic), but what was written before it need not,
//! and the read of `data` is a race. `Relaxed` is right for an operation that hands no data
//! over: a counter nobody reads data by, or a flag already ordered by something else.
//! `AcqRel` is both halves on one read-modify-write. A `compare_exchange` takes two orderings:
//! one for success (a read-modify-write) and one for failure (a load).
//!
//! Build two small things, choose the weakest ordering that is correct for each atomic
//! operation, and say why in a comment above it. For each operation ask: after it, does this
//! thread touch data that another thread wrote before *its* operation on this atomic (then
//! this one must acquire)? Will another thread, after reading the value this one writes,
//! touch data this thread wrote before it (then this one must release)? Neither: `Relaxed`.
//!
//! 1. [`Handoff<T>`], a one-shot slot: one thread `publish`es a value, another `take`s it.
//!    The state moves `EMPTY -> WRITING -> READY -> TAKEN`; the publisher claims the slot,
//!    writes the value into the cell and marks it ready; a taker claims the ready value and
//!    reads it out; at most one of each wins. A slot published but never taken drops its value.
//!    This is the previous stage's `Mailbox` done right: there the pair above was `Relaxed`
//!    on both sides and loom reported a *causality violation* on the cell; here the same loom
//!    model (`handoff_publishes_to_another_thread`) must pass.
//!
//! 2. [`Dekker`], the store-buffer litmus test. Two threads each raise their own flag, then
//!    look at the other's flag, and "enter" only if it is still down; at most one may enter.
//!    No Release/Acquire pair helps here; the doc of [`Dekker`] shows why, and what does.
//!
//! Afterwards you can draw the happens-before edge that makes a read of shared data safe, say
//! which ordering each atomic operation needs and why (Acquire, Release, SeqCst, Relaxed), and
//! you have seen a model checker reject a weakened ordering.
//!
//! Read: Mara Bos, *Rust Atomics and Locks*, chapter 3 (memory ordering):
//! <https://marabos.nl/atomics/memory-ordering.html>; C++ Concurrency in Action, chapter 5.3.

use std::mem::MaybeUninit;

use crate::sync::{AtomicBool, AtomicUsize, Ordering, UnsafeCell, fence};

/// No value yet; `publish` may claim the slot.
const EMPTY: usize = 0;
/// A publisher has claimed the slot and is writing the value.
const WRITING: usize = 1;
/// The value is in the slot; `take` may claim it.
const READY: usize = 2;
/// The value has been taken; the slot is spent.
const TAKEN: usize = 3;

/// A one-shot slot that hands one value from a publishing thread to a taking thread.
///
/// A `Handoff` moves its value to another thread, so it is `Sync` only for `Send` values:
///
/// ```compile_fail,E0277
/// use mpsc::s04_ordering::Handoff;
/// use std::rc::Rc;
/// let slot = Handoff::new();
/// std::thread::scope(|s| {
///     s.spawn(|| slot.publish(Rc::new(1))); // error: `Rc<i32>` cannot be sent between threads
/// });
/// let _ = slot.take();
/// ```
pub struct Handoff<T> {
    /// One of `EMPTY`, `WRITING`, `READY`, `TAKEN`; it only ever moves forward.
    state: AtomicUsize,
    /// Initialised exactly while `state` is `READY`.
    slot: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written by one thread (the one that moved `state` from EMPTY to
// WRITING) and read by one thread (the one that moved it from READY to TAKEN); the write
// happens-before the read through the store and the claim of READY (see their orderings). The value moves between
// threads, hence `T: Send`; no `&T` is ever shared, so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for Handoff<T> {}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Handoff<T> {
    /// An empty slot.
    pub fn new() -> Self {
        // TODO: an EMPTY state and an uninitialised slot.
        todo!()
    }

    /// Puts `value` in the slot for another thread to take. Only the first call succeeds;
    /// later ones hand their value back.
    pub fn publish(&self, value: T) -> Result<(), T> {
        // TODO: claim the slot (EMPTY -> WRITING) or hand the value back; write the value;
        // mark it READY. Choose and justify each ordering.
        todo!()
    }

    /// Takes the value if it has been published and not yet taken.
    pub fn take(&self) -> Option<T> {
        // TODO: claim the value (READY -> TAKEN) or return None; then read it out of the slot.
        // Choose and justify each ordering.
        todo!()
    }
}

impl<T> Drop for Handoff<T> {
    fn drop(&mut self) {
        // TODO: a value published and never taken must be dropped here.
    }
}

/// The store-buffer litmus test: two threads, two flags, at most one may enter.
///
/// ```text
///  thread A                    thread B
///  a.store(true)               b.store(true)
///  b.load() == false?          a.load() == false?   <- both may read false
/// ```
///
/// Each store may still sit in its core's store buffer when the other core loads. Nothing
/// here is published by a value that is *read*: each thread hopes to read the other's old
/// value, so no Release/Acquire pair helps. What is needed is one order over both threads'
/// store-then-load that every thread agrees on. `SeqCst` gives exactly that: all `SeqCst`
/// operations and `SeqCst` fences lie in one total order. (In the C++ model that Rust
/// follows, `SeqCst` loads and stores would do; loom models `SeqCst` *fences* exactly but
/// treats `SeqCst` loads and stores as acquire/release, so build on what loom can check.)
/// The blocking `recv` of stage 7 meets this pattern again, between "I am going to sleep"
/// and "a message is queued".
pub struct Dekker {
    a: AtomicBool,
    b: AtomicBool,
}

impl Default for Dekker {
    fn default() -> Self {
        Self::new()
    }
}

impl Dekker {
    /// Both flags down.
    pub fn new() -> Self {
        Self {
            a: AtomicBool::new(false),
            b: AtomicBool::new(false),
        }
    }

    /// Raises A's flag, then enters (returns `true`) only if B's flag is still down.
    pub fn enter_a(&self) -> bool {
        Self::enter(&self.a, &self.b)
    }

    /// Raises B's flag, then enters (returns `true`) only if A's flag is still down.
    pub fn enter_b(&self) -> bool {
        Self::enter(&self.b, &self.a)
    }

    fn enter(mine: &AtomicBool, theirs: &AtomicBool) -> bool {
        // TODO: raise `mine`, then report whether `theirs` is still down, so that two threads
        // calling this at once never both enter. Choose and justify each ordering.
        todo!()
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::thread;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a thread waited for a value never published", f)
    }

    #[test]
    fn take_before_publish_returns_none() {
        let slot = Handoff::<u32>::new();
        assert_eq!(slot.take(), None, "nothing was published yet");
    }

    #[test]
    fn publish_then_take_returns_the_value_once() {
        let slot = Handoff::new();
        assert_eq!(slot.publish("hi"), Ok(()));
        assert_eq!(slot.take(), Some("hi"));
        assert_eq!(slot.take(), None, "the value can be taken only once");
    }

    #[test]
    fn a_second_publish_hands_its_value_back() {
        let slot = Handoff::new();
        assert_eq!(slot.publish(1), Ok(()));
        assert_eq!(slot.publish(2), Err(2), "the slot is one-shot");
        assert_eq!(slot.take(), Some(1));
        assert_eq!(slot.publish(3), Err(3), "a spent slot stays spent");
    }

    /// Counts its drops in a static instead of through an `Arc`, so that a value dropped twice
    /// is counted and reported rather than freeing its counter twice and aborting the test
    /// run.
    #[derive(Debug)]
    struct Tallied(&'static StdAtomicUsize);
    impl Drop for Tallied {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_value_never_taken_is_dropped_with_the_slot() {
        static DROPS: StdAtomicUsize = StdAtomicUsize::new(0);
        let slot = Handoff::new();
        slot.publish(Tallied(&DROPS)).unwrap();
        drop(slot);
        assert_eq!(
            DROPS.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "a published value must be dropped with the slot"
        );

        let slot = Handoff::new();
        slot.publish(Tallied(&DROPS)).unwrap();
        drop(slot.take());
        drop(slot);
        assert_eq!(
            DROPS.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "a taken value must not be dropped again by the slot"
        );
    }

    #[test]
    fn a_value_crosses_threads() {
        let rounds = if cfg!(miri) { 10 } else { 200 };
        // A generous bound: on a loaded machine a round waits for the publisher to be
        // scheduled. A take that never sees the value still fails it.
        within(30, move || {
            for round in 0..rounds {
                let slot = Arc::new(Handoff::new());
                let publisher = {
                    let slot = Arc::clone(&slot);
                    // No heap values in these tests: a slot that drops a taken value again
                    // is reported by the drop test instead of aborting the run.
                    thread::spawn(move || slot.publish([round; 16]).unwrap())
                };
                let got = loop {
                    if let Some(v) = slot.take() {
                        break v;
                    }
                    // Give the core to the publisher: on two busy cores it may not be running.
                    thread::yield_now();
                };
                assert_eq!(got, [round; 16], "the taker must see the whole value");
                publisher.join().unwrap();
            }
        });
    }

    #[test]
    fn dekker_lets_the_first_alone_in() {
        let d = Dekker::new();
        assert!(d.enter_a(), "with B's flag down, A enters");
        assert!(!d.enter_b(), "with A's flag up, B must not enter");
        let d = Dekker::new();
        assert!(d.enter_b(), "with A's flag down, B enters");
        assert!(!d.enter_a(), "with B's flag up, A must not enter");
    }

    #[test]
    fn dekker_never_lets_both_in() {
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        within(10, move || {
            for _ in 0..rounds {
                let d = Arc::new(Dekker::new());
                let other = {
                    let d = Arc::clone(&d);
                    thread::spawn(move || d.enter_b())
                };
                let a = d.enter_a();
                let b = other.join().unwrap();
                assert!(!(a && b), "A and B both entered");
            }
        });
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    #[test]
    fn handoff_publishes_to_another_thread() {
        loom::model(|| {
            let slot = Arc::new(Handoff::new());
            let publisher = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || slot.publish(Box::new(7)).unwrap())
            };
            // In every interleaving the take either finds nothing or finds the whole value.
            if let Some(v) = slot.take() {
                assert_eq!(*v, 7);
            }
            publisher.join().unwrap();
        });
    }

    #[test]
    fn handoff_has_one_winner_among_two_takers() {
        loom::model(|| {
            // A plain value: two takers that both read it out report it below, where a
            // `Box` read out twice would abort the run with a double free first.
            let slot = Arc::new(Handoff::new());
            slot.publish(1u32).unwrap();
            let other = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || slot.take().is_some())
            };
            let mine = slot.take().is_some();
            let theirs = other.join().unwrap();
            assert!(mine ^ theirs, "exactly one taker must get the value");
        });
    }

    #[test]
    fn dekker_never_lets_both_in() {
        loom::model(|| {
            let d = Arc::new(Dekker::new());
            let other = {
                let d = Arc::clone(&d);
                thread::spawn(move || d.enter_b())
            };
            let a = d.enter_a();
            let b = other.join().unwrap();
            assert!(!(a && b), "A and B both entered");
        });
    }

    /// The handoff with its Release/Acquire pair weakened to Relaxed: loom must find the
    /// interleaving where the taker reads the cell before the publisher's write is visible.
    #[test]
    #[should_panic(expected = "Causality violation")]
    fn relaxed_handoff_is_caught_by_loom() {
        use crate::sync::{AtomicBool, Ordering, UnsafeCell};
        struct Broken {
            ready: AtomicBool,
            value: UnsafeCell<u32>,
        }
        // SAFETY: deliberately wrong, to show that loom rejects it.
        unsafe impl Sync for Broken {}
        loom::model(|| {
            let b = Arc::new(Broken {
                ready: AtomicBool::new(false),
                value: UnsafeCell::new(0),
            });
            let publisher = {
                let b = Arc::clone(&b);
                thread::spawn(move || {
                    b.value.with_mut(|v| unsafe { *v = 42 });
                    b.ready.store(true, Ordering::Relaxed); // should be Release
                })
            };
            if b.ready.load(Ordering::Relaxed) {
                // should be Acquire
                let v = b.value.with(|v| unsafe { *v });
                assert_eq!(v, 42);
            }
            publisher.join().unwrap();
        });
    }

    /// The store-buffer test with acquire/release instead of a SeqCst fence: loom must find
    /// the run where both threads enter.
    #[test]
    #[should_panic(expected = "A and B both entered")]
    fn acquire_release_dekker_is_caught_by_loom() {
        use crate::sync::{AtomicBool, Ordering};
        fn enter(mine: &AtomicBool, theirs: &AtomicBool) -> bool {
            mine.store(true, Ordering::Release);
            !theirs.load(Ordering::Acquire)
        }
        loom::model(|| {
            let flags = Arc::new((AtomicBool::new(false), AtomicBool::new(false)));
            let other = {
                let flags = Arc::clone(&flags);
                thread::spawn(move || enter(&flags.1, &flags.0))
            };
            let a = enter(&flags.0, &flags.1);
            let b = other.join().unwrap();
            assert!(!(a && b), "A and B both entered");
        });
    }
}
