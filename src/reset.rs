//! `mastery reset STAGE`: the stub restored from its git blob (`lock`), the learner's version
//! copied to `.mastery/backups/` first.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::app::App;
use crate::lock::{LOCK_FILE, blob, read_lock};
use crate::state::STATE_DIR;

pub fn cmd_reset(app: &mut App, name: &str, yes: bool) -> Result<ExitCode> {
    let stage = app.stage_arg(Some(name))?;
    let root = app.root().to_path_buf();
    let rel = app.course.stage_path(stage);
    let lock = read_lock(&root)?;
    let id = lock.get(&crate::lock::key(&rel)).with_context(|| format!("{LOCK_FILE} has no entry for {}: run `mastery dev lock` (course authors) or restore {LOCK_FILE} with git", rel.display()))?;
    let original = blob(&root, id)?;
    let current = std::fs::read(root.join(&rel)).ok();
    if current.as_deref() == Some(original.as_slice()) {
        println!(
            "{} is already the original stub; nothing to do.",
            rel.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !yes && !confirmed(&rel)? {
        println!("Nothing changed.");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(current) = current {
        let backup = back_up(&root, &app.course.stages[stage].name, &rel, &current)?;
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

/// Asks at the terminal whether to overwrite `rel`; refuses without a terminal.
fn confirmed(rel: &Path) -> Result<bool> {
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
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Saves the learner's `current` version of stage `name` (file `rel`) under
/// `.mastery/backups/`, named by the stage and the time; returns its path.
fn back_up(root: &Path, name: &str, rel: &Path, current: &[u8]) -> Result<PathBuf> {
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
    let backup = backups.join(format!("{name}-{stamp}-{file}"));
    std::fs::write(&backup, current)
        .with_context(|| format!("cannot write the backup {}", backup.display()))?;
    Ok(backup)
}
