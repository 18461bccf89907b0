"""Daemon mode and the pidfile."""
import fcntl
import os
import pty
import re
import signal
import socket
import subprocess
import tempfile
import termios

from harness import (MODELS, Server, binary, check, connect, echo_roundtrip, group_members, processes,
                     track, track_daemon, wait_until)


def take_terminal():
    """In the child before exec: a new session whose controlling terminal is stdin."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def start_daemon(*args, terminal=True):
    """Run `mpechod -d ...` from a terminal; returns (status, stderr) of the foreground process."""
    master, slave = pty.openpty()
    try:
        proc = track(subprocess.Popen([binary("mpechod"), "-d", *args], stdin=slave,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      preexec_fn=take_terminal if terminal else None))
        out, err = proc.communicate(timeout=15)
    finally:
        os.close(slave)
        os.close(master)
    return proc.returncode, err.decode()


def read_pid(path):
    with open(path) as f:
        text = f.read()
    check(re.fullmatch(r"\d+\n", text) is not None, f"pidfile holds one pid and a newline: {text!r}")
    return int(text)


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def exited(pid):
    """Gone, or a zombie waiting for init (which reaps orphans in its own time)."""
    state = processes().get(pid)
    return state is None or state[0] == "Z"


def stop_daemon(pid, pidfile):
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: exited(pid), 15, "the daemon to exit")
    wait_until(lambda: not group_members(pid), 5, "the daemon's sessions to end")
    check(not os.path.exists(pidfile), "the pidfile is removed at a clean exit")


def test_daemon_is_ready_when_the_command_returns():
    for model in MODELS:
        daemon_is_ready(model)


def daemon_is_ready(model):
    with tempfile.TemporaryDirectory() as d:
        pidfile, log = os.path.join(d, "mpechod.pid"), os.path.join(d, "mpechod.log")
        rc, err = start_daemon("-p", pidfile, "--log", log, "-l", "127.0.0.1:0", "--model", model)
        check(rc == 0 and err == "", f"{model}: the foreground exits 0 once ready: {rc} {err!r}")
        pid = track_daemon(read_pid(pidfile))
        text = open(log).read()
        check(f"pid={pid} " in text and "event=ready" in text, "the ready line is already logged")
        port = int(re.search(r"event=listen addr=127.0.0.1:(\d+)", text).group(1))
        with connect(port) as s:  # no wait, no retry: it is listening already
            check(echo_roundtrip(s, b"daemon") == b"daemon", f"{model}: the daemon serves")
        f = stat_fields(pid)
        check(f[4] == "0", f"no controlling terminal (tty_nr {f[4]})")
        check(int(f[3]) != pid, "not a session leader: it can never gain a terminal")
        check(os.readlink(f"/proc/{pid}/cwd") == "/", "working directory /")
        umask = [l for l in open(f"/proc/{pid}/status") if l.startswith("Umask:")][0].split()[1]
        check(umask == "0022", f"umask 022, got {umask}")
        for fd in (0, 1, 2):
            check(os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/null", f"fd {fd} on /dev/null")
        check(os.stat(pidfile).st_mode & 0o777 == 0o644, "pidfile mode 644")

        # A second instance with the same pidfile refuses and names the holder.
        rc, err = start_daemon("-p", pidfile, "--log", log, "-l", "127.0.0.1:0")
        check(rc == 1 and f"already running as pid {pid}" in err, f"second instance: {rc} {err!r}")
        check(read_pid(pidfile) == pid, "the pidfile is untouched by the refused instance")
        stop_daemon(pid, pidfile)
        check("event=stop" in open(log).read(), "the daemon logged its stop")


def test_stale_pidfile_is_taken_over():
    with tempfile.TemporaryDirectory() as d:
        pidfile, log = os.path.join(d, "mpechod.pid"), os.path.join(d, "mpechod.log")
        with open(pidfile, "w") as f:
            f.write("4194999\n")  # an owner long gone: nobody holds the lock
        rc, err = start_daemon("-p", pidfile, "--log", log, "-l", "127.0.0.1:0")
        check(rc == 0, f"started over a stale pidfile: {err!r}")
        pid = track_daemon(read_pid(pidfile))
        check(pid != 4194999 and pid in processes(), "the pidfile now names the new daemon")
        stop_daemon(pid, pidfile)


def command_line(pid):
    """A process's command line as text ("" once it is gone)."""
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    except OSError:
        return ""


