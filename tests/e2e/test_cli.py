"""Command lines: the classic forms, bad input, a busy port, and the client's two modes."""
import os
import pty
import re
import select
import socket
import struct
import subprocess
import threading
import time

from harness import (Server, binary, check, connect, echo_roundtrip, run_client,
                     run_server_once, track)


def test_bad_arguments_give_one_line_and_status_2():
    cases = [
        (["--bogus"], "'--bogus'"),
        (["-x"], "'-x'"),
        (["--backlog", "0"], "'0'"),
        (["--backlog", "12x"], "'12x'"),
        (["--grace", "-1"], "'-1'"),
        (["--grace"], "--grace"),
        (["-c", "99999999999999999999"], "'99999999999999999999'"),
        (["-s", "rot13"], "'rot13'"),
        (["70000"], "'70000'"),
        (["127.0.0.1", "port"], "'port'"),
        (["-l", "127.0.0.1"], "'127.0.0.1'"),
        (["-l", "::1:80"], "'::1:80'"),
        (["1", "2", "3"], "'3'"),
        (["-v", "-q"], "-v"),
        (["-l", "127.0.0.1:0,keepalive=5:2"], "'keepalive=5:2'"),
        (["-l", "127.0.0.1:0,tos=af44"], "'tos=af44'"),
        (["-l", "127.0.0.1:0,mark=1,mark=2"], "mark is given twice"),
        (["-l", "udp:127.0.0.1:0,mss=1000"], "mss=1000 cannot take effect on a udp: listener"),
        (["-l", "127.0.0.1:0,device=eth0\nx"], "'device=eth0?x'"),
    ]
    for args, named in cases:
        rc, err = run_server_once(*args)
        lines = err.strip().splitlines()
        check(rc == 2, f"mpechod {args}: status 2, got {rc}")
        check(len(lines) == 1 and lines[0].startswith("mpechod: "), f"one line for {args}: {err!r}")
        check(named in lines[0], f"the message names {named}: {lines[0]}")


