//! The course: `info.toml` read once, validated once, and turned into the model the rest of the
//! runner works with. The serde structs mirror the file; the model is what is true after
//! validation (names unique, files present, paths inside the course). No I/O after `load`.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use crate::kind::CheckKind;

/// The only `format_version` this runner understands.
pub const FORMAT_VERSION: u32 = 1;

/// The longest `timeout_secs` a stage may ask for: a day.
pub const MAX_TIMEOUT_SECS: u64 = 24 * 60 * 60;

/// The name of the course file at the course root.
pub const INFO_FILE: &str = "info.toml";

// ---------------------------------------------------------------------------------------------
// The file, as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InfoFile {
    format_version: Spanned<u32>,
    welcome: String,
    final_message: String,
    /// The mistakes corpus's least size: per stage, and per stage with Miri or loom.
    mistakes_per_stage: Option<[usize; 2]>,
    #[serde(default)]
    phases: Vec<PhaseEntry>,
    #[serde(default)]
    projects: Vec<ProjectEntry>,
    #[serde(default)]
    stages: Vec<StageEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseEntry {
    id: Spanned<String>,
    title: String,
    goal: String,
    #[serde(default)]
    readings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectEntry {
    name: Spanned<String>,
    dir: Spanned<String>,
    phase: Spanned<String>,
    title: String,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    outcomes: Vec<String>,
    #[serde(default)]
    readings: Vec<String>,
    #[serde(default)]
    miri_flags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageEntry {
    name: Spanned<String>,
    project: Spanned<String>,
    file: Spanned<String>,
    title: String,
    #[serde(default)]
    teaches: String,
    checks: Spanned<Vec<Spanned<String>>>,
    timeout_secs: Option<Spanned<u64>>,
    hours: Option<Spanned<f64>>,
    breaks: Option<Spanned<BreaksEntry>>,
    #[serde(default)]
    miri_flags: Vec<String>,
    hints: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreaksEntry {
    check: String,
    finds: String,
}

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Debug)]
pub struct Phase {
    pub id: String,
    pub title: String,
    pub goal: String,
    pub readings: Vec<String>,
}

#[derive(Debug)]
pub struct Project {
    /// The cargo package name.
    pub name: String,
    /// `exercises/NN_name`, relative to the course root.
    pub dir: PathBuf,
    /// Index into `Course::phases`.
    pub phase: usize,
    pub title: String,
    pub optional: bool,
    pub outcomes: Vec<String>,
    pub readings: Vec<String>,
    pub miri_flags: Vec<String>,
}

impl Project {
    /// The project's directory name (`NN_name`), shared by its exercise, solution and bench.
    pub fn dir_name(&self) -> &str {
        self.dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    }

    pub fn solution_dir(&self) -> PathBuf {
        Path::new("solutions").join(self.dir_name())
    }

    pub fn bench_dir(&self) -> PathBuf {
        Path::new("benches").join(self.dir_name())
    }
}

#[derive(Debug)]
pub struct Stage {
    pub name: String,
    /// Index into `Course::projects`.
    pub project: usize,
    /// Relative to the project's directory, e.g. `src/s01_trait.rs`.
    pub file: PathBuf,
    pub title: String,
    pub teaches: String,
    pub checks: Vec<CheckKind>,
    pub timeout_secs: Option<u64>,
    /// The learner's time for the stage, estimated, in hours.
    pub hours: Option<f64>,
    /// A break-it stage: this check passes when it finds the bug the learner wrote on purpose.
    pub breaks: Option<Breaks>,
    /// Miri flags of this stage, after the project's (`-Zmiri-tree-borrows`, say).
    pub miri_flags: Vec<String>,
    pub hints: Vec<String>,
}

/// What a break-it stage asks the learner to make a check find.
#[derive(Clone, Debug, PartialEq)]
pub struct Breaks {
    /// `miri` or `loom`.
    pub check: CheckKind,
    /// Text of the finding, matched without regard to case against Miri's report (its message
    /// and the kind in plain words) or loom's panic.
    pub finds: String,
}

impl Stage {
    /// The stage's module name: its file stem. Test paths start with it.
    pub fn module(&self) -> &str {
        self.file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
    }

    /// The run limit of a check: the stage's `timeout_secs` for its native tests and doctests;
    /// Miri and loom, many times slower, never get less than their default.
    pub fn timeout_secs(&self, kind: CheckKind) -> u64 {
        let default = kind.default_timeout_secs();
        match (kind, self.timeout_secs) {
            (_, None) => default,
            (CheckKind::Test | CheckKind::Doc, Some(t)) => t,
            (CheckKind::Miri | CheckKind::Loom, Some(t)) => t.max(default),
        }
    }

    pub fn has_check(&self, kind: CheckKind) -> bool {
        self.checks.contains(&kind)
    }
}

#[derive(Debug)]
pub struct Course {
    /// The directory holding `info.toml`.
    pub root: PathBuf,
    pub welcome: String,
    pub final_message: String,
    /// The mistakes each stage must have at least (`dev check`): ordinary stages, and stages
    /// with a `miri` or `loom` check. None: no least size.
    pub mistakes_per_stage: Option<[usize; 2]>,
    pub phases: Vec<Phase>,
    pub projects: Vec<Project>,
    pub stages: Vec<Stage>,
}

impl Course {
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// Finds a stage by name, or says which names exist.
    pub fn find_stage(&self, name: &str) -> Result<usize, String> {
        self.stage_index(name).ok_or_else(|| {
            let close: Vec<&str> = self
                .stages
                .iter()
                .map(|s| s.name.as_str())
                .filter(|n| n.contains(name) || name.contains(*n))
                .take(5)
                .collect();
            let mut msg = format!("there is no stage named `{name}` in {INFO_FILE}.");
            if !close.is_empty() {
                msg.push_str(&format!(" Did you mean: {}?", close.join(", ")));
            }
            msg
        })
    }

    pub fn find_project(&self, name: &str) -> Result<usize, String> {
        self.projects
            .iter()
            .position(|p| p.name == name || p.dir_name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.projects.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "there is no project named `{name}`. The projects are: {}.",
                    names.join(", ")
                )
            })
    }

    pub fn project_of(&self, stage: usize) -> &Project {
        &self.projects[self.stages[stage].project]
    }

    /// The stage's file relative to the course root (`exercises/NN_name/src/sNN_topic.rs`).
    /// Written with `/` on every platform, as info.toml writes its paths (see `slash`).
    pub fn stage_path(&self, stage: usize) -> PathBuf {
        PathBuf::from(slash(
            &self.project_of(stage).dir.join(&self.stages[stage].file),
        ))
    }

    /// The reference solution of the stage, relative to the course root.
    pub fn solution_path(&self, stage: usize) -> PathBuf {
        PathBuf::from(slash(
            &self
                .project_of(stage)
                .solution_dir()
                .join(&self.stages[stage].file),
        ))
    }

    /// The stages of one project, in order.
    pub fn stages_of(&self, project: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.stages.len()).filter(move |&i| self.stages[i].project == project)
    }

    /// The estimated hours of a project's stages, added up (those without an estimate count 0).
    pub fn project_hours(&self, project: usize) -> f64 {
        self.stages_of(project)
            .filter_map(|s| self.stages[s].hours)
            .sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Loading and validation.

/// An error in `info.toml`, with the line it concerns when there is one.
#[derive(Debug, PartialEq, Eq)]
pub struct CourseError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for CourseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for CourseError {}

/// A path under the course root as the course's own files write it, with `/`: on Windows a
/// joined path would otherwise mix `exercises/01_demo` from info.toml with `\src\s01.rs`
/// (Windows takes `/` as well, so the path stays one to copy).
pub fn slash(path: &Path) -> String {
    let shown = path.display().to_string();
    if cfg!(windows) {
        shown.replace('\\', "/")
    } else {
        shown
    }
}

/// Looks for the course root: `start` or the nearest ancestor holding `info.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(INFO_FILE).is_file())
        .map(Path::to_path_buf)
}

