//! `mastery bench PROJECT [--solution]`: the project's benchmark crate, in release mode, on the
//! learner's code or on the reference solution.
//!
//! The bench crate depends on `../../exercises/NN_name` (and may depend on other exercise
//! crates, as the capstone's does on the runtime). For `--solution` a copy of its manifest is
//! written under `benches/target/` with every `../../exercises/X` path pointed at `solutions/X`
//! (one crate of each name in the graph, as the solution crates depend on each other) and the
//! sources left where they are, so both builds use the same code and the same lock file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::course::Course;
use crate::process::{self, Job};

pub fn cmd_bench(course: &Course, name: &str, solution: bool) -> Result<ExitCode> {
    let project = &course.projects[course.find_project(name).map_err(anyhow::Error::msg)?];
    let bench_dir = course.root.join(project.bench_dir());
    let manifest = bench_dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "project `{}` has no benchmark crate ({} is missing)",
            project.name,
            manifest.display()
        );
    }
    let manifest = if solution {
        solution_manifest(&course.root, &bench_dir, project.dir_name())?
    } else {
        manifest
    };
    println!(
        "Benchmarking {} ({}), release build:",
        project.title,
        if solution {
            "reference solution"
        } else {
            "your code"
        }
    );
    let job = bench_job(&course.root, &manifest);
    let done = process::run(
        &job,
        &mut |line| println!("{line}"),
        &AtomicBool::new(false),
    )
    .with_context(|| {
        format!(
            "cannot run cargo: is it installed and on your PATH? (`{}` checks)",
            crate::term::cmd("doctor")
        )
    })?;
    if let Some(secs) = done.timed_out() {
        bail!("the benchmark took more than {secs} s and was stopped");
    }
    Ok(if done.exit_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `cargo run --release` of the bench crate at `manifest`, in the benches' target directory.
fn bench_job(root: &Path, manifest: &Path) -> Job {
    let manifest = manifest.display().to_string();
    Job::new(
        "cargo",
        ["run", "--release", "--quiet", "--manifest-path", &manifest],
        root,
        Duration::from_secs(60 * 60),
    )
    .env(
        "CARGO_TARGET_DIR",
        &root.join("benches").join("target").display().to_string(),
    )
}

/// A manifest for the bench crate with its dependencies on exercise crates pointed at the
/// solution crates.
fn solution_manifest(root: &Path, bench_dir: &Path, dir_name: &str) -> Result<PathBuf> {
    let text = std::fs::read_to_string(bench_dir.join("Cargo.toml"))
        .context("cannot read the bench manifest")?;
    let from = format!("../../exercises/{dir_name}");
    if !text.contains(&from) {
        bail!(
            "the bench manifest of {dir_name} does not depend on `{from}` (see COURSE_FORMAT.md)"
        );
    }
    let mut doc: toml::Table = text
        .parse()
        .context("the bench manifest is not valid TOML")?;
    let abs = |rel: &str| bench_dir.join(rel).display().to_string();
    let src = bench_dir.join("src");
    // Sources stay where they are: name the targets by absolute path.
    let main = src.join("main.rs");
    let mut bin = toml::Table::new();
    bin.insert("name".into(), doc["package"]["name"].clone());
    bin.insert("path".into(), main.display().to_string().into());
    doc.insert("bin".into(), vec![toml::Value::Table(bin)].into());
    doc.insert("workspace".into(), toml::Table::new().into());
    if let Some(pkg) = doc.get_mut("package").and_then(|p| p.as_table_mut()) {
        pkg.insert("autobins".into(), false.into());
    }
    for section in ["dependencies", "dev-dependencies"] {
        if let Some(deps) = doc.get_mut(section).and_then(|d| d.as_table_mut()) {
            for (_, dep) in deps.iter_mut() {
                if let Some(path) = dep.get_mut("path") {
                    let p = path.as_str().unwrap_or_default().to_string();
                    let new = if let Some(crate_dir) = p.strip_prefix("../../exercises/") {
                        root.join("solutions").join(crate_dir).display().to_string()
                    } else {
                        abs(&p)
                    };
                    *path = new.into();
                }
            }
        }
    }
    let out = root
        .join("benches")
        .join("target")
        .join("mastery-solution")
        .join(dir_name);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join("Cargo.toml"), toml::to_string(&doc)?)
        .context("cannot write the solution bench manifest")?;
    if let Ok(lock) = std::fs::read(root.join("benches").join("Cargo.lock")) {
        let _ = std::fs::write(out.join("Cargo.lock"), lock);
    }
    Ok(out.join("Cargo.toml"))
}
