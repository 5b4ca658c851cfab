//! `mastery dev check`: the course proves itself.
//!
//! 1. The tree agrees with info.toml: every exercise crate is a project with a solution twin,
//!    every stage file is listed and declared in lib.rs, stub and solution share their header
//!    and their tests byte for byte, and `stubs.lock` is current.
//! 2. Every stub compiles without warnings and fails its own tests as shipped.
//! 3. Every stage has teeth: its tests fail with its stub even when every other stage of the
//!    crate is solved (a copy of the solutions with only that one file swapped for its stub).
//! 4. Every solution passes all its checks, Miri and loom included, and is clippy-clean (also
//!    with the loom cfg, for projects with loom stages).
//! 5. Every mistake of the corpus (`mistakes/*.toml`), swapped into an otherwise solved copy of
//!    its crate, is rejected, by the check it names, with the text it names; every stage has
//!    its share of mistakes.
//!
//! A check that cannot run here (no Miri) is a problem, never a silent pass.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::check::{self, Options};
use crate::course::{CheckKind, Course};
use crate::lock;
use crate::mistakes::{self, Mistake};
use crate::outcome::Verdict;
use crate::output::Output;
use crate::process;
use crate::run::{self, Batch};
use crate::term;

/// The problems found, each a sentence that says where.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, p: String) {
        println!("  {} {p}", term::bad("problem:"));
        self.0.push(p);
    }
}

pub fn cmd_check(course: &Course, only: Option<&str>, tree_only: bool) -> Result<ExitCode> {
    let projects: Vec<usize> = match only {
        Some(name) => vec![course.find_project(name).map_err(anyhow::Error::msg)?],
        None => (0..course.projects.len()).collect(),
    };
    let mut problems = Problems::default();
    let started = Instant::now();

    step("info.toml and the tree agree");
    check_tree(course, &projects, only.is_none(), &mut problems);
    let corpus = load_corpus(course, &projects, &mut problems);
    if tree_only {
        let log = Output::new(&course.root, false, false, false);
        return Ok(verdict(
            &problems,
            &log,
            started,
            &format!("The tree checks out. ({} mistakes", corpus.len()),
        ));
    }

    let mut log = Output::new(&course.root, false, false, false).keeping();
    let cancel = AtomicBool::new(false);
    for &p in &projects {
        let stages: Vec<usize> = course.stages_of(p).collect();
        if stages.is_empty() {
            continue;
        }
        let mine: Vec<&Mistake> = corpus
            .iter()
            .filter(|m| course.stages[m.stage].project == p)
            .collect();
        let mut ctx = Ctx {
            course,
            project: p,
            log: &mut log,
            cancel: &cancel,
            problems: &mut problems,
        };
        check_project(&mut ctx, &stages, &mine)?;
    }
    log.finish();
    let stages = course
        .stages
        .iter()
        .filter(|s| projects.contains(&s.project))
        .count();
    Ok(verdict(
        &problems,
        &log,
        started,
        &format!(
            "The course checks out. ({stages} stages, {} mistakes",
            corpus.len()
        ),
    ))
}

/// What the steps of `dev check` over one project share.
struct Ctx<'a> {
    course: &'a Course,
    project: usize,
    log: &'a mut Output,
    cancel: &'a AtomicBool,
    problems: &'a mut Problems,
}

impl Ctx<'_> {
    fn step(&self, what: &str) {
        step(&format!(
            "{}: {what}",
            self.course.projects[self.project].name
        ));
    }

    /// `run_batch` over `stages` in `workspace`, with a progress line per kind when `progress`.
    fn batch(
        &mut self,
        workspace: &Path,
        kinds: impl IntoIterator<Item = CheckKind>,
        stages: &[usize],
        progress: bool,
    ) -> Result<Vec<run::StageResult>> {
        let results = run::run_all(
            &Batch::new(self.course, workspace, kinds),
            &[self.project],
            self.log,
            self.cancel,
            &mut |_, kind, verdicts| {
                if progress {
                    println!("    {}", run::progress_line(kind, verdicts));
                }
            },
        )?;
        Ok(stages.iter().map(|&s| results[s].clone()).collect())
    }
}

