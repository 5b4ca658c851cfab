//! Helpers the stages' ordinary tests share: a watchdog for tests with threads, and a value
//! that counts its drops. The loom models use neither, so the loom build leaves them out.

#![cfg(not(mastery_loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

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
