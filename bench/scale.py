"""make bench's scale runs: 30,000 held sessions on the fork model, and a burst of 10,000.

hold_test(): 30,000 connections to mpechod's fork model (one process each; pid_max here is
32,768), every one checked to echo, then held. Two mpecho-bench processes open 15,000 each
(one process may hold 20,000 descriptors here), from 8 loopback sources (ephemeral ports),
1,000 at a time each (--ramp): a capacity test, not a burst (burst_test is the burst), so the
clients wait their turn instead of overflowing the listen queue, where the kernel would
drop handshakes and reset some (all 30,000 at once: several hundred resets a fill here).
Memory per held connection two ways: PSS summed over the server's processes, and the drop of
MemAvailable from before the load to all held, which includes the kernel's share (page
tables, kernel stacks, socket buffers) and the client's sockets too: both ends of each
connection live on this machine. While it fills, what slows it: the kernel's listen-queue
and reset counters, the CPU time of DAMON's monitor threads (kdamond, where the machine runs
one), and where the supervisor is, sampled from /proc/PID/stack (root only) ten times a second.

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
HOLD_SECONDS = 90   # the clients' run: the fill has taken from 5 s to 46 s here (see fill_report)
HOLD_RAMP = 1000    # connections each client opens at once: 2,000 in all, under mpechod's 4096 backlog
BURST_CONNS = 10000
BURST_ROUNDS = 7    # a round's time to the last served jumps by a second if a SYN was dropped


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


# /proc/net/netstat and /proc/net/snmp counters the fill reports (a rise during it)
FILL_COUNTERS = (("TcpExt", "ListenOverflows"), ("TcpExt", "SyncookiesSent"),
                 ("TcpExt", "SyncookiesFailed"), ("Tcp", "EstabResets"), ("Tcp", "OutRsts"))


def kernel_counters():
    """The FILL_COUNTERS now, by name ({} where /proc/net cannot be read)."""
    got = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        try:
            with open(path) as f:
                rows = [line.split() for line in f]
        except OSError:
            continue
        for names, values in zip(rows[::2], rows[1::2]):
            for k, v in zip(names[1:], values[1:]):
                if (names[0].rstrip(":"), k) in FILL_COUNTERS:
                    got[k] = int(v)
    return got


def kdamond_cpu_s():
    """CPU seconds used so far by the kernel's DAMON monitor threads (0.0: none runs)."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    comm, rest = f.read().split(") ", 1)
                if comm.split("(", 1)[1].startswith("kdamond"):
                    fields = rest.split()
                    total += int(fields[11]) + int(fields[12])   # utime, stime
            except (OSError, ValueError, IndexError):
                pass
    return total / os.sysconf("SC_CLK_TCK")


def stack_frame(pid):
    """The supervisor's kernel frame of interest now: 'anon_vma' (fork waiting on the lock
    of the memory it shares with its children), 'other', or None (unreadable: not root)."""
    try:
        with open(f"/proc/{pid}/stack") as f:
            text = f.read()
    except OSError:
        return None
    return "anon_vma" if "anon_vma" in text else "other"