/// Steps 2 to 5 for one project.
fn check_project(ctx: &mut Ctx, stages: &[usize], mistakes: &[&Mistake]) -> Result<()> {
    let course = ctx.course;
    let name = &course.projects[ctx.project].name;
    ctx.step("stubs compile without warnings");
    cargo_clean_build(
        &course.root,
        &["test", "--no-run", "--lib", "-p", name],
        &format!("the stubs of {name}"),
        &[],
        ctx.log,
        ctx.problems,
    );

    ctx.step("every stub fails its tests as shipped");
    let shipped = ctx.batch(&course.root, [CheckKind::Test], stages, false)?;
    for (&s, r) in stages.iter().zip(&shipped) {
        expect_failure(course, s, r, "as shipped", ctx.problems);
    }

    ctx.step("every solution passes all its checks");
    let solved = ctx.batch(&course.root.join("solutions"), CheckKind::ALL, stages, true)?;
    for (&s, r) in stages.iter().zip(&solved) {
        for (kind, verdict) in &r.checks {
            if !verdict.passed() {
                ctx.problems.add(format!(
                    "{} (solution): {}",
                    course.stages[s].name,
                    verdict.describe(*kind)
                ));
            }
        }
    }

    ctx.step("solutions are clippy-clean");
    solutions_clippy(ctx, stages);

    ctx.step("every stage's tests fail with its stub when the rest is solved");
    teeth(ctx, stages)?;

    ctx.step("every mistake is rejected by the check it names");
    prove_mistakes(ctx, mistakes)
}

/// Clippy over the solution crate, and again with the cfg of each check kind that builds with
/// one (`mastery_loom`), since that compiles other code (`cfg(mastery_loom)` branches, loom
/// models).
fn solutions_clippy(ctx: &mut Ctx, stages: &[usize]) {
    let course = ctx.course;
    let name = &course.projects[ctx.project].name;
    let solutions = course.root.join("solutions");
    let clippy = [
        "clippy",
        "--all-targets",
        "-p",
        name,
        "--",
        "-D",
        "warnings",
    ];
    let what = format!("the solution of {name}");
    cargo_clean_build(&solutions, &clippy, &what, &[], ctx.log, ctx.problems);
    for kind in CheckKind::ALL {
        let (Some(cfg), Some(dir)) = (kind.cfg(), kind.own_target_dir()) else {
            continue;
        };
        if !stages.iter().any(|&s| course.stages[s].has_check(kind)) {
            continue;
        }
        let target = solutions.join("target").join(format!("{dir}-clippy"));
        cargo_clean_build(
            &solutions,
            &clippy,
            &format!("{what} under {kind}"),
            &[
                ("RUSTFLAGS", &check::rustflags_with(cfg)),
                ("CARGO_TARGET_DIR", &target.display().to_string()),
            ],
            ctx.log,
            ctx.problems,
        );
    }
}

/// `mastery dev mistakes`: only step 5, for one project or one stage, or the whole corpus.
pub fn cmd_mistakes(
    course: &Course,
    project: Option<&str>,
    stage: Option<&str>,
) -> Result<ExitCode> {
    let stage = stage
        .map(|s| course.find_stage(s))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let projects: Vec<usize> = match (project, stage) {
        (_, Some(s)) => vec![course.stages[s].project],
        (Some(name), None) => vec![course.find_project(name).map_err(anyhow::Error::msg)?],
        (None, None) => (0..course.projects.len()).collect(),
    };
    let mut problems = Problems::default();
    let started = Instant::now();
    let mut corpus = load_corpus(course, &projects, &mut problems);
    if let Some(s) = stage {
        corpus.retain(|m| m.stage == s);
    }
    let mut log = Output::new(&course.root, false, false, false).keeping();
    let cancel = AtomicBool::new(false);
    for &p in &projects {
        let mine: Vec<&Mistake> = corpus
            .iter()
            .filter(|m| course.stages[m.stage].project == p)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut ctx = Ctx {
            course,
            project: p,
            log: &mut log,
            cancel: &cancel,
            problems: &mut problems,
        };
        ctx.step("every mistake is rejected by the check it names");
        prove_mistakes(&mut ctx, &mine)?;
    }
    log.finish();
    Ok(verdict(
        &problems,
        &log,
        started,
        &format!("Every mistake is rejected. ({} mistakes", corpus.len()),
    ))
}

