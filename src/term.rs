//! Drawing: colours (only on a terminal, never with NO_COLOR), clickable file links, progress
//! bars, durations.

use std::io::IsTerminal;
use std::path::Path;

use console::style;

use crate::course::Course;
use crate::state::State;

/// Colours on stdout: a terminal that is not `TERM=dumb`, and no NO_COLOR.
pub fn color_wanted() -> bool {
    std::io::stdout().is_terminal()
        && !dumb()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `TERM=dumb`: a terminal that understands no escape sequences (no colours, no links, no
/// clearing the screen), such as an editor's shell buffer.
pub fn dumb() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// The command a message tells the user to type, with `args` (`run demo-add`): `mastery ARGS`
/// when mastery was started as an installed command, `cargo run --release -- ARGS` when cargo
/// ran it (as the README says to), so that a user without `mastery` on PATH can paste it.
pub fn cmd(args: &str) -> String {
    static BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| {
        let exe = std::env::current_exe().ok();
        invocation(
            exe.as_deref(),
            std::env::var_os("CARGO_PKG_NAME").is_some_and(|n| n == "mastery"),
            std::env::current_dir().ok().as_deref(),
        )
    });
    match (base.as_str(), args) {
        ("mastery", "") => "mastery".to_string(),
        (base, "") => base.trim_end_matches(" --").to_string(),
        (base, args) => format!("{base} {args}"),
    }
}

/// How mastery was started: by `cargo run` (which sets `CARGO_PKG_NAME` for what it runs), or
/// from a `target/` directory of the course (the build `cargo run` made), or as `mastery`.
fn invocation(exe: Option<&Path>, cargo_ran_it: bool, cwd: Option<&Path>) -> String {
    let profile = exe
        .and_then(Path::parent)
        .and_then(|dir| dir.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let in_course_target = match (exe, cwd.and_then(crate::course::find_root)) {
        (Some(exe), Some(root)) => exe.starts_with(root.join("target")),
        _ => false,
    };
    if !cargo_ran_it && !in_course_target {
        "mastery".to_string()
    } else if profile == "release" {
        "cargo run --release --".to_string()
    } else {
        "cargo run --".to_string()
    }
}

/// Sets whether `console` styles anything, once, at start.
pub fn init(color: bool) {
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color && std::io::stderr().is_terminal());
}

/// A path the terminal can open on click (OSC 8), shown relative to the course root.
pub fn link(root: &Path, rel: &Path) -> String {
    let shown = rel.display().to_string();
    if !console::colors_enabled() {
        return shown;
    }
    let abs = root.join(rel);
    format!(
        "\x1b]8;;file://{}\x1b\\{}\x1b]8;;\x1b\\",
        abs.display(),
        style(shown).underlined()
    )
}

pub fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!(
        "[{}{}] {done:>2}/{total}",
        style("#".repeat(filled)).green(),
        "-".repeat(width - filled)
    )
}

/// One progress bar per phase.
pub fn phase_bars(course: &Course, state: &State) -> String {
    let width = course
        .phases
        .iter()
        .map(|p| p.title.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, phase) in course.phases.iter().enumerate() {
        let stages = (0..course.stages.len())
            .filter(|&s| course.projects[course.stages[s].project].phase == i);
        let (done, total) = state.count(course, stages);
        if total > 0 {
            out.push_str(&format!(
                "  {:width$}  {}\n",
                phase.title,
                bar(done, total, 24)
            ));
        }
    }
    out
}

/// An estimate in hours, as a learner reads it: `45 min`, `2 h`, `1.5 h`, `12 h`.
pub fn duration(hours: f64) -> String {
    if hours < 1.0 {
        format!("{} min", (hours * 60.0).round())
    } else if (hours - hours.round()).abs() < 0.05 {
        format!("{} h", hours.round())
    } else {
        format!("{:.1} h", hours)
    }
}

pub fn heading(text: &str) -> String {
    style(text).bold().to_string()
}

pub fn good(text: &str) -> String {
    style(text).green().bold().to_string()
}

pub fn bad(text: &str) -> String {
    style(text).red().bold().to_string()
}

pub fn dim(text: &str) -> String {
    style(text).dim().to_string()
}

pub fn warn(text: &str) -> String {
    format!("{} {text}", style("warning:").yellow().bold())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_read_as_minutes_or_hours() {
        assert_eq!(duration(0.5), "30 min");
        assert_eq!(duration(2.0), "2 h");
        assert_eq!(duration(1.5), "1.5 h");
    }

    #[test]
    fn messages_name_the_command_the_way_mastery_was_started() {
        let installed = Path::new("/home/u/.cargo/bin/mastery");
        assert_eq!(invocation(Some(installed), false, None), "mastery");
        let built = Path::new("/src/mastery/target/release/mastery");
        assert_eq!(
            invocation(Some(built), true, None),
            "cargo run --release --"
        );
        let debug = Path::new("/src/mastery/target/debug/mastery");
        assert_eq!(invocation(Some(debug), true, None), "cargo run --");
    }
}
