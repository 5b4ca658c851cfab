//! Helpers the stages' tests share: a watchdog for tests with threads, and a way to run one
//! test in a child process, for behaviour a test cannot survive in its own process (an
//! `abort`).

use std::process::{Command, ExitStatus, Stdio};

/// The environment variable that tells a test binary run by `run_child` which test is the
/// child.
const CHILD: &str = "SMART_POINTERS_CHILD";

/// Runs `f` on a thread and fails the test if it does not finish in time.
#[cfg(not(mastery_loom))]
pub(crate) fn with_watchdog<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    let limit = if cfg!(miri) { 600 } else { 20 };
    rx.recv_timeout(std::time::Duration::from_secs(limit))
        .expect("the test hung (watchdog)")
}

/// Whether this process is the child `run_child(test)` started. A child test checks this
/// first and returns at once otherwise: in an ordinary run it does nothing.
pub(crate) fn is_child(test: &str) -> bool {
    std::env::var_os(CHILD).is_some_and(|name| name == test)
}

/// Runs the test binary again with only the test `test` (its full path, such as
/// `s02_rc::tests::overflow_child`), marked as the child, and returns how that process ended.
/// The child's output is discarded.
pub(crate) fn run_child(test: &str) -> ExitStatus {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", test, "--test-threads=1"])
        .env(CHILD, test)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the test binary can run itself")
}
