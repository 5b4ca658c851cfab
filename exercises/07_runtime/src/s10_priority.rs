//! # Priorities without starvation
//!
//! Some work matters more: a request handler should run before a background cleanup. A
//! scheduler with two run queues, *high* and *low*, runs high-priority tasks first. Strict
//! priority has a trap: under constant high-priority load (tasks that keep yielding and so keep
//! re-queuing themselves) the low queue never runs, and a low-priority task *starves*. The fix
//! is a bound: after [`LOW_EVERY`] high-priority polls in a row, the next poll goes to a waiting
//! low-priority task, if there is one.
//!
//! Build the policy of [`PriorityExecutor`]: `Queues::push` and `Queues::pop`. The executor
//! around them is stage 5's, given in full below (tasks that are their own wakers, a
//! `scheduled` flag so that a task is queued at most once, wakes from any thread), with two
//! changes: [`PriorityExecutor::spawn`] takes a [`Priority`], and every task, new or woken, goes
//! through `Queues::push`. The run loop polls the main future when it was woken, then runs the
//! one task `Queues::pop` picks, and parks when `pop` finds none. (This executor does not track
//! its pending tasks: a future whose waker is kept elsewhere lives as long as that waker. Stage 5
//! showed how to drop them with the executor.)
//!
//! The policy: a task goes to the back of the queue of its priority; `pop` takes a high task,
//! unless [`LOW_EVERY`] high polls in a row have passed (or no high task waits) and a low task
//! waits.
//!
//! After this stage you can explain cooperative scheduling from the scheduler's side: a task
//! that yields goes to the back of the line, and "back of which line" is the policy. Compare
//! async-executor's priority example, which polls three executors in a biased `or`.
//!
//! Read: async-executor's `priority.rs` example
//! (<https://github.com/smol-rs/async-executor/blob/master/examples/priority.rs>); tokio's
//! "Making the Tokio scheduler 10x faster" (the LIFO slot and fairness).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// After this many high-priority polls in a row, a waiting low-priority task runs next.
pub const LOW_EVERY: usize = 4;

/// How urgent a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Runs first.
    High,
    /// Runs when no high-priority task is waiting, or after [`LOW_EVERY`] of them in a row.
    Low,
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

struct Task {
    priority: Priority,
    future: Mutex<Option<BoxFuture>>,
    scheduled: AtomicBool,
    shared: Weak<Shared>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            shared.queues.lock().unwrap().push(self.clone());
            shared.thread.unpark();
        }
    }
}

/// The two run queues and the fairness counter.
struct Queues {
    high: VecDeque<Arc<Task>>,
    low: VecDeque<Arc<Task>>,
    /// High-priority polls since the last low-priority one.
    high_streak: usize,
}

impl Queues {
    fn new() -> Self {
        Queues {
            high: VecDeque::new(),
            low: VecDeque::new(),
            high_streak: 0,
        }
    }

    /// Queues `task` behind the tasks of its priority.
    fn push(&mut self, task: Arc<Task>) {
        // TODO: behind the tasks of its priority
        todo!()
    }

    /// The next task to poll: high first, but a waiting low task gets a turn after
    /// [`LOW_EVERY`] high ones in a row. `None` when both queues are empty.
    fn pop(&mut self) -> Option<Arc<Task>> {
        // TODO: the task the policy picks, with `high_streak` kept current
        todo!()
    }
}

struct Shared {
    queues: Mutex<Queues>,
    thread: Thread,
}