/// The closing line: `good` (with the elapsed time) or the problems' count.
fn verdict(problems: &Problems, log: &Output, started: Instant, good: &str) -> ExitCode {
    println!();
    let secs = started.elapsed().as_secs();
    if problems.0.is_empty() {
        println!("{}", term::good(&format!("{good}, {secs} s)")));
        ExitCode::SUCCESS
    } else {
        println!(
            "{} ({secs} s; the cargo output is in {})",
            term::bad(&match problems.0.len() {
                1 => "1 problem.".to_string(),
                n => format!("{n} problems."),
            }),
            log.log_path().display()
        );
        ExitCode::FAILURE
    }
}

/// The corpus of `projects`, with its own errors and every stage short of mistakes reported.
fn load_corpus(course: &Course, projects: &[usize], problems: &mut Problems) -> Vec<Mistake> {
    let corpus = match mistakes::load(course) {
        Ok(corpus) => corpus,
        Err(errors) => {
            for e in errors {
                problems.add(e.to_string());
            }
            Vec::new()
        }
    };
    let corpus: Vec<Mistake> = corpus
        .into_iter()
        .filter(|m| projects.contains(&course.stages[m.stage].project))
        .collect();
    for &p in projects {
        for s in course.stages_of(p) {
            let have = corpus.iter().filter(|m| m.stage == s).count();
            let need = mistakes::minimum(course, s);
            if have < need {
                problems.add(format!(
                    "{}: {have} mistakes in {}/{}.toml, at least {need} wanted (info.toml's mistakes_per_stage)",
                    course.stages[s].name,
                    mistakes::DIR,
                    course.projects[p].name
                ));
            }
        }
    }
    corpus
}

fn step(what: &str) {
    println!("{}", term::heading(&format!("- {what}")));
}

fn expect_failure(
    course: &Course,
    stage: usize,
    result: &run::StageResult,
    when: &str,
    problems: &mut Problems,
) {
    let name = &course.stages[stage].name;
    match result.checks.first() {
        Some((_, Verdict::Failed { failed })) if !failed.is_empty() => {}
        Some((kind, v)) => problems.add(format!(
            "{name}: the stub must fail its tests {when}, but {}",
            v.describe(*kind)
        )),
        None => problems.add(format!("{name}: no check ran {when}")),
    }
}

/// Runs a cargo command that must succeed without a warning; its output goes to the log.
fn cargo_clean_build(
    dir: &Path,
    args: &[&str],
    what: &str,
    env: &[(&str, &str)],
    log: &mut Output,
    problems: &mut Problems,
) {
    let mut job = process::Job::new(
        "cargo",
        std::iter::once("--color=never").chain(args.iter().copied()),
        dir,
        check::BUILD_LIMIT,
    );
    for (key, value) in env {
        job = job.env(key, value);
    }
    log.log(&format!("$ {}", job.display()));
    let mut lines: Vec<String> = Vec::new();
    let done = process::run(
        &job,
        &mut |line| {
            log.line(line);
            lines.push(line.to_string());
        },
        &AtomicBool::new(false),
    );
    match done {
        Err(e) => problems.add(format!("{what}: cannot run cargo: {e}")),
        Ok(done) => {
            let warnings: Vec<&String> = lines
                .iter()
                .filter(|l| l.starts_with("warning:") && !l.contains("generated"))
                .collect();
            if let Some(secs) = done.timed_out() {
                problems.add(format!(
                    "{what}: `cargo {}` took more than {secs} s and was stopped",
                    args.join(" ")
                ));
            } else if !done.exit_ok() {
                let first = lines
                    .iter()
                    .find(|l| l.starts_with("error"))
                    .map_or("cargo failed", |l| l.as_str());
                problems.add(format!(
                    "{what}: `cargo {}` failed: {first}",
                    args.join(" ")
                ));
            } else if !warnings.is_empty() {
                problems.add(format!(
                    "{what}: {} warnings, the first: {}",
                    warnings.len(),
                    warnings[0]
                ));
            }
        }
    }
}

/// The header (leading `//!` lines) and the tests section (from the first `#[cfg(` line that
/// mentions `test` to the end) of a stage file.
pub fn shared_parts(text: &str) -> (String, String) {
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("//!")).collect();
    let tests = text
        .lines()
        .position(|l| l.starts_with("#[cfg(") && l.contains("test"))
        .map(|i| text.lines().skip(i).collect::<Vec<_>>().join("\n"));
    (header.join("\n"), tests.unwrap_or_default())
}

