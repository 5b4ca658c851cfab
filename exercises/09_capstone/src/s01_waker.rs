//! # A task and its waker, built by hand
//!
//! The executor of this project runs tasks on several threads, and any thread may wake any task.
//! This stage builds the piece every such executor is made of: a [`Task`] (a boxed future, a
//! state, and the [`Schedule`]r to push it to when it is woken), shared as your own `MyArc`, and
//! a `Waker` made from a `RawWaker` and a vtable you write. The next stage runs tasks on worker
//! threads; here the tests are the workers, popping tasks from your MPSC queue and calling
//! [`Task::run`].
//!
//! The wake path is a state machine on one atomic. Each wake-up either queues the task (once),
//! or tells the thread that is polling it to poll again:
//!
//! ```text
//!   any thread: wake_by_ref               the thread that popped it: Task::run
//!   IDLE      -> SCHEDULED, then push     SCHEDULED -> RUNNING, poll the future
//!   RUNNING   -> NOTIFIED, no push          Ready:   -> COMPLETE, drop the future
//!   SCHEDULED, NOTIFIED, COMPLETE:          Pending: RUNNING  -> IDLE, or else
//!     nothing (a poll is coming, or none     (woken meanwhile) NOTIFIED -> SCHEDULED, push
//!     is needed)
//! ```
//!
//! Invariants the tests and loom check: a task is in the queue at most once; only the thread
//! that moved the state to `RUNNING` touches the future (that is what makes `Task` `Sync`); a
//! wake-up that arrives at any moment before the poll ends is never lost; a complete task is
//! never queued again and its future is dropped as it completes (a future that holds its own
//! waker would otherwise keep its task alive for ever). Each transition is one atomic
//! read-modify-write; a load followed by a store lets two threads both see `IDLE`.
//!
//! The waker. A `RawWaker` is one data pointer and a vtable of four functions (`clone`, `wake`,
//! `wake_by_ref`, `drop`). `MyArc` keeps its pointer private, so the data pointer is a boxed
//! `MyArc<Task<S>>`: every waker owns one strong reference, `clone` makes a new box with a new
//! reference, `wake` consumes its box, `drop` frees it. A clone that copies the pointer without
//! counting is a double free the first time two wakers are dropped (the tests crash).
//!
//! Orderings: two happens-before edges matter. The state carries the future from one poller
//! to the next (on another thread, maybe), and a wake-up carries what its thread did before
//! waking to the poll it causes. Choose each ordering so that both edges exist, and write the
//! reason next to it; a loom model runs a task on the thread that woke it.
//!
//! Afterwards you will be able to write a waker vtable over your own reference count, say why a
//! task's state needs a "notified while running" state, and prove with loom that no wake-up is
//! lost and no task is scheduled twice.
//!
//! Read: `std::task::RawWakerVTable` (each function's contract); Tokio, "Async in depth",
//! "Wakers": <https://tokio.rs/tokio/tutorial/async>; `async-task`'s `src/state.rs` and
//! `src/raw.rs`, after a first version of yours. Loom also drives your `MyArc` and `MpscQueue`.
//!
//! A task is shared between threads only if its future is `Send`:
//!
//! ```compile_fail,E0277
//! use capstone::s01_waker::{Schedule, Task};
//! use smart_pointers::s06_arc_weak::MyArc;
//! struct Nowhere;
//! impl Schedule for Nowhere {
//!     fn schedule(&self, _task: MyArc<Task<Self>>) {}
//! }
//! let rc = std::rc::Rc::new(1);
//! let future = std::future::poll_fn(move |_| std::task::Poll::Ready(drop(rc.clone())));
//! Task::spawn(future, Nowhere); // error[E0277]: `Rc<i32>` cannot be sent between threads
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use smart_pointers::s06_arc_weak::MyArc;

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

/// A future as a task holds it: boxed, pinned, sendable to any worker.
type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Not queued, not running: waiting for a wake-up.
const IDLE: usize = 0;
/// In the scheduler's queue (exactly once), waiting to be run.
const SCHEDULED: usize = 1;
/// Being polled by the thread that popped it.
const RUNNING: usize = 2;
/// Being polled, and woken since the poll began: the poller queues it again.
const NOTIFIED: usize = 3;
/// Its future returned `Ready` and was dropped.
const COMPLETE: usize = 4;

