"""Under service managers: systemd socket activation and sd_notify, the journal, inetd mode
with the real xinetd, openbsd-inetd and systemd-socket-activate, and start-up checks."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from harness import (OWN_PORT, ROOT_DIR, Server, binary, check, connect, connect_when_up, echo_roundtrip,
                     environ, half_close_echo, own_network, recv_all, run_server_once, socket_fds, track,
                     wait_for_file, wait_until)

OPENBSD_INETD = os.path.join(ROOT_DIR, "build", "deps", "openbsd-inetd", "usr", "sbin", "inetd")


def live_environment(pid):
    """The variables a live process's getenv() sees: libc's environ array, read through
    /proc/PID/mem (/proc/PID/environ cannot tell: it shows the environment as it was at exec)."""
    maps = [l.split() for l in open(f"/proc/{pid}/maps")]
    libc = [m for m in maps if len(m) > 5 and re.search(r"/libc\.so\.6$", m[5])]
    # In a static build (make static) the C library is in the executable itself.
    path = libc[0][5] if libc else os.readlink(f"/proc/{pid}/exe")
    mine = libc or [m for m in maps if len(m) > 5 and m[5] == path]
    with open(path, "rb") as f:
        position_independent = f.read(18)[16] == 3    # e_type ET_DYN; ET_EXEC: absolute addresses
    base = min(int(m[0].split("-")[0], 16) - int(m[2], 16) for m in mine) if position_independent else 0
    nm = subprocess.run(["nm", "-D" if libc else "-a", "--defined-only", path], capture_output=True,
                        text=True, timeout=30).stdout
    where = int(re.search(r"^([0-9a-f]+) [BDV] __environ(@@\S+)?$", nm, re.M).group(1), 16)
    out = []
    with open(f"/proc/{pid}/mem", "rb") as mem:
        def word(addr):
            mem.seek(addr)
            return int.from_bytes(mem.read(8), "little")
        array = word(base + where)
        for i in range(4096):
            ptr = word(array + 8 * i)
            if ptr == 0:
                break
            text = b""
            while not text.endswith(b"\0") and len(text) < 4096:
                mem.seek(ptr + len(text))
                text += mem.read(8 - (ptr + len(text)) % 8)  # never past the stack's top
            out.append(text.split(b"\0")[0].decode("utf-8", "replace"))
    return dict(v.split("=", 1) for v in out if "=" in v)


def activated(host, model, *args):
    """mpechod under systemd-socket-activate (Accept=no): the manager binds, mpechod inherits.
    The manager takes a fixed port: call it inside own_network()."""
    port = OWN_PORT
    addr = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    srv = Server("--model", model, *args, ready=False,
                 prefix=("systemd-socket-activate", "-l", addr, "--fdname=echo"))
    first = connect_when_up(port, host)  # the manager starts mpechod on the first connection
    srv.wait_for(r"event=ready")
    return srv, port, first


def test_socket_activation_inherits_the_listener_ipv4_ipv6_in_every_model():
    for host in ("127.0.0.1", "::1"):
        for model in ("fork", "prefork", "loop"):
            with own_network():
                srv, port, first = activated(host, model)
                shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                srv.wait_for(rf"event=listen addr={re.escape(shown)} fd=3 name=echo$")
                check(len(srv.matching(r"event=listen ")) == 1, "one listener, the inherited one")
                check(echo_roundtrip(first, b"first") == b"first", f"{host} {model}: the first client")
                srv.wait_for(r"event=connect ")  # the supervisor closed its copy of that connection
                check(socket_fds(srv.pid) == [3], f"nothing else bound: sockets {socket_fds(srv.pid)}")
                data = os.urandom(1 << 20)
                with connect(port, host) as s:
                    check(half_close_echo(s, data) == data, f"{host} {model}: 1 MiB and a half-close")
                with connect(port, host) as s:
                    check(echo_roundtrip(s, b"env") == b"env", "echo")
                    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect", count=3)[2]).group(1))
                    env = live_environment(pid)
                    check("PATH" in env and not [k for k in env if k.startswith("LISTEN_")],
                          f"{host} {model}: the session sees PATH but no LISTEN_*: {sorted(env)}")
                first.close()
                check(srv.stop() == 0, "exit 0")


def test_an_inherited_descriptor_that_is_not_a_listener_is_a_start_error():
    a, b = socket.socketpair()
    with a, b:
        for redirect, fds, what in (("3</dev/null", (), "/dev/null"),
                                    (f"3<&{a.fileno()}", (a.fileno(),), "a connected socket")):
            proc = track(subprocess.Popen(
                ["sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" {redirect}', "sh",
                 binary("mpechod")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, pass_fds=fds))
            err = proc.communicate(timeout=10)[1].decode()
            check(proc.returncode == 1, f"{what} at fd 3: status 1, got {proc.returncode}")
            check(err.strip() == "mpechod: descriptor 3 (fd=3 name=-) is not a listening stream socket (TCP or Unix)",
                  f"{what}: one clear line: {err!r}")
    rc, err = run_server_once(prefix=("env", "LISTEN_PID=1", "LISTEN_FDS=x"))
    check(rc == 1 and "malformed LISTEN_PID '1' or LISTEN_FDS 'x'" in err, err)


def inetd_log(d):
    path = os.path.join(d, "mpechod.log")
    open(path, "w").close()
    os.chmod(path, 0o666)  # the session runs as nobody
    os.chmod(d, 0o755)
    return path


def check_inetd_sessions(port, log, who):
    """Every byte back after a half-close, the end lines with the real peer, mpecho through it."""
    data = os.urandom(2 * 1024 * 1024)
    with connect_when_up(port) as s:
        check(half_close_echo(s, data) == data, f"{who}: 2 MiB back after a half-close")
        peer = s.getsockname()[1]
    text = wait_for_file(log, rf"event=end peer=127.0.0.1:{peer} ")
    check(re.search(rf"event=connect peer=127.0.0.1:{peer} pid=\d+ sessions=1", text), text)
    check(re.search(rf"event=end peer=127.0.0.1:{peer} pid=\d+ exit=0 reason=eof "
                    rf"in={len(data)} out={len(data)} duration=\S+ sessions=0", text), text)
    client = subprocess.run([binary("mpecho"), "127.0.0.1", str(port)], input=b"line\n",
                            capture_output=True, timeout=20)
    check(client.returncode == 0 and client.stdout == b"line\n", f"{who}: mpecho through it")


def super_server(cmd, port, log, who):
    """Run a super-server with its configuration in place, check sessions through it, end it."""
    proc = track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        check_inetd_sessions(port, log, who)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def test_inetd_mode_under_xinetd():
    with tempfile.TemporaryDirectory() as d, own_network():
        port, log = OWN_PORT, inetd_log(d)
        conf = open(os.path.join(ROOT_DIR, "dist", "xinetd", "mpechod")).read()
        conf = re.sub(r"port\s*=\s*7", f"port = {port}", conf)
        conf = conf.replace("/usr/sbin/mpechod", os.path.abspath(binary("mpechod")))
        conf = re.sub(r"(server_args\s*=.*)", rf"\1 --log {log}", conf)
        path = os.path.join(d, "xinetd.conf")
        with open(path, "w") as f:
            f.write("defaults\n{\n}\n" + conf)
        super_server(["xinetd", "-dontfork", "-f", path, "-pidfile", os.path.join(d, "pid")],
                     port, log, "xinetd")


def test_inetd_mode_under_openbsd_inetd():
    check(os.access(OPENBSD_INETD, os.X_OK), f"tests/deps.sh unpacks openbsd-inetd to {OPENBSD_INETD}")
    with tempfile.TemporaryDirectory() as d, own_network():
        port, log = OWN_PORT, inetd_log(d)
        line = [l for l in open(os.path.join(ROOT_DIR, "dist", "inetd", "inetd.conf"))
                if not l.startswith("#")][0].rstrip("\n")
        line = line.replace("127.0.0.1:echo", f"127.0.0.1:{port}")
        line = line.replace("/usr/sbin/mpechod", os.path.abspath(binary("mpechod"))) + f" --log {log}"
        path = os.path.join(d, "inetd.conf")
        with open(path, "w") as f:
            f.write(line + "\n")
        super_server([OPENBSD_INETD, "-d", path], port, log, "openbsd-inetd")


def test_inetd_mode_under_systemd_socket_activate_accept_yes():
    with tempfile.TemporaryDirectory() as d, own_network():
        port, log = OWN_PORT, inetd_log(d)
        manager = os.path.join(d, "manager.log")
        with open(manager, "w") as out:
            sa = track(subprocess.Popen(["systemd-socket-activate", "--inetd", "-a", "-l",
                                         f"127.0.0.1:{port}", binary("mpechod"), "-i", "-s",
                                         "upper", "--log", log], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=out,
                                        start_new_session=True))
        try:
            with connect_when_up(port) as s:
                s.sendall(b"one\nquit\nnot this\n")
                check(recv_all(s) == b"ONE\n", "upper and quit through Accept=yes")
            text = wait_for_file(log, r"event=end .*reason=quit")
            check("exit=3 reason=quit" in text, text)
            # The manager sees the session's end status as the process's exit status.
            wait_for_file(manager, r"Child \d+ died with code 3")
        finally:
            os.killpg(sa.pid, signal.SIGTERM)
            sa.wait(10)


def test_inetd_wait_mode_serves_a_listener_on_standard_input():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    proc = track(subprocess.Popen([binary("mpechod"), "-i"], stdin=ls.fileno(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  start_new_session=True))
    ls.close()
    lines = []
    for raw in proc.stderr:
        lines.append(raw.decode())
        if "event=ready" in lines[-1]:
            break
    check(any(f"event=listen addr=127.0.0.1:{port} fd=0 inetd=wait" in l for l in lines), lines)
    for i in range(3):
        with connect(port) as s:
            check(echo_roundtrip(s, b"wait %d" % i) == b"wait %d" % i, "served by the supervisor")
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(10) == 0, "exit 0")
    proc.stderr.close()


def test_inetd_mode_refuses_what_is_not_a_socket():
    rc, err = run_server_once("-i")  # standard input is /dev/null
    check(rc == 1 and "standard input is not a stream socket" in err, err)
    rc, err = run_server_once("-i", "-l", "127.0.0.1:0")
    check(rc == 2 and "-i serves the socket on standard input" in err, err)


class Manager:
    """The service manager's end of sd_notify: a datagram socket this test owns."""

    def __init__(self, d, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"mpecho-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(d, "notify.sock")
            self.sock.bind(self.address)
        self.messages = []

    def wait_for(self, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if re.search(pattern, m, re.M)]
            if found:
                return found
            left = deadline - time.monotonic()
            check(left > 0, f"no message /{pattern}/; got {self.messages}")
            self.receive(left)

    def receive(self, timeout):
        """Take one message if one comes within timeout; returns False (for wait_until)."""
        self.sock.settimeout(timeout)
        try:
            self.messages.append(self.sock.recv(4096).decode())
        except TimeoutError:
            pass
        return False

    def close(self):
        self.sock.close()


def test_sd_notify_ready_status_watchdog_stopping():
    with tempfile.TemporaryDirectory() as d:
        mgr = Manager(d)
        env = dict(os.environ, NOTIFY_SOCKET=mgr.address, WATCHDOG_USEC="200000")
        srv = Server("-l", "127.0.0.1:0", env=env,
                     prefix=("sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"))
        ready = mgr.wait_for(r"^READY=1$")[0]
        check("MAINPID" not in ready, f"no MAINPID without -d: {ready!r}")
        mgr.wait_for(r"^STATUS=0 sessions \(at most 1000\), 0 served, 0 refused$")
        t0 = time.monotonic()
        wait_until(lambda: mgr.receive(0.05) or mgr.messages.count("WATCHDOG=1") >= 4, 5,
                   "4 watchdog pings")
        check(time.monotonic() - t0 < 1.5, "WATCHDOG=1 every half of WATCHDOG_USEC (100 ms)")
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"x") == b"x", "echo")
            mgr.wait_for(r"^STATUS=1 sessions \(at most 1000\), 0 served, 0 refused$")
            pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
            env = live_environment(pid)
            check(not [k for k in env if k.startswith(("NOTIFY_", "WATCHDOG_"))],
                  f"sessions cannot talk to the manager: {sorted(env)}")
        mgr.wait_for(r"^STATUS=0 sessions \(at most 1000\), 1 served, 0 refused$")
        srv.proc.send_signal(signal.SIGTERM)
        mgr.wait_for(r"^STOPPING=1$")
        check(srv.wait_exit() == 0, "exit 0")
        mgr.close()


