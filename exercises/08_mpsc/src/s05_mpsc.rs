//! # A lock-free MPSC queue
//!
//! Many producers, one consumer, no lock. Build [`MpscQueue`] and, on top of it, a channel
//! ([`channel`]) with a blocking [`Receiver::recv`].
//!
//! The classic design, Dmitry Vyukov's node-based queue, allocates one node per message: a
//! `malloc` on the producer's core and a `free` on the consumer's, which cost more than the
//! queue's own atomics (the project's benchmark measures it). This queue links *blocks* of
//! [`BLOCK_CAP`] slots instead, one allocation per block, and producers claim slots with a
//! counter: the layout of crossbeam-channel's unbounded channel, made simpler by having one
//! consumer.
//!
//! - **Indices.** `tail.index` counts the slots ever claimed; `head.index` the slots popped.
//!   Index `i` is slot `i % LAP` of its block, with `LAP = BLOCK_CAP + 1`: the last index of
//!   every lap is no slot but a *marker* that means "this block is full, the next one is being
//!   linked". `tail.block` is the block of slot `tail.index`; `head.block` that of
//!   `head.index`.
//! - **Push** (any thread), a compare-and-swap loop: load `tail.index`; on a marker, spin
//!   (another producer is linking the next block); otherwise load `tail.block` and claim the
//!   slot by CAS of `tail.index` from `index` to `index + 1`. Lost the race? The failed CAS
//!   returns the current index: back off for a few spin-loop hints, doubling each time (the
//!   winner is about to CAS again, and two producers that retry at once collide again), and
//!   retry with it. Won: the slot is this producer's alone; write the value, then set the
//!   slot's `ready` flag.
//! - **Linking.** The producer that claims a block's last slot links the next block: it
//!   allocates it *before* its CAS (so no one waits on its `malloc`), and after winning stores
//!   `tail.block`, moves `tail.index` past the marker, and sets the old block's `next`, all
//!   before it writes its own slot. Other producers spin on the marker meanwhile: for those
//!   few instructions, once per block, push is not lock-free.
//! - **Why `tail.block` matches the claimed slot.** `tail.block` changes only while
//!   `tail.index` sits on a marker, and `tail.index` never goes back. A producer whose CAS
//!   from `index` succeeds knows `tail.index` stayed `index` since it was loaded, so the block
//!   loaded in between is the block of its slot. A producer whose CAS fails never
//!   dereferences the block it loaded (it may have been freed).
//! - **Pop** (the one consumer): `head` is the consumer's alone, plain integers and pointers.
//!   Look at the slot at `head.index` first: its block exists even if no producer has claimed
//!   the slot yet (its flag is then false). If its `ready` flag is set, move the value out.
//!   Only if it is not, load `tail.index`: equal to `head.index` means empty, greater means
//!   claimed but not written yet. So while values flow, the consumer never touches the line
//!   the producers fight over. After a block's last slot, follow `next` (set before that
//!   slot was written, so it is there) and free the old block: every slot in it has been
//!   read, and no producer touches a block after setting a slot's `ready` flag.
//! - **The inconsistent moment.** A producer has claimed a slot (`tail.index` is past it) but
//!   not written it yet: the queue is not empty, yet the consumer cannot take the item.
//!   [`MpscQueue::try_pop`] reports it as [`Pop::Inconsistent`]; [`MpscQueue::pop`] spins
//!   through it. If the producer is preempted right there, the consumer waits for it: this
//!   queue is lock-free for producers (but for the marker) and not for the consumer. The loom
//!   test `the_inconsistent_moment_exists` finds the interleaving.
//! - Popping is `unsafe`: the type cannot stop two threads from calling `pop` on a shared
//!   `&MpscQueue` (this is where the borrow checker cannot help), so "one consumer at a
//!   time" is the caller's contract. The [`channel`] wraps it in a [`Receiver`] that is not
//!   `Sync`, which turns the contract back into a type fact.
//! - Dropping the queue drops every value not popped and frees every block (Miri's leak check
//!   runs on every test).
//! - **Blocking receive.** `recv` retries a bounded number of times, first with a spin-loop
//!   hint, then yielding its core (on a busy machine the sender it waits for may need it), and
//!   only then parks the thread: a park and the unpark that ends it cost a system call each,
//!   and a receiver that parks whenever the queue runs dry pays them for every message.
//!   Before parking it announces `sleeping = true` and checks the queue once more; a sender
//!   pushes, then checks `sleeping` and unparks. That is the store-buffer pattern of stage 3:
//!   each side stores, then loads what the other stored, and if both loads miss the other's
//!   store the receiver sleeps forever (a lost wake-up). One wake-up per sleep is enough: the
//!   first sender that finds `sleeping` set takes it back before it unparks, so the others
//!   do not all queue on the `waiter` lock while the receiver waits for a core (in the
//!   benchmark, thousands of sends per sleep would). Disconnection works as in stage 1, and a
//!   receiver that finds the sender count at zero must also find every message sent before.
//!
//! **Orderings.** You choose every one, and justify it in a comment, as in stage 3. The
//! happens-before edges this queue needs, with the orderings left as `?`:
//!
//! ```text
//!   producer (push)                           consumer (try_pop)
//!   CAS tail.index i -> i + 1 (?, ?)
//!   slot.value.write(v)
//!   slot.ready.store(true, ?) ----------> slot.ready.load(?) == true
//!                                         v = slot.value.read()
//!
//!   producer that claims a block's last slot  any producer, later
//!   tail.block.store(new, ?)
//!   tail.index.store(i + 2, ?) ---------> tail.index.load(?)  (or a failed CAS: its ?)
//!                                         b = tail.block.load(?); b.slots[..].write(..)
//! ```
//!
//! Two facts you need. A read-modify-write (a CAS, a `fetch_add`) on an atomic continues the
//! *release sequence* of the store before it, whatever its own ordering: an `Acquire` load
//! that reads a value written by the CAS still synchronises with that earlier `Release` store.
//! And a value needs one edge, not one per field: what the linking producer wrote before an
//! edge it starts (the block's `next`, say) travels along with it.
//!
//! Why not `fetch_add` on `tail.index`, which never retries? A producer could then get an
//! index in a block nobody has linked yet and would have to find or link it itself, and the
//! consumer could no longer tell when a block is free of producers (tokio's channel pays for
//! that with extra bookkeeping). The CAS keeps every claim inside the block `tail.block`
//! names.
//!
//! Afterwards you can explain every ordering in a real lock-free queue, test it for
//! exactly-once delivery and per-producer order, say precisely where it is not lock-free, and
//! tell why amortising allocation matters more than saving an atomic.
//!
//! Read: Dmitry Vyukov, *Intrusive MPSC node-based queue* (1024cores.net), the design this one
//! improves on; Michael and Scott, *Simple, fast, and practical non-blocking and blocking
//! concurrent queue algorithms* (1996); *The Art of Multiprocessor Programming*, chapter 10;
//! *Rust Atomics and Locks*, chapter 5; crossbeam-channel's `flavors/list.rs`, after a first
//! version of your own.
//!
//! The receiver is one thread's at a time:
//!
//! ```compile_fail,E0277
//! let (tx, rx) = mpsc::s05_mpsc::channel::<u32>();
//! tx.send(1).unwrap();
//! std::thread::scope(|s| {
//!     s.spawn(|| rx.try_recv());
//!     s.spawn(|| rx.try_recv()); // error: `Receiver<u32>` cannot be shared between threads
//! });
//! ```

