//! Where a run's lines go: the whole of them to `.mastery/last-run.log`, and the first part of
//! them to the screen, so that a stage printing megabytes neither floods the terminal nor fills
//! the runner's memory. Past either limit the last lines are still kept (the failures and the
//! summary come last), and on screen a test's `todo!()` panic is folded away: the verdict's
//! notes count them by place.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::state::STATE_DIR;

pub const LOG_FILE: &str = "last-run.log";

/// Lines shown on screen per run, at most.
const SCREEN_LINES: usize = 400;
/// Bytes shown on screen per run, at most.
const SCREEN_BYTES: usize = 96 * 1024;
/// Bytes kept in the log per run, at most.
const LOG_BYTES: u64 = 64 * 1024 * 1024;
/// Lines shown at the end of a run whose middle was not shown.
const SCREEN_TAIL_LINES: usize = 40;
/// Bytes of the last lines kept for the log once it is past its limit.
const LOG_TAIL_BYTES: usize = 1024 * 1024;
/// A failure block longer than this is shown as it comes, never folded.
const FOLD_LINES: usize = 64;

/// The last lines of a stream, up to a count and a size.
#[derive(Default)]
struct Tail {
    lines: std::collections::VecDeque<String>,
    bytes: usize,
}

impl Tail {
    fn push(&mut self, line: &str, max_lines: usize, max_bytes: usize) {
        self.bytes += line.len() + 1;
        self.lines.push_back(line.to_string());
        while self.lines.len() > max_lines || (self.bytes > max_bytes && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len() + 1;
            }
        }
    }

    fn take(&mut self) -> Vec<String> {
        self.bytes = 0;
        self.lines.drain(..).collect()
    }
}

/// A test binary that ran none of its tests (the doctests of a stage that has none, filtered
/// out) says so in four lines that read like a problem: held back from its `Running`/`Doc-tests`
/// line, and left off the screen when it ends with `0 passed; 0 failed`.
#[derive(Default)]
struct Quiet {
    held: Vec<String>,
}

impl Quiet {
    /// Takes one line; returns the lines to show now.
    fn line(&mut self, line: &str) -> Vec<String> {
        let plain = crate::outcome::strip_ansi(line);
        let plain = plain.trim();
        let header = plain.starts_with("Running ") || plain.starts_with("Doc-tests ");
        if header {
            let out = std::mem::take(&mut self.held);
            self.held.push(line.to_string());
            return out;
        }
        if self.held.is_empty() {
            return vec![line.to_string()];
        }
        let empty_run = plain.starts_with("test result: ok. 0 passed; 0 failed;");
        if empty_run {
            self.held.clear();
            return Vec::new();
        }
        if plain.is_empty() || plain == "running 0 tests" {
            self.held.push(line.to_string());
            return Vec::new();
        }
        let mut out = std::mem::take(&mut self.held);
        out.push(line.to_string());
        out
    }

    fn flush(&mut self) -> Vec<String> {
        std::mem::take(&mut self.held)
    }
}

/// libtest's failure blocks (`---- NAME stdout ----` up to the next block or the `failures:`
/// list) are held back until complete, so that the ones that only say `not yet implemented`
/// can be left off the screen.
#[derive(Default)]
struct Fold {
    block: Option<Vec<String>>,
}

impl Fold {
    /// Takes one line; returns the lines to show now.
    fn line(&mut self, line: &str) -> Vec<String> {
        let plain = crate::outcome::strip_ansi(line);
        if plain.starts_with("error: test failed") && self.block.is_some() {
            // cargo's stderr can overtake the test binary's stdout (two pipes): this line says
            // the run failed; the block being read goes on after it.
            return vec![line.to_string()];
        }
        let starts_block = plain.starts_with("---- ") && plain.ends_with(" ----");
        let ends_block = starts_block
            || plain.starts_with("failures:")
            || plain.starts_with("test result:")
            || plain.starts_with("error: test failed");
        let mut out = Vec::new();
        if ends_block {
            out.extend(self.flush());
        }
        match &mut self.block {
            Some(block) => {
                block.push(line.to_string());
                if block.len() > FOLD_LINES {
                    out.extend(self.block.take().unwrap_or_default());
                }
            }
            None if starts_block => self.block = Some(vec![line.to_string()]),
            None => out.push(line.to_string()),
        }
        out
    }

