//! The allocator project's `LockedHeap` against the system allocator (`std::alloc::System`),
//! both called through `GlobalAlloc` in the same process, on the same seeded workloads.
//! Prints one line per workload: the median time of ours, of the system allocator, and the
//! ratio ours / system.
//!
//! - `random_small`: talc-style random actions: 1024 slots, each step frees a random slot's
//!   block or allocates one of mostly small sizes (8..=128 bytes, some up to 1 KiB and 8 KiB),
//!   aligned to 8 (85%), 16 (10%) or 64 bytes (5%).
//! - `collection_churn`: 64 vectors grow by doubling through `realloc` from 16 bytes to 4 KiB,
//!   interleaved, and are freed; the pattern of `Vec` and `String` building.
//! - `lifo_pairs`: allocate and immediately free; the best case for a free list.
//!
//! Each workload runs on the first-fit `LockedHeap` (stages 1 to 6) and on
//! `LockedHeap<SizeClassHeap>` (the bonus stage 7).
//!
//! The system allocator (glibc malloc here) uses per-size bins and thread caches; a single
//! coalescing first-fit list walks past every small free block in front of the first fit,
//! so the random workload is the one that shows the cost of its fragmentation.
//!
//! Then `real_program` (see `real_program.rs`): a whole program (String keys in a `BTreeMap`
//! and a `HashMap`, lookups, sorting, `format!`, more threads than cores, dropping it all)
//! with `LockedHeap<SizeClassHeap>` as its global allocator, against the system allocator,
//! in child processes of this binary; one line per phase with both medians and the ratio.

mod real_program;

use allocator::s07_global::{Arena, LockedHeap};
use allocator::s08_size_classes::SizeClassHeap;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::Duration;

const RUNS: usize = 15;

#[global_allocator]
static GLOBAL: real_program::Switch = real_program::Switch;

static ARENA: Arena<{ 64 << 20 }> = Arena::new();
static OURS: LockedHeap = LockedHeap::new(&ARENA);
static CLASS_ARENA: Arena<{ 64 << 20 }> = Arena::new();
static CLASSES: LockedHeap<SizeClassHeap> = LockedHeap::new(&CLASS_ARENA);

/// xorshift64, seeded: both allocators see exactly the same requests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

fn random_small<A: GlobalAlloc>(a: &A) -> usize {
    const SLOTS: usize = 1024;
    const STEPS: usize = 200_000;
    let mut rng = Rng(0x5EED_1234);
    let mut slots: [(*mut u8, Layout); SLOTS] =
        [(std::ptr::null_mut(), Layout::new::<u8>()); SLOTS];
    let mut touched = 0;
    for _ in 0..STEPS {
        let i = rng.below(SLOTS as u64);
        let (p, layout) = slots[i];
        if p.is_null() {
            let size = match rng.below(100) {
                0 => 1024 + rng.below(7 * 1024),
                1..=5 => 128 + rng.below(896),
                _ => 8 + rng.below(121),
            };
            // Most Rust allocations are aligned to 8 or 16; a few ask for a cache line.
            let align = match rng.below(100) {
                0..=84 => 8,
                85..=94 => 16,
                _ => 64,
            };
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: a non-zero size.
            let p = unsafe { a.alloc(layout) };
            assert!(!p.is_null(), "out of memory in random_small");
            // SAFETY: a fresh block of at least one byte.
            unsafe { p.write(i as u8) };
            touched += 1;
            slots[i] = (p, layout);
        } else {
            // SAFETY: allocated by `a` with `layout`, freed once.
            unsafe { a.dealloc(p, layout) };
            slots[i].0 = std::ptr::null_mut();
        }
    }
    for (p, layout) in slots {
        if !p.is_null() {
            // SAFETY: as above.
            unsafe { a.dealloc(p, layout) };
        }
    }
    touched
}

