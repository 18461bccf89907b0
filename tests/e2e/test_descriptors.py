"""What a forked process inherits (issue 24, defect 3). There is no exec, so close-on-exec closes
nothing: a session, a prefork or loop worker and the UDP process must close every descriptor of the
supervisor's themselves, keeping only stdin, stdout, stderr, the log, and what they serve. Each is
read from /proc after it has served, so a child still setting itself up is never mistaken for one
that kept too much."""
import os
import re
import socket
import subprocess
import tempfile

from harness import (MODELS, Server, binary, check, connect, echo_roundtrip, group_members, processes,
                     track, track_daemon, wait_for_file, wait_until)


def socket_inodes(table, port, listening):
    """Inodes of the sockets in /proc/net/TABLE whose local port is port (listening ones, or not)."""
    found = set()
    for name in (table, table + "6"):
        with open(f"/proc/net/{name}") as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if int(cols[1].split(":")[1], 16) == port and (cols[3] == "0A") == listening:
                    found.add(int(cols[9]))
    return found


def log_line(supervisor):
    """The supervisor's unnamed Unix datagram sockets: the two ends of the log's line, on which a
    worker or the UDP process takes the log file the supervisor opened again (logline.c)."""
    with open("/proc/net/unix") as f:
        dgram = {int(cols[6]) for cols in (row.split() for row in f.read().splitlines()[1:])
                 if cols[4] == "0002" and len(cols) == 7}
    held = set()
    for fd in os.listdir(f"/proc/{supervisor}/fd"):
        m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{supervisor}/fd/{fd}"))
        if m:
            held.add(int(m.group(1)))
    return dgram & held


def check_fds(pid, what, sockets, log, line=frozenset()):
    """pid's descriptors from 3 up: sockets among `sockets`, at most one of `line` (the log's
    line, for a worker or the UDP process), the log file, and at most one signalfd, epoll and
    timerfd of its own (the supervisor's signalfd would make a second)."""
    kinds, lines = {}, 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        if int(fd) < 3:
            continue
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m and int(m.group(1)) in line:
            lines += 1
            check(lines == 1, f"{what} {pid}: fd {fd} is a second end of the log's line")
        elif m:
            check(int(m.group(1)) in sockets, f"{what} {pid}: fd {fd} is a socket it does not serve")
        elif target.startswith("anon_inode:"):
            kinds[target] = kinds.get(target, 0) + 1
            check(kinds[target] == 1, f"{what} {pid}: a second {target} (fd {fd})")
        else:
            check(target == log, f"{what} {pid}: fd {fd} is {target}")


def test_sessions_workers_and_the_udp_process_keep_only_what_they_serve():
    for model in MODELS:
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "m.log")
            pool = {"prefork": ["--start", "2", "--min-spare", "1", "--max-spare", "2"],
                    "loop": ["--workers", "1"]}.get(model, [])
            # Every kind of descriptor the supervisor holds: listeners plain and PROXY, UDP,
            # metrics and agent listeners, the upgrade socket, the pidfile,
            # a connection owing its PROXY header, the log file.
            srv = Server("-v", "--model", model, *pool, "-l", "127.0.0.1:0", "-l", "127.0.0.1:0,proxy",
                         "-l", "udp:127.0.0.1:0", "--metrics", "127.0.0.1:0", "--agent", "127.0.0.1:0",
                         "--upgrade-socket", os.path.join(d, "up.sock"), "-p", os.path.join(d, "m.pid"),
                         "--log", log, ready=False)
            text = wait_for_file(log, r"event=ready")
            ports = [int(p) for p in re.findall(r"event=listen addr=(?:udp:)?127\.0\.0\.1:(\d+)", text)]
            tcp, proxied, udp = ports[0], ports[1], ports[2]
            owing = connect(proxied)  # its header never comes
            with connect(tcp) as s:
                check(echo_roundtrip(s, b"fds") == b"fds", f"{model}: echo")
                text = wait_for_file(log, r"event=connect ")
                pid = int(re.search(r"event=connect .*? pid=(\d+)", text).group(1))
                served = socket_inodes("tcp", tcp, False)
                if model != "fork":  # a worker accepts on every listener
                    served |= socket_inodes("tcp", tcp, True) | socket_inodes("tcp", proxied, True)
                if model == "loop":  # and reads the headers of what it accepted
                    served |= socket_inodes("tcp", proxied, False)
                check_fds(pid, "session" if model == "fork" else "worker", served, log,
                          log_line(srv.pid) if model != "fork" else frozenset())
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(10)
            u.sendto(b"dgram", ("127.0.0.1", udp))
            check(u.recvfrom(100)[0] == b"dgram", f"{model}: the UDP echo")
            u.close()
            upid = int(re.search(r"event=udp-start pid=(\d+)", open(log).read()).group(1))
            check_fds(upid, "UDP process", socket_inodes("udp", udp, False), log, log_line(srv.pid))
            owing.close()
            check(srv.stop() == 0, f"{model}: exit 0")


def test_a_daemon_with_workers_returns_once_ready():
    """The readiness pipe's write end was inherited by the first workers, so the foreground
    process waited for an EOF that never came."""
    for pool in (("prefork", "--start", "3"), ("loop", "--workers", "2")):
        daemon_returns_once_ready(pool)


def daemon_returns_once_ready(pool):
    with tempfile.TemporaryDirectory() as d:
        log, pidfile = os.path.join(d, "d.log"), os.path.join(d, "d.pid")
        proc = track(subprocess.Popen([binary("mpechod"), "-d", "--model", *pool,
                                       "-l", "127.0.0.1:0", "--log", log, "-p", pidfile],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        text = wait_for_file(log, r"event=ready")
        pid = track_daemon(int(re.search(r"event=start .*?pid=(\d+)", text).group(1)))
        check(rc == 0, f"{pool[0]}: the foreground process returned 0 once the daemon was ready, not {rc}")
        port = int(re.search(r"event=listen addr=127\.0\.0\.1:(\d+)", text).group(1))
        with connect(port) as s:
            check(echo_roundtrip(s, b"up") == b"up", "the daemon serves")
            text = wait_for_file(log, r"event=connect ")
            worker = int(re.search(r"event=connect .*? pid=(\d+)", text).group(1))
            check_fds(worker, "worker", socket_inodes("tcp", port, False) |
                      socket_inodes("tcp", port, True), log, log_line(pid))
        os.kill(pid, 15)
        wait_until(lambda: processes().get(pid, ("Z",))[0] == "Z", 15, "the daemon to exit")
        wait_until(lambda: not group_members(pid), 5, "its workers to end")
