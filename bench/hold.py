#!/usr/bin/env python3
"""make hold: the loop model holding many echo-checked idle connections, and what each costs.

    python3 bench/hold.py [CONNS] [BUILD]      (make hold HOLD_CONNS=250000)

mpechod --model loop takes -c CONNS (it picks enough workers for its descriptor limit);
generator processes (mpecho-bench hold, at most PER_PROC connections each, for one process's
descriptor limit) open them from 32 loopback source addresses, each connection checked to echo,
and hold them. While they are held: the server's PSS (every process of it, from
/proc/PID/smaps_rollup) and MemAvailable, each against the same before any connection; divided by
the connections the server counts as live. MemAvailable counts both ends and the kernel's share,
and whatever else the machine did meanwhile: on a busy machine it is a rough figure.
"""
import os
import re
import signal
import subprocess
import sys
import time

PER_PROC = 15000      # under the 20,000-descriptor hard limit, with room for the generator's own
SOURCES = 32          # 127.1.0.1 ... : 28,000 ephemeral ports each
HOLD_SECONDS = int(os.environ.get("HOLD_SECONDS", "60"))


def meminfo(key):
    with open("/proc/meminfo") as f:
        return int(re.search(rf"^{key}:\s+(\d+)", f.read(), re.M).group(1)) * 1024


def group_pss(pgrp):
    """Bytes of PSS of every process of a process group."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) != pgrp:
                    continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += int(re.search(r"^Pss:\s+(\d+)", f.read(), re.M).group(1)) * 1024
        except (OSError, AttributeError):
            continue
    return total


def live_sessions(srv, log):
    """The server's own count of live sessions, from its status line (SIGUSR1)."""
    before = len(open(log).read())
    srv.send_signal(signal.SIGUSR1)
    for _ in range(100):
        m = re.search(r"event=status sessions=(\d+)", open(log).read()[before:])
        if m:
            return int(m.group(1))
        time.sleep(0.1)
    return 0


def main():
    conns = int(sys.argv[1]) if len(sys.argv) > 1 else 250000
    build = sys.argv[2] if len(sys.argv) > 2 else "build"
    procs = (conns + PER_PROC - 1) // PER_PROC
    log = f"/tmp/mpechod-hold-{os.getpid()}.log"
    port = 20000 + os.getpid() % 20000
    srv = subprocess.Popen([f"{build}/mpechod", "-m", "loop", "-q", "-l", f"127.0.0.1:{port}",
                            "-c", str(conns + procs), "--idle-timeout", "0"],
                           stderr=open(log, "w"), start_new_session=True)
    try:
        while "event=ready" not in open(log).read():
            time.sleep(0.1)
        time.sleep(0.5)
        pss0, avail0 = group_pss(srv.pid), meminfo("MemAvailable")
        gens = [subprocess.Popen([f"{build}/mpecho-bench", "-q", "-c", str(conns // procs + (i < conns % procs)),
                                  "-S", str(SOURCES), "-R", "2000", "-T", "120", "-d", str(HOLD_SECONDS),
                                  "hold", "127.0.0.1", str(port)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for i in range(procs)]
        best = (0, pss0, avail0)   # measured where the most were held
        held, last, still = 0, -1, 0   # until all are held, or the count stopped growing
        while held < conns and still < 5 and any(g.poll() is None for g in gens):
            time.sleep(2)
            last, held = held, live_sessions(srv, log)
            still = still + 1 if held == last and held > 0 else 0
            if held > best[0]:
                best = (held, group_pss(srv.pid), meminfo("MemAvailable"))
        held, pss1, avail1 = best
        outs = [g.communicate(timeout=HOLD_SECONDS + 300)[0] for g in gens]
        checked = sum(int(m.group(1)) for o in outs for m in re.finditer(r"held: (\d+) of", o))
        start = re.search(r"event=start .*", open(log).read()).group(0)
        print(f"asked={conns} generators={procs} held_by_server={held} echo_checked_and_held={checked}")
        print(f"server: {start}")
        if held:
            print(f"per connection: server PSS {(pss1 - pss0) / held:.0f} B "
                  f"({pss0 >> 10} -> {pss1 >> 10} KiB), MemAvailable {(avail0 - avail1) / held:.0f} B "
                  f"(both ends, the kernel's share and the generators included)")
        for o in outs:
            print("generator:", " ".join(l for l in o.strip().splitlines() if l.startswith(("held", "errors"))))
    finally:
        os.killpg(srv.pid, signal.SIGTERM)
        srv.wait(60)
        os.unlink(log)


if __name__ == "__main__":
    main()
