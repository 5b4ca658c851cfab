//! # Timers
//!
//! A timer is a deadline and a waker. The runtime keeps all of them in one ordered map, keyed
//! by `(deadline, sequence number)`: the first entry is always the next one to fire, equal
//! deadlines fire in the order they were created, and removing one is a map removal. (async-io
//! does exactly this; tokio uses a hierarchical timing wheel, faster with very many timers.)
//!
//! Build:
//!
//! - [`TimerQueue`], the data structure: `insert`, `update` (a future polled again may carry a
//!   different waker), `remove`, `next_deadline`, and `expired(now)`, which removes every entry
//!   due at `now` and returns their wakers in firing order.
//! - [`TimerHandle`], a shared `TimerQueue`, and the thread-local *current* handle that
//!   [`sleep`] and [`timeout`] find it through, the way `tokio::time::sleep` finds its runtime.
//! - [`Sleep`]: ready once its deadline has passed; registers its waker on the first pending
//!   poll; **its `Drop` removes its entry**, so a cancelled sleep leaves nothing behind.
//! - [`Timeout`]: polls the inner future, then the sleep; a timeout is just a race.
//! - [`run_with_timers`]: the executor's run loop with timers plugged into its `drive`
//!   callback: when idle, park *until the next deadline* (`thread::park_timeout`), not forever
//!   and not in a busy loop (a test checks that the thread hardly asks for a CPU while it
//!   waits for a timer); then fire what is due. Firing happens after every batch too, so a
//!   busy executor still fires its timers.
//!
//! Wake the expired wakers after releasing the queue's lock: a waker may run arbitrary code,
//! including code that registers a new timer.
//!
//! After this stage you can explain how a runtime turns "wake me at 10:00:03" into a bounded
//! park, and why cancellation in async Rust is "drop the future".
//!
//! Read: async-io's `Timer` (<https://docs.rs/async-io/latest/async_io/struct.Timer.html>);
//! tokio's `time` module documentation; the Async Book, "Applied: Build a Timer".

use crate::s05_executor::Executor;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Identifies one entry of a [`TimerQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerKey {
    deadline: Instant,
    seq: u64,
}

/// Deadlines and their wakers, ordered by deadline, then by creation.
#[derive(Debug, Default)]
pub struct TimerQueue {
    entries: BTreeMap<TimerKey, Waker>,
    next_seq: u64,
}

impl TimerQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a timer that wakes `waker` at `deadline`.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        // TODO: a new timer firing at `deadline`, after every timer already there with the same
        //       deadline
        todo!()
    }

    /// Replaces the waker of a pending timer; `false` if it already fired or was removed.
    pub fn update(&mut self, key: TimerKey, waker: &Waker) -> bool {
        // TODO: replace the waker if the entry still exists
        todo!()
    }

    /// Removes a timer; `false` if it already fired or was removed.
    pub fn remove(&mut self, key: TimerKey) -> bool {
        // TODO: remove the entry
        todo!()
    }

    /// The earliest deadline, if any timer is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        // TODO: the earliest deadline, if any
        todo!()
    }

    /// Removes every timer due at `now` and returns their wakers, earliest first.
    pub fn expired(&mut self, now: Instant) -> Vec<Waker> {
        // TODO: remove the timers due at `now` and return their wakers, in firing order
        todo!()
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<TimerHandle>> = const { RefCell::new(None) };
}

/// A shared [`TimerQueue`]: what a runtime and its `Sleep` futures hold.
#[derive(Debug, Clone, Default)]
pub struct TimerHandle {
    queue: Arc<Mutex<TimerQueue>>,
}

/// Restores the previous current [`TimerHandle`] when dropped.
#[derive(Debug)]
#[must_use = "the handle is current only while the guard lives"]
pub struct EnterGuard {
    previous: Option<TimerHandle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = self.previous.take());
    }
}

impl TimerHandle {
    /// A handle to a new, empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes this the current handle of this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        EnterGuard { previous }
    }

    /// The current handle of this thread.
    ///
    /// # Panics
    /// Outside a runtime (no handle entered).
    pub fn current() -> TimerHandle {
        CURRENT.with(|c| c.borrow().clone()).expect(
            "no timer context: `sleep` and `timeout` must run inside `run_with_timers` or \
             `Runtime::block_on`",
        )
    }

    /// A future that is ready at `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep {
            handle: self.clone(),
            deadline,
            key: None,
        }
    }

    /// Wakes every timer due at `now`; returns how many fired.
    pub fn fire_expired(&self, now: Instant) -> usize {
        // TODO: wake the timers due at `now`, none of them while the queue is locked
        todo!()
    }

    /// The earliest pending deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.lock().unwrap().next_deadline()
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Ready once its deadline has passed. Dropping it cancels its timer.
#[derive(Debug)]
pub struct Sleep {
    handle: TimerHandle,
    deadline: Instant,
    /// Set while a timer entry is registered.
    key: Option<TimerKey>,
}

