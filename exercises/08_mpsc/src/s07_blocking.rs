//! # A blocking channel on the lock-free queue
//!
//! Wrap the previous stage's [`MpscQueue`] in a channel ([`channel`]) with stage 1's API and a
//! [`Receiver::recv`] that sleeps while the channel is empty. The [`Receiver`] is `Send` but
//! not `Sync`: the queue's "one consumer at a time" contract becomes a type fact, and its
//! `unsafe` pops are sound behind it.
//!
//! - **Spin, yield, park.** `recv` retries `try_recv` `SPINS` times with a spin-loop hint, then
//!   `YIELDS` times with `thread::yield_now` (on a busy machine the sender it waits for may
//!   need its core), and only then parks the thread: a park and the unpark that ends it cost a
//!   system call each, and a receiver that parks whenever the queue runs dry pays them for
//!   every message.
//! - **No lost wake-up.** Before parking, the receiver registers its thread in `waiter`,
//!   announces `sleeping = true` and looks at the queue once more; a sender pushes, then looks
//!   at `sleeping` and unparks. That is `mpsc-ordering`'s `Dekker`: each side stores, then
//!   loads what the other stored, and if both loads miss the other's store the receiver sleeps
//!   forever. (An unpark that comes before `park` makes `park` return at once.)
//! - **One wake-up per sleep.** The first sender that finds `sleeping` set takes it back
//!   before it unparks, so the others go on sending instead of queueing on the `waiter` lock
//!   while the receiver waits for a core (in the benchmark, thousands of sends per sleep
//!   would).
//! - **Disconnection** works as in stage 1: `send` hands the message back once the receiver is
//!   gone, and dropping the receiver drops what is queued at once. The last sender to leave
//!   wakes a sleeping receiver, and a receiver that finds the sender count at zero must also
//!   find every message sent before: a third happens-before edge, beside the queue's two.
//!
//! **Orderings.** Every one is yours, with its reason in a comment. The loom models judge them:
//! `recv_never_misses_a_send` (a lost wake-up), `recv_never_misses_the_disconnection` (a
//! receiver parked forever is a deadlock) and
//! `try_recv_sees_every_message_sent_before_the_disconnection`.
//!
//! Afterwards you can make a lock-free structure block without losing a wake-up, recognise the
//! store-buffer pattern in real code, and say when spinning pays and when parking does.
//!
//! Read: Mara Bos, *Rust Atomics and Locks*, chapter 1 ("Thread parking") and chapter 5
//! (channels): <https://marabos.nl/atomics/>; crossbeam-channel's `waker.rs`, after a first
//! version of your own.
//!
//! The receiver is one thread's at a time:
//!
//! ```compile_fail,E0277
//! let (tx, rx) = mpsc::s07_blocking::channel::<u32>();
//! tx.send(1).unwrap();
//! std::thread::scope(|s| {
//!     s.spawn(|| rx.try_recv());
//!     s.spawn(|| rx.try_recv()); // error: `Receiver<u32>` cannot be shared between threads
//! });
//! ```

use std::cell::Cell;
use std::marker::PhantomData;

use crate::s01_channel::{RecvError, SendError, TryRecvError};
use crate::s06_queue::MpscQueue;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering, fence, spin_hint, thread};

/// How many times `recv` retries with a spin-loop hint, and then with `thread::yield_now`,
/// before it parks the thread. None under loom: a spinning thread yields there, which lets the
/// sender run first, and the model would never see the receiver asleep before the send.
const SPINS: usize = if cfg!(mastery_loom) { 0 } else { 64 };
const YIELDS: usize = if cfg!(mastery_loom) { 0 } else { 8 };

struct Shared<T> {
    queue: MpscQueue<T>,
    senders: AtomicUsize,
    receiver_alive: AtomicBool,
    /// True while the receiver is (about to be) parked.
    sleeping: AtomicBool,
    /// The thread to unpark; set by the receiver before it sleeps.
    waiter: Mutex<Option<thread::Thread>>,
}

impl<T> Shared<T> {
    /// Wakes the receiver if it announced that it sleeps. The caller has made its change
    /// (a push, a disconnection) before it calls this.
    fn wake_receiver(&self) {
        // TODO: if the receiver announced that it sleeps, take the announcement back and unpark
        // its thread; of several senders that find it asleep, only one does.
        todo!()
    }
}

/// The sending half of a lock-free channel.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half: movable to another thread, never shared.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    _not_sync: PhantomData<Cell<()>>,
}

