//! Process trees left behind by a runner that died together with its guard (`pkill -9 -f
//! mastery` takes both): each tree the runner starts is recorded in `.mastery/groups/` while it
//! runs, and the next runner to start in the course kills the groups whose runner is gone.
//!
//! A record is a file named after the process group, holding the runner's pid and the start
//! times of the runner and of the group's leader. A group is killed only when its runner is no
//! longer the process that wrote the record and its leader is either gone or still the process
//! that was started (same start time), so a recycled pid is never signalled: the kernel does not
//! hand out a pid that is still some group's id. Unix only; elsewhere (and where a start time
//! cannot be read) nothing is recorded.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `.mastery/groups/` of the course this runner works in, once `watch_course` set it.
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Records the trees this runner starts in `dir`, after killing those a dead runner left there.
/// Returns how many groups were killed.
pub fn watch_course(dir: PathBuf) -> usize {
    let killed = reap(&dir);
    let _ = DIR.set(dir);
    killed
}

/// Notes a started tree (its process group, led by `leader`). Best effort: a course whose
/// `.mastery/` cannot be written loses only this safety net.
pub fn record(leader: i32) {
    let (Some(dir), Some(me), Some(started)) = (DIR.get(), me(), start_time(leader)) else {
        return;
    };
    let _ = std::fs::create_dir_all(dir);
    let text = format!("runner {} {}\nleader {started}\n", me.0, me.1);
    let _ = std::fs::write(dir.join(leader.to_string()), text);
}

/// Forgets a tree that was killed and reaped.
pub fn forget(leader: i32) {
    if let Some(dir) = DIR.get() {
        let _ = std::fs::remove_file(dir.join(leader.to_string()));
    }
}

/// This runner's pid and start time.
fn me() -> Option<(i32, u64)> {
    static ME: OnceLock<Option<(i32, u64)>> = OnceLock::new();
    *ME.get_or_init(|| {
        let pid = std::process::id() as i32;
        start_time(pid).map(|t| (pid, t))
    })
}

/// Kills the groups in `dir` whose runner is gone; removes their records.
fn reap(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(leader) = path
            .file_name()
            .and_then(|n| n.to_str()?.parse::<i32>().ok())
        else {
            continue;
        };
        let record = std::fs::read_to_string(&path).unwrap_or_default();
        match parse(&record) {
            Some(((runner, runner_started), _)) if start_time(runner) == Some(runner_started) => {
                // Its runner is alive: the tree is still in use.
            }
            Some((_, leader_started)) => {
                let now = start_time(leader);
                if leader > 1 && (now.is_none() || now == Some(leader_started)) {
                    // SAFETY: kill(2) of a process group; no memory effects.
                    if unsafe { libc::kill(-leader, libc::SIGKILL) } == 0 {
                        killed += 1;
                    }
                }
                let _ = std::fs::remove_file(&path);
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    killed
}

/// `((runner pid, runner start), leader start)` from a record.
fn parse(record: &str) -> Option<((i32, u64), u64)> {
    let mut lines = record.lines();
    let mut runner = lines.next()?.strip_prefix("runner ")?.split(' ');
    let pid = runner.next()?.parse().ok()?;
    let started = runner.next()?.parse().ok()?;
    let leader = lines.next()?.strip_prefix("leader ")?.parse().ok()?;
    Some(((pid, started), leader))
}

/// When the process `pid` started (in the system's own unit), or `None` if there is no such
/// process (or no way to tell).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count fields after its `)`.
    // `starttime` is field 22, the 20th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(target_os = "macos")]
fn start_time(pid: i32) -> Option<u64> {
    let mut info = std::mem::MaybeUninit::<libc::proc_bsdinfo>::zeroed();
    let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
    // SAFETY: proc_pidinfo writes at most `size` bytes into `info`, a buffer of that size.
    let n = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            info.as_mut_ptr().cast(),
            size,
        )
    };
    if n != size {
        return None;
    }
    // SAFETY: filled whole by the successful call above (and zeroed before).
    let info = unsafe { info.assume_init() };
    Some(info.pbi_start_tvsec * 1_000_000 + info.pbi_start_tvusec)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn start_time(_pid: i32) -> Option<u64> {
    None
}

#[cfg(all(test, any(target_os = "linux", target_os = "macos")))]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn records_are_read_back() {
        assert_eq!(parse("runner 12 345\nleader 678\n"), Some(((12, 345), 678)));
        assert_eq!(parse("runner 12\nleader 678\n"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn a_start_time_names_one_process() {
        let me = std::process::id() as i32;
        assert!(start_time(me).is_some());
        assert_eq!(start_time(me), start_time(me));
        assert_eq!(start_time(i32::MAX), None);
    }

    /// A group whose runner is gone is killed; one whose runner lives, or whose leader's pid now
    /// names another process, is left alone.
    #[test]
    fn only_the_groups_of_a_dead_runner_are_killed() {
        let dir = tempfile::tempdir().unwrap();
        let spawn = || {
            let mut cmd = Command::new("sleep");
            cmd.arg("60").stdin(Stdio::null());
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            cmd.spawn().unwrap()
        };
        let (mut orphan, mut kept, mut reused) = (spawn(), spawn(), spawn());
        let (me, my_start) = me().unwrap();
        let write = |child: &std::process::Child, runner: String, leader_started: u64| {
            let text = format!("{runner}\nleader {leader_started}\n");
            std::fs::write(dir.path().join(child.id().to_string()), text).unwrap();
        };
        let started = |c: &std::process::Child| start_time(c.id() as i32).unwrap();
        // A runner that is gone: our pid with another start time.
        write(
            &orphan,
            format!("runner {me} {}", my_start + 1),
            started(&orphan),
        );
        write(&kept, format!("runner {me} {my_start}"), started(&kept));
        write(
            &reused,
            format!("runner {me} {}", my_start + 1),
            started(&reused) + 1,
        );

        assert_eq!(reap(dir.path()), 1);
        let status = orphan.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
        for child in [&mut kept, &mut reused] {
            assert!(child.try_wait().unwrap().is_none(), "left running");
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "only the live runner's record stays");
    }
}
