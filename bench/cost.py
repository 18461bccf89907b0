"""make bench's CPU cost of each unit of work: the server's, and the load generator's own.

A run's CPU time is sampled every SAMPLE_S while mpecho-bench runs: the server's from /proc
over every process of its process group (each live thread's on-CPU time from the scheduler,
/proc/PID/task/TID/schedstat, which is the precise utime + stime; the children it has reaped
from cutime + cstime) and the generator's likewise. Both are interpolated at the measured window's ends (measure_start and
measure_end of mpecho-bench's --json), so warm-up, start and drain are left out, and divided by
the window's work: microseconds per connection (connrate), per message (pingpong), nanoseconds
per echoed byte (stream). On a 2-CPU machine that the generator and other work share, a
server's wall-clock rate is bounded by what it gets of the CPUs; its CPU per unit is not.

The generator's ceiling: the machine's CPUs divided by the generator's own CPU per unit, in
its runs against the epoll ceiling: the rate it could reach with every CPU to itself. A server
near it is measured by the generator, not the other way round.
"""
import json
import os
import statistics
import subprocess
import tempfile
import time

import cpu

SAMPLE_S = 0.25
UNITS = {"connrate": ("us/connection", 1e6), "pingpong": ("us/message", 1e6), "stream": ("ns/byte", 1e9)}


def on_cpu_s(pid):
    """Seconds pid's threads have run, from the scheduler's own count (/proc/PID/task/TID/schedstat,
    nanoseconds), 0 once it is gone. /proc/PID/stat's utime and stime are sampled at clock ticks:
    for a server of 256 processes that each run a few microseconds at a time they showed half of
    it (0.59 s against 1.16 s in one second of pingpong on the fork floor); for a few busy
    processes the two agree."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return total / 1e9


def group_cpu_s(pgid):
    """CPU seconds of process group pgid: every live process's threads (on_cpu_s), and the
    children its processes have reaped (cutime + cstime, in clock ticks: all /proc keeps of a
    process gone; a child reaped by no one, as with SIGCHLD ignored, leaves nothing)."""
    return sum(on_cpu_s(pid) + (int(fields[13]) + int(fields[14])) / cpu.TICK
               for pid, fields in cpu.group_members(pgid))


def at(samples, t, i):
    """Sample column i linearly interpolated at Unix time t (clamped to the samples' span)."""
    if t <= samples[0][0]:
        return samples[0][i]
    for a, b in zip(samples, samples[1:]):
        if a[0] <= t <= b[0]:
            return a[i] + (b[i] - a[i]) * (t - a[0]) / max(b[0] - a[0], 1e-9)
    return samples[-1][i]


def run(cmd, pgid, timeout):
    """Run mpecho-bench --json (cmd) against the server in process group pgid, sampling both
    CPU times: (its result with 'server_cpu_s' and 'client_cpu_s' in its measured window added,
    its exit status as 'status')."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, text=True)
        samples, deadline = [], time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                t0 = time.time()
                server, client = group_cpu_s(pgid), on_cpu_s(proc.pid)
                samples.append(((t0 + time.time()) / 2, server, client))   # a scan takes a while
                time.sleep(SAMPLE_S)
        finally:  # timed out, or interrupted: it ends here (its --procs generators with it)
            timed_out = proc.poll() is None
            if timed_out:
                proc.kill()
                proc.wait()
        if timed_out:
            return {"status": "timed out", "errors": "mpecho-bench did not finish"}
        out.seek(0)
        text = out.read()
    r = json.loads(text) if text.strip() else {}
    r["status"] = proc.returncode
    if len(samples) >= 2 and r.get("measure_start"):
        t0, t1 = r["measure_start"], r["measure_end"]
        r["server_cpu_s"] = at(samples, t1, 1) - at(samples, t0, 1)
        r["client_cpu_s"] = at(samples, t1, 2) - at(samples, t0, 2)
    return r


def per_unit(r, mode):
    """(server, generator) CPU per unit of r's work in UNITS[mode]'s unit, or (None, None)."""
    work = r.get("bytes") if mode == "stream" else r.get("ops")
    if r.get("status") != 0 or not work or "server_cpu_s" not in r:
        return None, None
    if r["server_cpu_s"] <= 0:   # children that died unreaped took their time along (fork floor)
        return None, None
    scale = UNITS[mode][1]
    return r["server_cpu_s"] * scale / work, r["client_cpu_s"] * scale / work


def record(d, r, mode):
    """Keep a passed round's CPU figures in d (a run.py data cell)."""
    server, client = per_unit(r, mode)
    if server is not None:
        d.setdefault("cpu", []).append(server)
        d.setdefault("client_cpu", []).append(client)


def median(d, key="cpu"):
    """The rounds' median, or None: none passed, or one counted no CPU at all (a server whose
    children die unreaped takes their time along; results of before per_unit() refused them)."""
    vals = d.get(key) or []
    return statistics.median(vals) if vals and min(vals) > 0 else None


def fmt(v):
    return "-" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:,.1f}" if v >= 1 else f"{v:.3f}"


def ceiling_row(data, measures, ceiling, cpus):
    """The generator's ceiling as a row of the main table: CPUs / its CPU per unit, as rates."""
    cells = []
    for key, _, args, _, _ in measures:
        c = median(data[ceiling][key], "client_cpu")
        mode = args[-1]
        if not c:
            cells.append("-")
        elif mode == "stream":
            cells.append(f"{cpus * 1e9 / c / 1e6:,.0f}")    # MB/s
        else:
            cells.append(f"{cpus * 1e6 / c:,.0f}")
    return "| mpecho-bench's own ceiling (CPUs / its CPU per unit, against the epoll ceiling) | " \
        + " | ".join(cells) + " |"


def report(data, names, measures, ceiling, cpus):
    """Lines of results.md: the server's CPU per unit of work, every server and measure."""
    lines = ["", "## CPU per unit of work", "",
             "The server's CPU time (every live thread of its process group from the scheduler's "
             "count, /proc/PID/task/TID/schedstat, and the children it reaped from cutime + cstime; "
             "interpolated at mpecho-bench's measured window) divided "
             "by the window's work; median of the rounds that passed. Lower is better, and it "
             "holds where the wall-clock rates do not: the generator shares the machine's "
             f"{cpus} CPUs with the server.", "",
             "| server | " + " | ".join(f"{m[1]} ({UNITS[m[2][-1]][0]})" for m in measures) + " |",
             "|---|" + "---:|" * len(measures)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(fmt(median(data[n][m[0]])) for m in measures) + " |")
    lines.append(f"| mpecho-bench, the generator (against the {ceiling}) | " + " | ".join(
        fmt(median(data[ceiling][m[0]], "client_cpu")) for m in measures) + " |")
    return lines
