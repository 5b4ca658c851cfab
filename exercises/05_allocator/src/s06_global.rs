//! # A real global allocator: a lock around the heap, behind `GlobalAlloc`
//!
//! `GlobalAlloc` is the trait behind `#[global_allocator]`: every `Box`, `Vec`, `String` and
//! thread of the program then gets its memory from you. Its methods take `&self`, because the
//! allocator is a `static` shared by all threads, so the `&mut Heap` that `alloc` needs must
//! come from interior mutability guarded by a lock. [`LockedHeap`] is that lock:
//!
//! - The memory is an [`Arena`]: a `static` of `N` bytes aligned to `MAX_ALIGN`. The heap
//!   cannot take its region from `std::alloc` (it *is* `std::alloc` now), so it is lent a
//!   static one. An arena serves one heap only: the first `LockedHeap` to use it claims it
//!   (an atomic flag), any other gets null for every request. That keeps [`LockedHeap::new`]
//!   safe: two heaps handing out the same bytes would be two owners of one `&mut`.
//! - The heap is built lazily, on the first request, inside the lock: `new` is a `const fn`
//!   so that it can initialise a `static`.
//! - The lock is a spin lock on an `AtomicBool`: `compare_exchange` with `Acquire` to take it,
//!   a `store` with `Release` in a guard's `Drop` to give it back, so that everything the
//!   last owner wrote to the free list is visible to the next. `std::sync::Mutex` is not an
//!   option: it may allocate, or be the thing being allocated for.
//! - Rules of a global allocator: never allocate (you would call yourself, and deadlock on
//!   your own lock), never panic or unwind (`GlobalAlloc` methods must not unwind; a panic
//!   allocates its message anyway), report out of memory as a null pointer.
//!
//! Data races are the aliasing rule across threads: two threads carving the same free block
//! without the lock would each get a `&mut` to the same bytes. Miri reports the unguarded
//! version of this stage as "Undefined Behavior: Data race detected between (1) non-atomic
//! write on thread `unnamed-1` and (2) non-atomic read on thread `unnamed-2`". In safe Rust,
//! `Sync` is what prevents this; here `unsafe impl Sync for LockedHeap` is your promise that
//! the lock makes it true.
//!
//! Here is the whole crate as the allocator of a real program, with collections, strings and
//! threads (run with the `doc` check):
//!
//! ```
//! use allocator::s06_global::{Arena, LockedHeap};
//! use std::collections::{BTreeMap, HashMap};
//!
//! static ARENA: Arena<{ 8 << 20 }> = Arena::new();
//! #[global_allocator]
//! static HEAP: LockedHeap = LockedHeap::new(&ARENA);
//!
//! fn main() {
//!     let mut words: Vec<String> = (0..2000).map(|i| format!("word-{i}")).collect();
//!     words.sort();
//!     let counts: HashMap<&str, usize> = words.iter().map(|w| (w.as_str(), w.len())).collect();
//!     let tree: BTreeMap<usize, String> = (0..500).map(|i| (i, i.to_string())).collect();
//!     assert_eq!(counts.len(), 2000);
//!     assert_eq!(tree[&42], "42");
//!
//!     let threads: Vec<_> = (0..4)
//!         .map(|t| {
//!             std::thread::spawn(move || {
//!                 let mut v = Vec::new();
//!                 for i in 0..2000 {
//!                     v.push(vec![t as u8; i % 100]);
//!                 }
//!                 v.iter().map(Vec::len).sum::<usize>()
//!             })
//!         })
//!         .collect();
//!     for t in threads {
//!         assert_eq!(t.join().unwrap(), 20 * (0..100).sum::<usize>());
//!     }
//!
//!     let s = String::from("served by our heap");
//!     assert!(HEAP.contains(s.as_ptr()), "the String's buffer comes from the arena");
//! }
//! ```
//!
//! Outcomes: implementing `GlobalAlloc`; complex pointer manipulation in unsafe code; why the
//! borrow checker rules (and `Send`/`Sync`) exist.
//!
//! Read: the `GlobalAlloc` docs and their safety contract:
//! <https://doc.rust-lang.org/std/alloc/trait.GlobalAlloc.html>; Philipp Oppermann,
//! "Allocator Designs", on why `GlobalAlloc` takes `&self` and the spin lock:
//! <https://os.phil-opp.com/allocator-designs/>; Rust for Rustaceans, chapter 9 ("Unsafe
//! Code"), on `Send`, `Sync` and what an `unsafe impl` promises; Mara Bos, Rust Atomics and
//! Locks, chapter 4 (building a spin lock): <https://marabos.nl/atomics/building-spinlock.html>.

