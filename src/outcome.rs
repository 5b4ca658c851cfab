//! What a cargo run means: the test results, compile errors, crashes and Miri reports read out
//! of cargo's and libtest's output, line by line, and the verdict for one stage. Pure: it sees
//! lines (colours already stripped), never processes.

use std::collections::BTreeMap;
use std::fmt;

use crate::course::CheckKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestStatus {
    Ok,
    Failed,
    Ignored,
}

/// What the lines of one cargo invocation said.
#[derive(Default, Debug)]
pub struct Report {
    /// Every `test NAME ... STATUS` line, by test name.
    pub results: BTreeMap<String, TestStatus>,
    /// Test binaries cargo started (`Running unittests src/lib.rs (target/debug/deps/x-1234)`).
    pub binaries: Vec<String>,
    /// Cargo could not compile a crate.
    pub compile_error: bool,
    /// A test process died of a signal or a stack overflow: a plain description.
    pub crash: Option<Crash>,
    /// Miri found undefined behaviour or a leak: its one-line summary.
    pub miri_error: Option<String>,
    /// The build is over and the tests run: the timeout clock runs from here.
    pub tests_started: bool,
    /// Every panic of a test: where, and its message's first line.
    pub panics: Vec<Panic>,
    /// The details of Miri's first report.
    pub miri: Option<MiriFinding>,
    /// A test announced (`test NAME ... `) whose result never came: the one running when the
    /// process died (libtest announces before running when tests run one at a time, as
    /// under Miri).
    pub unfinished: Option<String>,
    /// `-Zmiri-many-seeds`: the seeds that failed.
    pub failing_seeds: Vec<u64>,
    /// Where the line being read belongs: after a panic's first line, or inside Miri's report.
    state: ReadState,
}

/// One test's panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panic {
    /// The panicking thread's name: the test's, for a test's own thread.
    pub thread: String,
    /// `path:line:col`
    pub at: String,
    pub message: String,
    /// Lines that follow the message and add to it (loom's conflicting accesses).
    pub detail: Vec<String>,
}

/// Miri's report, read out of its lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MiriFinding {
    /// The first line after `error: `, e.g. `Undefined Behavior: memory access failed: ...`.
    pub message: String,
    /// `this is on thread `NAME``
    pub thread: Option<String>,
    /// Every `--> path:line:col` of the report, in order.
    pub spans: Vec<String>,
    /// A data race's earlier access, `(1) occurred earlier here`.
    pub earlier: Option<String>,
    /// The backtrace: function and `path:line:col`.
    pub frames: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum ReadState {
    #[default]
    Plain,
    /// A panic's header was read; its message comes next.
    PanicMessage,
    /// In a panic's message, after its first line.
    PanicDetail,
    /// Inside Miri's report: the function of a backtrace frame whose `at` line comes next,
    /// and whether the next span is the earlier access of a data race.
    Miri {
        function: Option<String>,
        earlier_next: bool,
    },
}

impl Report {
    /// Feeds one line (without its newline, colours stripped).
    pub fn line(&mut self, line: &str) {
        let trimmed = line.trim_start();
        if self.follow(line, trimmed) {
            return;
        }
        if self.miri_line(line) {
            return;
        }
        if let Some(rest) = line.strip_prefix("test ") {
            self.test_line(rest);
        } else if let Some(rest) = trimmed.strip_prefix("Running ") {
            self.tests_started = true;
            if let (Some(open), true) = (rest.rfind('('), rest.ends_with(')')) {
                self.binaries
                    .push(rest[open + 1..rest.len() - 1].to_string());
            }
        } else if trimmed.starts_with("Doc-tests ") {
            self.tests_started = true;
        } else if trimmed.starts_with("error: could not compile") || trimmed.starts_with("error[E")
        {
            self.compile_error = true;
        } else if line.contains("has overflowed its stack") {
            self.crash = Some(Crash::StackOverflow);
        } else if let Some(signal) = signal_of(line) {
            if self.crash.is_none() {
                self.crash = Some(signal);
            }
        } else if let Some(seed) = trimmed.strip_prefix("FAILING SEED: ") {
            if let Ok(seed) = seed.trim().parse() {
                self.failing_seeds.push(seed);
            }
        } else if let Some(panic) = panic_header(trimmed) {
            self.panics.push(panic);
            self.state = ReadState::PanicMessage;
        }
    }