    /// Ends the held block: its lines, or none if it was a `todo!()` panic.
    fn flush(&mut self) -> Vec<String> {
        let Some(block) = self.block.take() else {
            return Vec::new();
        };
        let todo = block.iter().any(|l| {
            let l = crate::outcome::strip_ansi(l);
            let l = l.trim();
            l == "not yet implemented" || l.starts_with("not implemented")
        });
        if todo { Vec::new() } else { block }
    }
}

/// A receiver of screen lines.
type Forward = Box<dyn FnMut(&str) + Send>;

pub struct Output {
    log: Option<BufWriter<File>>,
    log_path: PathBuf,
    log_bytes: u64,
    shown_lines: usize,
    shown_bytes: usize,
    hidden_lines: usize,
    /// Print to the screen at all (false for batch runs that only log).
    screen: bool,
    /// The terminal is in raw mode: lines end with `\r\n`.
    raw: bool,
    color: bool,
    /// Where screen lines go instead of stdout (the watch loop forwards them to its own loop).
    forward: Option<Forward>,
    quiet: Quiet,
    fold: Fold,
    /// The last lines not shown on screen, shown at the end.
    screen_tail: Tail,
    /// The last lines past the log's limit, written at the end.
    log_tail: Tail,
    /// The plain lines since the last `take_kept`, for callers that read a run's output
    /// (`dev mistakes` looks for the text a mistake's failure must show).
    kept: Option<String>,
}

impl Output {
    /// Starts a new log under `root/.mastery/`, replacing the previous one.
    pub fn new(root: &Path, screen: bool, raw: bool, color: bool) -> Output {
        let dir = root.join(STATE_DIR);
        let log_path = dir.join(LOG_FILE);
        // A new file, not the old one emptied: a run that was just replaced (a save restarts
        // the watch loop's run) may still flush its last lines into the old one.
        let _ = std::fs::remove_file(&log_path);
        let log = std::fs::create_dir_all(&dir)
            .and_then(|()| File::create(&log_path))
            .ok()
            .map(BufWriter::new);
        Output {
            log,
            log_path,
            log_bytes: 0,
            shown_lines: 0,
            shown_bytes: 0,
            hidden_lines: 0,
            screen,
            raw,
            color,
            forward: None,
            quiet: Quiet::default(),
            fold: Fold::default(),
            screen_tail: Tail::default(),
            log_tail: Tail::default(),
            kept: None,
        }
    }

    /// Also keeps the plain lines in memory (up to the log's limit), for `take_kept`.
    pub fn keeping(mut self) -> Output {
        self.kept = Some(String::new());
        self
    }

