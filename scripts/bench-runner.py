#!/usr/bin/env python3
"""Measures the runner against the bare cargo commands it wraps. Rerun it to check the numbers
in the README's "Speed" section.

    python3 scripts/bench-runner.py                # fixture course: run, watch, burst, memory
    python3 scripts/bench-runner.py --course       # also the real course: watch vs its floor, verify
    python3 scripts/bench-runner.py --first-run    # also a fresh clone: `cargo run --release` to the first verdict
    options: --rounds N (default 15), --only course|first-run, --mastery PATH (another build of
    the runner, to compare), --first-run-rev REV (default HEAD), --first-run-rounds N (default 1)

1. `mastery run STAGE` on a built stage vs the same cargo command run bare (median of N).
2. Watch, fixture: from a save to the verdict on screen vs the bare command after the same save;
   ten saves in a burst, counted in completed runs. Peak resident memory of the loop.
3. Watch, real course (--course): stage `iterators-map-filter` (its stub fails 13 of its 14
   tests; the stage before it is solved). A failing save (the stub written again) and
   fail -> pass (the solution written over the stub), from the write to the verdict on screen,
   against their floors: the bare cargo commands after the same write, in a second copy of the
   course that no watch loop sees. Rounds are interleaved (bare, watch, bare, ...) and the
   medians are printed with every sample, since the machine may be shared.
   Floors: a failing save, `cargo test --lib` alone (the cheapest command that gives the
   verdict) and the one invocation the runner uses; fail -> pass, the one invocation, and the
   two invocations (`--lib`, then `--doc`) the runner used before.
4. `mastery verify --only test,doc` vs one `cargo test` over all exercise crates (--course).
5. First run (--first-run): `git clone` of this repository (its committed REV, so commit first),
   then `cargo run --release` in a pseudo-terminal, timed to cargo's `Finished` line and to the
   first verdict on screen. Crates already in ~/.cargo/registry are not downloaded again: the
   time is the build and the first run, not the network.
"""
import os
import pty
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


N = int(arg("--rounds", "15"))
ONLY = arg("--only", None)


def clean_env(extra=None):
    e = dict(os.environ, NO_COLOR="1", RUST_BACKTRACE="0")
    for k in ["CARGO_TARGET_DIR", "RUSTUP_TOOLCHAIN", "RUST_RECURSION_COUNT"]:
        e.pop(k, None)
    if extra:
        e.update(extra)
    return e


def sh(cmd, cwd, check=True):
    return subprocess.run(cmd, cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=check)


def timed(cmd, cwd):
    t = time.perf_counter()
    sh(cmd, cwd, check=False)
    return time.perf_counter() - t


def write(path, body):
    # A save as an editor does it in place: open (truncating), write, close.
    with open(path, "w") as f:
        f.write(body)


def ms(x):
    return f"{x * 1000:7.1f} ms"


def samples(xs):
    return " ".join(f"{x * 1000:.0f}" for x in xs)


def cargo_test(package, *args):
    return ["cargo", "test", "-p", package, "--color=never", *args]


class Watch:
    """`mastery watch` in a pseudo-terminal, its screen read as it comes."""

    def __init__(self, argv, cwd, env=None):
        self.screen = bytearray()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(cwd)
            os.execvpe(argv[0], argv, clean_env(dict(TERM="xterm", **(env or {}))))

    def pump(self, until, timeout):
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            r, _, _ = select.select([self.fd], [], [], 0.002)
            if r:
                try:
                    self.screen.extend(os.read(self.fd, 65536))
                except OSError:
                    break
            if until():
                return time.perf_counter()
        raise SystemExit(f"timed out; the screen ends with {bytes(self.screen[-1500:])!r}")

    def drain(self, seconds):
        """Reads the screen for `seconds` (the loop must never block on a full terminal)."""
        end = time.perf_counter() + seconds
        self.pump(lambda: time.perf_counter() >= end, seconds + 1)

    def count(self, text):
        return self.screen.count(text)

    def after_write(self, path, body, text, timeout=120):
        """Writes `path` and returns the seconds until `text` shows once more."""
        self.drain(0.3)  # settle, and read what is pending
        before = self.count(text)
        t0 = time.perf_counter()
        write(path, body)
        return self.pump(lambda: self.count(text) > before, timeout) - t0

    def quit(self):
        try:
            os.write(self.fd, b"q")
            self.pump(lambda: b"Progress saved" in self.screen, 20)
        except SystemExit:
            os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)


def copy_course(to):
    """The committed course (no learner's progress, no target directory)."""
    os.makedirs(to)
    archive = subprocess.run(["git", "-C", ROOT, "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", to], input=archive, check=True)