/// Reads and validates `root/info.toml`.
pub fn load(root: &Path) -> Result<Course, CourseError> {
    let path = root.join(INFO_FILE);
    let bytes = std::fs::read(&path).map_err(|e| CourseError {
        file: path.clone(),
        line: None,
        message: format!("cannot read the course file: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        CourseError {
            file: path.clone(),
            line: Some(line),
            message: format!(
                "not valid UTF-8 (a byte at column {column} is not text); save the file as UTF-8"
            ),
        }
    })?;
    parse(root, &text, &|p| root.join(p).is_file())
}

/// Parses and validates the text of `info.toml`. `file_exists` answers for paths relative to
/// the course root, so the validation itself does no I/O.
pub fn parse(
    root: &Path,
    text: &str,
    file_exists: &dyn Fn(&Path) -> bool,
) -> Result<Course, CourseError> {
    let v = Validator {
        file: root.join(INFO_FILE),
        text,
        file_exists,
    };
    let raw: InfoFile = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().to_string();
        v.err(
            e.span(),
            format!("{message} (fix the TOML syntax; COURSE_FORMAT.md describes every field)"),
        )
    })?;
    v.format_version(&raw.format_version)?;
    let phases = v.phases(raw.phases)?;
    let mut projects: Vec<Project> = Vec::new();
    for p in raw.projects {
        let project = v.project(p, &phases, &projects)?;
        projects.push(project);
    }
    let mut stages: Vec<Stage> = Vec::new();
    for s in raw.stages {
        let stage = v.stage(s, &projects, &stages)?;
        stages.push(stage);
    }
    if stages.is_empty() {
        return Err(v.err(
            None,
            "the course has no stages: add a [[stages]] entry (COURSE_FORMAT.md describes one)"
                .to_string(),
        ));
    }
    Ok(Course {
        root: root.to_path_buf(),
        welcome: raw.welcome,
        final_message: raw.final_message,
        mistakes_per_stage: raw.mistakes_per_stage,
        phases,
        projects,
        stages,
    })
}

