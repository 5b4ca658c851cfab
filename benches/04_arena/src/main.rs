//! The arena benchmark: the project's arenas against bumpalo and `Box::new`.
//!
//! Every workload allocates 10 000 values (or slices) and then frees them all: `reset` for the
//! arenas, dropping the boxes for `Box::new`. Arenas are warmed up first, so after the first
//! run they reuse their largest chunk, as a long-lived arena in a loop does. Ours and the peer
//! run alternately in the same process; each line prints the median of `RUNS` runs and the
//! ratio ours / peer (below 1.00: ours is faster).

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

/// Runs `ours` and `peer` alternately `RUNS` times (after one warm-up run each) and prints
/// one line with both medians and the ratio.
fn compare(
    name: &str,
    peer_name: &str,
    mut ours: impl FnMut() -> Duration,
    mut peer: impl FnMut() -> Duration,
) {
    ours();
    peer();
    let (mut a, mut b) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    for _ in 0..RUNS {
        a.push(ours());
        b.push(peer());
    }
    let (a, b) = (median(a), median(b));
    println!(
        "{name:<26} ours {:>9.1} µs   {peer_name:<9} {:>9.1} µs   ratio {:>5.2}",
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
fn values<T: Copy>(name: &str, make: fn(usize) -> T) {
    let mut ours = Bump::new();
    let mut theirs = bumpalo::Bump::new();
    compare(
        name,
        "bumpalo",
        || {
            timed(|| {
                for i in 0..N {
                    black_box(ours.alloc(make(black_box(i))));
                }
                ours.reset();
            })
        },
        || {
            timed(|| {
                for i in 0..N {
                    black_box(theirs.alloc(make(black_box(i))));
                }
                theirs.reset();
            })
        },
    );
    let mut ours = Bump::new();
    let mut boxes: Vec<Box<T>> = Vec::with_capacity(N);
    compare(
        name,
        "Box::new",
        || {
            timed(|| {
                for i in 0..N {
                    black_box(ours.alloc(make(black_box(i))));
                }
                ours.reset();
            })
        },
        || {
            timed(|| {
                for i in 0..N {
                    boxes.push(Box::new(make(black_box(i))));
                }
                black_box(&boxes);
                boxes.clear();
            })
        },
    );
}

fn slices() {
    let src: Vec<u32> = (0..16).collect();
    let name = "slice_copy 16 x u32";
    let mut ours = Bump::new();
    let mut theirs = bumpalo::Bump::new();
    compare(
        name,
        "bumpalo",
        || {
            timed(|| {
                for _ in 0..N {
                    black_box(ours.alloc_slice_copy(black_box(&src[..])));
                }
                ours.reset();
            })
        },
        || {
            timed(|| {
                for _ in 0..N {
                    black_box(theirs.alloc_slice_copy(black_box(&src[..])));
                }
                theirs.reset();
            })
        },
    );
    let mut ours = Bump::new();
    let mut boxes: Vec<Box<[u32]>> = Vec::with_capacity(N);
    compare(
        name,
        "Box::new",
        || {
            timed(|| {
                for _ in 0..N {
                    black_box(ours.alloc_slice_copy(black_box(&src[..])));
                }
                ours.reset();
            })
        },
        || {
            timed(|| {
                for _ in 0..N {
                    boxes.push(Box::from(black_box(&src[..])));
                }
                black_box(&boxes);
                boxes.clear();
            })
        },
    );
}

/// 100 cycles of 100 allocations and a reset.
fn reset_cycles() {
    let mut ours = Bump::new();
    let mut theirs = bumpalo::Bump::new();
    compare(
        "reset cycles 100 x 100",
        "bumpalo",
        || {
            timed(|| {
                for cycle in 0..N / 100 {
                    for i in 0..100 {
                        black_box(ours.alloc(black_box((cycle * i) as u64)));
                    }
                    ours.reset();
                }
            })
        },
        || {
            timed(|| {
                for cycle in 0..N / 100 {
                    for i in 0..100 {
                        black_box(theirs.alloc(black_box((cycle * i) as u64)));
                    }
                    theirs.reset();
                }
            })
        },
    );
}

/// A fresh arena every run: chunk growth from empty, then drop.
fn fresh_arena() {
    compare(
        "fresh arena, 10k u64",
        "bumpalo",
        || {
            timed(|| {
                let bump = Bump::new();
                for i in 0..N {
                    black_box(bump.alloc(black_box(i as u64)));
                }
            })
        },
        || {
            timed(|| {
                let bump = bumpalo::Bump::new();
                for i in 0..N {
                    black_box(bump.alloc(black_box(i as u64)));
                }
            })
        },
    );
}

/// Bump up (the first stage's `Arena`) against bump down (`DownArena`), one fixed buffer each.
fn up_vs_down() {
    let mut up = Arena::new(N * 16);
    let mut down = DownArena::new(N * 16);
    compare(
        "up vs down: u64",
        "down",
        || {
            timed(|| {
                for i in 0..N {
                    black_box(up.alloc(black_box(i as u64)));
                }
                up.reset();
            })
        },
        || {
            timed(|| {
                for i in 0..N {
                    black_box(down.alloc(black_box(i as u64)));
                }
                down.reset();
            })
        },
    );
    compare(
        "up vs down: u8 then u64",
        "down",
        || {
            timed(|| {
                for i in 0..N / 2 {
                    black_box(up.alloc(black_box(i as u8)));
                    black_box(up.alloc(black_box(i as u64)));
                }
                up.reset();
            })
        },
        || {
            timed(|| {
                for i in 0..N / 2 {
                    black_box(down.alloc(black_box(i as u8)));
                    black_box(down.alloc(black_box(i as u64)));
                }
                down.reset();
            })
        },
    );
}

fn main() {
    println!("arena: {N} allocations per run, median of {RUNS} runs, ratio = ours / peer");
    values("alloc u8", |i| i as u8);
    values("alloc u64", |i| i as u64);
    values("alloc u128", |i| i as u128);
    slices();
    reset_cycles();
    fresh_arena();
    up_vs_down();
}
