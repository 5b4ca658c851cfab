//! `alloc_program`: the capstone's executor running an allocating workload on three global
//! allocators, each in child processes of this binary.
//!
//! A global allocator is chosen per binary, so this binary's is a switch: [`Switch`] allocates
//! from the system allocator until a child picks another mode, first thing in `main`, before it
//! starts a thread: [`CachedAlloc`] (each thread's cache in front of the shared size-class
//! heap), or [`Uncached`] (the same [`SharedHeap`], its lock taken at every call). Every block
//! is freed to the allocator whose region holds it (`HEAP.contains`). The parent runs
//! `--alloc-program system|cached|uncached` in turn, so every run starts with an empty heap and
//! a change in the machine's load slows every side alike.

use capstone::s02_executor::Executor;
use capstone::s03_alloc::{CachedAlloc, SharedHeap, ThreadCache};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write;
use std::io::Read;
use std::process::{Command, Stdio};
use std::ptr::{NonNull, null_mut};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Tasks in the measured run unless `CAPSTONE_BENCH_ALLOC_TASKS` says otherwise.
const TASKS: usize = 50_000;
/// Polls of each task: it allocates at every one and yields between them, and every wake-up
/// sends it to the next worker in turn, so what it kept is freed on another worker.
const ROUNDS: usize = 4;
/// Worker threads: more than the two cores of the machine it was written on, as in stage 3's
/// test.
const WORKERS: usize = 4;
/// Child processes per allocator; the medians are reported.
const RUNS: usize = 5;
/// A child that takes longer than this is stopped, and its allocator's runs end there.
const CHILD_LIMIT: Duration = Duration::from_secs(10);

/// The region both heap modes allocate from (only one is used in a process), taken from the
/// system allocator on first use.
static HEAP: SharedHeap = SharedHeap::new(256 << 20);
std::thread_local! {
    static CACHE: ThreadCache = const { ThreadCache::new() };
}
static CACHED: CachedAlloc = CachedAlloc::new(&HEAP, &CACHE);
static UNCACHED: Uncached = Uncached(&HEAP);

const SYSTEM: u8 = 0;
const WITH_CACHE: u8 = 1;
const NO_CACHE: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(SYSTEM);

/// The shared heap alone: its lock taken once per call, no thread cache.
pub struct Uncached(&'static SharedHeap);

// SAFETY: every block comes from the shared heap, which hands out each byte to one allocation
// at a time, aligned as asked, and takes it back with the layout it was handed out with.
unsafe impl GlobalAlloc for Uncached {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0
            .with(|h| h.alloc(layout))
            .flatten()
            .map_or(null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(ptr) = NonNull::new(ptr) else {
            return;
        };
        // The region's own pointer, as `CachedAlloc` frees with: the heap writes its list
        // node into the whole block.
        let block = self.0.block(ptr);
        // SAFETY: the caller promises `ptr` came from this allocator with `layout`.
        self.0.with(|h| unsafe { h.free(block, layout) });
    }
}

/// The binary's global allocator: the system's, or the mode a child chose.
pub struct Switch;

// SAFETY: every block is allocated by one of two sound allocators and given back to the same
// one: the system's memory never lies in HEAP's region, and only one heap mode is ever on in a
// process, so `HEAP.contains` names the allocator a block came from.
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                WITH_CACHE => CACHED.alloc(layout),
                NO_CACHE => UNCACHED.alloc(layout),
                _ => System.alloc(layout),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded to the allocator the block came from.
        unsafe {
            if !HEAP.contains(ptr) {
                System.dealloc(ptr, layout)
            } else if MODE.load(Ordering::Relaxed) == WITH_CACHE {
                CACHED.dealloc(ptr, layout)
            } else {
                UNCACHED.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded to the allocator the block came from; a block moving from the
        // system's memory to the heap is copied by hand.
        unsafe {
            let mode = MODE.load(Ordering::Relaxed);
            if mode == SYSTEM {
                return System.realloc(ptr, layout, new_size);
            }
            if HEAP.contains(ptr) {
                return if mode == WITH_CACHE {
                    CACHED.realloc(ptr, layout, new_size)
                } else {
                    UNCACHED.realloc(ptr, layout, new_size)
                };
            }
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            let moved = self.alloc(new);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                System.dealloc(ptr, layout);
            }
            moved
        }
    }
}

