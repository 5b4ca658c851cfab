//! Benchmarks the `linked_list` project against std's `LinkedList` and `VecDeque`.
//!
//! Each workload runs on our list and on a peer in the same process, several times; the line
//! printed per comparison gives both medians, the ratio (ours / peer, above 1 means slower)
//! and the heap allocations per element of each, counted by a wrapping global allocator.
//! The lesson is the price of `Rc` and `RefCell`: one allocation per node holding two
//! counters and a borrow flag, and a count update or borrow check at every step.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{LinkedList, VecDeque};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use linked_list::{List, RawList};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s
// contract; the counter update allocates nothing and cannot unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller's obligations are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const RUNS: usize = 7;
const N: u64 = 1_000_000;

/// Runs `f` `RUNS` times; returns the median time and the allocations of one run.
fn measure(mut f: impl FnMut()) -> (Duration, u64) {
    let mut times = Vec::with_capacity(RUNS);
    let mut allocs = 0;
    for _ in 0..RUNS {
        let before = ALLOCS.load(Relaxed);
        let start = Instant::now();
        f();
        times.push(start.elapsed());
        allocs = ALLOCS.load(Relaxed) - before;
    }
    (bench_harness::median(times), allocs)
}

fn report(name: &str, peer: &str, ops: u64, ours: (Duration, u64), theirs: (Duration, u64)) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<28} {peer:<11} ours {:>8.2} ms  peer {:>8.2} ms  ratio {:>5.2}  allocs/op ours {:>5.2} peer {:>5.2}",
        ms(ours.0),
        ms(theirs.0),
        bench_harness::ratio(ours.0, theirs.0),
        ours.1 as f64 / ops as f64,
        theirs.1 as f64 / ops as f64,
    );
}

/// A queue: push N at the back, pop them all from the front.
fn push_back_pop_front() {
    let ours = measure(|| {
        let mut list = List::new();
        for i in 0..N {
            list.push_back(black_box(i));
        }
        let mut sum = 0;
        while let Some(x) = list.pop_front() {
            sum += x;
        }
        black_box(sum);
    });
    let raw = measure(|| {
        let mut list = RawList::new();
        for i in 0..N {
            list.push_back(black_box(i));
        }
        let mut sum = 0;
        while let Some(x) = list.pop_front() {
            sum += x;
        }
        black_box(sum);
    });
    let linked = measure(|| {
        let mut list = LinkedList::new();
        for i in 0..N {
            list.push_back(black_box(i));
        }
        let mut sum = 0;
        while let Some(x) = list.pop_front() {
            sum += x;
        }
        black_box(sum);
    });
    let deque = measure(|| {
        let mut list = VecDeque::new();
        for i in 0..N {
            list.push_back(black_box(i));
        }
        let mut sum = 0;
        while let Some(x) = list.pop_front() {
            sum += x;
        }
        black_box(sum);
    });
    report("push_back+pop_front 1M", "LinkedList", N, ours, linked);
    report("push_back+pop_front 1M", "VecDeque", N, ours, deque);
    report("RawList push+pop 1M", "LinkedList", N, raw, linked);
}

/// Both ends: a deque that grows at the front and shrinks at the back, in bursts.
fn mixed_ends() {
    fn run<D>(mut new: impl FnMut() -> D, front: fn(&mut D, u64), back: fn(&mut D) -> Option<u64>) {
        let mut d = new();
        let mut sum = 0;
        for burst in 0..N / 100 {
            for i in 0..150 {
                front(&mut d, black_box(burst + i));
            }
            for _ in 0..100 {
                sum += back(&mut d).unwrap_or(0);
            }
        }
        black_box(sum);
    }
    let ours = measure(|| run(List::new, |d, x| d.push_front(x), |d| d.pop_back()));
    let linked = measure(|| run(LinkedList::new, |d, x| d.push_front(x), |d| d.pop_back()));
    let deque = measure(|| run(VecDeque::new, |d, x| d.push_front(x), |d| d.pop_back()));
    let ops = N / 100 * 250;
    report(
        "push_front+pop_back bursts",
        "LinkedList",
        ops,
        ours,
        linked,
    );
    report("push_front+pop_back bursts", "VecDeque", ops, ours, deque);
}

/// Sum a 1M-element list: ours can only offer a callback (`for_each`).
fn iterate() {
    let list: List<u64> = (0..N).collect();
    let linked: LinkedList<u64> = (0..N).collect();
    let deque: VecDeque<u64> = (0..N).collect();
    let ours = measure(|| {
        let mut sum = 0;
        list.for_each(|x| sum += *x);
        black_box(sum);
    });
    let raw_list = {
        let mut raw = RawList::new();
        for i in 0..N {
            raw.push_back(i);
        }
        raw
    };
    let raw = measure(|| {
        black_box(raw_list.iter().sum::<u64>());
    });
    let peer_linked = measure(|| {
        black_box(linked.iter().sum::<u64>());
    });
    let peer_deque = measure(|| {
        black_box(deque.iter().sum::<u64>());
    });
    report("iterate 1M (for_each)", "LinkedList", N, ours, peer_linked);
    report("iterate 1M (for_each)", "VecDeque", N, ours, peer_deque);
    report("RawList iter 1M", "LinkedList", N, raw, peer_linked);
}

/// Insert M elements one by one at the middle of an M-element list. Ours moves a cursor to
/// the middle once and inserts there; `VecDeque::insert` shifts half the elements each time;
/// std's `LinkedList` has no stable cursor, so it splits once, pushes, and appends.
fn middle_inserts() {
    const M: u64 = 20_000;
    let ours = measure(|| {
        let mut list: List<u64> = (0..M).collect();
        let mut cursor = list.cursor_front_mut();
        for _ in 0..M / 2 {
            cursor.move_next();
        }
        for i in 0..M {
            cursor.insert_after(black_box(i));
        }
        drop(cursor);
        black_box(list.len());
    });
    let linked = measure(|| {
        let mut list: LinkedList<u64> = (0..M).collect();
        let mut back = list.split_off((M / 2) as usize);
        for i in 0..M {
            list.push_back(black_box(i));
        }
        list.append(&mut back);
        black_box(list.len());
    });
    let deque = measure(|| {
        let mut list: VecDeque<u64> = (0..M).collect();
        let mid = (M / 2) as usize;
        for i in 0..M {
            list.insert(mid, black_box(i));
        }
        black_box(list.len());
    });
    report("middle inserts 20k (cursor)", "LinkedList", M, ours, linked);
    report("middle inserts 20k (cursor)", "VecDeque", M, ours, deque);
}

fn main() {
    println!("linked_list vs std (median of {RUNS} runs; ratio = ours / peer)");
    push_back_pop_front();
    mixed_ends();
    iterate();
    middle_inserts();
}
