//! Where a run's lines go: the whole of them to `.mastery/last-run.log`, and the first part of
//! them to the screen, so that a stage printing megabytes neither floods the terminal nor fills
//! the runner's memory.

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
    /// The plain lines since the last `take_kept`, for callers that read a run's output
    /// (`dev mistakes` looks for the text a mistake's failure must show).
    kept: Option<String>,
}

impl Output {
    /// Starts a new log under `root/.mastery/`, replacing the previous one.
    pub fn new(root: &Path, screen: bool, raw: bool, color: bool) -> Output {
        let dir = root.join(STATE_DIR);
        let log_path = dir.join(LOG_FILE);
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
        if let Some(log) = &mut self.log
            && self.log_bytes < LOG_BYTES
        {
            let plain = crate::outcome::strip_ansi(line);
            self.log_bytes += plain.len() as u64 + 1;
            let _ = writeln!(log, "{plain}");
            if self.log_bytes >= LOG_BYTES {
                let _ = writeln!(
                    log,
                    "[mastery: the log stops here, at {} MiB]",
                    LOG_BYTES >> 20
                );
            }
        }
    }

    /// A line of the child's output: logged, and shown while under the screen limit.
    pub fn line(&mut self, line: &str) {
        self.log(line);
        if !self.screen {
            return;
        }
        if self.shown_lines < SCREEN_LINES && self.shown_bytes + line.len() <= SCREEN_BYTES {
            self.shown_lines += 1;
            self.shown_bytes += line.len() + 1;
            if self.color {
                self.print(line);
            } else {
                self.print(&crate::outcome::strip_ansi(line));
            }
        } else {
            self.hidden_lines += 1;
        }
    }

    /// Ends the run: says how much was not shown, flushes the log.
    pub fn finish(&mut self) {
        if self.hidden_lines > 0 {
            let note = format!(
                "[mastery: {} more lines not shown; the full output is in {}]",
                self.hidden_lines,
                self.log_path.display()
            );
            self.hidden_lines = 0;
            if self.screen {
                self.print(&note);
            }
        }
        if let Some(log) = &mut self.log {
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
