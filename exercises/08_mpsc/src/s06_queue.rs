//! # A lock-free MPSC queue
//!
//! Many producers, one consumer, no lock: build [`MpscQueue`]. The classic design, Dmitry
//! Vyukov's node-based queue, allocates one node per message: a `malloc` on the producer's
//! core and a `free` on the consumer's, which cost more than the queue's own atomics (the
//! project's benchmark measures it). This queue links *blocks* of [`BLOCK_CAP`] slots, one
//! allocation per block, and producers claim slots with a counter: the layout of
//! crossbeam-channel's unbounded channel, made simpler by having one consumer.
//!
//! - **Indices.** `tail.index` counts the slots ever claimed, `head.index` the slots popped.
//!   Index `i` is slot `i % LAP` of its block, `LAP = BLOCK_CAP + 1`: the last index of each
//!   lap is no slot but a *marker*, "this block is full, the next one is being linked".
//!   `tail.block` and `head.block` are the blocks of `tail.index` and `head.index`.
//! - **Push** and **pop**: the protocol of each, linking a new block included, is on
//!   [`MpscQueue::push`] and [`MpscQueue::try_pop`].
//! - Popping is `unsafe`: nothing stops two threads from calling `pop` on a shared
//!   `&MpscQueue`, so "one consumer at a time" is the caller's contract (the next stage's
//!   `Receiver` makes it a type fact). Dropping the queue drops every value not popped and
//!   frees every block (Miri's leak check runs on every test).
//!
//! **Orderings.** You choose every one and justify it in a comment, as in `mpsc-ordering`.
//! The happens-before edges this queue needs, with the orderings left as `?`:
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
//! Two facts you need. A read-modify-write (a CAS, a `fetch_add`) continues the *release
//! sequence* of the store before it, whatever its own ordering: an `Acquire` load that reads
//! the CAS's value still synchronises with that earlier `Release` store. And a value needs one
//! edge, not one per field: what the linking producer wrote before an edge it starts (the
//! block's `next`) travels with it. (Why not `fetch_add`, which never retries? It could hand
//! out an index in a block nobody has linked yet.)
//!
//! Afterwards you can explain every ordering in a real lock-free queue, test it for
//! exactly-once delivery and per-producer order, say precisely where it is not lock-free, and
//! tell why amortising allocation matters more than saving an atomic.
//!
//! Read: Dmitry Vyukov, *Intrusive MPSC node-based queue* (1024cores.net); *The Art of
//! Multiprocessor Programming*, chapter 10; crossbeam-channel's `flavors/list.rs`, after a
//! first version of your own.

use std::mem::MaybeUninit;
use std::ptr;

use crate::s05_spsc::CachePadded;
use crate::sync::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, UnsafeCell, spin_hint};

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
    ///
    /// **Push** (any thread): load `tail.index`; on a marker, spin; otherwise load `tail.block`
    /// and claim the slot by CAS of `tail.index` from `index` to `index + 1`. Lost the race?
    /// Retry with the index the failed CAS returned, after a backoff of spin-loop hints that
    /// doubles each time up to `MAX_BACKOFF` (the winner is about to CAS again). Won: the slot
    /// is yours alone; write the value, then set the slot's `ready` flag.
    ///
    /// **Linking.** The producer that claims a block's last slot allocates the next block
    /// *before* its CAS (so no one waits on its `malloc`); after winning it stores `tail.block`,
    /// moves `tail.index` past the marker and sets the old block's `next`, all before it writes
    /// its slot. Others spin on the marker meanwhile: there, push is not lock-free. As
    /// `tail.block` changes only while `tail.index` sits on a marker, a producer whose CAS from
    /// `index` succeeds loaded the block of its slot; one whose CAS fails must not dereference
    /// the block it loaded (it may have been freed).
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
    /// **Pop** (the one consumer; `head` is its alone). Look at the slot at `head.index` first:
    /// `ready` set, take the value. Only if it is not, load `tail.index`: equal means empty,
    /// greater means a producer has claimed the slot but not written it yet, the *inconsistent
    /// moment*: [`MpscQueue::try_pop`] reports [`Pop::Inconsistent`], [`MpscQueue::pop`] spins
    /// through it (the consumer waits for a preempted producer: it is not lock-free). After a
    /// block's last slot, follow `next` and free the old block: every slot in it has been read,
    /// and no producer touches a block after setting a slot's `ready` flag.
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

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::Counted;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a push or pop never finished", f)
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
        within(10, || {
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
        });
    }

    #[test]
    fn dropping_the_queue_drops_every_value_not_popped() {
        within(10, || {
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
        });
    }

    #[test]
    fn values_cross_block_boundaries_in_order() {
        within(10, || {
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
        });
    }

    #[test]
    fn dropping_the_queue_mid_block_drops_the_rest_once() {
        within(10, || {
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
        });
    }

    #[test]
    fn dropping_a_queue_of_several_blocks_drops_every_value_once() {
        within(10, || {
            let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
            let q = MpscQueue::new();
            let n = 3 * BLOCK_CAP + 4;
            for _ in 0..n {
                q.push(Counted(std::sync::Arc::clone(&drops)));
            }
            drop(q);
            assert_eq!(
                drops.load(std::sync::atomic::Ordering::SeqCst),
                n,
                "{n} values in four blocks were never popped: dropping the queue must drop each \
                 exactly once, stepping from block to block at each marker"
            );
        });
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
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
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
}