use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr;

use crate::s01_channel::{RecvError, SendError, TryRecvError};
use crate::s04_spsc::CachePadded;
use crate::sync::{
    Arc, AtomicBool, AtomicPtr, AtomicUsize, Mutex, Ordering, UnsafeCell, fence, spin_hint, thread,
};

/// Slots per block. 31 makes a lap (slots plus the marker) 32 indices long; loom's models use
/// blocks of two slots so that a few pushes cross a block boundary.
pub const BLOCK_CAP: usize = if cfg!(mastery_loom) { 2 } else { 31 };

/// The most spin-loop hints a producer waits after losing a CAS race.
const MAX_BACKOFF: u32 = if cfg!(mastery_loom) { 1 } else { 64 };

/// Indices per block: its slots, then the marker.
const LAP: usize = BLOCK_CAP + 1;

/// What [`MpscQueue::try_pop`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop<T> {
    /// The oldest value.
    Data(T),
    /// Nothing queued.
    Empty,
    /// A producer has claimed the next slot but not written it yet: a value is coming but not
    /// readable yet.
    Inconsistent,
}

struct Slot<T> {
    /// Written by the one producer that claimed the slot, then read by the consumer after it
    /// sees `ready`; an `UnsafeCell` so that loom checks those two accesses are ordered.
    value: UnsafeCell<MaybeUninit<T>>,
    /// Set once `value` is written.
    ready: AtomicBool,
}

