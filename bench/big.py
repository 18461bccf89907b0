"""make bench's big hold: BIG_CONNS (250,000 unless BENCH_HOLD says) echo-checked connections held
by mpechod's loop model, by the epoll ceiling (bench/ref/epoll_echo, run as enough processes for
the 20,000-descriptor limit) and by Node.js (its cluster module, as many workers), side by side
in one run, and what each held connection costs in memory, both ends included.

`mpecho-bench hold --procs G -S 2 --server-pid PID` opens them: G generators of at most
PER_GEN connections, generator K from 127.(1+K).0.1 and .2 (IP_BIND_ADDRESS_NO_PORT: each
source has the ephemeral range to itself), --ramp RAMP at a time each; it measures MemAvailable
and the PSS of the server and its descendants before the load and with every connection held,
and reaps its generators. The server's CPU time for it is read from /proc (cost.group_cpu_s: its
process group's) around the whole run: microseconds per held connection.
"""
import json
import math
import os
import subprocess
import time

import cost

BIG_CONNS = int(os.environ.get("BENCH_HOLD", "250000"))
PER_GEN = 15000        # one generator's connections: under the 20,000-descriptor hard limit
PER_SERVER_PROC = 12500  # the epoll ceiling's SO_REUSEPORT spreads by hash: room to spare
RAMP = 250             # connections opening at once, each generator
SECONDS = int(os.environ.get("BENCH_HOLD_SECONDS", "60"))   # the generators' run: 250,000 filled in 15 s here
SLOWER = {"node": 4}   # Node's cluster filled 250,000 in 88 s at a load average of 15, 40 s gave it 43,000-138,000 at 25-40
NODE_CLUSTER = ("const cluster = require('cluster'), net = require('net');"
                "const [port, n] = [+process.argv[2], +process.argv[3]];"
                "if (cluster.isPrimary) { for (let i = 0; i < n; i++) cluster.fork(); }"
                "else net.createServer(s => { s.on('error', () => {}); s.pipe(s); })"
                ".listen(port, '127.0.0.1');")


def servers(mpechod, ref, conns):
    """(name, command for a port) of the three servers holding conns connections."""
    procs = math.ceil(conns / PER_SERVER_PROC)
    return [("mpechod loop", lambda p, tmp: [mpechod, "-q", "-m", "loop", "-l", f"127.0.0.1:{p}",
                                             "-c", str(conns + 1000), "--idle-timeout", "0"]),
            ("epoll ceiling", lambda p, tmp: [ref, str(p), str(procs)]),
            ("node", lambda p, tmp: ["node", node_script(tmp), str(p), str(procs)])]


def node_script(tmp):
    """NODE_CLUSTER as a file: a cluster worker runs the primary's script file again."""
    path = os.path.join(tmp, "node_cluster.js")
    if os.path.isdir(tmp):
        with open(path, "w") as f:
            f.write(NODE_CLUSTER)
    return path


def hold_one(running, name, make, bench, tmp, conns, seconds):
    """One server holding conns: mpecho-bench's result (memory included) and its CPU per connection."""
    gens = math.ceil(conns / PER_GEN)
    srv = running(name, make, tmp)
    try:
        time.sleep(1)
        t0 = cost.group_cpu_s(srv.proc.pid)
        run = subprocess.run([bench, "--json", "-q", "--procs", str(gens), "-S", "2", "-R", str(RAMP),
                              "-T", "60", "-w", "0", "-d", str(seconds), "-c", str(conns),
                              "--server-pid", str(srv.proc.pid), "hold", "127.0.0.1", str(srv.port)],
                             capture_output=True, text=True, timeout=seconds + 300)
        used = cost.group_cpu_s(srv.proc.pid) - t0
        r = json.loads(run.stdout) if run.stdout.strip() else {"held": 0, "errors": run.stderr.strip()}
        r.pop("intervals", None)   # each second's histogram: results.json keeps the totals
        r["status"] = run.returncode
        r["cpu_us_per_conn"] = used * 1e6 / r["held"] if r.get("held") else None
        return r
    finally:
        srv.stop()


def hold_test(running, mpechod, ref, bench, tmp, conns=BIG_CONNS, seconds=SECONDS, log=print):
    """Each server in turn: {name: result}."""
    out = {}
    for name, make in servers(mpechod, ref, conns):
        log(f"big hold: {conns:,} connections to {name} ...")
        out[name] = hold_one(running, name, make, bench, tmp, conns, seconds * SLOWER.get(name, 1))
        m = out[name].get("memory") or {}
        log(f"big hold: {name}: {out[name].get('held', 0):,} held, "
            f"{m.get('mem_per_conn_bytes') or 0:,.0f} B of MemAvailable and "
            f"{m.get('pss_per_conn_bytes') or 0:,.0f} B of server PSS per connection")
    return out


def ratio(v, base):
    return f"{v / base:.2f}x" if v is not None and base else "-"


def report(big, ceiling="epoll ceiling"):
    """The big hold's part of results.md."""
    if not big:
        return []
    conns = max((r.get("settings") or {}).get("conns", 0) for r in big.values())
    mem = {n: (r.get("memory") or {}) for n, r in big.items()}
    base = mem.get(ceiling, {})
    lines = ["", f"## {conns:,} connections held: the loop model, the epoll ceiling and Node.js", "",
             f"Each server in turn; `mpecho-bench hold --procs G -S 2 -R {RAMP} --server-pid PID` "
             f"opens them ({PER_GEN:,} a generator at most: the 20,000-descriptor limit), checks "
             "every one echoes, and holds them; with all held it reads MemAvailable (both ends of "
             "each connection, the kernel's share and the generators: the machine's whole cost, "
             "and whatever else ran meanwhile) and the PSS of the server and its descendants. "
             "The server's CPU time is its process group's over the whole run, per connection held. "
             f"The epoll ceiling runs as {math.ceil(conns / PER_SERVER_PROC)} processes, Node.js as "
             "as many cluster workers, mpechod -m loop picks its workers from its descriptor limit.", "",
             "| server | held | MemAvailable per connection | against the ceiling | "
             "server PSS per connection | against the ceiling | server CPU per connection | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in big.items():
        m = mem[name]
        errs = {k: v for k, v in (r.get("errors") or {}).items() if v} if isinstance(
            r.get("errors"), dict) else r.get("errors")
        lines.append(f"| {name} | {r.get('held', 0):,} of {conns:,} | "
                     f"{cost.fmt(m.get('mem_per_conn_bytes'))} B | "
                     f"{ratio(m.get('mem_per_conn_bytes'), base.get('mem_per_conn_bytes'))} | "
                     f"{cost.fmt(m.get('pss_per_conn_bytes'))} B | "
                     f"{ratio(m.get('pss_per_conn_bytes'), base.get('pss_per_conn_bytes'))} | "
                     f"{cost.fmt(r.get('cpu_us_per_conn'))} us | {errs or 'none'} |")
    return lines
