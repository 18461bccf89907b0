#!/usr/bin/env python3
"""make hold: the loop model holding many echo-checked idle connections, and what each costs.

    python3 bench/hold.py [CONNS] [BUILD]      (make hold HOLD_CONNS=250000)

mpechod --model loop takes -c CONNS (it picks enough workers for its descriptor limit);
`mpecho-bench hold --procs G` opens them from G generator processes (at most PER_PROC
connections each, for one process's descriptor limit), generator K from 127.(1+K).0.1 and .2,
each connection checked to echo, and holds them. With every one held it reads MemAvailable and
the PSS of the server and its descendants (--server-pid), each against the same before any
connection: per held connection. MemAvailable counts both ends and the kernel's share, and
whatever else the machine did meanwhile: on a busy machine it is a rough figure.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "e2e"))
import guard  # noqa: E402  (tests/e2e/guard.py: the server ends even if make hold is killed outright)

PER_PROC = 15000      # under the 20,000-descriptor hard limit, with room for the generator's own
HOLD_SECONDS = int(os.environ.get("HOLD_SECONDS", "60"))


def main():
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: the server is stopped
    conns = int(sys.argv[1]) if len(sys.argv) > 1 else 250000
    build = sys.argv[2] if len(sys.argv) > 2 else "build"
    procs = (conns + PER_PROC - 1) // PER_PROC
    log = f"/tmp/mpechod-hold-{os.getpid()}.log"
    port = 20000 + os.getpid() % 20000
    srv = subprocess.Popen([f"{build}/mpechod", "-m", "loop", "-q", "-l", f"127.0.0.1:{port}",
                            "-c", str(conns + procs), "--idle-timeout", "0"],
                           stderr=open(log, "w"), start_new_session=True)
    guard.note(srv.pid)
    try:
        while "event=ready" not in open(log).read():
            time.sleep(0.1)
        time.sleep(0.5)
        cmd = [f"{build}/mpecho-bench", "-q", "--procs", str(procs), "-S", "2", "-R", "250",
               "-T", "120", "-d", str(HOLD_SECONDS), "-c", str(conns), "--server-pid", str(srv.pid),
               "hold", "127.0.0.1", str(port)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=HOLD_SECONDS + 300)
        start = re.search(r"event=start .*", open(log).read()).group(0)
        print(f"asked={conns} generators={procs} status={run.returncode}")
        print(f"server: {start}")
        print(run.stdout.strip())
        if run.stderr.strip():
            print(run.stderr.strip())
    finally:
        os.killpg(srv.pid, signal.SIGTERM)
        srv.wait(60)
        os.unlink(log)


if __name__ == "__main__":
    main()
