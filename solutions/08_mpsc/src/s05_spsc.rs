//! # A lock-free SPSC ring buffer
//!
//! With exactly one producer and one consumer, a queue needs no lock and no compare-and-swap:
//! a fixed buffer of slots and two counters suffice. The producer owns `tail` (the next slot to
//! write) and the consumer owns `head` (the next slot to read); each only *reads* the other's.
//! Build [`ring`], which returns a [`Producer`] and a [`Consumer`], both taking `&mut self` so
//! that each side is one thread by construction.
//!
//! - The buffer is a power of two long, so a counter maps to its slot with `index & mask`, and
//!   the counters simply run on (wrapping) forever: the ring holds `tail - head` items, is
//!   empty when that is 0 and full when it equals the capacity. No slot is wasted to tell full
//!   from empty.
//! - Slots are `UnsafeCell<MaybeUninit<T>>`: a slot is initialised exactly when its counter
//!   lies in `head..tail`. The producer writes the slot, *then* publishes it by storing the new
//!   `tail`; the consumer loads `tail` before reading the slot. The counters carry news the
//!   other way too: the consumer's store of `head` tells the producer that a slot has been
//!   read and may be written again. Every access to a slot must be ordered by happens-before
//!   (stage 4) with the other side's last access to it, and the counters are the only links:
//!
//!   ```text
//!     producer                                  consumer
//!     slot[t].write(v)                             .
//!     tail.store(t + 1, ?) --------------> tail.load(?) == t + 1
//!                                             v = slot[t].read()
//!     head.load(?) == t + 1 <------------- head.store(t + 1, ?)
//!     slot[t].write(w)   (a lap later)
//!   ```
//!
//!   Each `?` is yours to choose, with a comment that says why (the loads are the ones that
//!   refresh a cached counter), and so are the orderings of the loads in `Drop`. The second
//!   arrow is the one that is easy to forget: a write that overtakes the other thread's read
//!   of the same slot is as much a data race as a read that overtakes the write.
//! - `head` and `tail` live on separate cache lines ([`CachePadded`]): otherwise every push
//!   invalidates the consumer's cache line and every pop the producer's (false sharing).
//! - Each side keeps a private *cached* copy of the other's counter and reloads the shared
//!   atomic only when the cached value says full (producer) or empty (consumer). Most
//!   operations then touch no shared cache line except the slot itself (Erik Rigtorp's
//!   optimisation; the benchmark shows what it is worth).
//! - Items still in the ring when both halves are gone are dropped, exactly once. Zero-sized
//!   types work unchanged (the buffer allocates nothing, the counters still count).
//!
//! Afterwards you can build a bounded lock-free queue, justify each ordering in it, and explain
//! why this one needs neither CAS nor any memory-reclamation scheme.
//!
//! Read: Erik Rigtorp, *Optimizing a ring buffer for throughput*:
//! <https://rigtorp.se/ringbuffer/>; *Rust Atomics and Locks*, chapter 3.
//!
//! Each half is one thread's: neither can be cloned.
//!
//! ```compile_fail,E0599
//! let (mut tx, _rx) = mpsc::s05_spsc::ring::<u32>(4);
//! let mut tx2 = tx.clone(); // error: `Producer` is not `Clone`
//! tx.push(1).unwrap();
//! tx2.push(2).unwrap();
//! ```

use std::mem::MaybeUninit;
use std::ops::Deref;

use crate::sync::{Arc, AtomicUsize, Ordering, UnsafeCell};

/// Aligns (and so pads) its contents to 128 bytes: two 64-byte lines, because some CPUs fetch
/// cache lines in adjacent pairs. Two `CachePadded` fields never share a line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct CachePadded<T>(pub T);

impl<T> Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The state both halves share.
struct Ring<T> {
    /// The consumer's counter: the next slot to read. Written only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// The producer's counter: the next slot to write. Written only by the producer.
    tail: CachePadded<AtomicUsize>,
    /// `capacity` slots; slot `i & mask` is initialised iff `head <= i < tail`.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    mask: usize,
}

