"""make bench's Unix-socket runs: mpechod on a Unix-domain socket side by side with socat.

Each server listens on a socket file in a private directory; mpecho-bench runs pingpong
16 x 64 B and one stream against it, rounds in rotating order, medians.
"""
import json
import os
import socket
import statistics
import subprocess

from procs import started, stop

MEASURES = (("pingpong", ["-c", "16", "-s", "64", "pingpong"], "ops_per_s", "messages/s"),
            ("stream1", ["-c", "1", "stream"], "mb_per_s", "MB/s"))


def servers(mpechod):
    return [("mpechod fork", lambda p: [mpechod, "-q", "-l", f"unix:{p}", "--idle-timeout", "0"]),
            ("mpechod prefork", lambda p: [mpechod, "-q", "--model", "prefork", "-l", f"unix:{p}",
                                           "--start", "32", "--min-spare", "24", "--max-spare", "64",
                                           "--idle-timeout", "0"]),
            ("socat", lambda p: ["socat", f"UNIX-LISTEN:{p},fork,backlog=511", "PIPE"])]


def unix_answers(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
    return True


def unix_test(mpechod, bench, tmp, rounds, seconds):
    """{server: {measure: median}} and the runs' statuses."""
    table = servers(mpechod)
    runs = {name: {m[0]: [] for m in MEASURES} for name, _ in table}
    bad = []
    for rnd in range(rounds):
        for name, make in table[rnd % len(table):] + table[:rnd % len(table)]:
            path = os.path.join(tmp, "bench.sock")
            if os.path.exists(path):
                os.unlink(path)
            proc = started(make(path), lambda: unix_answers(path), path)
            try:
                for key, args, field, _ in MEASURES:
                    run = subprocess.run([bench, "--json", "-q", "-d", str(seconds), "-w", "1", *args,
                                          f"unix:{path}"], capture_output=True, text=True,
                                         timeout=seconds + 60)
                    r = json.loads(run.stdout) if run.stdout.strip() else {}
                    runs[name][key].append(r.get(field) or 0)
                    if run.returncode != 0:
                        bad.append(f"{name} {key}: status {run.returncode} {r.get('errors')}")
            finally:
                stop(proc)
    return {n: {k: statistics.median(v) for k, v in ms.items()} for n, ms in runs.items()}, bad


def report(unix, bad):
    if not unix:
        return []
    ref = unix["socat"]
    lines = ["", "## On a Unix-domain socket", "",
             "The same client against each server listening on a socket file (`-l unix:PATH`; socat's "
             "`UNIX-LISTEN:PATH,fork,backlog=511 PIPE`); medians of the rounds, ratios against socat.", "",
             "| server | " + " | ".join(f"{k} ({u})" for k, _, _, u in MEASURES) + " |",
             "|---|" + "---:|" * len(MEASURES)]
    for name, ms in unix.items():
        lines.append(f"| {name} | " + " | ".join(
            f"{ms[k]:,.0f} ({ms[k] / ref[k]:.2f}x)" if ref[k] else f"{ms[k]:,.0f}" for k, _, _, _ in MEASURES)
            + " |")
    if bad:
        lines += ["", "Runs with errors: " + "; ".join(bad)]
    return lines
