"""The one rule where only the sockets tell: an option that cannot take effect is a usage error
(status 2, one line naming it) with a connection on standard input (-i), under socket
activation and in an upgrade's successor; there -l says how to serve each socket handed over,
and each -l must name one. Where they can, the options take effect on the sockets handed over:
,proxy, --backlog (the listen queue ss shows), --socket-mode. The command line alone is judged
by the unit tests (tests/unit/options.c)."""
import os
import re
import socket
import stat
import subprocess
import tempfile

from harness import (OWN_PORT, Server, binary, check, connect, connect_when_up, echo_roundtrip,
                     own_network, recv_all, track, unix_connect_when_up, wait_until)


def one_line(err):
    lines = [l for l in err.splitlines() if l.startswith("mpechod:")]
    check(len(lines) == 1, f"one line from mpechod: {err!r}")
    return lines[0]


def inetd_connection(*args):
    """mpechod -i with a connection on standard input: (status, stderr, our end)."""
    ours, theirs = socket.socketpair()
    with theirs:
        proc = track(subprocess.Popen([binary("mpechod"), "-i", *args], stdin=theirs,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    return proc, ours


def test_with_a_connection_on_standard_input_listener_options_are_usage_errors():
    with tempfile.TemporaryDirectory() as d:
        for args in (["-c", "5"], ["--max-per-source", "2"], ["--rate", "2"], ["--backlog", "5"],
                     ["--grace", "5"], ["--model", "fork"], ["-p", os.path.join(d, "pid")],
                     ["--metrics", "127.0.0.1:0"], ["--upgrade-socket", os.path.join(d, "u")],
                     ["--reuseport"], ["--shutdown-delay", "5"], ["--agent", "127.0.0.1:0"]):
            proc, ours = inetd_connection(*args)
            err = proc.communicate(timeout=10)[1].decode()
            ours.close()
            name = args[0] if args[0].startswith("--") else {"-c": "--max-conns", "-p": "--pidfile"}[args[0]]
            check(proc.returncode == 2, f"-i {args}: status 2, got {proc.returncode}: {err!r}")
            check(f"{name} cannot take effect: it needs listeners: with -i and a connection on standard "
                  "input there is one session" in one_line(err), f"-i {args}: {err!r}")
            check(os.listdir(d) == [], f"-i {args}: nothing left behind: {os.listdir(d)}")
    # What takes effect on one session is fine: it is served.
    proc, ours = inetd_connection("--idle-timeout", "5", "--max-time", "60", "--banner", "b", "-s", "upper")
    with ours:
        ours.sendall(b"one\n")
        ours.shutdown(socket.SHUT_WR)
        check(recv_all(ours) == b"b\r\nONE\n", "the session is served with its options")
    check(proc.wait(10) == 0, "exit 0")


def activate(sockets, *args, datagram=False):
    """mpechod under systemd-socket-activate holding these sockets (all datagram ones with
    datagram=True), started by a first connection (or datagram) to the first: (process, socket)."""
    flags = ["-d"] * datagram + [f for s in sockets for f in ("-l", s)]
    proc = track(subprocess.Popen(["systemd-socket-activate", *flags, binary("mpechod"), *args],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, start_new_session=True))
    host, port = sockets[0].rsplit(":", 1)

    if datagram:  # sent again until one reaches the manager and mpechod has come and gone
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        wait_until(lambda: s.sendto(b"x", (host, int(port))) and proc.poll() is not None, 10,
                   f"a datagram to start mpechod on {sockets[0]}")
        return proc, s

    return proc, connect_when_up(int(port), host)


def test_under_socket_activation_each_l_names_a_socket_handed_over_and_each_socket_has_one():
    # The manager binds the ports it is given: in a network namespace of the test's own.
    p, q = OWN_PORT, OWN_PORT + 1
    a, b = f"127.0.0.1:{p}", f"127.0.0.1:{q}"
    with own_network():
        for sockets, args, says, datagram in (
                ([a], ["-l", f"127.0.0.1:{q},proxy"],
                 f"-l 127.0.0.1:{q} cannot take effect: it names none of the sockets handed over ({a} fd=3",
                 False),
                ([a, b], ["-l", f"{a},proxy"], f"the socket handed over as {b} (fd=4 name=", False),
                ([b], ["-l", f"udp:127.0.0.2:{q}"],
                 f"-l udp:127.0.0.2:{q} cannot take effect: it names none of the sockets handed over", True),
                ([a], ["-l", a, "-l", f"localhost:{p}"], f"-l {a} and -l localhost:{p} both name the socket",
                 False),
                ([a], ["--reuseport"], f"--reuseport cannot take effect: the socket handed over as {a}", False),
                ([a], ["--socket-mode", "600", "-l", "unix:/nonexistent/x"], "-l unix:/nonexistent/x cannot "
                 "take effect", False)):
            proc, first = activate(sockets, *args, datagram=datagram)
            err = proc.communicate(timeout=10)[1].decode()
            first.close()
            check(proc.returncode == 2, f"{sockets} {args}: status 2, got {proc.returncode}: {err!r}")
            check(says in one_line(err), f"{sockets} {args}: {one_line(err)!r} says {says!r}")


def listen_queue(port):
    """The backlog ss shows for the listener on port (Send-Q of a listening socket)."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[2])


def test_options_take_effect_on_the_sockets_handed_over():
    with own_network():
        p = OWN_PORT  # the manager binds it: in a network namespace of the test's own
        srv = Server("-l", f"localhost:{p},proxy", "--backlog", "77", ready=False,
                     prefix=("systemd-socket-activate", "-l", f"127.0.0.1:{p}"))
        first = connect_when_up(p)
        srv.wait_for(rf"event=listen addr=127\.0\.0\.1:{p} fd=3 ")
        first.sendall(b"PROXY TCP4 192.0.2.9 127.0.0.1 5555 7\r\nproxied")
        first.shutdown(socket.SHUT_WR)
        check(recv_all(first) == b"proxied", "the header is taken off: the socket is served as ,proxy")
        first.close()
        srv.wait_for(r"event=connect peer=192\.0\.2\.9:5555 via=127\.0\.0\.1:")
        check(listen_queue(p) == 77, f"--backlog reaches the socket handed over: {listen_queue(p)}")
        check(srv.stop() == 0, "exit 0")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "echo.sock")
        srv = Server("-l", f"unix:{path}", "--socket-mode", "600", ready=False,
                     prefix=("systemd-socket-activate", "-l", path))
        wait_until(lambda: os.path.exists(path), 10, "the manager's socket")
        check(stat.S_IMODE(os.stat(path).st_mode) != 0o600, "the manager made it with another mode")
        with unix_connect_when_up(path) as s:
            srv.wait_for(r"event=ready")
            check(echo_roundtrip(s, b"unix") == b"unix", "echo")
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, f"--socket-mode: {oct(os.stat(path).st_mode)}")
        check(srv.stop() == 0, "exit 0")


def test_a_successor_serves_the_sockets_as_its_l_says_and_refuses_an_l_that_names_none():
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "upgrade.sock")
        old = Server("-l", "127.0.0.1:0", "--upgrade-socket", sock)
        wrong = subprocess.run([binary("mpechod"), "-l", "127.0.0.2:0", "--upgrade-socket", sock],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15)
        check(wrong.returncode == 2 and "-l 127.0.0.2:0 cannot take effect: it names none of the "
              f"sockets handed over (127.0.0.1:{old.port} fd=" in one_line(wrong.stderr), wrong.stderr)
        old.wait_for(r"event=upgrade-failed ")
        with connect(old.port) as s:
            check(echo_roundtrip(s, b"still") == b"still", "the old server serves on")
        # The same command line with ,proxy: port 0 names the socket whatever its port.
        new = Server("-l", "127.0.0.1:0,proxy", "--backlog", "33", "--upgrade-socket", sock)
        check(old.wait_exit() == 0, "the old server hands over and exits")
        check(new.port == old.port and listen_queue(new.port) == 33, f"--backlog: {listen_queue(new.port)}")
        with connect(new.port) as s:
            s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 4444 7\r\nafter")
            s.shutdown(socket.SHUT_WR)
            check(recv_all(s) == b"after", "the successor serves the socket as ,proxy")
        check(re.search(r"event=connect peer=192\.0\.2\.7:4444 ", "\n".join(new.wait_for("event=connect"))),
              "the client is the one the header names")
        check(new.stop() == 0, "exit 0")