def fixture(mastery, tmp):
    course = os.path.join(tmp, "fixture")
    shutil.copytree(os.path.join(ROOT, "tests", "fixture"), course, ignore=shutil.ignore_patterns("target"))
    stage = os.path.join(course, "exercises/01_demo/src/s01_add.rs")
    shutil.copy(os.path.join(course, "solutions/01_demo/src/s01_add.rs"), stage)
    sh([mastery, "run", "demo-add"], course)  # build once

    one = cargo_test("demo", "--", "s01_add::", "src/s01_add.rs", "--color=never")
    t_bare = statistics.median(timed(one, course) for _ in range(N))
    t_run = statistics.median(timed([mastery, "run", "demo-add"], course) for _ in range(N))
    print(f"run:    mastery run {ms(t_run)}   bare cargo {ms(t_bare)}   ratio {t_run / t_bare:.3f}  (limit 1.05)")

    body = open(stage).read()
    with open(os.path.join(course, ".mastery", "state.toml"), "w") as f:
        f.write('current = "demo-add"\npassed = ["demo-add"]\n')
    w = Watch([mastery], course)
    w.pump(lambda: w.count(b"Stage passed") >= 1, 120)
    bare, watched = [], []
    for _ in range(N):
        write(stage, body)
        bare.append(timed(one, course))
        watched.append(w.after_write(stage, body, b"Stage passed"))
    lat, floor = statistics.median(watched), statistics.median(bare)
    print(f"watch:  save to verdict {ms(lat)}   bare cargo after a save {ms(floor)}   overhead {(lat - floor) * 1000:6.1f} ms  (limit 50)")

    w.drain(0.5)
    passed_before = w.count(b"Stage passed")
    t0 = time.perf_counter()
    for _ in range(10):
        write(stage, body)
        time.sleep(0.009)
    burst = time.perf_counter() - t0
    w.pump(lambda: w.count(b"Stage passed") > passed_before, 60)
    w.drain(2.0)
    runs = w.count(b"Stage passed") - passed_before
    print(f"burst:  10 saves in {burst * 1000:.0f} ms ended in {runs} completed run(s)  (limit 1)")

    status = open(f"/proc/{w.pid}/status").read()
    hwm = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    print(f"memory: resident {rss / 1024:.1f} MB now, peak {hwm / 1024:.1f} MB after {N + 2} saves  (limit 30)")
    w.quit()


