//! # `JoinHandle`, panics and abort
//!
//! A spawned task needs a way to hand back its output. [`Spawner::spawn_with_handle`] wraps
//! the future in a *harness* (a future of its own) that shares a small state with the
//! [`JoinHandle`]: the output once there, the waker of whoever awaits the handle, the task's own
//! waker, and an `aborted` flag. Awaiting the handle yields `Ok(output)` or a [`JoinError`].
//!
//! The harness is where robustness lives:
//!
//! - **A panic in a task is caught** (`std::panic::catch_unwind` around the inner `poll`) and
//!   becomes [`JoinError::is_panic`] on the handle, carrying the message. The executor and the
//!   other tasks keep running.
//! - **[`JoinHandle::abort`]** sets the flag and wakes the task; on its next poll the harness
//!   drops the inner future (promptly: its destructors run) and finishes with
//!   [`JoinError::is_aborted`]. Aborting a finished task changes nothing.
//! - **Dropping a handle detaches the task**: it keeps running and its output is dropped when
//!   it finishes. That is the policy of `std::thread` and tokio, and for a good reason: writing
//!   `let _ = spawn(...)` must not silently cancel work. Cancelling is explicit: `abort`.
//! - **Dropping the executor** drops the harness of every pending task; the handle then reports
//!   the task as aborted instead of waiting forever.
//! - **No leak, no double drop**: every future and every output is dropped exactly once, in
//!   any combination of panic, abort and drop. The tests count drops.
//!
//! `JoinError` is `Send + Sync + Error`, so `?` can carry it through `async` code into a
//! `Box<dyn Error + Send + Sync>`. The harness is not `Unpin` (it holds any future), so its
//! `poll` projects the pin by hand, as `Map` did in stage 2.
//!
//! After this stage you can explain ownership across tasks: who owns the output, who drops the
//! future, and why a waker stored in shared state can form a reference cycle that must be
//! broken when the task finishes.
//!
//! Read: tokio's `JoinHandle` documentation (<https://docs.rs/tokio/latest/tokio/task/struct.JoinHandle.html>);
//! async-executor, "a panicking task must not take the executor down"; the
//! `std::panic::catch_unwind` documentation on unwind safety.

use crate::s05_executor::{Executor, Spawner};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Why a task produced no output.
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Aborted,
    Panicked {
        message: String,
        /// In a `Mutex` only to make `JoinError: Sync`; never locked concurrently.
        payload: Mutex<Box<dyn Any + Send>>,
    },
}

impl JoinError {
    fn aborted() -> Self {
        JoinError {
            repr: Repr::Aborted,
        }
    }

