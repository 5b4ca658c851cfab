#!/usr/bin/env python3
"""Measures the runner against the bare cargo commands it wraps. Rerun it to check the numbers
in the README's "Runner speed" section.

    python3 scripts/bench-runner.py            # fixture course: run, watch, memory
    python3 scripts/bench-runner.py --course   # also verify over the real course vs cargo test

1. `mastery run STAGE` on a built stage vs the same cargo commands run bare (median of N).
2. Watch: from a save to the verdict on screen vs the bare `cargo test` time; ten saves within
   100 ms, counted in runs.
3. Peak resident memory of `mastery watch` after a series of runs.
4. (--course) `mastery verify --only test,doc` vs one `cargo test` over all exercise crates.
"""
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 15


def sh(cmd, cwd, check=True, env=None):
    e = dict(os.environ, NO_COLOR="1", RUST_BACKTRACE="0")
    e.pop("CARGO_TARGET_DIR", None)
    if env:
        e.update(env)
    return subprocess.run(cmd, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=check)


def timed(cmd, cwd):
    t = time.perf_counter()
    sh(cmd, cwd, check=False)
    return time.perf_counter() - t


def median_of(fn, n=N):
    return statistics.median(fn() for _ in range(n))


def main():
    sh(["cargo", "build", "--release", "--quiet"], ROOT)
    mastery = os.path.join(ROOT, "target", "release", "mastery")
    tmp = tempfile.mkdtemp(prefix="mastery-bench-")
    course = os.path.join(tmp, "course")
    shutil.copytree(os.path.join(ROOT, "tests", "fixture"), course, ignore=shutil.ignore_patterns("target"))
    stage = os.path.join(course, "exercises/01_demo/src/s01_add.rs")
    shutil.copy(os.path.join(course, "solutions/01_demo/src/s01_add.rs"), stage)
    sh([mastery, "run", "demo-add"], course)  # build once

    # 1. run vs bare cargo
    bare = [["cargo", "test", "-p", "demo", "--color=never", "--lib", "--", "s01_add::", "--color=never"],
            ["cargo", "test", "-p", "demo", "--color=never", "--doc", "--", "src/s01_add.rs", "--color=never"]]
    t_bare = median_of(lambda: sum(timed(c, course) for c in bare))
    t_run = median_of(lambda: timed([mastery, "run", "demo-add"], course))
    print(f"run:    mastery run {t_run*1000:7.1f} ms   bare cargo {t_bare*1000:7.1f} ms   ratio {t_run/t_bare:.3f}  (limit 1.05)")

    # 2. watch latency and debounce, 3. memory
    # A save changes the file's mtime, so the bare command rebuilds the crate too.
    def saved_then_bare():
        os.utime(stage)
        return sum(timed(c, course) for c in bare)

    t_test = median_of(saved_then_bare, 7)
    with open(os.path.join(course, ".mastery", "state.toml"), "w") as f:
        f.write('current = "demo-add"\npassed = ["demo-add"]\n')
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(course)
        os.environ.update(NO_COLOR="1", RUST_BACKTRACE="0", TERM="xterm")
        os.execv(mastery, [mastery])
    screen = bytearray()

    def pump(until, timeout):
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            r, _, _ = select.select([fd], [], [], 0.005)
            if r:
                try:
                    screen.extend(os.read(fd, 65536))
                except OSError:
                    break
            if until():
                return time.perf_counter()
        raise SystemExit(f"timed out; screen ends with {bytes(screen[-500:])!r}")

    passed = lambda: screen.count(b"Stage passed")
    pump(lambda: passed() >= 1, 120)
    body = open(stage).read()
    latencies = []
    for i in range(N):
        before = passed()
        time.sleep(0.3)
        t0 = time.perf_counter()
        with open(stage, "w") as f:
            f.write(body)
        t1 = pump(lambda: passed() > before, 60)
        latencies.append(t1 - t0)
    lat = statistics.median(latencies)
    print(f"watch:  save to verdict {lat*1000:7.1f} ms   bare cargo after a save {t_test*1000:7.1f} ms   overhead {(lat - t_test)*1000:6.1f} ms  (limit 150)")

    runs_before = screen.count(b"Demo 1/4")
    passed_before = passed()
    t0 = time.perf_counter()
    for _ in range(10):
        with open(stage, "w") as f:
            f.write(body)
        time.sleep(0.009)
    burst = time.perf_counter() - t0
    pump(lambda: passed() > passed_before, 60)
    time.sleep(1.0)
    pump(lambda: True, 0.1)
    runs = screen.count(b"Demo 1/4") - runs_before
    print(f"burst:  10 saves in {burst*1000:.0f} ms caused {runs} run(s)  (limit 1)")

    status = open(f"/proc/{pid}/status").read()
    hwm = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    print(f"memory: resident {rss/1024:.1f} MB now, peak {hwm/1024:.1f} MB after {N + 2} runs  (limit 30)")
    os.write(fd, b"q")
    os.waitpid(pid, 0)

    # 4. verify vs cargo test over every exercise crate
    if "--course" in sys.argv:
        sh(["cargo", "test", "--workspace", "--exclude", "mastery", "--no-run"], ROOT, check=False)
        t_cargo = median_of(lambda: timed(["cargo", "test", "--workspace", "--exclude", "mastery", "--no-fail-fast"], ROOT), 3)
        t_verify = median_of(lambda: timed([mastery, "verify", "--only", "test,doc"], ROOT), 3)
        print(f"verify: mastery verify {t_verify:6.2f} s   cargo test (all exercises) {t_cargo:6.2f} s   ratio {t_verify/t_cargo:.2f}  (limit 1.2)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
