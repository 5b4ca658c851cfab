//! Throughput of the mpsc project's queues against `std::sync::mpsc` and crossbeam-channel.
//!
//! Each workload sends `MESSAGES` `u64`s from P producer threads to one consumer (the main
//! thread) and times it from the first spawn until the consumer has them all. Every queue sends
//! the same `MESSAGES`. The queues of one workload run in rounds: each round runs every queue
//! once, starting with a different queue each time, so a neighbour's build that slows the
//! machine for a few seconds slows every queue alike. After `RUNS` rounds the median is
//! reported in millions of messages per second, with the slowest and fastest run, and the
//! ratio is ours / peer on medians (above 1: ours is faster). 2 producers is the headline on a
//! 2-core machine; 4 producers oversubscribes it.

use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mpsc::s01_channel;
use mpsc::s02_contention::profile_baseline;
use mpsc::s05_spsc;
use mpsc::s06_queue::MpscQueue;
use mpsc::s07_blocking;

const MESSAGES: u64 = 5_000_000;
const RUNS: usize = 9;

/// Spins a little, then yields: a waiting side must not burn the other side's core.
#[derive(Default)]
struct Backoff(u32);

impl Backoff {
    fn snooze(&mut self) {
        if self.0 < 64 {
            std::hint::spin_loop();
            self.0 += 1;
        } else {
            thread::yield_now();
        }
    }
}

/// One queue under test: a producer handle that can be cloned per thread, and a consumer.
trait Queue {
    const NAME: &'static str;
    type Tx: Send + 'static;
    type Rx;
    fn new() -> (Self::Tx, Self::Rx);
    fn split(tx: &Self::Tx) -> Self::Tx;
    fn send(tx: &mut Self::Tx, v: u64);
    /// Blocks (or spins) until a message arrives.
    fn recv(rx: &mut Self::Rx) -> u64;
}

/// A channel as a queue: its `Sender` is cloned per producer, its `Receiver` blocks.
macro_rules! channel_queue {
    ($queue:ident, $name:literal, $tx:ty, $rx:ty, $new:expr) => {
        struct $queue;
        impl Queue for $queue {
            const NAME: &'static str = $name;
            type Tx = $tx;
            type Rx = $rx;
            fn new() -> (Self::Tx, Self::Rx) {
                $new
            }
            fn split(tx: &Self::Tx) -> Self::Tx {
                tx.clone()
            }
            fn send(tx: &mut Self::Tx, v: u64) {
                tx.send(v).unwrap();
            }
            fn recv(rx: &mut Self::Rx) -> u64 {
                rx.recv().unwrap()
            }
        }
    };
}

channel_queue!(
    Baseline,
    "Mutex<VecDeque> baseline (s01)",
    s01_channel::Sender<u64>,
    s01_channel::Receiver<u64>,
    s01_channel::channel()
);

channel_queue!(
    LockFreeChannel,
    "lock-free channel (s07)",
    s07_blocking::Sender<u64>,
    s07_blocking::Receiver<u64>,
    s07_blocking::channel()
);

struct RawQueue;
impl Queue for RawQueue {
    const NAME: &'static str = "MpscQueue, spinning consumer (s06)";
    type Tx = Arc<MpscQueue<u64>>;
    type Rx = Arc<MpscQueue<u64>>;
    fn new() -> (Self::Tx, Self::Rx) {
        let q = Arc::new(MpscQueue::new());
        (Arc::clone(&q), q)
    }
    fn split(tx: &Self::Tx) -> Self::Tx {
        Arc::clone(tx)
    }
    fn send(tx: &mut Self::Tx, v: u64) {
        tx.push(v);
    }
    fn recv(rx: &mut Self::Rx) -> u64 {
        let mut backoff = Backoff::default();
        loop {
            // SAFETY: the main thread is the only consumer.
            if let Some(v) = unsafe { rx.pop() } {
                return v;
            }
            backoff.snooze();
        }
    }
}

struct Ring;
impl Queue for Ring {
    const NAME: &'static str = "SPSC ring, 1024 slots (s05)";
    type Tx = s05_spsc::Producer<u64>;
    type Rx = s05_spsc::Consumer<u64>;
    fn new() -> (Self::Tx, Self::Rx) {
        s05_spsc::ring(1024)
    }
    fn split(_: &Self::Tx) -> Self::Tx {
        unreachable!("the ring has one producer")
    }
    fn send(tx: &mut Self::Tx, v: u64) {
        let mut v = v;
        let mut backoff = Backoff::default();
        while let Err(back) = tx.push(v) {
            v = back;
            backoff.snooze();
        }
    }
    fn recv(rx: &mut Self::Rx) -> u64 {
        let mut backoff = Backoff::default();
        loop {
            if let Some(v) = rx.pop() {
                return v;
            }
            backoff.snooze();
        }
    }
}

channel_queue!(
    Std,
    "std::sync::mpsc::channel",
    std::sync::mpsc::Sender<u64>,
    std::sync::mpsc::Receiver<u64>,
    std::sync::mpsc::channel()
);

channel_queue!(
    Crossbeam,
    "crossbeam_channel::unbounded",
    crossbeam_channel::Sender<u64>,
    crossbeam_channel::Receiver<u64>,
    crossbeam_channel::unbounded()
);

