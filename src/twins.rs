//! The files an exercise crate shares with its solution twin: everything but the stage files
//! (compared by header and tests in `dev`), the exercise's `README.md`, and the lint
//! allowances of the stub's `src/lib.rs`. COURSE_FORMAT.md states the rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::course::slash;

/// Files of `dir` (relative to it), `target/` excluded.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == "target" {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, out);
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.insert(rel.to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// `lib.rs` without what only a stub needs: `#![allow(...)]` attributes (on one line or
/// several), plain `//` comments and blank lines.
fn lib_core(text: &str) -> Vec<&str> {
    let mut in_allow = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if in_allow || line.starts_with("#![allow(") {
            in_allow = !line.ends_with(")]");
            continue;
        }
        let comment =
            line.starts_with("//") && !line.starts_with("///") && !line.starts_with("//!");
        if !line.is_empty() && !comment {
            out.push(line);
        }
    }
    out
}

/// Each way the exercise crate at `exercise` and the solution crate at `solution` (both
/// relative to `root`) differ beyond their stage files (`stage_files`, relative to the crate),
/// as a sentence that names the file.
pub fn differences(
    root: &Path,
    exercise: &Path,
    solution: &Path,
    stage_files: &[PathBuf],
) -> Vec<String> {
    let (ex, sol) = (files(&root.join(exercise)), files(&root.join(solution)));
    let mut out = Vec::new();
    for file in ex.union(&sol) {
        if stage_files.contains(file) || file == Path::new("README.md") {
            continue;
        }
        let (e, s) = (exercise.join(file), solution.join(file));
        match (ex.contains(file), sol.contains(file)) {
            (true, false) => out.push(format!(
                "{}: not in the solution crate ({} is missing)",
                slash(&e),
                slash(&s)
            )),
            (false, true) => out.push(format!(
                "{}: not in the exercise crate ({} is missing); the learner's tests need it too",
                slash(&s),
                slash(&e)
            )),
            _ => {
                let (a, b) = (
                    std::fs::read(root.join(&e)).unwrap_or_default(),
                    std::fs::read(root.join(&s)).unwrap_or_default(),
                );
                let same = if file == Path::new("src/lib.rs") {
                    lib_core(&String::from_utf8_lossy(&a)) == lib_core(&String::from_utf8_lossy(&b))
                } else {
                    a == b
                };
                if !same {
                    out.push(format!(
                        "{}: differs from {} (only stage files may differ)",
                        slash(&e),
                        slash(&s)
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_files_must_match_stage_files_and_lint_allowances_may_differ() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        for tree in ["exercises/01_a", "solutions/01_a"] {
            write(&format!("{tree}/Cargo.toml"), "[package]\n");
            write(
                &format!("{tree}/src/test_support.rs"),
                "pub fn helper() {}\n",
            );
            write(&format!("{tree}/target/junk"), tree);
        }
        write("exercises/01_a/README.md", "# A\n");
        write("exercises/01_a/src/s01_x.rs", "todo!()\n");
        write("solutions/01_a/src/s01_x.rs", "42\n");
        write(
            "exercises/01_a/src/lib.rs",
            "//! A\n// The stubs leave things unused.\n#![allow(dead_code)]\n#![allow(\n    unused_mut,\n)]\n\npub mod s01_x;\n",
        );
        write("solutions/01_a/src/lib.rs", "//! A\npub mod s01_x;\n");
        let stages = [PathBuf::from("src/s01_x.rs")];
        let (ex, sol) = (Path::new("exercises/01_a"), Path::new("solutions/01_a"));
        assert_eq!(differences(root, ex, sol, &stages), Vec::<String>::new());

        write(
            "solutions/01_a/src/test_support.rs",
            "pub fn helper() { changed() }\n",
        );
        write("solutions/01_a/src/extra.rs", "\n");
        write(
            "solutions/01_a/src/lib.rs",
            "//! A\npub mod s01_x;\nmod extra;\n",
        );
        assert_eq!(
            differences(root, ex, sol, &stages),
            [
                "solutions/01_a/src/extra.rs: not in the exercise crate (exercises/01_a/src/extra.rs is missing); the learner's tests need it too",
                "exercises/01_a/src/lib.rs: differs from solutions/01_a/src/lib.rs (only stage files may differ)",
                "exercises/01_a/src/test_support.rs: differs from solutions/01_a/src/test_support.rs (only stage files may differ)",
            ]
        );
    }
}
