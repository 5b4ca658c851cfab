//! Running a child process, every one of them through here: its own process group (a job
//! object on Windows), so that a timeout or a cancel kills cargo and the test binary it
//! started; its output streamed line by line to a sink and to the report; a build limit and a
//! run limit (the run clock starts when cargo starts the tests); cancellation; the same
//! environment cleaning. A child is always killed and reaped; Ctrl-C, SIGTERM or SIGHUP to the
//! runner kills it too, and so does the runner's own death by SIGKILL (a guard process kills the
//! group when the runner's end of a pipe closes; if the guard died too, the next runner reaps
//! the group, see `reap`).

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::outcome::{Report, strip_ansi};

/// Removed from every child's environment: a runner started by `cargo run` inherits these, and
/// the checks must see the learner's own toolchain choice instead.
pub const ENV_REMOVE: [&str; 2] = ["RUSTUP_TOOLCHAIN", "RUST_RECURSION_COUNT"];

/// A command to run.
#[derive(Clone, Debug)]
pub struct Job {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub env_remove: Vec<String>,
    pub cwd: PathBuf,
    /// How long the tests may run once cargo has started them.
    pub run_timeout: Duration,
    /// How long the whole command may take, build included.
    pub total_timeout: Duration,
}

impl Job {
    /// A command that may take `limit` in all, with the environment cleaned as for every child.
    pub fn new<S: Into<String>>(
        program: &str,
        args: impl IntoIterator<Item = S>,
        cwd: &Path,
        limit: Duration,
    ) -> Job {
        Job {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            env_remove: ENV_REMOVE.map(String::from).to_vec(),
            cwd: cwd.to_path_buf(),
            run_timeout: limit,
            total_timeout: limit,
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Job {
        self.env.push((key.into(), value.into()));
        self
    }
    /// The command as a user could type it, for messages and logs.
    pub fn display(&self) -> String {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        let args: Vec<String> = self.args.iter().map(|a| quote(a)).collect();
        [env.join(" "), self.program.clone(), args.join(" ")]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn quote(s: &str) -> String {
    if s.is_empty() || s.contains([' ', '"', '\'', '$', '*']) {
        format!("'{s}'")
    } else {
        s.to_string()
    }
}

/// How a job ended.
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    pub end: End,
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// It exited by itself (or died of a signal: then not a success).
    Exited { success: bool },
    /// Killed for taking too long: the limit that was hit, in seconds.
    TimedOut { secs: u64 },
    /// Killed by `cancel`.
    Cancelled,
}

impl Finished {
    pub fn exit_ok(&self) -> bool {
        self.end == End::Exited { success: true }
    }

    pub fn timed_out(&self) -> Option<u64> {
        match self.end {
            End::TimedOut { secs } => Some(secs),
            _ => None,
        }
    }

    pub fn cancelled(&self) -> bool {
        self.end == End::Cancelled
    }
}

/// The longest line kept whole; longer ones are cut (the rest still goes to the log).
const MAX_LINE: usize = 64 * 1024;

/// The process trees running now, one slot each: a process group id on Unix, a job object
/// handle on Windows; 0 is a free slot. Each run fills its own slot and empties only its own,
/// so runs that overlap (a save cancels a run and starts the next) never lose each other, and
/// a signal to the runner ends every one of them. Plain atomics: the signal handler reads them.
static TREES: [AtomicIsize; 64] = [const { AtomicIsize::new(0) }; 64];

/// A slot of `TREES`, emptied on drop.
struct Slot(Option<usize>);

impl Slot {
    fn take(tree: isize) -> Slot {
        Slot(TREES.iter().position(|s| {
            s.compare_exchange(0, tree, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        }))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            TREES[i].store(0, Ordering::SeqCst);
        }
    }
}

/// The trees of the runs going now, by the address of their cancel flag, so that `cancel`
/// kills a run's tree at once instead of at the run's next look at its flag (a save that
/// replaces a run must not wait for the old cargo to give up the build directory's lock).
static CANCELLABLE: Mutex<Vec<(usize, isize)>> = Mutex::new(Vec::new());

/// A run's entry in `CANCELLABLE`, removed on drop (before its child is reaped, so the id is
/// never one of another process).
struct Cancellable(usize, isize);

impl Cancellable {
    fn register(flag: &AtomicBool, tree: isize) -> Cancellable {
        let owner = std::ptr::from_ref(flag) as usize;
        let mut list = CANCELLABLE.lock().unwrap_or_else(PoisonError::into_inner);
        list.push((owner, tree));
        Cancellable(owner, tree)
    }
}

impl Drop for Cancellable {
    fn drop(&mut self) {
        let mut list = CANCELLABLE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = list.iter().position(|&e| e == (self.0, self.1)) {
            list.swap_remove(i);
        }
    }
}

/// Cancels the runs under `flag`: sets it, and kills their process trees now. (The flag alone
/// also works, at the run's next look at it.)
pub fn cancel(flag: &AtomicBool) {
    let owner = std::ptr::from_ref(flag) as usize;
    // Under the lock: a run that registers after this sees the flag set, one registered
    // before is killed here.
    let list = CANCELLABLE.lock().unwrap_or_else(PoisonError::into_inner);
    flag.store(true, Ordering::SeqCst);
    for &(o, tree) in list.iter() {
        if o == owner && tree != 0 {
            kill_tree(tree);
        }
    }
}

/// Kills a registered tree: a process group on Unix, a job object on Windows.
fn kill_tree(tree: isize) {
    #[cfg(unix)]
    kill_group(tree as i32);
    #[cfg(windows)]
    windows::terminate(tree);
    #[cfg(not(any(unix, windows)))]
    let _ = tree;
}

/// The process trees registered now (process group ids on Unix), for tests.
#[cfg(test)]
fn active_trees() -> Vec<isize> {
    TREES
        .iter()
        .map(|s| s.load(Ordering::SeqCst))
        .filter(|&t| t != 0)
        .collect()
}

/// A started child with its whole tree: killed, reaped and unregistered on `finish`, and on
/// drop if `finish` was never reached.
struct Tree {
    child: Child,
    /// Waited for and its tree killed.
    done: bool,
    #[cfg(unix)]
    guard: Option<Child>,
    #[cfg(windows)]
    job: Option<windows::Job>,
    _slot: Slot,
}

impl Tree {
    fn spawn(job: &Job, stdout: Stdio, stderr: Stdio) -> io::Result<Tree> {
        install_signal_forwarding();
        let mut cmd = Command::new(&job.program);
        cmd.args(&job.args)
            .current_dir(&job.cwd)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for key in &job.env_remove {
            cmd.env_remove(key);
        }
        cmd.envs(job.env.iter().map(|(k, v)| (k, v)));
        #[cfg(unix)]
        {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let child = cmd.spawn()?;
            let pid = child.id() as i32;
            let slot = Slot::take(pid as isize);
            let guard = spawn_guard(pid);
            crate::reap::record(pid);
            Ok(Tree {
                child,
                done: false,
                guard,
                _slot: slot,
            })
        }
        #[cfg(windows)]
        {
            let child = cmd.spawn()?;
            let job = windows::Job::for_child(&child);
            let slot = Slot::take(job.as_ref().map_or(0, windows::Job::raw));
            Ok(Tree {
                child,
                done: false,
                job,
                _slot: slot,
            })
        }
        #[cfg(not(any(unix, windows)))]
        {
            let child = cmd.spawn()?;
            Ok(Tree {
                child,
                done: false,
                _slot: Slot(None),
            })
        }
    }

    /// The tree's id in `TREES` and `CANCELLABLE`: its process group, its job object; 0 if none.
    fn id(&self) -> isize {
        #[cfg(unix)]
        let id = self.child.id() as isize;
        #[cfg(windows)]
        let id = self.job.as_ref().map_or(0, windows::Job::raw);
        #[cfg(not(any(unix, windows)))]
        let id = 0;
        id
    }

    /// Kills every process of the tree (the child and what it started).
    fn kill(&mut self) {
        #[cfg(unix)]
        kill_group(self.child.id() as i32);
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.terminate();
        }
        let _ = self.child.kill();
    }

    /// Waits for the child, then kills what is left of its tree (a test's own child).
    fn finish(mut self) -> io::Result<std::process::ExitStatus> {
        let status = self.child.wait();
        self.kill();
        self.done = true;
        status
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        if !self.done {
            self.kill();
            let _ = self.child.wait();
        }
        #[cfg(unix)]
        if let Some(mut guard) = self.guard.take() {
            let _ = guard.kill();
            let _ = guard.wait();
        }
        #[cfg(unix)]
        crate::reap::forget(self.child.id() as i32);
    }
}

/// A process that outlives the runner only to kill the group `pid`: it waits for the end of a
/// pipe whose other end only the runner holds, which closes when the runner dies however it
/// dies (SIGKILL included). In its own process group, so a signal to the runner's group does
/// not take it too. Killed (before it acts) when the run ends normally.
#[cfg(unix)]
fn spawn_guard(pid: i32) -> Option<Child> {
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        "read _ignored; kill -s KILL -- \"-$1\" 2>/dev/null",
        "mastery-guard",
        &pid.to_string(),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().ok()
}

/// Runs the job to the end, a timeout, or `cancel`. Every line goes to `sink` (with its
/// colours) and, stripped, to the report.
pub fn run(job: &Job, sink: &mut dyn FnMut(&str), cancel: &AtomicBool) -> io::Result<Finished> {
    let mut tree = Tree::spawn(job, Stdio::piped(), Stdio::piped())?;
    let registered = Cancellable::register(cancel, tree.id());
    if cancel.load(Ordering::SeqCst) {
        // Cancelled before it was registered: `cancel` could not see it.
        tree.kill();
    }

    let (rx, readers) = spawn_readers(&mut tree);
    let (report, end) = follow(job, &rx, sink, cancel, &mut tree);
    drop(registered);
    let status = tree.finish()?;
    for reader in readers {
        let _ = reader.join();
    }
    Ok(Finished {
        report,
        end: end.unwrap_or(End::Exited {
            success: status.success(),
        }),
    })
}

/// A thread per output stream of the child, each sending its lines to the one channel.
fn spawn_readers(tree: &mut Tree) -> (mpsc::Receiver<String>, Vec<thread::JoinHandle<()>>) {
    let (tx, rx) = mpsc::sync_channel::<String>(256);
    let streams = [
        tree.child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        tree.child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    let readers = streams
        .into_iter()
        .flatten()
        .map(|stream| {
            let tx = tx.clone();
            thread::Builder::new()
                .name("mastery-output".into())
                .spawn(move || read_lines(stream, &tx))
                .expect("spawning a reader thread")
        })
        .collect();
    (rx, readers)
}

/// Reads the job's lines until its output ends, or kills its tree on a timeout or `cancel`
/// (then `End` says which; `None` when it exited by itself).
fn follow(
    job: &Job,
    rx: &mpsc::Receiver<String>,
    sink: &mut dyn FnMut(&str),
    cancel: &AtomicBool,
    tree: &mut Tree,
) -> (Report, Option<End>) {
    let start = Instant::now();
    let mut run_start: Option<Instant> = None;
    let mut report = Report::default();
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                report.line(&strip_ansi(&line));
                if report.tests_started && run_start.is_none() {
                    run_start = Some(Instant::now());
                }
                sink(&line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The output ended: the child exited, or `cancel` killed its tree.
                let end = cancel.load(Ordering::SeqCst).then_some(End::Cancelled);
                return (report, end);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let end = if cancel.load(Ordering::SeqCst) {
            Some(End::Cancelled)
        } else if run_start.is_some_and(|t| t.elapsed() > job.run_timeout) {
            Some(End::TimedOut {
                secs: job.run_timeout.as_secs(),
            })
        } else if start.elapsed() > job.total_timeout {
            Some(End::TimedOut {
                secs: job.total_timeout.as_secs(),
            })
        } else {
            None
        };
        if end.is_some() {
            tree.kill();
            // The pipes close once every process of the group is gone; drop what is left.
            while rx.recv_timeout(Duration::from_secs(5)).is_ok() {}
            return (report, end);
        }
    }
}

/// A short command's whole output, for helpers (a version probe, `git`): its status, stdout and
/// stderr; killed with its tree after the job's total limit (then `None`).
pub struct Captured {
    pub success: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub fn capture(job: &Job) -> io::Result<Option<Captured>> {
    let mut tree = Tree::spawn(job, Stdio::piped(), Stdio::piped())?;
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = stream {
                let _ = s.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(tree.child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(tree.child.stderr.take().map(|s| Box::new(s) as _));
    let deadline = Instant::now() + job.total_timeout;
    let timed_out = loop {
        if tree.child.try_wait()?.is_some() {
            break false;
        }
        if Instant::now() > deadline {
            tree.kill();
            break true;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let status = tree.finish()?;
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    Ok((!timed_out).then_some(Captured {
        success: status.success(),
        stdout,
        stderr,
    }))
}

/// Runs a short helper command (a version probe) and returns its stdout when it succeeds
/// within a minute.
pub fn output_of(program: &str, args: &[&str], cwd: &Path) -> Option<String> {
    let job = Job::new(program, args.iter().copied(), cwd, Duration::from_secs(60));
    capture(&job)
        .ok()
        .flatten()
        .filter(|c| c.success)
        .map(|c| String::from_utf8_lossy(&c.stdout).into_owned())
}

/// Splits a stream into lines, cutting lines longer than `MAX_LINE`. Ends at end of stream or
/// when the receiver is gone.
fn read_lines(mut stream: impl Read, tx: &mpsc::SyncSender<String>) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            if tx
                .send(
                    String::from_utf8_lossy(&line[..line.len() - 1])
                        .trim_end_matches('\r')
                        .to_string(),
                )
                .is_err()
            {
                return;
            }
        }
        if pending.len() > MAX_LINE {
            let line: Vec<u8> = std::mem::take(&mut pending);
            if tx
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                return;
            }
        }
    }
    if !pending.is_empty() {
        let _ = tx.send(String::from_utf8_lossy(&pending).into_owned());
    }
}

#[cfg(unix)]
fn kill_group(pid: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// The terminal's settings before the watch loop changed them, restored by the signal handler.
#[cfg(unix)]
static TERMINAL: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

/// Remembers the terminal's settings (before raw mode), so that a SIGTERM or SIGHUP that ends
/// the runner still leaves the terminal as it found it.
pub fn remember_terminal() {
    install_signal_forwarding();
    #[cfg(unix)]
    {
        let mut settings = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios it is given when it returns 0.
        if unsafe { libc::tcgetattr(0, settings.as_mut_ptr()) } == 0 {
            // SAFETY: initialised by the successful tcgetattr above.
            let _ = TERMINAL.set(unsafe { settings.assume_init() });
        }
    }
    #[cfg(windows)]
    windows::remember_console();
}

/// On SIGINT, SIGTERM or SIGHUP the runner kills every running job's process group, restores
/// the terminal, then dies of the signal as it would have: no cargo outlives the runner. On
/// Windows, a console control event (Ctrl-C, Ctrl-Break, closing the window) does the same.
fn install_signal_forwarding() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    #[cfg(unix)]
    {
        extern "C" fn on_signal(sig: libc::c_int) {
            // SAFETY: kill, tcsetattr, signal and raise are async-signal-safe; the atomics and
            // the termios are only read, and the termios was written once before the handler
            // could run.
            unsafe {
                for slot in &TREES {
                    let pid = slot.load(Ordering::SeqCst);
                    if pid > 0 {
                        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
                    }
                }
                if let Some(settings) = TERMINAL.get() {
                    libc::tcsetattr(0, libc::TCSANOW, settings);
                }
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
        }
        INSTALLED.call_once(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: installs a handler that only calls async-signal-safe functions.
                unsafe {
                    libc::signal(sig, on_signal as *const () as libc::sighandler_t);
                }
            }
        });
    }
    #[cfg(windows)]
    INSTALLED.call_once(windows::install_ctrl_handler);
}

/// Job objects: a child and everything it starts die together, when the runner terminates the
/// job (a timeout, a cancel, Ctrl-C) and when the runner's last handle closes (its death).
#[cfg(windows)]
mod windows {
    use std::os::windows::io::AsRawHandle;
    use std::sync::OnceLock;
    use std::sync::atomic::Ordering;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::Console::{
        CONSOLE_MODE, GetConsoleMode, GetStdHandle, STD_INPUT_HANDLE, SetConsoleCtrlHandler,
        SetConsoleMode,
    };
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject,
    };

    pub struct Job(HANDLE);

    // SAFETY: a job object handle may be used from any thread.
    unsafe impl Send for Job {}

    impl Job {
        /// A job object that kills its processes when closed, with `child` in it.
        pub fn for_child(child: &std::process::Child) -> Option<Job> {
            // SAFETY: plain Win32 calls on handles owned here; the limit struct is zeroed and
            // then filled as the documentation asks.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return None;
                }
                let job = Job(job);
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let ok = SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&raw const info).cast(),
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                );
                if ok == 0 || AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) == 0
                {
                    return None;
                }
                Some(job)
            }
        }

        pub fn raw(&self) -> isize {
            self.0 as isize
        }

        pub fn terminate(&self) {
            // SAFETY: the handle is a live job object owned by self.
            unsafe {
                TerminateJobObject(self.0, 1);
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is owned by self and closed once.
            unsafe {
                CloseHandle(self.0);
            }
        }
    }

    /// Terminates a job object by its handle, registered and open.
    pub fn terminate(job: isize) {
        // SAFETY: the handle is registered, so its `Job` has not closed it.
        unsafe {
            TerminateJobObject(job as HANDLE, 1);
        }
    }

    static CONSOLE: OnceLock<CONSOLE_MODE> = OnceLock::new();

    /// Remembers the console's input mode before raw mode.
    pub fn remember_console() {
        // SAFETY: GetConsoleMode writes the mode it is given when it returns non-zero.
        unsafe {
            let mut mode: CONSOLE_MODE = 0;
            if GetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), &mut mode) != 0 {
                let _ = CONSOLE.set(mode);
            }
        }
    }

    unsafe extern "system" fn on_ctrl(_event: u32) -> i32 {
        for slot in &super::TREES {
            let job = slot.load(Ordering::SeqCst);
            if job != 0 {
                // SAFETY: a registered handle stays open while it is in its slot.
                unsafe {
                    TerminateJobObject(job as HANDLE, 1);
                }
            }
        }
        if let Some(mode) = CONSOLE.get() {
            // SAFETY: restores the console mode read before raw mode.
            unsafe {
                SetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), *mode);
            }
        }
        // Not handled: the default handler ends the runner.
        0
    }

    pub fn install_ctrl_handler() {
        // SAFETY: installs a handler that only terminates jobs and sets the console mode.
        unsafe {
            SetConsoleCtrlHandler(Some(on_ctrl), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shell command: `unix` under `sh -c`, `windows` under `cmd /c` (there `ping -n N
    /// 127.0.0.1` is the sleep of N-1 seconds that every Windows has, and `start /b` runs a
    /// child in the background, as `&` does in sh).
    fn shell(unix: &str, windows: &str) -> (&'static str, [String; 2]) {
        if cfg!(windows) {
            ("cmd", ["/c".into(), windows.into()])
        } else {
            ("sh", ["-c".into(), unix.into()])
        }
    }

    fn sh(unix: &str, windows: &str, run_secs: u64) -> Job {
        let (program, args) = shell(unix, windows);
        Job {
            program: program.into(),
            args: args.into(),
            env: vec![],
            env_remove: vec![],
            cwd: std::env::temp_dir(),
            run_timeout: Duration::from_secs(run_secs),
            total_timeout: Duration::from_secs(30),
        }
    }

    #[test]
    fn lines_from_both_streams_reach_the_sink_and_the_report() {
        let mut lines = Vec::new();
        let done = run(
            &sh(
                "echo 'test a::b ... ok'; echo oops >&2",
                "echo test a::b ... ok& echo oops>&2",
                5,
            ),
            &mut |l| lines.push(l.to_string()),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(done.exit_ok());
        assert_eq!(done.report.results.len(), 1);
        lines.sort();
        assert_eq!(lines, vec!["oops", "test a::b ... ok"]);
    }

    #[test]
    fn a_hanging_run_is_killed_with_its_children_after_the_run_timeout() {
        let started = Instant::now();
        let done = run(
            &sh(
                "echo '     Running unittests src/lib.rs (x)'; sleep 30 & sleep 30",
                // The background ping is started before the line, so it exists when the clock starts,
                // and holds the output pipes as sh's `sleep 30 &` does.
                "start /b ping -n 31 127.0.0.1& echo      Running unittests src/lib.rs (x)& ping -n 31 127.0.0.1",
                1,
            ),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(done.timed_out(), Some(1));
        assert!(!done.exit_ok());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the group was killed, the pipes closed"
        );
    }

    #[test]
    fn the_run_clock_starts_only_when_the_tests_start() {
        let done = run(
            &sh(
                "sleep 1.5; echo done",
                "ping -n 3 127.0.0.1 >nul& echo done",
                1,
            ),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(done.timed_out(), None, "building is not running");
    }

    #[test]
    fn a_cancelled_run_stops_promptly() {
        let cancel = AtomicBool::new(true);
        let started = Instant::now();
        let done = run(
            &sh("sleep 30", "ping -n 31 127.0.0.1 >nul", 30),
            &mut |_| {},
            &cancel,
        )
        .unwrap();
        assert!(done.cancelled());
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn cancel_kills_a_running_tree_and_only_its_own() {
        let run_under = |flag: std::sync::Arc<AtomicBool>, tx: mpsc::Sender<String>| {
            thread::spawn(move || {
                let mut sink = |l: &str| {
                    let _ = tx.send(l.to_string());
                };
                let job = sh(
                    "echo started; sleep 30",
                    "echo started& ping -n 31 127.0.0.1 >nul",
                    30,
                );
                run(&job, &mut sink, &flag).unwrap()
            })
        };
        let (tx, rx) = mpsc::channel();
        let mine = std::sync::Arc::new(AtomicBool::new(false));
        let other = std::sync::Arc::new(AtomicBool::new(false));
        let a = run_under(mine.clone(), tx.clone());
        let b = run_under(other.clone(), tx);
        for _ in 0..2 {
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        let started = Instant::now();
        cancel(&mine);
        let done = a.join().unwrap();
        assert!(done.cancelled() && !done.exit_ok());
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!b.is_finished(), "the other run goes on");
        cancel(&other);
        assert!(b.join().unwrap().cancelled());
    }

    #[test]
    fn a_run_that_ends_leaves_the_groups_of_other_runs_registered() {
        // A save cancels a run and starts the next: the cancelled run ends while the new one
        // runs, and a SIGTERM then must still find the new run's group.
        let (tx, rx) = mpsc::channel();
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let long = thread::spawn(move || {
            run(
                &sh(
                    "echo $$; sleep 30",
                    "echo started& ping -n 31 127.0.0.1 >nul",
                    30,
                ),
                &mut |l| {
                    let _ = tx.send(l.to_string());
                },
                &flag,
            )
            .unwrap()
        });
        let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // The run's tree, as `cancel` finds it: by its flag.
        let pid = CANCELLABLE
            .lock()
            .unwrap()
            .iter()
            .find(|&&(owner, _)| owner == std::ptr::from_ref(&*cancel) as usize)
            .map(|&(_, tree)| tree)
            .unwrap();
        if cfg!(unix) {
            assert_eq!(
                first.trim(),
                pid.to_string(),
                "the tree is the shell's process group"
            );
        }
        assert!(active_trees().contains(&pid));
        let short = run(
            &sh("true", "exit 0", 5),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(short.exit_ok());
        assert!(
            active_trees().contains(&pid),
            "the run still going is registered after another run ended: {:?}",
            active_trees()
        );
        cancel.store(true, Ordering::SeqCst);
        assert!(long.join().unwrap().cancelled());
        assert!(
            !active_trees().contains(&pid),
            "a run ended is unregistered"
        );
    }

    #[test]
    fn a_helper_past_its_limit_is_killed() {
        let started = Instant::now();
        let (program, args) = shell("sleep 30", "ping -n 31 127.0.0.1 >nul");
        let job = Job::new(program, args, &std::env::temp_dir(), Duration::from_secs(1));
        assert!(capture(&job).unwrap().is_none());
        assert!(started.elapsed() < Duration::from_secs(10));
        let (program, args) = shell(
            "echo hi; echo oops >&2; exit 3",
            "echo hi& echo oops>&2& exit 3",
        );
        let job = Job::new(
            program,
            args,
            &std::env::temp_dir(),
            Duration::from_secs(10),
        );
        let out = capture(&job).unwrap().unwrap();
        assert!(!out.success);
        let eol = if cfg!(windows) { "\r\n" } else { "\n" };
        assert_eq!(out.stdout, format!("hi{eol}").as_bytes());
        assert_eq!(out.stderr, format!("oops{eol}").as_bytes());
    }

    #[test]
    fn every_child_process_starts_here() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == "process.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // A module's own tests may start the processes they test against.
            let text = text.split("\nmod tests {").next().unwrap();
            for needle in ["Command::new(", ".spawn()", ".output()", ".status()"] {
                assert!(
                    !text.contains(needle),
                    "{} starts a child itself (`{needle}`): use process::run or process::capture",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn huge_lines_are_cut_not_buffered_whole() {
        let mut longest = 0;
        // A file of one line, a megabyte long, for Windows's `type`, in the job's directory.
        let name = format!("mastery-huge-line-{}", std::process::id());
        let file = std::env::temp_dir().join(&name);
        std::fs::write(&file, vec![b'x'; 1_000_000]).unwrap();
        let done = run(
            &sh(
                "head -c 1000000 /dev/zero | tr '\\0' x",
                &format!("type {name}"),
                5,
            ),
            &mut |l| longest = longest.max(l.len()),
            &AtomicBool::new(false),
        )
        .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(done.exit_ok());
        assert!(
            longest <= MAX_LINE + 16 * 1024,
            "a line of {longest} bytes was kept whole"
        );
    }

    /// The runner's death (any death) closes its handle to the job object, and the job's
    /// kill-on-close takes the whole tree along: cmd and the ping it started in the background,
    /// which holds the output pipe. Dropping the `Job` is that close; the pipe then ends at
    /// once, not when the pings would have (30 seconds).
    #[cfg(windows)]
    #[test]
    fn closing_the_job_handle_kills_the_whole_tree() {
        let mut child = Command::new("cmd")
            .args([
                "/c",
                "start /b ping -n 31 127.0.0.1& echo started& ping -n 31 127.0.0.1",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let job = windows::Job::for_child(&child).expect("the child is in a job object");
        let mut out = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains("started") {
            let n = out.read(&mut buf).unwrap();
            assert!(n > 0, "cmd ended early: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        let closed = Instant::now();
        drop(job);
        let _ = out.read_to_end(&mut seen);
        assert!(
            closed.elapsed() < Duration::from_secs(10),
            "the background ping outlived the job: {}",
            String::from_utf8_lossy(&seen)
        );
        // (The pipe's end already says cmd is gone too: it held the pipe as well.)
        child.wait().unwrap();
    }
}