fn collection_churn<A: GlobalAlloc>(a: &A) -> usize {
    const VECS: usize = 64;
    const ROUNDS: usize = 200;
    let mut total = 0;
    for round in 0..ROUNDS {
        let mut vecs = [(std::ptr::null_mut::<u8>(), 0usize); VECS];
        for (i, v) in vecs.iter_mut().enumerate() {
            let layout = Layout::from_size_align(16, 8).unwrap();
            // SAFETY: a non-zero size.
            let p = unsafe { a.alloc(layout) };
            assert!(!p.is_null());
            // SAFETY: 16 fresh bytes.
            unsafe { p.write((i + round) as u8) };
            *v = (p, 16);
        }
        let mut cap = 16;
        while cap < 4096 {
            for v in vecs.iter_mut() {
                let old = Layout::from_size_align(v.1, 8).unwrap();
                // SAFETY: `v.0` was allocated by `a` with `old`.
                let p = unsafe { a.realloc(v.0, old, cap * 2) };
                assert!(!p.is_null());
                // SAFETY: the last byte of the new block.
                unsafe { p.add(cap * 2 - 1).write(1) };
                *v = (p, cap * 2);
            }
            cap *= 2;
        }
        for (p, size) in vecs {
            // SAFETY: allocated by `a` with this layout.
            unsafe { a.dealloc(p, Layout::from_size_align(size, 8).unwrap()) };
            total += size;
        }
    }
    total
}

fn lifo_pairs<A: GlobalAlloc>(a: &A) -> usize {
    let mut rng = Rng(42);
    let mut sum = 0;
    for _ in 0..200_000 {
        let layout = Layout::from_size_align(16 + rng.below(49), 8).unwrap();
        // SAFETY: a non-zero size; freed right away with the same layout.
        // `black_box` keeps the compiler from pairing the calls up and removing both.
        unsafe {
            let p = black_box(a.alloc(layout));
            assert!(!p.is_null());
            p.write(1);
            sum += p.read() as usize;
            a.dealloc(black_box(p), layout);
        }
    }
    sum
}

/// Runs `ours` and `system` alternately `RUNS` times each and returns both medians.
fn measure(ours: impl Fn() -> usize, system: impl Fn() -> usize) -> (Duration, Duration) {
    assert_eq!(ours(), system(), "both allocators must do the same work");
    bench_harness::interleaved(RUNS, ours, system)
}

fn report(name: &str, (ours, system): (Duration, Duration)) {
    let ratio = bench_harness::ratio(ours, system);
    println!(
        "{name:<30} ours {:>8.2} ms   system {:>8.2} ms   ratio {ratio:>5.2}",
        ours.as_secs_f64() * 1e3,
        system.as_secs_f64() * 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, which] = &args[..]
        && flag == "--real-program"
    {
        real_program::child(which);
        return;
    }
    println!("workload                       (median of {RUNS} runs; system = std::alloc::System)");
    report(
        "random_small (first fit)",
        measure(|| random_small(&OURS), || random_small(&System)),
    );
    report(
        "random_small (size classes)",
        measure(|| random_small(&CLASSES), || random_small(&System)),
    );
    report(
        "collection_churn (first fit)",
        measure(|| collection_churn(&OURS), || collection_churn(&System)),
    );
    report(
        "collection_churn (classes)",
        measure(|| collection_churn(&CLASSES), || collection_churn(&System)),
    );
    report(
        "lifo_pairs (first fit)",
        measure(|| lifo_pairs(&OURS), || lifo_pairs(&System)),
    );
    report(
        "lifo_pairs (size classes)",
        measure(|| lifo_pairs(&CLASSES), || lifo_pairs(&System)),
    );
    // Only when the project is solved: a stub panics in `todo!()` long before this.
    let stats = OURS.check().expect("the heap's invariants hold");
    assert_eq!(
        stats.blocks, 1,
        "every block came back to the first-fit heap"
    );
    CLASSES
        .check()
        .expect("the size-class heap's invariants hold");
    real_program::report();
}
