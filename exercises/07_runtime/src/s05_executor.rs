//! # An executor with `spawn`
//!
//! `block_on` runs one future. An executor runs many: each spawned future becomes a *task*,
//! a heap object that owns the future and knows how to put itself back on the run queue. The
//! task's `Waker` *is* a reference-counted pointer to the task: waking pushes the task on the
//! queue and unparks the thread running the executor. This is concurrency without
//! parallelism: all tasks run on one thread, taking turns at every `Pending` (cooperative
//! scheduling), while a blocking call inside one task stalls them all.
//!
//! Build [`Executor`] (owns the tasks, runs them in [`Executor::block_on_with`]) and
//! [`Spawner`] (a cheap, cloneable, `Send` handle that spawns onto it). The rules the tests
//! check:
//!
//! - **Scheduled at most once.** A task woken ten times before it runs is queued once and
//!   polled once. Keep a `scheduled` flag in the task; only the wake that flips it from `false`
//!   to `true` pushes the task. Clear it *before* polling, so a wake during the poll is kept.
//! - **Wake after completion is a no-op.** A finished task's future is gone (drop it as soon as
//!   it returns `Ready`); a late wake must neither poll it again nor fail.
//! - **Wakes from other threads work**: the queue is behind a `Mutex`, and waking calls the
//!   executor's *unparker* (by default: unpark the executor's thread).
//! - **Dropping the executor drops every pending future**, even one whose waker is still held
//!   somewhere; that leftover waker stays safe to call (tasks only hold a `Weak` to the
//!   executor's shared state, which also means no reference cycle keeps anything alive).
//!
//! [`Executor::block_on_with`] takes a `drive` callback so that later stages can plug in
//! timers and I/O: the run loop calls `drive(true)` when it has nothing to run (block until
//! woken) and `drive(false)` after each batch of tasks (look for ready events, don't block).
//! A batch is at most [`BUDGET`] polls, so a busy task set cannot starve the main future or
//! the drivers.
//!
//! The tasks live in a [`Slab`](crate::util::Slab), so that the executor can find and drop the
//! pending ones when it is dropped.
//!
//! A task that panics here unwinds straight out of `block_on` (the next stage catches panics
//! per task). The executor must still drop cleanly afterwards: the panic poisoned the mutex
//! around that task's future, and a second panic inside `drop` while unwinding would abort the
//! whole process. The given `lock` helper ignores poisoning; use it for every lock.
//!
//! After this stage you can explain what a task is, what `Waker` cloning costs (one reference
//! count), and the difference between concurrency and parallelism.
//!
//! Read: the Async Book, "Build an Executor"; tokio's "Async in depth", "Wakers" and the
//! mini-tokio example; async-task's design notes on the scheduled flag
//! (<https://docs.rs/async-task>).

use crate::util::Slab;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

/// How many tasks the run loop polls before it polls the main future and calls the driver.
pub const BUDGET: usize = 61;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Locks `mutex` even if a panic poisoned it. A task that panics inside `poll` unwinds out of
/// `block_on` while holding its future's lock; the executor must still be droppable after that
/// (a panic in `drop` during unwinding aborts the process).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A spawned future and its place in the executor.
struct Task {
    /// `None` once the future has finished or the executor dropped it.
    future: Mutex<Option<BoxFuture>>,
    /// `true` while the task is in the run queue (and forever once it has finished).
    scheduled: AtomicBool,
    /// Its slot in `Shared::tasks`.
    key: usize,
    shared: Weak<Shared>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // TODO: schedule the task: queued at most once however many wakes come before it runs,
        //       the executor's thread woken up, and nothing at all once the executor is gone
        todo!()
    }
}

/// What the executor and its tasks share.
struct Shared {
    queue: Mutex<VecDeque<Arc<Task>>>,
    tasks: Mutex<Slab<Arc<Task>>>,
    unpark: Box<dyn Fn() + Send + Sync>,
}

/// The waker of the future passed to `block_on`: it is not a task, only a flag.
struct MainWaker {
    woken: AtomicBool,
    shared: Weak<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if let Some(shared) = self.shared.upgrade() {
            (shared.unpark)();
        }
    }
}

/// A single-threaded executor: it runs its tasks on the thread that calls `block_on`.
///
/// Not `Send`: by default it wakes the thread that created it.
pub struct Executor {
    shared: Arc<Shared>,
    _not_send: PhantomData<*const ()>,
}

