//! The cargo command behind each check kind, for one stage or for a whole crate at once.
//! Pure: it builds `Job`s; `process` runs them.

use std::path::Path;
use std::time::Duration;

use crate::course::{CheckKind, Course, Stage};
use crate::kind::{Selection, Targets};
use crate::process::Job;

/// Building (not running) a check may take this long at most: a first build of a crate and
/// its dependencies on a slow machine, or Miri's first run.
pub const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);

/// How a run of `kind` selects the tests of `stage` and finds them in its output.
pub fn selection(stage: &Stage, kind: CheckKind) -> Selection {
    kind.selection(stage.module(), &doc_file(stage))
}

/// Doctests are named by their file's path from the workspace root; they are matched by
/// `src/<file name>`, which also finds the tests of a stage whose code lives in a helper crate
/// (a proc-macro's `derive/src/s06_derive.rs`) in the project crate's module of the same name.
fn doc_file(stage: &Stage) -> String {
    let name = stage
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    format!("src/{name}")
}

/// Options for the commands.
#[derive(Clone, Default)]
pub struct Options {
    pub color: bool,
    /// A cargo target directory other than the workspace's own (`dev check`'s copies share
    /// the solutions' build this way).
    pub target_dir: Option<std::path::PathBuf>,
    /// Let panics print their backtraces (`RUST_BACKTRACE` as the caller has it); off by
    /// default, so that a stub's dozen `todo!()`s do not print a dozen backtraces.
    pub backtrace: bool,
}

/// The job that runs `kind` for `stages` (all of one project) in the workspace at `workspace`
/// (the course root, or `solutions/`). One stage gives a filtered run; several give one run of
/// the crate with a filter per stage.
pub fn job(
    course: &Course,
    project: usize,
    stages: &[usize],
    kind: CheckKind,
    workspace: &Path,
    opts: &Options,
) -> Job {
    let package = &course.projects[project].name;
    let color = if opts.color { "always" } else { "never" };
    let mut args: Vec<String> = kind.cargo_args().iter().map(|a| a.to_string()).collect();
    let env = env(course, project, stages, kind, workspace, opts);
    args.extend(["-p".into(), package.clone(), format!("--color={color}")]);
    match kind.targets() {
        Targets::Lib => args.push("--lib".into()),
        Targets::Doc => args.push("--doc".into()),
        Targets::LibAndDoc => {}
    }
    args.push("--".into());
    args.extend(
        stages
            .iter()
            .map(|&s| selection(&course.stages[s], kind).filter),
    );
    args.push(format!("--color={color}"));

    let run_secs: u64 = stages
        .iter()
        .map(|&s| course.stages[s].timeout_secs(kind))
        .fold(0, u64::saturating_add);
    Job {
        program: "cargo".into(),
        args,
        env,
        // A runner started by `cargo run` inherits these; the checks must see the learner's
        // own toolchain choice instead.
        env_remove: crate::process::ENV_REMOVE.map(String::from).to_vec(),
        cwd: workspace.to_path_buf(),
        run_timeout: Duration::from_secs(run_secs.max(1)),
        total_timeout: BUILD_LIMIT.saturating_add(Duration::from_secs(run_secs)),
    }
}

