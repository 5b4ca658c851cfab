//! The arena benchmark: the project's arenas against bumpalo and `Box::new`.
//!
//! Every workload allocates 10 000 values (or slices) and then frees them all: `reset` for the
//! arenas, dropping the boxes for `Box::new`. Arenas are warmed up first, so after the first
//! run they reuse their largest chunk, as a long-lived arena in a loop does. The two sides of a
//! line run alternately in the same process; each line prints the median of `RUNS` runs and
//! the ratio first / second (below 1.00: the first is faster).
//!
//! A timing loop holds only the allocations: the values are made from the loop counter (no
//! `black_box` on it, which would add a store and a load to every iteration of every side),
//! and each reference goes to `black_box`, as real code would store it somewhere.

use std::hint::black_box;
use std::time::{Duration, Instant};

use arena::s01_chunk::Arena;
use arena::s04_growth::Bump;
use arena::s06_direction::DownArena;

const N: usize = 10_000;
const RUNS: usize = 101;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Runs `a` and `b` alternately `RUNS` times (after one warm-up run each) and prints one line
/// with both medians and the ratio a / b.
fn compare(
    name: &str,
    (a_name, mut a): (&str, impl FnMut() -> Duration),
    (b_name, mut b): (&str, impl FnMut() -> Duration),
) {
    a();
    b();
    let (mut a_runs, mut b_runs) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    for _ in 0..RUNS {
        a_runs.push(a());
        b_runs.push(b());
    }
    let (a, b) = (median(a_runs), median(b_runs));
    println!(
        "{name:<24} {a_name:<8} {:>6.1} µs   {b_name:<8} {:>6.1} µs   ratio {:>5.2}",
        a.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
        a.as_secs_f64() / b.as_secs_f64()
    );
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Allocates `N` values made by `make` in our `Bump`, in bumpalo, and in boxes.
///
/// `make` is a generic closure, not a `fn` pointer, so that every timing loop inlines it: a
/// loop that called it through a pointer would time the call as well as the allocation.
fn values<T: Copy>(name: &str, make: impl Fn(usize) -> T + Copy) {
    let mut ours = Bump::new();
    let mut theirs = bumpalo::Bump::new();
    let mut boxes: Vec<Box<T>> = Vec::with_capacity(N);
    let mut run_ours = || {
        timed(|| {
            for i in 0..N {
                black_box(ours.alloc(make(i)));
            }
            ours.reset();
        })
    };
    let mut run_bumpalo = || {
        timed(|| {
            for i in 0..N {
                black_box(theirs.alloc(make(i)));
            }
            theirs.reset();
        })
    };
    let mut run_boxes = || {
        timed(|| {
            for i in 0..N {
                boxes.push(Box::new(make(i)));
            }
            black_box(&boxes);
            boxes.clear();
        })
    };
    compare(name, ("ours", &mut run_ours), ("bumpalo", &mut run_bumpalo));
    compare(name, ("ours", &mut run_ours), ("Box::new", &mut run_boxes));
    compare(
        name,
        ("bumpalo", &mut run_bumpalo),
        ("Box::new", &mut run_boxes),
    );
}

/// Copies a 16-element slice `N` times. Its length is hidden from the optimiser (as the
/// length of a slice usually is), so every copy is a `memcpy` call, for the arenas and for
/// `Box<[u32]>` alike.
fn slices() {
    let src: Vec<u32> = (0..16).collect();
    let name = "slice_copy 16 x u32";
    let mut ours = Bump::new();
    let mut theirs = bumpalo::Bump::new();
    let mut boxes: Vec<Box<[u32]>> = Vec::with_capacity(N);
    let mut run_ours = || {
        timed(|| {
            for _ in 0..N {
                black_box(ours.alloc_slice_copy(black_box(&src[..])));
            }
            ours.reset();
        })
    };
    let mut run_bumpalo = || {
        timed(|| {
            for _ in 0..N {
                black_box(theirs.alloc_slice_copy(black_box(&src[..])));
            }
            theirs.reset();
        })
    };
    let mut run_boxes = || {
        timed(|| {
            for _ in 0..N {
                boxes.push(Box::from(black_box(&src[..])));
            }
            black_box(&boxes);
            boxes.clear();
        })
    };
    compare(name, ("ours", &mut run_ours), ("bumpalo", &mut run_bumpalo));
    compare(name, ("ours", &mut run_ours), ("Box::new", &mut run_boxes));
    compare(
        name,
        ("bumpalo", &mut run_bumpalo),
        ("Box::new", &mut run_boxes),
    );
}

/// 100 cycles of 100 allocations and a reset.
fn reset_cycles() {
    let mut ours = Bump::new();
    let mut theirs = bumpalo::Bump::new();
    compare(
        "reset cycles 100 x 100",
        ("ours", || {
            timed(|| {
                for cycle in 0..N / 100 {
                    for i in 0..100 {
                        black_box(ours.alloc((cycle * i) as u64));
                    }
                    ours.reset();
                }
            })
        }),
        ("bumpalo", || {
            timed(|| {
                for cycle in 0..N / 100 {
                    for i in 0..100 {
                        black_box(theirs.alloc((cycle * i) as u64));
                    }
                    theirs.reset();
                }
            })
        }),
    );
}

/// A fresh arena every run: chunk growth from empty, then drop.
fn fresh_arena() {
    compare(
        "fresh arena, 10k u64",
        ("ours", || {
            timed(|| {
                let bump = Bump::new();
                for i in 0..N {
                    black_box(bump.alloc(i as u64));
                }
            })
        }),
        ("bumpalo", || {
            timed(|| {
                let bump = bumpalo::Bump::new();
                for i in 0..N {
                    black_box(bump.alloc(i as u64));
                }
            })
        }),
    );
}

/// Bump up (the first stage's `Arena`) against bump down (`DownArena`), one fixed buffer each.
fn up_vs_down() {
    let mut up = Arena::new(N * 16);
    let mut down = DownArena::new(N * 16);
    compare(
        "up vs down: u64",
        ("up", || {
            timed(|| {
                for i in 0..N {
                    black_box(up.alloc(i as u64));
                }
                up.reset();
            })
        }),
        ("down", || {
            timed(|| {
                for i in 0..N {
                    black_box(down.alloc(i as u64));
                }
                down.reset();
            })
        }),
    );
    compare(
        "up vs down: u8 then u64",
        ("up", || {
            timed(|| {
                for i in 0..N / 2 {
                    black_box(up.alloc(i as u8));
                    black_box(up.alloc(i as u64));
                }
                up.reset();
            })
        }),
        ("down", || {
            timed(|| {
                for i in 0..N / 2 {
                    black_box(down.alloc(i as u8));
                    black_box(down.alloc(i as u64));
                }
                down.reset();
            })
        }),
    );
}

fn main() {
    println!(
        "arena: {N} allocations per run, median of {RUNS} runs, ratio = first / second (below 1.00: the first is faster)"
    );
    values("alloc u8", |i| i as u8);
    values("alloc u64", |i| i as u64);
    values("alloc u128", |i| i as u128);
    slices();
    reset_cycles();
    fresh_arena();
    up_vs_down();
}
