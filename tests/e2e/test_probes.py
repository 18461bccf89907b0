"""Probes and a graceful goodbye: /healthz and /readyz on the metrics listener, fast and never
sessions; --shutdown-delay (not ready at once, still accepting, then the drain; a second
signal moves on at once); health checks (a connect-and-close, a reset, one on a TLS listener)
counted as checks only, in both models; --agent, HAProxy's agent-check, on its own."""
import os
import re
import signal
import socket
import statistics
import struct
import time

from harness import Server, check, concurrently, connect, echo_roundtrip, recv_all, run_server_once
from test_metrics import samples, scrape
from test_tls import certs


def probe_times(port, path, n):
    """Seconds from each request sent to its whole answer read (the connect not counted)."""
    times = []
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            t0 = time.perf_counter()
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            answer = recv_all(s)
            times.append(time.perf_counter() - t0)
        check(answer.startswith(b"HTTP/1.1 200 OK\r\n"), f"{path}: {answer[:40]!r}")
    return times


def test_healthz_and_readyz_answer_fast_and_are_no_sessions():
    for model in ("fork", "prefork", "loop"):
        srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--model", model)
        mport = srv.endpoint("metrics")[1]
        status, head, body = scrape(mport, "/healthz")
        check(status == 200 and body == "ok\n", f"{model}: /healthz {status} {body!r}")
        status, head, body = scrape(mport, "/readyz")
        check(status == 200 and body == "ready\n", f"{model}: /readyz {status} {body!r}")
        status, head, body = scrape(mport, "/readyz", ("-I",))
        check(status == 200 and body == "" and "Content-Length: 6" in head, f"HEAD: {head}")
        times = probe_times(mport, "/healthz", 100) + probe_times(mport, "/readyz", 100)
        median = statistics.median(times)
        check(median < 0.001, f"{model}: probes answer in under a millisecond (median "
              f"{median * 1e6:.0f} us, worst {max(times) * 1e6:.0f} us)")
        m = samples(scrape(mport)[2])
        check(m["mpechod_session_duration_seconds_count"] == 0 and m["mpechod_health_checks_total"] == 0,
              f"{model}: 200 probes are neither sessions nor checks: {m}")
        check("served: 0 sessions" in scrape(mport, "/")[2], "the summary counts no session")
        check(srv.stop() == 0, "exit 0")


def test_shutdown_delay_turns_readyz_at_once_keeps_accepting_then_drains():
    def one(model):
        srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--model", model,
                     "--shutdown-delay", "2", "--grace", "10")
        mport = srv.endpoint("metrics")[1]
        early = connect(srv.port)
        check(echo_roundtrip(early, b"before") == b"before", "a session before SIGTERM")
        srv.proc.send_signal(signal.SIGTERM)
        srv.wait_for(r"event=leaving signal=TERM sessions=1 delay=2")
        t0 = time.monotonic()
        status, _, body = scrape(mport, "/readyz")
        check(status == 503 and body == "leaving\n", f"{model}: not ready at once: {status} {body!r}")
        check(scrape(mport, "/healthz")[0] == 200, "still healthy")
        with connect(srv.port) as s:  # the listener still takes clients during the delay
            check(echo_roundtrip(s, b"during the delay") == b"during the delay", f"{model}: served")
        check(time.monotonic() - t0 < 1.5 and not srv.matching(r"event=shutdown"),
              f"{model}: served before the delay ran out")
        srv.wait_for(r"event=shutdown signal=TERM sessions=1 grace=10")
        leaving = srv.matching(r"event=leaving")[0]
        shutdown = srv.matching(r"event=shutdown")[0]
        gap = stamp(shutdown) - stamp(leaving)
        check(1.9 <= gap < 3.0, f"{model}: the drain began after the delay ({gap:.3f} s)")
        status, _, body = scrape(mport, "/readyz")
        check(status == 503 and body == "draining\n", f"draining: {status} {body!r}")
        refused = False
        try:
            connect(srv.port).close()
        except ConnectionRefusedError:
            refused = True
        check(refused, f"{model}: new clients are refused once the drain begins")
        rest = os.urandom(100_000)
        check(echo_roundtrip(early, rest) == rest, f"{model}: the early session goes on in the drain")
        early.close()
        check(srv.wait_exit() == 0, "exit 0")
        srv.wait_for(r"event=stop served=2 ")
    concurrently(one, ("fork", "prefork", "loop"))


def stamp(line):
    """Seconds of a log line's time=...Z within the day."""
    h, m, s = re.search(r"time=\S+T(\d\d):(\d\d):(\d\d\.\d+)Z", line).groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_a_second_signal_ends_the_shutdown_delay_at_once():
    srv = Server("-l", "127.0.0.1:0", "--shutdown-delay", "60")
    srv.proc.send_signal(signal.SIGTERM)
    srv.wait_for(r"event=leaving signal=TERM sessions=0 delay=60")
    srv.proc.send_signal(signal.SIGINT)
    srv.wait_for(r"event=shutdown signal=INT sessions=0 ", timeout=2)
    check(srv.wait_exit(5) == 0, "exit 0 well before the delay")