    /// Miri's report starts: its summary, kept; false when the line is none of these.
    fn miri_line(&mut self, line: &str) -> bool {
        if let Some(at) = line.find("error: Undefined Behavior: ") {
            let rest = &line[at + "error: Undefined Behavior: ".len()..];
            self.miri_error
                .get_or_insert_with(|| format!("undefined behaviour: {}", rest.trim()));
            self.start_miri(&line[at + "error: ".len()..]);
        } else if let Some(at) = line.find("error: memory leaked") {
            self.miri_error
                .get_or_insert_with(|| "memory leaked: an allocation was never freed".to_string());
            self.start_miri(&line[at + "error: ".len()..]);
        } else if let Some(at) = line.find("error: unsupported operation: ") {
            let rest = &line[at + "error: unsupported operation: ".len()..];
            self.miri_error
                .get_or_insert_with(|| format!("an operation Miri cannot run: {}", rest.trim()));
            self.start_miri(&line[at + "error: ".len()..]);
        } else {
            return false;
        }
        true
    }

    /// A libtest result line (`test NAME ... ok`), or a test that started (`test NAME ...`).
    fn test_line(&mut self, rest: &str) {
        if let Some(name) = rest
            .strip_suffix(" ... ")
            .or_else(|| rest.strip_suffix(" ..."))
        {
            // Miri's seeds interleave: `test a ... test a ... ` is `a`.
            let name = name.rsplit(" ... test ").next().unwrap_or(name);
            self.unfinished = Some(name.to_string());
            return;
        }
        if let Some((name, status)) = rest.rsplit_once(" ... ") {
            // Miri's many seeds run at once and their lines interleave:
            // `test a ... test a ... okok` is two reports of `a`.
            let name = name.rsplit(" ... test ").next().unwrap_or(name);
            let status = match status.trim_end() {
                "ok" => TestStatus::Ok,
                "FAILED" => TestStatus::Failed,
                s if s.starts_with("ignored") => TestStatus::Ignored,
                s if s.contains("FAILED") => TestStatus::Failed,
                s if !s.is_empty() && s.split("ok").all(str::is_empty) => TestStatus::Ok,
                _ => return,
            };
            if self.unfinished.as_deref() == Some(name) {
                self.unfinished = None;
            }
            // A test reported twice (Miri's many seeds) failed if any report failed.
            let entry = self.results.entry(name.to_string()).or_insert(status);
            if *entry != TestStatus::Failed {
                *entry = status;
            }
        }
    }

    fn start_miri(&mut self, message: &str) {
        if self.miri.is_none() {
            self.miri = Some(MiriFinding {
                message: message.trim().to_string(),
                ..MiriFinding::default()
            });
            self.state = ReadState::Miri {
                function: None,
                earlier_next: false,
            };
        }
    }

    /// Reads a line that continues a panic's message or Miri's report; false when the line is
    /// not one (the state is then back to plain).
    fn follow(&mut self, line: &str, trimmed: &str) -> bool {
        match &mut self.state {
            ReadState::Plain => false,
            ReadState::PanicMessage => {
                if trimmed.is_empty() {
                    return true;
                }
                // cargo's own line on stderr may come between a panic's header and its
                // message on stdout: it is read as itself, and the message is still to come.
                if trimmed.starts_with("error: test failed") {
                    return false;
                }
                if let Some(p) = self.panics.last_mut() {
                    p.message = trimmed.to_string();
                }
                self.state = ReadState::PanicDetail;
                true
            }
            ReadState::PanicDetail => {
                // loom's `created: ...`, `read: thread #0 @ ...` lines; anything else ends it.
                let is_detail = line.starts_with("    ")
                    && trimmed.split_once(": ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
                    });
                if is_detail && let Some(p) = self.panics.last_mut() {
                    p.detail.push(trimmed.to_string());
                    return true;
                }
                self.state = ReadState::Plain;
                false
            }
            ReadState::Miri { .. } => self.miri_report_line(trimmed),
        }
    }

    /// A line of Miri's report (its spans, thread, backtrace); false when it is not one.
    fn miri_report_line(&mut self, trimmed: &str) -> bool {
        let (
            ReadState::Miri {
                function,
                earlier_next,
            },
            Some(m),
        ) = (&mut self.state, self.miri.as_mut())
        else {
            self.state = ReadState::Plain;
            return false;
        };
        if let Some(span) = trimmed.strip_prefix("--> ") {
            let span = span.trim().to_string();
            if std::mem::take(earlier_next) {
                m.earlier = Some(span.clone());
            }
            m.spans.push(span);
        } else if trimmed.contains("(1) occurred earlier here") {
            *earlier_next = true;
        } else if let Some(rest) = trimmed.strip_prefix("= note: this is on thread `") {
            m.thread = rest.split('`').next().map(str::to_string);
        } else if let Some(at) = trimmed.strip_prefix("at ")
            && let Some(f) = function.take()
        {
            let place = at.split(": ").next().unwrap_or(at).trim().to_string();
            m.frames.push((f, place));
        } else if let Some((n, f)) = trimmed.split_once(": ")
            && !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit())
        {
            *function = Some(f.trim().to_string());
        } else {
            // Not part of the report's details: read as any line (stdout's test lines
            // interleave with Miri's report on stderr).
            if trimmed.starts_with("error: aborting") {
                self.state = ReadState::Plain;
            }
            return false;
        }
        true
    }

    /// The results of the tests whose names start with `prefix`, or, for doctests (named by
    /// their path from the workspace root), that hold `/prefix`.
    pub fn matching<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, TestStatus)> + 'a {
        let nested = format!("/{prefix}");
        self.results
            .iter()
            .filter(move |(n, _)| n.starts_with(prefix) || n.contains(&nested))
            .map(|(n, s)| (n, *s))
    }
}

