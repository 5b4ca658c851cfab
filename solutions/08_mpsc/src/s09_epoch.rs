//! # Epoch-based reclamation
//!
//! A lock-free structure that unlinks a node cannot free it right away: another thread may
//! have loaded the pointer a moment earlier and be about to read through it. Stage 8's tag
//! fixed the *comparison*; this stage fixes the *memory*: free a node only once no thread can
//! still hold a reference to it. Epoch-based reclamation (Keir Fraser; crossbeam-epoch) does
//! that cheaply.
//!
//! - A [`Collector`] keeps a global epoch and one record per registered [`Handle`] (one per
//!   thread). Before touching shared nodes a thread *pins* itself ([`Handle::pin`]): it writes
//!   "pinned in epoch `e`" into its record, with `e` the global epoch, then issues a `SeqCst`
//!   fence. Dropping the [`Guard`] unpins it (a `Release` store).
//! - Unlinked objects are not freed but *deferred* ([`Guard::defer`]): tagged with the global
//!   epoch read after the unlink, and kept in the handle's bag.
//! - The global epoch advances from `e` to `e + 1` only when every pinned record says `e`
//!   ([`Handle::try_advance`]). So once the global epoch is `tag + 2`, every thread that was
//!   pinned when the object was unlinked has unpinned since, and nobody can reach it:
//!   [`Handle::collect`] runs its deferred functions, each exactly once.
//! - A thread that stays pinned holds the epoch back, and with it every free: one long-pinned
//!   guard makes garbage pile up (the test `a_long_pinned_guard_holds_reclamation_back`).
//!   That is the scheme's price, besides one fence per pin.
//! - A handle dropped with garbage still pending hands it to the collector, which runs it
//!   when it is dropped itself (or when some handle collects later).
//!
//! [`EpochStack`] puts it to work: a Treiber stack of heap nodes, pushed and popped by any
//! number of threads. `pop` needs a guard, because it reads `head.next` through a pointer that
//! another thread may unlink at the same moment; the popped node is deferred, not freed. As
//! no node's memory can be reused while a thread that saw it is pinned, the stack is also
//! free of ABA without any tag.
//!
//! The ordering argument, in short: a reader's pin (store, SeqCst fence, then loads of shared
//! pointers) and the advancing thread's scan (SeqCst fence, then loads of records) are the
//! store-buffer pattern of stage 4 again: either the scan sees the reader pinned, or the reader
//! sees the node already unlinked. The scan's `Acquire` fence after reading unpinned records
//! makes their accesses happen-before the free.
//!
//! One ordering no check here can judge: the claim of a record in `register` must `Acquire`
//! the previous owner's release of it, or your first pin could be ordered before that owner's
//! last unpin on the same counter and be hidden by it. Loom orders an atomic's stores in the
//! order it runs them, so it never shows that; a `Relaxed` claim passes. Only your argument
//! catches it.
//!
//! Afterwards you can explain how memory is reclaimed under concurrency without garbage
//! collection, and what it costs.
//!
//! Read: Aaron Turon, *Lock-freedom without garbage collection*:
//! <https://aturon.github.io/blog/2015/08/27/epoch/>; the crossbeam-epoch source
//! (`internal.rs`, `epoch.rs`) once your version works; *The Art of Multiprocessor
//! Programming*, chapter 10.
//!
//! Collecting frees objects, so it cannot happen while the same handle is pinned:
//!
//! ```compile_fail,E0499
//! use mpsc::s09_epoch::Collector;
//! let collector = Collector::new(1);
//! let mut handle = Collector::register(&collector).unwrap();
//! let guard = handle.pin();
//! handle.collect(); // error: `handle` is mutably borrowed by `guard`
//! drop(guard);
//! ```

use std::mem::ManuallyDrop;
use std::ptr;

use crate::s05_spsc::CachePadded;
use crate::sync::{Arc, AtomicBool, AtomicPtr, AtomicUsize, Mutex, Ordering, UnsafeCell, fence};

/// A deferred function: frees (or otherwise retires) one object.
type Deferred = Box<dyn FnOnce() + Send>;

/// The low bit of a record's state: set while its handle is pinned.
const PINNED: usize = 1;

