//! Running checks: one stage (the watch loop, `mastery run`), or every stage of a crate at once
//! with one cargo invocation per check kind (`verify`, `dev check`), mapping each result back to
//! its stage.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::check::{self, Options};
use crate::course::{Breaks, CheckKind, Course};
use crate::diagnose;
use crate::outcome::{self, Verdict};
use crate::output::Output;
use crate::process::{self, End, Finished};
use crate::toolchain;

/// The verdicts of the checks of one stage, in check order; the first failure ends the list.
#[derive(Clone, Debug, Default)]
pub struct StageResult {
    pub checks: Vec<(CheckKind, Verdict)>,
    /// What went wrong, in the learner's words (`diagnose`), shown under the verdicts.
    pub notes: Vec<String>,
}

impl StageResult {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(_, v)| v.passed())
    }

    pub fn cancelled(&self) -> bool {
        self.checks.iter().any(|(_, v)| *v == Verdict::Cancelled)
    }

    /// The first check that did not pass.
    pub fn failure(&self) -> Option<&(CheckKind, Verdict)> {
        self.checks.iter().find(|(_, v)| !v.passed())
    }
}

/// A check's verdict and the notes under it.
type Judged = (Verdict, Vec<String>);

/// Runs every check of one stage, in order, stopping at the first that does not pass.
pub fn run_stage(
    course: &Course,
    stage: usize,
    workspace: &Path,
    opts: &Options,
    out: &mut Output,
    cancel: &AtomicBool,
) -> Result<StageResult> {
    let st = &course.stages[stage];
    let mut result = StageResult::default();
    let mut checks = st.checks.iter().copied();
    // The doctests' verdict, when the unit tests' run had them too.
    let mut doc_ready: Option<Judged> = None;
    while let Some(kind) = checks.next() {
        let together = kind == CheckKind::Test
            && checks.clone().next() == Some(CheckKind::Doc)
            && toolchain::unavailable(CheckKind::Test).is_none()
            && toolchain::unavailable(CheckKind::Doc).is_none();
        let ready = if kind == CheckKind::Doc {
            doc_ready.take()
        } else {
            None
        };
        let (verdict, notes) = match (ready, toolchain::unavailable(kind)) {
            (Some(ready), _) => ready,
            (None, Some(why)) => (Verdict::Unavailable { why }, Vec::new()),
            (None, None) if together => {
                let (tests, docs) = run_together(course, stage, workspace, opts, out, cancel)?;
                doc_ready = Some(docs);
                tests
            }
            (None, None) => run_check(course, stage, kind, workspace, opts, out, cancel)?,
        };
        let passed = verdict.passed();
        // A crash Miri can explain: a stack overflow is recursion, not undefined behaviour.
        let crashed = matches!(verdict, Verdict::Crashed { .. }) && !verdict.is_stack_overflow();
        result.push(kind, verdict, notes);
        if passed {
            continue;
        }
        if crashed && kind == CheckKind::Test {
            let miri_next =
                st.has_check(CheckKind::Miri) && checks.by_ref().any(|k| k == CheckKind::Miri);
            after_test_crash(
                course,
                stage,
                miri_next,
                &mut result,
                (workspace, opts, out, cancel),
            )?;
        }
        break;
    }
    out.finish();
    Ok(result)
}

impl StageResult {
    /// Adds a check's verdict and its notes, and for a crash or a timeout the tests that were
    /// running then.
    fn push(&mut self, kind: CheckKind, verdict: Verdict, notes: Vec<String>) {
        if let Verdict::Crashed { running, .. } | Verdict::TimedOut { running, .. } = &verdict
            && !running.is_empty()
        {
            self.notes
                .push(format!("running then: {}", running.join(", ")));
        }
        self.checks.push((kind, verdict));
        self.notes.extend(notes);
    }
}