/// `thread 'NAME' (1234) panicked at src/lib.rs:10:5:` (the id is absent on older toolchains).
fn panic_header(line: &str) -> Option<Panic> {
    let rest = line.strip_prefix("thread '")?;
    let (thread, rest) = rest.split_once('\'')?;
    let (_, at) = rest.split_once(" panicked at ")?;
    Some(Panic {
        thread: thread.to_string(),
        at: at.trim_end().trim_end_matches(':').to_string(),
        message: String::new(),
        detail: Vec::new(),
    })
}

/// `process didn't exit successfully: `...` (signal: 11, SIGSEGV: invalid memory reference)`
fn signal_of(line: &str) -> Option<Crash> {
    let start = line.find("(signal: ")?;
    let inner = line[start + 1..].trim_end().strip_suffix(')')?;
    let name = inner.split(", ").nth(1).unwrap_or(inner);
    Some(match name.split(':').next().unwrap_or_default() {
        "SIGSEGV" => Crash::Segfault,
        "SIGBUS" => Crash::BusError,
        "SIGABRT" => Crash::Abort,
        "SIGILL" => Crash::IllegalInstruction,
        "SIGKILL" => Crash::Killed,
        "SIGFPE" => Crash::ArithmeticFault,
        _ => Crash::Signal(name.to_string()),
    })
}

/// How a test process crashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crash {
    StackOverflow,
    Segfault,
    BusError,
    Abort,
    IllegalInstruction,
    Killed,
    ArithmeticFault,
    /// Another signal, by the name the OS gives it.
    Signal(String),
}

impl fmt::Display for Crash {
    /// The crash in plain words, to follow "crashed with".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Crash::StackOverflow => "a stack overflow (infinite or too deep recursion?)",
            Crash::Segfault => "a segmentation fault (an invalid memory access)",
            Crash::BusError => "a bus error (a misaligned or invalid memory access)",
            Crash::Abort => {
                "an abort (a double panic, a failed allocation, the C allocator finding its heap corrupted, or `std::process::abort`)"
            }
            Crash::IllegalInstruction => {
                "an illegal instruction (often a stack overflow or a `core::intrinsics::abort`)"
            }
            Crash::Killed => "being killed (out of memory?)",
            Crash::ArithmeticFault => "an arithmetic fault",
            Crash::Signal(name) => return write!(f, "the signal {name}"),
        })
    }
}

