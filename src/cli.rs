//! The command line. The doc comments are the help text.

use clap::{Args, Parser, Subcommand};

use crate::course::CheckKind;

/// mastery: learn the hard parts of Rust by building real things.
///
/// Run `mastery` in the course directory to start (or continue) where you left off: it watches
/// `exercises/`, and reruns the current stage every time you save.
#[derive(Parser)]
#[command(version, about, long_about, disable_help_subcommand = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default command, `watch`.
    #[command(flatten)]
    pub watch: WatchArgs,
}

#[derive(Args, Clone, Copy, Default)]
pub struct WatchArgs {
    /// Do not watch files; rerun with `r` (for filesystems that send no change events).
    #[arg(long)]
    pub manual: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// The loop: run the current stage on every save, with keys for hints, next, list and quit.
    Watch(WatchArgs),
    /// Run one stage once (the current one by default). Exit code 0 when it passes.
    Run {
        /// The stage's name, as `mastery list` shows it.
        stage: Option<String>,
        /// Let panics print their backtraces (off by default: `todo!()`s are folded).
        #[arg(long)]
        backtrace: bool,
    },
    /// Show the next hint of a stage (the current one by default).
    Hint {
        /// The stage's name, as `mastery list` shows it (the current stage by default).
        stage: Option<String>,
        /// Show every hint level at once.
        #[arg(long)]
        all: bool,
    },
    /// Check every stage and print a table by phase and project; saves the progress.
    Verify {
        /// Print the results as JSON, for tools.
        #[arg(long)]
        json: bool,
        // The help names the kinds from `CheckKind::ALL`.
        #[arg(long, value_delimiter = ',', help = only_help())]
        only: Vec<String>,
    },
    /// Restore a stage's original stub; your version is saved under .mastery/backups/ first.
    Reset {
        /// The stage's name, as `mastery list` shows it.
        stage: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Progress by phase, project and stage.
    List,
    /// Show the reference solution of a passed stage (the current one by default).
    Solution {
        /// The stage's name, as `mastery list` shows it (the current stage by default).
        stage: Option<String>,
        /// Show it even though the stage has not passed yet.
        #[arg(long)]
        force: bool,
    },
    /// Skip an optional project (or bring it back with --undo).
    Skip {
        /// The project's name (as in info.toml, e.g. `linked_list`) or its directory name.
        project: String,
        /// Bring the skipped project back into your course.
        #[arg(long)]
        undo: bool,
    },
    /// Check the machine: cargo, the nightly toolchain, Miri, the terminal, file watching.
    Doctor,
    /// Benchmark a project against its production peer, in release mode.
    Bench {
        /// The project's name (as in info.toml, e.g. `mpsc`) or its directory name.
        project: String,
        /// Benchmark the reference solution instead of your code.
        #[arg(long)]
        solution: bool,
    },
    /// Commands for course authors and CI.
    #[command(subcommand)]
    Dev(DevCommand),
    /// Print a completion script for a shell, e.g. `mastery completions bash >
    /// ~/.local/share/bash-completion/completions/mastery`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
pub enum DevCommand {
    /// Prove the course: info.toml and the tree agree, stubs compile and fail, every stage's
    /// tests fail with its stub even when the rest is solved, solutions pass every check and
    /// are clippy-clean, stub and solution tests are identical.
    Check {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only the first step: info.toml, the tree, stubs.lock and the corpus's files agree
        /// (fast; CI runs it once, then the projects two at a time).
        #[arg(long, conflicts_with = "project")]
        tree_only: bool,
    },
    /// Prove the mistakes corpus (mistakes/*.toml): each wrong solution, swapped into an
    /// otherwise solved copy of its crate, is rejected by the check it names.
    Mistakes {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only this stage.
        #[arg(long, conflicts_with = "project")]
        stage: Option<String>,
    },
    /// Record the stubs' git blob ids in stubs.lock, so `mastery reset` can restore them.
    Lock,
}

/// The help of `verify --only`.
fn only_help() -> String {
    let names: Vec<&str> = CheckKind::ALL.iter().map(|k| k.name()).collect();
    format!(
        "Only these check kinds (comma-separated: {}). Stages are then reported as passing only in those checks, and progress is not saved.",
        names.join(",")
    )
}