/// A stage's unit tests and doctests in one invocation (`check::tests_and_doctests`), judged
/// apart: the tests' verdict and notes, then the doctests'.
fn run_together(
    course: &Course,
    stage: usize,
    workspace: &Path,
    opts: &Options,
    out: &mut Output,
    cancel: &AtomicBool,
) -> Result<(Judged, Judged)> {
    let job = check::tests_and_doctests(course, stage, workspace, opts);
    let (tests, docs) = run_tests_and_doctests(&job, out, cancel)?;
    let with_notes = |verdict: Verdict, finished: &Finished| {
        let notes = if verdict.passed() {
            Vec::new()
        } else {
            diagnose::notes(&finished.report)
        };
        (verdict, notes)
    };
    let doc = verdict_for(course, stage, CheckKind::Doc, &docs, workspace, true);
    let doc = with_notes(doc, &docs);
    let verdict = verdict_for(course, stage, CheckKind::Test, &tests, workspace, true);
    let judged = with_notes(verdict, &tests);
    let run = (workspace, opts, out, cancel);
    let tests = after_crash(course, stage, CheckKind::Test, judged, &tests, run)?;
    Ok((tests, doc))
}

/// Where a run happens and its output goes: the workspace, the options, the output and the
/// cancel flag.
type Place<'a, 'o> = (&'a Path, &'a Options, &'o mut Output, &'a AtomicBool);

/// After a stage's unit tests crashed. A crash is undefined behaviour more often than not:
/// Miri says where, when the stage has it (`miri_next`: it runs now); otherwise the learner
/// gets the command that would.
fn after_test_crash(
    course: &Course,
    stage: usize,
    miri_next: bool,
    result: &mut StageResult,
    (workspace, opts, out, cancel): Place,
) -> Result<()> {
    let st = &course.stages[stage];
    if st.has_check(CheckKind::Miri) {
        result
            .notes
            .push("Miri runs next: it shows what the crash hides.".to_string());
        if miri_next {
            let (verdict, notes) = match toolchain::unavailable(CheckKind::Miri) {
                Some(why) => (Verdict::Unavailable { why }, Vec::new()),
                None => run_check(course, stage, CheckKind::Miri, workspace, opts, out, cancel)?,
            };
            result.checks.push((CheckKind::Miri, verdict));
            result.notes.extend(notes);
        }
    } else {
        let mut miri_opts = opts.clone();
        miri_opts.color = false;
        let job = check::job(
            course,
            st.project,
            &[stage],
            CheckKind::Miri,
            workspace,
            &miri_opts,
        );
        result.notes.push(format!(
            "Miri finds the cause of most crashes: {}",
            job.display()
        ));
    }
    Ok(())
}

/// Runs one check of one stage: its verdict and the notes under it (for a failure, or for a
/// break-it stage's pass, whose report the learner is there to read).
fn run_check(
    course: &Course,
    stage: usize,
    kind: CheckKind,
    workspace: &Path,
    opts: &Options,
    out: &mut Output,
    cancel: &AtomicBool,
) -> Result<(Verdict, Vec<String>)> {
    let job = check::job(
        course,
        course.stages[stage].project,
        &[stage],
        kind,
        workspace,
        opts,
    );
    let finished = run_job(&job, out, cancel)?;
    let verdict = verdict_for(course, stage, kind, &finished, workspace, true);
    let mut notes = Vec::new();
    if matches!(verdict, Verdict::Broken { .. }) || !verdict.passed() {
        notes = diagnose::notes(&finished.report);
    }
    if kind == CheckKind::Loom && matches!(verdict, Verdict::Failed { .. }) {
        notes.push(format!(
            "To replay the failing interleaving, run this twice (the first run records it, the second starts from it), with LOOM_LOG=trace to watch it: LOOM_CHECKPOINT_FILE=loom-checkpoint.json LOOM_CHECKPOINT_INTERVAL=1 {}",
            job.display()
        ));
    }
    after_crash(
        course,
        stage,
        kind,
        (verdict, notes),
        &finished,
        (workspace, opts, out, cancel),
    )
}

