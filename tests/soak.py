"""make soak: mixed load on mpechod while faults are injected; bounded, stops by itself.

For each model (fork, prefork), for SOAK_SECONDS (default 60) each: three mpecho-bench
runs at a time (connrate from 8 sources, pingpong, stream) in rounds of ROUND seconds,
while random faults hit the server: SIGKILL of random session or worker processes,
SIGSTOP/SIGCONT of the supervisor, SIGHUP and SIGUSR1 storms, the descriptor limit
(EMFILE) and the process limit (RLIMIT_NPROC: the server runs as nobody, so it applies)
flipped low and back, and the log disk (a 512 KiB tmpfs) filled and emptied.

Asserted: no byte ever corrupted or extra (every completed session byte-exact; sessions
killed on purpose may lose bytes or reset), no zombie after any round, the supervisor's
RSS and descriptor count flat (last round within RSS_MARGIN of the first, descriptors
within 2), every log line whole (none cut or glued by the full disk), a clean round without faults at the end with no error of any kind, then a clean
drain on SIGTERM (status 0, nothing left). Prints the figures; exits 1 on any failure.
"""
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "e2e"))
import harness  # noqa: E402
from harness import Server, binary, children, group_members, wait_until  # noqa: E402

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
ROUND = 5.0
RSS_MARGIN = 1.25          # the last round's RSS may be at most 25% over the first's...
RSS_SLACK_KB = 1024        # ...plus 1 MiB (allocator noise on a small process)
AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
LOADS = (["connrate", "-c", "32", "-S", "8"], ["pingpong", "-c", "16"],
         ["stream", "-c", "2", "-s", "65536"])


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(rf"^{key}:\s+(\d+)", f.read(), re.M).group(1))


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Faults:
    """The faults, each undone before it returns; counted by kind."""

    def __init__(self, srv, inside):
        self.srv, self.inside, self.count = srv, inside, {}

    def kill_child(self):
        kids = [p for p, v in children(self.srv.pid).items() if v[0] != "Z"]
        for pid in random.sample(kids, min(len(kids), random.randint(1, 3))):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop_cont(self):
        os.kill(self.srv.pid, signal.SIGSTOP)
        time.sleep(random.uniform(0.1, 0.6))
        os.kill(self.srv.pid, signal.SIGCONT)

    def storm(self, sig):
        for _ in range(50):
            os.kill(self.srv.pid, sig)
            time.sleep(0.002)

    def limit(self, which, low):
        """prlimit the supervisor low for a moment, then back (as its own user: this
        machine's root lacks CAP_SYS_RESOURCE, and a soft limit under the hard one is the
        owner's to set)."""
        prlimit = [*AS_NOBODY, "prlimit", f"--pid={self.srv.pid}"]
        old = subprocess.run([*prlimit, f"--{which}", "--raw", "--noheadings", "--output=SOFT,HARD"],
                             capture_output=True, text=True, check=True).stdout.split()
        subprocess.run([*prlimit, f"--{which}={low}:{old[1]}"], check=True)
        time.sleep(random.uniform(0.3, 1.0))
        subprocess.run([*prlimit, f"--{which}={old[0]}:{old[1]}"], check=True)

    def full_disk(self):
        filler = os.path.join(self.inside, "filler")
        try:
            with open(filler, "wb") as f:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        except OSError:  # ENOSPC: the disk is full
            pass
        time.sleep(random.uniform(0.5, 1.5))
        os.unlink(filler)

    def one(self):
        kind = random.choice(["kill", "kill", "stop", "hup", "usr1", "emfile", "nproc", "disk"])
        self.count[kind] = self.count.get(kind, 0) + 1
        {"kill": self.kill_child, "stop": self.stop_cont,
         "hup": lambda: self.storm(signal.SIGHUP), "usr1": lambda: self.storm(signal.SIGUSR1),
         "emfile": lambda: self.limit("nofile", fd_count(self.srv.pid) + 2),
         "nproc": lambda: self.limit("nproc", 2), "disk": self.full_disk}[kind]()