// SAFETY: a slot is written only by the producer while it is outside `head..tail` and read
// only by the consumer while it is inside; the stores and loads of `head` and `tail` order
// those accesses (see their orderings in push and pop). Values move between threads, so `T: Send` is required.
unsafe impl<T: Send> Sync for Ring<T> {}
// SAFETY: the ring owns its `T`s; sending it sends them.
unsafe impl<T: Send> Send for Ring<T> {}

impl<T> Ring<T> {
    fn slot(&self, index: usize) -> &UnsafeCell<MaybeUninit<T>> {
        &self.slots[index & self.mask]
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: both halves are gone and the `Arc` synchronised with their last
        // accesses, so Relaxed loads see the final counters.
        let mut head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        while head != tail {
            // SAFETY: `head..tail` holds initialised items, each dropped once here.
            self.slot(head)
                .with_mut(|slot| unsafe { (*slot).assume_init_drop() });
            head = head.wrapping_add(1);
        }
    }
}

/// The writing half of a ring.
pub struct Producer<T> {
    ring: Arc<Ring<T>>,
    /// Our own counter; the atomic `tail` is only ever stored from this copy.
    tail: usize,
    /// The consumer's `head` when we last looked; never ahead of the real one.
    head_cache: usize,
}

/// The reading half of a ring.
pub struct Consumer<T> {
    ring: Arc<Ring<T>>,
    /// Our own counter; the atomic `head` is only ever stored from this copy.
    head: usize,
    /// The producer's `tail` when we last looked; never ahead of the real one.
    tail_cache: usize,
}

/// Creates a ring holding up to `capacity` items, rounded up to a power of two (at least 1).
pub fn ring<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    let capacity = capacity.max(1).next_power_of_two();
    let slots = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let ring = Arc::new(Ring {
        head: CachePadded(AtomicUsize::new(0)),
        tail: CachePadded(AtomicUsize::new(0)),
        slots,
        mask: capacity - 1,
    });
    (
        Producer {
            ring: Arc::clone(&ring),
            tail: 0,
            head_cache: 0,
        },
        Consumer {
            ring,
            head: 0,
            tail_cache: 0,
        },
    )
}

impl<T> Producer<T> {
    /// How many items the ring holds at most.
    pub fn capacity(&self) -> usize {
        self.ring.mask + 1
    }

    /// Appends `value`, or hands it back if the ring is full.
    pub fn push(&mut self, value: T) -> Result<(), T> {
        let tail = self.tail;
        if tail.wrapping_sub(self.head_cache) == self.capacity() {
            // Full as far as we know: look at the real head. Acquire pairs with the consumer's
            // Release store, so its read of the slot we are about to reuse is finished.
            self.head_cache = self.ring.head.load(Ordering::Acquire);
            if tail.wrapping_sub(self.head_cache) == self.capacity() {
                return Err(value);
            }
        }
        // SAFETY: `tail` is outside `head..tail` (the ring is not full), so the consumer does
        // not touch this slot, and only we (the one producer) write slots.
        self.ring
            .slot(tail)
            .with_mut(|slot| unsafe { (*slot).write(value) });
        self.tail = tail.wrapping_add(1);
        // Release: the write above happens-before the consumer's Acquire load of this tail.
        self.ring.tail.store(self.tail, Ordering::Release);
        Ok(())
    }
}

impl<T> Consumer<T> {
    /// How many items the ring holds at most.
    pub fn capacity(&self) -> usize {
        self.ring.mask + 1
    }

