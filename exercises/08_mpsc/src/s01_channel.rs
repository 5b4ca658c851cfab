//! # The lock-based baseline: a channel over `Mutex<VecDeque<T>>`
//!
//! Build a multi-producer, single-consumer channel the simple way: a `VecDeque<T>` behind a
//! `Mutex`, and a `Condvar` the receiver sleeps on while the queue is empty. `channel()` returns
//! a [`Sender`] (cloneable, one per producer) and a [`Receiver`] (exactly one). The receiver
//! can wait forever ([`Receiver::recv`]), not at all ([`Receiver::try_recv`]) or for a while
//! ([`Receiver::recv_timeout`]).
//!
//! Disconnection works in both directions. When the last sender is dropped, the receiver still
//! gets every message already queued, then `Disconnected`; a receiver blocked in `recv` must
//! be woken for that. When the receiver is dropped, `send` hands the message back in a
//! [`SendError`], and every message still queued is dropped at once rather than when the last
//! sender goes.
//!
//! "Single consumer" is a type fact here, not a promise: `Receiver` is neither `Clone` nor
//! `Sync`, so no two threads can ever receive at once (the examples on [`Receiver`]).
//! The lock-free queues of the later stages rely on exactly that guarantee, which the borrow
//! checker enforces for us; inside them, it cannot help any more.
//!
//! This channel is the baseline every later queue is measured against (`mastery bench mpsc`,
//! with 1, 2 and 4 producers). Where its time goes under contention: every `send` and every
//! `recv` takes the one lock, so the lock's cache line moves between cores on every
//! operation, and a thread that finds the lock taken spins briefly and is then put to sleep
//! by the OS (a system call to sleep, another to be woken). Signalling is a cost of its own:
//! `Condvar::notify_one` makes a system call even when nobody waits, so `send` should signal
//! only when the receiver is actually asleep (the `receiver_waiting` flag); without that, the
//! baseline runs several times slower. What it does well is batching: a `VecDeque` needs no
//! allocation per message, and neither may the lock-free queue of stage 6 (it allocates one
//! block per 31 messages).
//!
//! Afterwards you can build a blocking channel from a lock and a condition variable, handle
//! disconnection from both ends without a lost wake-up, and make "one consumer" a fact the
//! compiler checks.
//!
//! Read: Mara Bos, *Rust Atomics and Locks*, chapter 5 (channels, and making misuse
//! unrepresentable with types): <https://marabos.nl/atomics/building-channels.html>.

use std::cell::Cell;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// `send` failed because the receiver is gone; the message is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// `recv` failed because the channel is empty and every sender is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

/// Why `try_recv` returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued right now, but a sender may still send.
    Empty,
    /// Nothing queued and every sender is gone: nothing will ever arrive.
    Disconnected,
}

/// Why `recv_timeout` returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// The time ran out with nothing queued.
    Timeout,
    /// Nothing queued and every sender is gone.
    Disconnected,
}

/// What the lock protects.
struct State<T> {
    queue: VecDeque<T>,
    /// Live `Sender`s. When it reaches 0 the receiver must be woken.
    senders: usize,
    /// False once the `Receiver` is dropped; `send` then fails.
    receiver_alive: bool,
    /// True while the receiver sleeps on the condvar. `send` signals only then: a
    /// `notify_one` costs a system call even when nobody waits.
    receiver_waiting: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when a message is queued or the last sender leaves.
    available: Condvar,
}

