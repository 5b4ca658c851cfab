//! Benchmarks the project's smart pointers against std's, in one process: each workload runs
//! on ours and on std's, several times, and one line per workload prints both medians (in
//! nanoseconds per operation) and the ratio ours / std (below 1.0: ours is faster).

use smart_pointers::s01_box::MyBox;
use smart_pointers::s02_rc::MyRc;
use smart_pointers::s05_arc::MyArc as BasicArc;
use smart_pointers::s06_arc_weak::MyArc;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::{Arc, Barrier};
use std::time::Instant;

/// Operations per run, and runs per workload (the median is reported).
const OPS: u64 = 1_000_000;
const RUNS: usize = 15;

/// Nanoseconds per operation of one call of `run`, which performs `OPS` operations.
fn time_ns(run: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    run();
    start.elapsed().as_nanos() as f64 / OPS as f64
}

/// Runs ours and std's alternately, `RUNS` times each (so that both see the same machine
/// load), and prints the medians and their ratio.
fn workload(name: &str, mut ours: impl FnMut(), mut peer: impl FnMut()) {
    let (ours, peer) =
        bench_harness::interleaved_samples(RUNS, || time_ns(&mut ours), || time_ns(&mut peer));
    println!(
        "{name:<32} ours {ours:>7.2} ns   std {peer:>7.2} ns   ratio {:.2}",
        ours / peer
    );
}

/// Clones and drops `OPS` pointers on each of two threads at once, sharing one count.
fn two_threads<P: Clone + Send + Sync + 'static>(p: P) {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (p, barrier) = (p.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..OPS {
                    drop(black_box(black_box(&p).clone()));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn main() {
    println!("smart_pointers vs std ({OPS} ops per run, median of {RUNS} runs)");

    workload(
        "box new+drop (u64)",
        || (0..OPS).for_each(|i| drop(black_box(MyBox::new(black_box(i))))),
        || (0..OPS).for_each(|i| drop(black_box(Box::new(black_box(i))))),
    );

    let (ours, peer) = (MyRc::new(1_u64), Rc::new(1_u64));
    workload(
        "rc clone+drop",
        || (0..OPS).for_each(|_| drop(black_box(MyRc::clone(black_box(&ours))))),
        || (0..OPS).for_each(|_| drop(black_box(Rc::clone(black_box(&peer))))),
    );

    let (ours_w, peer_w) = (MyRc::downgrade(&ours), Rc::downgrade(&peer));
    workload(
        "rc weak upgrade+drop",
        || (0..OPS).for_each(|_| drop(black_box(black_box(&ours_w).upgrade()))),
        || (0..OPS).for_each(|_| drop(black_box(black_box(&peer_w).upgrade()))),
    );

    let (basic, ours, peer) = (BasicArc::new(1_u64), MyArc::new(1_u64), Arc::new(1_u64));
    workload(
        "arc clone+drop (s05, no weak)",
        || (0..OPS).for_each(|_| drop(black_box(BasicArc::clone(black_box(&basic))))),
        || (0..OPS).for_each(|_| drop(black_box(Arc::clone(black_box(&peer))))),
    );
    workload(
        "arc clone+drop",
        || (0..OPS).for_each(|_| drop(black_box(MyArc::clone(black_box(&ours))))),
        || (0..OPS).for_each(|_| drop(black_box(Arc::clone(black_box(&peer))))),
    );
    workload(
        "arc clone+drop, 2 threads",
        || two_threads(ours.clone()),
        || two_threads(peer.clone()),
    );

    let (ours_w, peer_w) = (MyArc::downgrade(&ours), Arc::downgrade(&peer));
    workload(
        "arc weak upgrade+drop",
        || (0..OPS).for_each(|_| drop(black_box(black_box(&ours_w).upgrade()))),
        || (0..OPS).for_each(|_| drop(black_box(black_box(&peer_w).upgrade()))),
    );
    drop((ours_w, peer_w));

    let (mut ours, mut peer) = (ours, peer);
    workload(
        "arc get_mut (unique)",
        || (0..OPS).for_each(|_| *MyArc::get_mut(black_box(&mut ours)).unwrap() += 1),
        || (0..OPS).for_each(|_| *Arc::get_mut(black_box(&mut peer)).unwrap() += 1),
    );
}