def test_daemon_bind_failure_is_reported_by_the_foreground():
    srv = Server("-l", "127.0.0.1:0")
    with tempfile.TemporaryDirectory() as d:
        pidfile, log = os.path.join(d, "mpechod.pid"), os.path.join(d, "mpechod.log")
        before = set(processes())
        rc, err = start_daemon("-p", pidfile, "--log", log, "-l", f"127.0.0.1:{srv.port}")
        check(rc == 1, f"non-zero status when binding fails, got {rc}")
        check(f"cannot listen on 127.0.0.1:{srv.port}: Address already in use" in err, err)
        # this daemon's processes name its pidfile (other mpechods may start on a shared machine)
        new = [p for p in set(processes()) - before if pidfile in command_line(p)]
        check(new == [], f"nothing left running: {new}")
        check(not os.path.exists(pidfile), "no pidfile left behind")
    check(srv.stop() == 0, "the first server is unharmed")


def test_foreground_pidfile_and_bad_daemon_options():
    with tempfile.TemporaryDirectory() as d:
        pidfile = os.path.join(d, "fg.pid")
        srv = Server("-p", pidfile, "-l", "127.0.0.1:0")
        check(read_pid(pidfile) == srv.pid, "a foreground server writes its pidfile too")
        check(srv.stop() == 0 and not os.path.exists(pidfile), "and removes it")
    rc, err = start_daemon("--log", "stderr", "-l", "127.0.0.1:0")
    check(rc == 2 and "--log stderr" in err, f"stderr logging cannot go with -d: {err!r}")
    rc, err = start_daemon("--log", "/nonexistent-dir/x.log", "-l", "127.0.0.1:0")
    check(rc == 1 and "cannot open the log file /nonexistent-dir/x.log" in err, err)
    rc, err = start_daemon("-p", "/nonexistent-dir/x.pid", "--log", "/dev/null", "-l", "127.0.0.1:0")
    check(rc == 1 and "cannot open the pidfile /nonexistent-dir/x.pid" in err, err)


def test_daemon_logs_to_syslog_by_default():
    """In a private mount namespace whose /dev/log is a datagram socket this test reads."""
    with tempfile.TemporaryDirectory() as d:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(os.path.join(d, "log.sock"))
        sock.settimeout(10)
        script = f"""set -e
mount --make-rprivate /
mkdir {d}/olddev
mount --rbind /dev {d}/olddev
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero urandom random; do touch /dev/$n; mount --bind {d}/olddev/$n /dev/$n; done
ln -s {d}/log.sock /dev/log
exec {os.path.abspath(binary("mpechod"))} -d -l 127.0.0.1:0
"""
        proc = track(subprocess.Popen(["unshare", "-m", "sh", "-c", script],
                                      stdin=subprocess.DEVNULL, stderr=subprocess.PIPE))
        rc = proc.wait(15)
        check(rc == 0, f"the daemon started: {proc.stderr.read()!r}")
        msgs = []
        while not any(b"event=ready" in m for m in msgs):
            msgs.append(sock.recv(4096))
        text = b"\n".join(msgs).decode()
        pid = track_daemon(int(re.search(r"event=start .*pid=(\d+)", text).group(1)))
        check(re.search(rf"^<29>\w+ +\d+ [\d:]+ mpechod\[{pid}\]: level=notice event=start ", text, re.M),
              f"facility daemon, priority notice, tag and pid: {text}")
        port = int(re.search(r"event=listen addr=127.0.0.1:(\d+)", text).group(1))
        with connect(port) as s:
            check(echo_roundtrip(s, b"sys") == b"sys", "echo")
        line = sock.recv(4096).decode()
        check(line.startswith("<30>") and "event=connect" in line, f"info lines at priority info: {line}")
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: exited(pid), 15, "the daemon to exit")
        sock.close()
