//! # Measuring contention
//!
//! Before replacing a lock, measure what it costs. Build [`ProfiledMutex<T>`], a `Mutex` that
//! counts its acquisitions, how many of them found the lock taken (*contended*), how long
//! threads waited to get it and how long they held it, and use it in
//! [`profile_baseline`]: the baseline's `Mutex<VecDeque>` with P producers and one consumer.
//!
//! - `lock` first tries `try_lock`. Success is an uncontended acquisition. `WouldBlock` means
//!   another thread holds the lock: count a contended acquisition, then time the blocking
//!   `lock()`; that time is *waiting*.
//! - The guard ([`ProfiledGuard`]) remembers when it was acquired and, on drop, adds the time
//!   the lock was *held*. It derefs to the data like a `MutexGuard`.
//! - The counters are atomics updated with `Relaxed`: they are statistics, read after the
//!   threads are joined (the join orders them), and no other data depends on them.
//!
//! Where the time goes (to see a profile, run `cargo test -p mpsc --lib -- s02_contention::
//! --nocapture` from the course's root, or `mastery bench mpsc`, which prints it for 1, 2 and
//! 4 producers). On the reference machine (2 cores, millions of messages) the lock is held
//! for 30 to 50 ns per acquisition, and throughput does not grow with the number of
//! producers: the lock serialises every push and pop, so more producers only add hand-overs
//! of the lock's cache line between cores.
//! Contended acquisitions are a small fraction (from a few dozen to half a percent of all
//! acquisitions, depending on how the threads happen to be scheduled) but each one is
//! expensive: the blocked thread spins briefly, is put to sleep and is woken by a system call,
//! and waits microseconds with one or two producers and milliseconds with four (more threads
//! than cores: the holder may be descheduled while it holds the lock). Holding the lock is
//! cheap; waiting for it is not, and that cost grows with the number of threads. The producers
//! of the lock-free queue (stage 6) never sleep waiting for each other: a push claims its slot
//! with a compare-and-swap, and a producer that loses the race retries after a few
//! spin-loop hints instead of being put to sleep.
//!
//! Afterwards you can instrument a lock, read a contention profile, and say whether a lock is
//! a bottleneck because of its hold time or because of hand-overs.
//!
//! Read: *Rust Atomics and Locks*, chapter 4 (building a spin lock) and chapter 9 (building
//! locks: how a contended `Mutex` sleeps and is woken): <https://marabos.nl/atomics/>.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::thread;
use std::time::{Duration, Instant};

/// What a [`ProfiledMutex`] has counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockStats {
    /// Every successful `lock`.
    pub acquisitions: u64,
    /// Acquisitions that found the lock held by another thread.
    pub contended: u64,
    /// Total time spent blocked in contended acquisitions.
    pub waited: Duration,
    /// Total time between acquisition and release, over all acquisitions.
    pub held: Duration,
}

/// A mutex that profiles its own use.
#[derive(Debug, Default)]
pub struct ProfiledMutex<T> {
    inner: Mutex<T>,
    acquisitions: AtomicU64,
    contended: AtomicU64,
    waited_ns: AtomicU64,
    held_ns: AtomicU64,
}

/// The guard of a [`ProfiledMutex`]: the data, plus when it was locked.
pub struct ProfiledGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    mutex: &'a ProfiledMutex<T>,
    since: Instant,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl<T> ProfiledMutex<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self {
            inner: Mutex::new(value),
            acquisitions: AtomicU64::new(0),
            contended: AtomicU64::new(0),
            waited_ns: AtomicU64::new(0),
            held_ns: AtomicU64::new(0),
        }
    }

    /// Locks, counting the acquisition and, if the lock was taken, the contention and the
    /// time spent waiting. A poisoned lock is taken over (the statistics stay valid).
    pub fn lock(&self) -> ProfiledGuard<'_, T> {
        // TODO: `try_lock`; on `WouldBlock`, count a contended acquisition and time the
        // blocking `lock()`. Count the acquisition; remember when the guard was made.
        todo!()
    }

    /// The counts so far. Exact once the threads using the lock are joined.
    pub fn stats(&self) -> LockStats {
        // TODO: read the four counters.
        todo!()
    }
}

impl<T> Deref for ProfiledGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for ProfiledGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for ProfiledGuard<'_, T> {
    fn drop(&mut self) {
        // TODO: add the time since the guard was made to the held time.
    }
}

