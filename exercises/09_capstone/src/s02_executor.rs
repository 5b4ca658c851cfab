//! # A multi-threaded executor: inboxes, parking, shutdown
//!
//! Run last stage's tasks on `N` worker threads. Each worker owns an inbox, one of your
//! `MpscQueue`s: any thread pushes (that is what a wake-up does), and only its worker pops, so
//! the queue's one-consumer contract holds by construction. A woken task goes to the next
//! worker in turn (round robin). An idle worker parks; the thread that pushes to its inbox
//! unparks it. Work stealing, which lets an idle worker take tasks from a busy one, is the next
//! step real executors take; this one keeps to inboxes.
//!
//! ```text
//!   a wake-up (any thread)                      worker i (its inbox's only consumer)
//!   Handle::schedule(task)                      loop:
//!     no executor any more? drop the task         shutting down?          -> return
//!     i = next worker, in turn                    pop inbox i             -> run it, loop
//!     inbox[i].push(task)                         announce sleeping[i]
//!     sleeping[i] announced? take it back, <-?->  inbox empty, not shutting down?
//!       unpark worker i                             park; take the announcement back
//! ```
//!
//! The arrow is the store-buffer pattern of `mpsc`'s blocking channel: each side writes its
//! part, then reads the other's, and if both reads miss, a worker sleeps on a queued task (a
//! lost wake-up) or through a shutdown (its `join` hangs). Shutdown is the third party:
//! dropping the [`Executor`] (or [`Executor::shutdown`]) sets the flag, unparks every worker that
//! announced sleep, and joins them. A worker finishes the poll it is in and runs nothing more;
//! tasks still queued are dropped unpolled with the executor.
//!
//! Who owns whom. Tasks hold their scheduler, and the scheduler's inboxes hold tasks: with a
//! strong pointer both ways nothing would ever be freed. So the executor and its workers hold
//! the shared state with `MyArc`, and every task, waker and [`Handle`] with a `MyWeak`: a
//! wake-up after the executor is gone fails to upgrade and drops its task, and the last
//! `MyArc` frees the inboxes, and every task still in them (Miri's leak check runs on every
//! test).
//!
//! Afterwards you will be able to build a work-distributing executor from a task type, a queue
//! and park/unpark, break the ownership cycle between tasks and their scheduler with weak
//! pointers, and shut worker threads down without losing one.
//!
//! Read: Carl Lerche, "Making the Tokio scheduler 10x faster" (run queues, parking, the
//! "searching" state): <https://tokio.rs/blog/2019-10-scheduler>; *Rust Atomics and Locks*,
//! chapter 1, "Thread Parking"; the `std::thread::park` documentation (spurious wake-ups).
//!
//! A task's future must be `Send`: it may run on any worker.
//!
//! ```compile_fail,E0277
//! let executor = capstone::s02_executor::Executor::new(2);
//! let rc = std::rc::Rc::new(1);
//! executor.spawn(std::future::poll_fn(move |_| std::task::Poll::Ready(drop(rc.clone()))));
//! // error[E0277]: `Rc<i32>` cannot be sent between threads safely
//! ```

use std::future::Future;

use mpsc::s06_queue::MpscQueue;
use smart_pointers::s06_arc_weak::{MyArc, MyWeak};

use crate::s01_waker::{Schedule, Task};
use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering, fence, thread};

/// A task of this executor.
pub type ExecutorTask = MyArc<Task<Handle>>;

/// One worker's inbox and what it takes to wake it.
struct Worker {
    /// Pushed by any thread; popped by this worker's thread alone.
    inbox: MpscQueue<ExecutorTask>,
    /// Set by the worker before it parks, taken back by whoever unparks it.
    sleeping: AtomicBool,
    /// The worker's thread, to unpark; the worker stores it before it first announces sleep.
    thread: Mutex<Option<thread::Thread>>,
}

/// What the executor, its workers and its handles share.
struct Shared {
    workers: Box<[Worker]>,
    /// How many tasks were handed out so far: the next goes to `next % workers.len()`.
    next: AtomicUsize,
    shutting_down: AtomicBool,
}

/// A handle to an executor: the scheduler of its tasks, and a way to spawn from anywhere. It
/// does not keep the executor alive.
#[derive(Clone)]
pub struct Handle(MyWeak<Shared>);