/// Where woken tasks go: an executor's run queue.
pub trait Schedule: Send + Sync + Sized + 'static {
    /// Queues `task` to be run. Called once each time the task goes from not queued to
    /// `SCHEDULED`, never for a task already in the queue.
    fn schedule(&self, task: MyArc<Task<Self>>);
}

/// A spawned future, its scheduling state, and the scheduler it goes back to when woken.
pub struct Task<S: Schedule> {
    /// One of `IDLE`, `SCHEDULED`, `RUNNING`, `NOTIFIED`, `COMPLETE`.
    state: AtomicUsize,
    /// The future; `None` once it has completed. Touched only by the thread that moved
    /// `state` to `RUNNING`.
    future: UnsafeCell<Option<BoxFuture>>,
    scheduler: S,
}

// SAFETY: the only field that is not `Sync` is `future`, and only the thread that moved `state`
// from `SCHEDULED` to `RUNNING` touches it, until it moves the state on; the orderings of those
// transitions put one poller's accesses before the next one's. Your `run` and `wake_by_ref`
// must make this true.
unsafe impl<S: Schedule> Sync for Task<S> {}

impl<S: Schedule> Task<S> {
    /// Wraps `future` in a new task, in the `SCHEDULED` state, and gives one reference to
    /// `scheduler.schedule`. Returns another reference, for the caller to watch the task with.
    pub fn spawn(future: impl Future<Output = ()> + Send + 'static, scheduler: S) -> MyArc<Self> {
        // TODO: build the task and schedule it once.
        todo!()
    }

    /// Whether the task's future has returned `Ready`.
    pub fn is_complete(&self) -> bool {
        // TODO
        todo!()
    }

    /// Polls the task's future once, with a waker for this task. The caller popped `this` from
    /// its scheduler's queue, so the task is `SCHEDULED`.
    ///
    /// # Panics
    ///
    /// If the task is not `SCHEDULED`: a task queued twice, or run without being popped.
    pub fn run(this: MyArc<Self>) {
        // TODO: enter RUNNING, poll once, then leave RUNNING as the header's picture says: a
        //       completed future is dropped now, and a wake-up during the poll is not lost.
        todo!()
    }

    /// Wakes the task: queues it if it is idle, tells its poller to poll again if it is
    /// running, and does nothing if it is already queued or complete.
    pub fn wake_by_ref(this: &MyArc<Self>) {
        // TODO: one transition of the header's picture, made atomically.
        todo!()
    }

    /// A waker for this task. It owns a strong reference: the task lives while the waker does.
    pub fn waker(this: &MyArc<Self>) -> Waker {
        // TODO: a RawWaker over a strong reference, with `Self::vtable()`.
        todo!()
    }

    fn vtable() -> &'static RawWakerVTable {
        &RawWakerVTable::new(
            Self::clone_waker,
            Self::wake_waker,
            Self::wake_by_ref_waker,
            Self::drop_waker,
        )
    }

    unsafe fn clone_waker(data: *const ()) -> RawWaker {
        // TODO: a new waker with a reference of its own; `data`'s waker stays as it is.
        todo!()
    }

    unsafe fn wake_waker(data: *const ()) {
        // TODO: wake the task; this waker is consumed.
        todo!()
    }

    unsafe fn wake_by_ref_waker(data: *const ()) {
        // TODO: wake the task; this waker stays.
        todo!()
    }

    unsafe fn drop_waker(data: *const ()) {
        // TODO: this waker is gone.
        todo!()
    }
}

#[cfg(test)]
mod harness {
    //! The tests' scheduler: your MPSC queue, popped by one thread at a time.

    use super::{Schedule, Task};
    use crate::sync::{Arc, AtomicUsize, Mutex, Ordering};
    use mpsc::s06_queue::MpscQueue;
    use smart_pointers::s06_arc_weak::MyArc;

    pub(super) type TestTask = Task<TestScheduler>;

    pub(super) struct Queue {
        tasks: MpscQueue<MyArc<TestTask>>,
        /// The queue has one consumer; the tests' workers take turns through this lock.
        consumer: Mutex<()>,
        schedules: AtomicUsize,
    }

