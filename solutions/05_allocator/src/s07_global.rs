//! # A real global allocator: a lock around the heap, behind `GlobalAlloc`
//!
//! `GlobalAlloc` is the trait behind `#[global_allocator]`: every `Box`, `Vec`, `String` and
//! thread of the program then gets its memory from you. Its methods take `&self`, because the
//! allocator is a `static` shared by all threads, so the `&mut Heap` that `alloc` needs must
//! come from interior mutability guarded by a lock. This stage builds the lock and the
//! allocator around it:
//!
//! - [`SpinLock<T>`] is a lock on an `AtomicBool`; its [`SpinGuard`] releases it on drop.
//!   Everything the last owner wrote to the free list must be visible to the next owner: the
//!   memory orderings that promise it are yours to choose, and Miri judges them.
//!   `std::sync::Mutex` is not an option: it may allocate, or be the very thing being
//!   allocated for.
//! - A thread that finds the lock taken waits with a [`Backoff`]: [`SPIN_LIMIT`] rounds of
//!   spinning (1, 2, 4, ... `spin_loop` hints), then `std::thread::yield_now()` at every
//!   further round. The lock is held for a few dozen nanoseconds, so a short spin usually sees
//!   it released; but an owner preempted while holding it cannot release it until it runs
//!   again, and a waiter that only spins burns the core the owner may be waiting for. A test
//!   runs four times as many threads as your machine has cores.
//! - The memory is an [`Arena`]: a `static` of `N` bytes aligned to `MAX_ALIGN`. The heap
//!   cannot take its region from `std::alloc`: it *is* `std::alloc` now. An arena serves one
//!   heap only: the first [`LockedHeap`] to use it claims it, and any other gets null for
//!   every request. That keeps [`LockedHeap::new`] safe: two heaps handing out the same bytes
//!   would be two owners of one `&mut`.
//! - [`LockedHeap<H>`] guards any [`ArenaHeap`]: a first-fit [`Heap`] by default, another
//!   strategy, or the size classes of the last stage. `new` is a `const fn`, so that it can
//!   initialise a `static`; the heap is built on the first request, inside the lock.
//! - The rules of a global allocator: never allocate (you would call yourself, and deadlock on
//!   your own lock), never panic or unwind, report out of memory as a null pointer.
//!
//! Data races are the aliasing rule across threads: two threads carving the same free block
//! without the lock would each get a `&mut` to the same bytes. With a lock that does not
//! lock, the threaded test may well pass natively, but Miri stops it at once: `not granting
//! access to tag <TAG> because that would remove [Unique for <TAG>] which is strongly
//! protected`, at the second thread's `deref` of the guard while the first thread's `&mut
//! Heap` is still live, or `Data race detected between ...`. In safe Rust, `Sync` prevents
//! this; here `unsafe impl Sync for SpinLock<T>` is your promise that the lock makes it true.
//!
//! The example on [`LockedHeap`] runs the whole crate as the allocator of a real program, with
//! collections, strings and threads (the `doc` check runs it). How production allocators keep
//! threads off a shared lock is in the project's README.
//!
//! Afterwards you can implement `GlobalAlloc` behind a lock of your own, say what an
//! `unsafe impl Sync` promises, and why a pure spin lock fails with more threads than cores.
//!
//! Read: the `GlobalAlloc` docs and their safety contract:
//! <https://doc.rust-lang.org/std/alloc/trait.GlobalAlloc.html>; Mara Bos, Rust Atomics and
//! Locks, chapter 4 (building a spin lock): <https://marabos.nl/atomics/building-spinlock.html>;
//! Rust for Rustaceans, chapter 9 ("Unsafe Code"), on what an `unsafe impl Sync` promises.

use crate::s02_free_list::FreeStats;
use crate::s03_heap::{FirstFit, Heap, Strategy};
use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::ptr::{NonNull, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};

/// Rounds of spinning (1, 2, 4, ... `spin_loop` hints) before a waiter starts to yield.
pub const SPIN_LIMIT: u32 = 6;

/// What one [`Backoff::snooze`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// Spun this many `std::hint::spin_loop` hints.
    Spun(u32),
    /// Gave the rest of the time slice away with `std::thread::yield_now`.
    Yielded,
}

/// How a thread waits for a lock: spin briefly, then yield.
#[derive(Debug, Default)]
pub struct Backoff {
    /// The rounds spun so far.
    step: u32,
}

