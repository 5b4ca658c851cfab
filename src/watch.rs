//! The watch loop. Every source of events (the file watcher, the keyboard, the running job's
//! lines and its end) feeds one channel of `Event`s, read by one loop that owns the screen and
//! the progress. Each run has an id; lines and results of a run that was replaced are dropped,
//! so an old run's output can never leak into a new one. A save starts a run at once, and a
//! save during a run cancels it (its process group is killed at once) and starts again: a burst
//! of saves (an editor's write and rename, ten quick saves) ends in one completed run, the
//! last, with no quiet period to wait out first.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result};
use crossterm::event::{self as term_event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use notify::{RecursiveMode, Watcher};

use crate::app::App;
use crate::cli::WatchArgs;
use crate::course::{CheckKind, Course};
use crate::output::Output;
use crate::run::{self, StageResult};
use crate::term;

enum Event {
    FileChanged,
    Key(KeyEvent),
    Line(u64, String),
    StageDone(u64, Result<StageResult>),
    AllDone(u64, Result<Vec<StageResult>>),
}

/// What a run is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Stage(usize),
    All,
}

struct Running {
    id: u64,
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// The terminal in raw mode for as long as this lives; restored on drop (quit, error, panic).
struct RawMode;

impl RawMode {
    fn enable() -> Result<RawMode> {
        crate::process::remember_terminal();
        crossterm::terminal::enable_raw_mode().with_context(|| {
            format!(
                "cannot put the terminal in raw mode (use `{}` instead)",
                term::cmd("run")
            )
        })?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::terminal::disable_raw_mode();
            previous(info);
        }));
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
        if !term::dumb() {
            // Shows the cursor, in case a program the loop ran hid it.
            let _ = std::io::stdout().write_all(b"\x1b[?25h");
        }
        let _ = std::io::stdout().flush();
    }
}

/// Prints text in raw mode, where a newline must also return the carriage.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.replace('\n', "\r\n").as_bytes());
    let _ = out.flush();
}

fn clear() {
    if !term::dumb() {
        say("\x1b[2J\x1b[3J\x1b[H");
    }
}

pub fn cmd_watch(app: &mut App, args: WatchArgs) -> Result<std::process::ExitCode> {
    let first_time = app.state.current.is_none();
    let Some(stage) = app.state.current_index(&app.course) else {
        println!("{}", app.course.final_message.trim_end());
        println!(
            "\nEvery stage has passed. `{}` shows them; `{}` reruns one.",
            term::cmd("list"),
            term::cmd("run STAGE")
        );
        return Ok(std::process::ExitCode::SUCCESS);
    };
    let _lock = lock_course(&app.course.root)?;
    app.state.set_current(&app.course, Some(stage));
    app.save()?;

    let (tx, rx) = mpsc::channel::<Event>();
    let root = app.course.root.clone();
    let _watcher = if args.manual {
        None
    } else {
        Some(watch_files(&root, tx.clone())?)
    };
    let raw = RawMode::enable()?;
    let stop = Arc::new(AtomicBool::new(false));
    let keys = spawn_keys(tx.clone(), stop.clone());

    let mut lp = Loop {
        app,
        stage,
        tx,
        running: None,
        next_id: 0,
        last: None,
        manual: args.manual,
        finished: Vec::new(),
    };
    if first_time {
        say(&format!("{}\n\n", lp.app.course.welcome.trim_end()));
        lp.start(Target::Stage(stage), false);
    } else {
        lp.start(Target::Stage(stage), true);
    }
    let result = lp.run(&rx);

    stop.store(true, Ordering::SeqCst);
    lp.cancel();
    for handle in lp.finished.drain(..) {
        let _ = handle.join();
    }
    let _ = keys.join();
    drop(raw);
    lp.app.save()?;
    result?;
    println!(
        "\nProgress saved. Run `{}` to continue where you left off.",
        term::cmd("")
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// The lock file held by the watch loop of a course, with the pid of its holder inside.
pub const LOCK_FILE: &str = "watch.lock";

/// Takes the course's watch lock for as long as the returned file is open (the operating
/// system releases it when the process ends, however it ends), or says who holds it: two loops
/// on one course would fight over `current` and run every save twice.
fn lock_course(root: &Path) -> Result<std::fs::File> {
    let dir = root.join(crate::state::STATE_DIR);
    let path = dir.join(LOCK_FILE);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)
                .and_then(|()| write!(file, "{}", std::process::id()))
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            };
            anyhow::bail!(
                "another watch loop{who} is already running on this course: use that one, or quit it (q) and start again. ({} is its lock.)",
                path.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

fn watch_files(root: &Path, tx: Sender<Event>) -> Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        let relevant = event.paths.iter().any(|p| {
            p.extension().is_some_and(|e| e == "rs" || e == "toml")
                && !p.components().any(|c| c.as_os_str() == "target")
        });
        if relevant {
            let _ = tx.send(Event::FileChanged);
        }
    })
    .with_context(|| {
        format!(
            "cannot start the file watcher (try `{}`)",
            term::cmd("watch --manual")
        )
    })?;
    let dir = root.join("exercises");
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| {
            format!(
                "cannot watch {} (try `{}`, then press r to rerun)",
                dir.display(),
                term::cmd("watch --manual")
            )
        })?;
    Ok(watcher)
}