    /// The lines kept since the last call.
    pub fn take_kept(&mut self) -> String {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Sends the screen's lines to `forward` instead of stdout.
    pub fn forward_to(mut self, forward: impl FnMut(&str) + Send + 'static) -> Output {
        self.forward = Some(Box::new(forward));
        self
    }

    /// Where the full log is, relative to the course root.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Records a line in the log only.
    pub fn log(&mut self, line: &str) {
        if let Some(kept) = &mut self.kept
            && (kept.len() as u64) < LOG_BYTES
        {
            kept.push_str(&crate::outcome::strip_ansi(line));
            kept.push('\n');
        }
        let Some(log) = &mut self.log else {
            return;
        };
        let plain = crate::outcome::strip_ansi(line);
        if self.log_bytes < LOG_BYTES {
            self.log_bytes += plain.len() as u64 + 1;
            let _ = writeln!(log, "{plain}");
            if self.log_bytes >= LOG_BYTES {
                let _ = writeln!(
                    log,
                    "[mastery: the log skips from here, at {} MiB, to the last lines]",
                    LOG_BYTES >> 20
                );
            }
        } else {
            self.log_bytes += plain.len() as u64 + 1;
            self.log_tail.push(&plain, usize::MAX, LOG_TAIL_BYTES);
        }
    }

    /// A line of the child's output: logged, and shown while under the screen limit (a
    /// `todo!()` panic's block excepted); past the limit the last lines are kept for the end.
    pub fn line(&mut self, line: &str) {
        self.log(line);
        if !self.screen {
            return;
        }
        for line in self.quiet.line(line) {
            for line in self.fold.line(&line) {
                self.show(&line);
            }
        }
    }

    fn show(&mut self, line: &str) {
        if self.shown_lines < SCREEN_LINES && self.shown_bytes + line.len() <= SCREEN_BYTES {
            self.shown_lines += 1;
            self.shown_bytes += line.len() + 1;
            self.print_line(line);
        } else {
            self.hidden_lines += 1;
            self.screen_tail
                .push(line, SCREEN_TAIL_LINES, SCREEN_BYTES / 4);
        }
    }

    fn print_line(&mut self, line: &str) {
        if self.color {
            self.print(line);
        } else {
            self.print(&crate::outcome::strip_ansi(line));
        }
    }

    /// Ends the run: says how much was not shown, flushes the log.
    pub fn finish(&mut self) {
        for line in self.quiet.flush() {
            for line in self.fold.line(&line) {
                self.show(&line);
            }
        }
        for line in self.fold.flush() {
            self.show(&line);
        }
        let tail = self.screen_tail.take();
        if self.hidden_lines > tail.len() {
            let note = format!(
                "[mastery: {} lines not shown; the full output is in {}]",
                self.hidden_lines - tail.len(),
                self.log_path.display()
            );
            if self.screen {
                self.print(&note);
            }
        }
        self.hidden_lines = 0;
        for line in tail {
            self.print_line(&line);
        }
        if let Some(log) = &mut self.log {
            let tail = self.log_tail.take();
            if !tail.is_empty() {
                let _ = writeln!(log, "[mastery: the last lines of the output:]");
                for line in tail {
                    let _ = writeln!(log, "{line}");
                }
            }
            let _ = log.flush();
        }
        let _ = std::io::stdout().flush();
    }

    fn print(&mut self, line: &str) {
        if let Some(forward) = &mut self.forward {
            forward(line);
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(if self.raw { b"\r\n" } else { b"\n" });
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(log) = &mut self.log {
            let _ = log.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(lines: &[&str]) -> Vec<String> {
        let mut quiet = Quiet::default();
        let mut out: Vec<String> = lines.iter().flat_map(|l| quiet.line(l)).collect();
        out.extend(quiet.flush());
        out
    }

    #[test]
    fn a_test_binary_that_ran_nothing_is_left_off_the_screen() {
        let out = shown(&[
            "     Running unittests src/lib.rs (target/debug/deps/json-1)",
            "",
            "running 2 tests",
            "test a ... ok",
            "",
            "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out",
            "   Doc-tests json",
            "",
            "running 0 tests",
            "",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s",
            "",
        ]);
        assert_eq!(
            out,
            [
                "     Running unittests src/lib.rs (target/debug/deps/json-1)",
                "",
                "running 2 tests",
                "test a ... ok",
                "",
                "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out",
                "",
            ]
        );
    }

    #[test]
    fn cargo_overtaking_a_todo_block_does_not_unfold_it() {
        let mut fold = Fold::default();
        let lines = [
            "---- s05::tests::a stdout ----",
            "error: test failed, to rerun pass `-p demo --lib`",
            "",
            "thread 's05::tests::a' (7) panicked at src/s05.rs:7:5:",
            "not yet implemented",
            "",
            "failures:",
        ];
        let out: Vec<String> = lines.iter().flat_map(|l| fold.line(l)).collect();
        assert_eq!(
            out,
            [
                "error: test failed, to rerun pass `-p demo --lib`",
                "failures:"
            ]
        );
    }

    #[test]
    fn a_run_that_ends_otherwise_is_shown_whole() {
        let lines = [
            "   Doc-tests json",
            "",
            "running 0 tests",
            "error: doctest failed",
        ];
        assert_eq!(shown(&lines), lines);
        let cut = ["   Doc-tests json", ""];
        assert_eq!(shown(&cut), cut);
    }
}