struct MainWaker {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// A single-threaded executor with two priorities. Driven by the thread that created it.
pub struct PriorityExecutor {
    shared: Arc<Shared>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Default for PriorityExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl PriorityExecutor {
    /// An executor run by (and waking) the current thread.
    pub fn new() -> Self {
        PriorityExecutor {
            shared: Arc::new(Shared {
                queues: Mutex::new(Queues::new()),
                thread: thread::current(),
            }),
            _not_send: std::marker::PhantomData,
        }
    }

    /// Queues `fut` as a task of the given priority.
    pub fn spawn<F>(&self, priority: Priority, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let task = Arc::new(Task {
            priority,
            future: Mutex::new(Some(Box::pin(fut))),
            scheduled: AtomicBool::new(true),
            shared: Arc::downgrade(&self.shared),
        });
        self.shared.queues.lock().unwrap().push(task);
        self.shared.thread.unpark();
    }

    /// Runs the tasks until `fut` finishes. `fut` is polled after every task poll, so that it
    /// sees their progress at once.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            thread: thread::current(),
        });
        let main_waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&main_waker);
        loop {
            if main.woken.swap(false, Ordering::Acquire)
                && let Poll::Ready(out) = fut.as_mut().poll(&mut cx)
            {
                return out;
            }
            let next = self.shared.queues.lock().unwrap().pop();
            match next {
                Some(task) => run(&task),
                // Nothing runnable. A wake after the `pop` (of a task or of the main future)
                // unparks this thread after queuing, so its token makes `park` return at once.
                None => thread::park(),
            }
        }
    }
}

