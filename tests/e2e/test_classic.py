"""The classic test services inetd had built in: discard (RFC 863), chargen (RFC 864) and
daytime (RFC 867), in every model."""
import os
import re
import socket
import time

from harness import Server, check, concurrently, connect, recv_all

MODELS = (("--model", "fork"), ("--model", "prefork"), ("--model", "loop"))


def chargen_expected(n):
    """The first n bytes of RFC 864's rotating pattern, written here from the RFC's description."""
    chars = "".join(chr(c) for c in range(0x20, 0x7f))
    out, line = [], 0
    while sum(map(len, out)) < n:
        out.append("".join(chars[(line + i) % 95] for i in range(72)) + "\r\n")
        line += 1
    return "".join(out).encode()[:n]


def test_discard_takes_everything_and_sends_nothing():
    for model in MODELS:
        srv = Server("-l", "127.0.0.1:0", "-s", "discard", *model)
        data = os.urandom(3 << 20)
        with connect(srv.port) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            check(recv_all(s) == b"", f"{model}: nothing comes back, then the close")
        line = srv.wait_for(r"event=end ")[0]
        check(f"reason=eof in={len(data)} out=0" in line, f"{model}: all taken, none sent: {line}")
        check(srv.stop() == 0, "server exits 0")


def test_chargen_sends_the_rotating_lines_as_fast_as_they_are_read():
    for model in MODELS:
        srv = Server("-l", "127.0.0.1:0", "-s", "chargen", *model)
        want = chargen_expected(200_000)
        with connect(srv.port) as s:
            s.sendall(b"ignored by chargen\n")
            got = b""
            while len(got) < len(want):
                chunk = s.recv(65536)
                check(chunk != b"", f"{model}: the stream goes on")
                got += chunk
        check(got[:len(want)] == want, f"{model}: the pattern: {got[:80]!r} ...")
        check(got[:74] == b' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n',
              f"{model}: the first line, spelt out: {got[:74]!r}")
        line = srv.wait_for(r"event=end ")[0]
        check("reason=eof" in line, f"{model}: the client left; the session ended as eof: {line}")
        check(srv.stop() == 0, "server exits 0")


def test_chargen_to_a_client_that_stops_reading_ends_by_the_idle_timeout():
    srv = Server("-l", "127.0.0.1:0", "-s", "chargen", "--idle-timeout", "2")
    with connect(srv.port) as s:
        s.recv(100)
        t0 = time.monotonic()
        line = srv.wait_for(r"event=end ", timeout=10)[0]
        took = time.monotonic() - t0
    check("reason=idle" in line and took < 6, f"cut after {took:.1f} s: {line}")
    check(srv.stop() == 0, "server exits 0")


def test_daytime_sends_one_line_and_closes():
    for model in MODELS:
        srv = Server("-l", "127.0.0.1:0", "-s", "daytime", *model)
        with connect(srv.port) as s:
            got = recv_all(s)
        m = re.fullmatch(rb"(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d (\d{4}))\r\n", got)
        check(m is not None, f"{model}: one ctime-style line and the close: {got!r}")
        when = time.mktime(time.strptime(m.group(1).decode().replace("  ", " "), "%a %b %d %H:%M:%S %Y"))
        check(abs(when - time.time()) < 5, f"{model}: the time is now: {got!r}")
        line = srv.wait_for(r"event=end ")[0]
        check(f"reason=eof in=0 out={len(got)}" in line, f"{model}: {line}")
        check(srv.stop() == 0, "server exits 0")


def test_the_services_are_named_in_the_usage_error():
    from harness import run_server_once
    rc, err = run_server_once("-s", "chargn", "-l", "127.0.0.1:0")
    check(rc == 2 and "expected echo, upper, discard, chargen, daytime" in err, err)


def test_mpecho_bench_measures_discard_and_chargen_one_way():
    import json
    import subprocess
    from harness import binary

    def bench(mode, port):
        run = subprocess.run([binary("mpecho-bench"), "--json", "-q", "-d", "1", "-w", "0", "-c", "2",
                              mode, "127.0.0.1", str(port)], capture_output=True, text=True, timeout=60)
        return run.returncode, json.loads(run.stdout)

    discard = Server("-l", "127.0.0.1:0", "-s", "discard")
    chargen = Server("-l", "127.0.0.1:0", "-s", "chargen")
    echo = Server("-l", "127.0.0.1:0", "--banner", "hello")
    clean = lambda rc, r: rc == 0 and r["bytes"] > 0 and not any(r["errors"].values())

    def one(case):  # the four at once: each runs its -d 1
        mode, srv, holds, what = case
        rc, r = bench(mode, srv.port)
        check(holds(rc, r), f"{what}: {rc} {r}")
    # the checks can fail: an echo server with a banner sends a line that is not chargen's,
    # and chargen sends bytes a sink says are extra
    concurrently(one, (("sink", discard, clean, "sink to discard"),
                       ("source", chargen, clean, "source from chargen"),
                       ("source", echo, lambda rc, r: rc == 1 and r["errors"]["corrupt"] > 0,
                        "source from a banner: corrupt bytes"),
                       ("sink", chargen, lambda rc, r: rc == 1 and r["errors"]["extra"] > 0,
                        "sink to chargen: extra bytes")))
    for srv in (discard, chargen, echo):
        check(srv.stop() == 0, "server exits 0")