fn check_tree(course: &Course, projects: &[usize], whole: bool, problems: &mut Problems) {
    if whole {
        unlisted_crates(course, problems);
    }
    let lock = StubsLock::load(course, problems);
    for &p in projects {
        let project = &course.projects[p];
        let sol = project.solution_dir();
        if !course.root.join(&sol).join("Cargo.toml").is_file() {
            problems.add(format!(
                "project `{}` has no solution crate at {}",
                project.name,
                sol.display()
            ));
            continue;
        }
        if !course
            .root
            .join(project.bench_dir())
            .join("Cargo.toml")
            .is_file()
        {
            problems.add(format!(
                "project `{}` has no benchmark crate at {}",
                project.name,
                project.bench_dir().display()
            ));
        }
        let stages: Vec<usize> = course.stages_of(p).collect();
        if stages.is_empty() {
            problems.add(format!("project `{}` has no stages", project.name));
        }
        let stage_files: Vec<PathBuf> = stages
            .iter()
            .map(|&s| course.stages[s].file.clone())
            .collect();
        for d in crate::twins::differences(&course.root, &project.dir, &sol, &stage_files) {
            problems.add(d);
        }
        unlisted_stage_files(course, p, &stages, problems);
        undeclared_stages(course, p, &stages, problems);
        other_targets(course, &project.dir, problems);
        for &s in &stages {
            if stage_twins(course, s, problems) {
                lock.check(&course.stage_path(s), problems);
            }
        }
    }
}

/// The runner runs a crate's library tests and doctests only, so a project crate has no other
/// target whose tests a learner's run would see and `dev check` would not.
fn other_targets(course: &Course, dir: &Path, problems: &mut Problems) {
    for target in ["tests", "examples", "benches", "src/bin", "src/main.rs"] {
        if course.root.join(dir).join(target).exists() {
            problems.add(format!(
                "{}: the runner runs only the library's tests and doctests; put these in a stage file",
                dir.join(target).display()
            ));
        }
    }
}

/// Every crate under `exercises/` is a project.
fn unlisted_crates(course: &Course, problems: &mut Problems) {
    let Ok(entries) = std::fs::read_dir(course.root.join("exercises")) else {
        return;
    };
    for entry in entries.flatten() {
        let dir = Path::new("exercises").join(entry.file_name());
        if entry.path().join("Cargo.toml").is_file()
            && !course.projects.iter().any(|p| p.dir == dir)
        {
            problems.add(format!(
                "{} is a crate but no project in info.toml names it",
                dir.display()
            ));
        }
    }
}

/// `stubs.lock` as written, and the stubs' blob ids as they are.
struct StubsLock {
    written: Option<std::collections::BTreeMap<String, String>>,
    current: std::collections::BTreeMap<String, String>,
}

impl StubsLock {
    fn load(course: &Course, problems: &mut Problems) -> StubsLock {
        let written = lock::read_lock(&course.root).ok();
        if written.is_none() {
            problems.add(format!(
                "{} is missing or unreadable: run `mastery dev lock`",
                lock::LOCK_FILE
            ));
        }
        let current = match lock::lock_entries(course) {
            Ok(current) => current,
            Err(e) => {
                problems.add(format!("cannot compute the stubs' blob ids: {e:#}"));
                Default::default()
            }
        };
        StubsLock { written, current }
    }

    /// The stub at `stub_path` is in the lock, as it is now.
    fn check(&self, stub_path: &Path, problems: &mut Problems) {
        let Some(written) = &self.written else { return };
        let key = stub_path.display().to_string();
        match (written.get(&key), self.current.get(&key)) {
            (Some(id), Some(actual)) if id == actual => {}
            (None, _) => problems.add(format!(
                "{key}: not in {}; run `mastery dev lock`",
                lock::LOCK_FILE
            )),
            (Some(_), _) => problems.add(format!(
                "{key}: changed since {} was written; run `mastery dev lock`",
                lock::LOCK_FILE
            )),
        }
    }
}