fn spawn_keys(tx: Sender<Event>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    thread::Builder::new()
        .name("mastery-keys".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match term_event::poll(Duration::from_millis(50)) {
                    Ok(true) => {
                        if let Ok(term_event::Event::Key(key)) = term_event::read()
                            && key.kind != KeyEventKind::Release
                            && tx.send(Event::Key(key)).is_err()
                        {
                            return;
                        }
                    }
                    Ok(false) => {}
                    Err(_) => return,
                }
            }
        })
        .expect("spawning the key thread")
}

/// What a key asks the loop to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Quit,
    Rerun,
    Hint,
    List,
    CheckAll,
    ToggleBacktrace,
    Next,
}

impl Action {
    fn from_key(key: KeyEvent) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Some(Action::Quit);
        }
        Some(match key.code {
            KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
            KeyCode::Char('r') => Action::Rerun,
            KeyCode::Char('h') => Action::Hint,
            KeyCode::Char('l') => Action::List,
            KeyCode::Char('c') => Action::CheckAll,
            KeyCode::Char('b') => Action::ToggleBacktrace,
            KeyCode::Char('n') => Action::Next,
            _ => return None,
        })
    }
}

/// Drains the file events queued behind one (a save is often two or three), so that they give
/// one start, not one each; returns the first other event, to be handled next.
fn coalesce_saves(rx: &Receiver<Event>) -> Option<Event> {
    loop {
        match rx.try_recv() {
            Ok(Event::FileChanged) => {}
            Ok(other) => return Some(other),
            Err(_) => return None,
        }
    }
}

struct Loop<'a> {
    app: &'a mut App,
    /// The stage the loop is on.
    stage: usize,
    tx: Sender<Event>,
    running: Option<(Target, Running)>,
    next_id: u64,
    /// The last complete result of the current stage.
    last: Option<StageResult>,
    manual: bool,
    /// Threads of replaced runs, joined on exit.
    finished: Vec<JoinHandle<()>>,
}

