//! # Your allocator under everything: a per-thread cache in front of the shared heap
//!
//! Install project 5's size-class heap as the `#[global_allocator]` of a program that runs
//! your executor, and every `Box`, `Vec`, task and waker of it takes the heap's one spin lock:
//! four workers allocating at once wait for each other at every call. Production allocators
//! (tcmalloc, jemalloc, mimalloc) put a *thread cache* in front: each thread keeps a few free
//! blocks of each small size class and serves most requests from them with no lock at all.
//!
//! - [`SharedHeap`] is given: a [`SizeClassHeap`] behind a `SpinLock`, over a region it takes
//!   from the system allocator on first use. [`SharedHeap::with`] takes the lock once.
//! - [`ThreadCache`] is one thread's cache: for each of the [`CACHED_CLASSES`] smallest
//!   classes, a stack of at most [`CACHE_CAPACITY`] free blocks of exactly `class_size` bytes,
//!   in a `thread_local!` with a `const` initialiser (one that allocated would call itself).
//! - [`CachedAlloc`] is the `GlobalAlloc`. A request of a cached class pops the cache; an empty
//!   cache is refilled with [`BATCH`] blocks under one lock. A free pushes the block on the
//!   freeing thread's cache; a full cache first gives `BATCH` blocks back under one lock.
//!   Everything else (large blocks, large alignments) goes to the shared heap directly.
//!   A cached block is whole for its next owner, though the pointer the program frees may
//!   reach only the bytes it asked for (a `Box<u8>`'s reaches one); Miri checks this stage.
//!
//! A block freed by another thread than the one that got it goes to the *freeing* thread's
//! cache. That is correct because a block's class depends on its layout only, not on the
//! thread: every cached block is a whole class block of the one shared heap, interchangeable
//! with any other of its class, and the heap takes each back with the class's layout whichever
//! thread returns it. (The price, which real allocators work around: a producer thread that
//! only allocates and a consumer that only frees move blocks through the lock in batches.)
//!
//! A thread's cache must go back when the thread exits: the `Drop` of [`ThreadCache`] gives
//! every block back under one lock. Thread exit is also where a global allocator meets the
//! end of thread-local storage: other thread-locals are dropped after yours and free memory,
//! and so does the thread's own bookkeeping. A cache that is gone (or busy) is no reason to
//! fail: such a request goes straight to the shared heap. The same holds for a cache that
//! already serves another `SharedHeap`: one cache key serves one heap, or it would hand that
//! heap's blocks to the other.
//!
//! Afterwards you will be able to make a single-threaded allocator scale with a thread cache,
//! say why a block may be freed on any thread, and write thread-local state that survives its
//! own destruction order.
//!
//! Read: the tcmalloc design notes (the per-thread front end, transfer batches):
//! <https://google.github.io/tcmalloc/design.html>; `std::thread::LocalKey` (`try_with`, and
//! destruction): <https://doc.rust-lang.org/std/thread/struct.LocalKey.html>.
//!
//! ```
//! use capstone::s03_alloc::{CachedAlloc, SharedHeap, ThreadCache};
//!
//! static HEAP: SharedHeap = SharedHeap::new(16 << 20);
//! std::thread_local! {
//!     static CACHE: ThreadCache = const { ThreadCache::new() };
//! }
//! #[global_allocator]
//! static GLOBAL: CachedAlloc = CachedAlloc::new(&HEAP, &CACHE);
//!
//! fn main() {
//!     let words: Vec<String> = (0..1000).map(|i| format!("word {i}")).collect();
//!     assert!(HEAP.contains(words[7].as_ptr()), "the strings come from the shared heap");
//!     let lens = std::thread::spawn(move || words.iter().map(String::len).sum::<usize>());
//!     assert_eq!(lens.join().unwrap(), 7890);
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::ptr::{NonNull, null_mut};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::thread::LocalKey;

use allocator::s02_free_list::FreeStats;
use allocator::s07_global::{ArenaHeap, SpinLock};
use allocator::s08_size_classes::{
    CLASS_ALIGN, SMALL_CLASSES, SizeClassHeap, class_of, class_size,
};