def children(pid):
    """The pids of pid's children, from the kernel's list (no scan of /proc: with 30,000
    processes a scan costs the server more CPU than it leaves it)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def hold_test(running, mpechod, bench, tmp, seconds):
    """HOLD_CONNS held connections on the fork model: all must echo; memory per connection."""
    srv = running("mpechod fork", lambda p, t: [mpechod, "-q", "-l", f"127.0.0.1:{p}", "-c",
                                                str(HOLD_CONNS + 100), "--idle-timeout", "0"], tmp)
    clients = []
    try:
        time.sleep(1)
        base, avail0 = pss_kib([srv.proc.pid]), mem_available_kib()
        hold_for = max(seconds, HOLD_SECONDS)
        per = HOLD_CONNS // HOLD_CLIENTS
        clients = [subprocess.Popen([bench, "--json", "-q", "-c", str(per), "-S", "8", "-d",
                                     str(hold_for), "-w", "0", "-T", "60", "--ramp", str(HOLD_RAMP),
                                     "hold", "127.0.0.1", str(srv.port)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(HOLD_CLIENTS)]
        t0, ctr0, damon0 = time.monotonic(), kernel_counters(), kdamond_cpu_s()
        deadline, kids, filled, frames, polled = t0 + hold_for - 10, [], None, {}, 0.0
        while time.monotonic() < deadline and all(c.poll() is None for c in clients):
            frame = stack_frame(srv.proc.pid)
            if frame is not None:
                frames[frame] = frames.get(frame, 0) + 1
            if time.monotonic() - polled >= 0.5:
                polled = time.monotonic()
                kids = children(srv.proc.pid)
                if len(kids) >= HOLD_CONNS:
                    filled = time.monotonic() - t0
                    break
            time.sleep(0.1)
        ctr1, damon1 = kernel_counters(), kdamond_cpu_s()
        fill_s = filled if filled is not None else time.monotonic() - t0
        diag = {"counters": {k: ctr1[k] - ctr0.get(k, 0) for k in ctr1},
                "kdamond_cpu_s": damon1 - damon0, "fill_s": fill_s, "stack_samples": frames}
        time.sleep(2)
        kids = children(srv.proc.pid)
        total, avail1 = pss_kib([srv.proc.pid] + kids), mem_available_kib()
        results = []
        for c in clients:
            out, err = c.communicate(timeout=hold_for + 120)
            r = json.loads(out) if out.strip() else {"held": 0, "errors": {"status": c.returncode,
                                                                          "stderr": err.strip()}}
            r.pop("intervals", None)   # the totals are what is kept
            results.append(r)
        errors = {}
        for r in results:
            for k, v in r.get("errors", {}).items():
                errors[k] = errors.get(k, 0) + (v or 0) if isinstance(v, (int, type(None))) else v
        n = max(len(kids), 1)
        return {"conns": HOLD_CONNS, "held": sum(r.get("held", 0) for r in results),
                "errors": errors, "sessions": len(kids), "filled_s": filled,
                "pss_total_kib": total, "pss_supervisor_kib": base,
                "pss_per_conn_kib": (total - base) / n,
                "mem_available_drop_kib": avail0 - avail1,
                "mem_per_conn_kib": (avail0 - avail1) / n, "fill": diag}
    finally:  # a run cut short: its clients would hold on until their -d is over
        for c in clients:
            if c.poll() is None:
                c.kill()
            c.wait()
        srv.stop()


def burst_once(running, make, name, bench, tmp):
    srv = running(name, make, tmp)
    before = kernel_counters().get("ListenOverflows", 0)
    try:
        run = subprocess.run([bench, "--json", "-q", "-c", str(BURST_CONNS), "-n", str(BURST_CONNS),
                              "-S", "4", "-d", "60", "-w", "0", "-T", "30", "connrate", "127.0.0.1",
                              str(srv.port)], capture_output=True, text=True, timeout=180)
        res = json.loads(run.stdout) if run.stdout.strip() else {"status": run.returncode}
        res.pop("intervals", None)
        res["listen_overflows"] = kernel_counters().get("ListenOverflows", 0) - before
        return res
    finally:
        srv.stop()


def burst_test(running, servers, bench, tmp, rounds=BURST_ROUNDS):
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
                errors[k] = errors.get(k, 0) + (v or 0)  # null: does not apply to the mode
        out[name] = {"rounds": len(rs), "served": [r.get("ops") or 0 for r in rs], "errors": errors,
                     "max_ms_each": [(r.get("latency_us") or {}).get("max", 0) / 1000 for r in rs],
                     "listen_overflows": [r.get("listen_overflows", 0) for r in rs],
                     "max_ms": statistics.median((r.get("latency_us") or {}).get("max", 0) / 1000 for r in rs),
                     "p99_ms": statistics.median((r.get("latency_us") or {}).get("p99", 0) / 1000 for r in rs)}
    return out


def report(hold, burst, machine):
    """The scale part of results.md (machine: cpu.machine() of the run)."""
    lines = []
    if burst:
        lines += ["", f"## A burst of {BURST_CONNS:,} clients at once", "",
                  f"Each client connects, sends 64 bytes, reads them back and closes; all "
                  f"{BURST_CONNS:,} start together (`mpecho-bench -c {BURST_CONNS} -n {BURST_CONNS} "
                  f"-S 4 connrate`). Each server runs as the table above runs it, but the fork-model "
                  f"servers admit the whole burst (`-c 10100`), as Node.js does; the row with "
                  f"`-c 2000` is the fork model with the table's limit, below the burst, where the "
                  f"supervisor stops accepting for a while. The slowest session's time is when the "
                  f"last client was served. The clients can connect faster than a server accepts, "
                  f"and then its accept queue overflows (its length: the server's listen backlog, "
                  f"capped by net.core.somaxconn, {machine['somaxconn']} on this machine). The "
                  f"kernel then drops handshakes (the drops column: its ListenOverflows "
                  f"counter over the run). A dropped final ACK costs its client a retransmission "
                  f"(a few hundred ms), a dropped SYN a whole second, so one round can take a "
                  f"second longer than the next: hence {BURST_ROUNDS} rounds, and the count of "
                  f"rounds within a second.", "",
                  "| server | served | last served, each round (ms) | median (ms) | "
                  "rounds within 1 s | drops (median) | errors |",
                  "|---|---:|---|---:|---:|---:|---|"]
        for name, b in burst.items():
            errs = {k: v for k, v in b["errors"].items() if v}
            each = b.get("max_ms_each", [])
            served = (f"{BURST_CONNS:,} in every round" if all(n == BURST_CONNS for n in b["served"])
                      else " / ".join(f"{n:,}" for n in b["served"]))
            drops = statistics.median(b["listen_overflows"]) if b.get("listen_overflows") else 0
            lines.append(f"| {name} | {served} | {' / '.join(f'{x:,.0f}' for x in each)} | "
                         f"{b['max_ms']:,.0f} | {sum(x < 1000 for x in each)} of {len(each)} | "
                         f"{drops:,.0f} | {errs or 'none'} |")
        overflowed = {name: sum(1 for n in b.get("listen_overflows", []) if n)
                      for name, b in burst.items()}
        lines += ["", "Rounds in which the accept queue overflowed: " + ", ".join(
            f"{name} {n} of {burst[name]['rounds']}" for name, n in overflowed.items()) + "."]
    if hold:
        filled = f"{hold['filled_s']:.1f} s" if hold["filled_s"] is not None else "not within the run"
        lines += ["", f"## {hold['conns']:,} held sessions on the fork model", "",
                  f"{hold['held']:,} of {hold['conns']:,} connections checked to echo and held "
                  f"(two clients, each opening {HOLD_RAMP:,} at a time: `--ramp {HOLD_RAMP}`), "
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
        lines += fill_report(hold.get("fill"))
    return lines


def fill_report(diag):
    """What the fill met: the kernel's counters, DAMON's CPU time, the supervisor's samples."""
    if not diag:
        return []
    ctr = diag["counters"]
    out = ["", f"While it filled ({diag['fill_s']:.1f} s), the kernel counted: "
           + ", ".join(f"{k} {v:,}" for k, v in ctr.items()) + "."]
    if diag["kdamond_cpu_s"] > 0:
        out.append(f"DAMON's monitor (kdamond) used {diag['kdamond_cpu_s']:.1f} CPU seconds "
                   f"({100 * diag['kdamond_cpu_s'] / max(diag['fill_s'], 0.1):.0f}% of one CPU).")
    samples = diag["stack_samples"]
    if samples:
        total = sum(samples.values())
        out.append(f"The supervisor was in fork() waiting on anon_vma locks in "
                   f"{samples.get('anon_vma', 0)} of {total} samples of its kernel stack: "
                   f"fork() takes, for each mapping a session shares with the supervisor, a "
                   f"lock that a kernel walk over the mappers of one of its pages (DAMON's "
                   f"monitor, or reclaim) holds while it visits every session.")
    return out
