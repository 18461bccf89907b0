"""The process model: 1 + N processes, no zombies, drain on SIGTERM, EMFILE, fork failure."""
import json
import os
import re
import resource
import signal
import socket
import subprocess
import threading
import time

from harness import (MODELS, Server, binary, check, connect, cpu_seconds, echo_roundtrip, half_close_echo,
                     recv_all, recv_exactly, wait_until)


def test_one_process_per_held_client():
    srv = Server("-l", "127.0.0.1:0")
    check(srv.sessions() == [], "no session process before any client")
    held = []
    for i in range(12):
        s = connect(srv.port)
        check(echo_roundtrip(s, b"held %d" % i) == b"held %d" % i, "held client echoes")
        held.append(s)
    wait_until(lambda: len(srv.sessions()) == 12, 5, "12 session processes")
    check(len(srv.sessions()) == 12, "exactly 1 + N processes with N = 12 clients")
    check(srv.wait_for(r"event=connect .*sessions=12"), "connect line counts live sessions")
    for s in held[:5]:
        s.close()
    wait_until(lambda: len(srv.sessions()) == 7, 5, "7 session processes after 5 left")
    for s in held[5:]:
        s.close()
    wait_until(lambda: not children_of(srv), 5, "no child left after every client left")
    check(srv.stop() == 0, "server exits 0")


def children_of(srv):
    return srv.sessions() + srv.zombies()


