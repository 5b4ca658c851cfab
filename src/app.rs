//! The course and the learner's progress, loaded together, and the small commands built on
//! them: run, hint, list, solution, skip.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, bail};

use crate::check::Options;
use crate::course::{self, Course};
use crate::output::Output;
use crate::run::{self, StageResult};
use crate::state::{self, State};
use crate::term;

pub struct App {
    pub course: Arc<Course>,
    pub state: State,
    pub color: bool,
    /// Panics print their backtraces (`mastery run --backtrace`, `b` in watch).
    pub backtrace: bool,
}

pub const NO_COURSE: &str = "no info.toml here or in any parent directory: run mastery inside the course directory (the one you cloned, holding info.toml and exercises/)";

impl App {
    /// Finds the course from `cwd` upwards, validates it, and loads the progress.
    pub fn load(cwd: &Path) -> Result<App> {
        let root = course::find_root(cwd).context(NO_COURSE)?;
        let course = course::load(&root)?;
        let loaded = state::load(&root);
        if let Some(warning) = loaded.warning {
            eprintln!("{}", term::warn(&warning));
        }
        Ok(App {
            course: Arc::new(course),
            state: loaded.state,
            color: term::color_wanted(),
            backtrace: false,
        })
    }

    pub fn root(&self) -> &Path {
        &self.course.root
    }

    /// Fails unless the progress can be saved: for commands that save, before they run.
    pub fn check_writable(&self) -> Result<()> {
        state::check_writable(self.root())
    }

    pub fn save(&self) -> Result<()> {
        state::save(self.root(), &self.state)
    }

    /// The named stage, or the current one.
    pub fn stage_arg(&self, name: Option<&str>) -> Result<usize> {
        match name {
            Some(name) => self.course.find_stage(name).map_err(|e| {
                anyhow::anyhow!("{e} Run `{}` to see every stage.", term::cmd("list"))
            }),
            None => match self.state.current_index(&self.course) {
                Some(i) => Ok(i),
                None => bail!(
                    "every stage has passed: name one (`{}` shows them all)",
                    term::cmd("list")
                ),
            },
        }
    }

    pub fn options(&self) -> Options {
        Options {
            color: self.color,
            target_dir: None,
            backtrace: self.backtrace,
        }
    }

    /// Records a stage's result in the progress.
    pub fn record(&mut self, stage: usize, result: &StageResult) {
        let name = self.course.stages[stage].name.clone();
        if result.checks.is_empty() {
            // Not run (a check-all that was cancelled first): nothing learned.
        } else if result.passed() {
            self.state.passed.insert(name);
        } else if !result.cancelled() {
            self.state.passed.remove(&name);
        }
    }

    /// Title, file and what the stage teaches, as the top of a run's screen; the first stage of
    /// a project also shows the project's outcomes and readings (and of a phase, its goal).
    pub fn stage_banner(&self, stage: usize) -> String {
        let st = &self.course.stages[stage];
        let project = self.course.project_of(stage);
        let stages: Vec<usize> = self.course.stages_of(st.project).collect();
        let pos = stages.iter().position(|&s| s == stage).unwrap_or(0) + 1;
        let mut out = String::new();
        if pos == 1 {
            let phase = &self.course.phases[project.phase];
            let first_of_phase = self
                .course
                .stages
                .iter()
                .position(|s| self.course.projects[s.project].phase == project.phase)
                == Some(stage);
            if first_of_phase {
                out.push_str(&format!(
                    "{}  {}\n",
                    term::heading(&phase.title),
                    phase.goal
                ));
                out.extend(phase.readings.iter().map(|r| format!("  read: {r}\n")));
            }
            out.push_str(&format!(
                "{}\n",
                term::heading(&format!("Project: {}", project.title))
            ));
            out.extend(
                project
                    .outcomes
                    .iter()
                    .map(|o| format!("  you will: {o}\n")),
            );
            out.extend(project.readings.iter().map(|r| format!("  read: {r}\n")));
            out.push('\n');
        }
        out.push_str(&format!(
            "{} {}  {}\n  {}\n",
            term::heading(&format!("{} {pos}/{}:", project.title, stages.len())),
            term::heading(&st.title),
            term::dim(&format!("({})", st.name)),
            term::link(self.root(), &self.course.stage_path(stage)),
        ));
        if let Some(h) = st.hours {
            out.push_str(&format!(
                "  {}\n",
                term::dim(&format!("time: about {}", term::duration(h)))
            ));
        }
        if !st.teaches.is_empty() {
            out.push_str(&format!(
                "  {}\n",
                term::dim(&format!("teaches: {}", st.teaches))
            ));
        }
        out
    }