    #[derive(Clone)]
    pub(super) struct TestScheduler(Arc<Queue>);

    impl Schedule for TestScheduler {
        fn schedule(&self, task: MyArc<Task<Self>>) {
            self.0.schedules.fetch_add(1, Ordering::Relaxed);
            self.0.tasks.push(task);
        }
    }

    impl TestScheduler {
        pub(super) fn new() -> Self {
            Self(Arc::new(Queue {
                tasks: MpscQueue::new(),
                consumer: Mutex::new(()),
                schedules: AtomicUsize::new(0),
            }))
        }

        /// How many times `schedule` was called.
        pub(super) fn schedules(&self) -> usize {
            self.0.schedules.load(Ordering::Relaxed)
        }

        pub(super) fn pop(&self) -> Option<MyArc<TestTask>> {
            let _turn = self.0.consumer.lock().unwrap();
            // SAFETY: the lock makes us the queue's only consumer.
            unsafe { self.0.tasks.pop() }
        }

        /// Everything queued now, in order.
        pub(super) fn drain(&self) -> Vec<MyArc<TestTask>> {
            std::iter::from_fn(|| self.pop()).collect()
        }

        /// Pops and runs tasks until the queue is empty; returns how many runs that took.
        pub(super) fn run_all(&self) -> usize {
            let mut runs = 0;
            while let Some(task) = self.pop() {
                Task::run(task);
                runs += 1;
            }
            runs
        }
    }

    /// A future that returns `Pending` `n` times, waking itself each time with `wake` (one of
    /// the ways a future can wake its own task), and then `Ready`.
    pub(super) struct YieldTimes<W: Fn(&std::task::Waker)> {
        pub(super) left: usize,
        pub(super) wake: W,
    }

    impl<W: Fn(&std::task::Waker) + Unpin> std::future::Future for YieldTimes<W> {
        type Output = ();
        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            if self.left == 0 {
                return std::task::Poll::Ready(());
            }
            self.left -= 1;
            (self.wake)(cx.waker());
            std::task::Poll::Pending
        }
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::Task;
    use super::harness::{TestScheduler, TestTask, YieldTimes};
    use crate::test_support::{Counted, within};
    use smart_pointers::s06_arc_weak::MyArc;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    /// A gate a future can wait on: a flag and the waker of whoever waits, behind one lock.
    #[derive(Default)]
    struct Gate {
        state: Mutex<(bool, Option<Waker>)>,
        polls: AtomicUsize,
    }

    impl Gate {
        /// Opens the gate and wakes the waiting task, if any.
        fn open(&self) {
            let waiting = {
                let mut state = self.state.lock().unwrap();
                state.0 = true;
                state.1.take()
            };
            if let Some(waker) = waiting {
                waker.wake();
            }
        }
    }

    /// Waits until its gate is open.
    struct WaitFor(Arc<Gate>);

    impl Future for WaitFor {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0.polls.fetch_add(1, SeqCst);
            let mut state = self.0.state.lock().unwrap();
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn spawn_queues_the_task_once_and_run_polls_it_to_completion() {
        let sched = TestScheduler::new();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = Task::spawn(
            async move {
                counter.fetch_add(1, SeqCst);
            },
            sched.clone(),
        );
        assert_eq!(
            sched.schedules(),
            1,
            "spawn must schedule the new task exactly once"
        );
        assert!(!task.is_complete(), "a task never polled is not complete");
        let queued = sched
            .pop()
            .expect("spawn must push the task onto the scheduler's queue");
        assert!(
            MyArc::ptr_eq(&queued, &task),
            "spawn must return the task it queued"
        );
        Task::run(queued);
        assert_eq!(hits.load(SeqCst), 1, "run must poll the task's future once");
        assert!(
            task.is_complete(),
            "a task whose future returned Ready is complete"
        );
        assert!(
            sched.pop().is_none(),
            "a complete task must not be queued again"
        );
        assert_eq!(
            MyArc::strong_count(&task),
            1,
            "run must release every reference it took"
        );
    }

