#!/usr/bin/env python3
"""The test runner: unit tests, then every end-to-end test, for each build directory given.

    python3 tests/run.py [-k PATTERN] [--jobs N] BUILD_DIR[=PATTERN]...

A pattern after a build directory selects that build's end-to-end tests (its unit tests
run whole). Prints one line per test and ends with "N passed, N failed"; exits non-zero
on any failure. --jobs N runs N builds' tests at once, each build in a runner of its own
(make test: one per CPU): a test waits on a server's timeouts far more than it computes,
so two builds at once take little more than the longer one. The tests of a module with
ONCE run with the first build given, as without --jobs.

MPECHO_WRAP="valgrind --log-file=/tmp/vg.%p ..." runs every mpechod the tests start under
that command (its forked children stay under it too); read its logs after the run.

On the sanitizer build, a report (ASan, LeakSanitizer, UBSan) ends the program with status
SANITIZER_STATUS, which none of the three programs uses (ASan's default, 1, is also
mpecho-bench's "lost bytes" and mpechod's "cannot start"), and is written to a file in a
directory of the runner's, which the harness reads after every test: a report from a
process whose standard error no test reads (mpecho-bench's, a daemon's) fails the test too.
"""
import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "e2e"))
TEST_TIMEOUT = 120  # seconds for one test, a safety net: tests bound their own waits
# A test whose own bounds are longer (a package build) says so: fn.timeout = SECONDS.
SANITIZER_STATUS = 86  # see above


def sanitizer_setup():
    """Sanitizer reports into files of a directory every process may write (sessions run as
    nobody too), and their status; returns the directory."""
    directory = tempfile.mkdtemp(prefix="mpecho-sanitizer-")
    os.chmod(directory, 0o1777)
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        given = os.environ.get(var)
        os.environ[var] = (f"{given}:" if given else "") + \
            f"exitcode={SANITIZER_STATUS}:log_path={directory}/report"
    os.environ["UBSAN_OPTIONS"] += ":print_stacktrace=1"
    os.environ["MPECHO_SANITIZER_DIR"] = directory
    return directory


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test exceeded its time (TEST_TIMEOUT, or its own timeout attribute)")


def run_unit(build):
    exe = os.path.join(build, "unit")
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    sys.stdout.write(proc.stdout)
    m = re.search(r"unit: (\d+) passed, (\d+) failed", proc.stdout)
    if not m:
        print(f"FAIL [{build}] unit: no summary (status {proc.returncode})\n{proc.stderr}")
        return 0, 1
    p, f = int(m.group(1)), int(m.group(2))
    import harness
    reports = harness.sanitizer_reports()
    if proc.returncode != 0 or "runtime error" in proc.stderr or "Sanitizer" in proc.stderr or reports:
        f = max(f, 1)
        print(proc.stderr, *reports, sep="\n")
    print(f"{'ok  ' if f == 0 else 'FAIL'} [{build}] unit ({p} checks)")
    return (1, 0) if f == 0 else (0, 1)


def e2e_tests(pattern, first_build):
    """(name, function) of every test; a module with ONCE = True runs for the first build only
    (ONCE = a set of test names: those tests only)."""
    tests = []
    for name in sorted(os.listdir(os.path.join(HERE, "e2e"))):
        if name.startswith("test_") and name.endswith(".py"):
            mod = importlib.import_module(name[:-3])
            once = getattr(mod, "ONCE", False)
            if once is True and not first_build:
                continue
            for attr in dir(mod):
                fn = getattr(mod, attr)
                if attr.startswith("test_") and callable(fn) and (first_build or attr not in (once or ())):
                    full = f"{name[:-3]}.{attr}"
                    if pattern is None or re.search(pattern, full):
                        tests.append((full, fn))
    return tests


