//! A pseudo-terminal for driving `mastery watch` as a person would: what it prints is collected,
//! keys are written to it. Built on openpty(3) from libc.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub struct Pty {
    child: Child,
    writer: File,
    screen: Arc<Mutex<String>>,
}

impl Pty {
    #[track_caller]
    pub fn spawn(program: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Pty {
        Pty::spawn_as("xterm-256color", program, args, cwd, env)
    }

    /// Spawns with a given TERM (libtest colours through that terminal's terminfo).
    #[track_caller]
    pub fn spawn_as(
        term: &str,
        program: &str,
        args: &[&str],
        cwd: &Path,
        env: &[(&str, &str)],
    ) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let mut size = libc::winsize {
            ws_row: 50,
            ws_col: 160,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the given integers; no name buffer, no termios.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &raw mut size,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both fds were just opened by openpty and are owned here alone.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(cwd)
            .env("TERM", term)
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_PKG_NAME")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: between fork and exec only async-signal-safe calls: setsid and ioctl.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawning mastery in a pty");
        let master = File::from(master);
        let writer = master.try_clone().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = screen.clone();
        thread::spawn(move || {
            let mut master = master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Pty {
            child,
            writer,
            screen,
        }
    }

    /// True while the terminal is in raw mode (no line editing).
    pub fn is_raw(&self) -> bool {
        use std::os::fd::AsRawFd;
        let mut settings = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios when it returns 0; the master fd is open.
        let rc = unsafe { libc::tcgetattr(self.writer.as_raw_fd(), settings.as_mut_ptr()) };
        assert_eq!(rc, 0, "tcgetattr on the pty");
        // SAFETY: initialised by the successful call above.
        let settings = unsafe { settings.assume_init() };
        settings.c_lflag & libc::ICANON == 0
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    #[track_caller]
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on the child's pid has no memory effects.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, sig);
        }
    }

    pub fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    #[track_caller]
    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until `text` has appeared `count` times in everything printed so far.
    #[track_caller]
    pub fn expect_count(&self, text: &str, count: usize, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.screen().matches(text).count() >= count {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let screen = self.screen();
        let tail = &screen[screen.len().saturating_sub(3000)..];
        panic!("waited {secs} s for {count} x {text:?}; the screen ends with:\n{tail}");
    }

    #[track_caller]
    pub fn expect(&self, text: &str, secs: u64) {
        let seen = self.screen().matches(text).count();
        self.expect_count(text, seen.max(1), secs);
    }

    #[track_caller]
    pub fn wait(&mut self, secs: u64) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