/// Turns the entries of `info.toml` into the model, one entry at a time, or says what is wrong
/// and on which line.
struct Validator<'a> {
    file: PathBuf,
    text: &'a str,
    file_exists: &'a dyn Fn(&Path) -> bool,
}

impl Validator<'_> {
    fn err(&self, span: Option<std::ops::Range<usize>>, message: String) -> CourseError {
        CourseError {
            file: self.file.clone(),
            line: span.map(|s| line_of(self.text, s.start)),
            message,
        }
    }

    fn format_version(&self, version: &Spanned<u32>) -> Result<(), CourseError> {
        if *version.get_ref() == FORMAT_VERSION {
            return Ok(());
        }
        Err(self.err(
            Some(version.span()),
            format!(
                "format_version {} is not supported: this runner reads format_version {FORMAT_VERSION}. Update the runner (`git pull`, then `cargo run --release`).",
                version.get_ref()
            ),
        ))
    }

    fn phases(&self, entries: Vec<PhaseEntry>) -> Result<Vec<Phase>, CourseError> {
        let mut phases: Vec<Phase> = Vec::new();
        for p in entries {
            if phases.iter().any(|q| q.id == *p.id.get_ref()) {
                return Err(self.err(
                    Some(p.id.span()),
                    format!(
                        "the phase id `{}` is used twice; phase ids must be unique",
                        p.id.get_ref()
                    ),
                ));
            }
            phases.push(Phase {
                id: p.id.into_inner(),
                title: p.title,
                goal: p.goal,
                readings: p.readings,
            });
        }
        Ok(phases)
    }

    /// One project, checked against the phases and the projects before it.
    fn project(
        &self,
        p: ProjectEntry,
        phases: &[Phase],
        projects: &[Project],
    ) -> Result<Project, CourseError> {
        let name = p.name.get_ref();
        if projects.iter().any(|q| q.name == *name) {
            return Err(self.err(
                Some(p.name.span()),
                format!("the project name `{name}` is used twice; project names must be unique"),
            ));
        }
        let phase = phases
            .iter()
            .position(|ph| ph.id == *p.phase.get_ref())
            .ok_or_else(|| {
                self.err(
                    Some(p.phase.span()),
                    format!(
                        "project `{name}` names the phase `{}`, which no [[phases]] entry defines",
                        p.phase.get_ref()
                    ),
                )
            })?;
        let dir = self.project_dir(&p.dir, projects)?;
        Ok(Project {
            name: p.name.into_inner(),
            dir,
            phase,
            title: p.title,
            optional: p.optional,
            outcomes: p.outcomes,
            readings: p.readings,
            miri_flags: p.miri_flags,
        })
    }

    fn project_dir(
        &self,
        dir: &Spanned<String>,
        projects: &[Project],
    ) -> Result<PathBuf, CourseError> {
        let path = PathBuf::from(dir.get_ref());
        let problem = if !is_inside(&path) || path.parent() != Some(Path::new("exercises")) {
            "must be a directory directly under `exercises/`"
        } else if !(self.file_exists)(&path.join("Cargo.toml")) {
            "has no Cargo.toml"
        } else if projects.iter().any(|q| q.dir == path) {
            "is used twice"
        } else {
            return Ok(path);
        };
        Err(self.err(
            Some(dir.span()),
            format!("the project dir `{}` {problem}", dir.get_ref()),
        ))
    }

    /// One stage, checked against the projects and the stages before it.
    fn stage(
        &self,
        s: StageEntry,
        projects: &[Project],
        stages: &[Stage],
    ) -> Result<Stage, CourseError> {
        let name = self.stage_name(&s.name, stages)?;
        let project = projects.iter().position(|p| p.name == *s.project.get_ref()).ok_or_else(|| {
            self.err(Some(s.project.span()), format!("stage `{name}` names the project `{}`, which no [[projects]] entry defines", s.project.get_ref()))
        })?;
        let file = self.stage_file(&name, &s.file, &projects[project])?;
        if let Some(last) = stages.last()
            && last.project != project
            && stages.iter().any(|st| st.project == project)
        {
            return Err(self.err(
                Some(s.project.span()),
                format!(
                    "stage `{name}`: the stages of project `{}` must be listed together",
                    projects[project].name
                ),
            ));
        }
        let checks = self.checks(&name, &s.checks)?;
        let hints = s.hints.get_ref();
        if hints.is_empty() || hints.len() > 3 || hints.iter().any(|h| h.trim().is_empty()) {
            return Err(self.err(
                Some(s.hints.span()),
                format!("stage `{name}` needs one to three non-empty hints, a nudge first"),
            ));
        }
        Ok(Stage {
            project,
            file,
            title: s.title,
            teaches: s.teaches,
            timeout_secs: self.timeout_secs(&name, s.timeout_secs)?,
            hours: self.hours(&name, s.hours)?,
            breaks: self.breaks(&name, s.breaks, &checks)?,
            checks,
            miri_flags: s.miri_flags,
            hints: s.hints.into_inner(),
            name,
        })
    }

    fn stage_name(&self, name: &Spanned<String>, stages: &[Stage]) -> Result<String, CourseError> {
        let text = name.get_ref();
        let problem = if text.is_empty()
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            "may hold only letters, digits, `-` and `_`"
        } else if stages.iter().any(|st| st.name == *text) {
            "is used twice; stage names must be unique"
        } else {
            return Ok(text.clone());
        };
        Err(self.err(
            Some(name.span()),
            format!("the stage name `{text}` {problem}"),
        ))
    }

    fn stage_file(
        &self,
        name: &str,
        file: &Spanned<String>,
        project: &Project,
    ) -> Result<PathBuf, CourseError> {
        let path = PathBuf::from(file.get_ref());
        if !is_inside(&path) || path.extension().and_then(|e| e.to_str()) != Some("rs") {
            return Err(self.err(
                Some(file.span()),
                format!(
                    "the stage file `{}` must be a relative `.rs` path inside its project",
                    file.get_ref()
                ),
            ));
        }
        let full = project.dir.join(&path);
        if !(self.file_exists)(&full) {
            return Err(self.err(
                Some(file.span()),
                format!("stage `{name}`: the file `{}` does not exist", slash(&full)),
            ));
        }
        Ok(path)
    }

    fn checks(
        &self,
        name: &str,
        entries: &Spanned<Vec<Spanned<String>>>,
    ) -> Result<Vec<CheckKind>, CourseError> {
        let mut checks = Vec::new();
        for c in entries.get_ref() {
            let kind = CheckKind::parse(c.get_ref()).ok_or_else(|| {
                self.err(
                    Some(c.span()),
                    format!(
                        "stage `{name}`: unknown check `{}`; the checks are {}",
                        c.get_ref(),
                        CheckKind::names_in_words()
                    ),
                )
            })?;
            if !checks.contains(&kind) {
                checks.push(kind);
            }
        }
        if checks.is_empty() {
            return Err(self.err(
                Some(entries.span()),
                format!("stage `{name}` lists no checks; give at least `checks = [\"test\"]`"),
            ));
        }
        Ok(checks)
    }

    fn timeout_secs(
        &self,
        name: &str,
        entry: Option<Spanned<u64>>,
    ) -> Result<Option<u64>, CourseError> {
        match entry {
            Some(t) if *t.get_ref() == 0 || *t.get_ref() > MAX_TIMEOUT_SECS => Err(self.err(
                Some(t.span()),
                format!(
                    "stage `{name}`: timeout_secs is {}; it must be from 1 to {MAX_TIMEOUT_SECS} (a day)",
                    t.get_ref()
                ),
            )),
            t => Ok(t.map(Spanned::into_inner)),
        }
    }

    fn hours(&self, name: &str, entry: Option<Spanned<f64>>) -> Result<Option<f64>, CourseError> {
        match entry {
            Some(h)
                if !(h.get_ref().is_finite() && *h.get_ref() > 0.0 && *h.get_ref() <= 100.0) =>
            {
                Err(self.err(
                    Some(h.span()),
                    format!(
                        "stage `{name}`: hours is {}; it must be more than 0 and at most 100",
                        h.get_ref()
                    ),
                ))
            }
            h => Ok(h.map(Spanned::into_inner)),
        }
    }

    fn breaks(
        &self,
        name: &str,
        entry: Option<Spanned<BreaksEntry>>,
        checks: &[CheckKind],
    ) -> Result<Option<Breaks>, CourseError> {
        let Some(b) = entry else { return Ok(None) };
        let span = b.span();
        let b = b.into_inner();
        let check = CheckKind::parse(&b.check)
            .filter(|k| k.has_findings() && checks.contains(k))
            .ok_or_else(|| {
                self.err(
                    Some(span.clone()),
                    format!(
                        "stage `{name}`: breaks.check is `{}`; it must be {}, one of the stage's checks",
                        b.check,
                        CheckKind::with_findings_in_words()
                    ),
                )
            })?;
        if b.finds.trim().is_empty() {
            return Err(self.err(
                Some(span),
                format!("stage `{name}`: breaks.finds says what the check must find"),
            ));
        }
        Ok(Some(Breaks {
            check,
            finds: b.finds,
        }))
    }
}

