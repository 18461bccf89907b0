#!/usr/bin/env python3
"""make bench: mpechod side by side with the echo servers a user would pick instead.

    python3 bench/run.py [--rounds N] [--seconds S] [--out DIR] [--from-json results.json]

Every server is started on loopback by this script and stopped by it. The same
loads run against each server in turn, round after round (the order rotates each
round so no server always runs first); each figure is the median of the rounds.
Ratios are against the Node.js server measured in the same run. Writes
bench/results.md, bench/results.svg, the two as one web page in bench/results.html
(bench/page.py), and the raw figures in bench/results.json.
"""
import argparse
import json
import os
import platform
import shutil
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "e2e"))
import big  # noqa: E402
import cost  # noqa: E402
import cpu  # noqa: E402
import guard  # noqa: E402  (tests/e2e/guard.py: the servers end even if make bench is killed outright)
import page  # noqa: E402
from procs import xinetd_config  # noqa: E402
import scale  # noqa: E402
import targets  # noqa: E402
import tls  # noqa: E402
import pairs  # noqa: E402
import udp  # noqa: E402
import unix  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
MPECHOD = os.path.join(BUILD, "mpechod")
MPECHOD_STATIC = os.path.join(BUILD, "static", "mpechod")   # make static
BENCH = os.path.join(BUILD, "mpecho-bench")
NODE_JS = ("const net = require('net');"
           "net.createServer(s => { s.on('error', () => {}); s.pipe(s); })"
           ".listen(+process.argv[1], '127.0.0.1');")

# name, command for a port (tmp: a private directory for config files)
SERVERS = [
    ("mpechod fork", lambda p, tmp: [MPECHOD, "-q", "-l", f"127.0.0.1:{p}", "-c", "2000",
                                     "--idle-timeout", "0"]),
    ("mpechod fork, static", lambda p, tmp: [MPECHOD_STATIC, "-q", "-l", f"127.0.0.1:{p}", "-c", "2000",
                                             "--idle-timeout", "0"]),
    ("mpechod prefork", lambda p, tmp: [MPECHOD, "-q", "--model", "prefork", "-l", f"127.0.0.1:{p},deferred",
                                        "-c", "2000", "--start", "32", "--min-spare", "24",
                                        "--max-spare", "64", "--idle-timeout", "0"]),
    ("mpechod loop", lambda p, tmp: [MPECHOD, "-q", "-m", "loop", "-l", f"127.0.0.1:{p},deferred",
                                     "-c", "2000", "--idle-timeout", "0"]),
    ("socat", lambda p, tmp: ["socat", f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr,fork,backlog=511",
                              "PIPE"]),
    ("tcpserver", lambda p, tmp: ["tcpserver", "-q", "-R", "-H", "-l", "0", "-c", "1000", "-b", "511",
                                  "127.0.0.1", str(p), "cat"]),
    ("ncat", lambda p, tmp: ["ncat", "-k", "-l", "127.0.0.1", str(p), "--max-conns", "1000",
                             "--exec", "/bin/cat"]),
    ("xinetd", lambda p, tmp: ["xinetd", "-dontfork", "-f", xinetd_conf(tmp, p),
                               "-pidfile", os.path.join(tmp, "xinetd.pid")]),
    ("node", lambda p, tmp: ["node", "-e", NODE_JS, str(p)]),
    ("epoll ceiling", lambda p, tmp: [os.path.join(BUILD, "ref", "epoll_echo"), str(p)]),
    ("fork floor", lambda p, tmp: [os.path.join(BUILD, "ref", "fork_echo"), str(p)]),
]
REFERENCE = "node"
CEILING = "epoll ceiling"   # bench/ref/epoll_echo.c: one epoll loop per process, one process per CPU
FLOOR = "fork floor"        # bench/ref/fork_echo.c: accept, fork, echo, exit
BURST_SERVERS = ("mpechod fork", "mpechod fork, static", "mpechod prefork", "mpechod loop", "node",
                 "epoll ceiling")