    fn panicked(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            String::from("Box<dyn Any>")
        };
        JoinError {
            repr: Repr::Panicked {
                message,
                payload: Mutex::new(payload),
            },
        }
    }

    /// The task was aborted, or dropped with the executor, before it finished.
    pub fn is_aborted(&self) -> bool {
        matches!(self.repr, Repr::Aborted)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked { .. })
    }

    /// The panic message, if the task panicked with a string.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked { message, .. } => Some(message),
            Repr::Aborted => None,
        }
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was aborted rather than panicked.
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self.repr {
            Repr::Panicked { payload, .. } => {
                payload.into_inner().unwrap_or_else(|e| e.into_inner())
            }
            Repr::Aborted => panic!("`into_panic` on an aborted task"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted => f.write_str("JoinError::Aborted"),
            Repr::Panicked { message, .. } => write!(f, "JoinError::Panicked({message:?})"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted => f.write_str("task was aborted"),
            Repr::Panicked { message, .. } => write!(f, "task panicked: {message}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// What the harness and the handle share.
struct State<T> {
    /// Set once, when the task finishes; taken by the handle.
    output: Option<Result<T, JoinError>>,
    finished: bool,
    aborted: bool,
    /// Who awaits the handle.
    join_waker: Option<Waker>,
    /// The task's own waker, for `abort`. Cleared when the task finishes (it points back at
    /// the task, which owns this state: a cycle while the task is pending).
    task_waker: Option<Waker>,
}

type Shared<T> = Arc<Mutex<State<T>>>;

/// Awaits the output of a spawned task. Dropping it detaches the task.
pub struct JoinHandle<T> {
    state: Shared<T>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    /// Asks the task to stop: its future is dropped the next time the executor runs it, and the
    /// handle then yields an aborted [`JoinError`]. No effect on a finished task.
    pub fn abort(&self) {
        // TODO: unless the task has finished: its future is dropped at its next poll, and that
        //       poll comes soon (no waker is called under the lock)
        todo!()
    }

    /// Whether the task has finished (with an output, a panic or an abort).
    pub fn is_finished(&self) -> bool {
        // TODO: read `finished`
        todo!()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // TODO: the task's result once it has finished; until then Pending, and the `finish`
        //       that comes later wakes this handle
        todo!()
    }
}

/// The future the executor actually runs: the user's future plus the handle's state.
struct Harness<F: Future> {
    /// Structurally pinned; `None` once finished.
    fut: Option<F>,
    state: Shared<F::Output>,
}

impl<F: Future> Harness<F> {
    /// Stores the result and wakes the handle's owner. Never called with the lock held.
    fn finish(&self, result: Result<F::Output, JoinError>) {
        // TODO: the result is kept for the handle, which is woken; no waker is called under
        //       the lock, and the shared state no longer keeps the task alive afterwards
        todo!()
    }
}

impl<F: Future> Future for Harness<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // TODO: if aborted, drop the future and finish with an aborted error. Otherwise poll it
        //       (`abort` must be able to wake this task); a panic inside finishes with
        //       `JoinError::panicked(payload)` instead of unwinding into the executor, and the
        //       output finishes with Ok. Every `unsafe` with a SAFETY comment
        todo!()
    }
}

impl<F: Future> Drop for Harness<F> {
    fn drop(&mut self) {
        // TODO: if the future is still there (the executor is dropping us): drop it and finish with
        //       an aborted error so the handle does not wait forever
    }
}

impl Spawner {
    /// Spawns `fut` and returns a handle to await its output.
    pub fn spawn_with_handle<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // TODO: a handle to a new task that runs `fut` inside a `Harness`
        todo!()
    }
}

impl Executor {
    /// Spawns `fut` and returns a handle to await its output.
    pub fn spawn_with_handle<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawner().spawn_with_handle(fut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_futures::YieldNow;
    use crate::util::watchdog;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    const LIMIT: Duration = Duration::from_secs(10);

    /// Counts drops.
    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> Arc<AtomicUsize> {
        Arc::new(AtomicUsize::new(0))
    }

    /// Pending forever (until dropped).
    async fn forever() {
        std::future::pending::<()>().await;
    }

    /// Silences the default panic message of tasks that panic on purpose.
    fn quiet_panics() {
        static SET: std::sync::Once = std::sync::Once::new();
        SET.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let on_purpose = info
                    .payload()
                    .downcast_ref::<&str>()
                    .is_some_and(|s| s.starts_with("boom"));
                if !on_purpose {
                    default(info);
                }
            }));
        });
    }

    #[test]
    fn awaiting_a_handle_yields_the_output() {
        let out = watchdog(LIMIT, || {
            let exec = Executor::new();
            let handle = exec.spawn_with_handle(async {
                let text = String::from("forty-two");
                // Held across an `.await`: this future points into itself, so the harness must
                // poll it where it lies (Miri checks that it is never moved).
                let borrowed = &text;
                YieldNow::new().await;
                borrowed.clone()
            });
            exec.block_on(handle)
        });
        assert_eq!(out.unwrap(), "forty-two");
    }

    /// A waker that counts its wakes.
    struct CountingWaker(AtomicUsize);

    impl std::task::Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_handle_wakes_the_waker_of_its_latest_poll() {
        let (stale, latest) = watchdog(LIMIT, || {
            let exec = Executor::new();
            let mut handle = exec.spawn_with_handle(async {
                YieldNow::new().await;
                3
            });
            let stale = Arc::new(CountingWaker(AtomicUsize::new(0)));
            let latest = Arc::new(CountingWaker(AtomicUsize::new(0)));
            // First polled by one task, then moved to another one that awaits it there.
            for waker in [&stale, &latest] {
                let waker = Waker::from(waker.clone());
                let poll = Pin::new(&mut handle).poll(&mut Context::from_waker(&waker));
                assert!(poll.is_pending(), "the task has not run yet");
            }
            exec.block_on(async {
                while !handle.is_finished() {
                    YieldNow::new().await;
                }
            });
            (
                stale.0.load(Ordering::SeqCst),
                latest.0.load(Ordering::SeqCst),
            )
        });
        assert_eq!(
            (stale, latest),
            (0, 1),
            "a finished task must wake the waker of the handle's latest poll, not the first one: \
             a handle may move to another task between polls, so replace the stored waker on \
             every Pending"
        );
    }

    #[test]
    fn question_mark_works_through_async_code() {
        async fn parse_in_task(
            spawner: &Spawner,
            text: &'static str,
        ) -> Result<i32, Box<dyn std::error::Error + Send + Sync>> {
            let n = spawner
                .spawn_with_handle(async move { text.parse::<i32>() })
                .await??;
            Ok(n * 2)
        }
        let (good, bad) = watchdog(LIMIT, || {
            let exec = Executor::new();
            let spawner = exec.spawner();
            exec.block_on(async {
                let good = parse_in_task(&spawner, "21")
                    .await
                    .map_err(|e| e.to_string());
                let bad = parse_in_task(&spawner, "x")
                    .await
                    .map_err(|e| e.to_string());
                (good, bad)
            })
        });
        assert_eq!(good, Ok(42));
        assert!(
            bad.unwrap_err().contains("invalid digit"),
            "the inner error travels through `?`"
        );
    }

    #[test]
    fn a_panicking_task_becomes_an_error_and_the_executor_lives_on() {
        quiet_panics();
        let (err, after) = watchdog(LIMIT, || {
            let exec = Executor::new();
            let drops = counter();
            let guard = DropCounter(drops.clone());
            let bad = exec.spawn_with_handle(async move {
                let _guard = guard;
                YieldNow::new().await;
                panic!("boom in a task");
            });
            let err = exec.block_on(bad).unwrap_err();
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "the panicked future is dropped once"
            );
            let after = exec.block_on(exec.spawn_with_handle(async { 7 }));
            (err, after.unwrap())
        });
        assert!(
            err.is_panic() && !err.is_aborted(),
            "a panic is reported as a panic: {err:?}"
        );
        assert_eq!(err.panic_message(), Some("boom in a task"));
        assert_eq!(err.to_string(), "task panicked: boom in a task");
        assert_eq!(
            format!("{err:?}"),
            r#"JoinError::Panicked("boom in a task")"#
        );
        assert_eq!(
            after, 7,
            "the executor must keep running after a task panicked"
        );
    }

    #[test]
    fn into_panic_returns_the_payload() {
        quiet_panics();
        let err = watchdog(LIMIT, || {
            let exec = Executor::new();
            exec.block_on(exec.spawn_with_handle(async { panic!("boom payload") }))
                .unwrap_err()
        });
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom payload"));
    }

    #[test]
    fn abort_drops_the_future_promptly() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let drops = counter();
            let started = Arc::new(AtomicBool::new(false));
            let (guard, s) = (DropCounter(drops.clone()), started.clone());
            let handle = exec.spawn_with_handle(async move {
                let _guard = guard;
                s.store(true, Ordering::SeqCst);
                forever().await;
            });
            let err = exec.block_on(async {
                while !started.load(Ordering::SeqCst) {
                    YieldNow::new().await;
                }
                assert!(!handle.is_finished());
                assert_eq!(format!("{handle:?}"), "JoinHandle { finished: false }");
                handle.abort();
                handle.await.unwrap_err()
            });
            assert!(
                err.is_aborted() && !err.is_panic(),
                "an aborted task reports `is_aborted`, not `is_panic`: {err:?}"
            );
            assert_eq!(err.to_string(), "task was aborted");
            assert_eq!(format!("{err:?}"), "JoinError::Aborted");
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "abort must drop the future exactly once"
            );
            assert_eq!(exec.task_count(), 0, "the aborted task is gone");
        });
    }

    #[test]
    fn abort_before_the_first_poll_never_polls() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let polled = Arc::new(AtomicBool::new(false));
            let p = polled.clone();
            let handle = exec.spawn_with_handle(async move { p.store(true, Ordering::SeqCst) });
            handle.abort();
            assert!(exec.block_on(handle).unwrap_err().is_aborted());
            assert!(
                !polled.load(Ordering::SeqCst),
                "an aborted task must not start"
            );
        });
    }

    #[test]
    fn abort_after_completion_keeps_the_output() {
        let out = watchdog(LIMIT, || {
            let exec = Executor::new();
            let handle = exec.spawn_with_handle(async { 5 });
            exec.block_on(async {
                while !handle.is_finished() {
                    YieldNow::new().await;
                }
                handle.abort();
                handle.await
            })
        });
        assert_eq!(out.unwrap(), 5, "aborting a finished task changes nothing");
    }

    #[test]
    fn dropping_a_handle_detaches_the_task() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let done = Arc::new(AtomicBool::new(false));
            let d = done.clone();
            drop(exec.spawn_with_handle(async move {
                YieldNow::new().await;
                d.store(true, Ordering::SeqCst);
            }));
            exec.block_on(async {
                for _ in 0..100 {
                    if done.load(Ordering::SeqCst) {
                        return;
                    }
                    YieldNow::new().await;
                }
                panic!("a detached task must still run to completion");
            });
        });
    }

    #[test]
    fn outputs_are_dropped_exactly_once() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let drops = counter();
            // Output never collected: dropped with the shared state.
            let (d1, d2) = (drops.clone(), drops.clone());
            let detached = exec.spawn_with_handle(async move { DropCounter(d1) });
            let awaited = exec.spawn_with_handle(async move { DropCounter(d2) });
            let out = exec.block_on(async {
                while !detached.is_finished() {
                    YieldNow::new().await;
                }
                drop(detached);
                awaited.await.unwrap()
            });
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "the uncollected output is dropped once"
            );
            drop(out);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                2,
                "the collected output is the caller's"
            );
        });
    }

    #[test]
    fn dropping_the_executor_aborts_pending_handles() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let drops = counter();
            let guard = DropCounter(drops.clone());
            let mut handle = exec.spawn_with_handle(async move {
                let _guard = guard;
                forever().await;
            });
            exec.block_on(YieldNow::new());
            drop(exec);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "the pending future is dropped once"
            );
            let mut cx = Context::from_waker(Waker::noop());
            match Pin::new(&mut handle).poll(&mut cx) {
                Poll::Ready(Err(e)) => assert!(e.is_aborted()),
                other => panic!("a task dropped with its executor must report aborted: {other:?}"),
            }
        });
    }
}