/// Every stage-like file (`src/sNN_*.rs`) of a project is a stage.
fn unlisted_stage_files(course: &Course, p: usize, stages: &[usize], problems: &mut Problems) {
    let project = &course.projects[p];
    let Ok(entries) = std::fs::read_dir(course.root.join(&project.dir).join("src")) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| PathBuf::from("src").join(e.file_name()))
        .collect();
    files.sort();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let stage_like = stem.len() > 3
            && stem.starts_with('s')
            && stem[1..3].chars().all(|c| c.is_ascii_digit())
            && stem.as_bytes()[3] == b'_';
        if stage_like
            && !stages
                .iter()
                .any(|&s| course.stages[s].file == file || course.stages[s].module() == stem)
        {
            problems.add(format!(
                "{}: a stage file that no stage in info.toml lists",
                project.dir.join(&file).display()
            ));
        }
    }
}

/// Both `lib.rs` files (exercise and solution) declare every stage's module.
fn undeclared_stages(course: &Course, p: usize, stages: &[usize], problems: &mut Problems) {
    let project = &course.projects[p];
    for tree in [project.dir.clone(), project.solution_dir()] {
        let lib =
            std::fs::read_to_string(course.root.join(&tree).join("src/lib.rs")).unwrap_or_default();
        for &s in stages {
            let st = &course.stages[s];
            if st.file.parent() == Some(Path::new("src"))
                && !lib.lines().any(|l| {
                    l.trim_start()
                        .trim_start_matches("pub ")
                        .starts_with(&format!("mod {};", st.module()))
                })
            {
                problems.add(format!(
                    "{}: src/lib.rs does not declare `mod {};` for stage {}",
                    tree.display(),
                    st.module(),
                    st.name
                ));
            }
        }
    }
}

/// Stub and solution of one stage: the same header and tests, different code, and every header
/// example that Miri runs otherwise says why. False when they cannot be read.
fn stage_twins(course: &Course, s: usize, problems: &mut Problems) -> bool {
    let st = &course.stages[s];
    let stub_path = course.stage_path(s);
    let sol_path = course.solution_path(s);
    let (Ok(stub), Ok(solution)) = (
        std::fs::read_to_string(course.root.join(&stub_path)),
        std::fs::read_to_string(course.root.join(&sol_path)),
    ) else {
        problems.add(format!(
            "{}: the stub {} or the solution {} cannot be read",
            st.name,
            stub_path.display(),
            sol_path.display()
        ));
        return false;
    };
    let (stub_header, stub_tests) = shared_parts(&stub);
    let (sol_header, sol_tests) = shared_parts(&solution);
    let stub_path = stub_path.display();
    if stub_header.is_empty() {
        problems.add(format!("{stub_path}: the stage has no `//!` header"));
    }
    if stub_header != sol_header {
        problems.add(format!(
            "{stub_path}: the `//!` header differs from the solution's ({})",
            first_difference(&stub_header, &sol_header)
        ));
    }
    if stub_tests.is_empty() && st.checks.iter().any(|k| k.runs_unit_tests()) {
        problems.add(format!(
            "{stub_path}: no tests section (`#[cfg(test)] mod tests`)"
        ));
    }
    if stub_tests != sol_tests {
        problems.add(format!(
            "{stub_path}: the tests differ from the solution's ({})",
            first_difference(&stub_tests, &sol_tests)
        ));
    }
    if stub == solution {
        problems.add(format!("{stub_path}: the stub is the solution"));
    }
    if let Some(why) = too_long(
        &stub_header,
        &stub[stub_header.len()..stub.len() - stub_tests.len()],
    ) {
        problems.add(format!("{stub_path}: {why}"));
    }
    if st.has_check(CheckKind::Miri) {
        for (line, reason) in miri_gated_examples(&solution) {
            let place = format!("{}:{line}", sol_path.display());
            match reason {
                Some(why) => println!(
                    "  note: {place}: an example Miri does not run in full: {why}"
                ),
                None => problems.add(format!("{place}: an example changes under Miri; a `// Miri: ...` comment above it must say why")),
            }
        }
    }
    true
}

/// The most header lines and `todo!`s a stage has without saying why.
const MAX_HEADER_LINES: usize = 60;
const MAX_TODOS: usize = 12;
/// The header line that says why a stage is longer than that.
const LONG_NOTE: &str = "//! Why this stage is long:";