/// The verdict of one check on one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed {
        tests: usize,
    },
    Failed {
        failed: Vec<String>,
    },
    CompileError,
    NoTests,
    TimedOut {
        secs: u64,
        running: Vec<String>,
    },
    Crashed {
        what: Crash,
        /// The tests that were running when it crashed, where known.
        running: Vec<String>,
    },
    MiriError {
        what: String,
    },
    Cancelled,
    /// The check could not run here (a toolchain is missing): never a pass.
    Unavailable {
        why: String,
    },
    /// A break-it stage's check found the bug the learner wrote on purpose: a pass.
    Broken {
        what: String,
    },
    /// A break-it stage's check did not find the bug the stage asks for.
    Unbroken {
        wanted: String,
        found: String,
    },
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed { .. } | Verdict::Broken { .. })
    }

    /// A crash of the kind Miri cannot help with: a stack overflow is the program's recursion,
    /// not undefined behaviour (and Miri would take ages to reach it).
    pub fn is_stack_overflow(&self) -> bool {
        matches!(
            self,
            Verdict::Crashed {
                what: Crash::StackOverflow,
                ..
            }
        )
    }

    /// One sentence for the learner, with what to do next.
    pub fn describe(&self, kind: CheckKind) -> String {
        match self {
            Verdict::Passed { tests } => format!("{kind}: {tests} passed"),
            Verdict::Failed { failed } if failed.is_empty() => format!("{kind}: failed"),
            Verdict::Failed { failed } => {
                let shown: Vec<&str> = failed.iter().take(5).map(|s| s.as_str()).collect();
                let more = if failed.len() > 5 {
                    format!(" and {} more", failed.len() - 5)
                } else {
                    String::new()
                };
                format!(
                    "{kind}: {} failed: {}{more}",
                    failed.len(),
                    shown.join(", ")
                )
            }
            Verdict::CompileError => {
                format!("{kind}: does not compile; the compiler's errors are above")
            }
            Verdict::NoTests => {
                format!("{kind}: no test of this stage ran (is the tests module still there?)")
            }
            Verdict::TimedOut { secs, running } if running.is_empty() => {
                format!("{kind}: timed out after {secs} s; a test may loop forever or deadlock")
            }
            Verdict::TimedOut { secs, running } => format!(
                "{kind}: timed out after {secs} s while {} was still running; it may loop forever or deadlock",
                running.join(", ")
            ),
            Verdict::Crashed {
                what: Crash::StackOverflow,
                ..
            } => format!(
                "{kind}: the test process crashed with {}. Look for a recursion that never reaches its base case, or a huge value on the stack",
                Crash::StackOverflow
            ),
            // loom turns a panic while another unwinds (a failed assertion, then a Drop that
            // panics on the state it left) into an abort: the first panic is the finding.
            Verdict::Crashed {
                what: what @ Crash::Abort,
                ..
            } if kind == CheckKind::Loom => format!(
                "{kind}: the loom model ended with {what}, usually a second panic while the first unwound; the first panic above is the finding"
            ),
            Verdict::Crashed { what, .. } => format!(
                "{kind}: the test process crashed with {what}. Undefined behaviour in unsafe code is the usual cause"
            ),
            Verdict::MiriError { what } => {
                format!("{kind}: Miri found {what}; its report above shows where")
            }
            Verdict::Cancelled => format!("{kind}: cancelled"),
            Verdict::Unavailable { why } => format!("{kind}: not run: {why}"),
            Verdict::Broken { what } => {
                format!("{kind}: found the bug you wrote on purpose: {what}")
            }
            Verdict::Unbroken { wanted, found } => format!(
                "{kind}: this stage asks for code in which {kind} finds {wanted}, but it found {found}"
            ),
        }
    }
}

/// Judges a finished (or killed) run for the tests that start with `prefix`. `alone`: the run
/// was for this stage only, so its exit status is the stage's.
pub fn judge(report: &Report, prefix: &str, exit_ok: bool, alone: bool) -> Verdict {
    let mut ran = 0;
    let mut failed = Vec::new();
    for (name, status) in report.matching(prefix) {
        match status {
            TestStatus::Ok => ran += 1,
            TestStatus::Failed => failed.push(name.clone()),
            TestStatus::Ignored => {}
        }
    }
    if let Some(what) = &report.miri_error {
        return Verdict::MiriError { what: what.clone() };
    }
    // A crash ends every test still running: it is the news, even when others failed first.
    if let Some(what) = &report.crash {
        return Verdict::Crashed {
            what: what.clone(),
            running: report.unfinished.iter().cloned().collect(),
        };
    }
    if !failed.is_empty() {
        return Verdict::Failed { failed };
    }
    if report.compile_error {
        return Verdict::CompileError;
    }
    if ran == 0 {
        return if exit_ok {
            Verdict::NoTests
        } else {
            Verdict::Failed { failed }
        };
    }
    if !exit_ok && alone {
        // Every test of the stage passed, yet the run failed: nothing here says why, so it is
        // not a pass. (A batch reruns its stages alone before judging them this way.)
        return Verdict::Failed { failed };
    }
    Verdict::Passed { tests: ran }
}