/// After the unit tests of a stage crashed: each of its tests runs again on its own, so that
/// the verdict names the tests that crash, and the failures the crash took down with the test
/// binary (libtest prints a failure's message only at the end) are told with their messages.
/// Other verdicts and check kinds pass through unchanged.
fn after_crash(
    course: &Course,
    stage: usize,
    kind: CheckKind,
    (verdict, notes): Judged,
    finished: &Finished,
    (workspace, opts, out, cancel): Place,
) -> Result<Judged> {
    let Verdict::Crashed { what, running } = verdict else {
        return Ok((verdict, notes));
    };
    let st = &course.stages[stage];
    let prefix = check::selection(st, kind).prefix;
    let tests = match finished.report.binaries.last() {
        Some(binary) if kind == CheckKind::Test => stage_tests(workspace, binary, &prefix),
        _ => Vec::new(),
    };
    if tests.len() < 2 {
        return Ok((Verdict::Crashed { what, running }, notes));
    }
    let binary = workspace.join(finished.report.binaries.last().expect("tests were listed"));
    let cwd = crate_dir(course, st.project, workspace);
    let budget = Duration::from_secs(st.timeout_secs(kind));
    let Some(one) = each_alone(
        &binary,
        &tests,
        &cwd,
        budget,
        (workspace, opts, out, cancel),
    )?
    else {
        return Ok((Verdict::Cancelled, Vec::new()));
    };
    let failed: Vec<&String> = one
        .report
        .results
        .iter()
        .filter(|(name, s)| **s == outcome::TestStatus::Failed && !one.crashed.contains(name))
        .map(|(name, _)| name)
        .collect();
    let mut notes = vec![one_by_one_note(&one.crashed, &one.hung, &failed, one.left)];
    notes.extend(diagnose::notes(&one.report));
    let running = if one.crashed.is_empty() {
        running
    } else {
        one.crashed
    };
    Ok((Verdict::Crashed { what, running }, notes))
}

/// What running a crashed binary's tests one at a time found.
struct OneByOne {
    /// The results and panics of every test run.
    report: outcome::Report,
    crashed: Vec<String>,
    hung: Vec<String>,
    /// Tests not run: the budget was spent.
    left: usize,
}

/// Runs each of `tests` alone in `binary`, within `budget` in all; `None` when cancelled.
fn each_alone(
    binary: &Path,
    tests: &[String],
    cwd: &Path,
    budget: Duration,
    (_, opts, out, cancel): Place,
) -> Result<Option<OneByOne>> {
    let clock = Instant::now();
    let mut alone = outcome::Report::default();
    let (mut crashed, mut hung, mut left) = (Vec::new(), Vec::new(), 0);
    for (i, name) in tests.iter().enumerate() {
        if clock.elapsed() > budget {
            left = tests.len() - i;
            break;
        }
        let mut job = process::Job::new(
            &binary.display().to_string(),
            [
                name.as_str(),
                "--exact",
                "--test-threads=1",
                "--color=never",
            ],
            cwd,
            budget,
        );
        if !opts.backtrace {
            job = job.env("RUST_BACKTRACE", "0");
        }
        out.log(&format!("$ {}", job.display()));
        let run = process::run(&job, &mut |line| out.log(line), cancel)
            .with_context(|| cannot_start(&job))?;
        if run.cancelled() {
            return Ok(None);
        }
        if run.timed_out().is_some() {
            hung.push(name.clone());
        } else if run.report.crash.is_some() {
            crashed.push(name.clone());
        }
        alone.results.extend(run.report.results);
        alone.panics.extend(run.report.panics);
    }
    Ok(Some(OneByOne {
        report: alone,
        crashed,
        hung,
        left,
    }))
}

/// What running a crashed stage's tests one at a time showed, in one line.
fn one_by_one_note(crashed: &[String], hung: &[String], failed: &[&String], left: usize) -> String {
    let names = |v: &[&String]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if crashed.is_empty() {
        parts.push(
            "no test crashed when run alone: the crash needs tests running at the same time (state they share, or a race between them), or comes only on some runs (a heap corrupted by a double free or a write out of bounds, which the allocator notices only sometimes)"
                .to_string(),
        );
    } else {
        parts.push(format!(
            "{} crashes on its own",
            names(&crashed.iter().collect::<Vec<_>>())
        ));
    }
    if !hung.is_empty() {
        parts.push(format!("{} hangs", names(&hung.iter().collect::<Vec<_>>())));
    }
    if !failed.is_empty() {
        parts.push(format!("{} fails", names(failed)));
    }
    if left > 0 {
        parts.push(format!("{left} more not run (out of time)"));
    }
    format!("Each test run alone: {}.", parts.join("; "))
}