    /// Removes the oldest item, or returns `None` if the ring is empty.
    pub fn pop(&mut self) -> Option<T> {
        let head = self.head;
        if head == self.tail_cache {
            // Empty as far as we know: look at the real tail. Acquire pairs with the
            // producer's Release store, so the slot's contents are visible.
            self.tail_cache = self.ring.tail.load(Ordering::Acquire);
            if head == self.tail_cache {
                return None;
            }
        }
        // SAFETY: `head` is inside `head..tail`, so the slot is initialised; the producer
        // does not write it until we advance `head` past it, and we read it only once.
        let value = self
            .ring
            .slot(head)
            .with(|slot| unsafe { (*slot).assume_init_read() });
        self.head = head.wrapping_add(1);
        // Release: our read of the slot happens-before the producer reuses it.
        self.ring.head.store(self.head, Ordering::Release);
        Some(value)
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::Counted;
    use std::cell::Cell;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::thread;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a side waits for an update it never sees", f)
    }

    thread_local! {
        static ZST_DROPS: Cell<usize> = const { Cell::new(0) };
    }

    /// A zero-sized type whose drops are counted per thread.
    #[derive(Debug)]
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            ZST_DROPS.with(|d| d.set(d.get() + 1));
        }
    }

    #[test]
    fn capacity_rounds_up_to_a_power_of_two() {
        assert_eq!(ring::<u8>(5).0.capacity(), 8);
        assert_eq!(ring::<u8>(8).1.capacity(), 8);
        assert_eq!(ring::<u8>(1).0.capacity(), 1);
        assert_eq!(
            ring::<u8>(0).0.capacity(),
            1,
            "a ring holds at least one item"
        );
    }

    #[test]
    fn pop_on_an_empty_ring_returns_none() {
        let (_tx, mut rx) = ring::<u32>(4);
        assert_eq!(rx.pop(), None);
    }

    #[test]
    fn a_full_ring_refuses_and_hands_the_value_back() {
        let (mut tx, mut rx) = ring(4);
        for i in 0..4 {
            assert_eq!(tx.push(i), Ok(()), "a ring of capacity 4 takes 4 items");
        }
        assert_eq!(
            tx.push(4),
            Err(4),
            "the fifth push must fail: the ring is full"
        );
        assert_eq!(rx.pop(), Some(0));
        assert_eq!(tx.push(4), Ok(()), "a pop frees one slot");
        assert_eq!(tx.push(5), Err(5));
        for i in 1..5 {
            assert_eq!(rx.pop(), Some(i));
        }
        assert_eq!(rx.pop(), None);
    }

    #[test]
    fn items_stay_in_order_across_many_wrap_arounds() {
        let (mut tx, mut rx) = ring(4);
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        for round in 0..100 {
            for _ in 0..(round % 4 + 1) {
                tx.push(next_in).unwrap();
                next_in += 1;
            }
            while let Some(v) = rx.pop() {
                assert_eq!(v, next_out, "items must come out in the order they went in");
                next_out += 1;
            }
        }
        assert_eq!(next_out, next_in);
    }

    #[test]
    fn items_left_in_the_ring_are_dropped_once() {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let (mut tx, mut rx) = ring(4);
        // Move the counters on first, so that the leftover items (counters 3 and 4) straddle
        // the end of the buffer: slots 3 and 0.
        for _ in 0..2 {
            tx.push(Counted(std::sync::Arc::clone(&drops))).unwrap();
            drop(rx.pop());
        }
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 2);
        for _ in 0..3 {
            tx.push(Counted(std::sync::Arc::clone(&drops))).unwrap();
        }
        drop(rx.pop());
        drop(tx);
        assert_eq!(
            drops.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "items must stay alive while the consumer can still pop them"
        );
        drop(rx);
        assert_eq!(
            drops.load(std::sync::atomic::Ordering::SeqCst),
            5,
            "the two items never popped (in the buffer's last slot and, wrapped around, its \
             first) must be dropped with the ring, once each: walk the counters from head to \
             tail, not the slot positions"
        );
    }

    #[test]
    fn zero_sized_items_are_counted_and_dropped() {
        ZST_DROPS.with(|d| d.set(0));
        let (mut tx, mut rx) = ring(2);
        assert!(tx.push(Zst).is_ok());
        assert!(tx.push(Zst).is_ok());
        let refused = tx.push(Zst);
        assert!(
            refused.is_err(),
            "a ring of zero-sized items is still bounded"
        );
        drop(refused);
        assert_eq!(
            ZST_DROPS.with(Cell::get),
            1,
            "only the refused item was dropped"
        );
        let popped = rx.pop();
        assert!(popped.is_some(), "the first zero-sized item must come out");
        drop(popped);
        assert_eq!(ZST_DROPS.with(Cell::get), 2);
        drop((tx, rx));
        assert_eq!(
            ZST_DROPS.with(Cell::get),
            3,
            "the zero-sized item left in the ring must be dropped too, once"
        );
    }

    #[test]
    fn a_producer_and_a_consumer_thread_pass_every_item_in_order() {
        let n: u64 = if cfg!(miri) { 500 } else { 200_000 };
        let sum = within(10, move || {
            let (mut tx, mut rx) = ring(8);
            let producer = thread::spawn(move || {
                for i in 0..n {
                    let mut item = i;
                    while let Err(back) = tx.push(item) {
                        item = back;
                        thread::yield_now();
                    }
                }
            });
            let mut expected = 0;
            let mut sum = 0;
            while expected < n {
                match rx.pop() {
                    Some(v) => {
                        assert_eq!(v, expected, "items must arrive once each and in order");
                        sum += v;
                        expected += 1;
                    }
                    None => thread::yield_now(),
                }
            }
            producer.join().unwrap();
            assert_eq!(rx.pop(), None, "nothing may arrive twice");
            sum
        });
        assert_eq!(sum, n * (n - 1) / 2);
    }

    #[test]
    fn boxed_items_cross_threads_intact() {
        let n = if cfg!(miri) { 200 } else { 20_000 };
        within(10, move || {
            let (mut tx, mut rx) = ring::<Box<[usize; 4]>>(4);
            let producer = thread::spawn(move || {
                for i in 0..n {
                    let mut item = Box::new([i; 4]);
                    while let Err(back) = tx.push(item) {
                        item = back;
                        thread::yield_now();
                    }
                }
            });
            let mut got = 0;
            while got < n {
                match rx.pop() {
                    Some(b) => {
                        assert_eq!(*b, [got; 4], "the consumer must see the producer's writes");
                        got += 1;
                    }
                    None => thread::yield_now(),
                }
            }
            producer.join().unwrap();
        });
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Three items through a ring of two: the producer must wait for the consumer once, and
    /// the counters wrap the buffer.
    #[test]
    fn three_items_through_a_ring_of_two() {
        loom::model(|| {
            let (mut tx, mut rx) = ring::<Box<u32>>(2);
            let producer = thread::spawn(move || {
                for i in 0..3 {
                    let mut item = Box::new(i);
                    while let Err(back) = tx.push(item) {
                        item = back;
                        thread::yield_now();
                    }
                }
            });
            for i in 0..3 {
                let v = loop {
                    match rx.pop() {
                        Some(v) => break v,
                        None => thread::yield_now(),
                    }
                };
                assert_eq!(*v, i);
            }
            producer.join().unwrap();
        });
    }

    /// The halves dropped on different threads with an item left inside: it is freed once
    /// (loom reports a leak otherwise).
    #[test]
    fn leftover_items_are_freed_whichever_half_drops_last() {
        loom::model(|| {
            let (mut tx, mut rx) = ring::<Box<u32>>(2);
            let producer = thread::spawn(move || {
                tx.push(Box::new(1)).unwrap();
                tx.push(Box::new(2)).unwrap();
            });
            if let Some(v) = rx.pop() {
                assert_eq!(*v, 1);
            }
            drop(rx);
            producer.join().unwrap();
        });
    }
}
