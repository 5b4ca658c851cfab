//! `stubs.lock`: the true original of every stub, restorable whatever the learner did since
//! (edits, commits, a rebuilt runner). It maps each stage file to the git blob id of its shipped
//! stub; git keeps that blob in every clone of the course, so `git cat-file blob ID` returns
//! the original even after the learner committed over it. `mastery dev lock` writes it,
//! `mastery dev check` proves it current, `mastery reset` restores from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::course::Course;
use crate::process::{self, Job};

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
pub fn blob(root: &Path, id: &str) -> Result<Vec<u8>> {
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

/// A stage file's key in the lock: its path with `/` on every platform, so that a lock written
/// on Linux is read on Windows (where the stage's path is joined with a `\\`) and the other way
/// round.
pub fn key(stage_file: &Path) -> String {
    crate::course::slash(stage_file)
}

pub fn lock_entries(course: &Course) -> Result<BTreeMap<String, String>> {
    let files: Vec<PathBuf> = (0..course.stages.len())
        .map(|s| course.stage_path(s))
        .collect();
    let ids = blob_ids(&course.root, &files)?;
    Ok(files.iter().map(|f| key(f)).zip(ids).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_the_same_on_every_platform() {
        let course = crate::course::test_course(
            "[[projects]]\nname = \"demo\"\ndir = \"exercises/01_demo\"\nphase = \"p\"\ntitle = \"A\"\n[[stages]]\nname = \"a\"\nproject = \"demo\"\nfile = \"src/s01_a.rs\"\ntitle = \"t\"\nchecks = [\"test\"]\nhints = [\"h\"]\n",
        );
        assert_eq!(key(&course.stage_path(0)), "exercises/01_demo/src/s01_a.rs");
    }
}
