//! `mastery doctor`: what the machine has for the course, what is missing, and the exact
//! command that fixes it.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use notify::Watcher;

use crate::term;
use crate::toolchain::{self, INSTALL_MIRI, INSTALL_NIGHTLY};

struct Line {
    what: &'static str,
    found: Option<String>,
    fix: Option<String>,
    required: bool,
}

pub fn cmd_doctor(root: Option<&Path>) -> ExitCode {
    let mut lines = vec![
        Line { what: "cargo", found: toolchain::cargo(), fix: Some("install Rust with rustup: https://rustup.rs".into()), required: true },
        Line { what: "nightly toolchain (for Miri)", found: toolchain::nightly(), fix: Some(INSTALL_NIGHTLY.into()), required: false },
        Line { what: "Miri", found: toolchain::miri(), fix: Some(INSTALL_MIRI.into()), required: false },
        Line {
            what: "rust-src (for Miri)",
            found: toolchain::rust_src().then(|| "installed".to_string()),
            fix: Some(INSTALL_MIRI.into()),
            required: false,
        },
        Line {
            what: "terminal",
            found: std::io::stdout().is_terminal().then(|| {
                let (rows, cols) = console::Term::stdout().size();
                format!("{cols}x{rows}, colours {}", if term::color_wanted() { "on" } else { "off (NO_COLOR)" })
            }),
            fix: Some("run mastery in a terminal for the watch loop; elsewhere it runs the current stage once".into()),
            required: false,
        },
    ];
    if let Some(root) = root {
        lines.push(Line {
            what: "file watching",
            found: watching_works(root),
            fix: Some(format!(
                "no change events arrive here: use `{}` and press r to rerun",
                term::cmd("watch --manual")
            )),
            required: false,
        });
    }
    let mut missing_required = false;
    for line in &lines {
        match &line.found {
            Some(found) => println!("  {} {:30} {}", term::good("ok"), line.what, found),
            None => {
                missing_required |= line.required;
                println!("  {} {:30} missing", term::bad("!!"), line.what);
                if let Some(fix) = &line.fix {
                    println!("     {:30} fix: {fix}", "");
                }
            }
        }
    }
    if lines.iter().all(|l| l.found.is_some()) {
        println!("\nEverything the course needs is here.");
    } else if !missing_required {
        println!(
            "\nStages that ask for a missing tool are reported as not verified until it is installed."
        );
    }
    if missing_required {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes a probe file under `.mastery/` and waits for the watcher to report it.
fn watching_works(root: &Path) -> Option<String> {
    let dir = root.join(crate::state::STATE_DIR);
    std::fs::create_dir_all(&dir).ok()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if e.is_ok() {
            let _ = tx.send(());
        }
    })
    .ok()?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .ok()?;
    let probe = dir.join("doctor-probe");
    std::fs::write(&probe, b"probe").ok()?;
    let seen = rx.recv_timeout(Duration::from_secs(2)).is_ok();
    let _ = std::fs::remove_file(&probe);
    seen.then(|| "change events arrive".to_string())
}