/// A relative path with no `..`, root or prefix: it cannot leave the directory it is joined to.
fn is_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// A course for unit tests: the given projects and stages under one phase `p`, every file
/// present, rooted at `/c`.
#[cfg(test)]
pub fn test_course(projects_and_stages: &str) -> Course {
    let text = format!(
        "format_version = 1\nwelcome = \"w\"\nfinal_message = \"f\"\n[[phases]]\nid = \"p\"\ntitle = \"P\"\ngoal = \"g\"\n{projects_and_stages}"
    );
    parse(Path::new("/c"), &text, &|_| true).expect("a valid test course")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"format_version = 1
welcome = "hi"
final_message = "bye"

[[phases]]
id = "p0"
title = "Phase 0"
goal = "g"

[[projects]]
name = "demo"
dir = "exercises/01_demo"
phase = "p0"
title = "Demo"
"#;

    fn stage(name: &str, file: &str, checks: &str) -> String {
        format!(
            "\n[[stages]]\nname = \"{name}\"\nproject = \"demo\"\nfile = \"{file}\"\ntitle = \"T\"\nchecks = {checks}\nhints = [\"nudge\"]\n"
        )
    }

    fn check(text: &str) -> Result<Course, CourseError> {
        parse(Path::new("/c"), text, &|p| {
            p.starts_with("exercises/01_demo") && !p.ends_with("missing.rs")
        })
    }

    /// The error's text, its file written `/c/info.toml` on every platform (Windows joins the
    /// test root `/c` and `info.toml` with a `\\`).
    fn error(text: &str) -> String {
        let shown = Path::new("/c").join(INFO_FILE).display().to_string();
        let text = check(text).unwrap_err().to_string();
        match text.strip_prefix(&shown) {
            Some(rest) => format!("/c/info.toml{rest}"),
            None => text,
        }
    }

    #[test]
    fn a_valid_course_loads_with_its_stages_in_order() {
        let text = format!(
            "{HEAD}{}{}",
            stage("a", "src/s01_a.rs", "[\"test\", \"miri\"]"),
            stage("b", "src/s02_b.rs", "[\"doc\"]")
        );
        let course = check(&text).unwrap();
        assert_eq!(course.stages.len(), 2);
        assert_eq!(course.stages[0].module(), "s01_a");
        assert_eq!(
            course.stages[0].checks,
            vec![CheckKind::Test, CheckKind::Miri]
        );
        // Checks run in the order the author lists them: here loom judges before Miri.
        let text = format!(
            "{HEAD}{}",
            stage("c", "src/s01_c.rs", "[\"test\", \"loom\", \"miri\"]")
        );
        assert_eq!(
            check(&text).unwrap().stages[0].checks,
            vec![CheckKind::Test, CheckKind::Loom, CheckKind::Miri]
        );
        assert_eq!(
            course.stage_path(1).display().to_string(),
            "exercises/01_demo/src/s02_b.rs"
        );
        assert_eq!(
            course.solution_path(1).display().to_string(),
            "solutions/01_demo/src/s02_b.rs"
        );
    }

    #[test]
    fn duplicate_stage_names_are_reported_with_their_line() {
        let text = format!(
            "{HEAD}{}{}",
            stage("a", "src/s01_a.rs", "[\"test\"]"),
            stage("a", "src/s02_b.rs", "[\"test\"]")
        );
        assert_eq!(
            error(&text),
            "/c/info.toml:25: the stage name `a` is used twice; stage names must be unique"
        );
    }

    #[test]
    fn unknown_check_kinds_are_named() {
        let text = format!(
            "{HEAD}{}",
            stage("a", "src/s01_a.rs", "[\"test\", \"fuzz\"]")
        );
        assert_eq!(
            error(&text),
            "/c/info.toml:21: stage `a`: unknown check `fuzz`; the checks are test, doc, miri and loom"
        );
    }

    #[test]
    fn missing_files_and_escaping_paths_are_refused() {
        let text = format!("{HEAD}{}", stage("a", "src/missing.rs", "[\"test\"]"));
        assert!(
            error(&text)
                .ends_with("stage `a`: the file `exercises/01_demo/src/missing.rs` does not exist")
        );
        let text = format!("{HEAD}{}", stage("a", "../../etc/passwd.rs", "[\"test\"]"));
        assert!(error(&text).contains("must be a relative `.rs` path inside its project"));
    }

    #[test]
    fn syntax_errors_point_at_their_line() {
        let text = format!("{HEAD}\n[[stages]]\nname = \"a\nproject = 1\n");
        let e = check(&text).unwrap_err();
        assert_eq!(e.line, Some(17));
        assert!(e.message.contains("fix the TOML syntax"), "{}", e.message);
    }

    #[test]
    fn unsupported_format_versions_say_what_to_do() {
        let text = HEAD.replace("format_version = 1", "format_version = 9");
        assert!(error(&text).starts_with("/c/info.toml:1: format_version 9 is not supported"));
    }

    #[test]
    fn an_estimate_is_hours_within_reason() {
        let with = |h: &str| {
            format!("{HEAD}{}", stage("a", "src/s01_a.rs", "[\"test\"]"))
                .replace("title = \"T\"", &format!("title = \"T\"\nhours = {h}"))
        };
        let course = check(&with("1.5")).unwrap();
        assert_eq!(course.stages[0].hours, Some(1.5));
        assert_eq!(course.project_hours(0), 1.5);
        assert!(error(&with("0")).contains("hours is 0; it must be more than 0 and at most 100"));
        assert!(error(&with("-2")).contains("it must be more than 0"));
    }

    #[test]
    fn a_break_it_stage_names_one_of_its_own_checks_and_a_finding() {
        let with = |checks: &str, breaks: &str| {
            format!("{HEAD}{}", stage("a", "src/s01_a.rs", checks)).replace(
                "title = \"T\"",
                &format!("title = \"T\"\nbreaks = {breaks}"),
            )
        };
        let course = check(&with(
            "[\"test\", \"miri\"]",
            "{ check = \"miri\", finds = \"use after free\" }",
        ))
        .unwrap();
        assert_eq!(
            course.stages[0].breaks,
            Some(Breaks {
                check: CheckKind::Miri,
                finds: "use after free".into()
            })
        );
        assert!(
            error(&with("[\"test\"]", "{ check = \"miri\", finds = \"x\" }")).contains(
                "breaks.check is `miri`; it must be `miri` or `loom`, one of the stage's checks"
            )
        );
        assert!(
            error(&with(
                "[\"test\", \"miri\"]",
                "{ check = \"miri\", finds = \" \" }"
            ))
            .contains("breaks.finds says what the check must find")
        );
    }

    #[test]
    fn stages_need_hints_and_checks() {
        let text = format!("{HEAD}{}", stage("a", "src/s01_a.rs", "[]"));
        assert!(error(&text).contains("lists no checks"));
        let text = format!(
            "{HEAD}{}",
            stage("a", "src/s01_a.rs", "[\"test\"]").replace("[\"nudge\"]", "[]")
        );
        assert!(error(&text).contains("needs one to three non-empty hints"));
    }

    #[test]
    fn timeouts_beyond_a_day_and_courses_without_stages_are_refused() {
        let text = format!(
            "{HEAD}{}timeout_secs = 18446744073709551615\n",
            stage("a", "src/s01_a.rs", "[\"test\"]")
        );
        assert_eq!(
            error(&text),
            "/c/info.toml:23: stage `a`: timeout_secs is 18446744073709551615; it must be from 1 to 86400 (a day)"
        );
        assert_eq!(
            error(HEAD),
            "/c/info.toml: the course has no stages: add a [[stages]] entry (COURSE_FORMAT.md describes one)"
        );
    }

    #[test]
    fn a_course_file_that_is_not_utf8_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = HEAD.as_bytes().to_vec();
        bytes.extend_from_slice(b"# caf\xe9\n");
        std::fs::write(dir.path().join(INFO_FILE), bytes).unwrap();
        let e = load(dir.path()).unwrap_err();
        assert_eq!(e.line, Some(15));
        assert_eq!(
            e.message,
            "not valid UTF-8 (a byte at column 6 is not text); save the file as UTF-8"
        );
    }

    #[test]
    fn unknown_stage_names_get_suggestions() {
        let text = format!("{HEAD}{}", stage("demo-map", "src/s01_a.rs", "[\"test\"]"));
        let course = check(&text).unwrap();
        assert_eq!(
            course.find_stage("map").unwrap_err(),
            "there is no stage named `map` in info.toml. Did you mean: demo-map?"
        );
    }
}