def test_no_zombie_after_500_short_connections_in_bursts():
    for model in MODELS:
        pool = {"prefork": ("--start", "10"), "loop": ()}.get(model, ())
        srv = Server("-l", "127.0.0.1:0", "-q", "--model", model, *pool)
        failures = []
        threads = [threading.Thread(target=short_sessions, args=(srv.port, k, failures))
                   for k in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        check(not failures, f"{model}: all 500 short sessions echoed: {failures[:5]}")
        if model == "fork":
            wait_until(lambda: not children_of(srv), 10, "every child reaped")
        check(srv.zombies() == [], f"{model}: 0 zombies")
        status = srv.status(r"^(?=.* served=500 )(?=.* sessions=0 )")
        check(not srv.matching(r"event=connect|event=end"), f"{model}: -q drops per-connection lines")
        check(srv.stop(served=500) == 0, f"{model}: server exits 0 ({status})")


def short_sessions(port, k, failures):
    for i in range(50):
        try:
            with connect(port) as s:
                msg = b"%d-%d" % (k, i)
                s.sendall(msg)
                s.shutdown(socket.SHUT_WR)
                if recv_all(s) != msg:
                    failures.append((k, i))
        except OSError as e:
            failures.append((k, i, repr(e)))


def test_sigterm_lets_a_transfer_in_flight_finish():
    for model in MODELS:
        srv = Server("-l", "127.0.0.1:0", "--grace", "20", "--model", model)
        part = os.urandom(2 * 1024 * 1024)
        s = connect(srv.port)
        check(echo_roundtrip(s, part) == part, "first part echoed before SIGTERM")
        srv.proc.send_signal(signal.SIGTERM)
        srv.wait_for(r"event=shutdown signal=TERM sessions=1")
        # New clients are refused at once: the listener is shut down.
        try:
            connect(srv.port).close()
            check(False, f"{model}: a new connection after SIGTERM must be refused")
        except ConnectionRefusedError:
            pass
        rest = os.urandom(3 * 1024 * 1024)
        back = half_close_echo(s, rest)
        s.close()
        check(back == rest, f"{model}: the whole transfer came back during the drain ({len(back)} bytes)")
        rc = srv.wait_exit()
        check(rc == 0, f"{model}: server exits 0 after the drain (got {rc})")
        wait_until(lambda: not children_of(srv), 5, "no process left")
        srv.wait_for(r"event=stop served=1 ")


def test_grace_period_ends_sessions_that_stay():
    srv = Server("-l", "127.0.0.1:0", "--grace", "1")
    s = connect(srv.port)
    check(echo_roundtrip(s, b"idle") == b"idle", "echo")
    t0 = time.monotonic()
    rc = srv.stop(signal.SIGTERM, timeout=10)
    check(rc == 0, f"server exits 0 after ending the idle session (got {rc})")
    check(time.monotonic() - t0 >= 0.9, "the session had its grace period")
    check(srv.matching(r"event=terminate sessions=1 signal=TERM"), "terminate logged")
    check(srv.matching(r"event=end .*signal=TERM"), "the session's end shows the signal")
    check(recv_all(s) == b"", "the client sees the connection close")
    s.close()


def test_second_signal_ends_sessions_at_once():
    srv = Server("-l", "127.0.0.1:0", "--grace", "60")
    s = connect(srv.port)
    check(echo_roundtrip(s, b"x") == b"x", "echo")
    srv.proc.send_signal(signal.SIGINT)
    srv.wait_for(r"event=shutdown signal=INT")
    rc = srv.stop(signal.SIGINT, timeout=10)
    check(rc == 0, "server exits 0")
    s.close()


def test_emfile_pauses_accepting_and_recovers():
    """The process that accepts runs out of descriptors: the supervisor (fork), the worker
    (loop)."""
    for model in ("fork", "loop"):
        srv = Server("-l", "127.0.0.1:0", "--model", model, *(("--workers", "1", "-v") if model == "loop" else ()))
        # A worker's descriptors are final once it says it is ready (-v), not once it exists:
        # counted before it closed what it inherited, its limit left room for one more accept.
        acceptor = srv.pid if model == "fork" else \
            int(re.search(r"pid=(\d+)", srv.wait_for(r"event=worker-ready pid=\d+")[0]).group(1))
        emfile_pauses_and_recovers(srv, acceptor, model)


def emfile_pauses_and_recovers(srv, acceptor, model):
    nfds = len(os.listdir(f"/proc/{acceptor}/fd"))
    soft, hard = resource.prlimit(acceptor, resource.RLIMIT_NOFILE)
    # Lower the acceptor's descriptor limit to what it holds: the next accept() fails.
    resource.prlimit(acceptor, resource.RLIMIT_NOFILE, (nfds, hard))
    waiting = connect(srv.port)  # completes in the kernel backlog
    waiting.sendall(b"queued")
    srv.wait_for(r"event=accept-failed .*Too many open files.*action=pause")
    t0, c0 = time.monotonic(), cpu_seconds(acceptor)
    time.sleep(1.0)
    used = (cpu_seconds(acceptor) - c0) / (time.monotonic() - t0)
    check(used < 0.3, f"{model}: no busy loop while out of descriptors (CPU {used:.0%})")
    check(srv.proc.poll() is None, f"{model}: the server is still running")
    check(len(srv.matching(r"event=accept-failed")) == 1, f"{model}: logged once, not once per retry")
    # Descriptors free up: the waiting client is served.
    resource.prlimit(acceptor, resource.RLIMIT_NOFILE, (soft, hard))
    check(recv_exactly(waiting, 6) == b"queued", f"{model}: the waiting client is served after recovery")
    waiting.close()
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"again") == b"again", f"{model}: new clients are served again")
    check(srv.stop() == 0, f"{model}: server exits 0")


def test_fork_failure_closes_that_connection_and_goes_on():
    # An unprivileged uid with RLIMIT_NPROC 2: the supervisor plus one session.
    uid = 54321
    prefix = ("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
              "prlimit", "--nproc=2:2", "--")
    srv = Server("-l", "127.0.0.1:0", prefix=prefix)
    first = connect(srv.port)
    check(echo_roundtrip(first, b"one") == b"one", "the first session runs")
    second = connect(srv.port)
    line = srv.wait_for(r"event=fork-failed")[0]
    check("action=closed" in line and "peer=127.0.0.1:" in line, f"fork failure logged: {line}")
    second.settimeout(5)
    try:
        check(second.recv(10) == b"", "the connection that could not be served is closed")
    except ConnectionResetError:
        pass
    second.close()
    check(srv.proc.poll() is None, "the supervisor survives a failed fork")
    first.close()
    wait_until(lambda: not srv.sessions(), 5, "the first session to end")

    def served():
        try:
            with connect(srv.port) as s:
                return echo_roundtrip(s, b"three") == b"three"
        except OSError:
            return False
    wait_until(served, 5, "service to resume once a process slot is free")
    check(srv.stop() == 0, "server exits 0")


