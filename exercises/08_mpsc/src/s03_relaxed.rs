//! # Break it: a Relaxed handoff
//!
//! One thread writes a value, then raises a flag; another sees the flag and reads the value.
//! Every lock-free queue in this project is built from that handoff. This stage asks you to
//! write it wrong, on purpose, with `Ordering::Relaxed` on both sides of the flag, and to read
//! what the model checker loom says about it. The next stage, `mpsc-ordering`, fixes it.
//!
//! Write [`Mailbox::send`] (write the value into the cell, then store `true` into `ready`)
//! and [`Mailbox::try_read`] (if `ready` is `true`, read the value, else `None`), both with
//! `Relaxed`. The ordinary tests pass: on one thread, program order is enough. They would
//! mostly pass with two threads on x86 too. loom does not run the code on your hardware: it
//! runs the test `a_raised_flag_brings_the_value` in every interleaving its memory model
//! allows, and tracks, for each access to the `UnsafeCell`, which accesses of other threads
//! *happen-before* it. This stage's `loom` check passes when loom reports a *causality
//! violation*, and the runner shows the report's summary under the verdict.
//!
//! What to look for in the report (the runner sets `LOOM_LOCATION=1`, so loom names lines):
//!
//! - `Causality violation: Concurrent read and write accesses.`: two accesses to one cell,
//!   a read and a write, from two threads, and neither happens-before the other. That is a
//!   data race: undefined behaviour, whatever the hardware happens to do.
//! - `created:` the line that made the cell (`Mailbox::new`); `read: thread #0 @ ...` your
//!   read in `try_read`, on the test's main thread; `write: thread #1 @ ...` your write in
//!   `send`, on the spawned thread. The read saw the flag raised, so it ran after the store
//!   in real time, and still the write is "concurrent" with it: a `Relaxed` store carries its
//!   own value to the other thread, and nothing written before it.
//!
//! From this stage on, atomics, `UnsafeCell`, `Arc` and threads come from the crate's private
//! `sync` module (`src/sync.rs`): std's types normally, loom's under `--cfg mastery_loom`, so
//! the same code runs in the ordinary tests and under the model checker. Its `UnsafeCell` has
//! loom's API: `cell.with(|ptr| ...)` to read and `cell.with_mut(|ptr| ...)` to write, each
//! handing you a raw pointer for the duration of the closure.
//!
//! Afterwards you can read a loom report: name the two accesses it shows, say what a causality
//! violation is (two accesses with no happens-before between them), and why "the flag
//! arrived" does not mean "the data arrived".
//!
//! Read: Mara Bos, *Rust Atomics and Locks*, chapter 3, "Relaxed ordering" and
//! "Happens-before": <https://marabos.nl/atomics/memory-ordering.html>; loom's documentation:
//! <https://docs.rs/loom>.

use crate::sync::{AtomicBool, Ordering, UnsafeCell};

/// A one-shot mailbox: one value, sent once, read by whoever sees the flag raised.
///
/// **Unsound on purpose**: the flag is `Relaxed` on both sides, so a reader that sees it
/// raised may still read the value while it is being written. loom reports it.
pub struct Mailbox {
    value: UnsafeCell<u64>,
    ready: AtomicBool,
}

// SAFETY: none; the point of the stage. `send` and `try_read` would need a Release/Acquire
// pair on `ready` for the cell's accesses to be ordered (the next stage).
unsafe impl Sync for Mailbox {}

impl Default for Mailbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Mailbox {
    /// An empty mailbox: flag down.
    pub fn new() -> Self {
        Self {
            value: UnsafeCell::new(0),
            ready: AtomicBool::new(false),
        }
    }

    /// Writes `value`, then raises the flag, both `Relaxed`.
    ///
    /// # Safety
    ///
    /// At most one call per mailbox, from one thread.
    pub unsafe fn send(&self, value: u64) {
        // TODO: write `value` into the cell, then raise `ready` (Relaxed: the bug asked for).
        todo!()
    }

    /// The value if the flag is raised, else `None`.
    pub fn try_read(&self) -> Option<u64> {
        // TODO: if `ready` is raised (a Relaxed load), the value in the cell; else `None`.
        todo!()
    }
}

#[cfg(all(test, not(mastery_loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_empty_mailbox_reads_nothing() {
        let m = Mailbox::new();
        assert_eq!(
            m.try_read(),
            None,
            "before send, the flag is down and try_read must return None"
        );
    }

    #[test]
    fn a_sent_value_is_read_back_on_the_same_thread() {
        let m = Mailbox::new();
        // SAFETY: one send.
        unsafe { m.send(42) };
        assert_eq!(
            m.try_read(),
            Some(42),
            "after send, try_read must see the flag raised and return the value"
        );
        assert_eq!(
            m.try_read(),
            Some(42),
            "reading does not take the value away"
        );
    }

    #[test]
    fn zero_is_a_value_like_any_other() {
        let m = Mailbox::new();
        // SAFETY: one send.
        unsafe { m.send(0) };
        assert_eq!(
            m.try_read(),
            Some(0),
            "a sent 0 must read as Some(0): the flag, not the value, says whether one was sent"
        );
    }
}

#[cfg(all(test, mastery_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// One thread sends 42 while the main thread looks once. With a Relaxed flag, loom finds
    /// the interleaving where the read sees the flag but not the write before it.
    #[test]
    fn a_raised_flag_brings_the_value() {
        loom::model(|| {
            let m = Arc::new(Mailbox::new());
            let sender = {
                let m = Arc::clone(&m);
                // SAFETY: the only send.
                thread::spawn(move || unsafe { m.send(42) })
            };
            if let Some(v) = m.try_read() {
                assert_eq!(v, 42, "a reader that sees the flag must see the value");
            }
            sender.join().unwrap();
        });
    }
}