impl<T> Shared<T> {
    /// Locks the state. A panic in another thread while it held the lock cannot leave the
    /// state inconsistent (every update is a single push, pop or counter change), so a
    /// poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The sending half: clone it for every producer.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half: exactly one, movable to another thread but never shared.
///
/// The receiver cannot be cloned:
///
/// ```compile_fail,E0599
/// use mpsc::s01_channel::channel;
/// let (tx, rx) = channel::<u32>();
/// let second = rx.clone(); // error: `Receiver` is not `Clone`
/// tx.send(1).unwrap();
/// ```
///
/// nor shared between threads (it is `Send`, not `Sync`):
///
/// ```compile_fail,E0277
/// use mpsc::s01_channel::channel;
/// let (tx, rx) = channel::<u32>();
/// tx.send(1).unwrap();
/// std::thread::scope(|s| {
///     s.spawn(|| rx.try_recv());
///     s.spawn(|| rx.try_recv()); // error: `Receiver<u32>` cannot be shared between threads
/// });
/// ```
///
/// Moving it to another thread is fine:
///
/// ```
/// use mpsc::s01_channel::channel;
/// let (tx, rx) = channel::<u32>();
/// tx.send(1).unwrap();
/// let got = std::thread::spawn(move || rx.recv()).join().unwrap();
/// assert_eq!(got, Ok(1));
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// `Cell` is `Send` but not `Sync`: this makes `Receiver` `!Sync` without unsafe code.
    _not_sync: PhantomData<Cell<()>>,
}

/// Creates a channel with one sender and its receiver.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    // TODO: one `Shared` (one sender counted, receiver alive) behind an `Arc`, for both halves.
    todo!()
}

impl<T> Sender<T> {
    /// Queues `value` for the receiver, or hands it back if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        // TODO: under the lock, refuse if the receiver is gone, else queue the value; then,
        // with the lock released, wake the receiver if it is waiting.
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
        // TODO: count one sender fewer; the last one must wake a receiver blocked in `recv`.
    }
}

impl<T> Receiver<T> {
    /// Takes the next message, waiting for one as long as any sender is alive.
    pub fn recv(&self) -> Result<T, RecvError> {
        // TODO: the next message, waiting while the queue is empty and a sender is alive;
        // `RecvError` once it is empty with no sender left. (A condvar may wake you for nothing.)
        todo!()
    }