struct Block<T> {
    /// The next block; set by the producer that claims this block's last slot, before it
    /// writes that slot.
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn new() -> Box<Self> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                ready: AtomicBool::new(false),
            }),
        })
    }
}

/// The producers' end.
struct Tail<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// The consumer's end: only the consumer reads or writes it.
struct Head<T> {
    index: usize,
    block: *mut Block<T>,
}

/// A multi-producer, single-consumer lock-free queue of blocks of slots.
pub struct MpscQueue<T> {
    tail: CachePadded<Tail<T>>,
    head: CachePadded<UnsafeCell<Head<T>>>,
}

// SAFETY: values move from producer threads to the consumer thread, hence `T: Send`; the
// queue never hands out `&T`. Blocks are shared through atomics as described on each access.
unsafe impl<T: Send> Send for MpscQueue<T> {}
// SAFETY: as above; `push` is safe from any thread, `pop` is `unsafe` and single-consumer.
unsafe impl<T: Send> Sync for MpscQueue<T> {}

impl<T> Default for MpscQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> MpscQueue<T> {
    /// An empty queue (one empty block).
    pub fn new() -> Self {
        // TODO: one block, shared by `head` and `tail`, both at index 0.
        todo!()
    }

    /// Appends `value`. Safe from any number of threads at once.
    pub fn push(&self, value: T) {
        // TODO: a CAS loop on `tail.index`: spin on a marker; allocate the next block before
        // claiming a block's last slot; after losing, back off (up to `MAX_BACKOFF` hints);
        // after winning, link the next block if ours was the last slot, then write the value
        // and set `ready`. Choose and justify each ordering.
        todo!()
    }

    /// Removes the oldest value, reporting an inconsistent moment instead of waiting through
    /// it.
    ///
    /// # Safety
    ///
    /// No other thread may call `try_pop` or `pop` on this queue at the same time.
    pub unsafe fn try_pop(&self) -> Pop<T> {
        // TODO: look at the slot at `head.index`: `ready` means `Data` (after a block's last
        // slot, move to `next` and free the old block); not ready means `Empty` if
        // `tail.index` equals `head.index`, `Inconsistent` otherwise.
        todo!()
    }

    /// Removes the oldest value, spinning through inconsistent moments; `None` only when
    /// the queue is empty.
    ///
    /// # Safety
    ///
    /// No other thread may call `try_pop` or `pop` on this queue at the same time.
    pub unsafe fn pop(&self) -> Option<T> {
        // TODO: `try_pop`, spinning (`spin_hint`) through inconsistent moments.
        todo!()
    }
}

