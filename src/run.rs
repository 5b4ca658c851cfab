//! Running checks: one stage (the watch loop, `mastery run`), or every stage of a crate at once
//! with one cargo invocation per check kind (`verify`, `dev check`), mapping each result back to
//! its stage.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::check::{self, Options};
use crate::course::{CheckKind, Course};
use crate::outcome::{self, Verdict};
use crate::output::Output;
use crate::process::{self, Finished};
use crate::toolchain;

/// The verdicts of the checks of one stage, in check order; the first failure ends the list.
#[derive(Clone, Debug, Default)]
pub struct StageResult {
    pub checks: Vec<(CheckKind, Verdict)>,
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
    for &kind in &st.checks {
        let verdict = match toolchain::unavailable(kind) {
            Some(why) => Verdict::Unavailable { why },
            None => {
                let job = check::job(course, st.project, &[stage], kind, workspace, opts);
                let finished = run_job(&job, out, cancel)?;
                verdict_for(course, stage, kind, &finished, workspace, true)
            }
        };
        let stop = !verdict.passed();
        result.checks.push((kind, verdict));
        if stop {
            break;
        }
    }
    out.finish();
    Ok(result)
}

/// Runs one cargo job, its command line and output going to `out`.
fn run_job(job: &process::Job, out: &mut Output, cancel: &AtomicBool) -> Result<Finished> {
    out.log(&format!("$ {}", job.display()));
    process::run(job, &mut |line| out.line(line), cancel).with_context(|| {
        format!(
            "cannot start `{}`: is cargo installed and on your PATH? (`mastery doctor` checks)",
            job.program
        )
    })
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
    let prefix = check::test_prefix(st, kind);
    if finished.cancelled {
        return Verdict::Cancelled;
    }
    if let Some(secs) = finished.timed_out {
        return Verdict::TimedOut {
            secs,
            running: still_running(finished, &prefix, workspace),
        };
    }
    outcome::judge(&finished.report, &prefix, finished.exit_ok, alone)
}

/// After a timeout: the tests of the stage that had not reported, found by asking the test
/// binary for its list (unit tests and loom models; doctests and Miri have no binary to ask).
fn still_running(finished: &Finished, prefix: &str, workspace: &Path) -> Vec<String> {
    let Some(binary) = finished.report.binaries.last() else {
        return Vec::new();
    };
    let Some(list) = process::output_of(
        &workspace.join(binary).display().to_string(),
        &["--list", "--format", "terse", prefix],
        workspace,
    ) else {
        return Vec::new();
    };
    list.lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .filter(|name| name.starts_with(prefix) && !finished.report.results.contains_key(*name))
        .map(String::from)
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
        let verdicts: Vec<(usize, Verdict)> = match toolchain::unavailable(kind) {
            Some(why) => members
                .iter()
                .map(|&s| (s, Verdict::Unavailable { why: why.clone() }))
                .collect(),
            None => {
                let job = check::job(course, project, &members, kind, workspace, opts);
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
                let unexplained = !finished.exit_ok
                    && !finished.report.compile_error
                    && !finished
                        .report
                        .results
                        .values()
                        .any(|s| *s == outcome::TestStatus::Failed);
                if members.len() > 1
                    && (finished.timed_out.is_some()
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
        };
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