def at_once(builds, pattern, jobs):
    """Each build's tests in a runner of its own (tests/run.py --later for all but the first),
    jobs of them at a time; their lines as they come, then the sums of their last lines."""
    started = time.monotonic()
    lock, sums, failures, threads, procs = threading.Lock(), [0, 0], [], [], []
    stopping = threading.Event()

    def runner(i, spec):
        cmd = [sys.executable, os.path.abspath(__file__), *(["-k", pattern] if pattern else []),
               *(["--later"] if i else []), spec]
        with lock:
            if stopping.is_set():
                return
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            procs.append(proc)
        for line in proc.stdout:
            m = re.fullmatch(r"(\d+) passed, (\d+) failed\n", line)
            with lock:
                if m:
                    sums[0], sums[1] = sums[0] + int(m.group(1)), sums[1] + int(m.group(2))
                elif line.startswith("failed: "):
                    failures.append(line)
                elif not line.startswith("ran in ") and line != "\n":
                    sys.stdout.write(line)
                    sys.stdout.flush()
        if proc.wait() != 0 and not failures:
            with lock:
                failures.append(f"failed: the runner of {spec}: status {proc.returncode}\n")
                sums[1] += 1
    free = threading.Semaphore(jobs)

    def slot(i, spec):
        with free:
            runner(i, spec)
    try:
        for i, spec in enumerate(builds):
            threads.append(threading.Thread(target=slot, args=(i, spec)))
            threads[-1].start()
        for t in threads:
            t.join()
    finally:  # interrupted: each runner started is told to end what its test started, and waited for
        with lock:
            stopping.set()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
            proc.wait()
    print(f"\nran in {time.monotonic() - started:.0f}s")
    sys.stdout.write("".join(failures))
    print(f"{sums[0]} passed, {sums[1]} failed")
    return 1 if sums[1] else 0


def main():
    args = sys.argv[1:]
    pattern, jobs, later = None, 1, False
    while args and args[0] in ("-k", "--jobs", "--later"):
        if args[0] == "--later":
            later, args = True, args[1:]
        elif args[0] == "-k":
            pattern, args = args[1], args[2:]
        else:
            jobs, args = int(args[1]), args[2:]
    builds = args or ["build"]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: the finally clauses run
    if jobs > 1 and len(builds) > 1:
        return at_once(builds, pattern, jobs)
    failures = []
    signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    reports = sanitizer_setup()
    import guard
    import harness
    guard.note_dir(reports)  # removed below, or by the guard if this runner is killed outright
    try:
        passed, failed = run_builds(builds, pattern, later, failures)
    finally:  # also when interrupted: the servers of the test in hand run in sessions of their own
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        harness.cleanup()
        shutil.rmtree(reports, ignore_errors=True)
    print(f"\nran in {time.monotonic() - started:.0f}s")
    for f in failures:
        print(f"failed: {f}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_builds(builds, pattern, later, failures):
    """Each build's unit tests, then its end-to-end tests: (passed, failed); failures named."""
    passed = failed = 0
    for spec in builds:
        build, _, only = spec.partition("=")
        os.environ["MPECHO_BUILD"] = build
        import harness
        harness.BUILD = build
        if pattern is None:
            p, f = run_unit(build)
            passed, failed = passed + p, failed + f
            if f:
                failures.append(f"[{build}] unit")
        for name, fn in e2e_tests(pattern or only or None, spec == builds[0] and not later):
            t0 = time.monotonic()
            error = None
            signal.alarm(getattr(fn, "timeout", TEST_TIMEOUT))
            try:
                fn()
            except Exception:
                error = traceback.format_exc()
            finally:
                signal.alarm(0)
            leftovers, hits = harness.cleanup()
            if error is None and leftovers:
                error = f"processes left running by the test: {leftovers}"
            if error is None and hits:
                error = "sanitizer report:\n" + "\n".join(hits)
            dt = time.monotonic() - t0
            if error is None:
                passed += 1
                print(f"ok   [{build}] {name} ({dt:.1f}s)", flush=True)
            else:
                failed += 1
                failures.append(f"[{build}] {name}")
                print(f"FAIL [{build}] {name} ({dt:.1f}s)\n{error}", flush=True)
    return passed, failed


if __name__ == "__main__":
    sys.exit(main())
