//! What every bench crate shares: sides run in turn (interleaved, so that a change in the
//! machine's load slows every side alike), the median of their samples, and the ratio of two
//! medians. Each bench prints its own lines; this crate prints nothing.
//!
//! The functions are generic over the closures, not `dyn FnMut`, so that each timing loop is
//! compiled into the bench's own code: a call through a pointer would be timed too, and could
//! keep the compiler from holding a side's state in registers.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The middle sample (the upper one of the two middles for an even count).
///
/// # Panics
///
/// If there are no samples.
pub fn median<T: Copy + PartialOrd>(mut samples: Vec<T>) -> T {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    samples[samples.len() / 2]
}

/// `a / b`: above 1 when `a` is slower.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// The time `f` takes; its result is passed through `black_box`, so the work is not optimised
/// away.
#[inline(always)]
pub fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

/// Runs `a` and `b` once each to warm up, then `runs` times each in turn; returns the median
/// of each side's samples. Each call of a side returns its own sample (a time it measured
/// itself, leaving out its set-up, or a rate).
pub fn interleaved_samples<T: Copy + PartialOrd>(
    runs: usize,
    mut a: impl FnMut() -> T,
    mut b: impl FnMut() -> T,
) -> (T, T) {
    a();
    b();
    let (mut a_runs, mut b_runs) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        a_runs.push(a());
        b_runs.push(b());
    }
    (median(a_runs), median(b_runs))
}

/// `interleaved_samples` with each call of `a` and `b` timed as a whole.
pub fn interleaved<A, B>(
    runs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Duration, Duration) {
    interleaved_samples(runs, || time(&mut a), || time(&mut b))
}

/// `interleaved_samples` for four sides run in turn.
pub fn interleaved4<T: Copy + PartialOrd>(
    runs: usize,
    mut a: impl FnMut() -> T,
    mut b: impl FnMut() -> T,
    mut c: impl FnMut() -> T,
    mut d: impl FnMut() -> T,
) -> [T; 4] {
    a();
    b();
    c();
    d();
    let mut samples: [Vec<T>; 4] = std::array::from_fn(|_| Vec::with_capacity(runs));
    for _ in 0..runs {
        samples[0].push(a());
        samples[1].push(b());
        samples[2].push(c());
        samples[3].push(d());
    }
    samples.map(median)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_sample() {
        assert_eq!(median(vec![3, 1, 2]), 2);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
    }

    #[test]
    fn sides_run_in_turn_after_one_warm_up_each() {
        let order = std::cell::RefCell::new(Vec::new());
        let (a, b) = interleaved_samples(
            3,
            || {
                order.borrow_mut().push('a');
                1
            },
            || {
                order.borrow_mut().push('b');
                2
            },
        );
        assert_eq!((a, b), (1, 2));
        assert_eq!(order.into_inner(), ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    }
}