def reset_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_health_checks_are_counted_as_checks_only():
    cert, key = certs()
    for model in ("fork", "prefork", "loop"):
        srv = Server("-l", "127.0.0.1:0", "-l", "127.0.0.1:0,tls", "--tls-cert", cert, "--tls-key", key,
                     "--banner", "hi %p", "--metrics", "127.0.0.1:0", "--model", model)
        mport = srv.endpoint("metrics")[1]
        plain, tls = srv.addrs[0][1], srv.addrs[1][1]
        for _ in range(3):
            connect(plain).close()          # a connect-and-close (a Kubernetes tcpSocket probe)
            reset_close(connect(plain))     # closed with a reset (HAProxy's plain check)
            connect(tls).close()            # a TCP check on a TLS listener
        with connect(plain) as s:          # one real session, that sends nothing back but reads
            check(banner_line(s) == b"hi %d" % srv.pid, "the banner")
            check(echo_roundtrip(s, b"real") == b"real", "echo")
        srv.wait_for(r"event=end ", count=10)
        checks = srv.matching(r"event=end .* check=yes ")
        check(len(checks) == 9 and all(re.search(r" in=0 out=(0|\d+) ", l) for l in checks),
              f"{model}: nine end lines say check=yes: {checks}")
        check(not srv.matching(r"event=tls-failed"), f"{model}: a TCP check is no failed TLS client")
        m = samples(scrape(mport)[2])
        ended = sum(v for k, v in m.items() if k.startswith("mpechod_sessions_ended_total"))
        check(m["mpechod_health_checks_total"] == 9 and ended == 1 and
              m["mpechod_session_duration_seconds_count"] == 1,
              f"{model}: 9 checks, 1 session: checks {m['mpechod_health_checks_total']}, ended {ended}")
        check("served: 1 sessions" in scrape(mport, "/")[2] and
              re.search(r"health checks 9$", scrape(mport, "/")[2], re.M), "the summary")
        srv.proc.send_signal(signal.SIGUSR1)
        st = srv.wait_for(r"event=status")[0]
        check(" served=1 " in st and " checks=9 " in st, f"{model}: the status line: {st}")
        check(srv.stop() == 0, "exit 0")
        srv.wait_for(r"event=stop served=1 ")


def banner_line(s):
    """The banner line, up to its CRLF."""
    got = b""
    while not got.endswith(b"\r\n"):
        b = s.recv(1)
        if not b:
            break
        got += b
    return got[:-2]


def agent_says(port, send=b""):
    """What --agent answers one connection (HAProxy's agent-check), having sent it `send`."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        if send:
            s.sendall(send)
        return recv_all(s)


def test_the_agent_says_up_drain_down_and_guards_itself():
    srv = Server("-v", "-l", "127.0.0.1:0", "--agent", "127.0.0.1:0", "--shutdown-delay", "30",
                 "--grace", "30")
    aport = srv.endpoint("agent")[1]
    check(agent_says(aport) == b"up ready\n", "ready: up ready")
    check(agent_says(aport, b"be_echo/s1\n") == b"up ready\n", "with an agent-send line too")
    srv.wait_for(r'event=agent peer=127\.0\.0\.1:\d+ answer="up ready" asked=be_echo/s1 end=line')
    bad = socket.create_connection(("127.0.0.1", aport), timeout=10)
    bad.sendall(b"\x00\x01binary")
    check(recv_all(bad) == b"up ready\n", "the answer goes first, whatever follows")
    bad.close()
    srv.wait_for(r'event=agent .* asked="" end=bad')
    slow = socket.create_connection(("127.0.0.1", aport), timeout=10)
    t0 = time.monotonic()
    check(slow.recv(100) == b"up ready\n", "a silent balancer gets its answer at once")
    srv.wait_for(r"event=agent .* end=deadline", timeout=5)
    check(time.monotonic() - t0 < 3, "and is let go at the deadline")
    slow.close()
    crowd = [socket.create_connection(("127.0.0.1", aport), timeout=10) for _ in range(40)]
    with connect(srv.port) as s:  # 40 agent clients at once: echo goes on
        check(echo_roundtrip(s, b"meanwhile") == b"meanwhile", "echo while the agent is crowded")
    check(all(recv_all(c) == b"up ready\n" for c in crowd), "every one of 40 answered")
    for c in crowd:
        c.close()
    held = connect(srv.port)
    check(echo_roundtrip(held, b"x") == b"x", "a session to drain")
    srv.proc.send_signal(signal.SIGTERM)
    srv.wait_for(r"event=leaving ")
    check(agent_says(aport) == b"up drain\n", "leaving: up drain")
    srv.proc.send_signal(signal.SIGTERM)
    srv.wait_for(r"event=shutdown ")
    check(agent_says(aport) == b"drain down#draining\n", "draining: drain down")
    held.close()
    check(srv.wait_exit() == 0, "exit 0")
    check(not srv.matching(r"event=end .* check=yes"), "agent clients are no sessions or checks")


def test_agent_and_shutdown_delay_usage_errors():
    rc, err = run_server_once("-l", "127.0.0.1:0", "--agent", "nope")
    check(rc == 2 and "invalid value 'nope' for --agent: expected ADDR:PORT" in err, err)
    rc, err = run_server_once("-l", "127.0.0.1:0", "--shutdown-delay", "3601")
    check(rc == 2 and "invalid value '3601' for --shutdown-delay: expected a whole number from 0 to 3600"
          in err, err)
    busy = Server("-l", "127.0.0.1:0")
    rc, err = run_server_once("-l", "127.0.0.1:0", "--agent", f"127.0.0.1:{busy.port}")
    check(rc == 1 and f"cannot listen on 127.0.0.1:{busy.port} for --agent: Address already in use"
          in err and len(err.strip().splitlines()) == 1, err)
    check(busy.stop() == 0, "exit 0")