    #[test]
    fn a_pending_task_waits_idle_and_is_queued_once_however_often_it_is_woken() {
        let sched = TestScheduler::new();
        let gate = Arc::new(Gate::default());
        let task = Task::spawn(WaitFor(gate.clone()), sched.clone());
        assert_eq!(sched.run_all(), 1, "the spawned task must be run once");
        assert!(
            !task.is_complete(),
            "a future that returned Pending leaves its task incomplete"
        );
        assert!(
            sched.pop().is_none(),
            "a task that returned Pending and was not woken must not be queued"
        );

        gate.open();
        Task::wake_by_ref(&task);
        Task::waker(&task).wake();
        let queued = sched.drain();
        assert_eq!(
            queued.len(),
            1,
            "an idle task woken three times must be queued exactly once (it was queued {} times)",
            queued.len()
        );
        queued.into_iter().for_each(Task::run);
        assert!(
            task.is_complete(),
            "woken and run again, the task must complete"
        );
        assert_eq!(
            gate.polls.load(SeqCst),
            2,
            "the future must be polled once per run"
        );
    }

    #[test]
    // A clone woken at once is what this test exercises: a clone's reference, consumed by wake.
    #[allow(clippy::waker_clone_wake)]
    fn a_task_woken_during_its_poll_is_polled_again_and_queued_once() {
        for (how, wake) in [
            (
                "wake_by_ref twice",
                (|w: &Waker| {
                    w.wake_by_ref();
                    w.wake_by_ref();
                }) as fn(&Waker),
            ),
            ("a clone's wake", |w: &Waker| w.clone().wake()),
        ] {
            let sched = TestScheduler::new();
            let task = Task::spawn(YieldTimes { left: 3, wake }, sched.clone());
            let mut next = sched.pop().expect("spawn must queue the task");
            for poll in 1..=3 {
                Task::run(next);
                assert!(
                    !task.is_complete(),
                    "{how}: after {poll} of 4 polls the future is still pending"
                );
                let mut queued = sched.drain();
                assert_eq!(
                    queued.len(),
                    1,
                    "{how}: a task woken while it is polled must be queued again exactly once, \
                     after the poll (found it queued {} times)",
                    queued.len()
                );
                next = queued.pop().expect("checked above");
            }
            Task::run(next);
            assert!(
                task.is_complete(),
                "{how}: the fourth poll completes the task"
            );
            assert_eq!(
                sched.schedules(),
                4,
                "{how}: one schedule by spawn, one per woken poll"
            );
        }
    }

    #[test]
    fn a_task_woken_during_its_poll_is_not_queued_before_the_poll_ends() {
        let sched = TestScheduler::new();
        let probe = sched.clone();
        let mut polled = false;
        let future = std::future::poll_fn(move |cx| {
            if polled {
                return Poll::Ready(());
            }
            polled = true;
            cx.waker().wake_by_ref();
            // Another worker would pop it now, and poll it while this poll still runs.
            assert!(
                probe.pop().is_none(),
                "a task woken while it is polled was queued before the poll ended: another \
                 worker could poll it at the same time (it must be marked, and queued by its \
                 poller once the poll is over)"
            );
            Poll::Pending
        });
        let task = Task::spawn(future, sched.clone());
        assert_eq!(
            sched.run_all(),
            2,
            "woken during its first poll, the task is run twice"
        );
        assert!(task.is_complete(), "the second poll completes the task");
    }

    #[test]
    fn a_task_woken_during_its_last_poll_completes_and_is_not_queued() {
        let sched = TestScheduler::new();
        // Wakes itself, then returns Ready in the same poll.
        let future = std::future::poll_fn(|cx| {
            cx.waker().wake_by_ref();
            Poll::Ready(())
        });
        let task = Task::spawn(future, sched.clone());
        assert_eq!(sched.run_all(), 1, "the task is run once");
        assert!(
            task.is_complete(),
            "a future that returned Ready completes its task, even if it was woken during that \
             poll: a wake-up that arrived while it ran must not keep it from completing"
        );
        assert!(
            sched.pop().is_none(),
            "a task that completed must not be queued again, even if it was woken during its \
             last poll"
        );
    }