/// A deterministic hash of `i` (splitmix64): sizes are spread out, and the same in every run.
fn mix(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The workload: `tasks` tasks spawned from this thread onto `WORKERS` workers. At each of its
/// `ROUNDS` polls a task builds a String by pushes (8 to about 200 bytes, grown through
/// `realloc`), which it keeps until its last poll, and a `Vec<u64>` (16 to 256 bytes), a
/// `Box`, and one time in sixteen a 1 to 4 KiB buffer, which it frees in the same poll.
/// Returns the time from the executor's start to the end of its shutdown (the workers'
/// caches given back), and a checksum of the work.
fn run_tasks(tasks: usize) -> (Duration, u64) {
    let start = Instant::now();
    let executor = Executor::new(WORKERS);
    let (tx, rx) = mpsc::channel();
    for t in 0..tasks {
        let tx = tx.clone();
        let mut round = 0;
        let mut kept: Vec<String> = Vec::new();
        let mut sum = 0u64;
        executor.spawn(std::future::poll_fn(move |cx| {
            let r = mix(t * ROUNDS + round);
            let mut s = String::new();
            for piece in 0..1 + r % 24 {
                write!(s, "{t}:{piece};").unwrap();
            }
            let v: Vec<u64> = (0..2 + (r >> 8) % 31).map(|i| i ^ r).collect();
            let b = Box::new([r; 3]);
            sum = sum.wrapping_add(v.iter().fold(b[1], |a, x| a ^ x));
            if (r >> 16).is_multiple_of(16) {
                let big = vec![r as u8; 1024 + (r >> 20) as usize % 3072];
                sum = sum.wrapping_add(big.len() as u64 + u64::from(big[big.len() - 1]));
            }
            kept.push(s);
            round += 1;
            if round < ROUNDS {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let kept = std::mem::take(&mut kept);
            sum = sum.wrapping_add(kept.iter().map(|s| s.len() as u64).sum::<u64>());
            let _ = tx.send(sum);
            Poll::Ready(())
        }));
    }
    drop(tx);
    let check = rx.iter().take(tasks).fold(0u64, |a, x| a.wrapping_add(x));
    executor.shutdown();
    (start.elapsed(), check)
}

/// The number of tasks: `CAPSTONE_BENCH_ALLOC_TASKS`, or [`TASKS`].
fn tasks() -> usize {
    std::env::var("CAPSTONE_BENCH_ALLOC_TASKS")
        .ok()
        .and_then(|k| k.parse().ok())
        .filter(|&k| k >= 100)
        .unwrap_or(TASKS)
}

/// The child's side: `--alloc-program system|cached|uncached`. Prints `elapsed SECONDS`,
/// `check SUM` and `locks N` (how many times the shared heap's lock was taken in the run).
pub fn child(which: &str) {
    use_allocator(which);
    // A first run sets up what the standard library keeps for the life of the main thread (a
    // channel's wait context, the thread's handle); the second is measured.
    run_tasks(200);
    let locks = HEAP.locks();
    let (elapsed, check) = run_tasks(tasks());
    println!("elapsed {}", elapsed.as_secs_f64());
    println!("check {check}");
    println!("locks {}", HEAP.locks() - locks);
    // The heap's invariant walker, without `SharedHeap::check`'s trim first: giving every
    // class block back to the first-fit list one by one takes seconds.
    check_heap();
}

/// Makes `which` (`system`, `cached` or `uncached`) this process's allocator from now on; call
/// it first thing in a child, before it starts a thread.
pub fn use_allocator(which: &str) {
    let mode = match which {
        "system" => SYSTEM,
        "cached" => WITH_CACHE,
        "uncached" => NO_CACHE,
        _ => panic!("the allocator is system, cached or uncached, not {which}"),
    };
    MODE.store(mode, Ordering::SeqCst);
    if mode != SYSTEM {
        let probe = Box::new(7u64);
        assert!(
            HEAP.contains((&raw const *probe).cast()),
            "the switch serves from the shared heap"
        );
    }
}

/// Runs the shared heap's invariant walker (no-op on the system allocator); panics if they
/// do not hold.
pub fn check_heap() {
    if MODE.load(Ordering::SeqCst) != SYSTEM {
        HEAP.with(|h| h.check())
            .expect("the shared heap has its region")
            .expect("the shared heap's invariants hold after the program");
    }
}

/// One child's measurements.
struct Sample {
    secs: f64,
    check: String,
    locks: usize,
}

/// Runs one child and returns its measurements, or why it gave none.
fn run_child(which: &str) -> Result<Sample, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--alloc-program", which])
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if start.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "stopped after {} s: a lock never released, or a lost wake-up?",
                    CHILD_LIMIT.as_secs()
                ));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let text = stdout.join().unwrap_or_default();
    let errors = stderr.join().unwrap_or_default();
    if !status.success() {
        let last: Vec<&str> = errors.lines().rev().take(6).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return Err(format!(
            "the child failed ({status}):\n    {}",
            last.join("\n    ")
        ));
    }
    let (mut secs, mut check, mut locks) = (None, None, None);
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("elapsed", v)) => secs = v.parse::<f64>().ok(),
            Some(("check", v)) => check = Some(v.to_string()),
            Some(("locks", v)) => locks = v.parse::<usize>().ok(),
            _ => {}
        }
    }
    match (secs, check, locks) {
        (Some(secs), Some(check), Some(locks)) => Ok(Sample { secs, check, locks }),
        _ => Err(format!("unexpected output: {text}")),
    }
}