def test_sd_notify_abstract_socket_and_mainpid_after_detaching():
    with tempfile.TemporaryDirectory() as d:
        mgr = Manager(d, abstract=True)
        log, pidfile = os.path.join(d, "log"), os.path.join(d, "pid")
        env = dict(os.environ, NOTIFY_SOCKET=mgr.address)
        rc = subprocess.run([binary("mpechod"), "-d", "-p", pidfile, "--log", log, "-l",
                             "127.0.0.1:0"], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, timeout=20).returncode
        check(rc == 0, f"-d returns 0 once ready, got {rc}")
        daemon = int(open(pidfile).read())
        try:
            ready = mgr.wait_for(r"^READY=1$")[0]
            check(f"MAINPID={daemon}" in ready.split("\n"), f"the daemon names itself: {ready!r}")
        finally:
            os.kill(daemon, signal.SIGTERM)
        mgr.wait_for(r"^STOPPING=1$")
        wait_until(lambda: not os.path.exists(pidfile), 10, "the daemon to stop")
        mgr.close()


JOURNAL = ("sh", "-c", 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"', "sh")


def test_journal_stream_lines_carry_their_priority():
    srv = Server("-l", "127.0.0.1:0", prefix=JOURNAL)
    check(all(l.startswith("<5>time=") for l in srv.lines), f"notice lines are <5>: {srv.lines}")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"j") == b"j", "echo")
    check(srv.wait_for(r"event=end ")[0].startswith("<6>time="), "info lines are <6>")
    check(srv.stop() == 0, "exit 0")
    rc, err = run_server_once("-l", "no-such-host.invalid:0", prefix=JOURNAL)
    check(rc == 1 and err.startswith("<3>mpechod: cannot resolve"), f"start errors are <3>: {err!r}")
    srv = Server("-l", "127.0.0.1:0", prefix=("env", "JOURNAL_STREAM=1:1"))
    check(srv.lines[0].startswith("time="), f"stderr is not that stream: no prefix: {srv.lines[0]}")
    check(srv.stop() == 0, "exit 0")


