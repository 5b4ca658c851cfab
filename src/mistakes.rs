//! The mistakes corpus: `mistakes/<project>.toml`, realistic wrong solutions of each stage (the
//! reference solution with one bug), each with the check that must reject it. Reading and
//! validating the files and applying a mistake's edits are pure; `dev` runs them.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::course::{CheckKind, Course};

/// The corpus directory, at the course root.
pub const DIR: &str = "mistakes";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(default)]
    mistakes: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    stage: Spanned<String>,
    name: Spanned<String>,
    bug: String,
    caught_by: Spanned<String>,
    expect: String,
    native_race: Option<Spanned<String>>,
    file: Option<String>,
    edits: Spanned<Vec<Edit>>,
}

/// One replacement: `find` must occur exactly once in the file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub find: String,
    pub replace: String,
}

/// One wrong solution of a stage.
#[derive(Clone, Debug)]
pub struct Mistake {
    /// Index into `Course::stages`.
    pub stage: usize,
    pub name: String,
    /// The bug, in one line.
    pub bug: String,
    /// The first of the stage's checks that must fail.
    pub caught_by: CheckKind,
    /// Text the failing check's output must contain.
    pub expect: String,
    /// For a race that real threads can hit too: the `test` check may reject the mistake
    /// before `caught_by` does, and then its output must contain this text.
    pub native_race: Option<String>,
    /// The file edited, relative to the solution crate (the stage's file by default).
    pub file: PathBuf,
    pub edits: Vec<Edit>,
    /// Where it is written: `mistakes/arena.toml:12`.
    pub origin: String,
}

impl Mistake {
    /// `arena-chunk/bounds-before-align`
    pub fn id(&self, course: &Course) -> String {
        format!("{}/{}", course.stages[self.stage].name, self.name)
    }
}

/// An error in a corpus file, with the line it concerns.
#[derive(Debug, PartialEq, Eq)]
pub struct CorpusError(pub String);

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The smallest number of mistakes a stage must have, as info.toml's `mistakes_per_stage`
/// says: the second number where Miri or loom judge the stage (`unsafe` code, atomics).
pub fn minimum(course: &Course, stage: usize) -> usize {
    let st = &course.stages[stage];
    let [plain, checked] = course.mistakes_per_stage.unwrap_or([0, 0]);
    if st.checks.iter().any(|k| k.has_findings()) {
        checked
    } else {
        plain
    }
}

/// Reads every `mistakes/*.toml` of the course. A missing directory is an empty corpus.
pub fn load(course: &Course) -> Result<Vec<Mistake>, Vec<CorpusError>> {
    let dir = course.root.join(DIR);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(_) => return Ok(Vec::new()),
    };
    files.sort();
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let shown = Path::new(DIR).join(path.file_name().unwrap_or_default());
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(course, &shown, &text) {
                Ok(mut m) => all.append(&mut m),
                Err(mut e) => errors.append(&mut e),
            },
            Err(e) => errors.push(CorpusError(format!(
                "{}: cannot read: {e}",
                shown.display()
            ))),
        }
    }
    let mut seen = HashSet::new();
    for m in &all {
        if !seen.insert(m.id(course)) {
            errors.push(CorpusError(format!(
                "{}: a second mistake named `{}` for stage {}",
                m.origin, m.name, course.stages[m.stage].name
            )));
        }
    }
    if errors.is_empty() {
        Ok(all)
    } else {
        Err(errors)
    }
}

