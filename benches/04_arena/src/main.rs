//! The arena benchmark: the project's arenas against bumpalo and `Box::new`.
//!
//! Every workload allocates 10 000 values (or slices) and then frees them all: `reset` for the
//! arenas, dropping the boxes for `Box::new`. Arenas are warmed up first, so after the first
//! run they reuse their largest chunk, as a long-lived arena in a loop does. The two sides of a
//! line run alternately in the same process; each line prints the median of `RUNS` runs and
//! the ratio first / second (below 1.00: the first is faster). The slice sweep runs four sides
//! in turn and prints one row per slice length, with how many times faster than `Box` each is.
//!
//! A timing loop holds only the allocations: the values are made from the loop counter (no
//! `black_box` on it, which would add a store and a load to every iteration of every side),
//! and each reference goes to `black_box`, as real code would store it somewhere.

use std::hint::black_box;
use std::time::Duration;

use arena::s01_chunk::Arena;
use arena::s04_growth::Bump;
use arena::s06_direction::DownArena;

const N: usize = 10_000;
const RUNS: usize = 101;

/// Runs `a` and `b` alternately `RUNS` times (after one warm-up run each) and prints one line
/// with both medians and the ratio a / b.
fn compare(
    name: &str,
    (a_name, a): (&str, impl FnMut() -> Duration),
    (b_name, b): (&str, impl FnMut() -> Duration),
) {
    let (a, b) = bench_harness::interleaved_samples(RUNS, a, b);
    println!(
        "{name:<24} {a_name:<8} {:>6.1} µs   {b_name:<8} {:>6.1} µs   ratio {:>5.2}",
        a.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
        bench_harness::ratio(a, b)
    );
}

/// Like `compare`, for four sides run in turn: returns their medians.
///
/// Generic, like `compare`, so that each timing loop is compiled into it: a call through
/// `dyn FnMut` would leave the arena in memory where an inlined loop may keep it in registers.
fn medians4(
    a: impl FnMut() -> Duration,
    b: impl FnMut() -> Duration,
    c: impl FnMut() -> Duration,
    d: impl FnMut() -> Duration,
) -> [Duration; 4] {
    bench_harness::interleaved4(RUNS, a, b, c, d)
}

/// The time `f` takes.
fn timed(f: impl FnOnce()) -> Duration {
    bench_harness::time(f)
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

/// The three sides of a slice workload: `N` copies of a `len`-element `u32` slice into our
/// `Bump`, into bumpalo, and into `Box<[u32]>`s. Each side owns its arena (or boxes) and its
/// source slice.
///
/// The slice's length is hidden from the optimiser (as the length of a slice usually is), so
/// every copy is a `memcpy` call, for the arenas and for `Box<[u32]>` alike.
fn slice_sides(
    len: usize,
) -> (
    impl FnMut() -> Duration,
    impl FnMut() -> Duration,
    impl FnMut() -> Duration,
) {
    let src: Vec<u32> = (0..len as u32).collect();
    let (ours_src, theirs_src) = (src.clone(), src.clone());
    let mut ours = Bump::new();
    let run_ours = move || {
        timed(|| {
            for _ in 0..N {
                black_box(ours.alloc_slice_copy(black_box(&ours_src[..])));
            }
            ours.reset();
        })
    };
    let mut theirs = bumpalo::Bump::new();
    let run_bumpalo = move || {
        timed(|| {
            for _ in 0..N {
                black_box(theirs.alloc_slice_copy(black_box(&theirs_src[..])));
            }
            theirs.reset();
        })
    };
    let mut boxes: Vec<Box<[u32]>> = Vec::with_capacity(N);
    let run_boxes = move || {
        timed(|| {
            for _ in 0..N {
                boxes.push(Box::from(black_box(&src[..])));
            }
            black_box(&boxes);
            boxes.clear();
        })
    };
    (run_ours, run_bumpalo, run_boxes)
}

/// Copies a 16-element slice `N` times: the three pairings, as for single values.
fn slices() {
    let name = "slice_copy 16 x u32";
    let (mut ours, mut theirs, mut boxes) = slice_sides(16);
    compare(name, ("ours", &mut ours), ("bumpalo", &mut theirs));
    compare(name, ("ours", &mut ours), ("Box::new", &mut boxes));
    compare(name, ("bumpalo", &mut theirs), ("Box::new", &mut boxes));
}

/// The same copies by slice length, four sides interleaved: our `Bump`, bumpalo,
/// `Box<[u32]>::from`, and "copy only", the same copies into a preallocated buffer with no
/// allocation at all, starting at a cache line (64 bytes) so that its copies of whole lines
/// touch one line each. "copy only" is what an arena that cost nothing and placed every slice
/// at its best would take, so `Box::new / copy only` bounds how many times faster than the
/// boxes any arena can be.
fn slice_sweep() {
    println!(
        "slice_copy by length, median µs; Box::new / x: how many times faster than the boxes x is"
    );
    println!(
        "{:<24} {:>6} {:>8} {:>9} {:>10}   {:>12}   {:>15} {:>9} {:>11}",
        "  len x u32",
        "ours",
        "bumpalo",
        "Box::new",
        "copy only",
        "ours/bumpalo",
        "Box::new / ours",
        "/ bumpalo",
        "/ copy only"
    );
    for len in [1, 2, 4, 8, 16, 64] {
        let (mut ours, mut theirs, mut boxes) = slice_sides(len);
        let src: Vec<u32> = (0..len as u32).collect();
        let mut buf = vec![0u32; N * len + 16];
        let line_start = (64 - buf.as_ptr().addr() % 64) % 64 / size_of::<u32>();
        let buf = &mut buf[line_start..];
        let mut copy_only = || {
            timed(|| {
                for i in 0..N {
                    let src = black_box(&src[..]);
                    let dst = &mut buf[i * src.len()..][..src.len()];
                    dst.copy_from_slice(src);
                    black_box(dst);
                }
            })
        };
        let [o, t, b, c] = medians4(&mut ours, &mut theirs, &mut boxes, &mut copy_only)
            .map(|d| d.as_secs_f64() * 1e6);
        println!(
            "{:<24} {o:>6.1} {t:>8.1} {b:>9.1} {c:>10.1}   {:>12.2}   {:>14.1}x {:>8.1}x {:>10.1}x",
            format!("  {len:>3}"),
            o / t,
            b / o,
            b / t,
            b / c
        );
    }
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
    slice_sweep();
    reset_cycles();
    fresh_arena();
    up_vs_down();
}