/// `N` worker threads running tasks. Dropping it shuts it down.
pub struct Executor {
    shared: MyArc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Worker {
    fn new() -> Self {
        Worker {
            inbox: MpscQueue::new(),
            sleeping: AtomicBool::new(false),
            thread: Mutex::new(None),
        }
    }

    /// Unparks the worker if it announced sleep (and takes the announcement back).
    fn wake(&self) {
        // TODO: only one thread may take the announcement and unpark.
        todo!()
    }
}

impl Shared {
    /// Hands `task` to the next worker, and wakes that worker if it sleeps.
    fn push(&self, task: ExecutorTask) {
        // TODO: your half of the store-buffer pattern in the header's picture.
        todo!()
    }

    /// Worker `index`'s loop, until shutdown.
    fn work(&self, index: usize) {
        // TODO: the worker's column of the header's picture. Only this thread pops inbox
        //       `index`.
        todo!()
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: MyArc<Task<Self>>) {
        // TODO: hand the task to the executor, if there still is one.
        todo!()
    }
}

impl Handle {
    /// Spawns `future` on the executor; `None` once it has begun to shut down.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) -> Option<ExecutorTask> {
        // TODO
        todo!()
    }
}

impl Executor {
    /// Starts `workers` worker threads.
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    pub fn new(workers: usize) -> Self {
        // TODO: the shared state, then one thread per worker running its loop.
        todo!()
    }

