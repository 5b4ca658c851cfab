//! # Memory ordering: handing data from one thread to another
//!
//! The borrow checker stops two threads from touching the same data at once, but only for data
//! it can see through references. Once the data sits in an `UnsafeCell` and the "whose turn is
//! it" question is answered by an atomic flag, the compiler cannot help any more: whether the
//! reader sees the writer's data is decided by the *memory ordering* of the flag's operations,
//! and getting it wrong compiles, passes tests on x86, and breaks on ARM or under the optimiser.
//!
//! Build two small things and justify every ordering in a comment:
//!
//! 1. [`Handoff<T>`], a one-shot slot: one thread `publish`es a value, another `take`s it.
//!    The publisher writes the value into the cell, *then* marks the slot ready with a
//!    `Release` store (or read-modify-write); the taker claims it with an `Acquire` operation
//!    and only then reads the cell. `Release` makes every write before it visible to whoever
//!    `Acquire`s that same value: that *happens-before* edge is the only thing that makes the
//!    read of the cell safe. With `Relaxed` on either side there is no edge, and the taker may
//!    read the cell before the value is in it; the loom test `relaxed_handoff_is_caught_by_loom`
//!    shows loom catching exactly that. A slot published but never taken must drop its value.
//!
//! 2. [`Dekker`], the store-buffer litmus test, where `Release`/`Acquire` are *not* enough.
//!    Two threads each raise their own flag, then look at the other's flag, and "enter" only if
//!    it is still down. With `Release` stores and `Acquire` loads both may enter: each store
//!    may still sit in its core's store buffer when the other core loads, and acquire/release
//!    only orders a thread's accesses relative to a value it *read*. What is needed is a
//!    single total order over both threads' store-then-load: `SeqCst`. Put a
//!    `fence(Ordering::SeqCst)` between the store and the load (loom models `SeqCst` fences
//!    exactly; it treats `SeqCst` loads and stores as acquire/release, so use the fence). The
//!    blocking `recv` of the MPSC stage needs this same pattern between "I am going to sleep"
//!    and "a message is queued".
//!
//! From this stage on, atomics, `UnsafeCell`, `Arc` and threads come from the crate's private
//! `sync` module (`src/sync.rs`): std's types normally, loom's under `--cfg mastery_loom`, so
//! the same code runs in the ordinary tests and under the model checker. Its `UnsafeCell` has
//! loom's API: `cell.with(|ptr| ...)` to read and `cell.with_mut(|ptr| ...)` to write, each
//! handing you a raw pointer for the duration of the closure.
//!
//! Afterwards you can say which ordering each atomic operation needs and why (Acquire,
//! Release, SeqCst, Relaxed), and you have seen a model checker reject a weakened ordering.
//!
//! Read: Mara Bos, *Rust Atomics and Locks*, chapter 3 (memory ordering):
//! <https://marabos.nl/atomics/memory-ordering.html>; C++ Concurrency in Action, chapter 5.3.
//!
//! A `Handoff` moves its value to another thread, so it is `Sync` only for `Send` values:
//!
//! ```compile_fail,E0277
//! use mpsc::s03_ordering::Handoff;
//! use std::rc::Rc;
//! let slot = Handoff::new();
//! std::thread::scope(|s| {
//!     s.spawn(|| slot.publish(Rc::new(1))); // error: `Rc<i32>` cannot be sent between threads
//! });
//! let _ = slot.take();
//! ```

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
pub struct Handoff<T> {
    /// One of `EMPTY`, `WRITING`, `READY`, `TAKEN`; it only ever moves forward.
    state: AtomicUsize,
    /// Initialised exactly while `state` is `READY`.
    slot: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written by one thread (the one that moved `state` from EMPTY to
// WRITING) and read by one thread (the one that moved it from READY to TAKEN); the
// Release/Acquire pair on READY orders the write before the read. The value moves between
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
        // TODO: raise A's flag, then report whether B's flag is still down.
        todo!()
    }

    /// Raises B's flag, then enters (returns `true`) only if A's flag is still down.
    pub fn enter_b(&self) -> bool {
        // TODO: raise B's flag, then report whether A's flag is still down.
        todo!()
    }

    fn enter(mine: &AtomicBool, theirs: &AtomicBool) -> bool {
        mine.store(true, Ordering::Relaxed);
        // SeqCst fence: all SeqCst fences are in one total order. Whichever thread's fence
        // comes second in it sees the other thread's store, so at most one load reads
        // `false`. Acquire/Release would not do: they only order against values read.
        fence(Ordering::SeqCst);
        !theirs.load(Ordering::Relaxed)
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
        within(5, move || {
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
                    std::hint::spin_loop();
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