def test_sessions_leave_through_exit_not_signals():
    """Every session of a normal run ends by exit() with a known reason."""
    srv = Server("-l", "127.0.0.1:0", "-s", "upper")
    for msg in (b"a\n", b"quit\n"):
        with connect(srv.port) as s:
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            recv_all(s)
    ends = srv.wait_for(r"event=end ", count=2)
    reasons = sorted(re.search(r"reason=(\w+)", l).group(1) for l in ends)
    check(reasons == ["eof", "quit"], f"reasons {reasons}")
    check(all("exit=" in l for l in ends), "exit statuses logged")
    check(srv.stop() == 0, "server exits 0")


def test_max_conns_holds_extra_clients_in_the_backlog():
    pool = ("--model", "prefork", "--start", "1", "--min-spare", "1")  # --max-spare 2 could not take effect
    for host, extra in (("127.0.0.1", ()), ("::1", ()), ("127.0.0.1", pool),
                        ("127.0.0.1", ("--model", "loop", "--workers", "2")), ("::1", ("--model", "loop"))):
        srv = Server("-l", f"[{host}]:0" if ":" in host else f"{host}:0", "-c", "2", *extra)
        what = f"{host} {' '.join(extra[:2]) or 'fork'}"
        a, b = connect(srv.port, host), connect(srv.port, host)
        for s in (a, b):
            check(echo_roundtrip(s, b"in") == b"in", "the first two are served")
        c = connect(srv.port, host)  # the kernel completes the handshake; the server waits
        c.sendall(b"waiting")
        c.settimeout(0.5)
        try:
            early = c.recv(10)
        except TimeoutError:
            early = None
        check(early is None, f"{what}: the third client is not served while 2 sessions live ({early!r})")
        if "loop" not in extra:  # a loop's children are its workers
            check(len(srv.sessions()) == 2, f"{what}: no third session process")
        srv.wait_for(r"event=limit sessions=2 max_conns=2 action=backlog")
        a.close()
        c.settimeout(10)
        check(recv_exactly(c, 7) == b"waiting", f"{what}: served, nothing lost, once a session ends")
        check(max(int(re.search(r"sessions=(\d+)", l).group(1))
                  for l in srv.matching(r"event=connect")) == 2, "never more than 2 live sessions")
        check(not srv.matching(r"event=refused"), "back-pressure, not refusal")
        b.close()
        c.close()
        check(srv.stop() == 0, "server exits 0")


def test_repeating_lines_are_throttled_not_flooding():
    """At -c 1 under a connection loop the limit is reached thousands of times a second: its
    line comes at most once a second, and the rest are counted in limit-held lines. Each time
    it is reached (the pools' ticks, ten a second, used to see a few of them only)."""
    for model in MODELS:
        repeating_lines_throttled(model)


def repeating_lines_throttled(model):
    pool = ("--start", "1", "--min-spare", "1") if model == "prefork" else ()
    srv = Server("-q", "-c", "1", "-l", "127.0.0.1:0", "--model", model, *pool)
    out = subprocess.run([binary("mpecho-bench"), "--json", "-q", "-c", "4", "-d", "2", "-w", "0",
                          "connrate", "127.0.0.1", str(srv.port)], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, f"the load ran clean: {out.stdout}")
    ops = json.loads(out.stdout)["ops"]
    srv.wait_for(r"event=limit-held count=\d+", timeout=5)

    def total():  # the limit lines and the held ones summed up (the last come a second later)
        held = srv.matching(r"event=limit-held count=\d+")
        return len(srv.matching(r"event=limit sessions=")) + sum(
            int(re.search(r"count=(\d+)", l).group(1)) for l in held)
    limits = srv.matching(r"event=limit sessions=")
    check(1 <= len(limits) <= 4, f"{model}: at most one limit line a second: {len(limits)}")
    # One client served at a time, three waiting: nearly every session begins at the limit.
    wait_until(lambda: total() >= ops * 0.9, 5, f"{model}: the limit counted for nearly every one of {ops} sessions")
    check(srv.stop(served=lambda n: n >= ops) == 0, f"{model}: exit 0, the {ops} sessions measured counted")
