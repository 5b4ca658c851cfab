//! # Futures by hand
//!
//! A future is a value with one method, `poll`, that either finishes (`Poll::Ready(value)`) or
//! says "not yet" (`Poll::Pending`). Before saying "not yet" it must arrange for the waker in the
//! `Context` to be called once progress is possible; the executor then polls it again. Nothing
//! happens between polls: a future is a state machine that only moves when someone polls it.
//!
//! Build four of them with no `async` keyword at all:
//!
//! - [`Ready`]: ready on the first poll with the value it holds.
//! - [`YieldNow`]: `Pending` on the first poll (after waking its own waker, so that it is polled
//!   again), `Ready(())` on the second. This is how a task lets others run: cooperative
//!   scheduling.
//! - [`Countdown`]: `Pending` `n` times, waking itself each time, then `Ready(n)`.
//! - [`Chain`]: the state machine the compiler generates for
//!   `async { let a = first.await; then(a).await }`, written as an enum with one variant per
//!   suspension point. Polling it drives `first`; when that is ready it calls `then` with the
//!   output and moves to the second state, *in the same poll*, and keeps going until it is
//!   pending or done.
//!
//! Every future here is `Unpin` (its inner futures must be `Unpin` too), so `Pin::new(&mut f)`
//! is all the pinning needed. The next stage explains why `async` blocks are not `Unpin` and
//! how to poll them anyway.
//!
//! After this stage you can explain how an `async fn` becomes a state machine, and why a
//! future that returns `Pending` without arranging a wake-up is stuck forever.
//!
//! Read: the Async Book, "The Future Trait" and "Under the Hood: Executing Futures and Tasks"
//! (<https://rust-lang.github.io/async-book/>); tokio's "Async in depth"
//! (<https://tokio.rs/tokio/tutorial/async>), which writes the same state machine by hand.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is ready at once with the value it holds, like `std::future::ready`.
#[derive(Debug)]
pub struct Ready<T>(Option<T>);

impl<T> Ready<T> {
    /// A future that yields `value` on its first poll.
    pub fn new(value: T) -> Self {
        Ready(Some(value))
    }
}

// `Ready` never hands out a pinned reference to `T`, so it may move even if `T` may not.
impl<T> Unpin for Ready<T> {}

impl<T> Future for Ready<T> {
    type Output = T;

    /// Ready with the value; polling again after that is a bug and panics.
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        // TODO: take the value out of the `Option` and return it; panic with "`Ready` polled after
        //       completion" if it is gone
        todo!()
    }
}

/// Pending once, then ready: gives the executor a chance to run other tasks.
#[derive(Debug, Default)]
pub struct YieldNow {
    yielded: bool,
}

impl YieldNow {
    /// A future that is pending exactly once.
    pub fn new() -> Self {
        YieldNow { yielded: false }
    }
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // TODO: Pending once, with the promise of being polled again kept; then Ready(())
        todo!()
    }
}

/// Pending `n` times, waking itself each time, then ready with `n`.
#[derive(Debug)]
pub struct Countdown {
    total: u32,
    left: u32,
}

impl Countdown {
    /// A future that needs `n + 1` polls to finish.
    pub fn new(n: u32) -> Self {
        Countdown { total: n, left: n }
    }
}

impl Future for Countdown {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        // TODO: Pending `total` times (each time keeping the promise of a next poll), then
        //       Ready(total)
        todo!()
    }
}

/// The state machine of `async { let a = first.await; then(a).await }`.
///
/// One variant per point where the `async` block can be suspended, plus `Done`, which is what
/// the compiler's version panics in if polled again ("`async fn` resumed after completion").
#[derive(Debug)]
pub enum Chain<F1, G, F2> {
    /// Waiting on `first`; `then` is kept for when it finishes.
    First(F1, Option<G>),
    /// Waiting on the future that `then` returned.
    Second(F2),
    /// Finished.
    Done,
}

impl<F1, G, F2> Chain<F1, G, F2>
where
    F1: Future + Unpin,
    G: FnOnce(F1::Output) -> F2 + Unpin,
    F2: Future + Unpin,
{
    /// The future of `async { let a = first.await; then(a).await }`.
    pub fn new(first: F1, then: G) -> Self {
        Chain::First(first, Some(then))
    }
}