    /// What to do after a stage's run, as text: the verdict of each check, the notes, and the
    /// closing line.
    pub fn verdict_text(&self, stage: usize, result: &StageResult) -> String {
        let mut out = result_lines(result);
        if result.passed() {
            out.push_str(&format!(
                "\n{}\n",
                term::good(&format!(
                    "Stage passed: {}",
                    self.course.stages[stage].title
                ))
            ));
        } else if let Some((_, crate::outcome::Verdict::Unavailable { .. })) = result.failure() {
            out.push_str(&format!(
                "\n{}\n",
                term::bad("Not verified: a check could not run (see above).")
            ));
        } else {
            out.push_str(&format!(
                "\n{}\n",
                term::bad("Not yet. Read the output above, edit, save.")
            ));
        }
        out
    }

    /// `mastery run [STAGE]`.
    pub fn cmd_run(&mut self, name: Option<&str>) -> Result<ExitCode> {
        let stage = self.stage_arg(name)?;
        print!("{}", self.stage_banner(stage));
        let mut out = Output::new(self.root(), true, false, self.color);
        let was_current = self.state.current_index(&self.course) == Some(stage);
        let result = run::run_stage(
            &self.course,
            stage,
            self.root(),
            &self.options(),
            &mut out,
            &AtomicBool::new(false),
        )?;
        self.record(stage, &result);
        // Without the watch loop's `n`, passing the current stage is what moves on.
        if result.passed() && was_current {
            self.advance(stage);
        }
        self.save()?;
        print!("\n{}", self.verdict_text(stage, &result));
        if result.passed() {
            println!(
                "Compare with the reference: `{}`.",
                term::cmd(&format!("solution {}", self.course.stages[stage].name))
            );
            if self.state.course_finished(&self.course) {
                println!("\n{}", self.course.final_message.trim_end());
            } else if let Some(next) = self.state.next_pending(&self.course, Some(stage)) {
                println!(
                    "Next: `{}` (or `{}` to watch; press n there to move on).",
                    term::cmd(&format!("run {}", self.course.stages[next].name)),
                    term::cmd("")
                );
            }
            Ok(ExitCode::SUCCESS)
        } else {
            Ok(ExitCode::FAILURE)
        }
    }

    /// Marks the current stage done and moves on: the `n` key.
    pub fn advance(&mut self, stage: usize) -> Option<usize> {
        let next = self.state.next_pending(&self.course, Some(stage));
        self.state.set_current(&self.course, next.or(Some(stage)));
        next
    }

    /// The next hint level of a stage (or all of them), remembered in the progress.
    pub fn hint_text(&mut self, stage: usize, all: bool) -> String {
        let st = &self.course.stages[stage];
        let seen = self.state.hints_seen.get(&st.name).copied().unwrap_or(0);
        let upto = if all {
            st.hints.len()
        } else {
            (seen + 1).min(st.hints.len())
        };
        self.state
            .hints_seen
            .insert(st.name.clone(), upto.max(seen));
        let mut out = format!(
            "{}\n",
            term::heading(&format!("Hints for {} ({})", st.title, st.name))
        );
        for (i, hint) in st.hints.iter().enumerate().take(upto) {
            out.push_str(&format!(
                "\n  {} {}\n",
                term::heading(&format!("{}/{}:", i + 1, st.hints.len())),
                hint.trim().replace('\n', "\n     ")
            ));
        }
        if upto < st.hints.len() {
            out.push_str(&format!(
                "\n{}\n",
                term::dim("Ask again for the next level.")
            ));
        } else if !all {
            out.push_str(&format!("\n{}\n", term::dim("That was the last hint.")));
        }
        out
    }

    pub fn cmd_hint(&mut self, name: Option<&str>, all: bool) -> Result<ExitCode> {
        let stage = self.stage_arg(name)?;
        print!("{}", self.hint_text(stage, all));
        self.save()?;
        Ok(ExitCode::SUCCESS)
    }