def bench_round(port, seconds, faults=None):
    """The three loads at once for `seconds`, faults between; their JSON results."""
    procs = [subprocess.Popen([binary("mpecho-bench"), "--json", "-q", "-d", str(seconds), "-w", "0",
                               "-T", "5", *load, "127.0.0.1", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for load in LOADS]
    end = time.monotonic() + seconds
    while faults is not None and time.monotonic() < end:
        faults.one()
        time.sleep(random.uniform(0.05, 0.4))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=seconds + 60)
        if not out.strip():
            raise harness.TestFailure(f"mpecho-bench gave no result (status {p.returncode}): {err}")
        results.append(json.loads(out))
    return results


def soak(model, seconds):
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        script = 'mount -t tmpfs -o size=512k,mode=1777 tmpfs "$0" && exec ' + " ".join(AS_NOBODY) + ' "$@"'
        srv = Server("--model", model, "-l", "127.0.0.1:0", "--log", f"{d}/log", "-c", "300",
                     "--grace", "5", ready=False,
                     prefix=("unshare", "-m", "--propagation", "private", "sh", "-c", script, d))
        inside = f"/proc/{srv.pid}/root{d}"
        wait_until(lambda: os.path.exists(f"{inside}/log") and "event=ready" in open(f"{inside}/log").read(),
                   10, "the ready line")
        port = int(re.search(r"event=listen addr=127\.0\.0\.1:(\d+)", open(f"{inside}/log").read()).group(1))
        faults = Faults(srv, inside)
        errors, ops, samples, zombies_seen = {}, 0, [], 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for r in bench_round(port, ROUND, faults):
                ops += r["ops"] or 0  # null in stream mode
                for k, v in r["errors"].items():
                    errors[k] = errors.get(k, 0) + (v or 0)
                if r["errors"]["corrupt"] or r["errors"]["extra"]:
                    raise harness.TestFailure(f"{model}: bytes corrupted or extra: {r}")
            zombies_seen = max(zombies_seen, len(srv.zombies()))
            wait_until(lambda: not srv.zombies(), 5, f"{model}: no zombie after a round")
            samples.append((status_kb(srv.pid, "VmRSS"), fd_count(srv.pid)))
        clean = bench_round(port, 3)
        bad = [r for r in clean if any(r["errors"].values()) or (not r["ops"] and not r["bytes"])]
        if bad:
            raise harness.TestFailure(f"{model}: the clean round after the faults had errors: {bad}")
        text = open(f"{inside}/log").read()
        whole = re.compile(r'time=\S+ level=\w+ event=[\w-]+( [\w-]+=("[^"]*"|\S*))*')
        broken = [l for l in text.split("\n")[:-1] if not whole.fullmatch(l) or re.search(r".time=\d{4}-", l)]
        if broken or not text.endswith("\n"):
            raise harness.TestFailure(f"{model}: log lines cut or glued: {broken[:3]}")
        dropped = sum(int(n) for n in re.findall(r"event=log-dropped count=(\d+)", text))
        t0 = time.monotonic()
        rc = srv.stop()
        drain = time.monotonic() - t0
        if rc != 0 or group_members(srv.pid):
            raise harness.TestFailure(f"{model}: drain: status {rc}, left {group_members(srv.pid)}")
        (rss0, fd0), (rss1, fd1) = samples[0], samples[-1]
        print(f"{model}: {len(samples)} rounds of {ROUND:.0f} s, {ops} sessions and messages, "
              f"faults {dict(sorted(faults.count.items()))}")
        print(f"  errors (from the faults: killed sessions, paused supervisor) {errors}")
        print(f"  supervisor RSS first/last/max {rss0}/{rss1}/{max(s[0] for s in samples)} KiB, "
              f"descriptors first/last/max {fd0}/{fd1}/{max(s[1] for s in samples)}; "
              f"zombies at a round's end {zombies_seen} (none 5 s later); "
              f"clean round {sum(r['ops'] for r in clean)} with 0 errors; drain {drain:.2f} s, status 0")
        print(f"  log: {len(text):,} bytes of a 512 KiB disk, {text.count(chr(10))} lines, all whole; "
              f"{dropped} reported lost (lines lost while the disk stays full are reported once "
              f"writing works again)")
        if rss1 > rss0 * RSS_MARGIN + RSS_SLACK_KB or abs(fd1 - fd0) > 2:
            raise harness.TestFailure(f"{model}: supervisor grew: RSS {rss0} -> {rss1} KiB, "
                                      f"descriptors {fd0} -> {fd1}")


def main():
    if os.geteuid() != 0:
        print("make soak needs root (a private mount for the log disk, limits on the server)")
        return 1
    random.seed(os.environ.get("SOAK_SEED", str(int(time.time()))))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: harness.cleanup() runs
    failed = False
    for model in ("fork", "prefork"):
        try:
            soak(model, SOAK_SECONDS)
        except Exception as e:  # noqa: BLE001 - report and go on to the next model
            print(f"FAIL {model}: {e}")
            failed = True
        finally:
            leftovers, hits = harness.cleanup()
            if leftovers or hits:
                print(f"FAIL {model}: left running {leftovers}; sanitizer {hits}")
                failed = True
    print("soak:", "FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
