//! `mastery reset STAGE` and `mastery dev lock`: the true original of every stub, restorable
//! whatever the learner did since (edits, commits, a rebuilt runner).
//!
//! `stubs.lock` maps each stage file to the git blob id of its shipped stub. Git keeps that
//! blob in every clone of the course, so `git cat-file blob ID` returns the original even after
//! the learner committed over it. The learner's version is copied to `.mastery/backups/` first.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::app::App;
use crate::course::Course;
use crate::process::{self, Job};
use crate::state::STATE_DIR;

pub const LOCK_FILE: &str = "stubs.lock";

/// The lock file: stage file (relative to the course root) to git blob id.
pub fn read_lock(root: &Path) -> Result<BTreeMap<String, String>> {
    let path = root.join(LOCK_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: the course ships it; restore it with `git checkout {LOCK_FILE}`",
            path.display()
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is corrupt ({}); restore it with `git checkout {LOCK_FILE}`",
            path.display(),
            e.message().trim()
        )
    })
}

/// The git blob ids of files' contents, as `git hash-object` computes them, in one git call.
pub fn blob_ids(root: &Path, files: &[PathBuf]) -> Result<Vec<String>> {
    let mut args: Vec<String> = ["hash-object", "--no-filters", "--"]
        .map(String::from)
        .to_vec();
    args.extend(files.iter().map(|f| f.display().to_string()));
    let out = git(root, args)
        .context("cannot run git: install git to use `mastery reset` and `mastery dev lock`")?;
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if !out.success || ids.len() != files.len() {
        bail!(
            "git hash-object failed for the stage files: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(ids)
}

/// Runs git in the course, through `process` like every child, with a minute to answer.
fn git<S: Into<String>>(
    root: &Path,
    args: impl IntoIterator<Item = S>,
) -> Result<process::Captured> {
    let job = Job::new("git", args, root, Duration::from_secs(60));
    match process::capture(&job)? {
        Some(out) => Ok(out),
        None => bail!(
            "`{}` took more than a minute and was stopped",
            job.display()
        ),
    }
}

/// The contents of a blob, from the course's git history.
fn blob(root: &Path, id: &str) -> Result<Vec<u8>> {
    let out = git(root, ["cat-file", "blob", id])
        .context("cannot run git: `mastery reset` restores the original stubs from the course's git history, so it needs git")?;
    if !out.success {
        bail!(
            "the original stub (git blob {id}) is not in this checkout's git history. Was the course downloaded without git? Clone it with git to use reset."
        );
    }
    Ok(out.stdout)
}

/// `mastery dev lock`: records the blob id of every stub.
pub fn cmd_lock(course: &Course) -> Result<ExitCode> {
    let map = lock_entries(course)?;
    let mut text = String::from(
        "# The git blob id of every shipped stub: `mastery reset` restores from these.\n# Written by `mastery dev lock`; `mastery dev check` proves it current.\n",
    );
    text.push_str(&toml::to_string(&map)?);
    std::fs::write(course.root.join(LOCK_FILE), text)
        .with_context(|| format!("cannot write {LOCK_FILE}"))?;
    println!(
        "Wrote {LOCK_FILE} ({} stubs). Commit it with the stubs.",
        map.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn lock_entries(course: &Course) -> Result<BTreeMap<String, String>> {
    let files: Vec<PathBuf> = (0..course.stages.len())
        .map(|s| course.stage_path(s))
        .collect();
    let ids = blob_ids(&course.root, &files)?;
    Ok(files
        .iter()
        .map(|f| f.display().to_string())
        .zip(ids)
        .collect())
}

pub fn cmd_reset(app: &mut App, name: &str, yes: bool) -> Result<ExitCode> {
    let stage = app.stage_arg(Some(name))?;
    let root = app.root().to_path_buf();
    let rel = app.course.stage_path(stage);
    let lock = read_lock(&root)?;
    let id = lock.get(&rel.display().to_string()).with_context(|| format!("{LOCK_FILE} has no entry for {}: run `mastery dev lock` (course authors) or restore {LOCK_FILE} with git", rel.display()))?;
    let original = blob(&root, id)?;
    let current = std::fs::read(root.join(&rel)).ok();
    if current.as_deref() == Some(original.as_slice()) {
        println!(
            "{} is already the original stub; nothing to do.",
            rel.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "reset overwrites {} (after a backup); pass --yes to confirm when not at a terminal",
                rel.display()
            );
        }
        print!(
            "Restore the original stub of {}? Your version is saved under {STATE_DIR}/backups/ first. [y/N] ",
            rel.display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    if let Some(current) = current {
        let backups = root.join(STATE_DIR).join("backups");
        std::fs::create_dir_all(&backups)
            .with_context(|| format!("cannot create {}", backups.display()))?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let file = rel
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("stage.rs");
        let backup = backups.join(format!("{}-{stamp}-{file}", app.course.stages[stage].name));
        std::fs::write(&backup, current)
            .with_context(|| format!("cannot write the backup {}", backup.display()))?;
        println!(
            "Saved your version to {}.",
            backup.strip_prefix(&root).unwrap_or(&backup).display()
        );
    }
    std::fs::write(root.join(&rel), original)
        .with_context(|| format!("cannot write {}", rel.display()))?;
    let name = app.course.stages[stage].name.clone();
    app.state.passed.remove(&name);
    app.save()?;
    println!("Restored the original stub of {}.", rel.display());
    Ok(ExitCode::SUCCESS)
}
