//! `mastery verify`: every stage checked, one cargo invocation per crate and check kind, a
//! table by phase and project, and the progress saved.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::app::App;
use crate::course::{CheckKind, Course};
use crate::output::Output;
use crate::run::{self, StageResult};
use crate::term;

#[derive(Serialize)]
struct JsonStage<'a> {
    name: &'a str,
    project: &'a str,
    phase: &'a str,
    optional: bool,
    passed: bool,
    checks: Vec<JsonCheck>,
}

#[derive(Serialize)]
struct JsonCheck {
    kind: &'static str,
    passed: bool,
    detail: String,
}

/// Parses `--only`: empty means every kind.
pub fn kinds(only: &[String]) -> Result<BTreeSet<CheckKind>> {
    if only.is_empty() {
        return Ok(CheckKind::ALL.into_iter().collect());
    }
    only.iter()
        .map(|k| {
            CheckKind::parse(k.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown check kind `{k}` in --only; the kinds are {}",
                    CheckKind::names_in_words()
                )
            })
        })
        .collect()
}

pub fn cmd_verify(app: &mut App, json: bool, only: &[String]) -> Result<ExitCode> {
    let kinds = kinds(only)?;
    let full = kinds.len() == CheckKind::ALL.len();
    let course = &app.course;
    let mut out = Output::new(&course.root, false, false, false);
    let results = run_every_project(course, &kinds, &mut out, !json)?;
    if full {
        let passed = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.passed())
            .map(|(s, _)| course.stages[s].name.clone())
            .collect();
        app.state.passed = passed;
        app.save()?;
    }

    let course = &app.course;
    // With --only, a stage that has none of those checks was not looked at: it is left out.
    let checked = |s: usize| full || kinds.iter().any(|k| course.stages[s].has_check(*k));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json_rows(app, &results, &checked))?
        );
    } else {
        print!("{}", table(app, &results, &checked, &kinds, full));
        println!("The full output is in {}.", out.log_path().display());
    }
    let required_pending = results
        .iter()
        .enumerate()
        .any(|(s, r)| checked(s) && !r.passed() && !course.project_of(s).optional);
    Ok(if required_pending {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Every project's stages, one cargo invocation per crate and kind, with a progress line per
/// invocation on stderr when `progress`.
fn run_every_project(
    course: &Course,
    kinds: &BTreeSet<CheckKind>,
    out: &mut Output,
    progress: bool,
) -> Result<Vec<StageResult>> {
    let projects: Vec<usize> = (0..course.projects.len()).collect();
    run::run_all(
        &run::Batch::new(course, &course.root, kinds.iter().copied()),
        &projects,
        out,
        &std::sync::atomic::AtomicBool::new(false),
        &mut |p, kind, verdicts| {
            if progress {
                eprintln!(
                    "  {:16} {}",
                    course.projects[p].name,
                    run::progress_line(kind, verdicts)
                );
            }
        },
    )
}

fn json_rows<'a>(
    app: &'a App,
    results: &[StageResult],
    checked: &dyn Fn(usize) -> bool,
) -> Vec<JsonStage<'a>> {
    let course = &app.course;
    results
        .iter()
        .enumerate()
        .filter(|(s, _)| checked(*s))
        .map(|(s, r)| {
            let st = &course.stages[s];
            let pr = course.project_of(s);
            JsonStage {
                name: &st.name,
                project: &pr.name,
                phase: &course.phases[pr.phase].id,
                optional: pr.optional,
                passed: r.passed(),
                checks: r
                    .checks
                    .iter()
                    .map(|(k, v)| JsonCheck {
                        kind: k.name(),
                        passed: v.passed(),
                        detail: v.describe(*k),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn table(
    app: &App,
    results: &[StageResult],
    checked: &dyn Fn(usize) -> bool,
    kinds: &BTreeSet<CheckKind>,
    full: bool,
) -> String {
    let course = &app.course;
    let mut out = String::new();
    for (ph, phase) in course.phases.iter().enumerate() {
        out.push_str(&format!("\n{}\n", term::heading(&phase.title)));
        for p in (0..course.projects.len()).filter(|&p| course.projects[p].phase == ph) {
            let stages: Vec<usize> = course.stages_of(p).filter(|&s| checked(s)).collect();
            if stages.is_empty() {
                continue;
            }
            out.push_str(&project_rows(course, p, &stages, results));
        }
    }
    let required: Vec<usize> = (0..course.stages.len())
        .filter(|&s| checked(s) && !course.project_of(s).optional)
        .collect();
    let done = required.iter().filter(|&&s| results[s].passed()).count();
    if full {
        out.push_str(&format!(
            "\n{done} of {} required stages pass.\n",
            required.len()
        ));
    } else {
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        out.push_str(&format!(
            "\n{done} of {} required stages pass their {} checks (--only: other stages and checks were not run).\n",
            required.len(),
            names.join(", ")
        ));
    }
    out
}

/// A project's line in the table (its title and count), then a line per stage.
fn project_rows(course: &Course, p: usize, stages: &[usize], results: &[StageResult]) -> String {
    let project = &course.projects[p];
    let done = stages.iter().filter(|&&s| results[s].passed()).count();
    let tag = if project.optional {
        " (optional: not needed to finish)"
    } else {
        ""
    };
    let mut out = format!(
        "  {}{}  {done}/{}\n",
        project.title,
        term::dim(tag),
        stages.len()
    );
    for &s in stages {
        let r = &results[s];
        let mark = if r.passed() {
            term::good("pass")
        } else {
            term::bad("todo")
        };
        let detail = match r.failure() {
            Some((k, v)) => v.describe(*k),
            None => r
                .checks
                .iter()
                .map(|(k, _)| k.name())
                .collect::<Vec<_>>()
                .join(", "),
        };
        out.push_str(&format!(
            "    {mark}  {:28} {}\n",
            course.stages[s].name,
            term::dim(&detail)
        ));
    }
    out
}
