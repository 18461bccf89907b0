"""-l ADDR:PORT,deferred (TCP_DEFER_ACCEPT): a connection becomes a session once its first bytes
are in, a silent one about a second later anyway; services that speak first refuse it."""
import re
import socket
import time

from harness import (Server, check, concurrently, connect, echo_roundtrip, recv_all, run_server_once,
                     socket_fds, steal_fd)


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


def test_a_deferred_listener_takes_a_proxy_header_for_first_bytes():
    srv = Server("-l", "127.0.0.1:0,proxy,deferred")
    with connect(srv.port) as s:
        s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 4000 7\r\nhello")
        s.shutdown(socket.SHUT_WR)
        check(recv_all(s) == b"hello", "the header, then the echo")
    line = srv.wait_for(r"event=end ")[0]
    check(re.search(r"peer=192\.0\.2\.7:4000 via=127\.0\.0\.1:\d+ ", line), line)
    check(srv.stop() == 0, "exit 0")


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