/// Why a stage is too long for one sitting (its header, or the `todo!`s of its stub's code),
/// unless its header says why with a `LONG_NOTE` line.
fn too_long(header: &str, code: &str) -> Option<String> {
    let lines = header.lines().count();
    let todos = code.matches("todo!(").count();
    if header.lines().any(|l| l.starts_with(LONG_NOTE)) {
        return None;
    }
    let what = match (lines > MAX_HEADER_LINES, todos > MAX_TODOS) {
        (false, false) => return None,
        (true, false) => format!("the header is {lines} lines (over {MAX_HEADER_LINES})"),
        (false, true) => format!("the stub has {todos} `todo!`s (over {MAX_TODOS})"),
        (true, true) => format!("the header is {lines} lines and the stub has {todos} `todo!`s"),
    };
    Some(format!(
        "{what}: cut it as a teacher would, or say why in a `{LONG_NOTE} ...` line"
    ))
}

/// The examples of a stage file's docs, `//!` or `///` (doctests, which the `miri` check runs),
/// that test `cfg(miri)`: the line (1-based) of each, with the `// Miri: ...` comment above it
/// that says why, if any.
fn miri_gated_examples(text: &str) -> Vec<(usize, Option<String>)> {
    let mut found = Vec::new();
    let mut in_example = false;
    let mut noted = false;
    let mut comment: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        let Some(doc) = line
            .strip_prefix("//!")
            .or_else(|| line.strip_prefix("///"))
        else {
            // Code: any doc comment, and its example, has ended.
            in_example = false;
            continue;
        };
        let code = doc.trim_start_matches(' ');
        let code = code.strip_prefix("# ").unwrap_or(code).trim();
        if code.starts_with("```") {
            in_example = !in_example;
            noted = false;
            comment.clear();
            continue;
        }
        if !in_example || noted {
            continue;
        }
        if let Some(text) = code.strip_prefix("//") {
            if text.trim_start().starts_with("Miri:") {
                comment.clear();
            }
            comment.push(text.trim());
            continue;
        }
        let gated = ["cfg!(miri)", "cfg(miri)", "not(miri)", "cfg_attr(miri"]
            .iter()
            .any(|c| code.contains(c));
        if gated {
            let reason = comment
                .first()
                .filter(|c| c.starts_with("Miri:"))
                .map(|_| comment.join(" "));
            found.push((i + 1, reason));
            noted = true;
        }
        comment.clear();
    }
    found
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
    format!("first at line {} of the section", line + 1)
}