/// The classes a thread caches: the small ones, blocks of 16 to 256 bytes.
pub const CACHED_CLASSES: usize = SMALL_CLASSES;
/// The most free blocks a thread keeps of one class.
pub const CACHE_CAPACITY: usize = 32;
/// How many blocks move between a cache and the shared heap under one lock.
pub const BATCH: usize = 16;

/// The alignment of the shared heap's region.
const REGION_ALIGN: usize = 4096;

/// The cached class of `layout`, if it has one.
fn cached_class(layout: Layout) -> Option<usize> {
    class_of(layout).filter(|&class| class < CACHED_CLASSES)
}

/// The layout a block of `class` is taken from and given back to the shared heap with.
fn class_layout(class: usize) -> Layout {
    // SAFETY: CLASS_ALIGN is a power of two, and a class size is far below isize::MAX.
    unsafe { Layout::from_size_align_unchecked(class_size(class), CLASS_ALIGN) }
}

/// Whether the heap was set up yet, and the heap (`None` if the system had no memory for it).
struct State {
    started: bool,
    heap: Option<SizeClassHeap>,
}

/// The heap every thread shares: size classes in front of a first-fit heap, behind a spin
/// lock, over `size` bytes taken from the system allocator on first use (and kept for the
/// life of the program, as a `static` is).
pub struct SharedHeap {
    size: usize,
    /// The region, once taken: null before.
    region: AtomicPtr<u8>,
    /// How many times the lock was taken.
    locks: AtomicUsize,
    state: SpinLock<State>,
}

impl SharedHeap {
    /// A heap of `size` bytes, set up on first use.
    ///
    /// # Panics
    ///
    /// If `size` is not a positive multiple of 4096.
    pub const fn new(size: usize) -> Self {
        assert!(
            size > 0 && size.is_multiple_of(REGION_ALIGN),
            "a shared heap's size is a positive multiple of 4096"
        );
        SharedHeap {
            size,
            region: AtomicPtr::new(null_mut()),
            locks: AtomicUsize::new(0),
            state: SpinLock::new(State {
                started: false,
                heap: None,
            }),
        }
    }

    /// Runs `f` on the heap with the lock held (taken once, whatever `f` does); `None` if the
    /// heap has no memory.
    pub fn with<R>(&self, f: impl FnOnce(&mut SizeClassHeap) -> R) -> Option<R> {
        let mut state = self.state.lock();
        self.locks.fetch_add(1, Ordering::Relaxed);
        if !state.started {
            state.started = true;
            let layout = Layout::from_size_align(self.size, REGION_ALIGN).ok()?;
            // SAFETY: `layout` has a non-zero size (checked in `new`).
            let base = NonNull::new(unsafe { System.alloc(layout) })?;
            // SAFETY: fresh memory from the system allocator, used by this heap alone and
            // never freed.
            state.heap = unsafe { SizeClassHeap::from_arena(base, self.size) };
            // Release: whoever sees the region's address (`contains`, `block`) sees it whole.
            self.region.store(base.as_ptr(), Ordering::Release);
        }
        state.heap.as_mut().map(f)
    }

    /// Whether `ptr` points into the heap's region.
    pub fn contains(&self, ptr: *const u8) -> bool {
        let start = self.region.load(Ordering::Acquire).addr();
        start != 0 && (start..start + self.size).contains(&ptr.addr())
    }

    /// The region's own pointer to the block at `ptr`. The program's pointer may reach only
    /// the bytes it asked for (a `Box<u8>` reaches one); a block kept for its next owner needs
    /// a pointer that reaches all of it.
    pub fn block(&self, ptr: NonNull<u8>) -> NonNull<u8> {
        let region = self.region.load(Ordering::Acquire);
        NonNull::new(region).map_or(ptr, |region| region.with_addr(ptr.addr()))
    }

    /// How many times the lock was taken so far.
    pub fn locks(&self) -> usize {
        self.locks.load(Ordering::Relaxed)
    }

    /// Bytes out of the shared heap: handed to the program, or held in threads' caches.
    /// (Takes the lock once.)
    pub fn in_use(&self) -> usize {
        self.with(|h| match h.check() {
            Ok(stats) => self.size - stats.free_bytes - h.cached_bytes(),
            Err(e) => panic!("the shared heap is corrupted: {e}"),
        })
        .unwrap_or(0)
    }

