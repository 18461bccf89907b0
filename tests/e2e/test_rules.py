"""--rules FILE: allow and deny lines beside --allow/--deny, in every model, for TCP and UDP; read
again on SIGHUP (through the privileged process when only root can read it), a bad file keeping
the rules in force; a bad file at start is a start-up error."""
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

from harness import (Server, binary, check, children, closed_from, concurrently, echo_roundtrip, recv_all,
                     run_server_once, track, wait_until)
from test_privsep import is_nobody, root_dir

MODELS = (("fork", ()), ("prefork", ("--start", "2")), ("loop", ("--workers", "2")))


def write(path, text, mode=0o644):
    """The file's new contents, whole: a new file renamed over the old, as an editor saves."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", mode)
    os.rename(path + ".new", path)


def served_from(srv, source, data=b"rules"):
    """A client from source is echoed; returns the pid of the process that served it."""
    with socket.socket() as s:
        s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", srv.port))
        check(echo_roundtrip(s, data) == data, f"{source} is served")
        me = s.getsockname()[1]
    line = srv.wait_for(rf"event=end peer={re.escape(source)}:{me} ")[0]
    return int(re.search(r" pid=(\d+)", line).group(1))


def refused_from(srv, source, count):
    """A client from source is closed unserved: the count-th refusal of that source, by the rules."""
    closed_from(srv.port, source)
    srv.wait_for(rf"event=refused peer={re.escape(source)}:\d+ reason=acl$", count=count)


def udp_answered(port, source):
    """Whether a datagram from source comes back (a denied one is dropped: the last call's
    answered datagram, from the same socket, says it was judged before)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind((source, 0))
        u.settimeout(0.5)
        u.sendto(b"rules", ("127.0.0.1", port))
        try:
            return u.recv(64) == b"rules"
        except socket.timeout:
            return False


def hup(srv, event, count):
    srv.proc.send_signal(signal.SIGHUP)
    return srv.wait_for(rf"event={event} ", count=count)[count - 1]


def test_rules_apply_and_change_on_hup_in_every_model_tcp_and_udp():
    def one(case):  # the models at once: each waits for datagrams that never come back
        model, extra = case
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "rules")
            write(path, "# the lab\nallow 127.0.0.0/8\ndeny 127.0.0.9   # a bad host\n")
            srv = Server("--model", model, *extra, "-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0",
                         "--rules", path)
            uport = srv.addrs[1][1]
            check(srv.matching(rf"event=rules-loaded file={re.escape(path)} allow=1 deny=1$"),
                  f"{model}: the file's rules counted at start")
            refused_from(srv, "127.0.0.9", 1)
            before = served_from(srv, "127.0.0.2")
            check(not udp_answered(uport, "127.0.0.9") and udp_answered(uport, "127.0.0.2"),
                  f"{model}: UDP judged by the file too")
            pool = set(children(srv.pid))

            write(path, "allow 127.0.0.0/8\ndeny 127.0.0.2\n")
            line = hup(srv, "rules-reload", 1)
            check(line.endswith(f"event=rules-reload file={path} allow=1 deny=1"), line)
            refused_from(srv, "127.0.0.2", 1)
            after = served_from(srv, "127.0.0.9")
            if model != "fork":  # a worker forked before the HUP judges by the new rules
                check(after in pool, f"{model}: served by {after}, a worker from before ({pool})")
                check(before in pool, f"{model}: {before} was a worker")
            check(not udp_answered(uport, "127.0.0.2") and udp_answered(uport, "127.0.0.9"),
                  f"{model}: UDP takes the new rules up")

            write(path, "allow 127.0.0.0/8\ndeny 127.0.0.2/8\n")
            line = hup(srv, "rules-reload-failed", 1)
            check(line.endswith(f"level=error event=rules-reload-failed error=\"{path}:2: "
                                "'127.0.0.2/8' has bits set past /8 (did you mean 127.0.0.0/8?)\" "
                                "action=kept"), f"{model}: the error names file:line: {line}")
            refused_from(srv, "127.0.0.2", 2)
            served_from(srv, "127.0.0.9")
            check(not udp_answered(uport, "127.0.0.2") and udp_answered(uport, "127.0.0.9"),
                  f"{model}: UDP keeps the old rules too")

            os.unlink(path)
            line = hup(srv, "rules-reload-failed", 2)
            check(f"error=\"{path}: cannot open it: No such file or directory\" action=kept" in line, line)
            refused_from(srv, "127.0.0.2", 3)
            srv.proc.send_signal(signal.SIGUSR1)
            summary = srv.wait_for(r"event=udp-summary .*why=status")[0]
            check(" dropped_acl=3 " in summary, f"{model}: three datagrams dropped by the rules: {summary}")
            check(srv.stop() == 0, f"{model}: exit 0")
    concurrently(one, MODELS)