/// The result of [`profile_baseline`].
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Wall time from the first spawn until the consumer had every message.
    pub elapsed: Duration,
    /// How many messages the consumer received.
    pub received: u64,
    /// The queue lock's statistics.
    pub lock: LockStats,
}

/// Runs the baseline's workload: `producers` threads push `per_producer` messages each into
/// a `ProfiledMutex<VecDeque<u64>>`; the calling thread pops them all (yielding while the
/// queue is empty). Returns the time and the lock's profile.
pub fn profile_baseline(producers: u64, per_producer: u64) -> Profile {
    // TODO: a `ProfiledMutex<VecDeque<u64>>`; scoped producer threads push; this thread
    // pops until it has them all (yielding when empty); report the time and the stats.
    todo!()
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use std::sync::Barrier;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a thread never got the lock", f)
    }

    #[test]
    fn the_guard_gives_access_to_the_data() {
        let m = ProfiledMutex::new(vec![1]);
        m.lock().push(2);
        assert_eq!(
            *m.lock(),
            vec![1, 2],
            "changes through the guard must persist"
        );
    }

    #[test]
    fn uncontended_locks_are_counted_without_contention() {
        let m = ProfiledMutex::new(0u32);
        for _ in 0..10 {
            *m.lock() += 1;
        }
        let stats = m.stats();
        assert_eq!(stats.acquisitions, 10, "every lock() is an acquisition");
        assert_eq!(
            stats.contended, 0,
            "one thread alone never finds the lock taken"
        );
        assert_eq!(stats.waited, Duration::ZERO, "no contention, no waiting");
    }

    #[test]
    fn hold_time_covers_the_time_inside_the_lock() {
        let m = ProfiledMutex::new(());
        {
            let _guard = m.lock();
            thread::sleep(Duration::from_millis(30));
        }
        let held = m.stats().held;
        assert!(
            held >= Duration::from_millis(30),
            "the lock was held for 30 ms, but {held:?} was recorded"
        );
    }

    #[test]
    fn a_blocked_thread_counts_as_contended_and_its_wait_is_measured() {
        within(5, || {
            let m = ProfiledMutex::new(0u32);
            let locked = Barrier::new(2);
            let start = Instant::now();
            thread::scope(|s| {
                s.spawn(|| {
                    let mut guard = m.lock();
                    locked.wait();
                    thread::sleep(Duration::from_millis(60));
                    *guard += 1;
                });
                locked.wait(); // the other thread holds the lock now
                *m.lock() += 1;
            });
            let elapsed = start.elapsed();
            let stats = m.stats();
            assert_eq!(*m.lock(), 2);
            assert_eq!(
                stats.acquisitions, 2,
                "both lock() calls are acquisitions, the contended one included"
            );
            assert_eq!(
                stats.contended, 1,
                "the second thread found the lock taken: one contended acquisition"
            );
            assert!(
                stats.waited >= Duration::from_millis(30),
                "it waited most of the 60 ms the lock was held, but {:?} was recorded",
                stats.waited
            );
            assert!(stats.held >= Duration::from_millis(60));
            assert!(
                stats.held <= elapsed,
                "a mutex is held by one thread at a time, so the time held ({:?}) cannot exceed \
                 the {elapsed:?} the two threads ran: start the hold clock once the lock is \
                 acquired, not before waiting for it",
                stats.held
            );
        });
    }

    #[test]
    fn the_baseline_with_one_producer_returns_once_every_message_arrived() {
        let per = if cfg!(miri) { 50 } else { 1_000 };
        let profile = crate::test_support::within(
            10,
            "profile_baseline(1, n) never returned: the consumer kept waiting for more than \
             the producers * per_producer messages sent",
            move || profile_baseline(1, per),
        );
        assert_eq!(
            profile.received, per,
            "one producer sent {per} messages: exactly that many must arrive"
        );
    }

    #[test]
    fn the_baseline_profile_accounts_for_every_message() {
        let per = if cfg!(miri) { 50 } else { 20_000 };
        let profile = within(10, move || profile_baseline(2, per));
        println!("2 producers: {profile:?}");
        assert_eq!(profile.received, 2 * per, "every message must arrive");
        assert!(
            profile.lock.acquisitions >= 2 * per,
            "each push takes the lock once: at least {} acquisitions, got {}",
            2 * per,
            profile.lock.acquisitions
        );
        assert!(profile.lock.contended <= profile.lock.acquisitions);
        assert!(
            profile.lock.held <= profile.elapsed * 3,
            "three threads hold it at most"
        );
    }
}
