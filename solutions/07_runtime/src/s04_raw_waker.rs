//! # A `Waker` by hand: `RawWaker` and its vtable
//!
//! Stage 3 built its waker with `Waker::from(Arc<ThreadWaker>)` and never saw what a `Waker`
//! is. It is two pointers: a type-erased `data: *const ()` and a `&'static RawWakerVTable`, four
//! functions that know what `data` really points at. `Waker` calls them; it knows nothing else.
//! Here you write those four functions for a waker over an `Arc<Signal>`, and [`signal_waker`],
//! which turns the `Arc` into a `Waker` with `Waker::from_raw`.
//!
//! The contract (in the `RawWakerVTable` documentation) is about ownership. Every live `Waker`
//! owns one strong count of the `Arc`, carried by its `data` pointer:
//!
//! - **`clone(data)`** borrows: the waker being cloned keeps its count, and the returned
//!   `RawWaker` must own a count of its own (both will be dropped).
//! - **`wake(data)`** consumes: the waker is gone, its count is now yours. Notify, then release.
//! - **`wake_by_ref(data)`** borrows: notify, and leave the count exactly as it was.
//! - **`drop(data)`** consumes: release the count.
//!
//! Why does `wake` consume? A caller that is done with its waker (a timer that fired, a
//! one-shot channel that delivered) hands its count over instead of paying for a decrement
//! afterwards; an executor whose waker *is* the task can move that count straight into the run
//! queue. `wake_by_ref` is for a caller that keeps the waker (a socket waiting for more data).
//!
//! Get one count wrong and nothing fails at once: one count too many is a leak, one too few is
//! a use after free, or a double free, later and somewhere else. `Waker::from_raw` is `unsafe`
//! because you promise this contract, and that `data` may be used from any thread (`Waker` is
//! `Send + Sync`). The tests count the references; Miri runs them too and reports the leak or the
//! freed memory your count hides. `Arc::into_raw` and `Arc::from_raw` move a count between an
//! `Arc` and a raw pointer.
//!
//! After this stage you can explain what a `Waker` is made of, who owns its data pointer at each
//! of the four calls, and what `std::task::Wake` writes for you; the later stages use `Wake`
//! again, knowing what it does.
//!
//! Read: the `std::task::RawWakerVTable` and `Waker::from_raw` documentation; the `Wake` trait's
//! source in `alloc/src/task.rs` (it is this stage, generic over the `Arc`'s content); Rust for
//! Rustaceans, chapter 8, "Waking Up".

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{RawWaker, RawWakerVTable, Waker};
use std::thread::{self, Thread};

/// What the wakers of this stage point at: it counts wakes and unparks a thread.
#[derive(Debug)]
pub struct Signal {
    wakes: AtomicUsize,
    thread: Thread,
}

impl Signal {
    /// A signal that unparks the current thread.
    pub fn new() -> Arc<Signal> {
        Arc::new(Signal {
            wakes: AtomicUsize::new(0),
            thread: thread::current(),
        })
    }

    /// How many times a waker of this signal was woken.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::Acquire)
    }

    /// What a wake does: count it and unpark the thread.
    pub fn notify(&self) {
        self.wakes.fetch_add(1, Ordering::Release);
        self.thread.unpark();
    }
}

/// The four functions every waker of this stage shares.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// A `Waker` that calls [`Signal::notify`] when woken. It owns the strong count of the `Arc` it
/// is given; each clone owns one more.
pub fn signal_waker(signal: Arc<Signal>) -> Waker {
    let data = Arc::into_raw(signal).cast::<()>();
    // SAFETY: `data` carries the strong count `signal` owned, and the vtable's functions keep
    // the contract: each waker owns one count, released exactly once (by `wake` or `drop`).
    // `Signal` is `Send + Sync`, so the wakers may be used from any thread.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
}