/// Creates a lock-free channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    // TODO: one `Shared` behind an `Arc`, one sender counted, the receiver alive.
    todo!()
}

impl<T> Sender<T> {
    /// Queues `value`, or hands it back if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        // TODO: refuse if the receiver is gone; push; wake the receiver if it sleeps, so that
        // a receiver going to sleep either finds this message or is woken.
        todo!()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // TODO: count one more sender.
        todo!()
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // TODO: count one sender fewer; the last one must wake a sleeping receiver.
    }
}

impl<T> Receiver<T> {
    /// Takes the next message if one is queued, without sleeping.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        // TODO: pop; if empty and no sender is left, look once more before `Disconnected`.
        todo!()
    }

    /// Takes the next message, sleeping while the channel is empty and a sender is alive.
    // Under loom `SPINS` and `YIELDS` are 0: no retries, an empty range.
    #[cfg_attr(
        mastery_loom,
        allow(clippy::reversed_empty_ranges, clippy::absurd_extreme_comparisons)
    )]
    pub fn recv(&self) -> Result<T, RecvError> {
        // TODO: retry `try_recv` up to `SPINS` times with `spin_hint`, then up to `YIELDS`
        // times with `thread::yield_now`; then register this thread, announce `sleeping`,
        // look once more, and park if still empty. Loop.
        todo!()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // TODO: mark the receiver gone and drop every queued message now.
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::Counted;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::time::{Duration, Instant};

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "lost wake-up or lost message", f)
    }

    #[test]
    fn channel_delivers_then_reports_disconnection() {
        within(5, || {
            let (tx, rx) = channel();
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            let tx2 = tx.clone();
            drop(tx);
            assert_eq!(rx.recv(), Ok(1));
            drop(tx2);
            assert_eq!(rx.recv(), Ok(2), "queued messages outlive the senders");
            assert_eq!(rx.recv(), Err(RecvError));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        });
    }

    #[test]
    fn send_after_the_receiver_drops_hands_the_message_back() {
        let (tx, rx) = channel();
        drop(rx);
        assert_eq!(tx.send(5), Err(SendError(5)));
    }

    #[test]
    fn dropping_the_receiver_drops_queued_messages_now() {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let (tx, rx) = channel();
        for _ in 0..3 {
            tx.send(Counted(std::sync::Arc::clone(&drops))).unwrap();
        }
        drop(rx);
        assert_eq!(
            drops.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "queued messages must be dropped with the receiver"
        );
        drop(tx);
    }

    #[test]
    fn a_sleeping_receiver_is_woken_by_a_send() {
        within(5, || {
            let (tx, rx) = channel();
            let sender = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                tx.send(42).unwrap();
                tx
            });
            let start = Instant::now();
            assert_eq!(
                rx.recv(),
                Ok(42),
                "recv must wake up for a message sent later"
            );
            assert!(start.elapsed() < Duration::from_secs(3));
            drop(sender.join().unwrap());
        });
    }

    #[test]
    fn the_sender_that_wakes_the_receiver_takes_the_announcement_back() {
        let (tx, rx) = channel();
        // The receiver's side of going to sleep, done by hand on this thread.
        *rx.shared.waiter.lock().unwrap() = Some(thread::current());
        rx.shared.sleeping.store(true, Ordering::SeqCst);
        tx.send(1).unwrap();
        assert!(
            !rx.shared.sleeping.load(Ordering::SeqCst),
            "a send found the receiver asleep and woke it, but left `sleeping` set: every \
             later send would unpark it again. One wake-up per sleep: the sender that unparks \
             takes the announcement back first"
        );
        assert_eq!(rx.try_recv(), Ok(1));
    }

    #[test]
    fn a_wake_up_without_a_message_does_not_end_recv() {
        within(5, || {
            let (tx, rx) = channel();
            // A stray unpark token, like one left over by an earlier send: the next `park` on
            // this thread returns at once.
            std::thread::current().unpark();
            let sender = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                tx.send(7).unwrap();
                tx
            });
            assert_eq!(
                rx.recv(),
                Ok(7),
                "recv returned before a message came or the last sender left: park can return \
                 without an unpark aimed at it (a spurious wake-up, or an unpark left over from \
                 an earlier send), so after park recv must look again, and sleep again while \
                 the channel is empty"
            );
            drop(sender.join().unwrap());
        });
    }

    #[test]
    fn a_sleeping_receiver_is_woken_by_the_last_sender_leaving() {
        within(5, || {
            let (tx, rx) = channel::<u8>();
            let dropper = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                drop(tx);
            });
            assert_eq!(
                rx.recv(),
                Err(RecvError),
                "the last sender's drop must wake a sleeping receiver"
            );
            dropper.join().unwrap();
        });
    }

    #[test]
    fn ping_pong_never_loses_a_wake_up() {
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        // Two thread switches a round: seconds on a loaded machine, so the watchdog waits long.
        within(30, move || {
            let (ping_tx, ping_rx) = channel::<u32>();
            let (pong_tx, pong_rx) = channel::<u32>();
            let echo = std::thread::spawn(move || {
                while let Ok(v) = ping_rx.recv() {
                    pong_tx.send(v + 1).unwrap();
                }
            });
            for i in 0..rounds {
                ping_tx.send(i).unwrap();
                assert_eq!(pong_rx.recv(), Ok(i + 1));
            }
            drop(ping_tx);
            echo.join().unwrap();
        });
    }

    #[test]
    fn two_producers_through_the_channel_every_message_once_in_order() {
        let per: u64 = if cfg!(miri) { 100 } else { 100_000 };
        within(10, move || {
            let (tx, rx) = channel::<(u64, u64)>();
            for p in 0..2 {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for j in 0..per {
                        tx.send((p, j)).unwrap();
                    }
                });
            }
            drop(tx);
            let mut next = [0u64; 2];
            while let Ok((p, j)) = rx.recv() {
                assert_eq!(j, next[p as usize], "producer {p}'s messages out of order");
                next[p as usize] += 1;
            }
            assert_eq!(next, [per; 2], "every message exactly once");
        });
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// A blocking receive against a sender that sends once and leaves: no lost wake-up
    /// (loom reports a deadlock if the receiver parks forever). The receiver runs on the
    /// spawned thread: loom 0.7 cannot model an unpark aimed at a thread blocked in `join`.
    #[test]
    fn recv_never_misses_the_disconnection() {
        loom::model(|| {
            let (tx, rx) = channel();
            let receiver = thread::spawn(move || {
                assert_eq!(
                    rx.recv(),
                    Ok(1),
                    "a message sent before the last sender left must be received before the \
                     disconnection: the count's decrement must publish the sender's pushes"
                );
                assert_eq!(rx.recv(), Err(RecvError));
            });
            tx.send(1).unwrap();
            drop(tx);
            receiver.join().unwrap();
        });
    }

    /// The sender stays alive until its message has been received, so only the wake-up in
    /// `send` can end the receiver's sleep. Without it (or without the SeqCst fences) the
    /// receiver parks forever while the sender waits: loom fails the model. (Loom runs the
    /// other thread whenever the sender yields, so a receiver that can run has received long
    /// before the sender gives up.)
    #[test]
    fn recv_never_misses_a_send() {
        loom::model(|| {
            let (tx, rx) = channel();
            let received = Arc::new(AtomicBool::new(false));
            let receiver = {
                let received = Arc::clone(&received);
                thread::spawn(move || {
                    assert_eq!(rx.recv(), Ok(1));
                    received.store(true, Ordering::Release);
                })
            };
            tx.send(1).unwrap();
            let mut waited = 0;
            while !received.load(Ordering::Acquire) {
                waited += 1;
                assert!(
                    waited < 50,
                    "lost wake-up: the receiver parked and the send never woke it. The send \
                     must push, then (after a SeqCst fence) look at `sleeping`; recv must store \
                     `sleeping`, then (after a SeqCst fence) look at the queue once more"
                );
                thread::yield_now();
            }
            drop(tx);
            receiver.join().unwrap();
        });
    }

    /// The receiver polls with `try_recv` (no fence on its side) while the only sender sends
    /// once and leaves: a receiver that sees the sender count at zero must also see the
    /// message pushed before it, or it reports the channel disconnected and loses it.
    #[test]
    fn try_recv_sees_every_message_sent_before_the_disconnection() {
        loom::model(|| {
            let (tx, rx) = channel();
            let sender = thread::spawn(move || tx.send(1).unwrap());
            loop {
                match rx.try_recv() {
                    Ok(v) => break assert_eq!(v, 1),
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(TryRecvError::Disconnected) => panic!(
                        "a message sent before the last sender left must be received before \
                         the disconnection: the count's decrement must publish the sender's \
                         pushes (Release) to the receiver that sees it reach zero (Acquire)"
                    ),
                }
            }
            sender.join().unwrap();
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        });
    }
}