impl<T> Drop for MpscQueue<T> {
    fn drop(&mut self) {
        // TODO: walk from `head.index` up to `tail.index`: drop the value in each slot; at
        // each marker, free the block and move to its `next`. Then free the last block.
    }
}

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
    fn an_empty_queue_pops_nothing() {
        let q = MpscQueue::<u32>::new();
        // SAFETY: this thread is the only consumer.
        unsafe {
            assert_eq!(q.try_pop(), Pop::Empty);
            assert_eq!(q.pop(), None);
        }
    }

    #[test]
    fn one_thread_pops_what_it_pushed_in_order() {
        let q = MpscQueue::new();
        for i in 0..5 {
            q.push(i);
        }
        // SAFETY: this thread is the only consumer.
        unsafe {
            assert_eq!(q.try_pop(), Pop::Data(0));
            for i in 1..5 {
                assert_eq!(q.pop(), Some(i), "values must come out in the order pushed");
            }
            assert_eq!(q.try_pop(), Pop::Empty);
            q.push(9);
            assert_eq!(
                q.pop(),
                Some(9),
                "the queue is reusable after running empty"
            );
        }
    }

    #[test]
    fn dropping_the_queue_drops_every_value_not_popped() {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let q = MpscQueue::new();
        for _ in 0..5 {
            q.push(Counted(std::sync::Arc::clone(&drops)));
        }
        // SAFETY: this thread is the only consumer.
        drop(unsafe { q.pop() });
        drop(unsafe { q.pop() });
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 2);
        drop(q);
        assert_eq!(
            drops.load(std::sync::atomic::Ordering::SeqCst),
            5,
            "the three values left must be dropped with the queue, once each"
        );
    }

    #[test]
    fn values_cross_block_boundaries_in_order() {
        let q = MpscQueue::new();
        let n = 3 * BLOCK_CAP + 5;
        for i in 0..n {
            q.push(i);
        }
        // SAFETY: this thread is the only consumer.
        unsafe {
            for i in 0..BLOCK_CAP + 2 {
                assert_eq!(q.pop(), Some(i), "values must come out in the order pushed");
            }
            for i in n..n + BLOCK_CAP {
                q.push(i);
            }
            for i in BLOCK_CAP + 2..n + BLOCK_CAP {
                assert_eq!(
                    q.pop(),
                    Some(i),
                    "order must survive the step from one block to the next"
                );
            }
            assert_eq!(q.try_pop(), Pop::Empty);
        }
    }

    #[test]
    fn dropping_the_queue_mid_block_drops_the_rest_once() {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let q = MpscQueue::new();
        let n = 2 * BLOCK_CAP + 3;
        for _ in 0..n {
            q.push(Counted(std::sync::Arc::clone(&drops)));
        }
        for _ in 0..BLOCK_CAP + 1 {
            // SAFETY: this thread is the only consumer.
            drop(unsafe { q.pop() });
        }
        drop(q);
        assert_eq!(
            drops.load(std::sync::atomic::Ordering::SeqCst),
            n,
            "every value, popped or left in any block, must be dropped exactly once"
        );
    }

    /// The curriculum's example: four producers push `i * 1000 + j` into a shared queue; one
    /// consumer pops until it has all 4000, each once, each producer's in order.
    #[test]
    fn four_producers_one_consumer_every_value_once_in_producer_order() {
        let per: usize = if cfg!(miri) { 50 } else { 1000 };
        within(10, move || {
            let queue = std::sync::Arc::new(MpscQueue::new());
            let producers: Vec<_> = (0..4)
                .map(|i| {
                    let queue = std::sync::Arc::clone(&queue);
                    std::thread::spawn(move || {
                        for j in 0..per {
                            queue.push(i * 1000 + j);
                        }
                    })
                })
                .collect();
            let mut seen = vec![false; 4000];
            let mut next = [0usize; 4];
            let mut got = 0;
            while got < 4 * per {
                // SAFETY: this thread is the only consumer.
                match unsafe { queue.pop() } {
                    Some(v) => {
                        assert!(!seen[v], "value {v} was delivered twice");
                        seen[v] = true;
                        let (i, j) = (v / 1000, v % 1000);
                        assert_eq!(j, next[i], "producer {i}'s values must arrive in order");
                        next[i] += 1;
                        got += 1;
                    }
                    None => std::thread::yield_now(),
                }
            }
            for p in producers {
                p.join().unwrap();
            }
            // SAFETY: this thread is the only consumer.
            assert_eq!(
                unsafe { queue.pop() },
                None,
                "nothing beyond the 4000 values"
            );
            assert_eq!(next, [per; 4]);
        });
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
        within(10, move || {
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

    /// Two producers, one value each; the consumer must get both, once each.
    #[test]
    fn two_producers_deliver_exactly_once() {
        loom::model(|| {
            let q = Arc::new(MpscQueue::new());
            let producers: Vec<_> = (0..2)
                .map(|i| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.push(Box::new(i)))
                })
                .collect();
            let mut got = [false; 2];
            for _ in 0..2 {
                // SAFETY: this thread is the only consumer.
                let v = loop {
                    match unsafe { q.pop() } {
                        Some(v) => break v,
                        None => thread::yield_now(),
                    }
                };
                assert!(!got[*v], "value {v} delivered twice");
                got[*v] = true;
            }
            for p in producers {
                p.join().unwrap();
            }
            // SAFETY: as above.
            assert!(unsafe { q.pop() }.is_none());
        });
    }

    /// One producer's three values arrive in its order (the third in the second block), while
    /// the consumer pops concurrently.
    #[test]
    fn one_producer_keeps_its_order() {
        loom::model(|| {
            let q = Arc::new(MpscQueue::new());
            let producer = {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    q.push(1);
                    q.push(2);
                    q.push(3);
                })
            };
            let mut last = 0;
            while last < 3 {
                // SAFETY: this thread is the only consumer.
                match unsafe { q.pop() } {
                    Some(v) => {
                        assert_eq!(v, last + 1, "values out of order");
                        last = v;
                    }
                    None => thread::yield_now(),
                }
            }
            producer.join().unwrap();
        });
    }

    /// Two producers cross a block boundary (loom's blocks hold two slots): one pushes two
    /// values, the other one; the consumer gets all three, once each, each producer's in
    /// order, and the first block is freed on the way. Three threads spinning on each other
    /// make a large model: it runs with one preemption (about 0.1 s) instead of two (hours).
    #[test]
    fn two_producers_cross_a_block_boundary() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(1);
        builder.check(|| {
            let q = Arc::new(MpscQueue::new());
            let first = {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    q.push(1);
                    q.push(2);
                })
            };
            let second = {
                let q = Arc::clone(&q);
                thread::spawn(move || q.push(10))
            };
            let (mut last_first, mut got_second) = (0, false);
            for _ in 0..3 {
                // SAFETY: this thread is the only consumer.
                let v = loop {
                    match unsafe { q.pop() } {
                        Some(v) => break v,
                        None => thread::yield_now(),
                    }
                };
                if v == 10 {
                    assert!(!got_second, "value 10 delivered twice");
                    got_second = true;
                } else {
                    assert_eq!(
                        v,
                        last_first + 1,
                        "the first producer's values out of order"
                    );
                    last_first = v;
                }
            }
            first.join().unwrap();
            second.join().unwrap();
            // SAFETY: as above.
            assert!(unsafe { q.pop() }.is_none());
        });
    }

    /// Some interleaving stops the producer between claiming its slot and writing it: the
    /// consumer then sees `Inconsistent`. Loom must find it (and the queue must survive it).
    #[test]
    fn the_inconsistent_moment_exists() {
        use std::sync::atomic::{AtomicBool as StdAtomicBool, Ordering as StdOrdering};
        static SEEN: StdAtomicBool = StdAtomicBool::new(false);
        loom::model(|| {
            let q = Arc::new(MpscQueue::new());
            let producer = {
                let q = Arc::clone(&q);
                thread::spawn(move || q.push(7))
            };
            // SAFETY: this thread is the only consumer.
            match unsafe { q.try_pop() } {
                Pop::Inconsistent => {
                    SEEN.store(true, StdOrdering::Relaxed);
                    producer.join().unwrap();
                    assert_eq!(unsafe { q.try_pop() }, Pop::Data(7));
                }
                Pop::Data(v) => {
                    assert_eq!(v, 7);
                    producer.join().unwrap();
                }
                Pop::Empty => {
                    producer.join().unwrap();
                    assert_eq!(unsafe { q.try_pop() }, Pop::Data(7));
                }
            }
        });
        assert!(
            SEEN.load(StdOrdering::Relaxed),
            "loom found no run where the consumer saw the queue inconsistent. If `try_pop` loads \
             `tail.index` before the slot's `ready` flag, loom (which tracks only the last access \
             to each atomic) never runs that load between a producer's CAS and its `ready` \
             store: check the flag first"
        );
    }

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