def test_help_and_version():
    out = subprocess.run([binary("mpechod"), "--help"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0 and out.stdout.startswith("Usage: mpechod [OPTIONS] [[ADDRESS] PORT]"),
          "mpechod --help")
    for opt in ("--listen", "--service", "--max-conns", "--backlog", "--grace", "--verbose",
                "--quiet", "--help", "--version"):
        check(opt in out.stdout, f"--help lists {opt}")
    out = subprocess.run([binary("mpechod"), "-V"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0 and out.stdout.startswith("mpechod "), "mpechod -V")
    out = subprocess.run([binary("mpecho"), "--help"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0 and out.stdout.startswith("Usage: mpecho "), "mpecho --help")


def test_busy_port_is_reported_with_address_and_reason():
    srv = Server("-l", "127.0.0.1:0")
    rc, err = run_server_once("127.0.0.1", str(srv.port))
    check(rc == 1, f"status 1 for a busy port, got {rc}")
    check(f"cannot listen on 127.0.0.1:{srv.port}: Address already in use" in err, err)
    check(len(err.strip().splitlines()) == 1, f"one line: {err!r}")
    # A failure on the second listener closes the first: nothing stays bound.
    rc, err = run_server_once("-l", "127.0.0.1:0", "-l", f"127.0.0.1:{srv.port}")
    check(rc == 1 and "Address already in use" in err, err)
    check(srv.stop() == 0, "the first server is unharmed")


def test_not_permitted_and_unknown_host():
    uid = 54321
    rc, err = run_server_once("-l", "127.0.0.1:7", prefix=(
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"))
    check(rc == 1 and "cannot listen on 127.0.0.1:7: Permission denied" in err, err)
    rc, err = run_server_once("-l", "192.0.2.1:0")  # TEST-NET-1, not an address of this host
    check(rc == 1 and "cannot listen on 192.0.2.1:0: Cannot assign requested address" in err, err)
    rc, err = run_server_once("-l", "no-such-host.invalid:0")
    check(rc == 1 and "cannot resolve 'no-such-host.invalid'" in err, err)


def test_classic_forms_and_dual_stack_default():
    srv = Server("0")  # "mpechod PORT": all addresses
    check(srv.addrs and srv.addrs[0][0] in ("::", "0.0.0.0"), f"wildcard listener {srv.addrs}")
    for host in ("127.0.0.1", "::1"):
        with connect(srv.port, host) as s:
            check(echo_roundtrip(s, host.encode()) == host.encode(), f"echo over {host}")
    ends = srv.wait_for(r"event=end ", count=2)
    check(any("peer=127.0.0.1:" in l for l in ends), f"IPv4 peers are logged as IPv4: {ends}")
    check(any("peer=[::1]:" in l for l in ends), f"IPv6 peers in brackets: {ends}")
    check(srv.stop() == 0, "server exits 0")
    srv = Server("127.0.0.1", "0")  # "mpechod ADDRESS PORT"
    check(srv.addrs == [("127.0.0.1", srv.port)], f"one IPv4 listener {srv.addrs}")
    check(srv.stop() == 0, "server exits 0")


def test_several_listeners_and_verbose():
    srv = Server("-v", "-l", "127.0.0.1:0", "-l", "[::1]:0")
    check(len(srv.addrs) == 2 and srv.addrs[1][0] == "::1", f"two listeners {srv.addrs}")
    for host, port in srv.addrs:
        with connect(port, host) as s:
            check(echo_roundtrip(s, b"hi") == b"hi", f"echo on {host}")
    srv.wait_for(r"level=debug event=reap children=[12] ")
    check(srv.stop() == 0, "server exits 0")
    srv = Server("-l", "127.0.0.1:0")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"hi") == b"hi", "echo")
    srv.wait_for(r"event=end ")
    check(srv.stop() == 0, "server exits 0")
    check(not srv.matching(r"level=debug"), "no debug lines without -v")


def test_client_errors():
    # A port nobody listens on: bind one, close it.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    rc, out, err = run_client("127.0.0.1", str(port), data=b"x")
    check(rc == 1 and f"cannot connect to 127.0.0.1:{port}: Connection refused" in err, err)
    rc, out, err = run_client("no-such-host.invalid", "7", data=b"x")
    check(rc == 1 and "cannot resolve 'no-such-host.invalid'" in err, err)
    rc, out, err = run_client("127.0.0.1", "99999", data=b"x")
    check(rc == 2 and "'99999'" in err, err)
    rc, out, err = run_client("--nope", data=b"x")
    check(rc == 2 and "'--nope'" in err, err)


def test_client_reports_a_reset():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)

    def reset_peer():
        c, _ = ls.accept()
        c.recv(10)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    t = threading.Thread(target=reset_peer)
    t.start()
    r, w = os.pipe()
    proc = track(subprocess.Popen([binary("mpecho"), "127.0.0.1", str(ls.getsockname()[1])],
                                  stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    os.close(r)
    os.write(w, b"hello")
    try:
        out, err = proc.communicate(timeout=10)
    finally:
        os.close(w)
    t.join()
    ls.close()
    check(proc.returncode == 1 and b"reset" in err, f"status {proc.returncode}: {err!r}")


class Terminal:
    """mpecho on a pseudo-terminal; expect() consumes its output up to a text."""

    def __init__(self, port):
        self.master, slave = pty.openpty()
        self.proc = track(subprocess.Popen([binary("mpecho"), "127.0.0.1", str(port)],
                                           stdin=slave, stdout=slave, stderr=slave,
                                           start_new_session=True))
        os.close(slave)
        self.buf = b""

    def expect(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while text not in self.buf:
            left = deadline - time.monotonic()
            check(left > 0, f"terminal never showed {text!r}; it showed {self.buf!r}")
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the client has gone
                    chunk = b""
                check(chunk != b"", f"terminal closed before {text!r}; it showed {self.buf!r}")
                self.buf += chunk
        self.seen = self.buf[:self.buf.index(text)]
        self.buf = self.buf[self.buf.index(text) + len(text):]

    def type(self, data):
        os.write(self.master, data)

    def close(self):
        os.close(self.master)


def test_client_terminal_mode_quit_and_eof():
    srv = Server("-l", "127.0.0.1:0", "-s", "upper")
    # A line, its reply, a fresh prompt; then "quit", or Ctrl-D (end of file), ends it.
    for n, (line, reply, ending) in enumerate(((b"hello terminal", b"HELLO TERMINAL", b"quit\n"),
                                               (b"x", b"X", b"\x04")), 1):
        term = Terminal(srv.port)
        try:
            term.expect(b"mpecho> ")
            term.type(line + b"\n")
            term.expect(reply + b"\r\n")
            term.expect(b"mpecho> ")
            term.type(ending)
            check(term.proc.wait(10) == 0, f"{ending!r} ends the client with status 0")
        finally:
            term.close()
        srv.wait_for(r"event=end ", count=n)
    check(srv.stop() == 0, "server exits 0")


def test_option_errors_say_what_was_wrong():
    """Each message names the option as typed and the fault: a value given to an option that
    takes none, a value missing, host bits in a rule (with the network it would be)."""
    cases = [("mpechod", ["--quiet=1"], "option '--quiet' takes no value"),
             ("mpechod", ["-c"], "option '-c' needs a value"),
             ("mpechod", ["--allow", "10.0.0.1/8"], "the address has bits set past /8 (did you mean 10.0.0.0/8?)"),
             ("mpechod", ["--allow", "192.168.1.5/1"], "did you mean 128.0.0.0/1?"),
             ("mpecho", ["--help=1"], "option '--help' takes no value"),
             ("mpecho-bench", ["-c"], "option '-c' needs a value"),
             ("mpecho-bench", ["--json=1", "connrate"], "option '--json' takes no value")]
    for prog, args, want in cases:
        out = subprocess.run([binary(prog), *args], capture_output=True, text=True, timeout=10,
                             stdin=subprocess.DEVNULL)
        lines = out.stderr.strip().splitlines()
        check(out.returncode == 2 and len(lines) == 1 and want in lines[0],
              f"{prog} {args}: {out.returncode} {out.stderr!r}")


def test_client_takes_host_port_in_one_argument_and_refuses_port_0():
    """Issue 10.13: HOST:PORT and [V6]:PORT like the server's -l; port 0 is no port to reach."""
    srv = Server("-l", "127.0.0.1:0", "-l", "[::1]:0")
    port4, port6 = srv.addrs[0][1], srv.addrs[1][1]
    for args, what in (([f"127.0.0.1:{port4}"], "HOST:PORT"), ([f"[::1]:{port6}"], "[V6]:PORT"),
                       (["::1", str(port6)], "a bare IPv6 address, then the port"),
                       ([f"localhost:{port4}", "-4"], "a name:PORT")):
        rc, out, err = run_client(*args, data=b"form\n")
        check(rc == 0 and out == b"form\n", f"{what}: {args} -> {rc} {out!r} {err}")
    for args, msg in ((["127.0.0.1", "0"], "invalid port '0'"), (["127.0.0.1:00"], "invalid port '00'"),
                      ([f"127.0.0.1:{port4}", str(port4)], "two ports"),
                      (["[::1"], "invalid server '[::1'"), (["127.0.0.1:"], "invalid server"),
                      ([":7"], "invalid server ':7'")):
        rc, out, err = run_client(*args, data=b"x")
        check(rc == 2 and msg in err and err.count("\n") == 1, f"{args}: {rc} {err!r}")
    check(srv.stop() == 0, "server exits 0")


def early_closing_server(keep):
    """A server that echoes the first `keep` bytes, then closes its side and drops the rest."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)

    def serve():
        c, _ = ls.accept()
        left = keep
        while left > 0:
            chunk = c.recv(min(left, 65536))
            if not chunk:
                break
            c.sendall(chunk)
            left -= len(chunk)
        c.shutdown(socket.SHUT_WR)
        c.settimeout(20)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return ls, t


def test_client_on_pipes_fails_when_the_server_closes_early():
    """Issue 10.13: 1 MB of 20 MB came back, and the status said success."""
    ls, t = early_closing_server(1 << 20)
    data = os.urandom(20 << 20)
    rc, out, err = run_client("127.0.0.1", str(ls.getsockname()[1]), data=data)
    t.join(30)
    ls.close()
    check(rc == 1 and out == data[:len(out)] and len(out) == 1 << 20,
          f"status {rc}, {len(out)} bytes back")
    check("closed the connection before the end of the input" in err and "1048576 came back" in err,
          f"says so: {err!r}")
    # the upper service's quit is the server ending the session early: said, status 1
    srv = Server("-l", "127.0.0.1:0", "-s", "upper")
    rc, out, err = run_client("127.0.0.1", str(srv.port), data=b"hello\nquit\n")
    check(rc == 1 and out == b"HELLO\n" and "after returning 6 of 11 bytes" in err, f"{rc} {out} {err}")
    check(srv.stop() == 0, "server exits 0")


def test_client_w_gives_up_on_a_silent_server_and_a_full_backlog():
    """Issue 10.13: nc -w: a connect or a silence longer than -w ends it, status 1."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)   # accepted by the kernel, never answered
    t0 = time.monotonic()
    rc, out, err = run_client("-w", "1", "127.0.0.1", str(silent.getsockname()[1]), data=b"hello?",
                              timeout=20)
    took = time.monotonic() - t0
    check(rc == 1 and "timed out: nothing came or went for 1 s" in err and took < 5,
          f"silent server: {rc} {err!r} after {took:.1f}s")
    silent.close()
    # a listener that never accepts, its queue full: SYNs are dropped, connect() waits
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    queued = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        queued.append(s)
    t0 = time.monotonic()
    rc, out, err = run_client("-w", "1", "127.0.0.1", str(port), data=b"x", timeout=20)
    took = time.monotonic() - t0
    check(rc == 1 and f"cannot connect to 127.0.0.1:{port}: Connection timed out" in err and took < 5,
          f"full backlog: {rc} {err!r} after {took:.1f}s")
    for s in queued + [full]:
        s.close()
    rc, out, err = run_client("-w", "0", "127.0.0.1", data=b"x")
    check(rc == 2 and "invalid value '0' for -w" in err, err)


def test_client_refuses_to_run_with_stdout_or_stdin_closed():
    """Issue 10.13: with stdout closed the socket took descriptor 1 and the echo went back in."""
    srv = Server("-l", "127.0.0.1:0")
    for redirect, which in ((">&-", "output"), ("<&-", "input")):
        proc = subprocess.run(["sh", "-c", f'echo hello | "$0" 127.0.0.1 {srv.port} {redirect}',
                               binary("mpecho")], capture_output=True, text=True, timeout=20)
        check(proc.returncode == 1 and proc.stderr == f"mpecho: standard {which} is closed\n",
              f"{which}: {proc.returncode} {proc.stderr!r}")
    check(not srv.matching(r"event=connect"), "it never connected")
    check(srv.stop() == 0, "server exits 0")


def test_client_terminal_shows_what_the_server_sends_as_it_comes():
    """Issue 10.13: extra data from the server, a partial line before Ctrl-D, quit sent."""
    srv = Server("-l", "127.0.0.1:0", "-s", "upper", "--banner", "welcome %h")
    term = Terminal(srv.port)
    try:
        term.expect(b"welcome ")       # the unasked line is shown when it comes...
        term.expect(b"mpecho> ")
        term.type(b"one\n")
        term.expect(b"mpecho> ")
        check(b"ONE\r\n" in term.seen, f"...and each reply follows its own line: {term.seen!r}")
        term.type(b"two")              # no newline: Ctrl-D sends it as it is
        term.type(b"\x04")
        term.expect(b"TWO")
        term.type(b"\x04")             # the end: the server sends the rest back and closes
        check(term.proc.wait(10) == 0, "Ctrl-D after a partial line: status 0, its reply shown")
    finally:
        term.close()
    term = Terminal(srv.port)
    try:
        term.expect(b"mpecho> ")
        term.type(b"quit\n")
        check(term.proc.wait(10) == 0, "quit: status 0")
    finally:
        term.close()
    ends = srv.wait_for(r"event=end ", count=2)
    check("reason=eof" in ends[0] and " in=7 " in ends[0], f"Ctrl-D: both lines reached the server: {ends[0]}")
    check("reason=quit" in ends[1], f"the server saw the quit line and ended the session: {ends[1]}")
    check(srv.stop() == 0, "server exits 0")


def test_client_terminal_a_40_mb_line_does_not_deadlock():
    """Issue 10.13: a raw terminal (no line limit) pastes 40 MB; replies are read while sending."""
    import tty
    srv = Server("-l", "127.0.0.1:0")
    master, slave = pty.openpty()
    tty.setraw(slave)
    proc = track(subprocess.Popen([binary("mpecho"), "127.0.0.1", str(srv.port)], stdin=slave,
                                  stdout=slave, stderr=slave, start_new_session=True))
    os.close(slave)
    size = 40 << 20
    line = b"z" * (size - 1) + b"\n"

    def paste():
        view = memoryview(line)
        while view:
            view = view[os.write(master, view[:65536]):]
    writer = threading.Thread(target=paste, daemon=True)
    writer.start()
    zs, deadline = 0, time.monotonic() + 30
    while zs < size - 1 and time.monotonic() < deadline:
        if select.select([master], [], [], 1)[0]:
            zs += os.read(master, 1 << 20).count(b"z")
    writer.join(5)
    check(zs == size - 1, f"the 40 MB line came back through the terminal ({zs} bytes)")
    os.write(master, b"quit\n")   # raw: no Ctrl-D; a quit line, read in one piece
    check(proc.wait(10) == 0, "quit ends it")
    os.close(master)
    srv.wait_for(rf"event=end .*in={size + 5} out={size + 5}")
    check(srv.stop() == 0, "server exits 0")


def test_mpecho_names_a_closed_output_as_a_broken_pipe():
    """A reader that went away is EPIPE: the write loop must not report its own probe's ENOTSOCK."""
    srv = Server("-l", "127.0.0.1:0")
    r, w = os.pipe()
    os.close(r)     # nobody will read what mpecho writes
    p = track(subprocess.Popen([binary("mpecho"), "127.0.0.1", str(srv.port)], stdin=subprocess.PIPE,
                               stdout=w, stderr=subprocess.PIPE))
    os.close(w)
    _, err = p.communicate(b"x" * 100000, timeout=30)
    check(p.returncode == 1 and "standard output: Broken pipe" in err.decode(), f"{p.returncode} {err!r}")
    srv.stop()
