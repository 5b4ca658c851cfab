//! The learner's progress, kept in `.mastery/state.toml`: the current stage, the stages passed,
//! the hint levels seen and the optional projects skipped. Written atomically (a temporary
//! file renamed over the old one). Unknown stage names are kept but ignored, so reordering or
//! renaming stages never loses progress; a corrupt file is moved aside, never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::course::Course;

pub const STATE_DIR: &str = ".mastery";
pub const STATE_FILE: &str = "state.toml";

#[derive(Default, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The stage the watch loop works on.
    pub current: Option<String>,
    /// Stages whose checks all passed, by name.
    pub passed: BTreeSet<String>,
    /// The number of hint levels shown, by stage name.
    pub hints_seen: BTreeMap<String, usize>,
    /// Optional projects the learner chose to skip, by project name.
    pub skipped: BTreeSet<String>,
}

/// What loading found, besides the state itself.
pub struct Loaded {
    pub state: State,
    /// Set when the file was unreadable and moved aside: say so, then recover by checking.
    pub warning: Option<String>,
}

pub fn state_path(root: &Path) -> PathBuf {
    root.join(STATE_DIR).join(STATE_FILE)
}

/// Reads the state; a missing file is a fresh start, a corrupt one is moved aside.
pub fn load(root: &Path) -> Loaded {
    let path = state_path(root);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Loaded {
                state: State::default(),
                warning: None,
            };
        }
        Err(e) => {
            return Loaded {
                state: State::default(),
                warning: Some(format!(
                    "cannot read {}: {e}; starting from an empty progress",
                    path.display()
                )),
            };
        }
    };
    // A file `save` wrote is never empty (it starts with a comment): an empty one was cut short
    // (a full disk, a crash), and the hints seen and the stages passed are lost with it.
    let parsed = std::str::from_utf8(&text)
        .map_err(|e| e.to_string())
        .and_then(|t| {
            if t.trim().is_empty() {
                Err("it is empty".to_string())
            } else {
                toml::from_str::<State>(t).map_err(|e| e.message().to_string())
            }
        });
    match parsed {
        Ok(state) => Loaded {
            state,
            warning: None,
        },
        Err(reason) => {
            let aside = free_name(&path.with_extension(format!("toml.corrupt-{}", unix_time())));
            let moved = fs::rename(&path, &aside);
            let where_ = match moved {
                Ok(()) => format!("moved it to {}", aside.display()),
                Err(e) => format!("could not move it aside ({e})"),
            };
            Loaded {
                state: State::default(),
                warning: Some(format!(
                    "the progress file {} is corrupt ({}); {where_}. Run `{}` to recover your progress by checking every stage.",
                    path.display(),
                    reason.trim(),
                    crate::term::cmd("verify")
                )),
            }
        }
    }
}

/// `path`, or `path-2`, `path-3`... if it exists: a second backup never replaces the first.
fn free_name(path: &Path) -> PathBuf {
    let mut candidate = path.to_path_buf();
    let mut n = 1;
    while candidate.exists() {
        n += 1;
        candidate = PathBuf::from(format!("{}-{n}", path.display()));
    }
    candidate
}

/// Fails, saying what to do, when the progress could not be saved: the state file is a
/// directory or read-only, or its directory cannot be written. Commands that save call this
/// before they run anything, so a run's verdict is never lost to a failed save.
pub fn check_writable(root: &Path) -> Result<()> {
    let path = state_path(root);
    let dir = path.parent().expect("the state file has a directory");
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} is not a directory, so your progress cannot be saved: move it away, then try again",
            dir.display()
        );
    }
    match fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_file() => bail!(
            "{} is not a file, so your progress cannot be saved: move it away (mastery starts a fresh one), then try again",
            path.display()
        ),
        Ok(meta) if meta.permissions().readonly() => bail!(
            "{} is read-only, so your progress cannot be saved: make it writable (`chmod u+w {}`), then try again",
            path.display(),
            path.display()
        ),
        _ => {}
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let probe = dir.join(format!(".{STATE_FILE}.{}.probe", std::process::id()));
    fs::File::create(&probe)
        .with_context(|| {
            format!(
                "cannot write in {}, so your progress cannot be saved: make it writable, then try again",
                dir.display()
            )
        })
        .map(drop)?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Writes the state atomically: a reader sees the old file or the new one, never half of one.
