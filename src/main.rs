//! mastery: the course runner. Parses the command line, loads the course and the progress,
//! and hands over to the command. ARCHITECTURE.md maps the modules.

mod app;
mod bench;
mod check;
mod cli;
mod course;
mod dev;
mod diagnose;
mod doctor;
mod kind;
mod lock;
mod mistakes;
mod outcome;
mod output;
mod process;
#[cfg(unix)]
mod reap;
mod reset;
mod run;
mod state;
mod term;
mod toolchain;
mod twins;
mod verify;
mod watch;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::app::App;
use crate::cli::{Cli, Command, DevCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    term::init(term::color_wanted());
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{} {e:#}", term::bad("error:"));
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    #[cfg(unix)]
    if let Some(root) = course::find_root(&cwd) {
        let killed = reap::watch_course(root.join(state::STATE_DIR).join("groups"));
        if killed > 0 {
            eprintln!(
                "{} stopped {killed} test run(s) left running by a mastery that was killed",
                term::dim("note:")
            );
        }
    }
    let command = cli.command.unwrap_or(Command::Watch(cli.watch));
    match command {
        Command::Doctor => Ok(doctor::cmd_doctor(course::find_root(&cwd).as_deref())),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "mastery", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Dev(DevCommand::Check { project, tree_only }) => dev::cmd_check(
            &course::load(&app::root_from(&cwd)?)?,
            project.as_deref(),
            tree_only,
        ),
        Command::Dev(DevCommand::Mistakes { project, stage }) => dev::cmd_mistakes(
            &course::load(&app::root_from(&cwd)?)?,
            project.as_deref(),
            stage.as_deref(),
        ),
        Command::Dev(DevCommand::Lock) => lock::cmd_lock(&course::load(&app::root_from(&cwd)?)?),
        Command::Bench { project, solution } => {
            bench::cmd_bench(&course::load(&app::root_from(&cwd)?)?, &project, solution)
        }
        command => with_progress(&cwd, command),
    }
}

/// The commands that load the progress with the course; those that save it check first that
/// they can.
fn with_progress(cwd: &std::path::Path, command: Command) -> Result<ExitCode> {
    let mut app = App::load(cwd)?;
    let saves = match &command {
        Command::Verify { only, .. } => only.is_empty(),
        Command::List | Command::Solution { .. } => false,
        _ => true,
    };
    if saves {
        app.check_writable()?;
    }
    match command {
        Command::Watch(args)
            if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() =>
        {
            watch::cmd_watch(&mut app, args)
        }
        Command::Watch(_) => app.cmd_run(None),
        Command::Run { stage, backtrace } => {
            app.backtrace = backtrace;
            app.cmd_run(stage.as_deref())
        }
        Command::Hint { stage, all } => app.cmd_hint(stage.as_deref(), all),
        Command::Verify { json, only } => verify::cmd_verify(&mut app, json, &only),
        Command::Reset { stage, yes } => reset::cmd_reset(&mut app, &stage, yes),
        Command::List => {
            print!("{}", app.list_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Solution { stage, force } => app.cmd_solution(stage.as_deref(), force),
        Command::Skip { project, undo } => app.cmd_skip(&project, undo),
        Command::Doctor | Command::Dev(_) | Command::Bench { .. } | Command::Completions { .. } => {
            unreachable!("handled in dispatch")
        }
    }
}
