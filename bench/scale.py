"""make bench's scale runs: 30,000 held sessions on the fork model, and a burst of 10,000.

hold_test(): 30,000 connections to mpechod's fork model (one process each; pid_max here is
32,768), every one checked to echo, then held. Two mpecho-bench processes open 15,000 each
(one process may hold 20,000 descriptors here), from 8 loopback sources (ephemeral ports).
Memory per held connection two ways: PSS summed over the server's processes, and the drop of
MemAvailable from before the load to all held, which includes the kernel's share (page
tables, kernel stacks, socket buffers) and the client's sockets too: both ends of each
connection live on this machine.

burst_test(): 10,000 clients connect at once (connrate -c 10000 -n 10000), each sends 64
bytes, reads them back and closes; the time until the last is served (the slowest session's
latency) and the p99, for each server given. A listen queue too short drops SYNs, which the
client resends a second later: that shows as a max of a second or more.
"""
import json
import os
import statistics
import subprocess
import time

HOLD_CONNS = 30000
HOLD_CLIENTS = 2
BURST_CONNS = 10000


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


def hold_test(running, mpechod, bench, tmp, seconds):
    """HOLD_CONNS held connections on the fork model: all must echo; memory per connection."""
    srv = running("mpechod fork", lambda p, t: [mpechod, "-q", "-l", f"127.0.0.1:{p}", "-c",
                                                str(HOLD_CONNS + 100), "--idle-timeout", "0"], tmp)
    try:
        time.sleep(1)
        base, avail0 = pss_kib([srv.proc.pid]), mem_available_kib()
        hold_for = max(seconds, 40)
        per = HOLD_CONNS // HOLD_CLIENTS
        clients = [subprocess.Popen([bench, "--json", "-q", "-c", str(per), "-S", "8", "-d",
                                     str(hold_for), "-w", "0", "-T", "60", "hold", "127.0.0.1",
                                     str(srv.port)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(HOLD_CLIENTS)]
        t0 = time.monotonic()
        deadline, kids, filled = t0 + hold_for - 5, [], None
        while time.monotonic() < deadline and all(c.poll() is None for c in clients):
            kids = children(srv.proc.pid)
            if len(kids) >= HOLD_CONNS:
                filled = time.monotonic() - t0
                break
            time.sleep(0.5)
        time.sleep(2)
        kids = children(srv.proc.pid)
        total, avail1 = pss_kib([srv.proc.pid] + kids), mem_available_kib()
        results = []
        for c in clients:
            out, err = c.communicate(timeout=hold_for + 120)
            r = json.loads(out) if out.strip() else {"held": 0, "errors": {"status": c.returncode,
                                                                          "stderr": err.strip()}}
            results.append(r)
        errors = {}
        for r in results:
            for k, v in r.get("errors", {}).items():
                errors[k] = errors.get(k, 0) + v if isinstance(v, int) else v
        n = max(len(kids), 1)
        return {"conns": HOLD_CONNS, "held": sum(r.get("held", 0) for r in results),
                "errors": errors, "sessions": len(kids), "filled_s": filled,
                "pss_total_kib": total, "pss_supervisor_kib": base,
                "pss_per_conn_kib": (total - base) / n,
                "mem_available_drop_kib": avail0 - avail1,
                "mem_per_conn_kib": (avail0 - avail1) / n}
    finally:
        srv.stop()


def burst_once(running, make, name, bench, tmp):
    srv = running(name, make, tmp)
    try:
        run = subprocess.run([bench, "--json", "-q", "-c", str(BURST_CONNS), "-n", str(BURST_CONNS),
                              "-S", "4", "-d", "60", "-w", "0", "-T", "30", "connrate", "127.0.0.1",
                              str(srv.port)], capture_output=True, text=True, timeout=180)
        return json.loads(run.stdout) if run.stdout.strip() else {"status": run.returncode}
    finally:
        srv.stop()


def burst_test(running, servers, bench, tmp, rounds):
    """BURST_CONNS clients at once against each server, rounds times (the order rotating):
    the medians of the time to the last served and of the p99; the rounds' errors summed."""
    runs = {name: [] for name, _ in servers}
    for rnd in range(rounds):
        for name, make in servers[rnd % len(servers):] + servers[:rnd % len(servers)]:
            runs[name].append(burst_once(running, make, name, bench, tmp))
    out = {}
    for name, rs in runs.items():
        errors = {}
        for r in rs:
            for k, v in r.get("errors", {}).items():
                errors[k] = errors.get(k, 0) + v
        out[name] = {"rounds": len(rs), "served": [r.get("ops", 0) for r in rs], "errors": errors,
                     "max_ms": statistics.median(r.get("latency_us", {}).get("max", 0) / 1000 for r in rs),
                     "p99_ms": statistics.median(r.get("latency_us", {}).get("p99", 0) / 1000 for r in rs)}
    return out


def report(hold, burst):
    """The scale part of results.md."""
    lines = []
    if burst:
        lines += ["", f"## A burst of {BURST_CONNS:,} clients at once", "",
                  f"Each client connects, sends 64 bytes, reads them back and closes; all "
                  f"{BURST_CONNS:,} start together (`mpecho-bench -c {BURST_CONNS} -n {BURST_CONNS} "
                  f"-S 4 connrate`) against the server as the table above runs it. The slowest "
                  f"session's time is when the last client was served; medians of the rounds.", "",
                  "| server | served, each round | last served (ms) | p99 (ms) | errors |",
                  "|---|---:|---:|---:|---|"]
        for name, b in burst.items():
            errs = {k: v for k, v in b["errors"].items() if v}
            lines.append(f"| {name} | {' / '.join(f'{n:,}' for n in b['served'])} | "
                         f"{b['max_ms']:,.0f} | {b['p99_ms']:,.0f} | {errs or 'none'} |")
    if hold:
        filled = f"{hold['filled_s']:.1f} s" if hold["filled_s"] is not None else "not within the run"
        lines += ["", f"## {hold['conns']:,} held sessions on the fork model", "",
                  f"{hold['held']:,} of {hold['conns']:,} connections checked to echo and held, "
                  f"{hold['sessions']:,} session processes (all there after {filled}); "
                  f"mpecho-bench errors: {hold['errors']}.", "",
                  f"- PSS, summed over the supervisor and its session processes "
                  f"(/proc/PID/smaps_rollup): {hold['pss_total_kib'] / 1024:,.1f} MiB, "
                  f"**{hold['pss_per_conn_kib']:.1f} KiB per connection** "
                  f"(the supervisor {hold['pss_supervisor_kib']:,} KiB before the load).",
                  f"- MemAvailable fell by {hold['mem_available_drop_kib'] / 1024:,.1f} MiB: "
                  f"**{hold['mem_per_conn_kib']:.1f} KiB per connection** with the kernel's share "
                  f"(page tables, kernel stack and task of each process, both sockets of each "
                  f"connection: the client's end is on this machine too)."]
    return lines
