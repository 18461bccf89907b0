"""-l ADDR:PORT,deferred (TCP_DEFER_ACCEPT): a connection becomes a session once its first bytes
are in, a silent one about a second later anyway; services that speak first refuse it."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from harness import (Server, check, concurrently, connect, echo_roundtrip, recv_all, run_server_once,
                     socket_fds, steal_fd, track)


def test_a_deferred_listener_serves_a_client_once_it_speaks_in_every_model():
    def one(model):
        srv = Server("-l", "127.0.0.1:0,deferred", "--model", model, "--idle-timeout", "2",
                     *(["--start", "2"] if model == "prefork" else []))
        check(srv.matching(r"event=listen addr=127\.0\.0\.1:\d+ deferred=yes$"), f"{model}: {srv.lines}")
        ls = steal_fd(srv.pid, socket_fds(srv.pid)[0])
        check(ls.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0,
              f"{model}: TCP_DEFER_ACCEPT on the listener")
        ls.close()
        with connect(srv.port) as s:
            data = b"first words" * 1000
            check(echo_roundtrip(s, data) == data, f"{model}: a client that speaks is served")
        srv.wait_for(r"event=end .*reason=eof")
        t0 = time.monotonic()
        silent = connect(srv.port)  # the handshake completes; the server waits for bytes
        srv.wait_for(r"event=connect ", count=2, timeout=10)
        waited = time.monotonic() - t0  # from before the handshake: a lower bound cannot be luck
        check(0.5 <= waited < 5, f"{model}: handed over after {waited:.1f} s of silence, not at once")
        line = srv.wait_for(r"event=end ", count=2, timeout=10)[1]
        check("reason=idle" in line, f"{model}: then --idle-timeout applies: {line}")
        check(recv_all(silent) == b"", "closed")
        silent.close()
        check(srv.stop() == 0, f"{model}: exit 0")
    concurrently(one, ("fork", "prefork", "loop"))


def test_a_loop_worker_reads_a_deferred_sessions_first_bytes_without_waiting_for_them():
    """The kernel hands over a ,deferred connection with its first bytes in: the loop worker reads
    them at once, with no epoll wait between the accept and the read (seen with strace)."""
    srv = Server("-v", "-l", "127.0.0.1:0,deferred", "--model", "loop", "--workers", "1")
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=worker-ready")[0]).group(1))
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "trace")
        tracer = track(subprocess.Popen(["strace", "-p", str(pid), "-o", trace, "-e",
                                         "trace=accept4,recvfrom,epoll_wait,epoll_pwait,epoll_pwait2"],
                                        stderr=subprocess.PIPE, text=True))
        check("attached" in tracer.stderr.readline(), "strace attached to the worker")
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"first words") == b"first words", "echoed")
        srv.wait_for(r"event=end ")
        tracer.send_signal(signal.SIGINT)
        tracer.wait(10)
        with open(trace) as f:
            calls = f.read().splitlines()
    took = [i for i, c in enumerate(calls) if re.match(r"accept4\(.*\) = \d+$", c)]
    check(len(took) == 1, f"one connection accepted: {calls}")
    fd = re.search(r"= (\d+)$", calls[took[0]]).group(1)
    first = next((i for i, c in enumerate(calls) if i > took[0] and c.startswith(f"recvfrom({fd}, ")),
                 None)
    check(first is not None and '"first words"' in calls[first], f"its first read has its bytes: {calls}")
    between = [c for c in calls[took[0] + 1:first] if c.startswith(("epoll_wait(", "epoll_pwait"))]
    check(not between, f"no wait between the accept and the first read: {calls}")
    check(srv.stop() == 0, "exit 0")


def test_a_deferred_listener_takes_a_proxy_header_for_first_bytes():
    srv = Server("-l", "127.0.0.1:0,proxy,deferred")
    with connect(srv.port) as s:
        s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 4000 7\r\nhello")
        s.shutdown(socket.SHUT_WR)
        check(recv_all(s) == b"hello", "the header, then the echo")
    line = srv.wait_for(r"event=end ")[0]
    check(re.search(r"peer=192\.0\.2\.7:4000 via=127\.0\.0\.1:\d+ ", line), line)
    check(srv.stop() == 0, "exit 0")


def test_a_successor_defers_accepts_as_its_own_listen_options_say():
    """--upgrade-socket: the socket a successor takes over defers accepts as the successor's -l
    says, not as its predecessor's did: chargen, which speaks first, greets a silent client at
    once after an echo server on ,deferred."""
    def defer_secs(srv):
        fd = int(re.search(r" fd=(\d+) ", srv.wait_for(r"event=listen ")[0]).group(1))
        ls = steal_fd(srv.pid, fd)
        try:
            return ls.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT)
        finally:
            ls.close()
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "upgrade.sock")
        old = Server("-l", "127.0.0.1:0", "--upgrade-socket", sock)
        port = old.port
        mid = Server("-l", f"127.0.0.1:{port},deferred", "--upgrade-socket", sock)
        check(old.wait_exit() == 0, "the first server hands over and exits")
        check(defer_secs(mid) > 0, "the successor with ,deferred defers")
        new = Server("-l", f"127.0.0.1:{port}", "-s", "chargen", "--upgrade-socket", sock)
        check(mid.wait_exit() == 0, "the second server hands over and exits")
        check(defer_secs(new) == 0, "the successor without ,deferred does not")
        t0 = time.monotonic()
        with connect(port) as s:   # says nothing
            s.settimeout(5)
            first = s.recv(72)
        waited = time.monotonic() - t0
        check(len(first) > 0 and waited < 0.5, f"chargen's first bytes after {waited:.2f} s: {first!r}")
        new.wait_for(r"event=end ")
        check(new.stop() == 0, "exit 0")


def test_services_that_speak_first_refuse_a_deferred_listener():
    for args, who in ((["-s", "daytime"], "-s daytime"), (["-s", "chargen"], "-s chargen"),
                      (["--banner", "%h"], "--banner")):
        rc, err = run_server_once("-l", "127.0.0.1:0,deferred", *args)
        check(rc == 2 and f"a ,deferred listener waits for the client to speak first, and {who} "
              "speaks first" in err and err.count("\n") == 1, f"{who}: {rc} {err!r}")
    rc, err = run_server_once("-l", "127.0.0.1:0,defer")
    check(rc == 2 and "unknown option 'defer'" in err and "expected proxy, tls, deferred or a socket option" in err, err)
    rc, err = run_server_once("-l", "udp:127.0.0.1:0,deferred")
    check(rc == 2 and "a udp: listener takes socket options only" in err, err)
