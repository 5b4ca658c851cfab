//! The iterator library against std's iterators: the same pipelines over the same data, in
//! the same process. Prints one line per workload: the median time of ours, of std, and the
//! ratio ours / std (below 1.2 is parity within noise on a busy machine).
//!
//! Each pipeline is its own `#[inline(never)]` function, so that both sides are optimised as
//! separate loops, not as parts of one large `main`.
//!
//! Two workloads measure what std gets from unsafe, unstable traits. In `collect_vec (map of
//! range)` std's `collect` trusts the exact length through `TrustedLen` and writes without a
//! capacity check (a vectorised loop); a `collect` that `push`es every item is about 3x slower
//! there, and the reference solution matches std with one `unsafe` loop bounded by its own
//! counter, not by the hint (stage 6's header). In `zip_dot` std's `Zip` of two slices indexes
//! both through `TrustedRandomAccess`, which a safe library cannot do. Before stage 7,
//! the adapters have no `fold` overrides and every workload that goes through `fold` (sums,
//! collects) on a chain or an enumerate is several times slower than std.

use std::hint::black_box;
use std::time::Duration;

use iterators::s01_trait::{MyIter, MyIterator};

const N: usize = 1_000_000;
const RUNS: usize = 21;

/// Runs `ours` and `std` alternately `RUNS` times each (after one warm-up run each: page in
/// the data, fill the caches) and returns both medians.
fn measure<A, B>(ours: impl FnMut() -> A, std: impl FnMut() -> B) -> (Duration, Duration) {
    bench_harness::interleaved(RUNS, ours, std)
}

fn report(name: &str, (ours, std): (Duration, Duration)) {
    let ratio = bench_harness::ratio(ours, std);
    println!(
        "{name:<30} ours {:>9.1} us   std {:>9.1} us   ratio {ratio:>5.2}",
        ours.as_secs_f64() * 1e6,
        std.as_secs_f64() * 1e6
    );
}

#[inline(never)]
fn ours_map_filter_sum(data: &[u64]) -> u64 {
    data.my_iter().map(|x| x * 3).filter(|x| x % 2 == 0).sum()
}

#[inline(never)]
fn std_map_filter_sum(data: &[u64]) -> u64 {
    data.iter().map(|x| x * 3).filter(|x| x % 2 == 0).sum()
}

#[inline(never)]
fn ours_range_map_filter_sum(n: u64) -> u64 {
    (0..n)
        .my_iter()
        .map(|x| x ^ (x >> 3))
        .filter(|x| x % 3 != 0)
        .sum()
}

#[inline(never)]
fn std_range_map_filter_sum(n: u64) -> u64 {
    (0..n).map(|x| x ^ (x >> 3)).filter(|x| x % 3 != 0).sum()
}

#[inline(never)]
fn ours_chain_sum(a: &[u64], b: &[u64]) -> u64 {
    a.my_iter().chain(b.my_iter()).sum()
}

#[inline(never)]
fn std_chain_sum(a: &[u64], b: &[u64]) -> u64 {
    a.iter().chain(b.iter()).sum()
}

#[inline(never)]
fn ours_collect_map(n: u64) -> Vec<u64> {
    (0..n).my_iter().map(|x| x * 7).collect()
}

#[inline(never)]
fn std_collect_map(n: u64) -> Vec<u64> {
    (0..n).map(|x| x * 7).collect()
}

#[inline(never)]
fn ours_collect_filter(n: u64) -> Vec<u64> {
    (0..n).my_iter().filter(|x| x % 3 != 0).collect()
}

#[inline(never)]
fn std_collect_filter(n: u64) -> Vec<u64> {
    (0..n).filter(|x| x % 3 != 0).collect()
}

#[inline(never)]
fn ours_enumerate_skip_sum(data: &[u64]) -> u64 {
    data.my_iter()
        .enumerate()
        .skip(10)
        .map(|(i, x)| i as u64 ^ x)
        .sum()
}

#[inline(never)]
fn std_enumerate_skip_sum(data: &[u64]) -> u64 {
    data.iter()
        .enumerate()
        .skip(10)
        .map(|(i, x)| i as u64 ^ x)
        .sum()
}

#[inline(never)]
fn ours_zip_dot(a: &[u64], b: &[u64]) -> u64 {
    a.my_iter().zip(b.my_iter()).map(|(x, y)| x * y).sum()
}

#[inline(never)]
fn std_zip_dot(a: &[u64], b: &[u64]) -> u64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

fn main() {
    let data: Vec<u64> = (0..N as u64)
        .map(|x| x.wrapping_mul(2_654_435_761) % 1000)
        .collect();
    let (left, right) = data.split_at(N / 2);
    let n = N as u64;

    // Both sides must compute the same thing, or the timings mean nothing.
    assert_eq!(ours_map_filter_sum(&data), std_map_filter_sum(&data));
    assert_eq!(ours_range_map_filter_sum(n), std_range_map_filter_sum(n));
    assert_eq!(ours_chain_sum(left, right), std_chain_sum(left, right));
    assert_eq!(ours_collect_map(n), std_collect_map(n));
    assert_eq!(ours_collect_filter(n), std_collect_filter(n));
    assert_eq!(
        ours_enumerate_skip_sum(&data),
        std_enumerate_skip_sum(&data)
    );
    assert_eq!(ours_zip_dot(left, right), std_zip_dot(left, right));

    println!("workload                       (median of {RUNS} runs, {N} items)");
    let d = || black_box(&data[..]);
    let (l, r) = (|| black_box(left), || black_box(right));
    let n = || black_box(n);

    report(
        "map_filter_sum (slice)",
        measure(|| ours_map_filter_sum(d()), || std_map_filter_sum(d())),
    );
    report(
        "map_filter_sum (range)",
        measure(
            || ours_range_map_filter_sum(n()),
            || std_range_map_filter_sum(n()),
        ),
    );
    report(
        "chain_sum (two slices)",
        measure(|| ours_chain_sum(l(), r()), || std_chain_sum(l(), r())),
    );
    report(
        "collect_vec (map of range)",
        measure(|| ours_collect_map(n()), || std_collect_map(n())),
    );
    report(
        "collect_vec (filter of range)",
        measure(|| ours_collect_filter(n()), || std_collect_filter(n())),
    );
    report(
        "enumerate_skip_sum (slice)",
        measure(
            || ours_enumerate_skip_sum(d()),
            || std_enumerate_skip_sum(d()),
        ),
    );
    report(
        "zip_dot (no fold override)",
        measure(|| ours_zip_dot(l(), r()), || std_zip_dot(l(), r())),
    );
}