/// Parses one corpus file (`shown` is its path for messages). Pure.
pub fn parse(course: &Course, shown: &Path, text: &str) -> Result<Vec<Mistake>, Vec<CorpusError>> {
    let at = |offset: usize| {
        let line = text[..offset.min(text.len())].matches('\n').count() + 1;
        format!("{}:{line}", shown.display())
    };
    let file: CorpusFile = toml::from_str(text).map_err(|e| {
        let place = e
            .span()
            .map_or(shown.display().to_string(), |s| at(s.start));
        vec![CorpusError(format!("{place}: {}", e.message().trim_end()))]
    })?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for entry in file.mistakes {
        match mistake(course, entry, &at) {
            Ok(m) => out.push(m),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The check a mistake names, one of its stage's.
fn caught_by(st: &crate::course::Stage, entry: &Spanned<String>) -> Result<CheckKind, String> {
    let Some(kind) = CheckKind::parse(entry.get_ref()) else {
        return Err(format!(
            "unknown check `{}`; the checks are {}",
            entry.get_ref(),
            CheckKind::names_in_words()
        ));
    };
    if !st.has_check(kind) {
        let has: Vec<&str> = st.checks.iter().map(|k| k.name()).collect();
        return Err(format!(
            "stage {} has no `{kind}` check (it has {})",
            st.name,
            has.join(", ")
        ));
    }
    Ok(kind)
}

/// One entry of a corpus file, checked against the course; `at` names the file and line of an
/// offset.
fn mistake(
    course: &Course,
    entry: Entry,
    at: &dyn Fn(usize) -> String,
) -> Result<Mistake, CorpusError> {
    let fail = |span: std::ops::Range<usize>, msg: String| {
        CorpusError(format!("{}: {msg}", at(span.start)))
    };
    let Some(stage) = course.stage_index(entry.stage.get_ref()) else {
        return Err(fail(
            entry.stage.span(),
            format!("no stage named `{}` in info.toml", entry.stage.get_ref()),
        ));
    };
    let st = &course.stages[stage];
    let name = entry.name.get_ref();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(fail(
            entry.name.span(),
            format!("the name `{name}` is not kebab-case (a-z, 0-9, -)"),
        ));
    }
    let caught_by = caught_by(st, &entry.caught_by).map_err(|e| fail(entry.caught_by.span(), e))?;
    if entry.edits.get_ref().is_empty() {
        return Err(fail(
            entry.edits.span(),
            format!("mistake `{name}` has no edits"),
        ));
    }
    if entry.expect.trim().is_empty() {
        return Err(fail(
            entry.name.span(),
            format!("mistake `{name}` has an empty `expect`"),
        ));
    }
    let native_race = match entry.native_race {
        None => None,
        Some(text) => {
            let span = text.span();
            let text = text.into_inner();
            if text.trim().is_empty() {
                return Err(fail(
                    span,
                    format!("mistake `{name}` has an empty `native_race`"),
                ));
            }
            let at = |kind| st.checks.iter().position(|k| *k == kind);
            if !matches!((at(CheckKind::Test), at(caught_by)), (Some(t), Some(c)) if t < c) {
                return Err(fail(
                    span,
                    format!(
                        "mistake `{name}` has a `native_race`, but its stage's `test` check is \
                         not one that runs before `{caught_by}`"
                    ),
                ));
            }
            Some(text)
        }
    };
    Ok(Mistake {
        stage,
        name: name.clone(),
        bug: entry.bug,
        caught_by,
        expect: entry.expect,
        native_race,
        file: entry.file.map_or_else(|| st.file.clone(), PathBuf::from),
        edits: entry.edits.into_inner(),
        origin: at(entry.name.span().start),
    })
}

/// The text with every edit applied in turn; each `find` must occur exactly once.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut text = text.to_string();
    for (i, edit) in edits.iter().enumerate() {
        let n = text.matches(&edit.find).count();
        if n != 1 {
            let first = edit
                .find
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(format!(
                "edit {} finds its text {n} times, not once (it starts `{}`)",
                i + 1,
                first.trim()
            ));
        }
        text = text.replacen(&edit.find, &edit.replace, 1);
    }
    Ok(text)
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
[[stages]]
name = "a1"
project = "demo"
file = "src/s01_a.rs"
title = "t"
checks = ["test", "miri"]
hints = ["h"]
"#,
        )
    }

    const ONE: &str = r#"
[[mistakes]]
stage = "a1"
name = "off-by-one"
bug = "the last element is skipped"
caught_by = "test"
expect = "len"

[[mistakes.edits]]
find = "i < n"
replace = "i < n - 1"
"#;

    #[test]
    fn a_mistake_is_read_with_its_stage_check_and_edits() {
        let c = course();
        let m = parse(&c, Path::new("mistakes/demo.toml"), ONE).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].id(&c), "a1/off-by-one");
        assert_eq!(m[0].caught_by, CheckKind::Test);
        assert_eq!(m[0].file, Path::new("src/s01_a.rs"));
        assert_eq!(m[0].origin, "mistakes/demo.toml:4");
        assert_eq!(minimum(&c, 0), 0, "no least size unless info.toml sets one");
    }

    #[test]
    fn errors_say_where_and_what() {
        let c = course();
        let bad = ONE.replace("\"test\"", "\"loom\"");
        let e = parse(&c, Path::new("mistakes/demo.toml"), &bad).unwrap_err();
        assert_eq!(
            e[0].0,
            "mistakes/demo.toml:6: stage a1 has no `loom` check (it has test, miri)"
        );
        let bad = ONE.replace("stage = \"a1\"", "stage = \"zz\"");
        let e = parse(&c, Path::new("m.toml"), &bad).unwrap_err();
        assert_eq!(e[0].0, "m.toml:3: no stage named `zz` in info.toml");
        let bad = ONE.replace("bug =", "bugs =");
        let e = parse(&c, Path::new("m.toml"), &bad).unwrap_err();
        assert!(
            e[0].0.starts_with("m.toml:5: unknown field `bugs`"),
            "{}",
            e[0].0
        );
    }

    #[test]
    fn a_native_race_needs_a_test_check_before_the_one_named() {
        let c = course();
        let racy = ONE.replace("\"test\"", "\"miri\"").replace(
            "expect = \"len\"",
            "expect = \"len\"\nnative_race = \"failed\"",
        );
        let m = parse(&c, Path::new("m.toml"), &racy).unwrap();
        assert_eq!(m[0].native_race.as_deref(), Some("failed"));
        let bad = ONE.replace("expect = \"len\"", "expect = \"len\"\nnative_race = \"x\"");
        let e = parse(&c, Path::new("m.toml"), &bad).unwrap_err();
        assert_eq!(
            e[0].0,
            "m.toml:8: mistake `off-by-one` has a `native_race`, but its stage's `test` check is not one that runs before `test`"
        );
    }

    #[test]
    fn edits_apply_once_or_say_why_not() {
        let edit = |f: &str, r: &str| Edit {
            find: f.into(),
            replace: r.into(),
        };
        assert_eq!(
            apply("while i < n {}", &[edit("i < n", "i <= n")]).unwrap(),
            "while i <= n {}"
        );
        assert_eq!(
            apply("a a", &[edit("a", "b")]).unwrap_err(),
            "edit 1 finds its text 2 times, not once (it starts `a`)"
        );
        assert!(
            apply("a", &[edit("z", "b")])
                .unwrap_err()
                .contains("0 times")
        );
    }
}