impl Backoff {
    /// A waiter that has not waited yet.
    pub const fn new() -> Self {
        Backoff { step: 0 }
    }

    /// Waits a little: `SPIN_LIMIT` rounds of spinning, each twice as long as the last, and
    /// from then on a yield at every call.
    pub fn snooze(&mut self) -> Waited {
        if self.step < SPIN_LIMIT {
            let spins = 1 << self.step;
            for _ in 0..spins {
                std::hint::spin_loop();
            }
            self.step += 1;
            Waited::Spun(spins)
        } else {
            // The owner may be waiting for a core: give ours away.
            std::thread::yield_now();
            Waited::Yielded
        }
    }
}

/// A spin-then-yield lock: `T` behind an `AtomicBool`, for code that must not allocate.
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time, so sharing the lock
// only ever moves `T` between threads (hence `T: Send`), like `std::sync::Mutex`.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// An unlocked lock around `value`.
    pub const fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Waits (with a [`Backoff`]) until the lock is free, takes it, and returns a guard that
    /// releases it on drop.
    pub fn lock(&self) -> SpinGuard<'_, T> {
        // Acquire pairs with the Release in `SpinGuard::drop`: the previous owner's writes to
        // `value` happen before ours.
        let mut backoff = Backoff::new();
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Wait with plain loads, so the cache line is not bounced by failed swaps.
            while self.locked.load(Ordering::Relaxed) {
                backoff.snooze();
            }
        }
        SpinGuard { lock: self }
    }
}

/// Exclusive access to a [`SpinLock`]'s value; unlocks when dropped.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held by us.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held by us, and `&mut self`
        // ensures this is the only reference made through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

/// `N` bytes of memory for one [`LockedHeap`], aligned to `MAX_ALIGN` (4096).
#[repr(C, align(4096))]
pub struct Arena<const N: usize> {
    mem: UnsafeCell<[MaybeUninit<u8>; N]>,
    /// Set by the first heap that uses the arena.
    claimed: AtomicBool,
}

// SAFETY: the memory is only accessed by the one LockedHeap that claimed it, under its lock.
unsafe impl<const N: usize> Sync for Arena<N> {}

