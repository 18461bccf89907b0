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


def test_help_and_man_page_list_the_same_options():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for prog, page in (("mpechod", "man/mpechod.8"), ("mpecho", "man/mpecho.1"),
                       ("mpecho-bench", "man/mpecho-bench.1")):
        text = subprocess.run([binary(prog), "--help"], capture_output=True, text=True,
                              timeout=10).stdout
        helped = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z0-9])\b", text))
        with open(os.path.join(root, page)) as f:
            man = f.read()
        documented = {"--" + m for m in re.findall(r"Fl Fl ([a-z][a-z0-9-]*)", man)}
        documented |= {"-" + m for m in re.findall(r"\.It Fl ([a-zA-Z0-9])\b", man)}
        check(helped == documented, f"{prog}: only in --help {sorted(helped - documented)}, "
              f"only in {page} {sorted(documented - helped)}")


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