/// A handle that spawns tasks onto an [`Executor`], from any thread. Spawning after the
/// executor is gone drops the future at once.
#[derive(Clone)]
pub struct Spawner {
    shared: Weak<Shared>,
}

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}

impl Spawner {
    /// Queues `fut` as a new task. Its output is dropped; see the next stage for handles.
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // TODO: a new task, runnable at once and known to the executor until it completes (so
        //       that dropping the executor drops it); if the executor is gone, just drop `fut`
        todo!()
    }
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("tasks", &self.task_count())
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// An executor whose wakers unpark the current thread.
    pub fn new() -> Self {
        let thread = thread::current();
        Self::with_unparker(move || thread.unpark())
    }

    /// An executor whose wakers call `unpark` after queuing a task (for example to interrupt
    /// a blocking wait for I/O).
    pub fn with_unparker(unpark: impl Fn() + Send + Sync + 'static) -> Self {
        Executor {
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                tasks: Mutex::new(Slab::new()),
                unpark: Box::new(unpark),
            }),
            _not_send: PhantomData,
        }
    }

    /// A handle to spawn tasks with.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Queues `fut` as a new task.
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawner().spawn(fut);
    }

    /// How many tasks have been spawned and have not finished.
    pub fn task_count(&self) -> usize {
        lock(&self.shared.tasks).len()
    }

    /// Runs the tasks until `fut` finishes, parking the thread when there is nothing to do.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.block_on_with(fut, |idle| {
            if idle {
                thread::park();
            }
        })
    }

    /// Runs the tasks until `fut` finishes. Calls `drive(true)` when nothing is runnable (it
    /// should block until the unparker is called or an event source wakes a task) and
    /// `drive(false)` after each batch of at most [`BUDGET`] polls (it must not block).
    pub fn block_on_with<F: Future>(&self, fut: F, mut drive: impl FnMut(bool)) -> F::Output {
        // TODO: `fut`'s output, running the spawned tasks meanwhile. The main future is polled
        //       at once and then only when woken; at most BUDGET tasks run between two looks
        //       at it; `drive(idle)` is called every round, idle meaning nothing is runnable
        todo!()
    }

    /// Polls one task once.
    fn run(&self, task: &Arc<Task>) {
        // TODO: poll the task once, with a waker that schedules it again (a wake during this
        //       poll included). Once it completes: its future is dropped now, later wakes do
        //       nothing, and the executor forgets it
        todo!()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // TODO: drop every pending future, those spawned by the destructors of others included,
        //       with no lock held while a future is dropped; nothing stays queued
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

    /// Counts drops.
    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A one-shot flag a future can wait on.
    #[derive(Default)]
    struct Flag(Mutex<(bool, Option<Waker>)>);

    impl Flag {
        fn set(&self) {
            let waker = {
                let mut state = self.0.lock().unwrap();
                state.0 = true;
                state.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }

        async fn wait(&self) {
            std::future::poll_fn(|cx| {
                let mut state = self.0.lock().unwrap();
                if state.0 {
                    Poll::Ready(())
                } else {
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
        }
    }

    /// Yields until `cond` holds, at most `max` times.
    async fn yield_until(max: usize, mut cond: impl FnMut() -> bool) {
        for _ in 0..max {
            if cond() {
                return;
            }
            YieldNow::new().await;
        }
        panic!("condition not reached after {max} yields");
    }

    #[test]
    fn spawned_tasks_all_run() {
        let done = watchdog(LIMIT, || {
            let exec = Executor::new();
            let done = Arc::new(AtomicUsize::new(0));
            for _ in 0..10 {
                let done = done.clone();
                exec.spawn(async move {
                    YieldNow::new().await;
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            let d = done.clone();
            exec.block_on(yield_until(100, move || d.load(Ordering::SeqCst) == 10));
            assert_eq!(
                exec.task_count(),
                0,
                "finished tasks must leave the executor"
            );
            done.load(Ordering::SeqCst)
        });
        assert_eq!(done, 10);
    }

    #[test]
    fn tasks_run_in_spawn_order() {
        let order = watchdog(LIMIT, || {
            let exec = Executor::new();
            let order = Arc::new(Mutex::new(Vec::new()));
            for i in 0..3 {
                let order = order.clone();
                exec.spawn(async move { order.lock().unwrap().push(i) });
            }
            exec.block_on(YieldNow::new());
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        });
        assert_eq!(order, [0, 1, 2], "the run queue is first in, first out");
    }

    #[test]
    fn many_wakes_before_running_schedule_the_task_once() {
        let polls = watchdog(LIMIT, || {
            let exec = Executor::new();
            let polls = Arc::new(AtomicUsize::new(0));
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let (p, s) = (polls.clone(), slot.clone());
            exec.spawn(std::future::poll_fn(move |cx| {
                p.fetch_add(1, Ordering::SeqCst);
                *s.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }));
            let p = polls.clone();
            exec.block_on(async move {
                yield_until(100, || p.load(Ordering::SeqCst) == 1).await;
                let waker = slot.lock().unwrap().clone().unwrap();
                for _ in 0..10 {
                    waker.wake_by_ref();
                }
                for _ in 0..5 {
                    YieldNow::new().await;
                }
            });
            polls.load(Ordering::SeqCst)
        });
        assert_eq!(
            polls, 2,
            "ten wakes before the task runs must queue it once: one more poll"
        );
    }

    #[test]
    fn wake_during_poll_is_kept() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let done = Arc::new(AtomicBool::new(false));
            let d = done.clone();
            // `YieldNow` wakes its task from inside `poll`; that wake must not be lost.
            exec.spawn(async move {
                for _ in 0..3 {
                    YieldNow::new().await;
                }
                d.store(true, Ordering::SeqCst);
            });
            exec.block_on(async move {
                for _ in 0..100 {
                    if done.load(Ordering::SeqCst) {
                        return;
                    }
                    YieldNow::new().await;
                }
                panic!(
                    "a task that wakes itself during its poll (YieldNow) was not polled again: \
                     clear `scheduled` before the poll, so that a wake during it queues the task"
                );
            });
        });
    }

    #[test]
    fn wake_after_completion_is_a_no_op() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let s = slot.clone();
            exec.spawn(async move {
                let waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
                *s.lock().unwrap() = Some(waker);
            });
            exec.block_on(async {
                yield_until(100, || slot.lock().unwrap().is_some()).await;
                let waker = slot.lock().unwrap().take().unwrap();
                waker.wake_by_ref();
                let from_thread = waker.clone();
                thread::spawn(move || from_thread.wake()).join().unwrap();
                // Polling the finished `async` block again would panic here.
                for _ in 0..5 {
                    YieldNow::new().await;
                }
            });
            assert_eq!(exec.task_count(), 0);
        });
    }

    #[test]
    fn wake_from_another_thread_runs_the_task() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let outside = Arc::new(Flag::default());
            let done = Arc::new(Flag::default());
            let (o, d) = (outside.clone(), done.clone());
            exec.spawn(async move {
                o.wait().await;
                d.set();
            });
            let t = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                outside.set();
            });
            // The executor must park (nothing is runnable) and be woken by the other thread.
            exec.block_on(done.wait());
            t.join().unwrap();
        });
    }

    #[test]
    fn tasks_can_spawn_tasks() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let spawner = exec.spawner();
            let done = Arc::new(Flag::default());
            let d = done.clone();
            exec.spawn(async move {
                spawner.spawn(async move { d.set() });
            });
            exec.block_on(done.wait());
        });
    }

    #[test]
    fn dropping_the_executor_drops_pending_futures() {
        watchdog(LIMIT, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let exec = Executor::new();
            for _ in 0..3 {
                let counter = DropCounter(drops.clone());
                let s = slot.clone();
                exec.spawn(async move {
                    let _counter = counter;
                    std::future::poll_fn(|cx| {
                        *s.lock().unwrap() = Some(cx.waker().clone());
                        Poll::<()>::Pending
                    })
                    .await;
                });
            }
            exec.block_on(yield_until(100, || slot.lock().unwrap().is_some()));
            assert_eq!(drops.load(Ordering::SeqCst), 0, "pending tasks are alive");
            assert_eq!(exec.task_count(), 3);
            drop(exec);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                3,
                "dropping the executor must drop every pending future, even one whose waker \
                 is still held elsewhere"
            );
            // The leftover waker outlives the executor and must stay safe to use.
            let waker = slot.lock().unwrap().take().unwrap();
            waker.wake_by_ref();
            thread::spawn(move || waker.wake()).join().unwrap();
        });
    }

    /// Spawns a task from its destructor, the way a guard may hand its cleanup to the executor.
    struct SpawnOnDrop(Spawner, Arc<AtomicUsize>);

    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            if thread::panicking() {
                return; // a second panic (an unfinished `spawn`) would abort the test process
            }
            let counter = DropCounter(self.1.clone());
            self.0.spawn(async move {
                let _counter = counter;
                std::future::pending::<()>().await;
            });
        }
    }

    #[test]
    fn a_future_that_spawns_from_its_destructor_does_not_deadlock_the_drop() {
        let drops = watchdog(LIMIT, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let exec = Executor::new();
            let guard = SpawnOnDrop(exec.spawner(), drops.clone());
            exec.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            exec.block_on(YieldNow::new());
            // If the executor still holds its task lock while it drops a future, the spawn in
            // that future's destructor waits for the lock forever.
            drop(exec);
            drops.load(Ordering::SeqCst)
        });
        assert_eq!(
            drops, 1,
            "a task spawned by a destructor while the executor drops must be dropped too"
        );
    }

    #[test]
    fn a_panicking_task_unwinds_out_of_block_on_and_the_executor_still_drops() {
        watchdog(LIMIT, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let exec = Executor::new();
            let counter = DropCounter(drops.clone());
            exec.spawn(async move {
                let _counter = counter;
                std::future::pending::<()>().await;
            });
            exec.spawn(async { panic!("a task panicked on purpose") });
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                exec.block_on(std::future::pending::<()>());
            }));
            assert!(
                result.is_err(),
                "without a harness, a task's panic reaches `block_on`"
            );
            drop(exec); // must not panic on the poisoned lock
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "the other task's future is dropped"
            );
        });
    }

    #[test]
    fn after_a_round_with_tasks_left_the_executor_goes_on_without_parking() {
        // More ready tasks than one round's budget: after a round tasks are still queued, and
        // the executor must run them rather than report idle and park (nothing would wake it).
        let n = 4 * BUDGET;
        let ran = watchdog(LIMIT, move || {
            let exec = Executor::new();
            let ran = Arc::new(AtomicUsize::new(0));
            let last = Arc::new(Flag::default());
            for _ in 0..n {
                let (r, l) = (ran.clone(), last.clone());
                exec.spawn(async move {
                    if r.fetch_add(1, Ordering::SeqCst) + 1 == n {
                        l.set();
                    }
                });
            }
            exec.block_on_with(last.wait(), |idle| {
                if idle {
                    assert!(
                        lock(&exec.shared.queue).is_empty(),
                        "block_on_with called drive(true) with tasks still in the queue: idle means no task queued and the main future not woken"
                    );
                    thread::park();
                }
            });
            ran.load(Ordering::SeqCst)
        });
        assert_eq!(ran, n);
    }

    #[test]
    fn waiting_with_nothing_to_run_tells_the_driver_it_is_idle() {
        let calls = watchdog(LIMIT, || {
            let exec = Executor::new();
            let flag = Arc::new(Flag::default());
            let f = flag.clone();
            let t = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                f.set();
            });
            let mut calls = Vec::new();
            exec.block_on_with(flag.wait(), |idle| {
                calls.push(idle);
                if idle {
                    thread::park();
                }
            });
            t.join().unwrap();
            calls
        });
        assert!(
            !calls.is_empty() && calls.iter().all(|&idle| idle),
            "with no task queued and the main future waiting for another thread, every call must be drive(true), so that the driver blocks instead of spinning; the calls were {} x drive(false), {} x drive(true)",
            calls.iter().filter(|&&idle| !idle).count(),
            calls.iter().filter(|&&idle| idle).count()
        );
    }

    #[test]
    fn debug_shows_the_number_of_tasks() {
        let exec = Executor::new();
        exec.spawn(std::future::pending());
        assert_eq!(
            format!("{exec:?}"),
            "Executor { tasks: 1, .. }",
            "a spawned task that has not finished is counted by task_count"
        );
        assert_eq!(format!("{:?}", exec.spawner()), "Spawner { .. }");
    }

    #[test]
    fn spawning_after_the_executor_is_gone_drops_the_future() {
        let drops = Arc::new(AtomicUsize::new(0));
        let spawner = watchdog(LIMIT, || Executor::new().spawner());
        let counter = DropCounter(drops.clone());
        spawner.spawn(async move {
            let _counter = counter;
        });
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "nobody can run it: drop it at once"
        );
    }
}