impl<F1, G, F2> Future for Chain<F1, G, F2>
where
    F1: Future + Unpin,
    G: FnOnce(F1::Output) -> F2 + Unpin,
    F2: Future + Unpin,
{
    type Output = F2::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F2::Output> {
        // TODO: the output of the second future, which `then` makes from the first one's
        //       output. No poll is wasted: the second future is polled in the same call that
        //       sees the first complete. Polled again after that, panic with a message
        //       containing "after completion"
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    /// A waker that counts how often it was woken.
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
        Pin::new(fut).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn ready_is_ready_on_first_poll() {
        let mut fut = Ready::new(String::from("hi"));
        assert_eq!(
            poll_once(&mut fut, Waker::noop()),
            Poll::Ready(String::from("hi")),
            "`Ready` must hand out its value on the first poll"
        );
    }

    #[test]
    #[should_panic(expected = "after completion")]
    fn ready_polled_twice_panics() {
        let mut fut = Ready::new(1);
        let _ = poll_once(&mut fut, Waker::noop());
        let _ = poll_once(&mut fut, Waker::noop());
    }

    #[test]
    fn yield_now_is_pending_once_and_wakes_itself() {
        let (count, waker) = counting_waker();
        let mut fut = YieldNow::new();
        assert_eq!(
            poll_once(&mut fut, &waker),
            Poll::Pending,
            "first poll must be Pending"
        );
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "a future that returns Pending must arrange a wake-up: YieldNow wakes itself once"
        );
        assert_eq!(
            poll_once(&mut fut, &waker),
            Poll::Ready(()),
            "second poll must be Ready"
        );
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "no wake once ready");
    }

    #[test]
    fn countdown_is_pending_n_times() {
        let (count, waker) = counting_waker();
        let mut fut = Countdown::new(3);
        for i in 0..3 {
            assert_eq!(
                poll_once(&mut fut, &waker),
                Poll::Pending,
                "poll {i} must be Pending"
            );
        }
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            3,
            "one self-wake per Pending"
        );
        assert_eq!(
            poll_once(&mut fut, &waker),
            Poll::Ready(3),
            "the 4th poll finishes with n"
        );
    }

    #[test]
    fn countdown_of_zero_is_ready_at_once() {
        let (count, waker) = counting_waker();
        assert_eq!(poll_once(&mut Countdown::new(0), &waker), Poll::Ready(0));
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            0,
            "a ready future must not wake"
        );
    }

    #[test]
    fn chain_runs_both_halves_in_order() {
        let (count, waker) = counting_waker();
        let mut fut = Chain::new(Countdown::new(2), |a: u32| Countdown::new(a + 1));
        let mut polls = 1;
        while poll_once(&mut fut, &waker).is_pending() {
            polls += 1;
            assert!(polls < 100, "Chain never finished");
        }
        // 2 pendings in the first half, 3 in the second, then ready.
        assert_eq!(
            polls, 6,
            "Chain must be pending exactly as often as its two halves together"
        );
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            5,
            "each Pending came with one wake"
        );
        assert!(
            matches!(fut, Chain::Done),
            "a finished Chain is in the Done state"
        );
    }

    #[test]
    fn chain_moves_on_in_the_same_poll() {
        let mut fut = Chain::new(Ready::new(20), |a: i32| Ready::new(a * 2 + 2));
        assert_eq!(
            poll_once(&mut fut, Waker::noop()),
            Poll::Ready(42),
            "when `first` is ready, `then(a)` must be polled in the same poll, like `.await`"
        );
    }

    #[test]
    fn chain_stays_in_first_state_while_first_is_pending() {
        let mut fut = Chain::new(YieldNow::new(), |()| Ready::new("done"));
        assert_eq!(poll_once(&mut fut, Waker::noop()), Poll::Pending);
        assert!(matches!(fut, Chain::First(..)), "still waiting on `first`");
        assert_eq!(poll_once(&mut fut, Waker::noop()), Poll::Ready("done"));
    }

    #[test]
    #[should_panic(expected = "after completion")]
    fn chain_polled_after_done_panics() {
        let mut fut = Chain::new(Ready::new(1), |a: i32| Ready::new(a));
        let _ = poll_once(&mut fut, Waker::noop());
        let _ = poll_once(&mut fut, Waker::noop());
    }
}