/// One timed run: `producers` threads send `MESSAGES` in all; the caller's thread receives.
fn run_once<Q: Queue>(producers: u64) -> Duration {
    let per = MESSAGES / producers;
    let (tx, mut rx) = Q::new();
    let start = Instant::now();
    let mut txs = Vec::new();
    for _ in 1..producers {
        txs.push(Q::split(&tx));
    }
    txs.push(tx);
    let handles: Vec<_> = txs
        .into_iter()
        .enumerate()
        .map(|(p, mut tx)| {
            thread::spawn(move || {
                let base = p as u64 * per;
                for i in 0..per {
                    Q::send(&mut tx, base + i);
                }
                tx
            })
        })
        .collect();
    let mut sum = 0u64;
    for _ in 0..per * producers {
        sum = sum.wrapping_add(Q::recv(&mut rx));
    }
    let elapsed = start.elapsed();
    for h in handles {
        drop(h.join().unwrap());
    }
    let n = per * producers;
    assert_eq!(
        sum,
        n * (n - 1) / 2,
        "{}: lost or duplicated messages",
        Q::NAME
    );
    black_box(sum);
    elapsed
}

/// Throughput of one run in millions of messages per second.
fn mmsg_per_s(producers: u64, elapsed: Duration) -> f64 {
    (MESSAGES / producers * producers) as f64 / elapsed.as_secs_f64() / 1e6
}

/// One queue's runs of a workload.
struct Runs {
    name: &'static str,
    run: fn(u64) -> Duration,
    mmsg: Vec<f64>,
}

impl Runs {
    fn of<Q: Queue>() -> Self {
        Self {
            name: Q::NAME,
            run: run_once::<Q>,
            mmsg: Vec::new(),
        }
    }

    /// The median run in Mmsg/s (`RUNS` is odd).
    fn median(&self) -> f64 {
        bench_harness::median(self.mmsg.clone())
    }

    fn spread(&self) -> (f64, f64) {
        let min = self.mmsg.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.mmsg.iter().copied().fold(0.0, f64::max);
        (min, max)
    }
}

/// Runs every queue `RUNS` times with `producers` producers, in rounds.
fn measure(producers: u64, mut queues: Vec<Runs>) -> Vec<Runs> {
    let n = queues.len();
    for round in 0..RUNS {
        for i in 0..n {
            let q = &mut queues[(round + i) % n];
            let elapsed = (q.run)(producers);
            q.mmsg.push(mmsg_per_s(producers, elapsed));
        }
    }
    queues
}

fn find<'a>(runs: &'a [Runs], name: &str) -> &'a Runs {
    runs.iter()
        .find(|r| r.name == name)
        .expect("every queue compared was measured")
}

/// The cores and, where the system tells it (Linux), the load average: on a machine busier
/// than it has cores, the threads seldom run at once and contention hardly shows.
fn conditions() -> String {
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .map_or(String::new(), |l| format!(", load average {l}"));
    format!("{cores} cores{load}")
}

fn main() {
    println!(
        "{MESSAGES} messages per run, {RUNS} interleaved runs per queue; Mmsg/s (higher is \
         better): median [slowest, fastest]"
    );
    println!("machine: {}", conditions());
    for producers in [1u64, 2, 4] {
        let workload = match producers {
            1 => "1 producer".to_string(),
            4 => "4 producers (oversubscribed)".to_string(),
            p => format!("{p} producers"),
        };
        let mut queues = vec![
            Runs::of::<LockFreeChannel>(),
            Runs::of::<RawQueue>(),
            Runs::of::<Baseline>(),
            Runs::of::<Crossbeam>(),
            Runs::of::<Std>(),
        ];
        if producers == 1 {
            queues.insert(0, Runs::of::<Ring>());
        }
        let runs = measure(producers, queues);
        println!();
        println!("{workload}:");
        for r in &runs {
            let (min, max) = r.spread();
            println!(
                "  {:<36} {:>6.1}  [{:>5.1}, {:>5.1}]",
                r.name,
                r.median(),
                min,
                max
            );
        }
        let mut pairs = vec![
            (LockFreeChannel::NAME, Crossbeam::NAME),
            (LockFreeChannel::NAME, Std::NAME),
            (LockFreeChannel::NAME, Baseline::NAME),
            (RawQueue::NAME, Crossbeam::NAME),
            (Baseline::NAME, Crossbeam::NAME),
        ];
        if producers == 1 {
            pairs.extend([
                (Ring::NAME, LockFreeChannel::NAME),
                (Ring::NAME, RawQueue::NAME),
                (Ring::NAME, Crossbeam::NAME),
                (Ring::NAME, Std::NAME),
            ]);
        }
        for (ours, peer) in pairs {
            let ratio = find(&runs, ours).median() / find(&runs, peer).median();
            println!("  ratio {ours} / {peer}: {ratio:.2}x");
        }
    }
    println!();
    println!("machine after the queues: {}", conditions());
    println!();
    println!("the baseline's lock under contention (s02 profile_baseline, {MESSAGES} messages):");
    for producers in [1u64, 2, 4] {
        let p = profile_baseline(producers, MESSAGES / producers);
        let l = p.lock;
        println!(
            "{producers} producer(s): {:>6.1} Mmsg/s, {} acquisitions, {} contended, \
             held {:.0} ns per acquisition, waited {:.0} us per contended acquisition",
            p.received as f64 / p.elapsed.as_secs_f64() / 1e6,
            l.acquisitions,
            l.contended,
            l.held.as_nanos() as f64 / l.acquisitions.max(1) as f64,
            l.waited.as_secs_f64() * 1e6 / l.contended.max(1) as f64,
        );
    }
}