/// Strips terminal escape sequences, so colourful output parses like plain output: CSI
/// (`ESC [ ... final`), OSC (`ESC ] ... BEL` or `ESC \\`), character-set designations
/// (`ESC ( B`), other two-byte escapes, and control characters such as SI: terminfo's `sgr0`,
/// which libtest's colours end with, is `ESC ( B ESC [ m` on xterm and `ESC [ m SI` on screen.
pub fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            // Other control characters (terminfo's `sgr0` for screen and tmux ends in SI,
            // 0x0f) are not text either.
            if c == '\t' || !c.is_control() {
                out.push(c);
            }
            continue;
        }
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates, then one final byte in @..=~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            Some('(' | ')' | '*' | '+' | '#' | '%') => {
                chars.next();
            }
            _ => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str) -> Report {
        let mut r = Report::default();
        for line in text.lines() {
            r.line(&strip_ansi(line));
        }
        r
    }

    #[test]
    fn passing_tests_of_the_stage_pass() {
        let r = report(
            "   Compiling demo v0.1.0\n     Running unittests src/lib.rs (target/debug/deps/demo-abc)\n\nrunning 2 tests\ntest s01_a::tests::one ... ok\ntest s01_a::tests::two ... ok\n\ntest result: ok. 2 passed; 0 failed",
        );
        assert!(r.tests_started);
        assert_eq!(r.binaries, vec!["target/debug/deps/demo-abc"]);
        assert_eq!(
            judge(&r, "s01_a::", true, true),
            Verdict::Passed { tests: 2 }
        );
        assert_eq!(judge(&r, "s02_b::", true, true), Verdict::NoTests);
    }

    #[test]
    fn failures_are_named_per_stage() {
        let r = report(
            "test s01_a::tests::one ... ok\ntest s02_b::tests::two ... FAILED\ntest s02_b::tests::three ... ignored, needs x",
        );
        // One batch for both stages: s02_b's failure is not s01_a's.
        assert_eq!(
            judge(&r, "s01_a::", false, false),
            Verdict::Passed { tests: 1 }
        );
        assert_eq!(
            judge(&r, "s02_b::", false, false),
            Verdict::Failed {
                failed: vec!["s02_b::tests::two".into()]
            }
        );
    }

    #[test]
    fn coloured_output_parses_like_plain_output() {
        let r = report("test s01_a::tests::one ... \x1b[32mok\x1b[0m");
        assert_eq!(
            judge(&r, "s01_a::", true, true),
            Verdict::Passed { tests: 1 }
        );
    }

    #[test]
    fn terminfo_colours_parse_like_plain_output() {
        // libtest's colours through terminfo: `sgr0` is `ESC ( B ESC [ m` on xterm and
        // `ESC [ m SI` on screen and tmux.
        let r = report(
            "test s01_a::tests::one ... \x1b[32mok\x1b(B\x1b[m\ntest s01_a::tests::two ... \x1b[31mFAILED\x1b[m\x0f",
        );
        assert_eq!(
            judge(&r, "s01_a::", false, true),
            Verdict::Failed {
                failed: vec!["s01_a::tests::two".into()]
            }
        );
        assert_eq!(
            strip_ansi("a\x1b]8;;file:///x\x1b\\b\x1b]8;;\x07c\x1b[1;31md"),
            "abcd"
        );
    }

    #[test]
    fn doctests_are_mapped_by_file() {
        let r = report(
            "   Doc-tests demo\ntest exercises/01_demo/src/s01_a.rs - s01_a::Thing (line 7) - compile fail ... ok\n",
        );
        assert_eq!(
            judge(&r, "src/s01_a.rs - ", true, true),
            Verdict::Passed { tests: 1 }
        );
        assert_eq!(judge(&r, "src/s02_b.rs - ", true, true), Verdict::NoTests);
    }

    #[test]
    fn compile_errors_are_recognised() {
        let r = report(
            "error[E0308]: mismatched types\nerror: could not compile `demo` (lib test) due to 1 previous error",
        );
        assert_eq!(judge(&r, "s01_a::", false, true), Verdict::CompileError);
    }

    #[test]
    fn cargo_s_line_between_a_panic_and_its_message_is_not_the_message() {
        let r = report(
            "thread '<unnamed>' (23642) panicked at src/s01.rs:145:5:\nerror: test failed, to rerun pass `-p mpsc --lib`\nnot yet implemented\n",
        );
        assert_eq!(r.panics.len(), 1);
        assert_eq!(r.panics[0].message, "not yet implemented");
    }

    #[test]
    fn crashes_are_named_in_plain_words() {
        let r = report(
            "error: test failed, to rerun pass `-p demo --lib`\n\nCaused by:\n  process didn't exit successfully: `/t/demo-1 s01` (signal: 11, SIGSEGV: invalid memory reference)",
        );
        assert_eq!(
            judge(&r, "s01_a::", false, true),
            Verdict::Crashed {
                what: Crash::Segfault,
                running: vec![]
            }
        );
        let r = report(
            "\nthread 's01_a::tests::deep' has overflowed its stack\nfatal runtime error: stack overflow\n  process didn't exit successfully: `x` (signal: 6, SIGABRT: process abort signal)",
        );
        assert_eq!(
            judge(&r, "s01_a::", false, true),
            Verdict::Crashed {
                what: Crash::StackOverflow,
                running: vec![]
            }
        );
    }

    #[test]
    fn a_segfault_in_a_loom_model_is_a_crash_like_any_other() {
        let segfault = Verdict::Crashed {
            what: Crash::Segfault,
            running: vec![],
        };
        let loom = segfault.describe(CheckKind::Loom);
        assert!(
            loom.contains("Undefined behaviour in unsafe code"),
            "{loom}"
        );
        assert!(!loom.contains("second panic"), "{loom}");
    }

    #[test]
    fn an_abort_in_a_loom_model_points_at_the_first_panic_not_at_unsafe_code() {
        let abort = Verdict::Crashed {
            what: Crash::Abort,
            running: vec![],
        };
        let loom = abort.describe(CheckKind::Loom);
        assert!(
            loom.contains("the first panic above is the finding"),
            "{loom}"
        );
        assert!(!loom.contains("Undefined behaviour"), "{loom}");
        let test = abort.describe(CheckKind::Test);
        assert!(
            test.contains("Undefined behaviour in unsafe code"),
            "{test}"
        );
    }

    #[test]
    fn miri_reports_are_summarised() {
        let r = report(
            "error: Undefined Behavior: attempting a read access using <1234> at alloc5[0x0], but that tag does not exist\n",
        );
        assert!(
            matches!(judge(&r, "s01_a::", false, true), Verdict::MiriError { what } if what.starts_with("undefined behaviour: attempting a read"))
        );
    }

    #[test]
    fn interleaved_seeds_count_each_test_once() {
        let r = report(
            "Trying seed: 0\nTrying seed: 2\ntest s01_a::tests::one ... test s01_a::tests::one ... okok\ntest s01_a::tests::two ... ok\ntest s01_a::tests::two ... FAILED\nFAILING SEED: 2\n",
        );
        assert_eq!(r.results.len(), 2, "{:?}", r.results);
        let r2 = report("test s01_a::tests::uaf ... test s01_a::tests::uaf ... ");
        assert_eq!(r2.unfinished.as_deref(), Some("s01_a::tests::uaf"));
        assert_eq!(r.failing_seeds, vec![2]);
        assert_eq!(
            judge(&r, "s01_a::", false, true),
            Verdict::Failed {
                failed: vec!["s01_a::tests::two".into()]
            }
        );
    }

    #[test]
    fn a_test_that_failed_once_stays_failed() {
        let r = report("test s01_a::tests::racy ... FAILED\ntest s01_a::tests::racy ... ok\n");
        assert_eq!(
            judge(&r, "s01_a::", false, true),
            Verdict::Failed {
                failed: vec!["s01_a::tests::racy".into()]
            }
        );
    }

    #[test]
    fn passing_tests_in_a_failed_run_of_the_stage_alone_are_not_a_pass() {
        let r = report("test s01_a::tests::one ... ok\n");
        assert_eq!(
            judge(&r, "s01_a::", false, true),
            Verdict::Failed { failed: vec![] }
        );
    }

    #[test]
    fn a_failed_run_with_no_results_is_a_failure_not_a_pass() {
        assert_eq!(
            judge(&Report::default(), "s01_a::", false, true),
            Verdict::Failed { failed: vec![] }
        );
    }
}