impl Loop<'_> {
    /// Routes events until a quit key or the end of the channel.
    fn run(&mut self, rx: &Receiver<Event>) -> Result<()> {
        let mut pending: Option<Event> = None;
        loop {
            let event = match pending.take() {
                Some(e) => e,
                None => match rx.recv() {
                    Ok(e) => e,
                    Err(_) => return Ok(()),
                },
            };
            match event {
                Event::FileChanged => {
                    pending = coalesce_saves(rx);
                    self.rerun();
                }
                Event::Line(id, line) => {
                    if self.is_current(id) {
                        say(&line);
                        say("\n");
                    }
                }
                Event::StageDone(id, result) => {
                    if self.take_current(id) {
                        self.stage_done(result?);
                    }
                }
                Event::AllDone(id, results) => {
                    if self.take_current(id) {
                        self.all_done(results?);
                    }
                }
                Event::Key(key) => {
                    if let Some(action) = Action::from_key(key)
                        && self.act(action)?.is_break()
                    {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn act(&mut self, action: Action) -> Result<ControlFlow<()>> {
        match action {
            Action::Quit => return Ok(ControlFlow::Break(())),
            Action::Rerun => self.rerun(),
            Action::Hint => self.hint()?,
            Action::List => self.list(),
            Action::CheckAll => self.start(Target::All, true),
            Action::ToggleBacktrace => self.toggle_backtrace(),
            Action::Next => self.next()?,
        }
        Ok(ControlFlow::Continue(()))
    }

    fn rerun(&mut self) {
        self.start(Target::Stage(self.stage), true);
    }

    fn hint(&mut self) -> Result<()> {
        let text = self.app.hint_text(self.stage, false);
        self.app.save()?;
        say(&format!("\n{text}"));
        self.keys_line();
        Ok(())
    }

    fn list(&self) {
        say(&format!("\n{}", self.app.list_text()));
        self.keys_line();
    }

    fn toggle_backtrace(&mut self) {
        self.app.backtrace = !self.app.backtrace;
        self.rerun();
    }

    /// `n`: on to the next stage once this one has passed and no run is in progress.
    fn next(&mut self) -> Result<()> {
        if self.running.is_some() {
            say(&format!(
                "\n{}\n",
                term::dim("A run is in progress: n works once it has passed.")
            ));
            return Ok(());
        }
        if !self.app.state.is_passed(&self.app.course, self.stage) {
            say(&format!(
                "\n{}\n",
                term::dim("n moves on once the stage passes.")
            ));
            return Ok(());
        }
        let solution = self.app.course.solution_path(self.stage);
        let next = self.app.advance(self.stage);
        self.app.save()?;
        match next {
            Some(next) => {
                self.stage = next;
                self.last = None;
                self.rerun();
                say(&format!(
                    "{} {}\n\n",
                    term::dim("Compare your last stage with the reference:"),
                    term::link(&self.app.course.root, &solution)
                ));
            }
            None => {
                say(&format!("\n{}\n", self.app.course.final_message.trim_end()));
                say(&format!(
                    "\n{} {}\n",
                    term::dim("The reference of your last stage:"),
                    term::link(&self.app.course.root, &solution)
                ));
                self.keys_line();
            }
        }
        Ok(())
    }

    fn is_current(&self, id: u64) -> bool {
        self.running.as_ref().is_some_and(|(_, r)| r.id == id)
    }

    /// Whether `id` is the current run; if it is, its thread (which is ending) is joined.
    fn take_current(&mut self, id: u64) -> bool {
        if !self.is_current(id) {
            return false;
        }
        let (_, running) = self.running.take().expect("a current run");
        let _ = running.handle.join();
        true
    }

    fn cancel(&mut self) {
        if let Some((_, running)) = self.running.take() {
            crate::process::cancel(&running.cancel);
            self.finished.push(running.handle);
        }
    }

    /// Starts a run, cancelling the one in progress.
    fn start(&mut self, target: Target, clear_screen: bool) {
        self.cancel();
        // Reap replaced runs that are over.
        let (done, pending): (Vec<_>, Vec<_>) =
            self.finished.drain(..).partition(|h| h.is_finished());
        self.finished = pending;
        for handle in done {
            let _ = handle.join();
        }
        if clear_screen {
            clear();
        }
        match target {
            Target::Stage(stage) => say(&format!("{}\n", self.app.stage_banner(stage))),
            Target::All => say(&format!(
                "{}\n",
                term::heading("Checking every stage (one cargo run per crate and check)...")
            )),
        }
        self.next_id += 1;
        let id = self.next_id;
        let cancel = Arc::new(AtomicBool::new(false));
        let handle = spawn_run(self.app, target, id, self.tx.clone(), cancel.clone());
        self.running = Some((target, Running { id, cancel, handle }));
    }

    fn stage_done(&mut self, result: StageResult) {
        if result.cancelled() {
            return;
        }
        let stage = self.stage;
        self.app.record(stage, &result);
        say(&format!("\n{}", self.app.verdict_text(stage, &result)));
        if result.passed() {
            say(&format!(
                "{}\n",
                term::good("Press n to go on to the next stage.")
            ));
        }
        self.last = Some(result);
        say(&format!(
            "\n{}",
            term::phase_bars(&self.app.course, &self.app.state)
        ));
        self.keys_line();
        // Saved (and synced to disk) after the verdict is on screen, not before.
        let _ = self.app.save();
    }

    fn all_done(&mut self, results: Vec<StageResult>) {
        for (s, r) in results.iter().enumerate() {
            self.app.record(s, r);
        }
        let _ = self.app.save();
        say(&format!("\n{}", self.app.list_text()));
        self.keys_line();
    }

    fn keys_line(&self) {
        let passed = self.last.as_ref().is_some_and(StageResult::passed);
        let backtraces = if self.app.backtrace {
            "b backtraces off"
        } else {
            "b backtraces"
        };
        let mut keys = vec![
            "h hint",
            "r rerun",
            "l list",
            "c check all",
            backtraces,
            "q quit",
        ];
        if passed {
            keys.insert(0, "n next");
        }
        let watching = if self.manual {
            "manual mode: r reruns"
        } else {
            "watching exercises/ for saves"
        };
        say(&format!(
            "{}  {}\n",
            term::heading(&keys.join("  ")),
            term::dim(watching)
        ));
    }
}

/// The thread of one run: its lines, then its result, go to the loop tagged with `id`.
fn spawn_run(
    app: &App,
    target: Target,
    id: u64,
    tx: Sender<Event>,
    flag: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let course: Arc<Course> = app.course.clone();
    let opts = app.options();
    let color = app.color;
    thread::Builder::new()
        .name("mastery-run".into())
        .spawn(move || {
            let line_tx = Mutex::new(tx.clone());
            let mut out = Output::new(&course.root, true, true, color).forward_to(move |line| {
                let _ = line_tx
                    .lock()
                    .map(|t| t.send(Event::Line(id, line.to_string())));
            });
            match target {
                Target::Stage(stage) => {
                    let result =
                        run::run_stage(&course, stage, &course.root, &opts, &mut out, &flag);
                    let _ = tx.send(Event::StageDone(id, result));
                }
                Target::All => {
                    let result = check_all(&course, &mut out, &flag, &tx, id);
                    let _ = tx.send(Event::AllDone(id, result));
                }
            }
        })
        .expect("spawning a run thread")
}

/// `c`: every stage of every project, by crate and check kind, with progress lines.
fn check_all(
    course: &Course,
    out: &mut Output,
    cancel: &AtomicBool,
    tx: &Sender<Event>,
    id: u64,
) -> Result<Vec<StageResult>> {
    // One log for every project: a new `Output` would start the log again.
    let mut quiet = Output::new(&course.root, false, false, false);
    let projects: Vec<usize> = (0..course.projects.len()).collect();
    let results = run::run_all(
        &run::Batch::new(course, &course.root, CheckKind::ALL),
        &projects,
        &mut quiet,
        cancel,
        &mut |p, kind, verdicts| {
            let line = format!(
                "  {:16} {}",
                course.projects[p].name,
                run::progress_line(kind, verdicts)
            );
            let _ = tx.send(Event::Line(id, line));
        },
    )?;
    quiet.finish();
    out.finish();
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Action> {
        Action::from_key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_decode_into_actions() {
        let none = KeyModifiers::NONE;
        assert_eq!(key(KeyCode::Char('q'), none), Some(Action::Quit));
        assert_eq!(key(KeyCode::Esc, none), Some(Action::Quit));
        assert_eq!(
            key(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Action::Quit)
        );
        assert_eq!(key(KeyCode::Char('c'), none), Some(Action::CheckAll));
        assert_eq!(key(KeyCode::Char('r'), none), Some(Action::Rerun));
        assert_eq!(key(KeyCode::Char('h'), none), Some(Action::Hint));
        assert_eq!(key(KeyCode::Char('l'), none), Some(Action::List));
        assert_eq!(key(KeyCode::Char('b'), none), Some(Action::ToggleBacktrace));
        assert_eq!(key(KeyCode::Char('n'), none), Some(Action::Next));
        assert_eq!(key(KeyCode::Char('x'), none), None);
        assert_eq!(key(KeyCode::Enter, none), None);
    }
}