use crate::s02_free_list::FreeStats;
use crate::s03_heap::{FirstFit, Heap};
use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr::{NonNull, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};

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

/// A first-fit [`Heap`] behind a spin lock, usable as `#[global_allocator]`.
pub struct LockedHeap {
    locked: AtomicBool,
    /// The arena's memory and size, and its claim flag.
    mem: *mut u8,
    size: usize,
    claimed: &'static AtomicBool,
    /// Guarded by `locked`: whether the heap was set up yet, and the heap (`None` if the
    /// arena was claimed by another heap, or too small).
    started: UnsafeCell<bool>,
    heap: UnsafeCell<Option<Heap<FirstFit>>>,
}

// SAFETY: every access to `started` and `heap` happens with `locked` held (see `with_heap`),
// so the heap is used by one thread at a time; the Heap itself may move between threads.
unsafe impl Sync for LockedHeap {}
// SAFETY: as above; the raw pointer refers to a `'static` arena.
unsafe impl Send for LockedHeap {}

/// Releases the lock when dropped.
struct Guard<'a>(&'a AtomicBool);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // TODO: release the lock, so that our writes are visible to the next owner.
        todo!("Guard::drop")
    }
}

impl LockedHeap {
    /// A heap over `arena`, set up on first use.
    pub const fn new<const N: usize>(arena: &'static Arena<N>) -> Self {
        LockedHeap {
            locked: AtomicBool::new(false),
            mem: arena.mem.get().cast::<u8>(),
            size: N,
            claimed: &arena.claimed,
            started: UnsafeCell::new(false),
            heap: UnsafeCell::new(None),
        }
    }

    fn lock(&self) -> Guard<'_> {
        // TODO: spin until `locked` goes from false to true (compare_exchange_weak with
        // Acquire); while it is taken, spin on a Relaxed load with std::hint::spin_loop().
        todo!("LockedHeap::lock")
    }

    /// Runs `f` on the heap with the lock held; `None` if this heap has no memory.
    fn with_heap<R>(&self, f: impl FnOnce(&mut Heap<FirstFit>) -> R) -> Option<R> {
        // TODO: take the lock; on the first call, claim the arena (swap the flag) and, if it
        // was free, build the heap with Heap::from_raw_parts; then run `f` on it, if any.
        todo!("LockedHeap::with_heap")
    }

    /// Whether `ptr` points into this heap's arena.
    pub fn contains(&self, ptr: *const u8) -> bool {
        // TODO: compare addresses with [mem, mem + size).
        todo!("LockedHeap::contains")
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
unsafe impl GlobalAlloc for LockedHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: allocate from the heap under the lock; null if there is no heap or no room.
        todo!("LockedHeap::alloc")
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: free the block under the lock.
        todo!("LockedHeap::dealloc")
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // TODO: Heap::realloc under the lock; null on failure (the old block stays valid).
        todo!("LockedHeap::realloc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn bytes(n: usize) -> Layout {
        Layout::from_size_align(n, 8).unwrap()
    }

    #[test]
    fn a_locked_heap_serves_the_curriculum_example() {
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
    }

    #[test]
    fn out_of_memory_is_a_null_pointer_not_a_panic() {
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
    }

    #[test]
    fn an_arena_serves_only_one_heap() {
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
    }

    #[test]
    fn realloc_and_alloc_zeroed_go_through_the_heap() {
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
            rx.recv_timeout(Duration::from_secs(20))
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
    fn a_locked_heap_is_sync_and_its_constructor_is_const() {
        fn assert_sync<T: Sync>() {}
        assert_sync::<LockedHeap>();
        static ARENA: Arena<64> = Arena::new();
        const fn make() -> LockedHeap {
            LockedHeap::new(&ARENA)
        }
        static HEAP: LockedHeap = make();
        assert!(HEAP.check().is_ok());
    }
}