def real_course(mastery, tmp):
    pkg, module, name = "iterators", "s02_map_filter", "iterators-map-filter"
    rel = f"exercises/01_iterators/src/{module}.rs"
    copies = {}
    for which in ["watch", "bare"]:
        c = os.path.join(tmp, f"course-{which}")
        copy_course(c)
        shutil.copy(os.path.join(c, "solutions/01_iterators/src/s01_trait.rs"),
                    os.path.join(c, "exercises/01_iterators/src/s01_trait.rs"))
        os.makedirs(os.path.join(c, ".mastery"))
        with open(os.path.join(c, ".mastery", "state.toml"), "w") as f:
            f.write(f'current = "{name}"\npassed = ["iterators-trait"]\n')
        copies[which] = c
    stub = open(os.path.join(copies["bare"], rel)).read()
    solution = open(os.path.join(copies["bare"], "solutions/01_iterators/src", f"{module}.rs")).read()

    lib = cargo_test(pkg, "--lib", "--", f"{module}::", "--color=never")
    doc = cargo_test(pkg, "--doc", "--", f"src/{module}.rs", "--color=never")
    one = cargo_test(pkg, "--", f"{module}::", f"src/{module}.rs", "--color=never")
    bare = copies["bare"]
    stage_bare = os.path.join(bare, rel)
    for body in [solution, stub]:  # build both ways once
        write(stage_bare, body)
        for cmd in [lib, doc, one]:
            sh(cmd, bare, check=False)
    sh([mastery, "run", name], copies["watch"], check=False)

    stage_watch = os.path.join(copies["watch"], rel)
    w = Watch([mastery], copies["watch"])
    fail_text, pass_text, banner = b"Not yet.", b"Stage passed", f"({name})".encode()
    w.pump(lambda: w.count(fail_text) >= 1, 300)

    r = {k: [] for k in ["fail_lib", "fail_one", "pass_one", "pass_two", "w_fail", "w_pass", "w_first"]}
    for i in range(N):
        def bare_round():
            write(stage_bare, stub)
            r["fail_lib"].append(timed(lib, bare))
            write(stage_bare, stub)
            r["fail_one"].append(timed(one, bare))
            write(stage_bare, solution)
            r["pass_one"].append(timed(one, bare))
            write(stage_bare, stub)
            sh(lib, bare, check=False)
            write(stage_bare, solution)
            r["pass_two"].append(timed(lib, bare) + timed(doc, bare))

        def watch_round():
            r["w_fail"].append(w.after_write(stage_watch, stub, fail_text))
            r["w_pass"].append(w.after_write(stage_watch, solution, pass_text))
            w.after_write(stage_watch, stub, fail_text)
            # The first output after a save: the screen is cleared and the stage's banner shown.
            w.drain(0.3)
            before = w.count(banner)
            t0 = time.perf_counter()
            write(stage_watch, stub)
            r["w_first"].append(w.pump(lambda: w.count(banner) > before, 60) - t0)
            w.pump(lambda: w.count(fail_text) > 0 and w.screen.rfind(fail_text) > w.screen.rfind(banner), 120)

        for part in ([bare_round, watch_round] if i % 2 == 0 else [watch_round, bare_round]):
            part()
        print(f"  round {i + 1}/{N} done", file=sys.stderr)
    w.quit()

    med = {k: statistics.median(v) for k, v in r.items()}
    print(f"course: stage {name}, {N} interleaved rounds, medians (samples in ms)")
    for k, label in [("fail_lib", "bare `cargo test --lib` after a failing save"),
                     ("fail_one", "bare one invocation (tests + doctests) after a failing save"),
                     ("w_fail", "watch: failing save to verdict"),
                     ("pass_two", "bare `--lib` then `--doc` after fail -> pass (before)"),
                     ("pass_one", "bare one invocation after fail -> pass"),
                     ("w_pass", "watch: fail -> pass to verdict"),
                     ("w_first", "watch: save to the first output")]:
        print(f"  {label:62} {ms(med[k])}   [{samples(r[k])}]")
    floor_fail = min(med["fail_lib"], med["fail_one"])
    floor_pass = min(med["pass_one"], med["pass_two"])
    print(f"  failing save: watch {ms(med['w_fail'])} vs floor {ms(floor_fail)}: {(med['w_fail'] - floor_fail) * 1000:+.0f} ms  (limit +50)")
    print(f"  fail -> pass: watch {ms(med['w_pass'])} vs floor {ms(floor_pass)}: {(med['w_pass'] - floor_pass) * 1000:+.0f} ms  (limit +50);"
          f" vs the two invocations of before {med['w_pass'] / med['pass_two']:.2f}x")


def verify(mastery):
    sh(["cargo", "test", "--workspace", "--exclude", "mastery", "--no-run"], ROOT, check=False)
    t_cargo = statistics.median(timed(["cargo", "test", "--workspace", "--exclude", "mastery", "--no-fail-fast"], ROOT) for _ in range(3))
    t_verify = statistics.median(timed([mastery, "verify", "--only", "test,doc"], ROOT) for _ in range(3))
    print(f"verify: mastery verify {t_verify:6.2f} s   cargo test (all exercises) {t_cargo:6.2f} s   ratio {t_verify / t_cargo:.2f}  (limit 1.2)")


def first_run(tmp):
    rev = arg("--first-run-rev", "HEAD")
    rounds = int(arg("--first-run-rounds", "1"))
    for i in range(rounds):
        clone = os.path.join(tmp, f"fresh-{i}")
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", ROOT, clone], check=True)
        subprocess.run(["git", "-C", clone, "checkout", "--quiet", rev], check=True)
        t0 = time.perf_counter()
        w = Watch(["cargo", "run", "--release"], clone)
        t_built = w.pump(lambda: b"Finished `release`" in w.screen, 3600) - t0
        t_verdict = w.pump(lambda: b"Not yet." in w.screen, 3600) - t0
        w.quit()
        print(f"first run ({rev}): fresh clone, `cargo run --release`: runner built {t_built:6.1f} s, first verdict {t_verdict:6.1f} s")


def main():
    tmp = tempfile.mkdtemp(prefix="mastery-bench-")
    try:
        if ONLY != "first-run":
            mastery = arg("--mastery", None)
            if mastery is None:
                sh(["cargo", "build", "--release", "--quiet"], ROOT)
                mastery = os.path.join(ROOT, "target", "release", "mastery")
            print(f"runner: {mastery}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            if ONLY is None:
                fixture(mastery, tmp)
            if "--course" in sys.argv or ONLY == "course":
                real_course(mastery, tmp)
                if ONLY is None:
                    verify(mastery)
        if "--first-run" in sys.argv or ONLY == "first-run":
            first_run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
