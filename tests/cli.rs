//! End-to-end tests: the built `mastery` against the small fixture course in `tests/fixture`,
//! copied to a temporary directory for each test. Every command and every error a user can
//! cause, as the user sees it; the watch loop in a pseudo-terminal (`pty` below).

// Unix only: openpty(3). The watch loop's tests in a terminal and the signal tests are
// `#[cfg(unix)]`; on Windows the job objects they stand for are tested in src/process.rs.
#[cfg(unix)]
mod pty;

use std::fs;
use std::path::{MAIN_SEPARATOR, Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mastery");

/// A fresh copy of the fixture course, committed to git with its stubs locked, as a learner
/// would clone it.
struct Course {
    dir: tempfile::TempDir,
}

impl Course {
    #[track_caller]
    fn new() -> Course {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"),
            dir.path(),
        );
        let course = Course { dir };
        if cfg!(windows) && Command::new("git").arg("--version").output().is_err() {
            // Under wine there is no Windows git: the course is a plain copy, without history
            // or stubs.lock. scripts/windows-tests.sh does not run the tests that need them.
            return course;
        }
        course.git(&["init", "-q"]);
        course.git(&["add", "-A"]);
        course.git(&["commit", "-qm", "course"]);
        let lock = course.mastery(&["dev", "lock"]);
        assert!(lock.status.success(), "dev lock: {}", text(&lock.stderr));
        course.git(&["add", "-A"]);
        course.git(&["commit", "-qm", "lock"]);
        course
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    #[track_caller]
    fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "0")
            .env_remove("CARGO_TARGET_DIR")
            // `cargo test` sets this for what it runs, as `cargo run` does: mastery would
            // then name its commands `cargo run -- ...`.
            .env_remove("CARGO_PKG_NAME")
            .stdin(Stdio::null());
        cmd
    }

    #[track_caller]
    fn mastery(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Replaces a stage file with its reference solution.
    #[track_caller]
    fn solve(&self, file: &str) {
        fs::copy(
            self.path(&format!("solutions/01_demo/src/{file}")),
            self.path(&format!("exercises/01_demo/src/{file}")),
        )
        .unwrap();
    }

    fn state(&self) -> String {
        fs::read_to_string(self.path(".mastery/state.toml")).unwrap_or_default()
    }
}

#[track_caller]
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