def test_user_option_without_root_is_refused_at_start():
    uid = 54321
    unprivileged = ("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all")
    rc, err = run_server_once("-u", "nobody", "-l", "127.0.0.1:0", prefix=unprivileged)
    check(rc == 1 and err.strip() == "mpechod: cannot run sessions as 'nobody': only root can "
          f"change user (mpechod runs as uid {uid})", f"one clear line, status 1: {rc} {err!r}")
    srv = Server("-u", f"{uid}:{uid}", "-l", "127.0.0.1:0", prefix=unprivileged)
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"me") == b"me", "-u naming the running user is fine")
    check(srv.stop() == 0, "exit 0")


def test_daemon_without_syslog_says_so_and_leaves_nothing():
    with tempfile.TemporaryDirectory() as d:
        pidfile = os.path.join(d, "pid")
        script = ('[ -e /dev/log ] && mount --bind /dev/null /dev/log; '
                  f'exec {os.path.abspath(binary("mpechod"))} -d -p {pidfile} -l 127.0.0.1:0')
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                              capture_output=True, text=True, timeout=20)
        check(proc.returncode == 1, f"status 1, got {proc.returncode}: {proc.stderr!r}")
        check(proc.stderr.strip().startswith("mpechod: cannot log to syslog: /dev/log: ") and
              proc.stderr.strip().endswith("(give --log FILE)"), proc.stderr)
        check(not os.path.exists(pidfile), "no pidfile left")