    /// Takes the next message if one is queued, without waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        // TODO: pop under the lock; tell `Empty` from `Disconnected` by the sender count.
        todo!()
    }

    /// Like `recv`, but gives up after `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        // TODO: like `recv`, but wait with `wait_timeout` until a deadline fixed on entry.
        todo!()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // TODO: mark the receiver gone and drop every queued message now (outside the lock).
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::Counted;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a blocked thread was never woken", f)
    }

    #[test]
    fn messages_arrive_in_the_order_sent() {
        within(5, || {
            let (tx, rx) = channel();
            for i in 0..10 {
                tx.send(i).unwrap();
            }
            for i in 0..10 {
                assert_eq!(
                    rx.recv(),
                    Ok(i),
                    "one sender's messages must arrive in order"
                );
            }
        });
    }

    #[test]
    fn try_recv_on_empty_channel_returns_empty() {
        within(5, || {
            let (tx, rx) = channel::<u8>();
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            tx.send(7).unwrap();
            assert_eq!(rx.try_recv(), Ok(7));
            assert_eq!(
                rx.try_recv(),
                Err(TryRecvError::Empty),
                "a channel with a live sender is empty, not disconnected"
            );
        });
    }

    #[test]
    fn recv_waits_for_a_message_sent_later() {
        within(5, || {
            let (tx, rx) = channel();
            let sender = thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                tx.send("late").unwrap();
                tx // keep the channel open until the message is received
            });
            assert_eq!(
                rx.recv(),
                Ok("late"),
                "recv must sleep until a message arrives"
            );
            drop(sender.join().unwrap());
        });
    }

    #[test]
    fn recv_timeout_on_empty_channel_times_out_after_the_timeout() {
        within(5, || {
            let (_tx, rx) = channel::<u8>();
            let start = Instant::now();
            assert_eq!(
                rx.recv_timeout(Duration::from_millis(60)),
                Err(RecvTimeoutError::Timeout)
            );
            assert!(
                start.elapsed() >= Duration::from_millis(60),
                "recv_timeout returned after {:?}, before its 60 ms were up",
                start.elapsed()
            );
        });
    }

    #[test]
    fn recv_timeout_returns_a_message_sent_while_waiting() {
        within(5, || {
            let (tx, rx) = channel();
            let sender = thread::spawn(move || {
                thread::sleep(Duration::from_millis(30));
                tx.send(5u8).unwrap();
                tx
            });
            let start = Instant::now();
            assert_eq!(rx.recv_timeout(Duration::from_secs(3)), Ok(5));
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "recv_timeout must wake when a message arrives, not when the timeout ends"
            );
            drop(sender.join().unwrap());
        });
    }

    #[test]
    fn queued_messages_are_delivered_after_the_last_sender_drops() {
        within(5, || {
            let (tx, rx) = channel();
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            drop(tx);
            assert_eq!(
                rx.recv(),
                Ok(1),
                "messages queued before disconnection still count"
            );
            assert_eq!(rx.try_recv(), Ok(2));
            assert_eq!(rx.recv(), Err(RecvError));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            assert_eq!(
                rx.recv_timeout(Duration::from_secs(1)),
                Err(RecvTimeoutError::Disconnected)
            );
        });
    }

    #[test]
    fn a_cloned_sender_keeps_the_channel_open() {
        within(5, || {
            let (tx, rx) = channel();
            let tx2 = tx.clone();
            drop(tx);
            assert_eq!(
                rx.try_recv(),
                Err(TryRecvError::Empty),
                "one sender is still alive: the channel is not disconnected"
            );
            tx2.send(3).unwrap();
            assert_eq!(rx.recv(), Ok(3));
            let tx3 = tx2.clone();
            drop(tx2);
            drop(tx3);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        });
    }

    #[test]
    fn blocked_recv_wakes_when_the_last_sender_drops() {
        within(5, || {
            let (tx, rx) = channel::<u8>();
            let tx2 = tx.clone();
            let dropper = thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                drop(tx);
                thread::sleep(Duration::from_millis(20));
                drop(tx2);
            });
            assert_eq!(
                rx.recv(),
                Err(RecvError),
                "dropping the last sender must wake a receiver blocked in recv"
            );
            dropper.join().unwrap();
        });
    }

    #[test]
    fn blocked_recv_timeout_wakes_when_the_last_sender_drops() {
        within(5, || {
            let (tx, rx) = channel::<u8>();
            let dropper = thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                drop(tx);
            });
            let start = Instant::now();
            assert_eq!(
                rx.recv_timeout(Duration::from_secs(3)),
                Err(RecvTimeoutError::Disconnected)
            );
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "disconnection must wake recv_timeout, not its timeout"
            );
            dropper.join().unwrap();
        });
    }

    #[test]
    fn send_after_the_receiver_drops_hands_the_message_back() {
        within(5, || {
            let (tx, rx) = channel();
            drop(rx);
            assert_eq!(
                tx.send(String::from("lost")),
                Err(SendError(String::from("lost"))),
                "with no receiver, send must fail and return the message"
            );
        });
    }

    #[test]
    fn undelivered_messages_are_dropped_with_the_receiver() {
        within(5, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = channel();
            for _ in 0..3 {
                tx.send(Counted(Arc::clone(&drops))).unwrap();
            }
            drop(rx.recv().unwrap());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            drop(rx);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                3,
                "dropping the receiver must drop the queued messages now, \
                 not when the last sender goes"
            );
            drop(tx);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                3,
                "each message is dropped once"
            );
        });
    }

    #[test]
    fn four_producers_deliver_every_message_once_and_in_order() {
        let per = if cfg!(miri) { 50 } else { 1000 };
        within(10, move || {
            let (tx, rx) = channel::<(usize, usize)>();
            let producers: Vec<_> = (0..4)
                .map(|p| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        for j in 0..per {
                            tx.send((p, j)).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            let mut next = [0usize; 4];
            while let Ok((p, j)) = rx.recv() {
                assert_eq!(
                    j, next[p],
                    "producer {p}'s messages must arrive in its order"
                );
                next[p] += 1;
            }
            assert_eq!(next, [per; 4], "every message must arrive exactly once");
            for producer in producers {
                producer.join().unwrap();
            }
        });
    }
}