    /// Gives the heap's class lists back to its free list and runs its invariant walker:
    /// with nothing in use, the heap is one free block of `size` bytes again.
    pub fn check(&self) -> Result<FreeStats, String> {
        self.with(|h| {
            h.trim();
            h.check()
        })
        .unwrap_or_else(|| Err("the shared heap has no memory".to_string()))
    }
}

/// One thread's cached blocks.
///
/// Invariant: `free[c][..len[c]]` are `Some`, each a free block of `class_size(c)` bytes
/// taken from `heap` with `class_layout(c)`, in no other list and not in use.
struct Blocks {
    /// The heap the blocks belong to; set on first use.
    heap: Option<&'static SharedHeap>,
    free: [[Option<NonNull<u8>>; CACHE_CAPACITY]; CACHED_CLASSES],
    len: [usize; CACHED_CLASSES],
}

/// One thread's cache of free blocks, for a `thread_local!` with a `const` initialiser.
/// Dropping it (at thread exit) gives its blocks back to their heap.
pub struct ThreadCache {
    blocks: RefCell<Blocks>,
}

impl ThreadCache {
    /// An empty cache, bound to no heap yet.
    pub const fn new() -> Self {
        ThreadCache {
            blocks: RefCell::new(Blocks {
                heap: None,
                free: [[None; CACHE_CAPACITY]; CACHED_CLASSES],
                len: [0; CACHED_CLASSES],
            }),
        }
    }
}

impl Default for ThreadCache {
    fn default() -> Self {
        Self::new()
    }
}

impl Blocks {
    /// A cached block of `class`, if there is one.
    fn pop(&mut self, class: usize) -> Option<NonNull<u8>> {
        // TODO: the most recently cached block of `class`, and one fewer in the count.
        todo!()
    }

    /// Caches `block` (a free block of `class`); `false` if the class is full.
    fn push(&mut self, class: usize, block: NonNull<u8>) -> bool {
        // TODO: cache `block` on top of `class`, or say that the class is full.
        todo!()
    }

    /// Takes up to `n` blocks of `class` from `heap` (whose lock the caller holds): returns
    /// one and caches the rest. `None` if the heap has none.
    fn take(&mut self, heap: &mut SizeClassHeap, class: usize, n: usize) -> Option<NonNull<u8>> {
        // TODO: up to `n` class blocks from `heap`: one for the caller, the rest cached.
        todo!()
    }

    /// Gives up to `n` cached blocks of `class` back to `heap` (whose lock the caller holds).
    fn give_back(&mut self, heap: &mut SizeClassHeap, class: usize, n: usize) {
        // TODO: up to `n` cached blocks of `class` back to `heap`, with the layout they were
        // taken with.
        todo!()
    }

    /// Gives every cached block back to the heap, under one lock.
    fn flush(&mut self) {
        // TODO: every cached block back to the heap it came from, under one lock.
        todo!()
    }
}

impl Drop for ThreadCache {
    fn drop(&mut self) {
        // TODO: the thread is exiting: its blocks must not be lost.
        todo!()
    }
}

/// The global allocator: [`ThreadCache`]s (one per thread, from `cache`) in front of `heap`.
pub struct CachedAlloc {
    heap: &'static SharedHeap,
    cache: &'static LocalKey<ThreadCache>,
}

impl CachedAlloc {
    /// An allocator over `heap`, with per-thread caches from `cache` (a key that serves this
    /// heap only).
    pub const fn new(heap: &'static SharedHeap, cache: &'static LocalKey<ThreadCache>) -> Self {
        CachedAlloc { heap, cache }
    }

    /// Runs `f` on this thread's cache; `None` if there is none to use: thread-local storage
    /// is being torn down, the cache is in use, or it serves another heap.
    fn with_cache<R>(&self, f: impl FnOnce(&mut Blocks) -> R) -> Option<R> {
        // TODO: this thread's cache, if it can be used now, bound to this allocator's heap.
        todo!()
    }

    /// Gives this thread's cached blocks back to the shared heap now.
    pub fn flush(&self) {
        // TODO: give this thread's cached blocks back.
        todo!()
    }

