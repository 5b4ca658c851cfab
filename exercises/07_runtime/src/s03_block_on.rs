//! # `block_on`: a waker that unparks a thread
//!
//! The smallest executor runs one future on the current thread: poll it; if it is pending,
//! sleep until its waker is called; poll again. A `Waker` is a handle the future clones and
//! keeps (in a timer, a socket registration, another thread) and calls when progress is
//! possible. Here waking means unparking the thread that is blocked in [`block_on`].
//!
//! Build [`ThreadWaker`], which implements `std::task::Wake`, and [`block_on`]. The traps:
//!
//! - **A wake before the park must not be lost.** The future may be woken (from another
//!   thread) after it returned `Pending` but before `block_on` parks. `thread::park` keeps one
//!   unpark token for exactly this reason; use it, plus a `woken` flag.
//! - **`park` may return spuriously**, without anyone having called `unpark`. Poll again only
//!   when the waker was really called (check the flag), otherwise park again.
//! - **No busy spinning.** A pending future is polled again only after a wake.
//!
//! `Waker` is `Clone + Send + Sync`: the future may clone it, send it to another thread and
//! drop or wake it there, even after `block_on` has returned. `Arc<ThreadWaker>` and
//! `Waker::from` give you that ownership story for free: the waker keeps the `Arc` alive.
//!
//! After this stage you can explain how `Waker` cloning and ownership work, and why the
//! "check, then sleep" step of every executor needs a token or a flag to be race-free.
//!
//! Read: the Async Book, "Build an Executor"; the `std::task::Wake` and `std::thread::park`
//! documentation; Programming Rust, chapter 20, "Wakers" and "Implementing block_on".

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes the thread blocked in [`block_on`].
#[derive(Debug)]
pub struct ThreadWaker {
    thread: Thread,
    /// Set by a wake, cleared by `block_on` before each poll.
    woken: AtomicBool,
}

impl ThreadWaker {
    /// A waker for the current thread, created in the woken state so that the first poll
    /// happens at once.
    pub fn current() -> Arc<ThreadWaker> {
        Arc::new(ThreadWaker {
            thread: thread::current(),
            woken: AtomicBool::new(true),
        })
    }

    /// Clears the woken flag and says whether it was set.
    pub fn take_woken(&self) -> bool {
        self.woken.swap(false, Ordering::Acquire)
    }
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // TODO: record the wake, so that the next `take_woken` sees it, and get the blocked
        //       thread running again
        todo!()
    }
}

/// Runs `fut` to completion on the current thread, parking while it is pending.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    // TODO: `fut`'s output. Poll it first at once, then only after a wake; in between, sleep
    //       without spinning. No wake may be lost, even one that comes just before the thread
    //       goes to sleep, and a spurious end of the sleep must not cause a poll
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_futures::{Countdown, YieldNow};
    use crate::util::watchdog;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    const LIMIT: Duration = Duration::from_secs(10);

    /// A one-shot flag a future can wait on; counts how often it was polled.
    #[derive(Default)]
    struct Flag {
        state: Mutex<(bool, Option<Waker>)>,
        polls: AtomicUsize,
    }

    impl Flag {
        fn set(&self) {
            let waker = {
                let mut state = self.state.lock().unwrap();
                state.0 = true;
                state.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    struct WaitFlag(Arc<Flag>);

    impl Future for WaitFlag {
        type Output = usize;
        fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let polls = self.0.polls.fetch_add(1, Ordering::SeqCst) + 1;
            let mut state = self.0.state.lock().unwrap();
            if state.0 {
                Poll::Ready(polls)
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    #[test]
    fn ready_future_returns_its_value() {
        assert_eq!(watchdog(LIMIT, || block_on(async { 6 * 7 })), 42);
    }

    #[test]
    fn self_waking_futures_complete() {
        let out = watchdog(LIMIT, || {
            block_on(async {
                YieldNow::new().await;
                Countdown::new(50).await
            })
        });
        assert_eq!(out, 50, "a future that wakes itself must be polled again");
    }

    #[test]
    fn wake_from_another_thread_completes_the_future() {
        let polls = watchdog(LIMIT, || {
            let flag = Arc::new(Flag::default());
            let setter = flag.clone();
            let t = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                setter.set();
            });
            let polls = block_on(WaitFlag(flag));
            t.join().unwrap();
            polls
        });
        assert_eq!(
            polls, 2,
            "polled once, parked (no busy spinning), polled once after the wake"
        );
    }

    #[test]
    fn wake_before_park_is_not_lost() {
        let rounds = if cfg!(miri) { 5 } else { 200 };
        watchdog(LIMIT, move || {
            for _ in 0..rounds {
                let flag = Arc::new(Flag::default());
                let setter = flag.clone();
                // The wake races with the park: it often lands before `block_on` parks.
                let t = thread::spawn(move || setter.set());
                block_on(WaitFlag(flag));
                t.join().unwrap();
            }
        });
    }

    #[test]
    fn spurious_unparks_do_not_cause_polls() {
        let polls = watchdog(LIMIT, || {
            let flag = Arc::new(Flag::default());
            let setter = flag.clone();
            let me = thread::current();
            let t = thread::spawn(move || {
                for _ in 0..20 {
                    me.unpark(); // not a wake: the future has made no progress
                    thread::sleep(Duration::from_millis(1));
                }
                setter.set();
            });
            let polls = block_on(WaitFlag(flag));
            t.join().unwrap();
            polls
        });
        assert_eq!(
            polls, 2,
            "`park` returning does not mean the waker was called: poll only after a real wake"
        );
    }

    #[test]
    fn a_waker_kept_after_block_on_returns_is_safe() {
        watchdog(LIMIT, || {
            let kept: Arc<Mutex<Option<Waker>>> = Arc::default();
            let slot = kept.clone();
            block_on(std::future::poll_fn(move |cx| {
                *slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(())
            }));
            let waker = kept
                .lock()
                .unwrap()
                .take()
                .expect("the future stored its waker");
            let clone = waker.clone();
            thread::spawn(move || clone.wake()).join().unwrap();
            waker.wake(); // wakes a thread that is no longer blocked: harmless
        });
    }
}
