//! Helpers the stages' ordinary tests share: a watchdog for tests with threads, a value that
//! counts its drops, and the test binary's global allocator, which runs the programs of
//! stages 3 and 4 on your stage 3 allocator in child processes. The loom models use none of
//! them, so the loom build leaves them out.

#![cfg(not(mastery_loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use crate::s03_alloc::{CachedAlloc, SharedHeap, ThreadCache};

/// Runs `f` on its own thread and fails the test if it takes longer than `secs` (thirty times
/// that under Miri), with `hang` saying what a hang means in the stage. A panic in `f` fails the
/// test with `f`'s own message.
pub(crate) fn within<R: Send + 'static>(
    secs: u64,
    hang: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let secs = if cfg!(miri) { secs * 30 } else { secs };
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("timed out after {secs} s: {hang}"),
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the test thread ended without a result"),
        },
    }
}

/// Counts how many times values of this type were dropped: each drop adds one to the shared
/// counter, so a test can tell a value dropped once from one leaked or dropped twice.
#[derive(Debug)]
pub(crate) struct Counted(pub(crate) Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- Programs on your allocator ----
//
// A `#[global_allocator]` is one per program, and the crate's tests are one program. So the
// test binary's global allocator is a switch: the system allocator, except in a child process
// of the test binary, where the test's thread, and every thread started after it, allocate
// from `PROGRAM`, stage 3's `CachedAlloc`. A crash of that allocator then fails the test that
// started the child, with the child's output in its message, and no other test.

static PROGRAM_HEAP: SharedHeap = SharedHeap::new(64 << 20);
std::thread_local! {
    static PROGRAM_CACHE: ThreadCache = const { ThreadCache::new() };
}
/// The allocator of a child's program: stage 3's thread caches in front of `PROGRAM_HEAP`.
pub(crate) static PROGRAM: CachedAlloc = CachedAlloc::new(&PROGRAM_HEAP, &PROGRAM_CACHE);
/// Set in the child: threads that allocate for the first time from then on use `PROGRAM`.
static ON: AtomicBool = AtomicBool::new(false);
std::thread_local! {
    /// Whether this thread allocates from `PROGRAM`: decided at its first allocation (or set
    /// by `switch_to_program`). No destructor, so it can be read at any time.
    static ON_PROGRAM: Cell<Option<bool>> = const { Cell::new(None) };
}
/// The environment variable that tells the child which test it runs the program of.
const CHILD: &str = "CAPSTONE_PROGRAM_CHILD";
/// The environment variable that tells the child how long it may live, in seconds.
const CHILD_SECS: &str = "CAPSTONE_PROGRAM_SECS";

fn on_program() -> bool {
    ON_PROGRAM.with(|on| {
        let decided = on.get().unwrap_or_else(|| ON.load(Ordering::Relaxed));
        on.set(Some(decided));
        decided
    })
}

/// The test binary's global allocator: the system's, but for the child's program threads,
/// which use `PROGRAM`. A block goes back to whichever allocator its address belongs to.
struct Switch;

// SAFETY: each block is freed by the allocator whose region holds it, which is the one that
// handed it out (the system's memory never lies in PROGRAM_HEAP's region).
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            if on_program() {
                PROGRAM.alloc(layout)
            } else {
                System.alloc(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded to the allocator that handed `ptr` out.
        unsafe {
            if PROGRAM_HEAP.contains(ptr) {
                PROGRAM.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded; a block moving between allocators is copied by hand.
        unsafe {
            if !on_program() && !PROGRAM_HEAP.contains(ptr) {
                return System.realloc(ptr, layout, new_size);
            }
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            let moved = self.alloc(new);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            moved
        }
    }
}

#[global_allocator]
static GLOBAL: Switch = Switch;

/// What a child prints once its first `Box` came from your allocator: before it, a crash is
/// the allocator's.
pub(crate) const ALLOCATOR_READY: &str = "[the program's memory comes from your CachedAlloc]";

/// In the child: this thread, and every thread started from now on, allocate from `PROGRAM`.
pub(crate) fn switch_to_program() {
    ON.store(true, Ordering::SeqCst);
    ON_PROGRAM.with(|on| on.set(Some(true)));
    let probe = Box::new(7u64);
    assert!(
        PROGRAM_HEAP.contains((&raw const *probe).cast()),
        "after the switch, a Box comes from your allocator"
    );
    drop(probe);
    println!("{ALLOCATOR_READY}");
}

/// Bytes out of the program's shared heap, with this thread's cache given back first.
pub(crate) fn program_in_use() -> usize {
    PROGRAM.flush();
    PROGRAM_HEAP.in_use()
}

/// Whether a block lies in the program's shared heap.
pub(crate) fn from_program_heap(ptr: *const u8) -> bool {
    PROGRAM_HEAP.contains(ptr)
}

/// Whether this process is the child started by `run_child` for `test`. In the child, it also
/// starts a watchdog that aborts the process once the parent's `run_child` has given up on it:
/// a child whose allocator deadlocked must not spin on for ever after its parent died (a crash
/// of the test binary, or a runner that killed it).
pub(crate) fn is_child(test: &str) -> bool {
    let child = std::env::var(CHILD).is_ok_and(|name| name == test);
    if child {
        let secs = std::env::var(CHILD_SECS)
            .ok()
            .and_then(|secs| secs.parse().ok())
            .unwrap_or(120);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(secs));
            std::process::abort();
        });
    }
    child
}

/// How a child process ended.
pub(crate) enum ChildEnd {
    /// It exited: its status and its output (stdout, then stderr).
    Exited(ExitStatus, String),
    /// It did not finish in time and was killed.
    TimedOut(String),
}

/// Runs the test `test` (its path in the crate, `module::tests::name`) again in a child process
/// of the test binary, in which `is_child(test)` holds, killed after `secs` seconds.
pub(crate) fn run_child(test: &str, secs: u64) -> ChildEnd {
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, test)
        .env(CHILD_SECS, (secs + 10).to_string())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary can run itself");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
    match status {
        Some(status) => ChildEnd::Exited(status, output),
        None => ChildEnd::TimedOut(output),
    }
}