/// On failure the temporary file is removed.
pub fn save(root: &Path, state: &State) -> Result<()> {
    let path = state_path(root);
    let dir = path.parent().expect("the state file has a directory");
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = format!(
        "# mastery progress. Safe to delete (you will start over); `mastery verify` rebuilds it.\n{}",
        toml::to_string(state).context("cannot serialize the progress")?
    );
    let tmp = dir.join(format!(".{STATE_FILE}.{}.tmp", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .with_context(|| format!("cannot write {}", tmp.display()))
        .and_then(|()| {
            fs::rename(&tmp, &path).with_context(|| {
                format!(
                    "cannot replace {} (your progress is not saved)",
                    path.display()
                )
            })
        });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl State {
    pub fn is_passed(&self, course: &Course, stage: usize) -> bool {
        self.passed.contains(&course.stages[stage].name)
    }

    pub fn is_skipped(&self, course: &Course, stage: usize) -> bool {
        let project = course.project_of(stage);
        project.optional && self.skipped.contains(&project.name)
    }

    /// The index of the current stage: the saved one if it still exists, else the first stage
    /// still to do.
    pub fn current_index(&self, course: &Course) -> Option<usize> {
        self.current
            .as_deref()
            .and_then(|name| course.stage_index(name))
            .or_else(|| self.next_pending(course, None))
    }

    /// The first stage after `after` (or from the start) that is neither passed nor skipped;
    /// wraps around to an earlier pending stage when there is none after it.
    pub fn next_pending(&self, course: &Course, after: Option<usize>) -> Option<usize> {
        let start = after.map_or(0, |i| i + 1);
        let pending = |i: &usize| !self.is_passed(course, *i) && !self.is_skipped(course, *i);
        (start..course.stages.len())
            .find(pending)
            .or_else(|| (0..start).find(pending))
    }

    /// True when every stage of every required (and unskipped) project has passed.
    pub fn course_finished(&self, course: &Course) -> bool {
        (0..course.stages.len()).all(|i| {
            self.is_passed(course, i) || self.is_skipped(course, i) || course.project_of(i).optional
        })
    }

    /// Passed and total stages of a set of stages.
    pub fn count(&self, course: &Course, stages: impl Iterator<Item = usize>) -> (usize, usize) {
        stages.fold((0, 0), |(done, total), i| {
            (done + usize::from(self.is_passed(course, i)), total + 1)
        })
    }

    pub fn set_current(&mut self, course: &Course, stage: Option<usize>) {
        self.current = stage.map(|i| course.stages[i].name.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> Course {
        crate::course::test_course(
            r#"[[projects]]
name = "a"
dir = "exercises/01_a"
phase = "p"
title = "A"
[[projects]]
name = "b"
dir = "exercises/02_b"
phase = "p"
title = "B"
optional = true
[[stages]]
name = "a1"
project = "a"
file = "src/s01.rs"
title = "t"
checks = ["test"]
hints = ["h"]
[[stages]]
name = "a2"
project = "a"
file = "src/s02.rs"
title = "t"
checks = ["test"]
hints = ["h"]
[[stages]]
name = "b1"
project = "b"
file = "src/s01.rs"
title = "t"
checks = ["test"]
hints = ["h"]
"#,
        )
    }

    #[test]
    fn a_fresh_state_starts_at_the_first_stage() {
        assert_eq!(State::default().current_index(&course()), Some(0));
    }

    #[test]
    fn next_pending_skips_passed_stages_and_skipped_projects() {
        let c = course();
        let mut s = State::default();
        s.passed.insert("a2".into());
        assert_eq!(s.next_pending(&c, Some(0)), Some(2));
        s.skipped.insert("b".into());
        assert_eq!(
            s.next_pending(&c, Some(0)),
            Some(0),
            "only a1 is left: wraps around to it"
        );
        s.passed.insert("a1".into());
        assert_eq!(s.next_pending(&c, Some(0)), None);
    }

    #[test]
    fn the_course_is_finished_without_optional_projects() {
        let c = course();
        let mut s = State::default();
        s.passed.extend(["a1".to_string()]);
        assert!(!s.course_finished(&c));
        s.passed.insert("a2".into());
        assert!(s.course_finished(&c), "b is optional");
    }

    #[test]
    fn unknown_names_in_the_state_are_ignored() {
        let c = course();
        let s = State {
            current: Some("renamed-away".into()),
            ..State::default()
        };
        assert_eq!(s.current_index(&c), Some(0));
    }

    #[test]
    fn saving_and_loading_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State {
            current: Some("a2".into()),
            ..State::default()
        };
        s.passed.insert("a1".into());
        s.hints_seen.insert("a2".into(), 2);
        save(dir.path(), &s).unwrap();
        let loaded = load(dir.path());
        assert!(loaded.warning.is_none());
        assert_eq!(loaded.state, s);
    }

    #[test]
    fn an_empty_state_file_is_moved_aside_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(STATE_DIR)).unwrap();
        fs::write(state_path(dir.path()), "").unwrap();
        let warning = load(dir.path()).warning.expect("a warning");
        assert!(warning.contains("is corrupt (it is empty)"), "{warning}");
        assert!(!state_path(dir.path()).exists());
    }

    #[test]
    fn two_corruptions_in_one_second_keep_both_backups() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(STATE_DIR)).unwrap();
        for text in ["first = [[[", "second = [[["] {
            fs::write(state_path(dir.path()), text).unwrap();
            assert!(load(dir.path()).warning.is_some());
        }
        let mut kept: Vec<String> = fs::read_dir(dir.path().join(STATE_DIR))
            .unwrap()
            .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        kept.sort();
        assert_eq!(kept, ["first = [[[", "second = [[["]);
    }

    #[test]
    fn a_failed_save_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(state_path(dir.path())).unwrap();
        let err = save(dir.path(), &State::default()).unwrap_err();
        assert!(format!("{err:#}").contains("cannot replace"), "{err:#}");
        let names: Vec<_> = fs::read_dir(dir.path().join(STATE_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [STATE_FILE], "only the directory in the way is left");
        let err = check_writable(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not a file"), "{err}");
    }

    #[test]
    fn a_corrupt_state_file_is_moved_aside_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(STATE_DIR)).unwrap();
        fs::write(state_path(dir.path()), "current = [[[").unwrap();
        let loaded = load(dir.path());
        assert_eq!(loaded.state, State::default());
        let warning = loaded.warning.unwrap();
        assert!(warning.contains("is corrupt"), "{warning}");
        assert!(warning.contains(" verify` to recover"), "{warning}");
        assert!(
            !state_path(dir.path()).exists(),
            "the corrupt file is moved aside"
        );
        let aside = fs::read_dir(dir.path().join(STATE_DIR)).unwrap().count();
        assert_eq!(aside, 1, "the corrupt file is kept, not deleted");
    }
}