# The burst admits all its clients at once, as Node.js does: the fork-model servers run with
# -c above it (prefork keeps the table's: its workers take each connection from the queue).
# The dynamic fork build also runs as the table runs it (-c 2000), to show what a limit below
# the burst costs: the listen backlog (mpechod's default 4096, capped by somaxconn) fills and SYNs
# are resent a second later.
BURST_MAX_CONNS = "10100"
BURST_AT_TABLE_LIMIT = "mpechod fork, -c 2000"
BUILDS = {"fork": ("mpechod fork", "mpechod fork, static"), "prefork": ("mpechod prefork",),
          "loop": ("mpechod loop",)}
PAIRED = ("mpechod loop", CEILING)   # pairs.py: run back to back for issue 23's targets

# key, title, mpecho-bench arguments, JSON field, unit
MEASURES = [
    ("connrate", "connrate 16 x 64 B", ["-c", "16", "-s", "64", "-S", "16", "connrate"], "ops_per_s",
     "sessions/s"),
    ("connrate256", "connrate 256 x 64 B", ["-c", "256", "-s", "64", "-S", "16", "connrate"], "ops_per_s",
     "sessions/s"),
    ("pingpong", "pingpong 16 x 64 B", ["-c", "16", "-s", "64", "pingpong"], "ops_per_s", "messages/s"),
    ("pingpong256", "pingpong 256 x 64 B", ["-c", "256", "-s", "64", "pingpong"], "ops_per_s", "messages/s"),
    ("stream1", "stream 1 connection", ["-c", "1", "stream"], "mb_per_s", "MB/s"),
    ("stream8", "stream 8 connections", ["-c", "8", "stream"], "mb_per_s", "MB/s"),
]
PAIRED_KEYS = ("connrate", "connrate256", "pingpong", "pingpong256")
PAIRED_MEASURES = [m for m in MEASURES if m[0] in PAIRED_KEYS]
PAIRED_SERVERS = [(n, m) for p in PAIRED for n, m in SERVERS if n == p]


def burst_servers():
    """The burst's (name, command) pairs: BURST_SERVERS, the fork model's -c raised to
    BURST_MAX_CONNS, and the dynamic fork build as the table runs it (BURST_AT_TABLE_LIMIT)."""
    def raised(make):
        def cmd(p, tmp):
            args = make(p, tmp)
            return [BURST_MAX_CONNS if i > 0 and args[i - 1] == "-c" else a
                    for i, a in enumerate(args)]
        return cmd
    out = [(name, raised(make) if name.startswith(("mpechod fork", "mpechod loop")) else make)
           for name, make in SERVERS if name in BURST_SERVERS]
    return out + [(BURST_AT_TABLE_LIMIT, dict(SERVERS)["mpechod fork"])]


def xinetd_conf(tmp, port):
    path = os.path.join(tmp, "xinetd.conf")
    if os.path.isdir(tmp):
        with open(path, "w") as f:
            f.write(xinetd_config(port))
    return path


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server never listened")


