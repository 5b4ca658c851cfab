//! The capstone's executor against tokio's multi-threaded runtime, with as many worker threads
//! as the machine has cores, in the same process: many small tasks spawned from outside and run
//! to the end (the injector path), and tasks that yield many times (each yield a wake-up through
//! the hand-built waker and a worker's MPSC inbox). Prints the median of several runs for each,
//! and the ratio ours / tokio.
//!
//! Then `alloc_program` (see `alloc_program.rs`): an executor workload whose tasks allocate
//! and free Strings, Vecs and Boxes, in child processes of this binary with three global
//! allocators: the system's, stage 3's `CachedAlloc` (a thread cache in front of the shared
//! size-class heap), and the shared heap without the cache (its lock at every call). One line
//! per heap allocator with its median, the system allocator's and the ratio.
//!
//! Then `service_load` (see `service_load.rs`): stage 4's HTTP/1.1 JSON service on the system
//! allocator and on stage 3's `CachedAlloc` (each in a child process), and the same service on
//! tokio's `current_thread` runtime + serde_json, under the same load from 64 keep-alive
//! connections: requests/s, p50 and p99.
//!
//! With `CAPSTONE_BENCH_SOAK_SECS=N` it runs only the soak instead: the service on
//! `CachedAlloc` under 64 keep-alive connections for `N` seconds, every answer checked; it
//! exits with 1 if a request was lost, answered twice or answered wrongly.
//!
//! This binary's global allocator is `alloc_program::Switch`, which serves from the system
//! allocator in this process and the system-allocator children (one atomic load more per call,
//! for every side alike).

mod alloc_program;
mod service_load;

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use capstone::s02_executor::Executor;

const RUNS: usize = 5;

#[global_allocator]
static GLOBAL: alloc_program::Switch = alloc_program::Switch;

fn measure(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    f(); // warm-up
    bench_harness::median((0..runs).map(|_| f()).collect())
}

fn report(name: &str, ours: Duration, peer: Duration) {
    println!(
        "{name:<28} ours {:>9.2} ms   tokio {:>9.2} ms   ratio {:>5.2}",
        ours.as_secs_f64() * 1e3,
        peer.as_secs_f64() * 1e3,
        bench_harness::ratio(ours, peer)
    );
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
        .build()
        .unwrap()
}

/// Pending once, after waking its own task: a trip through the scheduler.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ---------------------------------------------------------------- spawn and run to the end

const SPAWNS: u64 = 100_000;

/// Spawns `SPAWNS` tasks with `spawn`, each sending its number when it ends; waits for all.
fn spawn_and_wait(mut spawn: impl FnMut(u64, mpsc::Sender<u64>)) -> Duration {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    for i in 0..SPAWNS {
        spawn(i, tx.clone());
    }
    let sum: u64 = (0..SPAWNS)
        .map(|_| rx.recv().expect("every task ends"))
        .sum();
    let elapsed = start.elapsed();
    assert_eq!(sum, SPAWNS * (SPAWNS - 1) / 2);
    elapsed
}

fn spawn_ours() -> Duration {
    let executor = Executor::new(workers());
    let elapsed = spawn_and_wait(|i, tx| {
        executor.spawn(async move {
            let _ = tx.send(i);
        });
    });
    executor.shutdown();
    elapsed
}

fn spawn_tokio() -> Duration {
    let rt = tokio_rt();
    spawn_and_wait(|i, tx| {
        rt.spawn(async move {
            let _ = tx.send(i);
        });
    })
}

// ---------------------------------------------------------------- yields

const TASKS: u64 = 64;
const YIELDS: u64 = 5_000;

fn yields_ours() -> Duration {
    let executor = Executor::new(workers());
    let elapsed = spawn_yielders(|i, tx| {
        executor.spawn(yielder(i, tx));
    });
    executor.shutdown();
    elapsed
}

fn yields_tokio() -> Duration {
    let rt = tokio_rt();
    spawn_yielders(|i, tx| {
        rt.spawn(yielder(i, tx));
    })
}

async fn yielder(i: u64, tx: mpsc::Sender<u64>) {
    for _ in 0..YIELDS {
        YieldNow(false).await;
    }
    let _ = tx.send(i);
}

fn spawn_yielders(mut spawn: impl FnMut(u64, mpsc::Sender<u64>)) -> Duration {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    for i in 0..TASKS {
        spawn(i, tx.clone());
    }
    let sum: u64 = (0..TASKS)
        .map(|_| rx.recv().expect("every task ends"))
        .sum();
    let elapsed = start.elapsed();
    assert_eq!(sum, TASKS * (TASKS - 1) / 2);
    elapsed
}

fn main() {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("--alloc-program"), Some(which)) => return alloc_program::child(&which),
        (Some("--service-program"), Some(which)) => return service_load::child(&which),
        _ => {}
    }
    if let Some(secs) = std::env::var("CAPSTONE_BENCH_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
    {
        if !service_load::soak(secs) {
            std::process::exit(1);
        }
        return;
    }
    println!(
        "capstone executor vs tokio multi_thread, {} workers each (median of {RUNS} runs)",
        workers()
    );
    report(
        "spawn+run 100k tasks",
        measure(RUNS, spawn_ours),
        measure(RUNS, spawn_tokio),
    );
    report(
        "64 tasks x 5k yields",
        measure(RUNS, yields_ours),
        measure(RUNS, yields_tokio),
    );
    alloc_program::report();
    service_load::report();
}