/// `data` is borrowed; the new waker gets a count of its own.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: `data` came from `Arc::into_raw` in `signal_waker` (or a clone) and the waker
    // being cloned still owns its count, so the `Signal` is alive.
    unsafe { Arc::increment_strong_count(data.cast::<Signal>()) };
    RawWaker::new(data, &VTABLE)
}

/// `data`'s count is ours: notify, then release it.
unsafe fn wake(data: *const ()) {
    // SAFETY: the waker being consumed owned this count; `from_raw` takes it back, and the
    // `Arc` releases it when it goes out of scope, after the notification.
    let signal = unsafe { Arc::from_raw(data.cast::<Signal>()) };
    signal.notify();
}

/// `data` is borrowed: notify, leave the count alone.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker is alive, so its count keeps the `Signal` alive for this call.
    let signal = unsafe { &*data.cast::<Signal>() };
    signal.notify();
}

/// `data`'s count is ours: release it.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker being dropped owned this count; it is released exactly once, here.
    unsafe { Arc::decrement_strong_count(data.cast::<Signal>()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_futures::{Countdown, YieldNow};
    use crate::util::watchdog;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    const LIMIT: Duration = Duration::from_secs(10);

    /// Counts held back by [`Held`], so that a waker that releases too many cannot free the
    /// signal in the middle of a test: the test reports the count instead of crashing.
    const SPARE: usize = 8;

    /// The test's own `Arc<Signal>`, plus `SPARE` counts held back until the test passes.
    struct Held(Arc<Signal>);

    impl Held {
        fn new() -> Held {
            let signal = Signal::new();
            for _ in 0..SPARE {
                std::mem::forget(signal.clone());
            }
            Held(signal)
        }

        /// The strong counts of the test's `Arc` and of the live wakers.
        fn count(&self) -> isize {
            Arc::strong_count(&self.0) as isize - SPARE as isize
        }

        fn waker(&self) -> Waker {
            signal_waker(self.0.clone())
        }
    }

    impl Drop for Held {
        fn drop(&mut self) {
            if thread::panicking() {
                return; // a failed test: leave the spare counts, the memory stays valid
            }
            for _ in 0..SPARE {
                // SAFETY: the counts forgotten in `Held::new`.
                unsafe { Arc::decrement_strong_count(Arc::as_ptr(&self.0)) };
            }
        }
    }

    /// Whether the wakers keep the count contract, checked on a `Held` signal. The tests that
    /// let the counts reach zero check this first: with a wrong count they would free the
    /// signal too early (and crash the whole test run) or leak it.
    fn counts_are_right() -> bool {
        let held = Held::new();
        let waker = held.waker();
        let mut right = held.count() == 2;
        let clone = waker.clone();
        right &= held.count() == 3;
        clone.wake_by_ref();
        right &= held.count() == 3;
        clone.wake();
        right &= held.count() == 2;
        drop(waker);
        right &= held.count() == 1;
        if !right {
            std::mem::forget(held); // the spare counts keep the memory valid
        }
        right
    }

    const COUNTS_WRONG: &str = "the wakers do not keep the count contract (the tests that count \
                                the references say where); with the counts reaching zero this \
                                test would free the signal too early or leak it";

    #[test]
    fn a_waker_owns_the_count_of_the_arc_it_is_given() {
        let held = Held::new();
        let waker = held.waker();
        assert_eq!(
            held.count(),
            2,
            "the test's Arc and one waker hold 2 strong counts: `signal_waker` must keep the \
             count of the Arc it is given in the waker's data pointer, not release it"
        );
        drop(waker);
        assert_eq!(
            held.count(),
            1,
            "dropping the only waker must release exactly the one count it owned"
        );
    }

    #[test]
    fn a_clone_owns_a_count_of_its_own() {
        let held = Held::new();
        let waker = held.waker();
        let clone = waker.clone();
        assert_eq!(
            held.count(),
            3,
            "after a clone the test's Arc and two wakers hold 3 strong counts: `clone` must take \
             a count for the new waker (both wakers will be dropped, each releasing one)"
        );
        assert!(
            waker.will_wake(&clone),
            "a clone must carry the same data pointer and the same vtable as the original"
        );
        drop(clone);
        assert_eq!(
            held.count(),
            2,
            "dropping a clone must release exactly one count (the original waker still owns one)"
        );
        drop(waker);
        assert_eq!(
            held.count(),
            1,
            "dropping the last waker must release its count"
        );
    }

    #[test]
    fn wake_by_ref_notifies_and_keeps_the_count() {
        let held = Held::new();
        let waker = held.waker();
        for i in 1..=3 {
            waker.wake_by_ref();
            assert_eq!(held.0.wakes(), i, "`wake_by_ref` must notify the signal");
            assert_eq!(
                held.count(),
                2,
                "`wake_by_ref` borrows the waker: it must leave the count as it was (the waker \
                 still owns it and will release it when dropped)"
            );
        }
        drop(waker);
        assert_eq!(held.count(), 1, "dropping the waker must release its count");
    }

    #[test]
    fn wake_notifies_and_releases_the_count_of_the_waker_it_consumes() {
        let held = Held::new();
        let waker = held.waker();
        let clone = waker.clone();
        clone.wake();
        assert_eq!(held.0.wakes(), 1, "`wake` must notify the signal");
        assert_eq!(
            held.count(),
            2,
            "`wake` consumes its waker: it must release the count that waker owned (the other \
             waker and the test's Arc hold 2)"
        );
        waker.wake();
        assert_eq!(held.0.wakes(), 2, "`wake` must notify the signal");
        assert_eq!(
            held.count(),
            1,
            "after the last waker was woken by value only the test's Arc holds a count"
        );
    }

    #[test]
    fn the_last_waker_frees_the_signal_when_woken_on_another_thread() {
        // Nothing observes the count here: Miri does, and reports a leak or a use of freed
        // memory (a `wake` that releases the count before it is done with the signal).
        assert!(counts_are_right(), "{COUNTS_WRONG}");
        let rounds = if cfg!(miri) { 3 } else { 50 };
        watchdog(LIMIT, move || {
            for _ in 0..rounds {
                let waker = signal_waker(Signal::new());
                let clone = waker.clone();
                let t = thread::spawn(move || clone.wake());
                drop(waker);
                t.join().unwrap();
                let waker = signal_waker(Signal::new());
                let t = thread::spawn(move || waker.wake_by_ref());
                t.join().unwrap();
            }
        });
    }

    /// Polls `fut` with a signal waker until it is ready, parking between polls until a wake.
    fn run<F: Future>(fut: F) -> (F::Output, usize) {
        let signal = Signal::new();
        let waker = signal_waker(signal.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        let mut polls = 0;
        loop {
            let seen = signal.wakes();
            polls += 1;
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return (out, polls);
            }
            while signal.wakes() == seen {
                thread::park();
            }
        }
    }

    #[test]
    fn a_signal_waker_drives_futures_woken_here_and_from_another_thread() {
        assert!(counts_are_right(), "{COUNTS_WRONG}");
        let (out, polls) = watchdog(LIMIT, || {
            run(async {
                YieldNow::new().await; // wake_by_ref, here
                let n = Countdown::new(3).await;
                let mut waker_thread = None;
                std::future::poll_fn(|cx| {
                    if waker_thread.is_some() {
                        return Poll::Ready(());
                    }
                    let waker = cx.waker().clone();
                    waker_thread = Some(thread::spawn(move || {
                        thread::sleep(Duration::from_millis(10));
                        waker.wake(); // by value, on another thread
                    }));
                    Poll::Pending
                })
                .await;
                waker_thread.unwrap().join().unwrap();
                n
            })
        });
        assert_eq!(out, 3, "the future's output");
        assert_eq!(
            polls, 6,
            "one poll to start, one after each of the 5 wakes (yield, countdown from 3, the other \
             thread)"
        );
    }
}