/// Polls one task once.
fn run(task: &Arc<Task>) {
    task.scheduled.store(false, Ordering::Release);
    let waker = Waker::from(task.clone());
    let mut cx = Context::from_waker(&waker);
    let mut slot = task.future.lock().unwrap();
    let Some(fut) = slot.as_mut() else { return };
    if fut.as_mut().poll(&mut cx).is_ready() {
        let finished = slot.take();
        drop(slot);
        task.scheduled.store(true, Ordering::Release);
        drop(finished);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_futures::YieldNow;
    use crate::util::watchdog;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    const LIMIT: Duration = Duration::from_secs(10);

    #[test]
    fn high_priority_tasks_run_first() {
        let order = watchdog(LIMIT, || {
            let exec = PriorityExecutor::new();
            let order = Arc::new(Mutex::new(Vec::new()));
            for (name, priority) in [
                ("low 1", Priority::Low),
                ("low 2", Priority::Low),
                ("high 1", Priority::High),
            ]
            .into_iter()
            .chain([("high 2", Priority::High)])
            {
                let order = order.clone();
                exec.spawn(priority, async move { order.lock().unwrap().push(name) });
            }
            let o = order.clone();
            exec.block_on(async move {
                while o.lock().unwrap().len() < 4 {
                    YieldNow::new().await;
                }
            });
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        });
        assert_eq!(
            order,
            ["high 1", "high 2", "low 1", "low 2"],
            "high priority runs first"
        );
    }

    #[test]
    fn a_woken_high_task_overtakes_waiting_low_tasks() {
        let order = watchdog(LIMIT, || {
            let exec = PriorityExecutor::new();
            let order = Arc::new(Mutex::new(Vec::new()));
            let o = order.clone();
            exec.spawn(Priority::High, async move {
                o.lock().unwrap().push("high starts");
                YieldNow::new().await; // re-queued behind nothing: the low tasks still wait
                o.lock().unwrap().push("high ends");
            });
            for name in ["low 1", "low 2"] {
                let o = order.clone();
                exec.spawn(Priority::Low, async move { o.lock().unwrap().push(name) });
            }
            let o = order.clone();
            exec.block_on(async move {
                while o.lock().unwrap().len() < 4 {
                    YieldNow::new().await;
                }
            });
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        });
        assert_eq!(order, ["high starts", "high ends", "low 1", "low 2"]);
    }

    #[test]
    fn a_low_task_still_finishes_under_constant_high_load() {
        let (low_done, high_polls) = watchdog(LIMIT, || {
            let exec = PriorityExecutor::new();
            let low_done = Arc::new(AtomicBool::new(false));
            let high_polls = Arc::new(AtomicUsize::new(0));
            let cap = 10_000;
            for _ in 0..2 {
                let (done, polls) = (low_done.clone(), high_polls.clone());
                // Always runnable until the low task is done (bounded, so a starving
                // scheduler fails the test instead of hanging it).
                exec.spawn(Priority::High, async move {
                    while !done.load(Ordering::SeqCst) && polls.load(Ordering::SeqCst) < cap {
                        polls.fetch_add(1, Ordering::SeqCst);
                        YieldNow::new().await;
                    }
                });
            }
            let done = low_done.clone();
            exec.spawn(Priority::Low, async move {
                for _ in 0..10 {
                    YieldNow::new().await;
                }
                done.store(true, Ordering::SeqCst);
            });
            let (d, p) = (low_done.clone(), high_polls.clone());
            exec.block_on(async move {
                while !d.load(Ordering::SeqCst) && p.load(Ordering::SeqCst) < cap {
                    YieldNow::new().await;
                }
            });
            (
                low_done.load(Ordering::SeqCst),
                high_polls.load(Ordering::SeqCst),
            )
        });
        assert!(
            low_done,
            "the low task starved: strict priority needs a fairness bound"
        );
        // The low task needs 11 polls; each may wait for at most LOW_EVERY high polls.
        assert!(
            high_polls <= 12 * LOW_EVERY,
            "{high_polls} high polls before the low task finished: it waited too long per turn"
        );
    }

    #[test]
    fn the_schedule_alternates_a_full_high_streak_with_one_low_turn() {
        const POLLS: usize = 15;
        let schedule = watchdog(LIMIT, || {
            let exec = PriorityExecutor::new();
            let log = Arc::new(Mutex::new(String::new()));
            // Four tasks that are always runnable: each logs its name at every poll.
            for (name, priority) in [
                ('A', Priority::High),
                ('B', Priority::High),
                ('c', Priority::Low),
                ('d', Priority::Low),
            ] {
                let log = log.clone();
                exec.spawn(priority, async move {
                    for _ in 0..POLLS {
                        log.lock().unwrap().push(name);
                        YieldNow::new().await;
                    }
                });
            }
            let l = log.clone();
            exec.block_on(async move {
                while l.lock().unwrap().len() < POLLS {
                    YieldNow::new().await;
                }
            });
            let log = log.lock().unwrap();
            log[..POLLS].to_owned()
        });
        // LOW_EVERY high polls (A and B taking turns), one low poll (c and d taking turns), ...
        let mut expected = String::new();
        let (mut high, mut low) = (['A', 'B'].iter().cycle(), ['c', 'd'].iter().cycle());
        while expected.len() < POLLS {
            expected.extend(high.by_ref().take(LOW_EVERY));
            expected.extend(low.next());
        }
        expected.truncate(POLLS);
        assert_eq!(
            schedule, expected,
            "after {LOW_EVERY} high-priority polls in a row one waiting low-priority task runs, \
             then high priority again: reset the streak when a low task runs, and requeue a \
             woken task at the back of the queue of its own priority"
        );
    }

    #[test]
    fn the_main_future_woken_by_value_from_another_thread_completes() {
        watchdog(LIMIT, || {
            let exec = PriorityExecutor::new();
            let mut waker_thread = None;
            exec.block_on(std::future::poll_fn(|cx| {
                if waker_thread.is_some() {
                    return Poll::Ready(());
                }
                let waker = cx.waker().clone();
                waker_thread = Some(thread::spawn(move || {
                    thread::sleep(Duration::from_millis(20));
                    waker.wake(); // by value: `Wake::wake`, not `wake_by_ref`
                }));
                Poll::Pending
            }));
            waker_thread.unwrap().join().unwrap();
        });
    }

    #[test]
    fn wakes_from_another_thread_requeue_with_their_priority() {
        watchdog(LIMIT, || {
            let exec = PriorityExecutor::new();
            let slot: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
            let done = Arc::new(AtomicBool::new(false));
            let (s, d) = (slot.clone(), done.clone());
            exec.spawn(Priority::Low, async move {
                std::future::poll_fn(|cx| {
                    let mut state = s.lock().unwrap();
                    if state.0 {
                        Poll::Ready(())
                    } else {
                        state.1 = Some(cx.waker().clone());
                        Poll::Pending
                    }
                })
                .await;
                d.store(true, Ordering::SeqCst);
            });
            let t = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                let waker = {
                    let mut state = slot.lock().unwrap();
                    state.0 = true;
                    state.1.take()
                };
                waker.into_iter().for_each(Waker::wake);
            });
            let d = done.clone();
            exec.block_on(async move {
                while !d.load(Ordering::SeqCst) {
                    YieldNow::new().await;
                }
            });
            t.join().unwrap();
        });
    }
}