/// One handle's slot in the collector.
struct Record {
    /// Whether a live `Handle` owns this record.
    in_use: AtomicBool,
    /// `0` when unpinned, `epoch << 1 | PINNED` when pinned in `epoch`.
    state: AtomicUsize,
}

/// The shared state of one epoch scheme: a global epoch and a record per handle.
pub struct Collector {
    epoch: CachePadded<AtomicUsize>,
    records: Box<[CachePadded<Record>]>,
    /// Garbage left behind by dropped handles, tagged with its epoch.
    orphans: Mutex<Vec<(usize, Deferred)>>,
}

impl Collector {
    /// A collector for at most `max_handles` handles alive at once.
    pub fn new(max_handles: usize) -> Arc<Self> {
        let records = (0..max_handles)
            .map(|_| {
                CachePadded(Record {
                    in_use: AtomicBool::new(false),
                    state: AtomicUsize::new(0),
                })
            })
            .collect();
        Arc::new(Self {
            epoch: CachePadded(AtomicUsize::new(0)),
            records,
            orphans: Mutex::new(Vec::new()),
        })
    }

    /// A handle for the calling thread, or `None` if `max_handles` are alive.
    pub fn register(this: &Arc<Self>) -> Option<Handle> {
        // Acquire on success: the previous owner's last accesses to the record (its
        // Release store of `in_use = false`) happen-before ours. Our first access, the pin's
        // store to `state`, comes before any fence, so without this edge it could be ordered
        // before the previous owner's unpin in `state`'s modification order, and the unpin
        // would hide our pin. Kept although no loom model fails without it: loom orders an
        // atomic's stores as it runs them, and the fence in `pin` acquires the release
        // store this CAS read before any access that loom checks.
        let index = this.records.iter().position(|r| {
            r.in_use
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        Some(Handle {
            collector: Arc::clone(this),
            index,
            garbage: Vec::new(),
        })
    }

    /// The current global epoch.
    pub fn epoch(&self) -> usize {
        self.epoch.load(Ordering::Relaxed)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // Every handle holds an `Arc` to us, so none is left: nothing can be pinned.
        let orphans = std::mem::take(&mut *self.orphans.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, deferred) in orphans {
            deferred();
        }
    }
}

/// One thread's membership in a [`Collector`].
pub struct Handle {
    collector: Arc<Collector>,
    index: usize,
    /// Deferred functions with the epoch they were deferred in.
    garbage: Vec<(usize, Deferred)>,
}

impl Handle {
    fn record(&self) -> &Record {
        &self.collector.records[self.index]
    }

    /// Pins this thread: until the guard drops, nothing unlinked from now on is freed.
    pub fn pin(&mut self) -> Guard<'_> {
        let epoch = self.collector.epoch.load(Ordering::Relaxed);
        self.record()
            .state
            .store(epoch << 1 | PINNED, Ordering::Relaxed);
        // SeqCst fence: our pin (a store) before our loads of shared pointers, against the
        // advancing thread's fence before its loads of records. Either it sees us pinned, or
        // we see every unlink that preceded its advance.
        fence(Ordering::SeqCst);
        Guard { handle: self }
    }

    /// Advances the global epoch by one if every pinned handle is pinned in it.
    pub fn try_advance(&self) -> bool {
        let collector = &self.collector;
        let global = collector.epoch.load(Ordering::Relaxed);
        // SeqCst fence: pairs with the fence in `pin` (see there).
        fence(Ordering::SeqCst);
        for record in collector.records.iter() {
            let state = record.state.load(Ordering::Relaxed);
            if state & PINNED != 0 && state >> 1 != global {
                return false;
            }
        }
        // Acquire fence: the Release unpins we just read (and the accesses before them)
        // happen-before the frees that this advance allows.
        fence(Ordering::Acquire);
        collector
            .epoch
            .compare_exchange(global, global + 1, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// Tries to advance the epoch, then runs every deferred function (this handle's and the
    /// collector's orphans) that no pinned thread can reach any more. Returns how many ran.
    pub fn collect(&mut self) -> usize {
        self.try_advance();
        // Acquire: pairs with the Release CAS that advanced the epoch this far.
        let global = self.collector.epoch.load(Ordering::Acquire);
        let ready = |&(tag, _): &(usize, Deferred)| tag + 2 <= global;
        let mut due: Vec<Deferred> = Vec::new();
        let mut kept = Vec::with_capacity(self.garbage.len());
        for item in self.garbage.drain(..) {
            if ready(&item) {
                due.push(item.1);
            } else {
                kept.push(item);
            }
        }
        self.garbage = kept;
        {
            let mut orphans = self
                .collector
                .orphans
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut i = 0;
            while i < orphans.len() {
                if ready(&orphans[i]) {
                    due.push(orphans.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
        }
        let ran = due.len();
        for deferred in due {
            deferred();
        }
        ran
    }

    /// How many deferred functions this handle still holds.
    pub fn pending(&self) -> usize {
        self.garbage.len()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.garbage.is_empty() {
            let garbage = std::mem::take(&mut self.garbage);
            self.collector
                .orphans
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(garbage);
        }
        // Release: our accesses happen-before the next owner's Acquire in `register`.
        self.record().in_use.store(false, Ordering::Release);
    }
}

/// Proof that a thread is pinned; unpins when dropped.
pub struct Guard<'h> {
    handle: &'h mut Handle,
}

impl Guard<'_> {
    /// Runs `f` once no thread that is pinned now (or was when the object was unlinked) can
    /// still be pinned. Call it after unlinking the object `f` retires.
    pub fn defer(&mut self, f: impl FnOnce() + Send + 'static) {
        // SeqCst fence: the unlink before the epoch read, so the tag is no older than any
        // epoch in which a thread could have seen the object.
        fence(Ordering::SeqCst);
        let tag = self.handle.collector.epoch.load(Ordering::Relaxed);
        self.handle.garbage.push((tag, Box::new(f)));
    }

    /// Frees `ptr` (as a `Box<T>`) once no pinned thread can reach it.
    ///
    /// # Safety
    ///
    /// `ptr` came from `Box::into_raw`, is unlinked (no thread that pins from now on can
    /// reach it), and is deferred only once.
    pub unsafe fn defer_destroy<T: Send + 'static>(&mut self, ptr: *mut T) {
        struct SendPtr<T>(*mut T);
        // SAFETY: the pointer owns a `T: Send`; it is only used to drop that `T`.
        unsafe impl<T: Send> Send for SendPtr<T> {}
        let ptr = SendPtr(ptr);
        self.defer(move || {
            let ptr = ptr;
            // SAFETY: the caller's contract; the epoch scheme guarantees no reader is left.
            drop(unsafe { Box::from_raw(ptr.0) });
        });
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Release: everything we read while pinned happens-before a free that follows an
        // advance which saw us unpinned.
        self.handle.record().state.store(0, Ordering::Release);
    }
}

struct Node<T> {
    /// Moved out by the thread whose CAS unlinks the node; never dropped with the node.
    value: ManuallyDrop<T>,
    /// Written before the node is published, never after. A cell from `crate::sync`, so
    /// that loom checks that every read of it happens after that write.
    next: UnsafeCell<*mut Node<T>>,
}

// SAFETY: a node owns its value (`T: Send`); `next` is only a link, read under a guard.
unsafe impl<T: Send> Send for Node<T> {}

/// A lock-free stack whose popped nodes are reclaimed through a [`Collector`].
pub struct EpochStack<T> {
    head: AtomicPtr<Node<T>>,
}

// SAFETY: values move between threads through the stack (`T: Send`); no `&T` is shared.
unsafe impl<T: Send> Send for EpochStack<T> {}
// SAFETY: as above; nodes are reached only under a guard and freed through the collector.
unsafe impl<T: Send> Sync for EpochStack<T> {}

impl<T> Default for EpochStack<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> EpochStack<T> {
    /// An empty stack.
    pub fn new() -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

impl<T: Send + 'static> EpochStack<T> {
    /// Pushes `value`. Needs no guard: it never reads through another node's pointer.
    pub fn push(&self, value: T) {
        let node = Box::into_raw(Box::new(Node {
            value: ManuallyDrop::new(value),
            next: UnsafeCell::new(ptr::null_mut()),
        }));
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: `node` is ours until the CAS publishes it.
            unsafe { (*node).next.with_mut(|next| *next = head) };
            // Release: the node's contents happen-before any Acquire load that finds it.
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }

    /// Pops the top value. The guard keeps the node alive while we read it, and receives
    /// the node to free.
    pub fn pop(&self, guard: &mut Guard<'_>) -> Option<T> {
        loop {
            // Acquire: pairs with the pushing CAS, so the node's fields are visible.
            let head = self.head.load(Ordering::Acquire);
            if head.is_null() {
                return None;
            }
            // SAFETY: we are pinned and loaded `head` while pinned, so even if another thread
            // unlinks it now, its memory is not freed before our guard drops.
            let next = unsafe { (*head).next.with(|next| *next) };
            // Relaxed: the Acquire load above already synchronized with the push of `head`
            // (every later change of the head is an RMW, continuing that release sequence).
            // A node is never pushed twice, and it is not freed while we are pinned, so a CAS
            // that finds `head` finds that same node; on failure we load again with Acquire.
            if self
                .head
                .compare_exchange(head, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                // SAFETY: our CAS unlinked `head`, so only we take its value, once; the node
                // (with the value moved out, `ManuallyDrop`) is freed through the guard.
                unsafe {
                    let value = ptr::read(&(*head).value);
                    guard.defer_destroy(head);
                    return Some(ManuallyDrop::into_inner(value));
                }
            }
        }
    }
}

impl<T> Drop for EpochStack<T> {
    fn drop(&mut self) {
        let mut node = self.head.load(Ordering::Relaxed);
        while !node.is_null() {
            // SAFETY: `&mut self`: no other thread can reach the remaining nodes; each was
            // made by `Box::into_raw` in `push` and still owns its value.
            let mut boxed = unsafe { Box::from_raw(node) };
            // SAFETY: the value was not moved out (the node was never popped).
            unsafe { ManuallyDrop::drop(&mut boxed.value) };
            node = boxed.next.into_inner();
        }
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::Counted;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;

    /// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
    fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
        crate::test_support::within(secs, "a push, pop or collect never finished", f)
    }

    fn counter() -> std::sync::Arc<StdAtomicUsize> {
        std::sync::Arc::new(StdAtomicUsize::new(0))
    }

    fn bump(c: &std::sync::Arc<StdAtomicUsize>) -> impl FnOnce() + Send + 'static {
        let c = std::sync::Arc::clone(c);
        move || {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn count(c: &std::sync::Arc<StdAtomicUsize>) -> usize {
        c.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn register_hands_out_at_most_max_handles_and_reuses_records() {
        let c = Collector::new(2);
        let a = Collector::register(&c).expect("first of two");
        let b = Collector::register(&c).expect("second of two");
        assert!(Collector::register(&c).is_none(), "only two records exist");
        drop(a);
        assert!(
            Collector::register(&c).is_some(),
            "a dropped handle's record must be free again"
        );
        drop(b);
    }

    #[test]
    fn the_epoch_advances_when_nobody_lags_behind() {
        let c = Collector::new(2);
        let mut h = Collector::register(&c).unwrap();
        let e = c.epoch();
        assert!(h.try_advance(), "nobody pinned: the epoch may advance");
        assert_eq!(c.epoch(), e + 1);
        let g = h.pin();
        drop(g);
        assert!(h.try_advance());
        assert_eq!(c.epoch(), e + 2);
    }

    #[test]
    fn a_deferred_function_runs_only_after_two_advances() {
        let c = Collector::new(1);
        let mut h = Collector::register(&c).unwrap();
        let ran = counter();
        {
            let mut g = h.pin();
            g.defer(bump(&ran));
            assert_eq!(count(&ran), 0, "defer must not run the function right away");
        }
        assert_eq!(h.pending(), 1);
        assert_eq!(h.collect(), 0, "one advance is not enough");
        assert_eq!(count(&ran), 0);
        assert_eq!(h.collect(), 1, "two advances past the defer: it may run");
        assert_eq!(count(&ran), 1);
        assert_eq!(h.collect(), 0);
        assert_eq!(count(&ran), 1, "a deferred function runs exactly once");
        assert_eq!(h.pending(), 0);
    }

    #[test]
    fn a_long_pinned_guard_holds_reclamation_back() {
        let c = Collector::new(2);
        let mut reader = Collector::register(&c).unwrap();
        let mut writer = Collector::register(&c).unwrap();
        let ran = counter();
        let long = reader.pin();
        writer.pin().defer(bump(&ran));
        let start = c.epoch();
        for _ in 0..10 {
            writer.collect();
        }
        assert!(
            c.epoch() <= start + 1,
            "a thread pinned in epoch {start} must stop the epoch at {}",
            start + 1
        );
        assert!(
            c.epoch() > start,
            "a thread pinned in the current epoch {start} must not stop the epoch from \
             advancing to {}: only a record pinned in another epoch holds it back",
            start + 1
        );
        assert_eq!(count(&ran), 0, "the pinned reader may still see the object");
        assert_eq!(writer.pending(), 1);
        drop(long);
        for _ in 0..3 {
            writer.collect();
        }
        assert_eq!(count(&ran), 1, "once the reader unpins, the garbage goes");
    }

    #[test]
    fn a_handle_pinned_in_the_current_epoch_does_not_hold_it_back() {
        let c = Collector::new(2);
        let mut reader = Collector::register(&c).unwrap();
        let writer = Collector::register(&c).unwrap();
        for _ in 0..5 {
            assert!(writer.try_advance(), "nobody pinned: the epoch may advance");
        }
        let now = c.epoch();
        let guard = reader.pin();
        assert!(
            writer.try_advance(),
            "a handle pinned in the current epoch {now} must not stop the epoch from advancing \
             to {} (in epoch 0 it did not): does the pinned state record the epoch it was \
             pinned in, for every epoch?",
            now + 1
        );
        assert!(
            !writer.try_advance(),
            "the handle pinned in epoch {now} must stop the epoch at {}",
            now + 1
        );
        drop(guard);
    }

    #[test]
    fn garbage_of_a_dropped_handle_runs_once_with_the_collector() {
        let c = Collector::new(2);
        let ran = counter();
        let mut h = Collector::register(&c).unwrap();
        for _ in 0..3 {
            h.pin().defer(bump(&ran));
        }
        drop(h);
        assert_eq!(count(&ran), 0, "pending garbage must survive its handle");
        drop(c);
        assert_eq!(
            count(&ran),
            3,
            "the collector runs the orphans when dropped, once each"
        );
    }

    #[test]
    fn orphans_are_collected_by_other_handles() {
        within(5, || {
            let c = Collector::new(2);
            let ran = counter();
            let mut h = Collector::register(&c).unwrap();
            h.pin().defer(bump(&ran));
            drop(h);
            let mut other = Collector::register(&c).unwrap();
            for _ in 0..3 {
                other.collect();
            }
            assert_eq!(
                count(&ran),
                1,
                "another handle's collect must run due orphans"
            );
            drop(other);
            drop(c);
            assert_eq!(count(&ran), 1, "and never run them twice");
        });
    }

    #[test]
    fn the_stack_is_last_in_first_out_and_frees_every_node() {
        let drops = counter();
        let c = Collector::new(1);
        let mut h = Collector::register(&c).unwrap();
        let stack = EpochStack::new();
        for i in 0..4 {
            stack.push((i, Counted(std::sync::Arc::clone(&drops))));
        }
        {
            let mut g = h.pin();
            assert_eq!(stack.pop(&mut g).map(|(i, _)| i), Some(3));
            assert_eq!(stack.pop(&mut g).map(|(i, _)| i), Some(2));
        }
        assert_eq!(
            count(&drops),
            2,
            "popped values are the caller's, dropped by it"
        );
        assert_eq!(h.pending(), 2, "{POPS_DEFER}");
        drop(stack);
        assert_eq!(
            count(&drops),
            4,
            "values left in the stack drop with it, once"
        );
        drop(h);
        drop(c);
        assert_eq!(
            count(&drops),
            4,
            "freeing the nodes must not drop the values again"
        );
    }

    const POPS_DEFER: &str = "each popped node is deferred, not freed";

    /// One push and one pop on this thread: the popped node must be deferred. The threaded
    /// test checks this first, so a pop that frees at once fails it with this message
    /// instead of letting four threads read freed nodes.
    fn assert_a_pop_defers_its_node() {
        let c = Collector::new(1);
        let mut h = Collector::register(&c).unwrap();
        let stack = EpochStack::new();
        stack.push(1_usize);
        assert_eq!(stack.pop(&mut h.pin()), Some(1), "the pushed value pops");
        assert_eq!(h.pending(), 1, "{POPS_DEFER}");
    }

    #[test]
    fn four_threads_push_and_pop_every_value_once() {
        let per: usize = if cfg!(miri) { 30 } else { 5_000 };
        assert_a_pop_defers_its_node();
        within(10, move || {
            let c = Collector::new(4);
            let stack = std::sync::Arc::new(EpochStack::new());
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    let stack = std::sync::Arc::clone(&stack);
                    let mut h = Collector::register(&c).unwrap();
                    std::thread::spawn(move || {
                        let mut got = Vec::new();
                        for i in 0..per {
                            stack.push(t * per + i);
                            if i % 2 == 1 {
                                let mut g = h.pin();
                                got.extend(stack.pop(&mut g));
                                got.extend(stack.pop(&mut g));
                            }
                            if i % 64 == 0 {
                                h.collect();
                            }
                        }
                        got
                    })
                })
                .collect();
            let mut all: Vec<usize> = workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect();
            let mut h = Collector::register(&c).unwrap();
            let mut g = h.pin();
            while let Some(v) = stack.pop(&mut g) {
                all.push(v);
            }
            drop(g);
            all.sort_unstable();
            assert_eq!(
                all,
                (0..4 * per).collect::<Vec<_>>(),
                "every value must be popped exactly once"
            );
        });
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// A reader pinned while it reads `current` must never find the object it read retired;
    /// the writer swaps in a new object, defers retiring the old one, and collects.
    #[test]
    fn a_retired_object_outlives_every_guard_that_could_see_it() {
        loom::model(|| {
            let c = Collector::new(2);
            let current = Arc::new(AtomicUsize::new(0));
            let retired: Arc<[AtomicBool; 2]> =
                Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
            let mut reader = Collector::register(&c).unwrap();
            let reading = {
                let (current, retired) = (Arc::clone(&current), Arc::clone(&retired));
                thread::spawn(move || {
                    let guard = reader.pin();
                    let seen = current.load(Ordering::Acquire);
                    assert!(
                        !retired[seen].load(Ordering::Acquire),
                        "object {seen} retired while a guard could still read it"
                    );
                    drop(guard);
                })
            };
            let mut writer = Collector::register(&c).unwrap();
            {
                let mut guard = writer.pin();
                let old = current.swap(1, Ordering::AcqRel);
                let retired = Arc::clone(&retired);
                guard.defer(move || retired[old].store(true, Ordering::Release));
            }
            for _ in 0..3 {
                writer.collect();
            }
            reading.join().unwrap();
            for _ in 0..3 {
                writer.collect();
            }
            assert!(
                retired[0].load(Ordering::Relaxed),
                "with every guard gone, three collects must retire the object"
            );
        });
    }

    /// A value whose every access loom checks: a read or write that does not *happen after*
    /// the last write (its creation counts as one) is reported as a causality violation.
    struct Tracked(loom::cell::UnsafeCell<usize>);
    impl Tracked {
        fn new(v: usize) -> Self {
            Self(loom::cell::UnsafeCell::new(v))
        }
        fn read(&self) -> usize {
            // SAFETY (of the test): loom reports any read not ordered after every write.
            self.0.with(|p| unsafe { *p })
        }
        fn write(&self, v: usize) {
            // SAFETY (of the test): loom reports any write not ordered after every access.
            self.0.with_mut(|p| unsafe { *p = v });
        }
    }
    // SAFETY (of the test): loom's `UnsafeCell` checks every access.
    unsafe impl Sync for Tracked {}

    /// The writer swaps `current` from object 0 to object 1 and defers retiring object 0
    /// (a write to it); the reader reads the object `current` names while pinned. With
    /// `reader_collects`, the reader also collects before pinning and after unpinning, so
    /// either thread may advance the epoch.
    fn retire_while_reading(reader_collects: bool) {
        let c = Collector::new(2);
        let current = Arc::new(AtomicUsize::new(0));
        let objects = Arc::new([Tracked::new(0), Tracked::new(1)]);
        let mut reader = Collector::register(&c).unwrap();
        let reading = {
            let (current, objects) = (Arc::clone(&current), Arc::clone(&objects));
            thread::spawn(move || {
                if reader_collects {
                    reader.collect();
                }
                {
                    let _guard = reader.pin();
                    let seen = current.load(Ordering::Acquire);
                    assert_eq!(objects[seen].read(), seen, "read a retired object");
                }
                if reader_collects {
                    reader.collect();
                }
            })
        };
        let mut writer = Collector::register(&c).unwrap();
        {
            let mut guard = writer.pin();
            let old = current.swap(1, Ordering::AcqRel);
            let objects = Arc::clone(&objects);
            guard.defer(move || objects[old].write(usize::MAX));
        }
        for _ in 0..3 {
            writer.collect();
        }
        reading.join().unwrap();
    }

    /// Retiring an object must happen after every read of it by a thread that was pinned
    /// when it could see the object: the unpin, read by the advancing thread, carries it.
    #[test]
    fn retiring_happens_after_every_pinned_read() {
        loom::model(|| retire_while_reading(false));
    }

    /// The same when the reader advances the epoch too: the epoch it publishes carries its
    /// reads to the writer, and a writer that tags its garbage with an old epoch frees it
    /// too early.
    #[test]
    fn retiring_after_the_reader_advances_the_epoch() {
        loom::model(|| retire_while_reading(true));
    }

    /// A third thread advances the epoch while the reader is pinned: it must see the pin
    /// (the fence in `try_advance`), or the writer frees the object under the reader.
    #[test]
    fn an_advance_on_a_third_thread_waits_for_the_pinned_reader() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let c = Collector::new(3);
            let current = Arc::new(AtomicUsize::new(0));
            let objects = Arc::new([Tracked::new(0), Tracked::new(1)]);
            let mut reader = Collector::register(&c).unwrap();
            let advancer = Collector::register(&c).unwrap();
            let mut writer = Collector::register(&c).unwrap();
            let reading = {
                let (current, objects) = (Arc::clone(&current), Arc::clone(&objects));
                thread::spawn(move || {
                    let _guard = reader.pin();
                    let seen = current.load(Ordering::Acquire);
                    assert_eq!(objects[seen].read(), seen, "read a retired object");
                })
            };
            let advancing = thread::spawn(move || {
                advancer.try_advance();
                advancer.try_advance();
            });
            {
                let mut guard = writer.pin();
                let old = current.swap(1, Ordering::AcqRel);
                let objects = Arc::clone(&objects);
                guard.defer(move || objects[old].write(usize::MAX));
            }
            writer.collect();
            reading.join().unwrap();
            advancing.join().unwrap();
        });
    }

    /// A value pushed on one thread is fully visible to the thread that pops it.
    #[test]
    fn a_popped_value_is_visible_to_the_popper() {
        loom::model(|| {
            let c = Collector::new(1);
            let stack = Arc::new(EpochStack::new());
            let pushing = {
                let stack = Arc::clone(&stack);
                thread::spawn(move || stack.push(Tracked::new(7)))
            };
            let mut h = Collector::register(&c).unwrap();
            let value = loop {
                if let Some(v) = stack.pop(&mut h.pin()) {
                    break v;
                }
                thread::yield_now();
            };
            assert_eq!(value.read(), 7);
            pushing.join().unwrap();
        });
    }

    /// Two threads pop concurrently from a two-element stack: each value once, no node
    /// freed while the other thread might read it.
    #[test]
    fn two_poppers_share_the_values() {
        loom::model(|| {
            let c = Collector::new(2);
            let stack = Arc::new(EpochStack::new());
            stack.push(1usize);
            stack.push(2usize);
            let mut h1 = Collector::register(&c).unwrap();
            let other = {
                let stack = Arc::clone(&stack);
                thread::spawn(move || {
                    let v = stack.pop(&mut h1.pin());
                    h1.collect();
                    v
                })
            };
            let mut h0 = Collector::register(&c).unwrap();
            let mine = stack.pop(&mut h0.pin());
            h0.collect();
            let theirs = other.join().unwrap();
            let mut got = [mine, theirs];
            got.sort_unstable();
            assert_eq!(got, [Some(1), Some(2)], "each value exactly once");
        });
    }
}