    #[test]
    fn every_waker_owns_one_reference_and_wake_consumes_it() {
        let sched = TestScheduler::new();
        let gate = Arc::new(Gate::default());
        let task = Task::spawn(WaitFor(gate.clone()), sched.clone());
        sched.run_all();
        // Our handle, and the waker the gate holds.
        let base = MyArc::strong_count(&task);
        assert_eq!(
            base, 2,
            "a pending task is held by its handle and the waker its future kept"
        );

        let waker = Task::waker(&task);
        assert_eq!(
            MyArc::strong_count(&task),
            base + 1,
            "Task::waker must own a reference"
        );
        let clone = waker.clone();
        assert_eq!(
            MyArc::strong_count(&task),
            base + 2,
            "a cloned waker must own a reference of its own: clone the MyArc, not the pointer"
        );
        drop(clone);
        assert_eq!(
            MyArc::strong_count(&task),
            base + 1,
            "dropping a waker releases its reference"
        );
        waker.wake();
        assert_eq!(
            MyArc::strong_count(&task),
            base + 1,
            "wake consumes its waker: the queue now holds one reference and the waker none"
        );

        gate.open();
        assert_eq!(sched.run_all(), 1, "the woken task must be queued once");
        assert!(task.is_complete(), "the gate is open: the task completes");
        assert_eq!(
            MyArc::strong_count(&task),
            1,
            "a complete task's future is dropped, and with it every waker it held"
        );
    }

    #[test]
    fn a_complete_task_drops_its_future_at_once_and_ignores_wake_ups() {
        let sched = TestScheduler::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = Counted(drops.clone());
        // Ready at once; the guard lives in the future until the future is dropped.
        let future = std::future::poll_fn(move |_| {
            let _kept = &guard;
            Poll::Ready(())
        });
        let task = Task::spawn(future, sched.clone());
        let early = Task::waker(&task);
        sched.run_all();
        assert!(task.is_complete(), "the future returned Ready");
        assert_eq!(
            drops.load(SeqCst),
            1,
            "the future must be dropped as it completes, not with the last reference to its task"
        );
        early.wake_by_ref();
        Task::wake_by_ref(&task);
        early.wake();
        assert!(
            sched.pop().is_none(),
            "waking a complete task must not queue it"
        );
        assert_eq!(sched.schedules(), 1, "only spawn scheduled the task");
        drop(task);
        assert_eq!(drops.load(SeqCst), 1, "the future is dropped exactly once");
    }

    #[test]
    fn wakes_from_other_threads_are_never_lost() {
        const TASKS: usize = 3;
        let ticks = if cfg!(miri) { 5 } else { 300 };
        within(
            20,
            "a wake-up was lost: a task waits for a wake that never queued it",
            move || {
                let sched = TestScheduler::new();
                let gates: Vec<Vec<Arc<Gate>>> = (0..TASKS)
                    .map(|_| (0..ticks).map(|_| Arc::new(Gate::default())).collect())
                    .collect();
                let tasks: Vec<_> = gates
                    .iter()
                    .map(|gates| {
                        let gates = gates.clone();
                        Task::spawn(
                            async move {
                                for gate in gates {
                                    WaitFor(gate).await;
                                }
                            },
                            sched.clone(),
                        )
                    })
                    .collect();
                let openers: Vec<_> = gates
                    .into_iter()
                    .map(|gates| {
                        std::thread::spawn(move || {
                            for gate in gates {
                                gate.open();
                                std::thread::yield_now();
                            }
                        })
                    })
                    .collect();
                while !tasks.iter().all(|t| t.is_complete()) {
                    if sched.run_all() == 0 {
                        std::thread::yield_now();
                    }
                }
                openers.into_iter().for_each(|t| t.join().unwrap());
                assert!(sched.pop().is_none(), "complete tasks must not be queued");
            },
        );
    }

