//! `real_program`: the size-class heap as the `#[global_allocator]` of a whole program, against
//! the system allocator, phase by phase.
//!
//! A global allocator is chosen per binary, so this binary's is a switch: [`Switch`] allocates
//! from the system allocator until [`use_ours`] flips it, then from [`REAL`], a
//! `LockedHeap<SizeClassHeap>` over a 1 GiB static arena, and frees every block to whichever
//! allocator it came from (`REAL.contains`). The benchmark runs the workload in child
//! processes, each a fresh copy of this binary (`--real-program ours` or `--real-program
//! system`), so every run starts with an empty heap and the runs of the two allocators
//! alternate.

use allocator::s07_global::{Arena, LockedHeap};
use allocator::s08_size_classes::SizeClassHeap;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::hash::BuildHasherDefault;
use std::hash::DefaultHasher;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Keys in the maps unless `ALLOCATOR_BENCH_KEYS` says otherwise: a run takes about two
/// seconds on a busy 2-core machine.
const KEYS: usize = 250_000;
/// Threads in the threads phase: more than the two cores of the machine it was written on.
const THREADS: usize = 4;
/// Runs of each allocator; the medians are reported.
const RUNS: usize = 5;
/// A child that takes longer than this is stopped and the benchmark says so.
const CHILD_LIMIT: Duration = Duration::from_secs(120);

static REAL_ARENA: Arena<{ 1 << 30 }> = Arena::new();
/// The heap under test: stage 7's size classes in front of stage 3's first-fit heap, behind
/// stage 6's lock.
pub static REAL: LockedHeap<SizeClassHeap> = LockedHeap::new(&REAL_ARENA);
static USE_OURS: AtomicBool = AtomicBool::new(false);

/// The binary's global allocator: the system's, or ours once [`use_ours`] was called.
pub struct Switch;