/// The tests of a test binary whose names start with `prefix`, by asking the binary.
fn stage_tests(workspace: &Path, binary: &str, prefix: &str) -> Vec<String> {
    process::output_of(
        &workspace.join(binary).display().to_string(),
        &["--list", "--format", "terse", prefix],
        workspace,
    )
    .map(|list| {
        list.lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .filter(|name| name.starts_with(prefix))
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

/// The directory cargo runs a project's tests in: its crate, in the course (`exercises/..`)
/// or in a copy of the solutions (`NN_name` at the workspace's top).
fn crate_dir(course: &Course, project: usize, workspace: &Path) -> std::path::PathBuf {
    let project = &course.projects[project];
    let in_course = workspace.join(&project.dir);
    if in_course.join("Cargo.toml").is_file() {
        in_course
    } else {
        workspace.join(project.dir_name())
    }
}

/// Runs one cargo job, its command line and output going to `out`.
fn run_job(job: &process::Job, out: &mut Output, cancel: &AtomicBool) -> Result<Finished> {
    out.log(&format!("$ {}", job.display()));
    process::run(job, &mut |line| out.line(line), cancel).with_context(|| cannot_start(job))
}

fn cannot_start(job: &process::Job) -> String {
    format!(
        "cannot start `{}`: is cargo installed and on your PATH? (`mastery doctor` checks)",
        job.program
    )
}

/// Runs the job of `check::tests_and_doctests` and splits what it said into the unit tests'
/// part and the doctests' part, each to be judged as if it had run alone. Not by the order of
/// the lines (cargo's `Doc-tests` line is on stderr, the tests' results on stdout, and the two
/// interleave as they will), but by what cargo's fail-fast makes certain: it starts the
/// doctests only after the unit tests' binary succeeded. So once `Doc-tests` was seen, every
/// compile error, crash, panic and timeout is the doctests'; before that, the unit tests'.
/// Test results are told apart by name (`check::selection`).
fn run_tests_and_doctests(
    job: &process::Job,
    out: &mut Output,
    cancel: &AtomicBool,
) -> Result<(Finished, Finished)> {
    let mut docs_seen = false;
    out.log(&format!("$ {}", job.display()));
    let mut finished = process::run(
        job,
        &mut |line| {
            docs_seen = docs_seen
                || outcome::strip_ansi(line)
                    .trim_start()
                    .starts_with("Doc-tests ");
            out.line(line);
        },
        cancel,
    )
    .with_context(|| cannot_start(job))?;
    let report = std::mem::take(&mut finished.report);
    if !docs_seen {
        let tests = Finished { report, ..finished };
        let docs = Finished {
            report: outcome::Report::default(),
            end: tests.end,
        };
        return Ok((tests, docs));
    }
    let mut unit = outcome::Report::default();
    unit.results = report.results.clone();
    unit.binaries = report.binaries.clone();
    unit.tests_started = true;
    let tests = Finished {
        report: unit,
        end: if finished.cancelled() {
            End::Cancelled
        } else {
            End::Exited { success: true }
        },
    };
    let mut report = report;
    report.binaries.clear();
    let docs = Finished { report, ..finished };
    Ok((tests, docs))
}

fn verdict_for(
    course: &Course,
    stage: usize,
    kind: CheckKind,
    finished: &Finished,
    workspace: &Path,
    alone: bool,
) -> Verdict {
    let st = &course.stages[stage];
    let selection = check::selection(st, kind);
    let prefix = selection.prefix;
    if finished.cancelled() {
        return Verdict::Cancelled;
    }
    if let Some(secs) = finished.timed_out() {
        return Verdict::TimedOut {
            secs,
            running: still_running(finished, &prefix, workspace),
        };
    }
    let verdict = outcome::judge(&finished.report, &prefix, finished.exit_ok(), alone);
    let verdict = if let Some(doc_prefix) = &selection.doc_prefix {
        // The same run has the stage's doctests: their failures are the stage's too.
        let docs = outcome::judge(&finished.report, doc_prefix, finished.exit_ok(), alone);
        match (verdict, docs) {
            (Verdict::Passed { tests }, Verdict::Passed { tests: more }) => Verdict::Passed {
                tests: tests + more,
            },
            (Verdict::Passed { .. }, Verdict::Failed { failed }) if !failed.is_empty() => {
                Verdict::Failed { failed }
            }
            (Verdict::Failed { mut failed }, Verdict::Failed { failed: more }) => {
                failed.extend(more);
                Verdict::Failed { failed }
            }
            (verdict, _) => verdict,
        }
    } else {
        verdict
    };
    if let Some(b) = st.breaks.as_ref().filter(|b| b.check == kind) {
        return broken(b, verdict, &finished.report);
    }
    match verdict {
        Verdict::Crashed { what, running } if running.is_empty() && kind != CheckKind::Miri => {
            Verdict::Crashed {
                what,
                running: still_running(finished, &prefix, workspace),
            }
        }
        verdict => verdict,
    }
}

/// A break-it stage's check: it passes when it fails with the finding the stage asks for.
fn broken(b: &Breaks, verdict: Verdict, report: &outcome::Report) -> Verdict {
    let findings = diagnose::findings(report);
    match verdict {
        Verdict::Passed { .. } => Verdict::Unbroken {
            wanted: b.finds.clone(),
            found: "nothing: every test passed".to_string(),
        },
        Verdict::Failed { .. } | Verdict::Crashed { .. } | Verdict::MiriError { .. } => {
            let wanted = b.finds.to_lowercase();
            match findings.iter().find(|f| f.to_lowercase().contains(&wanted)) {
                Some(found) => Verdict::Broken {
                    what: found.clone(),
                },
                None => Verdict::Unbroken {
                    wanted: b.finds.clone(),
                    found: findings
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "a failure of another kind".to_string()),
                },
            }
        }
        other => other,
    }
}

/// How many tests libtest runs at once: `RUST_TEST_THREADS`, or one per core.
fn test_threads() -> usize {
    std::env::var("RUST_TEST_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// After a timeout or a crash: the tests of the stage that were running, found by asking the
/// test binary for its list (unit tests and loom models; doctests and Miri have no binary to
/// ask). libtest starts tests in name order, as many at once as it has threads, so the ones
/// running are the first of those that never reported, up to that many.
fn still_running(finished: &Finished, prefix: &str, workspace: &Path) -> Vec<String> {
    if let Some(name) = &finished.report.unfinished {
        return vec![name.clone()];
    }
    let Some(binary) = finished.report.binaries.last() else {
        return Vec::new();
    };
    stage_tests(workspace, binary, prefix)
        .into_iter()
        .filter(|name| !finished.report.results.contains_key(name))
        .take(test_threads())
        .collect()
}

/// Where and how a batch runs: the workspace (the course root, or `solutions/` and its copies),
/// the cargo options, and the check kinds to run.
pub struct Batch<'a> {
    pub course: &'a Course,
    pub workspace: &'a Path,
    pub opts: Options,
    pub kinds: BTreeSet<CheckKind>,
}

impl<'a> Batch<'a> {
    pub fn new(
        course: &'a Course,
        workspace: &'a Path,
        kinds: impl IntoIterator<Item = CheckKind>,
    ) -> Batch<'a> {
        Batch {
            course,
            workspace,
            opts: Options::default(),
            kinds: kinds.into_iter().collect(),
        }
    }
}

/// Called after each check kind of a batch with the verdicts of its stages.
pub type Progress<'p> = &'p mut dyn FnMut(CheckKind, &[(usize, Verdict)]);

/// Runs the checks of several stages of one project, one cargo invocation per check kind, and
/// returns each stage's result (in the order of `stages`). A stage's later checks still run when
/// an earlier one failed, since other stages share the invocation.
pub fn run_batch(
    batch: &Batch,
    project: usize,
    stages: &[usize],
    out: &mut Output,
    cancel: &AtomicBool,
    progress: Progress,
) -> Result<Vec<StageResult>> {
    let Batch {
        course,
        workspace,
        opts,
        kinds,
    } = batch;
    let workspace: &Path = workspace;
    let mut results = vec![StageResult::default(); stages.len()];
    for &kind in kinds.iter() {
        let members: Vec<usize> = stages
            .iter()
            .copied()
            .filter(|&s| course.stages[s].has_check(kind))
            .collect();
        if members.is_empty() {
            continue;
        }
        // A break-it stage (its run is meant to fail) and a stage with Miri flags of its own run
        // alone; the others share one invocation.
        let alone = |s: usize| {
            let st = &course.stages[s];
            st.breaks.as_ref().is_some_and(|b| b.check == kind)
                || (kind == CheckKind::Miri && !st.miri_flags.is_empty())
        };
        let (shared, single): (Vec<usize>, Vec<usize>) = members.iter().partition(|&&s| !alone(s));
        let mut groups: Vec<Vec<usize>> = single.into_iter().map(|s| vec![s]).collect();
        if !shared.is_empty() {
            groups.insert(0, shared);
        }
        let mut verdicts: Vec<(usize, Verdict)> = Vec::new();
        for members in groups {
            verdicts.extend(run_group(
                course, project, &members, kind, workspace, opts, out, cancel,
            )?);
        }
        progress(kind, &verdicts);
        for (s, verdict) in verdicts {
            let i = stages
                .iter()
                .position(|&x| x == s)
                .expect("a member of the batch");
            results[i].checks.push((kind, verdict));
        }
    }
    out.finish();
    Ok(results)
}

/// Called after each cargo invocation of `run_all` with the project, the check kind and the
/// verdicts of its stages.
pub type ProjectProgress<'p> = &'p mut dyn FnMut(usize, CheckKind, &[(usize, Verdict)]);

/// `run_batch` over every stage of each of `projects` in turn, one invocation per crate and
/// check kind; stops before the next project once `cancel` is set. Returns a result for every
/// stage of the course (empty for stages not run).
pub fn run_all(
    batch: &Batch,
    projects: &[usize],
    out: &mut Output,
    cancel: &AtomicBool,
    progress: ProjectProgress,
) -> Result<Vec<StageResult>> {
    let course = batch.course;
    let mut results = vec![StageResult::default(); course.stages.len()];
    for &p in projects {
        if cancel.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let stages: Vec<usize> = course.stages_of(p).collect();
        if stages.is_empty() {
            continue;
        }
        let batch = run_batch(batch, p, &stages, out, cancel, &mut |kind, verdicts| {
            progress(p, kind, verdicts)
        })?;
        for (s, r) in stages.into_iter().zip(batch) {
            results[s] = r;
        }
    }
    Ok(results)
}

/// The progress line of one invocation: `test  3/4 stages pass`.
pub fn progress_line(kind: CheckKind, verdicts: &[(usize, Verdict)]) -> String {
    let passed = verdicts.iter().filter(|(_, v)| v.passed()).count();
    format!("{:5} {passed}/{} stages pass", kind.name(), verdicts.len())
}

/// One invocation of `kind` for `members`; a run that a crash, a timeout or an unknown cause
/// ended is run again stage by stage.
#[allow(clippy::too_many_arguments)]
fn run_group(
    course: &Course,
    project: usize,
    members: &[usize],
    kind: CheckKind,
    workspace: &Path,
    opts: &Options,
    out: &mut Output,
    cancel: &AtomicBool,
) -> Result<Vec<(usize, Verdict)>> {
    Ok(match toolchain::unavailable(kind) {
        Some(why) => members
            .iter()
            .map(|&s| (s, Verdict::Unavailable { why: why.clone() }))
            .collect(),
        None => {
            let job = check::job(course, project, members, kind, workspace, opts);
            let finished = run_job(&job, out, cancel)?;
            let mut verdicts: Vec<(usize, Verdict)> = members
                .iter()
                .map(|&s| {
                    (
                        s,
                        verdict_for(course, s, kind, &finished, workspace, members.len() == 1),
                    )
                })
                .collect();
            // A crash or a timeout ends the whole test binary, and a failed run with no
            // failed test has an unknown cause: no stage's verdict from it can be trusted,
            // so each stage runs again on its own.
            let unexplained = !finished.exit_ok()
                && !finished.report.compile_error
                && !finished
                    .report
                    .results
                    .values()
                    .any(|s| *s == outcome::TestStatus::Failed);
            if members.len() > 1
                && (finished.timed_out().is_some()
                    || finished.report.crash.is_some()
                    || unexplained)
            {
                for (s, verdict) in &mut verdicts {
                    let job = check::job(course, project, &[*s], kind, workspace, opts);
                    let alone = run_job(&job, out, cancel)?;
                    *verdict = verdict_for(course, *s, kind, &alone, workspace, true);
                }
            }
            verdicts
        }
    })
}