def test_file_rules_join_the_command_line_ones():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rules")
        write(path, "deny 127.0.0.3\n")
        srv = Server("-l", "127.0.0.1:0", "--deny", "127.0.0.9", "--rules", path)
        refused_from(srv, "127.0.0.9", 1)
        refused_from(srv, "127.0.0.3", 1)
        served_from(srv, "127.0.0.2")
        write(path, "")  # an empty file: the command line's rules alone
        hup(srv, "rules-reload", 1)
        served_from(srv, "127.0.0.3")
        refused_from(srv, "127.0.0.9", 2)
        write(path, "allow 127.0.0.9\n")  # deny wins, as between --deny and --allow
        line = hup(srv, "rules-reload-failed", 1)
        check(f"{path}:1: allow 127.0.0.9/32 (line 1) cannot take effect: --deny 127.0.0.9/32 covers it "
              "(deny wins)" in line, line)
        served_from(srv, "127.0.0.3")
        check(srv.stop() == 0, "exit 0")


def test_a_root_only_file_is_read_again_under_u_nobody():
    for model, extra in MODELS:
        d = root_dir()
        try:
            path = os.path.join(d, "rules")
            write(path, "deny 127.0.0.9\n", 0o600)
            srv = Server("-u", "nobody", "--model", model, *extra, "-l", "127.0.0.1:0",
                         "--rules", path)
            check(is_nobody(srv.pid), f"{model}: the supervisor runs as nobody")
            refused_from(srv, "127.0.0.9", 1)
            write(path, "deny 127.0.0.2\n", 0o600)
            hup(srv, "rules-reload", 1)
            refused_from(srv, "127.0.0.2", 1)
            served_from(srv, "127.0.0.9")
            write(path, "deny\n", 0o600)
            line = hup(srv, "rules-reload-failed", 1)
            check(f"error=\"{path}:1: deny needs an address or ADDRESS/PREFIX\"" in line, line)
            refused_from(srv, "127.0.0.2", 2)
            check(srv.stop() == 0, f"{model}: exit 0")
        finally:
            shutil.rmtree(d)


def test_a_bad_rules_file_is_a_start_up_error():
    with tempfile.TemporaryDirectory() as d:
        path, fifo = os.path.join(d, "rules"), os.path.join(d, "fifo")
        os.mkfifo(fifo)
        write(path, "allow 10.0.0.0/8\n\nallow 10.0.0.0/8 ssh\n")
        for model, extra in MODELS:
            for args, want in (
                    ((path,), f"bad rules file: {path}:3: 'ssh' after the address: one rule a line"),
                    ((os.path.join(d, "none"),),
                     f"cannot open the rules file {d}/none: No such file or directory"),
                    ((fifo,), f"bad rules file: {fifo}: not a regular file"),
                    ((d,), f"bad rules file: {d}: not a regular file")):
                rc, err = run_server_once("--model", model, *extra, "-l", "127.0.0.1:0", "--rules", *args)
                check(rc == 1 and err == f"mpechod: {want}\n", f"{model} {args}: status 1, one line: {rc} {err!r}")
        write(path, "allow 10.1.0.0/16\n")
        rc, err = run_server_once("-l", "127.0.0.1:0", "--deny", "10.0.0.0/8", "--rules", path)
        check(rc == 1 and err == f"mpechod: bad rules file: {path}:1: allow 10.1.0.0/16 (line 1) cannot take "
              "effect: --deny 10.0.0.0/8 covers it (deny wins)\n", f"beside the command line: {rc} {err!r}")


def test_rules_under_inetd_mode():
    with tempfile.TemporaryDirectory() as d, socket.socket() as lsock:
        path = os.path.join(d, "rules")
        write(path, "deny 127.0.0.9\n")
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        for source, served in (("127.0.0.9", False), ("127.0.0.2", True)):
            with socket.socket() as c:
                c.bind((source, 0))
                c.settimeout(10)
                c.connect(lsock.getsockname())
                conn, _ = lsock.accept()
                with conn:
                    proc = track(subprocess.Popen([binary("mpechod"), "-i", "--rules", path], stdin=conn,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
                try:
                    c.sendall(b"inetd")
                    c.shutdown(socket.SHUT_WR)
                    back = recv_all(c)
                except OSError as e:  # refused: its reset may come before the shutdown
                    if served or e.errno not in (errno.ECONNRESET, errno.ENOTCONN, errno.EPIPE):
                        raise
                    back = b""
                err = proc.communicate(timeout=10)[1].decode()
                check(back == (b"inetd" if served else b""), f"{source}: {back!r}")
                check((proc.returncode == 0) == served, f"{source}: status {proc.returncode}")
                check(served or re.search(r"event=refused peer=127\.0\.0\.9:\d+ reason=acl", err), err)
