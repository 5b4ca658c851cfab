//! Running one cargo command: its own process group (so a timeout or a cancel kills cargo and
//! the test binary it started), its output streamed line by line to a sink and to the report,
//! a build limit and a run limit (the run clock starts when cargo starts the tests), and
//! cancellation. A child is always killed and reaped; Ctrl-C in the runner kills it too.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::outcome::{Report, strip_ansi};

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
    pub exit_ok: bool,
    /// Set when the job was killed for taking too long: the limit that was hit, in seconds.
    pub timed_out: Option<u64>,
    pub cancelled: bool,
}

/// The longest line kept whole; longer ones are cut (the rest still goes to the log).
const MAX_LINE: usize = 64 * 1024;

/// The process group of the job running now, so that a signal to the runner can end it.
static ACTIVE_GROUP: AtomicI32 = AtomicI32::new(0);

/// Runs the job to the end, a timeout, or `cancel`. Every line goes to `sink` (with its
/// colours) and, stripped, to the report.
pub fn run(job: &Job, sink: &mut dyn FnMut(&str), cancel: &AtomicBool) -> io::Result<Finished> {
    install_signal_forwarding();
    let mut cmd = Command::new(&job.program);
    cmd.args(&job.args)
        .current_dir(&job.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in &job.env_remove {
        cmd.env_remove(key);
    }
    cmd.envs(job.env.iter().map(|(k, v)| (k, v)));
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    ACTIVE_GROUP.store(pid, Ordering::SeqCst);

    let (tx, rx) = mpsc::sync_channel::<String>(256);
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
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
    drop(tx);

    let start = Instant::now();
    let mut run_start: Option<Instant> = None;
    let mut report = Report::default();
    let mut timed_out = None;
    let mut cancelled = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                report.line(&strip_ansi(&line));
                if report.tests_started && run_start.is_none() {
                    run_start = Some(Instant::now());
                }
                sink(&line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
        } else if run_start.is_some_and(|t| t.elapsed() > job.run_timeout) {
            timed_out = Some(job.run_timeout.as_secs());
        } else if start.elapsed() > job.total_timeout {
            timed_out = Some(job.total_timeout.as_secs());
        }
        if cancelled || timed_out.is_some() {
            kill_group(pid);
            // The pipes close once every process of the group is gone; drop what is left.
            while rx.recv_timeout(Duration::from_secs(5)).is_ok() {}
            break;
        }
    }
    let status = child.wait()?;
    ACTIVE_GROUP.store(0, Ordering::SeqCst);
    // Anything else still in the group (a test's own child) goes too.
    kill_group(pid);
    for reader in readers {
        let _ = reader.join();
    }
    Ok(Finished {
        report,
        exit_ok: status.success() && timed_out.is_none() && !cancelled,
        timed_out,
        cancelled,
    })
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

fn kill_group(pid: i32) {
    #[cfg(unix)]
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
}

/// On SIGINT, SIGTERM or SIGHUP the runner kills the job's process group, restores the
/// terminal, then dies of the signal as it would have: no cargo outlives the runner.
fn install_signal_forwarding() {
    #[cfg(unix)]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        extern "C" fn on_signal(sig: libc::c_int) {
            let pid = ACTIVE_GROUP.load(Ordering::SeqCst);
            // SAFETY: kill, tcsetattr, signal and raise are async-signal-safe; the termios is
            // only read, and was written once before the handler could run.
            unsafe {
                if pid > 0 {
                    libc::kill(-pid, libc::SIGKILL);
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
}

/// Runs a short helper command (a version probe, `git`) and returns its stdout when it succeeds.
pub fn output_of(program: &str, args: &[&str], cwd: &std::path::Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, run_secs: u64) -> Job {
        Job {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
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
            &sh("echo 'test a::b ... ok'; echo oops >&2", 5),
            &mut |l| lines.push(l.to_string()),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(done.exit_ok);
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
                1,
            ),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(done.timed_out, Some(1));
        assert!(!done.exit_ok);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the group was killed, the pipes closed"
        );
    }

    #[test]
    fn the_run_clock_starts_only_when_the_tests_start() {
        let done = run(
            &sh("sleep 1.5; echo done", 1),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(done.timed_out, None, "building is not running");
    }

    #[test]
    fn a_cancelled_run_stops_promptly() {
        let cancel = AtomicBool::new(true);
        let started = Instant::now();
        let done = run(&sh("sleep 30", 30), &mut |_| {}, &cancel).unwrap();
        assert!(done.cancelled);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn huge_lines_are_cut_not_buffered_whole() {
        let mut longest = 0;
        let done = run(
            &sh("head -c 1000000 /dev/zero | tr '\\0' x", 5),
            &mut |l| longest = longest.max(l.len()),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(done.exit_ok);
        assert!(
            longest <= MAX_LINE + 16 * 1024,
            "a line of {longest} bytes was kept whole"
        );
    }
}