    #[test]
    fn two_workers_never_poll_one_task_at_once() {
        const TASKS: usize = 4;
        let yields = if cfg!(miri) { 10 } else { 500 };
        within(
            30,
            "the workers never finished: a wake-up was lost",
            move || {
                let sched = TestScheduler::new();
                let failed = Arc::new(AtomicBool::new(false));
                let tasks: Arc<Vec<MyArc<TestTask>>> = Arc::new(
                    (0..TASKS)
                        .map(|_| {
                            let polling = AtomicBool::new(false);
                            let mut left = yields;
                            let future = std::future::poll_fn(move |cx| {
                                assert!(
                                    !polling.swap(true, SeqCst),
                                    "one task was polled on two threads at once: it was queued \
                                 while it was running"
                                );
                                std::thread::yield_now();
                                polling.store(false, SeqCst);
                                if left == 0 {
                                    return Poll::Ready(());
                                }
                                left -= 1;
                                cx.waker().wake_by_ref();
                                Poll::Pending
                            });
                            Task::spawn(future, sched.clone())
                        })
                        .collect(),
                );
                let done = {
                    let (tasks, failed) = (tasks.clone(), failed.clone());
                    move || failed.load(SeqCst) || tasks.iter().all(|t| t.is_complete())
                };
                let worker = |sched: TestScheduler| {
                    let (done, failed) = (done.clone(), failed.clone());
                    std::thread::spawn(move || {
                        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            while !done() {
                                match sched.pop() {
                                    Some(task) => Task::run(task),
                                    None => std::thread::yield_now(),
                                }
                            }
                        }));
                        if let Err(panic) = run {
                            failed.store(true, SeqCst);
                            std::panic::resume_unwind(panic);
                        }
                    })
                };
                let workers = [worker(sched.clone()), worker(sched.clone())];
                // A third thread wakes every task all along, whatever its state.
                let waker = {
                    let (tasks, done) = (tasks.clone(), done.clone());
                    std::thread::spawn(move || {
                        while !done() {
                            tasks.iter().for_each(Task::wake_by_ref);
                            std::thread::yield_now();
                        }
                    })
                };
                let mut panics: Vec<_> =
                    workers.into_iter().filter_map(|w| w.join().err()).collect();
                waker.join().unwrap();
                if let Some(panic) = panics.pop() {
                    std::panic::resume_unwind(panic);
                }
                drop(sched.drain());
            },
        );
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_models {
    use super::Task;
    use super::harness::{TestScheduler, YieldTimes};
    use crate::sync::{Arc, AtomicBool, Mutex, Ordering, UnsafeCell, thread};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// A flag and the waker of the task waiting for it, behind one lock.
    struct Gate(Mutex<(bool, Option<Waker>)>);

    struct WaitFor(Arc<Gate>);

    impl Future for WaitFor {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut state = (self.0).0.lock().unwrap();
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// A plain value one thread writes and another reads: loom reports a read that no
    /// happens-before edge orders after the write as a causality violation.
    struct Note(UnsafeCell<bool>);

    // SAFETY: the tests below write and read a `Note` from two threads on purpose; whether the
    // task's orderings make that sound is what loom checks.
    unsafe impl Sync for Note {}

    impl Note {
        fn new() -> Arc<Self> {
            Arc::new(Note(UnsafeCell::new(false)))
        }
        fn write(&self) {
            // SAFETY: see `unsafe impl Sync`; loom checks this access.
            self.0.with_mut(|p| unsafe { *p = true });
        }
        fn read(&self) -> bool {
            // SAFETY: see `unsafe impl Sync`; loom checks this access.
            self.0.with(|p| unsafe { *p })
        }
    }

    /// Writes its note as it is dropped.
    struct WriteOnDrop(Arc<Note>);

    impl Drop for WriteOnDrop {
        fn drop(&mut self) {
            self.0.write();
        }
    }

    #[test]
    fn the_poll_a_wake_up_causes_sees_what_the_waking_thread_wrote() {
        loom::model(|| {
            let sched = TestScheduler::new();
            let note = Note::new();
            let seen = note.clone();
            // Set in the first poll; Release/Acquire, so that a thread that sees it set sees
            // the task running (or past it). It orders nothing the other way.
            let started = Arc::new(AtomicBool::new(false));
            let polling = started.clone();
            let mut polls = 0;
            // Pending once without keeping a waker; only the other thread's wake-up brings it
            // back, and the second poll reads what that thread wrote before it woke the task.
            let task = Task::spawn(
                std::future::poll_fn(move |_| {
                    polls += 1;
                    if polls == 1 {
                        polling.store(true, Ordering::Release);
                        return Poll::Pending;
                    }
                    assert!(
                        seen.read(),
                        "the poll a wake-up caused does not see what the waking thread wrote \
                         before it woke the task: the wake-up must carry it to the poll, from \
                         IDLE and from RUNNING alike"
                    );
                    Poll::Ready(())
                }),
                sched.clone(),
            );
            let waking = {
                let task = task.clone();
                thread::spawn(move || {
                    note.write();
                    // Only once the first poll has begun: a wake-up before it is one the
                    // coming poll answers, and this future does not look for it.
                    let woke = started.load(Ordering::Acquire);
                    if woke {
                        Task::wake_by_ref(&task);
                    }
                    woke
                })
            };
            // The first poll races the wake-up: it may find the task running or idle.
            sched.run_all();
            let woke = waking.join().unwrap();
            sched.run_all();
            if woke {
                assert!(task.is_complete(), "woken once, the task is polled twice");
            }
        });
    }

    #[test]
    fn a_thread_that_sees_a_task_complete_sees_its_future_dropped() {
        loom::model(|| {
            let sched = TestScheduler::new();
            let dropped = Note::new();
            let guard = WriteOnDrop(dropped.clone());
            let task = Task::spawn(
                std::future::poll_fn(move |_| {
                    let _kept = &guard;
                    Poll::Ready(())
                }),
                sched.clone(),
            );
            let worker = {
                let sched = sched.clone();
                thread::spawn(move || {
                    sched.run_all();
                })
            };
            if task.is_complete() {
                assert!(
                    dropped.read(),
                    "is_complete returned true before the future's drop happened-before it: a \
                     complete task's future must be dropped, and that drop visible, first"
                );
            }
            worker.join().unwrap();
            assert!(task.is_complete(), "the worker ran the task to completion");
        });
    }

    #[test]
    fn a_wake_racing_the_poll_is_never_lost() {
        loom::model(|| {
            let sched = TestScheduler::new();
            let gate = Arc::new(Gate(Mutex::new((false, None))));
            let task = Task::spawn(WaitFor(gate.clone()), sched.clone());
            let opener = thread::spawn(move || {
                let waiting = {
                    let mut state = gate.0.lock().unwrap();
                    state.0 = true;
                    state.1.take()
                };
                if let Some(waker) = waiting {
                    waker.wake();
                }
            });
            // The first poll races the opener's wake-up.
            sched.run_all();
            opener.join().unwrap();
            sched.run_all();
            assert!(
                task.is_complete(),
                "lost wake-up: the gate was opened and its waker woken, yet the task is neither \
                 complete nor queued"
            );
        });
    }

    #[test]
    fn a_thread_that_wakes_a_task_may_run_it_next() {
        loom::model(|| {
            let sched = TestScheduler::new();
            // Pending once without keeping a waker; only the other thread's wake-up brings it
            // back, and that thread runs it: the future passes between threads by the state.
            let task = Task::spawn(
                YieldTimes {
                    left: 1,
                    wake: |_: &Waker| {},
                },
                sched.clone(),
            );
            let worker = {
                let (sched, task) = (sched.clone(), task.clone());
                thread::spawn(move || {
                    Task::wake_by_ref(&task);
                    sched.run_all();
                })
            };
            sched.run_all();
            worker.join().unwrap();
            sched.run_all();
            drop(sched.drain());
        });
    }

    #[test]
    fn two_wakes_of_an_idle_task_queue_it_once() {
        loom::model(|| {
            let sched = TestScheduler::new();
            // Pending once, without keeping a waker: the task is then idle.
            let task = Task::spawn(
                YieldTimes {
                    left: 1,
                    wake: |_: &Waker| {},
                },
                sched.clone(),
            );
            sched.run_all();
            let other = task.clone();
            let waker = thread::spawn(move || Task::wake_by_ref(&other));
            Task::wake_by_ref(&task);
            waker.join().unwrap();
            let queued = sched.drain();
            assert_eq!(
                queued.len(),
                1,
                "two wake-ups of an idle task queued it {} times: both saw it idle",
                queued.len()
            );
            assert_eq!(
                sched.schedules(),
                2,
                "one schedule by spawn, one by the two wake-ups"
            );
            queued.into_iter().for_each(Task::run);
            assert!(task.is_complete(), "run once more, the task completes");
        });
    }
}