// SAFETY: every block is allocated by one of two sound allocators and given back to the same
// one: `REAL.contains` tells its blocks from the system's, whichever mode is on.
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            if USE_OURS.load(Ordering::Relaxed) {
                REAL.alloc(layout)
            } else {
                System.alloc(layout)
            }
        }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            if USE_OURS.load(Ordering::Relaxed) {
                REAL.alloc_zeroed(layout)
            } else {
                System.alloc_zeroed(layout)
            }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded to the allocator the block came from.
        unsafe {
            if REAL.contains(ptr) {
                REAL.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded to the allocator the block came from.
        unsafe {
            if REAL.contains(ptr) {
                REAL.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

/// From now on, this process allocates from [`REAL`].
fn use_ours() {
    USE_OURS.store(true, Ordering::Relaxed);
}

/// A deterministic hash of `i` (splitmix64), so the keys are spread out and not sorted.
fn mix(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn key(i: usize) -> String {
    format!("key-{:016x}", mix(i))
}

/// The phases, in order, as they are printed.
const PHASES: [&str; 7] = [
    "btree_insert",
    "hash_insert",
    "lookups",
    "sort",
    "format",
    "threads",
    "drop",
];

/// One thread of the threads phase: a window of live blocks of mixed sizes (mostly small,
/// some up to 4 KiB, a few up to 64 KiB), the oldest freed as each new one is made.
fn churn(seed: usize) -> usize {
    const ROUNDS: usize = 200_000;
    let mut live: std::collections::VecDeque<Vec<u8>> = std::collections::VecDeque::new();
    let mut sum = 0;
    for i in 0..ROUNDS {
        let r = mix(seed * ROUNDS + i) as usize;
        let len = match r % 100 {
            0 => 4096 + (r >> 8) % (60 * 1024),
            1..=10 => 256 + (r >> 8) % 3840,
            _ => 8 + (r >> 8) % 248,
        };
        let mut v = vec![seed as u8; len];
        v[len - 1] = i as u8;
        sum += v[0] as usize + v.len();
        live.push_back(v);
        if live.len() > 64 {
            live.pop_front();
        }
        if i % 16 == 0 {
            let s = format!("{seed}-{i}");
            sum += s.len();
        }
    }
    sum
}

/// The workload; prints `phase NAME SECONDS` for each phase and `check SUM` at the end.
fn run_workload(keys: usize) {
    let mut times = Vec::new();
    let mut check = 0usize;
    let mut t = Instant::now();
    let mut lap = |times: &mut Vec<f64>| {
        times.push(t.elapsed().as_secs_f64());
        t = Instant::now();
    };

    let mut tree = BTreeMap::new();
    for i in 0..keys {
        tree.insert(key(i), i);
    }
    lap(&mut times);

    let mut map: HashMap<String, usize, BuildHasherDefault<DefaultHasher>> = HashMap::default();
    for i in 0..keys {
        map.insert(key(i), i);
    }
    lap(&mut times);

    for i in 0..keys {
        let k = key(i * 7 % keys);
        check = check.wrapping_add(tree[&k] + map[&k]);
    }
    lap(&mut times);

    let mut sorted: Vec<String> = map.keys().cloned().collect();
    sorted.sort();
    let mut by_first_digit: Vec<&String> = tree.keys().collect();
    by_first_digit.sort_by_key(|k| std::cmp::Reverse(k.as_bytes()[4]));
    check = check.wrapping_add(sorted[keys / 2].len() + by_first_digit[0].len());
    lap(&mut times);

    let mut texts = Vec::new();
    for i in 0..keys / 50 {
        let mut s = String::new();
        for j in 0..(mix(i) % 800) {
            write!(s, "{i}:{j}, ").unwrap();
        }
        check = check.wrapping_add(s.len());
        texts.push(s);
    }
    lap(&mut times);

    let handles: Vec<_> = (0..THREADS)
        .map(|t| std::thread::spawn(move || churn(t)))
        .collect();
    for h in handles {
        check = check.wrapping_add(h.join().expect("a churn thread panicked"));
    }
    lap(&mut times);

    drop(by_first_digit);
    drop((tree, map, sorted, texts));
    lap(&mut times);

    for (name, secs) in PHASES.iter().zip(&times) {
        println!("phase {name} {secs}");
    }
    println!("check {check}");
}

/// The number of keys: `ALLOCATOR_BENCH_KEYS`, or [`KEYS`].
fn keys() -> usize {
    std::env::var("ALLOCATOR_BENCH_KEYS")
        .ok()
        .and_then(|k| k.parse().ok())
        .filter(|&k| k >= 100)
        .unwrap_or(KEYS)
}

/// The child's side: `--real-program ours|system`.
pub fn child(which: &str) {
    if which == "ours" {
        use_ours();
        let probe = String::from("probe");
        assert!(
            REAL.contains(probe.as_ptr()),
            "the switch serves from our heap"
        );
    }
    run_workload(keys());
    if which == "ours" {
        REAL.check()
            .expect("the heap's invariants hold after the program");
    }
}

/// Runs one child and returns its phase times, or why it gave none.
fn run_child(which: &str) -> Result<(Vec<f64>, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--real-program", which])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if start.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("stopped after {} s", CHILD_LIMIT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("the child failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut times = Vec::new();
    let mut check = String::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("phase"), Some(_), Some(secs)) => {
                times.push(secs.parse::<f64>().map_err(|e| e.to_string())?)
            }
            (Some("check"), Some(sum), None) => check = sum.to_string(),
            _ => {}
        }
    }
    if times.len() != PHASES.len() {
        return Err(format!("unexpected output: {text}"));
    }
    Ok((times, check))
}

/// The parent's side: alternating runs, then one line per phase and the total.
pub fn report() {
    println!();
    println!(
        "real_program: {} String keys, {THREADS} threads; size classes as the global allocator \
         (median of {RUNS} child processes each)",
        keys()
    );
    let mut ours = Vec::new();
    let mut system = Vec::new();
    for _ in 0..RUNS {
        for (which, runs) in [("ours", &mut ours), ("system", &mut system)] {
            match run_child(which) {
                Ok(r) => runs.push(r),
                Err(why) => {
                    println!("  {which}: {why}");
                    return;
                }
            }
        }
    }
    assert!(
        ours.iter().chain(&system).all(|r| r.1 == ours[0].1),
        "both allocators must do the same work"
    );
    let total = |runs: &[(Vec<f64>, String)]| {
        bench_harness::median(runs.iter().map(|r| r.0.iter().sum()).collect())
    };
    let rows = PHASES.iter().enumerate().map(|(p, name)| {
        let phase = |runs: &[(Vec<f64>, String)]| {
            bench_harness::median(runs.iter().map(|r| r.0[p]).collect())
        };
        (*name, phase(&ours), phase(&system))
    });
    for (name, a, b) in rows.chain([("whole program", total(&ours), total(&system))]) {
        println!(
            "  {name:<28} ours {:>8.1} ms   system {:>8.1} ms   ratio {:>5.2}",
            a * 1e3,
            b * 1e3,
            a / b
        );
    }
}