    /// Spawns `future` on one of the workers.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) -> ExecutorTask {
        // TODO
        todo!()
    }

    /// A handle that spawns onto this executor and does not keep it alive.
    pub fn handle(&self) -> Handle {
        // TODO
        todo!()
    }

    /// How many workers have announced sleep (a snapshot, for diagnostics).
    pub fn idle_workers(&self) -> usize {
        // TODO
        todo!()
    }

    /// Stops the workers after the polls they are in, and drops every task still queued.
    ///
    /// # Panics
    ///
    /// If a worker panicked (a task's poll did).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // TODO: shut down as the header says: no worker may sleep through it. Panic if a
        //       worker panicked (unless this thread is already panicking).
        todo!()
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::Executor;
    use crate::s01_waker::Task;
    use crate::test_support::{Counted, within};
    use std::collections::HashSet;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex, mpsc};
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    /// A flag and the waker of the task waiting for it, behind one lock.
    #[derive(Default)]
    struct Gate(Mutex<(bool, Option<Waker>)>);

    impl Gate {
        fn open(&self) {
            let waiting = {
                let mut state = self.0.lock().unwrap();
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
            let mut state = (self.0).0.lock().unwrap();
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// Waits (a few milliseconds at a time) until `cond` holds.
    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        for _ in 0..if cfg!(miri) { 2_000 } else { 10_000 } {
            if cond() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("{what}");
    }

    #[test]
    fn a_spawned_task_runs_on_a_worker_thread() {
        within(
            10,
            "the spawned task never ran: was its worker woken?",
            || {
                let executor = Executor::new(2);
                let (tx, rx) = mpsc::channel();
                executor.spawn(async move { tx.send(std::thread::current().id()).unwrap() });
                let ran_on = rx
                    .recv()
                    .expect("the task must run and send its thread's id");
                assert_ne!(
                    ran_on,
                    std::thread::current().id(),
                    "tasks run on the workers"
                );
            },
        );
    }

    #[test]
    fn many_tasks_on_n_workers_all_complete_on_every_worker() {
        let (tasks, yields) = if cfg!(miri) { (8, 2) } else { (400, 10) };
        within(
            30,
            "not every task completed: a wake-up was lost",
            move || {
                let executor = Executor::new(4);
                let threads = Arc::new(Mutex::new(HashSet::new()));
                let done = Arc::new(AtomicUsize::new(0));
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        let (threads, done) = (threads.clone(), done.clone());
                        let mut left = yields;
                        executor.spawn(std::future::poll_fn(move |cx| {
                            threads.lock().unwrap().insert(std::thread::current().id());
                            if left == 0 {
                                done.fetch_add(1, SeqCst);
                                return Poll::Ready(());
                            }
                            left -= 1;
                            cx.waker().wake_by_ref();
                            Poll::Pending
                        }))
                    })
                    .collect();
                wait_until("not every task completed: a wake-up was lost", || {
                    handles.iter().all(|t| t.is_complete())
                });
                assert_eq!(done.load(SeqCst), tasks, "every task runs to its end once");
                assert_eq!(
                    threads.lock().unwrap().len(),
                    4,
                    "the tasks must be spread over all 4 workers (a woken task goes to the next \
                 worker in turn)"
                );
            },
        );
    }

    #[test]
    fn idle_workers_park_and_a_wake_from_outside_reaches_them() {
        within(
            20,
            "a parked worker was never woken: a lost wake-up",
            || {
                let executor = Executor::new(3);
                wait_until("idle workers must announce sleep and park", || {
                    executor.idle_workers() == 3
                });
                let gates: Vec<Arc<Gate>> = (0..6).map(|_| Arc::new(Gate::default())).collect();
                let tasks: Vec<_> = gates
                    .iter()
                    .map(|g| executor.spawn(WaitFor(g.clone())))
                    .collect();
                wait_until("every worker parks again once its tasks wait", || {
                    executor.idle_workers() == 3
                });
                assert!(
                    tasks.iter().all(|t| !t.is_complete()),
                    "the gates are still closed"
                );
                for gate in &gates {
                    gate.open();
                }
                wait_until("tasks woken from the test thread never completed", || {
                    tasks.iter().all(|t| t.is_complete())
                });
            },
        );
    }

    #[test]
    fn shutdown_wakes_every_parked_worker_and_joins_it() {
        within(
            10,
            "shutdown never returned: a parked worker slept through it",
            || {
                let executor = Executor::new(3);
                wait_until("idle workers must announce sleep and park", || {
                    executor.idle_workers() == 3
                });
                executor.shutdown();
            },
        );
    }

    #[test]
    fn a_task_is_never_polled_on_two_workers_at_once() {
        let yields = if cfg!(miri) { 5 } else { 300 };
        within(
            30,
            "the tasks never completed: a wake-up was lost",
            move || {
                let executor = Executor::new(3);
                let tasks: Arc<Vec<_>> = Arc::new(
                    (0..3)
                        .map(|_| {
                            let polling = AtomicBool::new(false);
                            let mut left = yields;
                            executor.spawn(std::future::poll_fn(move |cx| {
                                assert!(
                                    !polling.swap(true, SeqCst),
                                    "one task was polled on two workers at once"
                                );
                                std::thread::yield_now();
                                polling.store(false, SeqCst);
                                if left == 0 {
                                    return Poll::Ready(());
                                }
                                left -= 1;
                                cx.waker().wake_by_ref();
                                Poll::Pending
                            }))
                        })
                        .collect(),
                );
                // Wake every task all along from outside too, whatever its state.
                let stop = Arc::new(AtomicBool::new(false));
                let waker = {
                    let (tasks, stop) = (tasks.clone(), stop.clone());
                    std::thread::spawn(move || {
                        while !stop.load(SeqCst) {
                            tasks.iter().for_each(Task::wake_by_ref);
                            std::thread::yield_now();
                        }
                    })
                };
                wait_until("the tasks never completed: a wake-up was lost", || {
                    tasks.iter().all(|t| t.is_complete())
                });
                stop.store(true, SeqCst);
                waker.join().unwrap();
            },
        );
    }

    #[test]
    fn tasks_spawn_tasks_through_a_handle() {
        within(10, "the children never completed", || {
            let executor = Executor::new(2);
            let handle = executor.handle();
            let (tx, rx) = mpsc::channel();
            executor.spawn(async move {
                for i in 0..5 {
                    let tx = tx.clone();
                    let child = handle.spawn(async move { tx.send(i).unwrap() });
                    assert!(child.is_some(), "a running executor accepts new tasks");
                }
            });
            let mut got: Vec<i32> = rx.iter().take(5).collect();
            got.sort();
            assert_eq!(got, [0, 1, 2, 3, 4], "every child task runs once");
        });
    }

    #[test]
    fn shutdown_finishes_the_poll_in_progress_and_drops_queued_tasks_unpolled() {
        within(
            10,
            "shutdown never returned: a worker slept through it",
            || {
                let executor = Executor::new(1);
                let (entered_tx, entered) = mpsc::channel();
                let (release, release_rx) = mpsc::channel::<()>();
                // Holds the only worker inside its poll until we let it go.
                let busy = executor.spawn(async move {
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                });
                entered.recv().unwrap();
                let drops = Arc::new(AtomicUsize::new(0));
                let polls = Arc::new(AtomicUsize::new(0));
                let queued: Vec<_> = (0..3)
                    .map(|_| {
                        let (guard, polls) = (Counted(drops.clone()), polls.clone());
                        executor.spawn(std::future::poll_fn(move |_| {
                            let _kept = &guard;
                            polls.fetch_add(1, SeqCst);
                            Poll::Ready(())
                        }))
                    })
                    .collect();
                let handle = executor.handle();
                let stopping = std::thread::spawn(move || executor.shutdown());
                // Once shutdown has begun, the handle refuses new tasks (each accepted before is
                // one more queued task, never polled either).
                wait_until("shutdown must begin while the worker is busy", || {
                    handle.spawn(async {}).is_none()
                });
                // The worker is still inside the poll we hold: shutdown cannot be over.
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    !stopping.is_finished(),
                    "shutdown returned while its worker was still inside a poll: it must wait \
                     for (join) every worker thread before it returns"
                );
                release.send(()).unwrap();
                stopping.join().expect("shutdown must not panic");
                assert!(
                    busy.is_complete(),
                    "the poll in progress at shutdown runs to its end"
                );
                assert_eq!(
                    polls.load(SeqCst),
                    0,
                    "after shutdown begins, no queued task is polled"
                );
                drop(queued);
                assert_eq!(
                    drops.load(SeqCst),
                    3,
                    "the tasks still queued at shutdown are dropped with the executor"
                );
                assert!(
                    handle.spawn(async {}).is_none(),
                    "a handle cannot spawn onto an executor that has shut down"
                );
                drop(handle);
            },
        );
    }

    #[test]
    fn shutdown_reports_a_worker_whose_task_panicked() {
        within(
            10,
            "shutdown never returned: a worker slept through it",
            || {
                let executor = Executor::new(2);
                let (tx, rx) = mpsc::channel::<()>();
                executor.spawn(async move {
                    let _sender = tx;
                    panic!("this task's poll panics, on purpose");
                });
                // The sender goes with the panicking task: its worker has died by then.
                assert!(rx.recv().is_err(), "the task never sends: it panics");
                let stopped =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor.shutdown()));
                assert!(
                    stopped.is_err(),
                    "a worker thread died of a task's panic: shutdown (and the executor's drop) \
                     must report it by panicking, not return as if every worker had ended well"
                );
            },
        );
    }

    #[test]
    fn a_wake_after_shutdown_drops_its_task() {
        within(
            10,
            "shutdown never returned: a worker slept through it",
            || {
                let executor = Executor::new(2);
                let gate = Arc::new(Gate::default());
                let drops = Arc::new(AtomicUsize::new(0));
                let guard = Counted(drops.clone());
                let wait = WaitFor(gate.clone());
                let task = executor.spawn(async move {
                    let _kept = &guard;
                    wait.await;
                });
                wait_until("the task must be polled once and wait", || {
                    gate.0.lock().unwrap().1.is_some()
                });
                executor.shutdown();
                drop(task);
                assert_eq!(
                    drops.load(SeqCst),
                    0,
                    "the gate's waker still holds the task"
                );
                gate.open();
                assert_eq!(
                    drops.load(SeqCst),
                    1,
                    "a wake-up after shutdown cannot queue its task: the task is dropped"
                );
            },
        );
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_models {
    use super::Executor;
    use crate::sync::{Arc, Condvar, Mutex};

    #[test]
    fn a_task_pushed_as_its_worker_goes_to_sleep_is_run() {
        loom::model(|| {
            let executor = Executor::new(1);
            let done = Arc::new((Mutex::new(false), Condvar::new()));
            let signal = done.clone();
            executor.spawn(async move {
                let (flag, ready) = &*signal;
                *flag.lock().unwrap() = true;
                ready.notify_one();
            });
            let (flag, ready) = &*done;
            let mut ran = flag.lock().unwrap();
            while !*ran {
                ran = ready.wait(ran).unwrap();
            }
            drop(ran);
            drop(executor);
        });
    }

    #[test]
    fn shutdown_as_a_worker_goes_to_sleep_is_not_lost() {
        loom::model(|| {
            drop(Executor::new(1));
        });
    }
}
