//! The iterator library against std's iterators: the same pipelines over the same data, in
//! the same process. Prints one line per workload: the median time of ours, of std, and the
//! ratio ours / std (below 1.2 is parity within noise on a busy machine).
//!
//! Two workloads measure what std can do and a safe library cannot: `collect_vec (map of
//! range)`, where std's `collect` trusts the exact length through the unsafe, unstable
//! `TrustedLen` trait and writes without a capacity check (a vectorised loop), and `zip_dot`,
//! where std's `Zip` of two slices indexes both through `TrustedRandomAccess`. Before stage 7,
//! the adapters have no `fold` overrides and every workload that goes through `fold` (sums,
//! collects) is several times slower than std.

use std::hint::black_box;
use std::time::{Duration, Instant};

use iterators::s01_trait::{MyIter, MyIterator};

const N: usize = 1_000_000;
const RUNS: usize = 21;

/// Runs `ours` and `std` alternately `RUNS` times each and returns both medians.
fn measure<A, B>(mut ours: impl FnMut() -> A, mut std: impl FnMut() -> B) -> (Duration, Duration) {
    // One warm-up run each: page in the data, fill the caches.
    black_box(ours());
    black_box(std());
    let mut a = Vec::with_capacity(RUNS);
    let mut b = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        black_box(ours());
        a.push(t.elapsed());
        let t = Instant::now();
        black_box(std());
        b.push(t.elapsed());
    }
    a.sort();
    b.sort();
    (a[RUNS / 2], b[RUNS / 2])
}

fn report(name: &str, (ours, std): (Duration, Duration)) {
    let ratio = ours.as_secs_f64() / std.as_secs_f64();
    println!(
        "{name:<30} ours {:>9.1} us   std {:>9.1} us   ratio {ratio:>5.2}",
        ours.as_secs_f64() * 1e6,
        std.as_secs_f64() * 1e6
    );
}

fn main() {
    let data: Vec<u64> = (0..N as u64)
        .map(|x| x.wrapping_mul(2_654_435_761) % 1000)
        .collect();
    let (left, right) = data.split_at(N / 2);

    // Sanity: both sides compute the same thing.
    let ours: u64 = data.my_iter().map(|x| x * 3).filter(|x| x % 2 == 0).sum();
    let theirs: u64 = data.iter().map(|x| x * 3).filter(|x| x % 2 == 0).sum();
    assert_eq!(ours, theirs, "map/filter/sum disagrees with std");

    println!("workload                       (median of {RUNS} runs, {N} items)");

    report(
        "map_filter_sum (slice)",
        measure(
            || {
                black_box(&data[..])
                    .my_iter()
                    .map(|x| x * 3)
                    .filter(|x| x % 2 == 0)
                    .sum::<u64>()
            },
            || {
                black_box(&data[..])
                    .iter()
                    .map(|x| x * 3)
                    .filter(|x| x % 2 == 0)
                    .sum::<u64>()
            },
        ),
    );

    report(
        "map_filter_sum (range)",
        measure(
            || {
                (0..black_box(N as u64))
                    .my_iter()
                    .map(|x| x ^ (x >> 3))
                    .filter(|x| x % 3 != 0)
                    .sum::<u64>()
            },
            || {
                (0..black_box(N as u64))
                    .map(|x| x ^ (x >> 3))
                    .filter(|x| x % 3 != 0)
                    .sum::<u64>()
            },
        ),
    );

    report(
        "chain_sum (two slices)",
        measure(
            || {
                black_box(left)
                    .my_iter()
                    .chain(black_box(right).my_iter())
                    .sum::<u64>()
            },
            || {
                black_box(left)
                    .iter()
                    .chain(black_box(right).iter())
                    .sum::<u64>()
            },
        ),
    );

    report(
        "collect_vec (map of range)",
        measure(
            || {
                (0..black_box(N as u64))
                    .my_iter()
                    .map(|x| x * 7)
                    .collect::<Vec<u64>>()
            },
            || {
                (0..black_box(N as u64))
                    .map(|x| x * 7)
                    .collect::<Vec<u64>>()
            },
        ),
    );

    report(
        "collect_vec (filter of range)",
        measure(
            || {
                (0..black_box(N as u64))
                    .my_iter()
                    .filter(|x| x % 3 != 0)
                    .collect::<Vec<u64>>()
            },
            || {
                (0..black_box(N as u64))
                    .filter(|x| x % 3 != 0)
                    .collect::<Vec<u64>>()
            },
        ),
    );

    report(
        "enumerate_skip_sum (slice)",
        measure(
            || {
                black_box(&data[..])
                    .my_iter()
                    .enumerate()
                    .skip(10)
                    .map(|(i, x)| i as u64 ^ x)
                    .sum::<u64>()
            },
            || {
                black_box(&data[..])
                    .iter()
                    .enumerate()
                    .skip(10)
                    .map(|(i, x)| i as u64 ^ x)
                    .sum::<u64>()
            },
        ),
    );

    report(
        "zip_dot (no fold override)",
        measure(
            || {
                black_box(left)
                    .my_iter()
                    .zip(black_box(right).my_iter())
                    .map(|(a, b)| a * b)
                    .sum::<u64>()
            },
            || {
                black_box(left)
                    .iter()
                    .zip(black_box(right).iter())
                    .map(|(a, b)| a * b)
                    .sum::<u64>()
            },
        ),
    );
}