impl Sleep {
    /// When this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // TODO: past the deadline: remove the entry (if any) and return Ready; otherwise register
        //       the waker (insert the first time, update later) and return Pending
        todo!()
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // TODO: remove the timer entry, if one is registered
    }
}

/// A future that is ready after `duration`, on the current runtime's timers.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// A future that is ready at `deadline`, on the current runtime's timers.
pub fn sleep_until(deadline: Instant) -> Sleep {
    TimerHandle::current().sleep_until(deadline)
}

/// The error of a [`Timeout`] whose time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs a future with a deadline: `Err(Elapsed)` if it is not done in time (and then it is
/// dropped with the `Timeout`).
#[derive(Debug)]
pub struct Timeout<F> {
    /// Structurally pinned.
    fut: F,
    /// `Sleep` is `Unpin`.
    sleep: Sleep,
}

/// `fut`, cut off after `duration`.
pub fn timeout<F: Future>(duration: Duration, fut: F) -> Timeout<F> {
    Timeout {
        fut,
        sleep: sleep(duration),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // TODO: `fut`'s output if it is ready, even when the deadline has passed too; otherwise
        //       `Elapsed` once the sleep is over. `fut` never moves (SAFETY comment)
        todo!()
    }
}

/// Runs `fut` on `exec` with a timer queue: `sleep` and `timeout` work inside it. When idle,
/// the thread parks until the next deadline.
pub fn run_with_timers<F: Future>(exec: &Executor, fut: F) -> F::Output {
    // TODO: `fut`'s output, with a timer queue current while it runs; when nothing is
    //       runnable the thread sleeps until the next deadline or a wake, and the timers that
    //       are due fire every round
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::watchdog;
    use std::task::Wake;

    const LIMIT: Duration = Duration::from_secs(10);

    /// A waker that records its label in a shared log when woken.
    struct Recorder(&'static str, Arc<Mutex<Vec<&'static str>>>);

    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    fn recorder(label: &'static str, log: &Arc<Mutex<Vec<&'static str>>>) -> Waker {
        Waker::from(Arc::new(Recorder(label, log.clone())))
    }

    fn wake_all(wakers: Vec<Waker>) {
        wakers.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn timers_fire_in_deadline_order() {
        let log = Arc::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut q = TimerQueue::new();
        q.insert(t0 + ms(30), recorder("30", &log));
        q.insert(t0 + ms(10), recorder("10", &log));
        q.insert(t0 + ms(20), recorder("20", &log));
        assert_eq!(
            q.next_deadline(),
            Some(t0 + ms(10)),
            "the earliest deadline comes first"
        );
        wake_all(q.expired(t0 + ms(25)));
        assert_eq!(
            *log.lock().unwrap(),
            ["10", "20"],
            "only due timers fire, earliest first"
        );
        assert_eq!(q.next_deadline(), Some(t0 + ms(30)));
        assert_eq!(q.len(), 1);
        assert!(!q.is_empty(), "a queue holding a timer is not empty");
        wake_all(q.expired(t0 + ms(30)));
        assert_eq!(
            *log.lock().unwrap(),
            ["10", "20", "30"],
            "a deadline equal to now is due"
        );
        assert!(q.is_empty() && q.next_deadline().is_none());
    }

    #[test]
    fn equal_deadlines_fire_in_creation_order() {
        let log = Arc::default();
        let at = Instant::now();
        let mut q = TimerQueue::new();
        for label in ["a", "b", "c", "d"] {
            q.insert(at, recorder(label, &log));
        }
        wake_all(q.expired(at));
        assert_eq!(
            *log.lock().unwrap(),
            ["a", "b", "c", "d"],
            "ties break by creation order"
        );
    }

    #[test]
    fn removed_and_updated_timers() {
        let log = Arc::default();
        let at = Instant::now();
        let mut q = TimerQueue::new();
        let a = q.insert(at, recorder("a", &log));
        let b = q.insert(at, recorder("b", &log));
        assert!(q.remove(a), "a pending timer can be removed");
        assert!(!q.remove(a), "removing twice reports false");
        assert!(
            q.update(b, &recorder("b2", &log)),
            "a pending timer can get a new waker"
        );
        wake_all(q.expired(at));
        assert_eq!(
            *log.lock().unwrap(),
            ["b2"],
            "removed timers never fire; updates count"
        );
        assert!(
            !q.update(b, &recorder("late", &log)),
            "a fired timer cannot be updated"
        );
    }

    #[test]
    fn a_dropped_sleep_removes_its_entry() {
        let timers = TimerHandle::new();
        let mut sleep = timers.sleep_until(Instant::now() + Duration::from_secs(3600));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut sleep).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut sleep).poll(&mut cx).is_pending());
        assert_eq!(
            timers.len(),
            1,
            "a pending sleep registers one entry, however often polled"
        );
        assert!(!timers.is_empty(), "a handle with a timer is not empty");
        drop(sleep);
        assert_eq!(
            timers.len(),
            0,
            "dropping a sleep must remove its timer entry"
        );
        assert!(timers.is_empty());
    }

    #[test]
    fn a_sleep_polled_with_a_new_waker_wakes_the_new_one() {
        let log = Arc::default();
        let timers = TimerHandle::new();
        let deadline = Instant::now() + Duration::from_secs(3600);
        let mut sleep = timers.sleep_until(deadline);
        for label in ["first", "latest"] {
            let waker = recorder(label, &log);
            assert!(
                Pin::new(&mut sleep)
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
        }
        timers.fire_expired(deadline);
        assert_eq!(
            *log.lock().unwrap(),
            ["latest"],
            "a sleep must wake the waker of its latest poll: a future may move to another task \
             between polls, so update the registered waker on every pending poll"
        );
    }

    /// When woken, registers a new timer on the same queue, as a task woken by a timer does
    /// when it goes on to sleep again.
    struct Rearm(TimerHandle, Mutex<Option<Sleep>>);

    impl Wake for Rearm {
        fn wake(self: Arc<Self>) {
            let mut sleep = self
                .0
                .sleep_until(Instant::now() + Duration::from_secs(3600));
            let registered = Pin::new(&mut sleep).poll(&mut Context::from_waker(Waker::noop()));
            assert!(registered.is_pending());
            *self.1.lock().unwrap() = Some(sleep);
        }
    }

    #[test]
    fn a_waker_that_registers_a_timer_when_it_fires_does_not_deadlock() {
        let pending = watchdog(LIMIT, || {
            let timers = TimerHandle::new();
            let now = Instant::now();
            let rearm = Arc::new(Rearm(timers.clone(), Mutex::new(None)));
            timers
                .queue
                .lock()
                .unwrap()
                .insert(now, Waker::from(rearm.clone()));
            // With the queue's lock still held while waking, the new registration waits for
            // that lock forever.
            timers.fire_expired(now);
            timers.len()
        });
        assert_eq!(pending, 1, "the timer registered by the waker is pending");
    }

    #[test]
    fn an_expired_sleep_is_ready_without_registering() {
        let timers = TimerHandle::new();
        let mut sleep = timers.sleep_until(Instant::now());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut sleep).poll(&mut cx).is_ready());
        assert!(timers.is_empty());
    }

    #[test]
    fn sleep_waits_at_least_its_duration() {
        let elapsed = watchdog(LIMIT, || {
            let exec = Executor::new();
            run_with_timers(&exec, async {
                let start = Instant::now();
                sleep(Duration::from_millis(30)).await;
                start.elapsed()
            })
        });
        assert!(
            elapsed >= Duration::from_millis(30),
            "slept only {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "slept far too long: {elapsed:?}"
        );
    }

    #[test]
    fn sleeping_tasks_wake_in_deadline_order() {
        let order = watchdog(LIMIT, || {
            let exec = Executor::new();
            let order = Arc::new(Mutex::new(Vec::new()));
            run_with_timers(&exec, async {
                let mut handles = Vec::new();
                // Every task registers its timer before the first deadline, even under Miri.
                let start =
                    Instant::now() + Duration::from_millis(if cfg!(miri) { 1000 } else { 20 });
                for ms in [30, 10, 20] {
                    let order = order.clone();
                    handles.push(exec.spawn_with_handle(async move {
                        sleep_until(start + Duration::from_millis(ms)).await;
                        order.lock().unwrap().push(ms);
                    }));
                }
                for handle in handles {
                    handle.await.unwrap();
                }
            });
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        });
        assert_eq!(order, [10, 20, 30]);
    }

    #[test]
    fn timeout_cuts_off_a_slow_future_and_cleans_up() {
        let (result, pending_timers) = watchdog(LIMIT, || {
            let exec = Executor::new();
            run_with_timers(&exec, async {
                let result = timeout(Duration::from_millis(10), sleep(Duration::from_secs(3600)));
                let result = result.await;
                (result, TimerHandle::current().len())
            })
        });
        assert_eq!(result, Err(Elapsed));
        assert_eq!(Elapsed.to_string(), "deadline has elapsed");
        assert_eq!(
            pending_timers, 0,
            "the inner sleep was dropped with the timeout"
        );
    }

    #[test]
    fn timeout_passes_through_a_fast_future() {
        let result = watchdog(LIMIT, || {
            let exec = Executor::new();
            run_with_timers(&exec, async {
                timeout(Duration::from_secs(3600), async { 5 }).await
            })
        });
        assert_eq!(result, Ok(5));
    }

    #[test]
    fn timeout_lets_a_ready_future_win_over_a_passed_deadline() {
        let result = watchdog(LIMIT, || {
            let exec = Executor::new();
            run_with_timers(&exec, async { timeout(Duration::ZERO, async { 5 }).await })
        });
        assert_eq!(
            result,
            Ok(5),
            "a future that is ready at its first poll is not cut off, even by a deadline that \
             has already passed: poll the inner future before the sleep"
        );
    }

    #[test]
    fn timers_fire_while_tasks_keep_the_executor_busy() {
        watchdog(LIMIT, || {
            let exec = Executor::new();
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let s = stop.clone();
            // A task that never lets the run queue go empty.
            exec.spawn(async move {
                while !s.load(std::sync::atomic::Ordering::SeqCst) {
                    crate::s01_futures::YieldNow::new().await;
                }
            });
            run_with_timers(&exec, async {
                sleep(Duration::from_millis(5)).await;
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        });
    }

    /// How long this thread has wanted a CPU so far: the time it ran plus the time it waited
    /// in a run queue, from Linux's `/proc/thread-self/schedstat` (in nanoseconds). A thread
    /// that spins wants a CPU all the time, even on a busy machine that gives it little; a
    /// parked thread wants none. Where the kernel has no schedstat, this falls back to the CPU
    /// time in `/proc/thread-self/stat` (user plus system, fields 14 and 15, in 10 ms ticks).
    #[cfg(target_os = "linux")]
    fn thread_busy_time() -> Duration {
        if let Ok(schedstat) = std::fs::read_to_string("/proc/thread-self/schedstat") {
            let mut ns = schedstat
                .split_whitespace()
                .map(|f| f.parse::<u64>().unwrap());
            return Duration::from_nanos(ns.next().unwrap() + ns.next().unwrap());
        }
        let stat = std::fs::read_to_string("/proc/thread-self/stat")
            .expect("/proc/thread-self/stat is readable");
        // The command name, field 2, is in parentheses and may hold spaces: skip past it.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .collect();
        let ticks = |field: usize| fields[field - 3].parse::<u64>().unwrap();
        Duration::from_millis((ticks(14) + ticks(15)) * 10)
    }

    #[test]
    #[cfg(target_os = "linux")]
    #[cfg_attr(miri, ignore)] // reads /proc, which Miri's isolation forbids
    fn waiting_for_a_timer_parks_instead_of_spinning() {
        let (wall, busy) = watchdog(LIMIT, || {
            let exec = Executor::new();
            let busy_before = thread_busy_time();
            let start = Instant::now();
            run_with_timers(&exec, async { sleep(Duration::from_millis(300)).await });
            (start.elapsed(), thread_busy_time() - busy_before)
        });
        assert!(wall >= Duration::from_millis(300), "slept only {wall:?}");
        // A parked thread wants the CPU for a moment when it wakes; one that polls in a loop
        // until the deadline wants it for the whole wait, however busy the machine is (waiting in
        // a run queue counts). The bound is loose on purpose: a loaded machine delays the wake-up.
        assert!(
            busy < wall / 2,
            "the executor's thread wanted the CPU for {busy:?} of a {wall:?} wait for one \
             timer: when idle, park until the next deadline (thread::park_timeout), don't spin"
        );
    }

    #[test]
    fn enter_nests_and_each_guard_restores_the_previous_handle() {
        let (outer, inner) = (TimerHandle::new(), TimerHandle::new());
        let current_is = |h: &TimerHandle| Arc::ptr_eq(&TimerHandle::current().queue, &h.queue);
        {
            let _outer = outer.enter();
            assert!(current_is(&outer), "enter makes the handle current");
            {
                let _inner = inner.enter();
                assert!(current_is(&inner), "the latest enter wins");
            }
            assert!(
                current_is(&outer),
                "dropping the inner guard must make the outer handle current again"
            );
        }
        assert!(
            CURRENT.with(|c| c.borrow().is_none()),
            "dropping the last guard must leave no handle current"
        );
    }

    #[test]
    #[should_panic(expected = "no timer context")]
    fn sleep_outside_a_runtime_panics_with_a_clear_message() {
        drop(sleep(Duration::from_millis(1)));
    }
}