/// For each stage: the solutions with that one file swapped for its stub must fail the stage's
/// tests, in the project's scratch copy (`scratch_copy`).
fn teeth(ctx: &mut Ctx, stages: &[usize]) -> Result<()> {
    let (course, project) = (ctx.course, ctx.project);
    let root = &course.root;
    let ws = scratch_copy(course, project)?;
    let dir_name = course.projects[project].dir_name().to_string();
    for &s in stages {
        let st = &course.stages[s];
        let Some(kind) = CheckKind::for_teeth(&st.checks) else {
            continue;
        };
        let target = ws.join(&dir_name).join(&st.file);
        let solution =
            std::fs::read(&target).with_context(|| format!("cannot read {}", target.display()))?;
        std::fs::copy(root.join(course.stage_path(s)), &target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        let batch = Batch {
            course,
            workspace: &ws,
            opts: Options::default(),
            kinds: [kind].into(),
        };
        let result = run::run_batch(&batch, project, &[s], ctx.log, ctx.cancel, &mut |_, _| {});
        std::fs::write(&target, solution)
            .with_context(|| format!("cannot restore {}", target.display()))?;
        let result = result?;
        let r = &result[0];
        match r.checks.first() {
            Some((_, Verdict::Failed { failed })) if !failed.is_empty() => {
                println!("    {} {}", term::good("ok"), st.name)
            }
            Some((
                _,
                Verdict::TimedOut { .. } | Verdict::Crashed { .. } | Verdict::MiriError { .. },
            )) => println!("    {} {}", term::good("ok"), st.name),
            Some((k, v)) => ctx.problems.add(format!(
                "{}: no teeth: with its stub and every other stage solved, {}",
                st.name,
                v.describe(*k)
            )),
            None => ctx.problems.add(format!("{}: no teeth check ran", st.name)),
        }
    }
    Ok(())
}

/// A copy of `solutions/` for one project's swaps (stubs for the teeth, mistakes), with the
/// sources refreshed and its own `target/` kept between runs. Its own: cargo names a crate's
/// artifacts by its path relative to the workspace, so a copy sharing the solutions' target
/// directory shares their fingerprints (an edit in one looks built in the other) and
/// cargo-miri's test "binaries", which name the source they interpret.
fn scratch_copy(course: &Course, project: usize) -> Result<PathBuf> {
    let ws = course
        .root
        .join("solutions")
        .join("target")
        .join("mastery-scratch")
        .join(course.projects[project].dir_name());
    if let Ok(entries) = std::fs::read_dir(&ws) {
        for entry in entries.flatten() {
            if entry.file_name() == "target" {
                continue;
            }
            let path = entry.path();
            let gone = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            gone.with_context(|| format!("cannot clear {}", path.display()))?;
        }
    }
    copy_tree(&course.root.join("solutions"), &ws, &["target"])
        .with_context(|| format!("cannot copy the solutions to {}", ws.display()))?;
    Ok(ws)
}

/// Each mistake, applied to an otherwise solved copy of its crate, must make its stage fail,
/// first in the check it names, with its `expect` text in that check's output.
fn prove_mistakes(ctx: &mut Ctx, corpus: &[&Mistake]) -> Result<()> {
    let (course, project) = (ctx.course, ctx.project);
    if corpus.is_empty() {
        return Ok(());
    }
    ctx.log.take_kept();
    let ws = scratch_copy(course, project)?;
    let crate_dir = ws.join(course.projects[project].dir_name());
    let opts = Options::default();
    for m in corpus {
        let id = m.id(course);
        let target = crate_dir.join(&m.file);
        let solution = std::fs::read_to_string(&target)
            .with_context(|| format!("cannot read {}", target.display()))?;
        let wrong = match mistakes::apply(&solution, &m.edits) {
            Ok(wrong) => wrong,
            Err(e) => {
                ctx.problems
                    .add(format!("{id} ({}): {e} in {}", m.origin, m.file.display()));
                continue;
            }
        };
        std::fs::write(&target, wrong)
            .with_context(|| format!("cannot write {}", target.display()))?;
        ctx.log.log(&format!("=== mistake {id}: {}", m.bug));
        let clock = Instant::now();
        let result = run::run_stage(course, m.stage, &ws, &opts, ctx.log, ctx.cancel);
        std::fs::write(&target, &solution)
            .with_context(|| format!("cannot restore {}", target.display()))?;
        let output = ctx.log.take_kept();
        let secs = clock.elapsed().as_secs_f64();
        match judge_mistake(m, &result?, &output) {
            Ok(how) => println!("    {} {id}: {how} ({secs:.0} s)", term::good("ok")),
            Err(why) => ctx.problems.add(format!("{id} ({}): {why}", m.origin)),
        }
    }
    Ok(())
}

/// Whether a mistake's run rejected it as the corpus says: `Ok` with the verdict's words, or
/// `Err` with what went otherwise.
fn judge_mistake(m: &Mistake, result: &run::StageResult, output: &str) -> Result<String, String> {
    let Some((kind, verdict)) = result.failure() else {
        return Err(format!(
            "passes its stage, a hole in the course: {}. Add the test (or Miri/loom model) that catches it",
            m.bug
        ));
    };
    let (kind, verdict) = (*kind, verdict);
    match verdict {
        Verdict::Failed { .. }
        | Verdict::Crashed { .. }
        | Verdict::TimedOut { .. }
        | Verdict::MiriError { .. }
        | Verdict::Unbroken { .. } => {}
        Verdict::CompileError => {
            return Err(format!(
                "does not compile ({kind}); a mistake must be code a learner could run"
            ));
        }
        other => return Err(format!("cannot be judged: {}", other.describe(kind))),
    }
    // A race real threads can hit may be rejected by the native tests first, as a learner's
    // run would be; the corpus says so with `native_race`, the text that run must show.
    let (expect, how) = match &m.native_race {
        Some(text) if kind == CheckKind::Test && kind != m.caught_by => (
            text.as_str(),
            format!("the race showed natively, before `{}`: ", m.caught_by),
        ),
        _ => (m.expect.as_str(), String::new()),
    };
    if kind != m.caught_by && how.is_empty() {
        return Err(format!(
            "rejected by `{kind}`, not by `{}` as the corpus says ({})",
            m.caught_by,
            verdict.describe(kind)
        ));
    }
    // What the learner reads: the check's output, the verdict, and the notes under it (a
    // break-it stage's "found nothing" is only in the verdict).
    let said = |text: &str| text.contains(expect);
    if !said(output) && !said(&verdict.describe(kind)) && !result.notes.iter().any(|n| said(n)) {
        return Err(format!(
            "rejected by `{kind}`, but neither its output nor its verdict contains `{expect}` ({})",
            verdict.describe(kind)
        ));
    }
    Ok(format!("{how}{}", verdict.describe(kind)))
}

fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_tree(&src, &dst, skip)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    fn racy(native_race: Option<&str>) -> Mistake {
        Mistake {
            stage: 0,
            name: "lost-wake".into(),
            bug: "b".into(),
            caught_by: CheckKind::Loom,
            expect: "deadlock".into(),
            native_race: native_race.map(Into::into),
            file: PathBuf::from("src/s01.rs"),
            edits: Vec::new(),
            origin: "m.toml:1".into(),
        }
    }

    #[test]
    fn a_native_race_may_be_rejected_by_the_tests_first_only_when_the_corpus_says_so() {
        let failed = |kind, name: &str| run::StageResult {
            checks: vec![(
                kind,
                Verdict::Failed {
                    failed: vec![name.into()],
                },
            )],
            notes: Vec::new(),
        };
        let native = failed(CheckKind::Test, "s01::tests::two_threads");
        let why = judge_mistake(&racy(None), &native, "").unwrap_err();
        assert!(
            why.starts_with("rejected by `test`, not by `loom`"),
            "{why}"
        );
        let how = judge_mistake(&racy(Some("s01::tests::")), &native, "").unwrap();
        assert!(
            how.starts_with("the race showed natively, before `loom`: test: 1 failed"),
            "{how}"
        );
        let why = judge_mistake(&racy(Some("s02::tests::")), &native, "").unwrap_err();
        assert!(why.contains("contains `s02::tests::`"), "{why}");
        let by_loom = failed(CheckKind::Loom, "s01::loom::model");
        assert!(judge_mistake(&racy(Some("s01::tests::")), &by_loom, "a deadlock").is_ok());
        assert!(judge_mistake(&racy(Some("s01::tests::")), &by_loom, "").is_err());
    }

    use super::*;

    #[test]
    fn examples_gated_on_miri_must_say_why() {
        let header = "//! ```\n//! // Miri: no sockets there.\n//! #[cfg(not(miri))]\n//! fn main() {}\n//! ```\n//! ```\n//! if cfg!(miri) { return; }\n//! ```";
        assert_eq!(
            miri_gated_examples(header),
            vec![(3, Some("Miri: no sockets there.".to_string())), (7, None)]
        );
        let item = "pub fn f() {}\n\n    /// ```\n    /// // Miri: a protector.\n    /// #[cfg_attr(not(miri), global_allocator)]\n    /// ```\n    pub struct H;\n    /// ```\n    /// if cfg!(miri) {}\n";
        assert_eq!(
            miri_gated_examples(item),
            vec![(5, Some("Miri: a protector.".to_string())), (9, None)]
        );
        assert_eq!(
            miri_gated_examples("/// ```\nfn f() { cfg!(miri); }\n"),
            vec![]
        );
    }

    #[test]
    fn a_long_stage_must_say_why() {
        let header = |n: usize| vec!["//! text"; n].join("\n");
        assert_eq!(too_long(&header(60), &"todo!()".repeat(12)), None);
        assert_eq!(
            too_long(&header(61), "").unwrap(),
            "the header is 61 lines (over 60): cut it as a teacher would, or say why in a `//! Why this stage is long: ...` line"
        );
        assert!(
            too_long("", &"todo!(\"x\")".repeat(13))
                .unwrap()
                .starts_with("the stub has 13 `todo!`s")
        );
        let noted = format!(
            "{}\n//! Why this stage is long: the diagram is the lesson.",
            header(70)
        );
        assert_eq!(too_long(&noted, ""), None);
    }

    #[test]
    fn shared_parts_are_the_header_and_the_tests_tail() {
        let text = "//! # Title\n//! text\n\npub fn f() {}\n\n#[cfg(all(test, not(mastery_loom)))]\nmod tests {\n}\n";
        let (header, tests) = shared_parts(text);
        assert_eq!(header, "//! # Title\n//! text");
        assert_eq!(
            tests,
            "#[cfg(all(test, not(mastery_loom)))]\nmod tests {\n}"
        );
    }
}