/// The environment of a run of `kind`: its flags and variables, its own target directory if it
/// builds with a cfg of its own, and backtraces only when asked for.
fn env(
    course: &Course,
    project: usize,
    stages: &[usize],
    kind: CheckKind,
    workspace: &Path,
    opts: &Options,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    if kind.takes_miri_flags() {
        // The project's flags, then those of the stages (one stage's, in a run of one).
        let mut flags = course.projects[project].miri_flags.clone();
        for &s in stages {
            for f in &course.stages[s].miri_flags {
                if !flags.contains(f) {
                    flags.push(f.clone());
                }
            }
        }
        if !flags.is_empty() {
            env.push(("MIRIFLAGS".into(), flags.join(" ")));
        }
    }
    if let Some(cfg) = kind.cfg() {
        env.push(("RUSTFLAGS".into(), rustflags_with(cfg)));
    }
    env.extend(
        kind.env()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    if let Some(dir) = kind.own_target_dir() {
        env.push((
            "CARGO_TARGET_DIR".into(),
            own_target_dir(workspace, opts, dir),
        ));
    }
    if !opts.backtrace {
        env.push(("RUST_BACKTRACE".into(), "0".into()));
    }
    if let (Some(dir), None) = (&opts.target_dir, kind.own_target_dir()) {
        env.push(("CARGO_TARGET_DIR".into(), dir.display().to_string()));
    }
    env
}

/// The job that runs the unit tests of `stage` and then its doctests, in one cargo invocation:
/// cargo builds the test harness and the library the doctests link to at the same time, and
/// stops before the doctests when a unit test fails. Each part is judged on its own, by the
/// prefixes of `selection`.
pub fn tests_and_doctests(course: &Course, stage: usize, workspace: &Path, opts: &Options) -> Job {
    let st = &course.stages[stage];
    let mut job = job(
        course,
        st.project,
        &[stage],
        CheckKind::Test,
        workspace,
        opts,
    );
    // The lib's unit tests and its doctests: the course crates have no other targets.
    job.args.retain(|a| a != "--lib");
    let filters = job.args.iter().position(|a| a == "--").map_or(0, |i| i + 1);
    job.args
        .insert(filters + 1, selection(st, CheckKind::Doc).filter);
    let doc = Duration::from_secs(st.timeout_secs(CheckKind::Doc));
    job.run_timeout = job.run_timeout.saturating_add(doc);
    job.total_timeout = job.total_timeout.saturating_add(doc);
    job
}

/// The RUSTFLAGS of a build with `cfg`: the caller's own, plus the cfg.
pub fn rustflags_with(cfg: &str) -> String {
    let rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    format!("{rustflags} --cfg {cfg}").trim().to_string()
}

/// A build with other RUSTFLAGS gets a target directory of its own (`sub`, under the usual
/// one): it keeps the ordinary build from being thrown away at every switch.
fn own_target_dir(workspace: &Path, opts: &Options, sub: &str) -> String {
    let base = opts
        .target_dir
        .clone()
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from))
        .unwrap_or_else(|| workspace.join("target"));
    base.join(sub).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> Course {
        crate::course::test_course(
            r#"[[projects]]
name = "demo"
dir = "exercises/01_demo"
phase = "p"
title = "A"
miri_flags = ["-Zmiri-strict-provenance"]
[[stages]]
name = "a1"
project = "demo"
file = "src/s01_a.rs"
title = "t"
checks = ["test", "doc", "miri", "loom"]
timeout_secs = 7
hints = ["h"]
[[stages]]
name = "a2"
project = "demo"
file = "src/s02_b.rs"
title = "t"
checks = ["test"]
hints = ["h"]
"#,
        )
    }

    #[test]
    fn a_stage_test_run_is_filtered_by_module() {
        let c = course();
        let job = job(
            &c,
            0,
            &[0],
            CheckKind::Test,
            Path::new("/c"),
            &Options::default(),
        );
        assert_eq!(
            job.display(),
            "RUST_BACKTRACE=0 cargo test -p demo --color=never --lib -- s01_a:: --color=never"
        );
        assert_eq!(job.run_timeout, Duration::from_secs(7));
    }

    #[test]
    fn a_crate_run_has_one_filter_per_stage_and_their_summed_timeouts() {
        let c = course();
        let job = job(
            &c,
            0,
            &[0, 1],
            CheckKind::Test,
            Path::new("/c"),
            &Options {
                color: true,
                ..Options::default()
            },
        );
        assert_eq!(
            job.display(),
            "RUST_BACKTRACE=0 cargo test -p demo --color=always --lib -- s01_a:: s02_b:: --color=always"
        );
        assert_eq!(job.run_timeout, Duration::from_secs(67));
    }

    #[test]
    fn doctests_are_filtered_by_file() {
        let c = course();
        let job = job(
            &c,
            0,
            &[0],
            CheckKind::Doc,
            Path::new("/c"),
            &Options::default(),
        );
        assert_eq!(
            job.display(),
            "RUST_BACKTRACE=0 cargo test -p demo --color=never --doc -- src/s01_a.rs --color=never"
        );
        assert_eq!(
            selection(&c.stages[0], CheckKind::Doc).prefix,
            "src/s01_a.rs - "
        );
    }

    #[test]
    fn tests_and_doctests_run_in_one_invocation_with_both_filters() {
        let c = course();
        let job = tests_and_doctests(&c, 0, Path::new("/c"), &Options::default());
        assert_eq!(
            job.display(),
            "RUST_BACKTRACE=0 cargo test -p demo --color=never -- s01_a:: src/s01_a.rs --color=never"
        );
        assert_eq!(job.run_timeout, Duration::from_secs(14), "both limits");
    }

    #[test]
    fn miri_gets_the_projects_flags_and_loom_its_cfg() {
        let c = course();
        let miri = job(
            &c,
            0,
            &[0],
            CheckKind::Miri,
            Path::new("/c"),
            &Options::default(),
        );
        assert_eq!(
            miri.display(),
            "MIRIFLAGS=-Zmiri-strict-provenance RUST_BACKTRACE=0 cargo +nightly miri test -p demo --color=never -- s01_a --color=never",
            "Miri runs the unit tests and the doctests of the stage"
        );
        assert_eq!(
            miri.run_timeout,
            Duration::from_secs(300),
            "a stage's 7 s limit is for its native tests: Miri keeps its default"
        );
        let loom = job(
            &c,
            0,
            &[0],
            CheckKind::Loom,
            Path::new("/c"),
            &Options::default(),
        );
        assert!(
            loom.env
                .iter()
                .any(|(k, v)| k == "RUSTFLAGS" && v.ends_with("--cfg mastery_loom"))
        );
        assert!(
            loom.env
                .iter()
                .any(|(k, v)| k == "LOOM_MAX_PREEMPTIONS" && v == "2")
        );
        assert!(loom.args.contains(&"--release".to_string()));
        assert!(
            loom.env
                .iter()
                .any(|(k, v)| k == "LOOM_LOCATION" && v == "1")
        );
        let traced = job(
            &c,
            0,
            &[0],
            CheckKind::Test,
            Path::new("/c"),
            &Options {
                backtrace: true,
                ..Options::default()
            },
        );
        assert!(!traced.env.iter().any(|(k, _)| k == "RUST_BACKTRACE"));
    }
}