class Running:
    """One server, in its own process group, ended with everything it started."""

    def __init__(self, name, make_cmd, tmp):
        self.name = name
        self.port = free_port()
        self.proc = subprocess.Popen(make_cmd(self.port, tmp), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        guard.note(self.proc.pid)
        try:
            wait_listening(self.port, self.proc)
        except RuntimeError:
            self.stop()
            raise
        time.sleep(0.3)  # let a prefork pool fill before the first load

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # children that outlived their parent
        except ProcessLookupError:
            pass


def run_bench(args, srv, seconds, warmup=1.0):
    """One load against srv (a Running); its result, with the CPU times of its measured window."""
    cmd = [BENCH, "--json", "-q", "-d", str(seconds), "-w", str(warmup), *args, "127.0.0.1", str(srv.port)]
    result = cost.run(cmd, srv.proc.pid, seconds + warmup + 60)
    result.pop("intervals", None)   # each second's histogram: results.json keeps the totals
    return result


def versions():
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    def deb(pkg):
        return first_line(["dpkg-query", "-W", "-f", "${Version}", pkg])
    return {
        "mpechod": first_line([MPECHOD, "--version"]),
        "socat": first_line(["socat", "-V"]).replace("socat by Gerhard Rieger and contributors - see www.dest-unreach.org", "") or deb("socat"),
        "tcpserver": "ucspi-tcp " + deb("ucspi-tcp"),
        "ncat": first_line(["ncat", "--version"]),
        "xinetd": "xinetd " + deb("xinetd"),
        "node": "node " + first_line(["node", "--version"]),
        "epoll": "bench/ref/epoll_echo.c",
        "fork": "bench/ref/fork_echo.c",
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def record(d, r, field):
    """One round's result into d: its figure and latency only if the run passed (status 0).
    A failed round (errors, or nothing echoed) never enters a median: it is kept apart."""
    if r["status"] == 0 and r.get(field):
        d["values"].append(r[field])
        if r.get("latency_us"):
            d["latency"].append(r["latency_us"])
    else:
        d["failures"] += 1
        d["failed"].append({"status": r["status"], "value": r.get(field), "errors": r.get("errors")})


def median_or_none(values):
    """The median of the passed rounds, or None when no round passed."""
    return statistics.median(values) if values else None


def ratio(v, base):
    """v / base, or None when either is missing (a failed reference is no denominator)."""
    return v / base if v is not None and base else None


def cell(d, v, r):
    """A table cell: the median and its ratio, and how many rounds failed (kept out of it)."""
    runs = len(d["values"]) + d["failures"]
    if v is None:
        statuses = sorted({str(f["status"]) for f in d.get("failed", [])})
        return f"failed in all {runs} rounds (status {', '.join(statuses)})" if runs else "-"
    text = f"{fmt(v)} ({r:.2f}x)" if r is not None else f"{fmt(v)} (-)"
    if d["failures"]:
        text += f" [{d['failures']} of {runs} rounds failed, left out]"
    return text


def write_results(path, data, hold, burst, unix_runs, tls_runs, udp_runs, rounds, seconds, started,
                  elapsed, machine=None, big_hold=None, paired=None):
    """results.md from the run's figures; machine: cpu.machine() as the run read it (None: now)."""
    machine = machine or cpu.machine()
    names = [n for n, _ in SERVERS if n in data]   # a results.json of an older run may lack some
    med = {(n, m[0]): median_or_none(data[n][m[0]]["values"]) for n in names for m in MEASURES}
    ref = {m[0]: med.get((REFERENCE, m[0])) for m in MEASURES}
    lines = [
        "# mpechod side by side with other echo servers",
        "",
        f"Run by `make bench` on {started} ({elapsed:.0f} s): {machine['cpus']} CPUs ({cpu_model()}), "
        f"Linux {platform.release()}. Client and servers share the machine; every server is started "
        "on 127.0.0.1 by `bench/run.py`, and `mpecho-bench` checks every byte.",
        "The connection-rate loads open from 16 source addresses (`-S 16`), so that the ephemeral "
        "ports do not bound them; the row of mpecho-bench's own ceiling shows where the generator would.",
        f"Each figure is the median of {rounds} rounds of {seconds} s (after 1 s of warm-up); the "
        "order of the servers rotates each round. Ratios are against the Node.js server in the same run. "
        "A round that failed (mpecho-bench's status not 0: bytes lost or corrupted, connection errors, "
        "or echoes that never came) is left out of the median and counted beside it.",
        "",
        "| server | " + " | ".join(f"{m[1]} ({m[4]})" for m in MEASURES) + " |",
        "|---|" + "---:|" * len(MEASURES),
    ]
    for n in names:
        cells = [cell(data[n][m[0]], med[(n, m[0])], ratio(med[(n, m[0])], ref[m[0]]))
                 for m in MEASURES]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines.append(cost.ceiling_row(data, MEASURES, CEILING, machine["cpus"]))
    ceil = {m[0]: med.get((CEILING, m[0])) for m in MEASURES}
    lines += ["", f"The same figures as ratios against the epoll ceiling ({CEILING}: the plainest "
              "event-loop echo server, one process per CPU) and, for the fork design, the floor "
              f"({FLOOR}: accept, fork, echo, exit):", "",
              "| server | " + " | ".join(m[1] for m in MEASURES) + " |", "|---|" + "---:|" * len(MEASURES)]
    for n in names:
        rs = [ratio(med[(n, m[0])], ceil[m[0]]) for m in MEASURES]
        lines.append(f"| {n} | " + " | ".join(f"{r:.2f}x" if r is not None else "-" for r in rs) + " |")
    floor = med.get((FLOOR, "connrate"))
    if floor:
        rs = [(n, ratio(med[(n, "connrate")], floor)) for n in names if n.startswith("mpechod")]
        lines += ["", "connrate 16 x 64 B against the fork floor: " + ", ".join(
            f"{n} {r:.2f}x" if r is not None else f"{n} failed" for n, r in rs) + "."]
    lines += ["", "Latency (median of the rounds' p50 / p99 / p99.9, microseconds):", "",
              "| server | connrate p50 | p99 | p99.9 | pingpong p50 | p99 | p99.9 |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        row = []
        for key in ("connrate", "pingpong"):
            lat = data[n][key]["latency"]
            for q in ("p50", "p99", "p99.9"):
                vals = [x[q] for x in lat]
                row.append(f"{statistics.median(vals):,.0f}" if vals else "-")
        lines.append(f"| {n} | " + " | ".join(row) + " |")
    lines += cost.report(data, names, MEASURES, CEILING, machine["cpus"])
    by_pairs = {("loop", k): pairs.ratio(paired, k) for k in PAIRED_KEYS}
    lines += targets.report(med, data, BUILDS, {k: r for k, r in by_pairs.items() if r is not None})
    lines += pairs.report(paired, PAIRED, PAIRED_MEASURES, 1.0)
    lines += big.report(big_hold, CEILING)
    lines += scale.report(hold, burst, machine)
    lines += unix.report(*unix_runs) if unix_runs else []
    lines += tls.report(*tls_runs, machine) if tls_runs else []
    lines += udp.report(*udp_runs, machine) if udp_runs else []
    lines += ["", "## Servers", ""]
    vers = versions()
    for n, make in ((n, m) for n, m in SERVERS if n in data):
        cmd = shlex.join(make("PORT", "TMP")).replace(ROOT + "/", "")
        lines.append(f"- **{n}** ({vers.get(n.split()[0], '?')}): `{cmd}`")
    ncat_failed = sum(data["ncat"][k]["failures"] for k in ("stream1", "stream8")) if "ncat" in data else 0
    lines += ["", "xinetd's configuration (TMP/xinetd.conf) serves its internal `echo-stream` on "
              "127.0.0.1:PORT with `instances`, `per_source` and `cps` unlimited. The Node.js server is "
              "`s => s.pipe(s)` with an `'error'` handler added: without one, the first reset by a "
              "client kills the process."
              + (f" ncat's stream runs failed {ncat_failed} times in this run; the likely cause, as "
                 "looked into on 2026-11-22: it blocks writing into cat's full input pipe while cat blocks writing into "
                 "ncat's, a deadlock once more than the pipes hold is in flight." if ncat_failed else ""),
              "", "Reproduce: `make bench` (`BENCH_ROUNDS=5 BENCH_SECONDS=5 make bench` for a longer run).",
              "", "![ratios against Node.js](results.svg)", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return med, ref


def write_svg(path, med, ref):
    names = [n for n, _ in SERVERS if (n, MEASURES[0][0]) in med]
    colors = ["#1f77b4", "#aec7e8", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
              "#7f7f7f", "#bcbd22", "#17becf", "#d62728"]
    bar, gap, left, width = 14, 18, 170, 520
    ratios = {(n, m[0]): ratio(med[(n, m[0])], ref[m[0]]) for n in names for m in MEASURES}
    top = max([r for r in ratios.values() if r is not None] + [1.0]) * 1.1
    height = 40 + len(MEASURES) * (len(names) * bar + gap + 24)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="10" y="20" font-size="14">mpechod and other echo servers, ratio against Node.js '
           '(higher is better)</text>']
    y = 40
    for m in MEASURES:
        out.append(f'<text x="10" y="{y + 10}" font-weight="bold">{m[1]}</text>')
        y += 16
        x1 = left + width * 1.0 / top
        out.append(f'<line x1="{x1:.1f}" y1="{y - 2}" x2="{x1:.1f}" y2="{y + len(names) * bar}" '
                   'stroke="#444" stroke-dasharray="3,3"/>')
        for i, n in enumerate(names):
            r = ratios[(n, m[0])]
            w = width * (r or 0) / top
            out.append(f'<text x="{left - 6}" y="{y + bar - 3}" text-anchor="end">{n}</text>')
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{colors[i % len(colors)]}"/>')
            label = f"{r:.2f}x" if r is not None else "failed, or no reference"
            out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}">{label}</text>')
            y += bar
        y += gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def write_page(out):
    """results.html beside results.md: the same text and tables, results.svg inline."""
    with open(os.path.join(out, "results.md")) as md, open(os.path.join(out, "results.svg")) as svg:
        text = page.page(md.read(), svg.read())
    with open(os.path.join(out, "results.html"), "w") as f:
        f.write(text)


def main():
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: each server is stopped
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "3")))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench"))
    ap.add_argument("--no-scale", action="store_true", help="skip the hold and burst runs")
    ap.add_argument("--scale-only", action="store_true", help="only the hold and burst runs")
    ap.add_argument("--from-json", metavar="FILE", help="write results.md, .svg and .html again "
                    "from a results.json, measuring nothing")
    opts = ap.parse_args()
    if opts.from_json:
        os.makedirs(opts.out, exist_ok=True)
        with open(opts.from_json) as f:
            return publish(json.load(f), opts.out)
    for tool in ("socat", "tcpserver", "ncat", "xinetd", "node", MPECHOD, MPECHOD_STATIC, BENCH,
                 os.path.join(BUILD, "ref", "epoll_echo"), os.path.join(BUILD, "ref", "fork_echo")):
        if shutil.which(tool) is None and not os.access(tool, os.X_OK):
            sys.exit(f"bench: {tool} is missing (make bench installs it)")
    os.makedirs(opts.out, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = cpu.machine()
    t0 = time.monotonic()
    data = {n: {m[0]: {"values": [], "latency": [], "failures": 0, "failed": [], "cpu": [],
                       "client_cpu": []} for m in MEASURES}
            for n, _ in SERVERS}
    total = opts.rounds * len(SERVERS) * len(MEASURES)
    done = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(0 if opts.scale_only else opts.rounds):
            order = SERVERS[rnd % len(SERVERS):] + SERVERS[:rnd % len(SERVERS)]
            for name, make in order:
                srv = Running(name, make, tmp)
                try:
                    for key, title, args, field, unit in MEASURES:
                        r = run_bench(args, srv, opts.seconds)
                        done += 1
                        record(data[name][key], r, field)
                        cost.record(data[name][key], r, args[-1])
                        log(f"[{done}/{total}] round {rnd + 1} {name:16} {title:22} "
                            f"{fmt(r.get(field, 0)):>10} {unit}"
                            + ("" if r["status"] == 0 else f"  (status {r['status']}: {r.get('errors')})"))
                finally:
                    srv.stop()
        paired = None if opts.scale_only else pairs.pairs_test(
            Running, PAIRED_SERVERS, PAIRED_MEASURES, run_bench, opts.seconds, tmp, log)
        hold = burst = unix_runs = tls_runs = udp_runs = big_hold = None
        if not opts.no_scale and not opts.scale_only:
            log("udp: mpechod, xinetd and socat over UDP ...")
            udp_runs = udp.udp_test(MPECHOD, BENCH, tmp, opts.rounds, opts.seconds)
            for name, rate in udp_runs[0].items():
                log(f"udp: {name:16} {rate:,.0f} datagrams/s")
            log("tls: mpechod, socat and ncat over TLS ...")
            tls_runs = tls.tls_test(MPECHOD, BENCH, tmp, opts.rounds, opts.seconds)
            for name, ms in tls_runs[0].items():
                log(f"tls: {name:16} " + ", ".join(f"{k} {v:,.0f}" for k, v in ms.items()))
            log("unix: mpechod and socat on a Unix-domain socket ...")
            unix_runs = unix.unix_test(MPECHOD, BENCH, tmp, opts.rounds, opts.seconds)
            for name, ms in unix_runs[0].items():
                log(f"unix: {name:16} " + ", ".join(f"{k} {v:,.0f}" for k, v in ms.items()))
        if not opts.no_scale and big.BIG_CONNS > 0:
            # first: the other scale runs leave their connections in TIME_WAIT, which MemAvailable sees
            big_hold = big.hold_test(Running, MPECHOD, os.path.join(BUILD, "ref", "epoll_echo"), BENCH,
                                     tmp, log=log)
        if not opts.no_scale:
            # then: the bursts leave some 100,000 sockets in TIME_WAIT for a minute
            log(f"hold: {scale.HOLD_CONNS:,} connections to mpechod fork ...")
            hold = scale.hold_test(Running, MPECHOD, BENCH, tmp, opts.seconds)
            log(f"hold: {hold['held']:,} held, {hold['pss_per_conn_kib']:.1f} KiB PSS and "
                f"{hold['mem_per_conn_kib']:.1f} KiB of MemAvailable per connection, "
                f"errors {hold['errors']}")
            for line in scale.fill_report(hold.get("fill")):
                if line:
                    log(f"hold: {line}")
            log(f"burst: {scale.BURST_CONNS:,} clients at once ...")
            burst = scale.burst_test(Running, burst_servers(), BENCH, tmp)
            for name, b in burst.items():
                log(f"burst: {name:16} {b['served']} served, the last after {b['max_ms']:,.0f} ms (median)")
    res = {"started": started, "elapsed": time.monotonic() - t0, "rounds": opts.rounds,
           "seconds": opts.seconds, "machine": machine, "runs": data, "hold": hold, "burst": burst,
           "big_hold": big_hold, "unix": unix_runs[0] if unix_runs else None,
           "tls": tls_runs[0] if tls_runs else None, "tls_measured": tls_runs[2] if tls_runs else None,
           "udp": udp_runs[0] if udp_runs else None, "udp_measured": udp_runs[3] if udp_runs else None,
           "unix_runs": unix_runs, "tls_runs": tls_runs, "udp_runs": udp_runs, "pairs": paired}
    with open(os.path.join(opts.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    publish(res, opts.out)


def publish(res, out):
    """results.md, results.svg and results.html from the figures results.json holds."""
    md = os.path.join(out, "results.md")
    med, ref = write_results(md, res["runs"], res["hold"], res["burst"], res.get("unix_runs"),
                             res.get("tls_runs"), res.get("udp_runs"), res["rounds"], res["seconds"],
                             res["started"], res.get("elapsed", 0), res.get("machine"), res.get("big_hold"),
                             res.get("pairs"))
    write_svg(os.path.join(out, "results.svg"), med, ref)
    write_page(out)
    log(f"wrote {md}, results.svg and results.html")
    print(open(md).read())


if __name__ == "__main__":
    main()