    /// `mastery list`, also the `l` key.
    pub fn list_text(&self) -> String {
        let current = self.state.current_index(&self.course);
        let mut out = String::new();
        for (p, phase) in self.course.phases.iter().enumerate() {
            out.push_str(&format!(
                "{}  {}\n",
                term::heading(&phase.title),
                term::dim(&phase.goal)
            ));
            for (j, project) in self
                .course
                .projects
                .iter()
                .enumerate()
                .filter(|(_, pr)| pr.phase == p)
            {
                let (done, total) = self.state.count(&self.course, self.course.stages_of(j));
                let tag = match (project.optional, self.state.skipped.contains(&project.name)) {
                    (true, true) => " (optional, skipped)",
                    (true, false) => " (optional)",
                    _ => "",
                };
                let hours = self.course.project_hours(j);
                let time = if hours > 0.0 {
                    term::dim(&format!("  about {}", term::duration(hours)))
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "  {}{}  {}{time}\n",
                    project.title,
                    term::dim(tag),
                    term::bar(done, total, 16)
                ));
                for s in self.course.stages_of(j) {
                    let st = &self.course.stages[s];
                    let mark = if self.state.is_passed(&self.course, s) {
                        term::good("done")
                    } else if Some(s) == current {
                        term::heading("  ->")
                    } else {
                        term::dim("    ")
                    };
                    let time = st
                        .hours
                        .map(|h| term::dim(&format!("  ({})", term::duration(h))))
                        .unwrap_or_default();
                    out.push_str(&format!("    {mark} {:28} {}{time}\n", st.name, st.title));
                }
            }
        }
        let (done, total) = self.state.count(&self.course, 0..self.course.stages.len());
        out.push_str(&format!("\n{done} of {total} stages passed.\n"));
        out
    }

    pub fn cmd_solution(&self, name: Option<&str>, force: bool) -> Result<ExitCode> {
        let stage = self.stage_arg(name)?;
        let st = &self.course.stages[stage];
        if !self.state.is_passed(&self.course, stage) && !force {
            bail!(
                "stage `{}` has not passed yet: solve it first (`{}`), or add --force to see the reference anyway",
                st.name,
                term::cmd(&format!("run {}", st.name))
            );
        }
        let path = self.course.solution_path(stage);
        let text = std::fs::read_to_string(self.root().join(&path))
            .with_context(|| format!("cannot read the reference solution {}", path.display()))?;
        println!(
            "{} {}\n",
            term::heading("Reference solution:"),
            term::link(self.root(), &path)
        );
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    }

    pub fn cmd_skip(&mut self, name: &str, undo: bool) -> Result<ExitCode> {
        let project = self.course.find_project(name).map_err(anyhow::Error::msg)?;
        let pr = &self.course.projects[project];
        if !pr.optional {
            bail!(
                "project `{}` is required: only optional projects can be skipped",
                pr.name
            );
        }
        let pname = pr.name.clone();
        if undo {
            self.state.skipped.remove(&pname);
            println!("Project `{pname}` is back in your course.");
        } else {
            self.state.skipped.insert(pname.clone());
            if let Some(cur) = self.state.current_index(&self.course)
                && self.course.stages[cur].project == project
            {
                let next = self.state.next_pending(&self.course, Some(cur));
                self.state.set_current(&self.course, next);
            }
            println!(
                "Skipped the optional project `{pname}`; `{}` brings it back.",
                term::cmd(&format!("skip {pname} --undo"))
            );
        }
        self.save()?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The verdict lines of a stage's result: one per check, then the notes.
fn result_lines(result: &StageResult) -> String {
    let mut out = String::new();
    for (kind, verdict) in &result.checks {
        let mark = if verdict.passed() {
            term::good("ok")
        } else {
            term::bad("!!")
        };
        out.push_str(&format!("  {mark} {}\n", verdict.describe(*kind)));
    }
    for note in &result.notes {
        out.push_str(&format!("     {note}\n"));
    }
    out
}

/// The course root, for commands that need no progress.
pub fn root_from(cwd: &Path) -> Result<PathBuf> {
    course::find_root(cwd).context(NO_COURSE)
}