impl<const N: usize> Arena<N> {
    /// An unclaimed arena.
    pub const fn new() -> Self {
        Arena {
            mem: UnsafeCell::new([const { MaybeUninit::uninit() }; N]),
            claimed: AtomicBool::new(false),
        }
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A heap that can live in an arena: what [`LockedHeap`] needs from the heap it guards.
pub trait ArenaHeap: Sized + Send {
    /// A heap over `[base, base + size)`, or `None` if that is too small.
    ///
    /// # Safety
    /// The memory must be valid, and used by nothing else, for as long as the heap is.
    unsafe fn from_arena(base: NonNull<u8>, size: usize) -> Option<Self>;
    /// See [`Heap::alloc`].
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>>;
    /// See [`Heap::free`].
    ///
    /// # Safety
    /// As for [`Heap::free`].
    unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout);
    /// See [`Heap::realloc`].
    ///
    /// # Safety
    /// As for [`Heap::realloc`].
    unsafe fn realloc(
        &mut self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>>;
    /// The invariant walker.
    fn check(&self) -> Result<FreeStats, String>;
}

impl<S: Strategy + Default + Send> ArenaHeap for Heap<S> {
    unsafe fn from_arena(base: NonNull<u8>, size: usize) -> Option<Self> {
        // SAFETY: the caller's promise is the one `from_raw_parts` needs.
        unsafe { Heap::from_raw_parts(base, size, S::default()) }
    }
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        Heap::alloc(self, layout)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { Heap::free(self, ptr, layout) }
    }
    unsafe fn realloc(
        &mut self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Option<NonNull<u8>> {
        // SAFETY: forwarded from the caller.
        unsafe { Heap::realloc(self, ptr, layout, new_size) }
    }
    fn check(&self) -> Result<FreeStats, String> {
        Heap::check(self)
    }
}

/// Whether the heap was set up yet, and the heap (`None` if the arena was claimed by
/// another heap, or is too small).
struct State<H> {
    started: bool,
    heap: Option<H>,
}

/// A heap (first fit by default) behind a spin lock, usable as `#[global_allocator]`.
///
/// The whole crate as the allocator of a real program, with collections, strings and threads:
///
/// ```
/// use allocator::s07_global::{Arena, LockedHeap};
/// use std::collections::{BTreeMap, HashMap};
///
/// static ARENA: Arena<{ 8 << 20 }> = Arena::new();
/// // Miri: this example runs natively only. A `Box` freed inside a function that took it by
/// // value (`drop(b)`, std's thread start) keeps its bytes protected until that function
/// // returns, and Miri cannot tell that the free-list node `dealloc` writes there is the
/// // global allocator's own write: it reports undefined behaviour (Stacked and Tree Borrows
/// // alike) for any allocator that keeps its list in freed memory. The unit tests, which free
/// // blocks through a program's pointers too, judge the heap under Miri instead.
/// #[cfg_attr(not(miri), global_allocator)]
/// static HEAP: LockedHeap = LockedHeap::new(&ARENA);
///
/// fn main() {
///     if cfg!(miri) {
///         return;
///     }
///     let mut words: Vec<String> = (0..2000).map(|i| format!("word-{i}")).collect();
///     words.sort();
///     let counts: HashMap<&str, usize> = words.iter().map(|w| (w.as_str(), w.len())).collect();
///     let tree: BTreeMap<usize, String> = (0..500).map(|i| (i, i.to_string())).collect();
///     assert_eq!(counts.len(), 2000);
///     assert_eq!(tree[&42], "42");
///
///     let threads: Vec<_> = (0..4)
///         .map(|t| {
///             std::thread::spawn(move || {
///                 let mut v = Vec::new();
///                 for i in 0..2000 {
///                     v.push(vec![t as u8; i % 100]);
///                 }
///                 v.iter().map(Vec::len).sum::<usize>()
///             })
///         })
///         .collect();
///     for t in threads {
///         assert_eq!(t.join().unwrap(), 20 * (0..100).sum::<usize>());
///     }
///
///     let s = String::from("served by our heap");
///     assert!(HEAP.contains(s.as_ptr()), "the String's buffer comes from the arena");
/// }
/// ```
pub struct LockedHeap<H = Heap<FirstFit>> {
    /// The arena's memory, its size, and its claim flag.
    mem: *mut u8,
    size: usize,
    claimed: &'static AtomicBool,
    state: SpinLock<State<H>>,
}

// SAFETY: the heap is only reached through the spin lock (which needs `H: Send`); `mem` is a
// pointer to a `'static` arena that only the heap, under the lock, writes through.
unsafe impl<H: Send> Sync for LockedHeap<H> {}
// SAFETY: as above.
unsafe impl<H: Send> Send for LockedHeap<H> {}

impl<H: ArenaHeap> LockedHeap<H> {
    /// A heap over `arena`, set up on first use.
    pub const fn new<const N: usize>(arena: &'static Arena<N>) -> Self {
        LockedHeap {
            mem: arena.mem.get().cast::<u8>(),
            size: N,
            claimed: &arena.claimed,
            state: SpinLock::new(State {
                started: false,
                heap: None,
            }),
        }
    }

    /// Runs `f` on the heap with the lock held; `None` if this heap has no memory.
    fn with_heap<R>(&self, f: impl FnOnce(&mut H) -> R) -> Option<R> {
        let mut state = self.state.lock();
        if !state.started {
            state.started = true;
            if !self.claimed.swap(true, Ordering::AcqRel) {
                // SAFETY: the arena is 'static, valid for `size` bytes, and now ours alone.
                state.heap = unsafe { H::from_arena(NonNull::new(self.mem)?, self.size) };
            }
        }
        state.heap.as_mut().map(f)
    }

    /// Whether `ptr` points into this heap's arena.
    pub fn contains(&self, ptr: *const u8) -> bool {
        let start = self.mem.addr();
        (start..start + self.size).contains(&ptr.addr())
    }

    /// Runs the heap's invariant walker. Meant for tests: a failed check formats its message
    /// while holding the lock, so do not call it on a corrupted global allocator.
    pub fn check(&self) -> Result<FreeStats, String> {
        self.with_heap(|h| h.check())
            .unwrap_or_else(|| Err("this heap has no memory".to_string()))
    }
}

// SAFETY: blocks come from the heap, which hands out each byte to one allocation at a time,
// aligned as requested; all access to the heap is serialised by the lock. Nothing here
// allocates or panics: failures are null pointers.
unsafe impl<H: ArenaHeap> GlobalAlloc for LockedHeap<H> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with_heap(|h| h.alloc(layout))
            .flatten()
            .map_or(null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(ptr) = NonNull::new(ptr) else {
            return;
        };
        // SAFETY: the caller promises `ptr` came from this allocator with `layout`.
        self.with_heap(|h| unsafe { h.free(ptr, layout) });
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(ptr) = NonNull::new(ptr) else {
            return null_mut();
        };
        // SAFETY: the caller promises `ptr` came from this allocator with `layout`.
        self.with_heap(|h| unsafe { h.realloc(ptr, layout, new_size) })
            .flatten()
            .map_or(null_mut(), NonNull::as_ptr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{PATIENCE, bytes, watchdog};
    use std::sync::mpsc;

    #[test]
    fn a_locked_heap_serves_the_curriculum_example() {
        watchdog(|| {
            static ARENA: Arena<4096> = Arena::new();
            static HEAP: LockedHeap = LockedHeap::new(&ARENA);
            // SAFETY: each pointer is used within its layout and freed once.
            unsafe {
                let a = HEAP.alloc(Layout::new::<i32>());
                let b = HEAP.alloc(Layout::new::<String>());
                assert!(!a.is_null() && !b.is_null());
                assert!(
                    HEAP.contains(a) && HEAP.contains(b),
                    "blocks come from the arena"
                );
                a.cast::<i32>().write(7);
                HEAP.dealloc(a, Layout::new::<i32>());
                let c = HEAP.alloc(Layout::new::<i32>());
                assert_eq!(c, a, "the freed i32 block is reused");
                HEAP.dealloc(b, Layout::new::<String>());
                HEAP.dealloc(c, Layout::new::<i32>());
            }
            let stats = HEAP.check().unwrap();
            assert_eq!((stats.free_bytes, stats.blocks), (4096, 1));
        });
    }

    #[test]
    fn out_of_memory_is_a_null_pointer_not_a_panic() {
        watchdog(|| {
            static ARENA: Arena<1024> = Arena::new();
            static HEAP: LockedHeap = LockedHeap::new(&ARENA);
            // SAFETY: null results are never used; `p` is freed once.
            unsafe {
                assert!(HEAP.alloc(bytes(2048)).is_null());
                assert!(
                    HEAP.alloc(Layout::from_size_align(8, 8192).unwrap())
                        .is_null()
                );
                let huge = Layout::from_size_align(isize::MAX as usize, 1).unwrap();
                assert!(HEAP.alloc(huge).is_null());
                let p = HEAP.alloc(bytes(1000));
                assert!(!p.is_null());
                assert!(
                    HEAP.realloc(p, bytes(1000), 5000).is_null(),
                    "no room to grow"
                );
                HEAP.dealloc(p, bytes(1000));
            }
            assert_eq!(HEAP.check().unwrap().free_bytes, 1024);
        });
    }

    #[test]
    fn an_arena_serves_only_one_heap() {
        watchdog(|| {
            static ARENA: Arena<1024> = Arena::new();
            static FIRST: LockedHeap = LockedHeap::new(&ARENA);
            static SECOND: LockedHeap = LockedHeap::new(&ARENA);
            // SAFETY: null results are never used; `p` is freed once.
            unsafe {
                let p = FIRST.alloc(bytes(64));
                assert!(!p.is_null());
                assert!(
                    SECOND.alloc(bytes(64)).is_null(),
                    "a second heap on a claimed arena would hand out the same bytes twice"
                );
                FIRST.dealloc(p, bytes(64));
            }
            assert!(SECOND.check().is_err());
        });
    }

    #[test]
    fn contains_is_exactly_the_arena() {
        watchdog(|| {
            static ARENA: Arena<256> = Arena::new();
            static HEAP: LockedHeap = LockedHeap::new(&ARENA);
            let start = ARENA.mem.get().cast::<u8>().cast_const();
            assert!(HEAP.contains(start), "the arena's first byte is in it");
            assert!(
                HEAP.contains(start.wrapping_add(255)),
                "the arena's last byte is in it"
            );
            assert!(
                !HEAP.contains(start.wrapping_add(256)),
                "one past the end of the arena is not in it: that address belongs to whatever \
                 lies after the arena"
            );
            assert!(
                !HEAP.contains(start.wrapping_sub(1)),
                "the byte before the arena is not in it"
            );
        });
    }

    #[test]
    fn realloc_and_alloc_zeroed_go_through_the_heap() {
        watchdog(|| {
            static ARENA: Arena<8192> = Arena::new();
            static HEAP: LockedHeap = LockedHeap::new(&ARENA);
            // SAFETY: every pointer is used within its current layout and freed once.
            unsafe {
                let p = HEAP.alloc(bytes(32));
                for i in 0..32 {
                    p.add(i).write(i as u8);
                }
                let q = HEAP.realloc(p, bytes(32), 3000);
                assert!(!q.is_null() && HEAP.contains(q));
                assert!(
                    (0..32).all(|i| q.add(i).read() == i as u8),
                    "realloc keeps the data"
                );
                let z = HEAP.alloc_zeroed(bytes(256));
                assert!(HEAP.contains(z));
                assert!((0..256).all(|i| z.add(i).read() == 0));
                HEAP.dealloc(q, bytes(3000));
                HEAP.dealloc(z, bytes(256));
            }
            assert_eq!(HEAP.check().unwrap().blocks, 1);
        });
    }

    #[test]
    fn threads_allocate_concurrently_without_losing_a_byte() {
        static ARENA: Arena<{ 64 * 1024 }> = Arena::new();
        static HEAP: LockedHeap = LockedHeap::new(&ARENA);
        let rounds = if cfg!(miri) { 20 } else { 3000 };
        let (tx, rx) = mpsc::channel();
        for t in 0..4u8 {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut live = Vec::new();
                for i in 0..rounds {
                    let layout = bytes(8 + (i * 7 + t as usize * 13) % 200);
                    // SAFETY: a fresh block of `layout.size()` bytes, or null.
                    let p = unsafe { HEAP.alloc(layout) };
                    assert!(!p.is_null(), "64 KiB is plenty for this workload");
                    // SAFETY: as above.
                    unsafe { p.write_bytes(t, layout.size()) };
                    live.push((p, layout));
                    if live.len() > 8 {
                        let (q, l) = live.remove(0);
                        // SAFETY: ours, filled with `t`, freed once.
                        unsafe {
                            let data = std::slice::from_raw_parts(q, l.size());
                            assert!(data.iter().all(|&b| b == t), "another thread wrote here");
                            HEAP.dealloc(q, l);
                        }
                    }
                }
                for (q, l) in live {
                    // SAFETY: ours, freed once.
                    unsafe { HEAP.dealloc(q, l) };
                }
                tx.send(()).unwrap();
            });
        }
        drop(tx); // if every thread dies, `recv_timeout` fails at once
        for _ in 0..4 {
            rx.recv_timeout(PATIENCE)
                .expect("a thread panicked or the lock deadlocked");
        }
        let stats = HEAP.check().unwrap();
        assert_eq!(
            (stats.free_bytes, stats.blocks),
            (64 * 1024, 1),
            "every byte came back"
        );
    }

    #[test]
    fn a_spin_lock_lets_one_thread_in_at_a_time() {
        static COUNTER: SpinLock<(u64, u64)> = SpinLock::new((0, 0));
        let rounds = if cfg!(miri) { 30 } else { 20_000 };
        let (tx, rx) = mpsc::channel();
        for _ in 0..4 {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    let mut guard = COUNTER.lock();
                    // A read-modify-write with a pause in the middle: a second thread inside
                    // the lock would read the same value, and one increment would be lost.
                    let seen = guard.0;
                    for _ in 0..50 {
                        std::hint::spin_loop();
                    }
                    guard.0 = seen + 1;
                    guard.1 += 1;
                    assert_eq!(guard.0, guard.1, "two threads held the lock at once");
                }
                tx.send(()).unwrap();
            });
        }
        drop(tx); // if every thread dies, `recv_timeout` fails at once
        for _ in 0..4 {
            rx.recv_timeout(PATIENCE)
                .expect("a thread panicked, or the lock was never released");
        }
        assert_eq!(
            *COUNTER.lock(),
            (4 * rounds, 4 * rounds),
            "no increment was lost"
        );
    }

    #[test]
    fn a_backoff_spins_briefly_then_yields() {
        let mut backoff = Backoff::new();
        let mut spun = 0;
        for round in 0..SPIN_LIMIT {
            match backoff.snooze() {
                Waited::Spun(n) => {
                    assert_eq!(
                        n,
                        1 << round,
                        "round {round}: each round spins twice as long as the last (1, 2, 4, ... hints)"
                    );
                    spun += n;
                }
                Waited::Yielded => panic!(
                    "round {round}: a waiter spins for SPIN_LIMIT rounds before it yields; the \
                     lock is usually free again sooner than a trip through the scheduler"
                ),
            }
        }
        assert!(
            spun <= 1 << SPIN_LIMIT,
            "spinning is brief: {spun} hints in {SPIN_LIMIT} rounds"
        );
        for _ in 0..3 {
            assert_eq!(
                backoff.snooze(),
                Waited::Yielded,
                "after SPIN_LIMIT rounds a waiter must yield: with more threads than cores, the \
                 owner of the lock may be waiting for this very core"
            );
        }
    }

    // More threads than cores, all allocating and freeing through one lock: a waiter that only
    // spins can hold a core the preempted owner needs, for the rest of its time slice.
    #[test]
    fn more_threads_than_cores_share_the_heap_in_seconds() {
        static ARENA: Arena<{ 256 * 1024 }> = Arena::new();
        static HEAP: LockedHeap = LockedHeap::new(&ARENA);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Miri interprets every thread on one core, thousands of times slower than native code:
        // three threads and a few rounds still interleave their lock handovers for its race
        // detector, and finish in seconds.
        let (threads, rounds) = if cfg!(miri) {
            (3, 15)
        } else {
            (4 * cores.max(2), 5000)
        };
        let (tx, rx) = mpsc::channel();
        for t in 0..threads {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut live = Vec::new();
                for i in 0..rounds {
                    let layout = bytes(16 + (i * 13 + t * 29) % 160);
                    // SAFETY: a fresh block of `layout.size()` bytes, or null.
                    let p = unsafe { HEAP.alloc(layout) };
                    assert!(!p.is_null(), "256 KiB is plenty for this workload");
                    // SAFETY: as above.
                    unsafe { p.write_bytes(t as u8, layout.size()) };
                    live.push((p, layout));
                    if live.len() > 4 {
                        let (q, l) = live.swap_remove(i % 4);
                        // SAFETY: ours, filled with `t`, freed once.
                        unsafe {
                            let data = std::slice::from_raw_parts(q, l.size());
                            assert!(
                                data.iter().all(|&b| b == t as u8),
                                "another thread wrote here"
                            );
                            HEAP.dealloc(q, l);
                        }
                    }
                }
                for (q, l) in live {
                    // SAFETY: ours, freed once.
                    unsafe { HEAP.dealloc(q, l) };
                }
                tx.send(()).unwrap();
            });
        }
        drop(tx); // if every thread dies, `recv_timeout` fails at once
        let start = std::time::Instant::now();
        for _ in 0..threads {
            rx.recv_timeout(PATIENCE.saturating_sub(start.elapsed()))
                .expect(
                    "with more threads than cores the heap did not finish in time: is the lock \
                 released, does a waiting thread yield? Or a thread panicked",
                );
        }
        let stats = HEAP.check().unwrap();
        assert_eq!(
            (stats.free_bytes, stats.blocks),
            (256 * 1024, 1),
            "every byte came back"
        );
    }

    #[test]
    fn any_arena_heap_can_be_locked() {
        watchdog(|| {
            static ARENA: Arena<4096> = Arena::new();
            static HEAP: LockedHeap<Heap<crate::s04_strategies::BestFit>> = LockedHeap::new(&ARENA);
            // SAFETY: each pointer is freed once with its layout.
            unsafe {
                let a = HEAP.alloc(bytes(64));
                let b = HEAP.alloc(bytes(16));
                let c = HEAP.alloc(bytes(32));
                let _d = HEAP.alloc(bytes(16));
                HEAP.dealloc(a, bytes(64));
                HEAP.dealloc(c, bytes(32));
                assert_eq!(HEAP.alloc(bytes(32)), c, "best fit chooses the exact hole");
                HEAP.dealloc(b, bytes(16));
            }
        });
    }

    #[test]
    fn a_locked_heap_is_sync_and_its_constructor_is_const() {
        watchdog(|| {
            fn assert_sync<T: Sync>() {}
            assert_sync::<LockedHeap>();
            static ARENA: Arena<64> = Arena::new();
            const fn make() -> LockedHeap {
                LockedHeap::new(&ARENA)
            }
            static HEAP: LockedHeap = make();
            assert!(HEAP.check().is_ok());
        });
    }
}