/// The parent's side: runs in turn, then one line per heap allocator against the system's.
pub fn report() {
    println!();
    println!(
        "your allocator under the executor: {WORKERS} workers, {} tasks x {ROUNDS} allocating \
         polls (median of {RUNS} child processes each)",
        tasks()
    );
    let sides = ["system", "cached", "uncached"];
    let mut samples: [Vec<Sample>; 3] = Default::default();
    let mut failed: [Option<String>; 3] = Default::default();
    for _ in 0..RUNS {
        for (i, which) in sides.iter().enumerate() {
            if failed[i].is_some() {
                continue;
            }
            match run_child(which) {
                Ok(sample) => samples[i].push(sample),
                Err(why) => failed[i] = Some(why),
            }
        }
    }
    let checks: Vec<&String> = samples.iter().flatten().map(|s| &s.check).collect();
    assert!(
        checks.iter().all(|c| *c == checks[0]),
        "every allocator must do the same work"
    );
    let median = |runs: &[Sample]| {
        (!runs.is_empty()).then(|| {
            let secs = bench_harness::median(runs.iter().map(|s| s.secs).collect());
            let locks = bench_harness::median(runs.iter().map(|s| s.locks).collect());
            (Duration::from_secs_f64(secs), locks)
        })
    };
    let system = median(&samples[0]).map(|(d, _)| d);
    let names = ["", "thread cache + shared heap", "shared heap, no cache"];
    for i in 1..3 {
        match (median(&samples[i]), system) {
            (Some((ours, locks)), Some(system)) => println!(
                "  {:<28} ours {:>9.2} ms   system {:>9.2} ms   ratio {:>5.2}   ({locks} locks)",
                names[i],
                ours.as_secs_f64() * 1e3,
                system.as_secs_f64() * 1e3,
                bench_harness::ratio(ours, system)
            ),
            (Some((ours, locks)), None) => println!(
                "  {:<28} ours {:>9.2} ms   ({locks} locks)",
                names[i],
                ours.as_secs_f64() * 1e3
            ),
            (None, _) => {}
        }
    }
    for (i, why) in failed.iter().enumerate() {
        if let Some(why) = why {
            println!("  {}: {why}", sides[i]);
        }
    }
}