    /// How many free blocks of `class` this thread holds in its cache.
    pub fn cached_here(&self, class: usize) -> usize {
        self.with_cache(|blocks| blocks.len[class]).unwrap_or(0)
    }
}

// SAFETY: every block comes from the shared heap, which hands out each byte to one allocation
// at a time, aligned as asked (class blocks to CLASS_ALIGN, which `class_of` requires of the
// layout). A cached block is free and reachable from one thread's cache only. Nothing here
// allocates or panics: failures are null pointers.
unsafe impl GlobalAlloc for CachedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: a cached class from this thread's cache (refilled in a batch when empty);
        // anything else, or no usable cache, from the shared heap. Null when out of memory.
        todo!()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: a cached class onto the freeing thread's cache (making room in a batch when
        // full); anything else, or no usable cache, back to the shared heap.
        todo!()
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;
    use crate::test_support::{
        ChildEnd, from_program_heap, is_child, program_in_use, run_child, switch_to_program, within,
    };
    use std::cell::Cell;
    use std::sync::mpsc;

    /// A heap, its cache key and its allocator, as `static`s of the calling test.
    macro_rules! allocator {
        ($heap:ident, $alloc:ident, $size:expr) => {
            static $heap: SharedHeap = SharedHeap::new($size);
            std::thread_local! {
                static CACHE: ThreadCache = const { ThreadCache::new() };
            }
            static $alloc: CachedAlloc = CachedAlloc::new(&$heap, &CACHE);
        };
    }

    fn bytes(n: usize) -> Layout {
        Layout::from_size_align(n, 8).unwrap()
    }

    /// Runs `f` on a thread of its own and waits for it, so that its cache is given back
    /// before the test looks at the heap.
    fn on_a_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        std::thread::spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    #[test]
    fn blocks_come_from_the_shared_heap_and_all_come_back() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            on_a_thread(|| {
                let layouts = [
                    bytes(1),
                    bytes(16),
                    bytes(24),
                    bytes(100),
                    bytes(256),
                    bytes(257),
                    bytes(5000),
                    Layout::from_size_align(64, 64).unwrap(),
                    Layout::from_size_align(8, 4096).unwrap(),
                ];
                let mut live = Vec::new();
                for (i, &layout) in layouts.iter().cycle().take(90).enumerate() {
                    // SAFETY: a fresh block of `layout`, or null.
                    let p = unsafe { ALLOC.alloc(layout) };
                    assert!(!p.is_null(), "1 MiB is plenty for {layout:?}");
                    assert!(HEAP.contains(p), "blocks come from the shared heap");
                    assert!(
                        !HEAP.contains((&raw const live).cast()),
                        "HEAP.contains says no for a pointer outside its region (to a local)"
                    );
                    assert!(
                        p.addr().is_multiple_of(layout.align()),
                        "a block for {layout:?} must be aligned to {}",
                        layout.align()
                    );
                    // SAFETY: ours, `layout.size()` bytes.
                    unsafe { p.write_bytes(i as u8, layout.size()) };
                    live.push((p, layout, i as u8));
                }
                for &(p, layout, fill) in &live {
                    // SAFETY: ours, filled above, freed once.
                    unsafe {
                        let data = std::slice::from_raw_parts(p, layout.size());
                        assert!(
                            data.iter().all(|&b| b == fill),
                            "two live blocks overlap: a block was handed out twice, or from \
                             the wrong class"
                        );
                        ALLOC.dealloc(p, layout);
                    }
                }
            });
            assert_eq!(
                HEAP.in_use(),
                0,
                "every block is back in the shared heap once the thread has exited"
            );
            let stats = HEAP.check().expect("the shared heap is consistent");
            assert_eq!(
                (stats.free_bytes, stats.blocks),
                (1 << 20, 1),
                "with everything freed, the shared heap is one free block again"
            );
        });
    }

    #[test]
    fn a_freed_block_is_reused_by_its_thread_without_the_lock() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            on_a_thread(|| {
                let layout = bytes(40);
                let class = class_of(layout).unwrap();
                // SAFETY: each block is freed once, with its layout.
                unsafe {
                    let warm = ALLOC.alloc(layout);
                    ALLOC.dealloc(warm, layout);
                    let locks = HEAP.locks();
                    for _ in 0..1000 {
                        let p = ALLOC.alloc(layout);
                        assert_eq!(
                            p, warm,
                            "the block this thread just freed is the first it hands out again \
                             (the cache is a stack)"
                        );
                        ALLOC.dealloc(p, layout);
                    }
                    assert_eq!(
                        HEAP.locks(),
                        locks,
                        "alloc and free of a cached class must not take the shared lock while \
                         the thread's cache can serve them"
                    );
                    assert!(ALLOC.cached_here(class) >= 1, "the freed block is cached");
                }
            });
            assert_eq!(
                HEAP.in_use(),
                0,
                "every block is back once the thread exits"
            );
        });
    }

    #[test]
    fn a_block_freed_through_a_pointer_to_one_byte_is_whole_for_its_next_owner() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            on_a_thread(|| {
                let (one, sixteen) = (bytes(1), bytes(16));
                // SAFETY: each block is freed once, with the layout it was allocated with.
                unsafe {
                    let p = ALLOC.alloc(one);
                    assert!(!p.is_null(), "1 MiB is plenty for one byte");
                    // What a `Box<u8>` gives back to its allocator: a pointer made from a
                    // reference to its one byte, which may reach that byte and no other.
                    let byte: &mut u8 = &mut *p;
                    *byte = 1;
                    let narrow: *mut u8 = byte;
                    ALLOC.dealloc(narrow, one);
                    let q = ALLOC.alloc(sixteen);
                    assert_eq!(q, p, "the block just freed is the next one of its class");
                    // Its next owner asked for 16 bytes and may write all of them (under Miri,
                    // through a pointer that may reach them).
                    q.write_bytes(0xAB, sixteen.size());
                    let data = std::slice::from_raw_parts(q, sixteen.size());
                    assert!(
                        data.iter().all(|&b| b == 0xAB),
                        "the block holds what was written"
                    );
                    ALLOC.dealloc(q, sixteen);
                }
            });
            assert_eq!(
                HEAP.in_use(),
                0,
                "every block is back once the thread exits"
            );
        });
    }

    #[test]
    fn refills_and_flushes_move_a_batch_under_one_lock() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            on_a_thread(|| {
                let layout = bytes(64);
                let class = class_of(layout).unwrap();
                let n = 10 * BATCH;
                let locks = HEAP.locks();
                // SAFETY: fresh blocks, or null.
                let blocks: Vec<_> = (0..n).map(|_| unsafe { ALLOC.alloc(layout) }).collect();
                assert!(blocks.iter().all(|p| !p.is_null()));
                let taken = HEAP.locks() - locks;
                assert!(
                    taken > 0,
                    "{n} allocations from an empty cache never took the shared lock: a cache is \
                     refilled from the shared heap, and HEAP.locks() counts each time its lock is \
                     taken"
                );
                assert!(
                    taken <= n / BATCH + 1,
                    "{n} allocations took the lock {taken} times: an empty cache is refilled \
                     with BATCH ({BATCH}) blocks under one lock"
                );
                let mut distinct = blocks.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(
                    distinct.len(),
                    n,
                    "{n} live blocks are {n} different blocks"
                );
                let locks = HEAP.locks();
                for &p in &blocks {
                    // SAFETY: ours, freed once.
                    unsafe { ALLOC.dealloc(p, layout) };
                    assert!(
                        ALLOC.cached_here(class) <= CACHE_CAPACITY,
                        "a cache holds at most CACHE_CAPACITY ({CACHE_CAPACITY}) blocks of a \
                         class"
                    );
                }
                let taken = HEAP.locks() - locks;
                assert!(
                    taken <= n / BATCH,
                    "{n} frees took the lock {taken} times: a full cache gives BATCH ({BATCH}) \
                     blocks back under one lock"
                );
                assert!(
                    ALLOC.cached_here(class) > 0,
                    "a thread keeps some freed blocks"
                );
            });
            assert_eq!(
                HEAP.in_use(),
                0,
                "every block is back once the thread exits"
            );
        });
    }

    #[test]
    fn flush_gives_this_threads_cache_back_at_once() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            on_a_thread(|| {
                let layout = bytes(24);
                let class = class_of(layout).unwrap();
                // SAFETY: fresh blocks, each freed once.
                unsafe {
                    let blocks: Vec<_> = (0..5).map(|_| ALLOC.alloc(layout)).collect();
                    for p in blocks {
                        ALLOC.dealloc(p, layout);
                    }
                }
                assert!(
                    ALLOC.cached_here(class) > 0,
                    "the freed blocks stay in this thread's cache"
                );
                ALLOC.flush();
                assert_eq!(
                    ALLOC.cached_here(class),
                    0,
                    "CachedAlloc::flush empties this thread's cache"
                );
                assert_eq!(
                    HEAP.in_use(),
                    0,
                    "CachedAlloc::flush gives this thread's cached blocks back to the shared heap \
                     at once, while the thread still runs"
                );
            });
        });
    }

    #[test]
    fn a_block_freed_on_another_thread_is_reused_there() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            let layout = bytes(100);
            let class = class_of(layout).unwrap();
            let (tx, rx) = mpsc::channel::<Vec<usize>>();
            let producer = std::thread::spawn(move || {
                // SAFETY: fresh blocks; the consumer frees them.
                let blocks = (0..5).map(|_| unsafe { ALLOC.alloc(layout) }.addr());
                tx.send(blocks.collect()).unwrap();
            });
            let consumer = std::thread::spawn(move || {
                let got = rx.recv().unwrap();
                producer.join().unwrap();
                assert_eq!(ALLOC.cached_here(class), 0, "a new thread's cache is empty");
                for &addr in &got {
                    let p =
                        HEAP.block(NonNull::new(std::ptr::without_provenance_mut(addr)).unwrap());
                    // SAFETY: a live block of `layout` from another thread, freed once.
                    unsafe { ALLOC.dealloc(p.as_ptr(), layout) };
                }
                assert_eq!(
                    ALLOC.cached_here(class),
                    5,
                    "blocks freed here go to this thread's cache, whoever allocated them"
                );
                // SAFETY: a fresh block, freed once.
                let p = unsafe { ALLOC.alloc(layout) };
                assert!(
                    got.contains(&p.addr()),
                    "a block freed by this thread is reused by this thread"
                );
                // SAFETY: as above.
                unsafe { ALLOC.dealloc(p, layout) };
            });
            consumer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            assert_eq!(
                HEAP.in_use(),
                0,
                "every block is back once both threads exit"
            );
        });
    }

    #[test]
    fn a_thread_gives_its_cache_back_when_it_exits() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);
            let held = on_a_thread(|| {
                let layouts = [bytes(16), bytes(48), bytes(200)];
                for layout in layouts {
                    // SAFETY: fresh blocks, each freed once.
                    unsafe {
                        let blocks: Vec<_> = (0..20).map(|_| ALLOC.alloc(layout)).collect();
                        for p in blocks {
                            ALLOC.dealloc(p, layout);
                        }
                    }
                }
                let held: usize = (0..CACHED_CLASSES).map(|c| ALLOC.cached_here(c)).sum();
                assert!(held >= 60, "the freed blocks stay in the thread's cache");
                assert!(
                    HEAP.in_use() > 0,
                    "cached blocks are out of the shared heap"
                );
                held
            });
            assert!(held > 0);
            assert_eq!(
                HEAP.in_use(),
                0,
                "a thread that exits must give its cache back (Drop of ThreadCache): otherwise \
                 every thread that ever ran keeps blocks no one can use"
            );
        });
    }

    #[test]
    fn frees_after_the_cache_is_gone_go_to_the_shared_heap() {
        within(10, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 1 << 20);

            /// Set if the allocator panicked when called from `FreeAtExit`'s drop.
            static PANICKED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);

            /// Frees its blocks, and allocates and frees one more, when its thread exits.
            struct FreeAtExit(Cell<Vec<*mut u8>>);
            impl Drop for FreeAtExit {
                fn drop(&mut self) {
                    let blocks = self.0.take();
                    // A panic must not leave a thread-local destructor: it would abort.
                    let freed = std::panic::catch_unwind(|| {
                        // SAFETY: blocks of `bytes(32)` from ALLOC, each freed once.
                        unsafe {
                            for p in blocks {
                                ALLOC.dealloc(p, bytes(32));
                            }
                            let late = ALLOC.alloc(bytes(32));
                            assert!(!late.is_null(), "an allocation at thread exit is served");
                            ALLOC.dealloc(late, bytes(32));
                        }
                    });
                    if freed.is_err() {
                        PANICKED.store(true, Ordering::SeqCst);
                    }
                }
            }
            std::thread_local! {
                static LATE: FreeAtExit = const { FreeAtExit(Cell::new(Vec::new())) };
            }

            on_a_thread(|| {
                // Touched first, dropped last: its frees come after the cache is gone.
                LATE.with(|_| ());
                // SAFETY: fresh blocks; FreeAtExit frees them.
                let blocks: Vec<_> = (0..3).map(|_| unsafe { ALLOC.alloc(bytes(32)) }).collect();
                LATE.with(|late| late.0.set(blocks));
            });
            assert!(
                !PANICKED.load(Ordering::SeqCst),
                "the allocator panicked when it was called at thread exit, after this thread's \
                 cache was dropped: a request with no usable cache goes to the shared heap"
            );
            assert_eq!(
                HEAP.in_use(),
                0,
                "blocks freed at thread exit, after the thread's cache was dropped, go to the \
                 shared heap"
            );
        });
    }

    #[test]
    fn threads_trade_blocks_without_losing_or_sharing_one() {
        within(30, "the allocator hung: is a lock never released?", || {
            allocator!(HEAP, ALLOC, 4 << 20);
            let threads = 4;
            let rounds = if cfg!(miri) { 30 } else { 3000 };
            let (txs, rxs): (Vec<_>, Vec<_>) = (0..threads)
                .map(|_| mpsc::channel::<(usize, usize, u8)>())
                .unzip();
            let handles: Vec<_> = rxs
                .into_iter()
                .enumerate()
                .map(|(t, rx)| {
                    let next = txs[(t + 1) % threads].clone();
                    std::thread::spawn(move || {
                        let check_and_free = |(addr, size, fill): (usize, usize, u8)| {
                            let p = HEAP.block(
                                NonNull::new(std::ptr::without_provenance_mut(addr)).unwrap(),
                            );
                            // SAFETY: a live block of `size` bytes, filled by its allocator
                            // and sent here to be freed once.
                            unsafe {
                                let data = std::slice::from_raw_parts(p.as_ptr(), size);
                                assert!(
                                    data.iter().all(|&b| b == fill),
                                    "a live block was written by someone else: a block was \
                                     handed out twice, or put in the wrong class"
                                );
                                ALLOC.dealloc(p.as_ptr(), bytes(size));
                            }
                        };
                        for i in 0..rounds {
                            let size = 1 + (i * 37 + t * 11) % 300;
                            // SAFETY: a fresh block, or null.
                            let p = unsafe { ALLOC.alloc(bytes(size)) };
                            assert!(!p.is_null(), "4 MiB is plenty for this workload");
                            let fill = (i + t) as u8;
                            // SAFETY: ours, `size` bytes.
                            unsafe { p.write_bytes(fill, size) };
                            // Every other block is freed by the next thread.
                            if i % 2 == 0 {
                                next.send((p.addr(), size, fill)).unwrap();
                            } else {
                                check_and_free((p.addr(), size, fill));
                            }
                            while let Ok(block) = rx.try_recv() {
                                check_and_free(block);
                            }
                        }
                        drop(next);
                        rx
                    })
                })
                .collect();
            drop(txs);
            let rxs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            // Blocks still in flight are freed here, on the test's own thread.
            on_a_thread(move || {
                for rx in rxs {
                    for (addr, size, _) in rx.try_iter() {
                        let p = HEAP
                            .block(NonNull::new(std::ptr::without_provenance_mut(addr)).unwrap());
                        // SAFETY: a live block sent to be freed once.
                        unsafe { ALLOC.dealloc(p.as_ptr(), bytes(size)) };
                    }
                }
            });
            assert_eq!(
                HEAP.in_use(),
                0,
                "every block is back once every thread has exited"
            );
            HEAP.check().expect("the shared heap is consistent");
        });
    }

    #[test]
    fn a_cache_serves_one_heap_only() {
        within(10, "the allocator hung: is a lock never released?", || {
            static FIRST: SharedHeap = SharedHeap::new(1 << 16);
            static SECOND: SharedHeap = SharedHeap::new(1 << 16);
            std::thread_local! {
                static SHARED_KEY: ThreadCache = const { ThreadCache::new() };
            }
            static A: CachedAlloc = CachedAlloc::new(&FIRST, &SHARED_KEY);
            static B: CachedAlloc = CachedAlloc::new(&SECOND, &SHARED_KEY);
            on_a_thread(|| {
                // SAFETY: each block freed once, to the allocator it came from.
                unsafe {
                    let a = A.alloc(bytes(32));
                    A.dealloc(a, bytes(32));
                    let b = B.alloc(bytes(32));
                    assert!(
                        SECOND.contains(b),
                        "B must hand out SECOND's blocks, never a block cached for FIRST"
                    );
                    B.dealloc(b, bytes(32));
                }
            });
            assert_eq!((FIRST.in_use(), SECOND.in_use()), (0, 0));
        });
    }

    // The program: this test binary, run again as a child process in which the test's thread,
    // and every thread started after it, allocate from a `CachedAlloc` (see `test_support`).

    /// The child's program: an executor with four workers and thousands of tasks, on PROGRAM.
    fn program() {
        switch_to_program();
        // A first run sets up what the standard library keeps for the life of the main thread
        // (a channel's wait context, the thread's handle); the second is measured.
        run_tasks(20);
        let before = program_in_use();
        run_tasks(3000);
        let after = program_in_use();
        println!("in use before the executor: {before} bytes, after: {after} bytes");
        assert!(
            after <= before,
            "the executor's workers have exited, yet {} more bytes are out of the shared heap \
             than before it started: a thread's cache must be given back when it exits",
            after - before
        );
    }

    /// Runs `tasks` tasks that allocate on an executor with four workers, and checks them.
    fn run_tasks(tasks: usize) {
        use crate::s02_executor::Executor;
        use std::task::Poll;

        let executor = Executor::new(4);
        let (tx, rx) = mpsc::channel();
        for t in 0..tasks {
            let tx = tx.clone();
            let mut yields = 3;
            let mut words: Vec<String> = Vec::new();
            executor.spawn(std::future::poll_fn(move |cx| {
                words.push(format!("task {t} round {yields}"));
                if yields > 0 {
                    yields -= 1;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                let from_heap = words.iter().all(|w| from_program_heap(w.as_ptr()));
                let len: usize = words.iter().map(String::len).sum();
                tx.send((t, len, from_heap)).unwrap();
                Poll::Ready(())
            }));
        }
        drop(tx);
        let mut seen = vec![false; tasks];
        for (t, len, from_heap) in rx.iter().take(tasks) {
            assert!(!seen[t], "task {t} completed twice");
            seen[t] = true;
            let expected: usize = (0..4).map(|y| format!("task {t} round {y}").len()).sum();
            assert_eq!(len, expected, "task {t}'s strings were corrupted");
            assert!(from_heap, "task {t}'s strings come from your allocator");
        }
        assert!(seen.iter().all(|&s| s), "every task completes");
    }

    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot start a process.
    fn the_executor_runs_on_this_allocator_as_the_global_allocator() {
        const TEST: &str =
            "s03_alloc::tests::the_executor_runs_on_this_allocator_as_the_global_allocator";
        if is_child(TEST) {
            return program();
        }
        let output = match run_child(TEST, 60) {
            ChildEnd::TimedOut(output) => panic!(
                "the program on your allocator did not finish in 60 s: a lock never released, \
                 or a lost wake-up in the executor; its output:\n{output}"
            ),
            ChildEnd::Exited(status, output) => {
                assert!(
                    status.success(),
                    "the program on your allocator failed ({status}); its output:\n{output}"
                );
                output
            }
        };
        assert!(
            output.contains("1 passed"),
            "the child process did not run the program; its output:\n{output}"
        );
    }
}