#[test]
fn run_reports_a_failing_stub_and_exits_1() {
    let c = Course::new();
    let out = c.mastery(&["run", "demo-add"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(s.contains("Demo 1/8: Adding numbers  (demo-add)"), "{s}");
    assert!(s.contains("exercises/01_demo/src/s01_add.rs"), "{s}");
    assert_line(&s, "  time: about 30 min");
    assert_line(
        &s,
        "  !! test: 1 failed: s01_add::tests::adds_small_numbers",
    );
    assert_line(&s, "Not yet. Read the output above, edit, save.");
    assert!(
        !s.contains('\x1b'),
        "no colours with NO_COLOR and no terminal"
    );
}

#[test]
fn a_solved_stage_passes_is_saved_and_the_course_moves_on() {
    let c = Course::new();
    c.solve("s01_add.rs");
    let out = c.mastery(&["run"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert_line(&s, "  ok test: 1 passed");
    assert_line(&s, "  ok doc: 1 passed");
    assert_line(&s, "Stage passed: Adding numbers");
    assert_line(
        &s,
        "Compare with the reference: `mastery solution demo-add`.",
    );
    assert_line(
        &s,
        "Next: `mastery run demo-hang` (or `mastery` to watch; press n there to move on).",
    );
    let state = c.state();
    assert!(state.contains("passed = [\"demo-add\"]"), "{state}");
    assert!(state.contains("current = \"demo-hang\""), "{state}");
    let list = stdout(&c.mastery(&["list"]));
    assert_line(&list, "  Demo  [##--------------]  1/8  about 30 min");
    assert_line(
        &list,
        "    done demo-add                     Adding numbers  (30 min)",
    );
    assert_line(
        &list,
        "      -> demo-hang                    A stage that hangs",
    );
    assert_line(
        &list,
        "         demo-crash                   A stage that crashes",
    );
    assert_line(&list, "1 of 8 stages passed.");
}

/// A stage's unit tests and doctests run in one cargo invocation, judged apart: a failing
/// doctest fails the doc check only, and a failing unit test stops before the doctests.
#[test]
fn unit_tests_and_doctests_share_one_run_and_are_judged_apart() {
    let c = Course::new();
    let log = || fs::read_to_string(c.path(".mastery/last-run.log")).unwrap();
    let out = c.mastery(&["run", "demo-add"]);
    assert_eq!(out.status.code(), Some(1));
    let l = log();
    assert!(
        !l.contains("Doc-tests"),
        "cargo stops at the failing unit test: {l}"
    );
    assert!(!stdout(&out).contains("doc:"), "{}", stdout(&out));

    c.solve("s01_add.rs");
    let path = c.path("exercises/01_demo/src/s01_add.rs");
    let body = fs::read_to_string(&path).unwrap().replace(
        "/// Adds two numbers.\n",
        "/// Adds two numbers.\n///\n/// ```\n/// assert_eq!(demo::s01_add::add(1, 1), 3);\n/// ```\n",
    );
    fs::write(&path, body).unwrap();
    let out = c.mastery(&["run", "demo-add"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(s.contains("ok test: 1 passed"), "{s}");
    assert!(
        s.contains("!! doc: 1 failed: exercises/01_demo/src/s01_add.rs - s01_add::add (line"),
        "{s}"
    );
    let l = log();
    let commands: Vec<&str> = l.lines().filter(|l| l.starts_with("$ ")).collect();
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(
        commands[0].ends_with(
            "cargo test -p demo --color=never -- s01_add:: src/s01_add.rs --color=never"
        ),
        "{commands:?}"
    );
}

#[test]
fn without_a_terminal_mastery_runs_the_current_stage_once() {
    let c = Course::new();
    let out = c.mastery(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("(demo-add)"));
}

#[test]
fn a_hanging_stage_is_killed_at_its_timeout_and_the_running_test_is_named() {
    let c = Course::new();
    let started = Instant::now();
    let out = c.mastery(&["run", "demo-hang"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(
        s.lines().any(|l| l == "  !! test: timed out after 2 s while s02_hang::tests::spin_returns was still running; it may loop forever or deadlock"),
        "{s}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the build plus a 2 s limit"
    );
    // This course's test binary only: other tests run their own copies of the fixture.
    let mine = format!("{}/target/debug/deps/demo-", c.dir.path().display());
    let ps = Command::new("pgrep").args(["-f", &mine]).output().unwrap();
    assert!(
        ps.stdout.is_empty(),
        "the hanging test process was killed: {}",
        text(&ps.stdout)
    );
}

#[test]
fn a_crash_is_named_in_plain_words() {
    let c = Course::new();
    let out = c.mastery(&["run", "demo-crash"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert_line(
        &s,
        "  !! test: the test process crashed with a stack overflow (infinite or too deep recursion?). Look for a recursion that never reaches its base case, or a huge value on the stack",
    );
}

#[test]
fn megabytes_of_output_are_capped_on_screen_and_kept_in_the_log() {
    let c = Course::new();
    let out = c.mastery(&["run", "demo-loud"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(s.len() < 200 * 1024, "the screen got {} bytes", s.len());
    assert!(
        s.contains("lines not shown; the full output is in"),
        "{}",
        &s[s.len().saturating_sub(500)..]
    );
    assert_line(&s, "  !! test: 1 failed: s04_loud::tests::quiet_is_quiet");
    // The flood comes first; the assertion's message and the summary still reach the screen.
    assert!(
        s.contains("\nquiet() must print nothing\n"),
        "{}",
        &s[s.len().saturating_sub(2000)..]
    );
    assert!(
        s.contains("\ntest result: FAILED. 0 passed; 1 failed;"),
        "{s}"
    );
    let log = fs::read_to_string(c.path(".mastery/last-run.log")).unwrap();
    assert!(
        log.contains("line 199999 of far too much output"),
        "the log has everything"
    );
}

#[test]
fn unknown_stages_are_refused_with_suggestions() {
    let c = Course::new();
    let out = c.mastery(&["run", "add"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: there is no stage named `add` in info.toml. Did you mean: demo-add? Run `mastery list` to see every stage.\n"
    );
}

#[test]
fn a_malformed_info_toml_is_reported_with_file_and_line() {
    let c = Course::new();
    let info = fs::read_to_string(c.path("info.toml")).unwrap().replace(
        "checks = [\"test\", \"doc\"]",
        "checks = [\"test\", \"fuzz\"]",
    );
    fs::write(c.path("info.toml"), info).unwrap();
    let out = c.mastery(&["list"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.starts_with("error: "), "{e}");
    assert!(e.contains(&format!("{MAIN_SEPARATOR}info.toml:26: stage `demo-add`: unknown check `fuzz`; the checks are test, doc, miri and loom")), "{e}");

    fs::write(
        c.path("info.toml"),
        "format_version = 1\nwelcome = \"unterminated\n",
    )
    .unwrap();
    let e = stderr(&c.mastery(&["list"]));
    assert!(e.contains(&format!("{MAIN_SEPARATOR}info.toml:2: ")), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn outside_a_course_mastery_says_where_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("list")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: no info.toml here or in any parent directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupt_state_file_is_moved_aside_and_progress_is_rebuilt_by_verify() {
    let c = Course::new();
    c.solve("s01_add.rs");
    fs::create_dir_all(c.path(".mastery")).unwrap();
    fs::write(c.path(".mastery/state.toml"), "passed = {{{{ not toml").unwrap();
    let out = c.mastery(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let e = stderr(&out);
    assert!(e.contains("warning: the progress file"), "{e}");
    assert!(e.contains("is corrupt"), "{e}");
    assert!(
        e.contains("Run `mastery verify` to recover your progress"),
        "{e}"
    );
    let aside: Vec<_> = fs::read_dir(c.path(".mastery"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .collect();
    assert_eq!(aside.len(), 1, "the corrupt file is kept aside");

    let out = c.mastery(&["verify"]);
    assert_eq!(out.status.code(), Some(1), "stages are still pending");
    assert!(
        c.state().contains("passed = [\"demo-add\"]"),
        "{}",
        c.state()
    );
}

#[test]
fn verify_prints_a_table_and_json() {
    let c = Course::new();
    c.solve("s01_add.rs");
    c.solve("s04_loud.rs");
    let out = c.mastery(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert_line(&s, "Phase 0: Basics");
    assert_line(&s, "  Demo  2/8");
    assert_line(&s, "    pass  demo-add                     test, doc");
    assert_line(
        &s,
        "    todo  demo-hang                    test: timed out after 2 s while s02_hang::tests::spin_returns was still running; it may loop forever or deadlock",
    );
    assert_line(
        &s,
        "    todo  demo-crash                   test: the test process crashed with a stack overflow (infinite or too deep recursion?). Look for a recursion that never reaches its base case, or a huge value on the stack",
    );
    assert_line(&s, "    pass  demo-loud                    test");
    assert_line(&s, "2 of 8 required stages pass.");

    let out = c.mastery(&["verify", "--json", "--only", "test"]);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("verify --json prints JSON");
    assert_eq!(json[0]["name"], "demo-add");
    assert_eq!(json[0]["passed"], true);
    assert_eq!(json[1]["passed"], false);

    for file in [
        "s02_hang.rs",
        "s03_crash.rs",
        "s05_todo.rs",
        "s06_uaf.rs",
        "s07_handoff.rs",
        "s08_break.rs",
    ] {
        c.solve(file);
    }
    let out = c.mastery(&["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_line(&stdout(&out), "8 of 8 required stages pass.");
}

#[test]
fn hints_come_one_level_at_a_time() {
    let c = Course::new();
    let first = stdout(&c.mastery(&["hint"]));
    assert_line(&first, "Hints for Adding numbers (demo-add)");
    assert_line(&first, "  1/3: Think about the + operator.");
    assert!(!first.contains("2/3"), "{first}");
    assert_line(&first, "Ask again for the next level.");
    let second = stdout(&c.mastery(&["hint"]));
    assert_line(&second, "  2/3: Return a + b.");
    let all = stdout(&c.mastery(&["hint", "demo-add", "--all"]));
    assert_line(&all, "  3/3: `a + b`");
}

#[test]
fn the_solution_is_shown_only_after_a_pass_unless_forced() {
    let c = Course::new();
    let out = c.mastery(&["solution", "demo-add"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: stage `demo-add` has not passed yet: solve it first (`mastery run demo-add`), or add --force to see the reference anyway\n"
    );
    let out = c.mastery(&["solution", "demo-add", "--force"]);
    assert_line(
        &stdout(&out),
        "Reference solution: solutions/01_demo/src/s01_add.rs",
    );
    assert!(stdout(&out).contains("    a + b\n"));
}

#[test]
fn reset_restores_the_true_original_after_a_commit_and_keeps_a_backup() {
    let c = Course::new();
    let stage = c.path("exercises/01_demo/src/s01_add.rs");
    let original = fs::read_to_string(&stage).unwrap();
    fs::write(&stage, "// my work in progress\n").unwrap();
    let other = c.path("exercises/01_demo/src/s02_hang.rs");
    fs::write(&other, "// more work in progress\n").unwrap();
    let other_before = fs::read_to_string(&other).unwrap();
    c.git(&["commit", "-qam", "my work"]);

    let out = c.mastery(&["reset", "demo-add"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pass --yes to confirm when not at a terminal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fs::read_to_string(&stage).unwrap(),
        "// my work in progress\n",
        "nothing written without confirmation"
    );

    let out = c.mastery(&["reset", "demo-add", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l == "Restored the original stub of exercises/01_demo/src/s01_add.rs.")
    );
    assert_eq!(fs::read_to_string(&stage).unwrap(), original);
    let backups: Vec<_> = fs::read_dir(c.path(".mastery/backups"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        fs::read_to_string(backups[0].path()).unwrap(),
        "// my work in progress\n"
    );
    assert_eq!(
        fs::read_to_string(&other).unwrap(),
        other_before,
        "reset touches nothing else"
    );

    let out = c.mastery(&["reset", "demo-add", "--yes"]);
    assert_line(
        &stdout(&out),
        "exercises/01_demo/src/s01_add.rs is already the original stub; nothing to do.",
    );
}

#[test]
fn skip_is_only_for_optional_projects() {
    let c = Course::new();
    let out = c.mastery(&["skip", "demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: project `demo` is required: only optional projects can be skipped\n"
    );
    let out = c.mastery(&["skip", "nope"]);
    assert_eq!(
        stderr(&out),
        "error: there is no project named `nope`. The projects are: demo.\n"
    );
}

#[test]
fn doctor_lists_the_tools() {
    let c = Course::new();
    let out = c.mastery(&["doctor"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert!(s.contains("ok cargo"), "{s}");
    assert!(s.contains("Miri"), "{s}");
    assert!(s.contains("file watching"), "{s}");
}

#[test]
fn bench_runs_the_benchmark_crate_on_the_learners_code_or_the_solution() {
    let c = Course::new();
    c.solve("s01_add.rs");
    let out = c.mastery(&["bench", "demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("add: ours 5, peer 5, ratio 1.00"),
        "{}",
        stdout(&out)
    );
    fs::copy(
        c.path("solutions/01_demo/src/s01_add.rs"),
        c.path("exercises/01_demo/src/s01_add.rs"),
    )
    .unwrap();
    fs::write(
        c.path("exercises/01_demo/src/s01_add.rs"),
        fs::read_to_string(c.path("exercises/01_demo/src/s01_add.rs"))
            .unwrap()
            .replace("a + b\n}", "a + b + 1\n}"),
    )
    .unwrap();
    let mine = stdout(&c.mastery(&["bench", "demo"]));
    assert!(mine.contains("add: ours 6"), "the learner's code: {mine}");
    let reference = stdout(&c.mastery(&["bench", "demo", "--solution"]));
    assert!(reference.contains("reference solution"), "{reference}");
    assert!(
        reference.contains("add: ours 5"),
        "the solution's code: {reference}"
    );
}

#[test]
fn dev_check_finds_stubs_that_hang_or_crash_and_passes_a_sound_course() {
    let c = Course::new();
    let out = c.mastery(&["dev", "check"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(
        s.contains(
            "problem: demo-hang: the stub must fail its tests as shipped, but test: timed out"
        ),
        "{s}"
    );
    assert!(s.contains("problem: demo-crash: the stub must fail its tests as shipped, but test: the test process crashed"), "{s}");
    assert!(s.contains("2 problems."), "{s}");

    // Plain todo!() stubs make a sound course.
    for (file, body) in [
        (
            "s02_hang.rs",
            "loop {\n        std::hint::spin_loop();\n    }",
        ),
        (
            "s03_crash.rs",
            "std::hint::black_box(depth(std::hint::black_box(n + 1))) + 1",
        ),
    ] {
        let path = c.path(&format!("exercises/01_demo/src/{file}"));
        let stub = fs::read_to_string(&path)
            .unwrap()
            .replace(body, "let _ = n_or_unit();\n    todo!()")
            .replace(
                "n_or_unit()",
                if file == "s03_crash.rs" { "n" } else { "()" },
            );
        fs::write(
            &path,
            stub.replace("#[allow(unconditional_recursion)]\n", ""),
        )
        .unwrap();
    }
    assert!(c.mastery(&["dev", "lock"]).status.success());
    let out = c.mastery(&["dev", "check"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert!(s.contains("ok demo-add"), "{s}");
    assert!(
        s.contains("The course checks out. (8 stages, 3 mistakes"),
        "{s}"
    );

    // A stage whose tests pass with its stub has no teeth; a changed test is caught too.
    c.solve("s04_loud.rs");
    let solution = c.path("solutions/01_demo/src/s01_add.rs");
    fs::write(
        &solution,
        fs::read_to_string(&solution)
            .unwrap()
            .replace("2 + 3 must be 5", "two and three"),
    )
    .unwrap();
    assert!(c.mastery(&["dev", "lock"]).status.success());
    let s = stdout(&c.mastery(&["dev", "check"]));
    assert!(
        s.contains(
            "problem: demo-loud: the stub must fail its tests as shipped, but test: 1 passed"
        ),
        "{s}"
    );
    assert_line(
        &s,
        "  problem: demo-loud: no teeth: with its stub and every other stage solved, test: 1 passed",
    );
    assert!(
        s.lines()
            .any(|l| l == "  problem: exercises/01_demo/src/s04_loud.rs: the stub is the solution"),
        "{s}"
    );
    assert!(
        s.contains(
            "problem: exercises/01_demo/src/s01_add.rs: the tests differ from the solution's"
        ),
        "{s}"
    );
}

#[test]
fn dev_check_notices_a_stale_stubs_lock() {
    let c = Course::new();
    let stage = c.path("exercises/01_demo/src/s01_add.rs");
    fs::write(
        &stage,
        fs::read_to_string(&stage)
            .unwrap()
            .replace("// TODO: add them", "// TODO: add them up"),
    )
    .unwrap();
    let s = stdout(&c.mastery(&["dev", "check"]));
    assert_line(
        &s,
        "  problem: exercises/01_demo/src/s01_add.rs: changed since stubs.lock was written; run `mastery dev lock`",
    );
}

/// The watch loop as a person meets it: edit and see a failure, save the solution and see the
/// pass, press n for the next stage, save during a long run to restart it, q to quit.
#[cfg(unix)] // a pseudo-terminal
#[test]
fn the_watch_loop_follows_edits_and_keys() {
    let c = Course::new();
    // A long limit for the hanging stage: a pass below can only come from a restart.
    let info = fs::read_to_string(c.path("info.toml"))
        .unwrap()
        .replace("timeout_secs = 2", "timeout_secs = 600");
    fs::write(c.path("info.toml"), info).unwrap();
    let mut term = pty::Pty::spawn(
        BIN,
        &[],
        c.dir.path(),
        &[("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")],
    );

    term.expect("Welcome to the fixture course.", 20);
    term.expect("Not yet. Read the output above, edit, save.", 120);

    c.solve("s01_add.rs");
    term.expect("Stage passed: Adding numbers", 60);
    term.expect("n next", 5);

    term.send("h");
    term.expect("1/3: Think about the + operator.", 10);

    term.send("n");
    term.expect("Demo 2/8: A stage that hangs", 10);
    term.expect("running 1 test", 60);
    std::thread::sleep(Duration::from_millis(500));
    let restarted = Instant::now();
    c.solve("s02_hang.rs");
    term.expect("Stage passed: A stage that hangs", 60);
    assert!(
        restarted.elapsed() < Duration::from_secs(60),
        "the save restarted the run"
    );
    assert!(
        !term.screen().contains("timed out"),
        "the hanging run was replaced, not waited for"
    );

    // Ten saves in a burst end in one completed run (each save restarts the run).
    let path = c.path("exercises/01_demo/src/s02_hang.rs");
    let body = fs::read_to_string(&path).unwrap();
    for _ in 0..10 {
        fs::write(&path, &body).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    term.expect_count("Stage passed: A stage that hangs", 2, 60);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        term.screen()
            .matches("Stage passed: A stage that hangs")
            .count(),
        2,
        "one burst, one completed run"
    );
    assert!(
        !term.screen().contains("cancelled"),
        "a replaced run shows no verdict"
    );

    term.send("l");
    term.expect("2 of 8 stages passed.", 10);
    term.send("q");
    term.expect("Progress saved.", 10);
    let status = term.wait(10).expect("mastery quits on q");
    assert!(status.success());
    assert!(
        c.state().contains("current = \"demo-crash\"")
            || c.state().contains("current = \"demo-hang\""),
        "{}",
        c.state()
    );
}

/// The terminal comes back from raw mode however the loop ends: `q`, or a SIGTERM mid-run.
#[cfg(unix)] // a pseudo-terminal and SIGTERM
#[test]
fn the_terminal_is_restored_after_quit_and_after_sigterm() {
    let c = Course::new();
    let mut term = pty::Pty::spawn(
        BIN,
        &[],
        c.dir.path(),
        &[("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")],
    );
    term.expect("Not yet. Read the output above, edit, save.", 120);
    assert!(term.is_raw(), "the loop reads single keys");
    term.send("q");
    assert!(term.wait(10).is_some_and(|s| s.success()));
    assert!(!term.is_raw(), "q restores the terminal");

    let mut term = pty::Pty::spawn(
        BIN,
        &[],
        c.dir.path(),
        &[("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")],
    );
    term.expect("watching exercises/", 120);
    assert!(term.is_raw());
    term.signal(libc::SIGTERM);
    let status = term.wait(10).expect("mastery ends on SIGTERM");
    assert!(!status.success());
    assert!(!term.is_raw(), "SIGTERM restores the terminal too");
}

/// `--manual`: saves do nothing, `r` reruns; `c` checks every stage from inside the loop.
#[cfg(unix)] // a pseudo-terminal
#[test]
fn manual_mode_reruns_on_r_and_c_checks_every_stage() {
    let c = Course::new();
    let mut term = pty::Pty::spawn(
        BIN,
        &["watch", "--manual"],
        c.dir.path(),
        &[("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")],
    );
    term.expect("Not yet. Read the output above, edit, save.", 120);
    term.expect("manual mode: r reruns", 5);
    c.solve("s01_add.rs");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !term.screen().contains("Stage passed"),
        "no file watching in manual mode"
    );
    term.send("r");
    term.expect("Stage passed: Adding numbers", 60);

    term.send("c");
    term.expect("Checking every stage", 10);
    term.expect("1 of 8 stages passed.", 300);
    assert!(
        term.screen()
            .contains("demo             test  1/8 stages pass"),
        "{}",
        term.screen()
    );
    term.send("q");
    assert!(term.wait(10).is_some_and(|s| s.success()));
}

/// With colours on (a terminal, no NO_COLOR), libtest's coloured results are still read right:
/// the failing test is named, and the solved stage passes.
#[cfg(unix)] // a pseudo-terminal and terminfo
#[test]
fn coloured_output_is_judged_like_plain_output() {
    let c = Course::new();
    // screen's terminfo ends libtest's colours with SI, tmux's too.
    let mut term = pty::Pty::spawn_as("screen", BIN, &[], c.dir.path(), &[("RUST_BACKTRACE", "0")]);
    term.expect("1 failed: s01_add::tests::adds_small_numbers", 120);
    assert!(term.screen().contains("\x1b["), "colours are on");
    c.solve("s01_add.rs");
    term.expect("Stage passed: Adding numbers", 60);
    term.send("q");
    assert!(term.wait(10).is_some_and(|s| s.success()));
}

#[cfg(unix)]
/// The pids of this course's test binaries (other tests run their own copies of the fixture).
fn test_binaries(c: &Course) -> Vec<i32> {
    let mine = format!("{}/target/debug/deps/demo-", c.dir.path().display());
    let ps = Command::new("pgrep").args(["-f", &mine]).output().unwrap();
    text(&ps.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[cfg(unix)]
/// Waits until this course's test binaries are all gone; kills them (by pid) and fails if they
/// are still there after `secs`.
#[track_caller]
fn assert_test_binaries_end(c: &Course, secs: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if test_binaries(c).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = test_binaries(c);
    for pid in &left {
        // SAFETY: kill(2) of a test binary this test started; no memory effects.
        unsafe {
            libc::kill(*pid, libc::SIGKILL);
        }
    }
    panic!("{what}: the test process is still running {secs} s later: {left:?}");
}

#[cfg(unix)]
#[track_caller]
fn wait_for_test_binary(c: &Course, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while test_binaries(c).is_empty() {
        assert!(Instant::now() < deadline, "the hanging test never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
/// A course whose hanging stage has a long limit: only a kill can end it.
#[track_caller]
fn course_with_a_long_hang() -> Course {
    let c = Course::new();
    let info = fs::read_to_string(c.path("info.toml"))
        .unwrap()
        .replace("timeout_secs = 2", "timeout_secs = 600");
    fs::write(c.path("info.toml"), info).unwrap();
    c
}

#[cfg(unix)]
/// `mastery run demo-hang`, once its hanging test runs (and has printed all it prints before it
/// spins).
#[track_caller]
fn start_hanging_run(c: &Course) -> std::process::Child {
    let mut run = c
        .cmd(&["run", "demo-hang"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = run.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.starts_with("running 1 test") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the hanging test starts");
    wait_for_test_binary(c, 10);
    std::thread::sleep(Duration::from_millis(500));
    run
}

#[cfg(unix)] // SIGKILL and pgrep
#[test]
fn a_runner_killed_with_sigkill_takes_its_children_along() {
    let c = course_with_a_long_hang();
    let mut run = start_hanging_run(&c);
    run.kill().unwrap();
    run.wait().unwrap();
    assert_test_binaries_end(&c, 10, "after SIGKILL of `mastery run`");
}

/// `pkill -9 -f mastery` kills the runner and the guard that would have ended its test: the
/// next start of the runner in that course stops the test it left.
#[cfg(target_os = "linux")] // /proc, SIGKILL and pgrep
#[test]
fn the_next_start_stops_a_run_whose_runner_and_guard_were_killed() {
    let c = course_with_a_long_hang();
    let mut run = start_hanging_run(&c);
    let test = test_binaries(&c)[0];
    let stat = fs::read_to_string(format!("/proc/{test}/stat")).unwrap();
    let group: i32 = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let guard = Command::new("pkill")
        .args(["-KILL", "-f", &format!("mastery-guard {group}$")])
        .status()
        .unwrap();
    assert!(guard.success(), "the run's guard process was found");
    run.kill().unwrap();
    run.wait().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !test_binaries(&c).is_empty(),
        "with the guard gone, nothing has ended the test yet"
    );
    let list = c.cmd(&["list"]).output().unwrap();
    assert!(
        text(&list.stderr).contains("stopped 1 test run(s) left running"),
        "the next start says what it stopped: {}",
        text(&list.stderr)
    );
    assert_test_binaries_end(&c, 10, "after the next start of the runner");
}

/// A save restarts a run (the cancelled run ends while the new one runs); a SIGTERM after that
/// must still end the new run's processes.
#[cfg(unix)] // a pseudo-terminal and SIGTERM
#[test]
fn sigterm_after_a_save_restarted_the_run_ends_the_new_run() {
    let c = course_with_a_long_hang();
    fs::create_dir_all(c.path(".mastery")).unwrap();
    fs::write(c.path(".mastery/state.toml"), "current = \"demo-hang\"\n").unwrap();
    let mut term = pty::Pty::spawn(
        BIN,
        &[],
        c.dir.path(),
        &[("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")],
    );
    term.expect("running 1 test", 120);
    let path = c.path("exercises/01_demo/src/s02_hang.rs");
    let body = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("{body}\n")).unwrap();
    term.expect_count("running 1 test", 2, 120);
    std::thread::sleep(Duration::from_millis(300));
    term.signal(libc::SIGTERM);
    assert!(term.wait(10).is_some(), "mastery ends on SIGTERM");
    assert_test_binaries_end(&c, 10, "after a restart and SIGTERM");
}

#[test]
fn a_state_file_that_cannot_be_written_stops_a_run_before_it_starts() {
    let c = Course::new();
    fs::create_dir_all(c.path(".mastery/state.toml")).unwrap();
    let out = c.mastery(&["run", "demo-add"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains(&format!(
            "{MAIN_SEPARATOR}.mastery{MAIN_SEPARATOR}state.toml is not a file, so your progress cannot be saved"
        )),
        "{e}"
    );
    assert!(
        !stdout(&out).contains("Adding numbers"),
        "nothing ran: {}",
        stdout(&out)
    );
    let names: Vec<String> = fs::read_dir(c.path(".mastery"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".tmp") && !n.ends_with(".probe")),
        "no temporary file is left: {names:?}"
    );

    fs::remove_dir(c.path(".mastery/state.toml")).unwrap();
    fs::write(c.path(".mastery/state.toml"), "current = \"demo-add\"\n").unwrap();
    let mut perms = fs::metadata(c.path(".mastery/state.toml"))
        .unwrap()
        .permissions();
    perms.set_readonly(true);
    fs::set_permissions(c.path(".mastery/state.toml"), perms).unwrap();
    let out = c.mastery(&["run", "demo-add"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("state.toml is read-only"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("Adding numbers"), "{}", stdout(&out));
    assert_eq!(
        c.mastery(&["list"]).status.code(),
        Some(0),
        "reading needs no writing"
    );
}

#[test]
fn an_emptied_state_file_is_a_warning_and_a_backup_not_a_silent_restart() {
    let c = Course::new();
    fs::create_dir_all(c.path(".mastery")).unwrap();
    fs::write(c.path(".mastery/state.toml"), "").unwrap();
    let out = c.mastery(&["list"]);
    assert!(
        stderr(&out).contains("is corrupt (it is empty)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_huge_timeout_is_refused_with_its_line_not_a_panic() {
    let c = Course::new();
    let info = fs::read_to_string(c.path("info.toml"))
        .unwrap()
        .replace("timeout_secs = 2", "timeout_secs = 18446744073709551615");
    fs::write(c.path("info.toml"), info).unwrap();
    let out = c.mastery(&["run", "demo-hang"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains(&format!("{MAIN_SEPARATOR}info.toml:35: stage `demo-hang`: timeout_secs is 18446744073709551615; it must be from 1 to 86400 (a day)")),
        "{e}"
    );
}

/// A second watch loop on the same course says who holds it, and does not start.
#[cfg(unix)] // a pseudo-terminal
#[test]
fn a_second_watch_loop_on_one_course_says_who_holds_it() {
    let c = Course::new();
    let env = [("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")];
    let mut first = pty::Pty::spawn(BIN, &[], c.dir.path(), &env);
    first.expect("Adding numbers", 20);
    let mut second = pty::Pty::spawn(BIN, &[], c.dir.path(), &env);
    second.expect("another watch loop (pid ", 20);
    assert!(
        second.screen().contains(&format!("(pid {})", first.pid())),
        "{}",
        second.screen()
    );
    let status = second.wait(10).expect("the second loop ends");
    assert_eq!(status.code(), Some(1));
    first.send("q");
    assert!(first.wait(20).is_some_and(|s| s.success()));
    // The lock goes with its holder.
    let mut third = pty::Pty::spawn(BIN, &[], c.dir.path(), &env);
    third.expect("Adding numbers", 20);
    third.send("q");
    assert!(third.wait(20).is_some_and(|s| s.success()));
}

/// TERM=dumb understands no escape sequences: no colours, no links, no screen clears.
#[cfg(unix)] // a pseudo-terminal and TERM=dumb
#[test]
fn a_dumb_terminal_gets_no_escape_sequences() {
    let c = Course::new();
    let mut term = pty::Pty::spawn_as("dumb", BIN, &[], c.dir.path(), &[("RUST_BACKTRACE", "0")]);
    term.expect("Not yet. Read the output above, edit, save.", 120);
    term.send("n");
    term.expect("n moves on once the stage passes.", 10);
    term.send("q");
    assert!(term.wait(10).is_some_and(|s| s.success()));
    let screen = term.screen();
    assert!(
        !screen.contains('\x1b'),
        "an escape sequence reached a dumb terminal: {:?}",
        &screen[screen.find('\x1b').unwrap()..]
            [..40.min(screen.len() - screen.find('\x1b').unwrap())]
    );
}

/// After `c` the log holds the output of every project, not only the last one's.
#[cfg(unix)] // a pseudo-terminal
#[test]
fn check_all_keeps_every_projects_output_in_the_log() {
    let c = Course::new();
    copy_dir(&c.path("exercises/01_demo"), &c.path("exercises/02_more"));
    let manifest = c.path("exercises/02_more/Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .unwrap()
        .replace("name = \"demo\"", "name = \"more\"");
    fs::write(&manifest, text).unwrap();
    let mut info = fs::read_to_string(c.path("info.toml")).unwrap();
    info.push_str(
        "\n[[projects]]\nname = \"more\"\ndir = \"exercises/02_more\"\nphase = \"basics\"\ntitle = \"More\"\n\n[[stages]]\nname = \"more-add\"\nproject = \"more\"\nfile = \"src/s01_add.rs\"\ntitle = \"More adding\"\nchecks = [\"test\"]\nhints = [\"Add.\"]\n",
    );
    fs::write(c.path("info.toml"), info).unwrap();
    let mut term = pty::Pty::spawn(
        BIN,
        &["watch", "--manual"],
        c.dir.path(),
        &[("NO_COLOR", "1"), ("RUST_BACKTRACE", "0")],
    );
    term.expect("Not yet. Read the output above, edit, save.", 120);
    term.send("c");
    term.expect("0 of 9 stages passed.", 240);
    term.send("q");
    assert!(term.wait(10).is_some_and(|s| s.success()));
    let log = fs::read_to_string(c.path(".mastery/last-run.log")).unwrap();
    assert!(log.contains("cargo test -p demo "), "{log}");
    assert!(log.contains("cargo test -p more "), "{log}");
}

/// A learner who followed the README (`cargo run --release`) has no `mastery` on PATH: the
/// commands the runner suggests are the ones that work for them.
#[test]
fn suggested_commands_fit_how_mastery_was_started() {
    let c = Course::new();
    c.solve("s01_add.rs");
    let release = c.path("target/release");
    fs::create_dir_all(&release).unwrap();
    fs::copy(BIN, release.join("mastery")).unwrap();
    let out = Command::new(release.join("mastery"))
        .args(["run"])
        .current_dir(c.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("CARGO_PKG_NAME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let s = stdout(&out);
    assert!(
        s.contains(
            "Next: `cargo run --release -- run demo-hang` (or `cargo run --release` to watch"
        ),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l == "Compare with the reference: `cargo run --release -- solution demo-add`."),
        "{s}"
    );
    let out = c
        .cmd(&["run", "nope"])
        .env("CARGO_PKG_NAME", "mastery")
        .output()
        .unwrap();
    // The profile of the build that cargo ran: `cargo test --release` tests a release build.
    let profile = Path::new(BIN).parent().unwrap().file_name().unwrap();
    let base = if profile == "release" {
        "cargo run --release --"
    } else {
        "cargo run --"
    };
    assert!(
        stderr(&out).contains(&format!("Run `{base} list` to see every stage.")),
        "{}",
        stderr(&out)
    );
}

/// `verify --only doc` looks at the stages with a doc check only, and says so.
#[test]
fn verify_only_reports_the_stages_that_have_those_checks() {
    let c = Course::new();
    c.solve("s01_add.rs");
    let out = c.mastery(&["verify", "--only", "doc"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert!(s.contains("pass  demo-add"), "{s}");
    assert!(!s.contains("demo-hang"), "{s}");
    assert!(
        s.contains(
            "1 of 1 required stages pass their doc checks (--only: other stages and checks were not run)."
        ),
        "{s}"
    );
    let out = c.mastery(&["verify", "--json", "--only", "doc"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1, "{json}");
}

#[test]
fn completions_and_help_for_every_argument() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["completions", "bash"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "no course needed");
    let script = stdout(&out);
    assert!(script.contains("_mastery()"), "{script}");
    assert!(script.contains("verify"), "{script}");
    let bad = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("possible values: bash"),
        "{}",
        stderr(&bad)
    );
    for (args, text) in [
        (["hint", "--help"], "The stage's name"),
        (["reset", "--help"], "The stage's name"),
        (["solution", "--help"], "The stage's name"),
        (["skip", "--help"], "The project's name"),
        (["skip", "--help"], "Bring the skipped project back"),
        (["bench", "--help"], "The project's name"),
    ] {
        let help = stdout(&Command::new(BIN).args(args).output().unwrap());
        assert!(help.contains(text), "{args:?}: {help}");
    }
}

/// `text` has `line` as one whole line.
#[track_caller]
fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line `{line}` in:\n{text}"
    );
}

#[test]
fn todo_panics_fold_into_one_line_even_with_rust_backtrace_set() {
    let c = Course::new();
    let out = c
        .cmd(&["run", "demo-todo"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert_line(
        &s,
        "     not yet implemented: the `todo!()` at exercises/01_demo/src/s05_todo.rs:7:5: 5 tests reach it",
    );
    assert!(!s.contains("stack backtrace"), "{s}");
    assert!(
        !s.contains("---- s05_todo::tests::"),
        "the todo!() panics' blocks are folded away: {s}"
    );
    let log = fs::read_to_string(c.path(".mastery/last-run.log")).unwrap();
    assert!(
        log.contains("---- s05_todo::tests::triples_one stdout ----"),
        "the log keeps everything"
    );

    let out = c.mastery(&["run", "demo-todo", "--backtrace"]);
    let out = text(&out.stdout);
    assert_line(
        &out,
        "     not yet implemented: the `todo!()` at exercises/01_demo/src/s05_todo.rs:7:5: 5 tests reach it",
    );
    let log = fs::read_to_string(c.path(".mastery/last-run.log")).unwrap();
    assert!(
        !log.contains("RUST_BACKTRACE=0"),
        "--backtrace leaves RUST_BACKTRACE to the learner"
    );
}

#[test]
fn a_crash_among_failures_is_the_verdict_and_names_the_test_that_was_running() {
    let c = Course::new();
    let path = c.path("exercises/01_demo/src/s03_crash.rs");
    let stub = fs::read_to_string(&path).unwrap().replace(
        "    #[test]\n    fn depth_counts_down() {\n",
        "    #[test]\n    fn a_plain_failure() {\n        panic!(\"an ordinary failure\");\n    }\n\n    #[test]\n    fn depth_counts_down() {\n        std::thread::sleep(std::time::Duration::from_millis(500));\n",
    );
    fs::write(&path, stub).unwrap();
    let out = c.mastery(&["run", "demo-crash"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert_line(
        &s,
        "  !! test: the test process crashed with a stack overflow (infinite or too deep recursion?). Look for a recursion that never reaches its base case, or a huge value on the stack",
    );
    assert_line(&s, "     running then: s03_crash::tests::depth_counts_down");
    // Run alone, the crashing test is named and the failure the crash hid keeps its message.
    assert_line(
        &s,
        "     Each test run alone: `s03_crash::tests::depth_counts_down` crashes on its own; `s03_crash::tests::a_plain_failure` fails.",
    );
    assert!(s.contains("an ordinary failure"), "{s}");
    // Recursion is no undefined behaviour: Miri is not offered for a stack overflow.
    assert!(!s.contains("Miri finds the cause"), "{s}");
}

#[test]
fn a_segfault_in_a_stage_without_miri_offers_the_miri_command() {
    let c = Course::new();
    let path = c.path("exercises/01_demo/src/s03_crash.rs");
    let stub = fs::read_to_string(&path).unwrap().replace(
        "    // TODO: stop at zero\n",
        "    // SAFETY: none; the learner's bug.\n    unsafe { std::ptr::null_mut::<u64>().write_volatile(n) };\n",
    );
    fs::write(&path, stub).unwrap();
    let out = c.mastery(&["run", "demo-crash"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(
        s.contains("  !! test: the test process crashed with a segmentation fault"),
        "{s}"
    );
    assert_line(
        &s,
        "     Miri finds the cause of most crashes: RUST_BACKTRACE=0 cargo +nightly miri test -p demo --color=never -- s03_crash --color=never",
    );
}

/// Miri is part of the course's toolchain; a machine without it cannot run this test.
#[track_caller]
fn require_miri() {
    let ok = Command::new("cargo")
        .args(["+nightly", "miri", "--version"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs Miri: rustup component add --toolchain nightly miri rust-src"
    );
}

#[test]
fn a_use_after_free_under_miri_is_summarised_with_the_learners_line() {
    require_miri();
    let c = Course::new();
    let path = c.path("exercises/01_demo/src/s06_uaf.rs");
    let solution = fs::read_to_string(c.path("solutions/01_demo/src/s06_uaf.rs")).unwrap();
    let wrong = solution
        .replace(
            "    let p = v.as_ptr();\n",
            "    let (p, len) = (v.as_ptr(), v.len());\n    drop(v);\n",
        )
        .replace("*p.add(v.len() - 1)", "*p.add(len - 1)");
    fs::write(&path, wrong).unwrap();
    let out = c.mastery(&["run", "demo-uaf"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert_line(&s, "  ok test: 1 passed");
    for line in [
        "     Miri found a use after free: memory was used after it was deallocated",
        "       at exercises/01_demo/src/s06_uaf.rs:8 in `s06_uaf::last` (test s06_uaf::tests::the_last_element_is_read)",
        "       usually: a pointer or reference kept past the drop of what it points to, a count decremented after the free, or a double free",
        "       read: https://doc.rust-lang.org/nomicon/ownership.html",
    ] {
        assert_line(&s, line);
    }
}

#[test]
fn dev_mistakes_proves_each_mistake_is_rejected_by_the_check_it_names() {
    require_miri();
    let c = Course::new();
    let out = c.mastery(&["dev", "mistakes"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert!(
        s.contains(
            "    ok demo-add/subtracts: test: 1 failed: s01_add::tests::adds_small_numbers ("
        ),
        "{s}"
    );
    assert!(
        s.contains("    ok demo-uaf/reads-after-drop: miri: Miri found undefined behaviour"),
        "{s}"
    );
    assert!(
        s.contains("Every mistake is rejected. (3 mistakes, "),
        "{s}"
    );

    // A mistake the tests miss is a hole; one caught by another check, or whose text is gone
    // from the solution, is a corpus bug.
    let corpus = c.path("mistakes/demo.toml");
    let text = fs::read_to_string(&corpus).unwrap();
    fs::write(
        &corpus,
        text.replace("replace = \"a - b\"", "replace = \"b + a\"").replace(
            "replace = \"unsafe { *p.add(len - 1) }\"\n",
            "replace = \"unsafe { *p.add(len - 1) }\"\n\n[[mistakes.edits]]\nfind = \"no such text\"\nreplace = \"\"\n",
        ),
    )
    .unwrap();
    let out = c.mastery(&["dev", "mistakes", "--stage", "demo-add"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert_line(
        &s,
        "  problem: demo-add/subtracts (mistakes/demo.toml:3): passes its stage, a hole in the course: subtracts instead of adding. Add the test (or Miri/loom model) that catches it",
    );
    let s = stdout(&c.mastery(&["dev", "mistakes", "--stage", "demo-uaf"]));
    assert_line(
        &s,
        "  problem: demo-uaf/reads-after-drop (mistakes/demo.toml:14): edit 3 finds its text 0 times, not once (it starts `no such text`) in src/s06_uaf.rs",
    );
}

#[test]
fn a_crash_in_a_stage_with_miri_hands_over_to_miri() {
    require_miri();
    let c = Course::new();
    let path = c.path("exercises/01_demo/src/s06_uaf.rs");
    let stub = fs::read_to_string(&path).unwrap().replace(
        "    let _ = v;\n    todo!()",
        "    let _ = v;\n    // SAFETY: wrong on purpose: a null pointer.\n    unsafe { std::ptr::null::<u8>().read_volatile() }",
    );
    fs::write(&path, stub).unwrap();
    let out = c.mastery(&["run", "demo-uaf"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(
        s.contains("  !! test: the test process crashed with a segmentation fault"),
        "{s}"
    );
    assert_line(
        &s,
        "     running then: s06_uaf::tests::the_last_element_is_read",
    );
    assert_line(&s, "     Miri runs next: it shows what the crash hides.");
    assert!(
        s.contains("  !! miri: Miri found undefined behaviour"),
        "{s}"
    );
    assert!(
        s.contains("       at exercises/01_demo/src/s06_uaf.rs:8 in `s06_uaf::last`"),
        "{s}"
    );
}

#[test]
fn a_relaxed_handoff_is_caught_by_loom_with_both_accesses() {
    let c = Course::new();
    let path = c.path("exercises/01_demo/src/s07_handoff.rs");
    let relaxed = fs::read_to_string(c.path("solutions/01_demo/src/s07_handoff.rs"))
        .unwrap()
        .replace("Ordering::Release", "Ordering::Relaxed")
        .replace("Ordering::Acquire", "Ordering::Relaxed");
    fs::write(&path, relaxed).unwrap();
    let out = c.mastery(&["run", "demo-handoff"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert_line(&s, "  ok test: 1 passed");
    for line in [
        "  !! loom: 1 failed: s07_handoff::loom_tests::a_reader_that_sees_the_flag_sees_the_value",
        "     s07_handoff::loom_tests::a_reader_that_sees_the_flag_sees_the_value panicked: Causality violation: Concurrent read and write accesses.",
        "         read: thread #0 @ exercises/01_demo/src/s07_handoff.rs:49:33",
        "         write: thread #1 @ exercises/01_demo/src/s07_handoff.rs:40:20",
        "         usually: the atomic that should order these two accesses (a flag, a count, a pointer) is too weak (Relaxed where the writer needs Release and the reader Acquire) or misses a fence; the lines are where the data is touched, maybe in a test: the fix is on that atomic",
    ] {
        assert_line(&s, line);
    }
    assert!(
        s.contains("To replay the failing interleaving, run this twice"),
        "{s}"
    );
}

#[test]
fn a_break_it_stage_passes_on_the_bug_it_asks_for_and_shows_the_report() {
    require_miri();
    let c = Course::new();
    c.solve("s08_break.rs");
    let out = c.mastery(&["run", "demo-break"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert_line(&s, "  ok test: 1 passed");
    assert!(
        s.contains("  ok miri: found the bug you wrote on purpose: a use after free"),
        "{s}"
    );
    assert_line(
        &s,
        "     Miri found a use after free: memory was used after it was deallocated",
    );

    // Code without the bug does not pass a stage that asks for it.
    let path = c.path("exercises/01_demo/src/s08_break.rs");
    let safe = fs::read_to_string(&path)
        .unwrap()
        .replace("    drop(v);\n", "")
        .replace(
            "unsafe { *p.add(63) }",
            "let last = unsafe { *p.add(63) };\n    drop(v);\n    last",
        );
    fs::write(&path, safe).unwrap();
    let out = c.mastery(&["run", "demo-break"]);
    assert_eq!(out.status.code(), Some(1));
    assert_line(
        &stdout(&out),
        "  !! miri: this stage asks for code in which miri finds use after free, but it found nothing: every test passed",
    );
}

#[test]
fn dev_check_tree_only_checks_the_tree_and_the_corpus_files() {
    let c = Course::new();
    let out = c.mastery(&["dev", "check", "--tree-only"]);
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert!(s.contains("The tree checks out. (3 mistakes, "), "{s}");
    assert!(!s.contains("stubs compile"), "nothing is built: {s}");
    fs::write(
        c.path("mistakes/demo.toml"),
        "[[mistakes]]\nstage = \"nope\"\n",
    )
    .unwrap();
    let out = c.mastery(&["dev", "check", "--tree-only"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("problem: mistakes/demo.toml:1: missing field `name`"),
        "{}",
        stdout(&out)
    );
    fs::create_dir_all(c.path("exercises/01_demo/tests")).unwrap();
    let out = c.mastery(&["dev", "check", "--tree-only"]);
    assert!(
        stdout(&out).contains(
            "exercises/01_demo/tests: the runner runs only the library's tests and doctests"
        ),
        "a test target the learner's runs see and dev check does not: {}",
        stdout(&out)
    );
}
