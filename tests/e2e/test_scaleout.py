"""Several instances on one port (--reuseport), and replacing a running server under load
(--upgrade-socket) with no refused and no reset connection."""
import json
import os
import re
import socket
import subprocess
import tempfile
import time

from harness import (Server, binary, check, connect, echo_roundtrip, free_port, run_server_once,
                     track, wait_until)


def test_reuseport_instances_share_one_port():
    port = free_port()
    a = Server("--reuseport", "-l", f"127.0.0.1:{port}")
    b = Server("--reuseport", "-l", f"127.0.0.1:{port}")
    for i in range(40):
        with connect(port) as s:
            check(echo_roundtrip(s, b"%d" % i) == b"%d" % i, "echo")
    wait_until(lambda: sum(len(x.matching(r"event=end ")) for x in (a, b)) == 40, 5, "40 end lines")
    served = [len(x.matching(r"event=end ")) for x in (a, b)]
    check(min(served) >= 5, f"the kernel spreads connections over both: {served}")
    rc, err = run_server_once("-l", f"127.0.0.1:{port}")
    check(rc == 1 and "Address already in use" in err, f"without --reuseport the port is taken: {err}")
    check(a.stop() == 0 and b.stop() == 0, "both exit 0")


def bench_in_background(port, seconds):
    return track(subprocess.Popen([binary("mpecho-bench"), "--json", "-q", "-S", "8", "-c", "16",
                                   "-w", "0", "-d", str(seconds), "connrate", "127.0.0.1", str(port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE))


def test_upgrade_under_a_connect_loop_refuses_and_resets_nothing():
    with tempfile.TemporaryDirectory() as d:
        sock, pidfile = os.path.join(d, "upgrade.sock"), os.path.join(d, "mpechod.pid")
        old = Server("-l", "127.0.0.1:0", "-c", "2000", "--upgrade-socket", sock, "-p", pidfile)
        port = old.port
        load = bench_in_background(port, 4)
        old.wait_for(r"event=end ", count=200)  # the loop is running against the old one
        new = Server("--upgrade-socket", sock, "-p", pidfile, "-c", "500", "--model", "prefork",
                     ready=True)
        check(new.matching(rf"event=listen addr=127\.0\.0\.1:{port} fd=\d+ upgrade-from={old.pid}$"),
              f"the listener came from the old server: {new.lines[:4]}")
        check(new.matching(r"event=start .* model=prefork max_conns=500"), "new options took effect")
        old.wait_for(rf"event=handover successor={new.pid} ")
        check(old.wait_exit() == 0, "the old server drains and exits 0")
        out, err = load.communicate(timeout=60)
        result = json.loads(out)
        check(load.returncode == 0 and all(v == 0 for v in result["errors"].values()),
              f"no refused, reset or broken session across the switch: {result['errors']} {err!r}")
        check(result["ops"] >= 2000, f"a few thousand sessions across it: {result['ops']}")
        wait_until(lambda: open(pidfile).read().strip() == str(new.pid), 5, "the pidfile names the new one")
        check(not os.path.exists(pidfile + ".old"), "the old one removed its file")
        with connect(port) as s:
            check(echo_roundtrip(s, b"after") == b"after", "the new one serves")
        check(new.stop() == 0, "exit 0")


def test_a_successor_that_fails_leaves_the_old_server_as_it_was():
    with tempfile.TemporaryDirectory() as d:
        sock, pidfile = os.path.join(d, "upgrade.sock"), os.path.join(d, "mpechod.pid")
        old = Server("-l", "127.0.0.1:0", "--upgrade-socket", sock, "-p", pidfile)
        fake = socket.socket(socket.AF_UNIX)
        fake.connect(sock)
        msg, fds, _, _ = socket.recv_fds(fake, 64, 8)
        check(msg == b"mpechod-upgrade 1\n" and len(fds) == 1, f"the offer: {msg!r} {fds}")
        check(os.path.exists(pidfile + ".old"), "the pidfile's name is freed meanwhile")
        for fd in fds:
            os.close(fd)
        fake.close()  # gone before READY
        old.wait_for(r"event=upgrade-failed ")
        wait_until(lambda: os.path.exists(pidfile) and not os.path.exists(pidfile + ".old"), 5,
                   "the pidfile back under its name")
        with connect(old.port) as s:
            check(echo_roundtrip(s, b"still") == b"still", "the old server still serves")
        check(old.stop() == 0, "exit 0")
        check(not os.path.exists(pidfile), "pidfile removed at exit")


def test_after_an_upgrade_with_udp_the_old_server_lets_go_at_once():
    """The old server stops its UDP process and closes its UDP sockets when it hands over, as it
    does on SIGTERM: it used to keep them for --grace + 2 s, then SIGKILL the UDP process."""
    from test_udp import echo
    with tempfile.TemporaryDirectory() as d:
        sock, port = os.path.join(d, "upgrade.sock"), free_port()
        old = Server("-l", f"udp:127.0.0.1:{port}", "-l", "127.0.0.1:0", "--upgrade-socket", sock,
                     "--grace", "10")
        check(echo(("127.0.0.1", port), b"before")[0] == b"before", "the old server echoes")
        new = Server("-l", f"udp:127.0.0.1:{port}", "--upgrade-socket", sock)
        old.wait_for(rf"event=handover successor={new.pid} ")
        t0 = time.monotonic()
        check(old.wait_exit() == 0, "the old server exits 0")
        took = time.monotonic() - t0
        check(took < 3 and not old.matching(r"event=terminate "),
              f"it left {took:.2f} s after the handover, its UDP process not killed: {old.lines[-4:]}")
        for i in range(20):  # from 20 source ports: none is hashed to a socket nobody reads
            check(echo(("127.0.0.1", port), b"after %d" % i)[0] == b"after %d" % i, "the successor echoes")
        check(new.stop() == 0, "exit 0")
