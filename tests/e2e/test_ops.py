"""Operations: timeouts, slow-loris, daemon mode, pidfile, privilege drop, log reopen, status."""
import grp
import os
import pwd
import re
import signal
import socket
import tempfile
import time

from harness import (MODELS, Server, check, children, closed_from, concurrently, connect, echo_roundtrip,
                     recv_all, recv_exactly, run_server_once, server_connections, wait_until)


def closed_by_server(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(16) == b""
    except ConnectionResetError:
        return True


def test_idle_timeout_closes_a_silent_client():
    def one(case):
        host, model = case
        srv = Server("-l", f"[{host}]:0" if ":" in host else f"{host}:0", "--idle-timeout", "1",
                     "--model", model)
        with connect(srv.port, host) as s:
            check(echo_roundtrip(s, b"then silence") == b"then silence", "echo")
            t0 = time.monotonic()
            check(closed_by_server(s, 10), "the server closes a silent session")
            check(time.monotonic() - t0 >= 0.9, "not before the timeout")
        line = srv.wait_for(r"event=end ")[0]
        check("reason=idle" in line and "exit=4" in line, f"{model}: end reason idle: {line}")
        wait_until(lambda: model != "fork" or not srv.sessions(), 5, "the session process to be freed")
        check(srv.stop() == 0, "server exits 0")
    concurrently(one, (("127.0.0.1", "fork"), ("::1", "fork"), ("127.0.0.1", "prefork"), ("::1", "loop")))


def test_idle_timeout_closes_a_client_that_never_reads():
    srv = Server("-l", "127.0.0.1:0", "--idle-timeout", "1")
    s = connect(srv.port)
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 15
    # Send without ever reading: the server's replies fill both socket buffers and stall.
    while time.monotonic() < deadline:
        try:
            sent += s.send(b"x" * 65536)
        except BlockingIOError:
            time.sleep(0.05)
        except (ConnectionResetError, BrokenPipeError):
            break
        if srv.matching(r"event=end "):
            break
    line = srv.wait_for(r"event=end ", timeout=10)[0]
    check("reason=idle" in line, f"a client that stopped reading is cut: {line}")
    check(sent > 0, "the client sent data")
    s.close()
    check(srv.stop() == 0, "server exits 0")


def test_slow_loris_crowd_is_cut_and_new_clients_are_served():
    for model in ("fork", "loop"):  # prefork: test_limits' trickling slow loris
        slow_loris_crowd(model)


def slow_loris_crowd(model):
    # --idle-timeout 2: the crowd's first sessions must still be there when its last one starts,
    # on the sanitizer build of a busy machine too.
    srv = Server("-q", "-l", "127.0.0.1:0", "-c", "30", "--idle-timeout", "2", "--model", model)
    crowd = []
    for _ in range(60):
        s = socket.socket()
        s.settimeout(10)
        s.connect(("127.0.0.1", srv.port))  # completes in the kernel backlog beyond 30
        crowd.append(s)
    # The crowd fills the server; the rest waits in the backlog (a count of the processes
    # could miss the moment: the first sessions are cut after two seconds).
    srv.wait_for(r"event=limit sessions=30 max_conns=30 action=backlog")
    # Behind 30 idle clients: served once the crowd is cut, in two waves (a third wave of 30
    # cost 2 s more on every build and checked nothing new).
    with connect(srv.port, timeout=30) as fresh:
        check(echo_roundtrip(fresh, b"made it") == b"made it", "a new client is served")
    for s in crowd:
        check(closed_by_server(s, 10), "every idle client was cut")
        s.close()
    wait_until(lambda: model != "fork" or not children(srv.pid), 10, "every session reaped")
    srv.status(r" served=61 ")  # 60 idle + 1 served
    check(srv.stop(served=61) == 0, f"{model}: server exits 0")


def test_max_time_ends_a_busy_session():
    srv = Server("-l", "127.0.0.1:0", "--max-time", "1", "--idle-timeout", "0")
    s = connect(srv.port)
    t0 = time.monotonic()
    ended = False
    while time.monotonic() - t0 < 10:
        try:
            if echo_roundtrip(s, b"busy") != b"busy":
                ended = True
                break
        except OSError:
            ended = True
            break
    check(ended, "the session ended while busy")
    check(time.monotonic() - t0 >= 0.9, "not before --max-time")
    line = srv.wait_for(r"event=end ")[0]
    check("reason=max-time" in line and "exit=5" in line, f"end reason max-time: {line}")
    s.close()
    check(srv.stop() == 0, "server exits 0")


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def free_low_port():
    for port in range(7, 1024):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise AssertionError("no free port below 1024")


def test_user_drop_sessions_run_unprivileged():
    port = free_low_port()  # a privileged port: bound as root before the drop
    srv = Server("-u", "nobody", "-l", f"127.0.0.1:{port}")
    check(os.getuid() == 0, "this test runs as root (as CI does)")
    with connect(port) as s:
        check(echo_roundtrip(s, b"as nobody") == b"as nobody", "served on a privileged port")
        pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
        st = proc_status(pid)
        nobody = pwd.getpwnam("nobody")
        check(st["Uid"].split() == [str(nobody.pw_uid)] * 4, f"uid is nobody's: {st['Uid']}")
        check(st["Gid"].split() == [str(nobody.pw_gid)] * 4, f"gid is nobody's group: {st['Gid']}")
        groups = st["Groups"].split()
        check("0" not in groups, f"no root supplementary group: {groups}")
        check(st["CapEff"] == "0000000000000000", f"no capabilities left: {st['CapEff']}")
    check(srv.stop() == 0, "server exits 0")
    srv = Server("-u", "nobody:daemon", "-l", "127.0.0.1:0")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"x") == b"x", "served")
        pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
        check(proc_status(pid)["Gid"].split()[0] == str(grp.getgrnam("daemon").gr_gid),
              "USER:GROUP sets the group")
    check(srv.stop() == 0, "server exits 0")
    rc, err = run_server_once("-u", "no-such-user-xyz", "-l", "127.0.0.1:0")
    check(rc == 1 and "unknown user 'no-such-user-xyz'" in err, err)
    rc, err = run_server_once("-u", "nobody:no-such-group-xyz", "-l", "127.0.0.1:0")
    check(rc == 1 and "unknown group 'no-such-group-xyz'" in err, err)


def test_sighup_reopens_the_log_file():
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "mpechod.log")
        srv = Server("--log", log, "-l", "127.0.0.1:0", ready=False)
        wait_until(lambda: os.path.exists(log) and "event=ready" in open(log).read(), 10,
                   "the ready line in the log file")
        port = int(re.search(r"event=listen addr=127.0.0.1:(\d+)", open(log).read()).group(1))
        os.rename(log, log + ".1")
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: os.path.exists(log), 5, "a new log file after SIGHUP")
        with connect(port) as s:
            check(echo_roundtrip(s, b"after") == b"after", "echo")
        wait_until(lambda: "event=end " in open(log).read(), 5, "the end line in the new file")
        old = open(log + ".1").read()
        check("event=ready" in old and "event=connect" not in old, "old lines stay in the old file")
        check("event=reopen signal=HUP" in open(log).read(), "the reopen is logged in the new file")
        check(srv.stop() == 0, "server exits 0")
        check(srv.lines == [], f"nothing on stderr with --log FILE: {srv.lines}")


def test_sigusr1_status_matches_what_happened():
    for model in ("fork", "loop"):  # not prefork: --max-per-source needs fork or loop
        status_matches(model)


def status_matches(model):
    srv = Server("-l", "127.0.0.1:0", "--deny", "127.0.0.9", "--max-per-source", "1", "--model", model)
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"a" * 1000) == b"a" * 1000, "echo")
        extra = connect(srv.port)  # second from 127.0.0.1: per-source refusal
        extra.settimeout(5)
        check(recv_all(extra) == b"", "refused")
        extra.close()
    srv.wait_for(r"event=end ", count=1)  # the per-source slot is free again
    with connect(srv.port) as s:
        s.sendall(b"b" * 234)
        s.shutdown(socket.SHUT_WR)
        check(recv_all(s) == b"b" * 234, "echo")
    closed_from(srv.port, "127.0.0.9")  # refused by --deny
    srv.wait_for(r"event=end ", count=2)
    held = connect(srv.port)
    wait_until(lambda: server_connections(srv.port) == 1 and len(srv.matching(r"event=end ")) == 2, 5,
               "two sessions ended, one live")
    held.sendall(b"c" * 10)
    check(recv_exactly(held, 10) == b"c" * 10, "echo")
    want = {"sessions": "1", "served": "2", "refused_acl": "1", "refused_per_source": "1",
            "refused_rate": "0", "in": "1244", "out": "1244"}
    # A session stores its counters right after each send: ask until the last one has landed.
    for attempt in range(1, 50):
        srv.proc.send_signal(signal.SIGUSR1)
        got = dict(re.findall(r"(\w+)=(\S+)", srv.wait_for(r"event=status", count=attempt)[-1]))
        if all(got.get(k) == v for k, v in want.items()):
            break
        time.sleep(0.05)
    check(all(got.get(k) == v for k, v in want.items()), f"{model}: status {got} wants {want}")
    check(int(got["uptime"]) >= 0, "uptime")
    held.close()
    check(srv.stop() == 0, "server exits 0")


def test_log_target_must_be_a_regular_file_never_a_link_or_fifo():
    with tempfile.TemporaryDirectory() as d:
        target, link, fifo = (os.path.join(d, n) for n in ("target", "link", "fifo"))
        with open(target, "w") as f:
            f.write("untouched\n")
        os.symlink(target, link)
        os.mkfifo(fifo)
        rc, err = run_server_once("--log", link, "-l", "127.0.0.1:0")
        check(rc == 1 and "is a symbolic link (not followed)" in err, f"a link: {rc} {err!r}")
        check(open(target).read() == "untouched\n", "nothing appended to what the link names")
        rc, err = run_server_once("--log", fifo, "-l", "127.0.0.1:0")  # must not hang in open()
        check(rc == 1 and "not a regular file" in err, f"a FIFO: {rc} {err!r}")
        log = os.path.join(d, "mpechod.log")
        srv = Server("--log", log, "-l", "127.0.0.1:0", ready=False)
        wait_until(lambda: os.path.exists(log) and "event=ready" in open(log).read(), 10, "ready")
        port = int(re.search(r"addr=127.0.0.1:(\d+)", open(log).read()).group(1))
        os.rename(log, log + ".1")
        os.mkfifo(log)  # a FIFO where the log file was: SIGHUP must not hang the supervisor
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "event=reopen signal=HUP error=\"not a regular file\"" in open(log + ".1").read(),
                   5, "the failed reopen logged in the old file")
        with connect(port) as s:
            check(echo_roundtrip(s, b"still") == b"still", "still serving")
        check(srv.stop() == 0, "SIGTERM still works")


def test_pidfile_made_by_another_user_is_refused():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o1777)  # a sticky directory, as /tmp
        pidfile = os.path.join(d, "evil.pid")
        with open(pidfile, "w") as f:
            f.write("1\n")
        os.chown(pidfile, 65534, 65534)
        rc, err = run_server_once("-p", pidfile, "-l", "127.0.0.1:0")
        check(rc == 1 and "must be a regular file owned by uid 0" in err, f"{rc} {err!r}")
        check(open(pidfile).read() == "1\n" and os.stat(pidfile).st_uid == 65534, "left as it was")


def test_a_user_with_more_than_256_groups():
    """In a private mount namespace, /etc/passwd and /etc/group gain a user in 300 groups."""
    with tempfile.TemporaryDirectory() as d:
        passwd, group = os.path.join(d, "passwd"), os.path.join(d, "group")
        with open("/etc/passwd") as f, open(passwd, "w") as out:
            out.write(f.read() + "manygroups:x:54400:54400::/nonexistent:/usr/sbin/nologin\n")
        with open("/etc/group") as f, open(group, "w") as out:
            out.write(f.read() + "manygroups:x:54400:\n" +
                      "".join(f"g{i}:x:{55000 + i}:manygroups\n" for i in range(300)))
        script = f'mount --bind {passwd} /etc/passwd && mount --bind {group} /etc/group && exec "$@"'
        srv = Server("-u", "manygroups", "-l", "127.0.0.1:0",
                     prefix=("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"))
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"groups") == b"groups", "a session as that user")
            pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
            groups = proc_status(pid)["Groups"].split()
            check(len(groups) == 301, f"all its groups: {len(groups)}")
        check(srv.stop() == 0, "exit 0")


def test_a_full_log_disk_loses_whole_lines_and_says_how_many():
    """Issue 10.11: a log on a 64 KiB tmpfs that fills up; then space comes back. In a loop the
    workers write the session lines."""
    for model in ("fork", "loop"):
        full_log_disk(model)


def full_log_disk(model):
    with tempfile.TemporaryDirectory() as d:
        # 15 of the tmpfs's 16 pages taken: the log file gets the last 4 KiB.
        script = ('mount -t tmpfs -o size=64k tmpfs "$0" && head -c 61440 /dev/zero > "$0/filler"'
                  ' && exec "$@"')
        srv = Server("--log", os.path.join(d, "log"), "-l", "127.0.0.1:0", "--model", model, ready=False,
                     prefix=("unshare", "-m", "--propagation", "private", "sh", "-c", script, d))
        inside = f"/proc/{srv.pid}/root{d}"   # the tmpfs, seen through the server's namespace
        log = os.path.join(inside, "log")
        wait_until(lambda: os.path.exists(log) and "event=ready" in open(log).read(), 10,
                   "the ready line in the log file")
        port = int(re.search(r"event=listen addr=127\.0\.0\.1:(\d+)", open(log).read()).group(1))

        def sessions(n):
            for i in range(n):
                with connect(port) as s:
                    check(echo_roundtrip(s, b"x" * i) == b"x" * i, "echo, log full or not")

        sessions(60)   # ~60 connect and 60 end lines: far more than 4 KiB
        wait_until(lambda: server_connections(port) == 0 and (model != "fork" or not srv.sessions()), 10,
                   "every session closed")
        full = open(log, "rb").read()
        check(4096 - 200 < len(full) <= 4096, f"{model}: the log filled its page: {len(full)} bytes")
        os.unlink(os.path.join(inside, "filler"))
        sessions(3)
        wait_until(lambda: open(log).read().count("event=end ") > full.count(b"event=end ") + 2, 10,
                   "lines again once there is space")
        text = open(log).read()
        line = re.compile(r'time=\S+ level=\w+ event=[\w-]+( [\w-]+=("[^"]*"|\S*))*')
        bad = [l for l in text.split("\n")[:-1] if not line.fullmatch(l) or re.search(r".time=\d{4}-", l)]
        check(not bad and text.endswith("\n"), f"{model}: only whole lines: {bad[:3]}")
        # every session line is there or counted (a failed report counts itself too)
        lost = sum(int(n) for n in re.findall(r"event=log-dropped count=(\d+)", text))
        kept = len(re.findall(r"event=(connect|end) ", text))
        check(lost > 50 and kept + lost >= 2 * 63, f"{model}: the lost lines are counted: {lost} lost, {kept} kept")
        check(srv.stop() == 0, "server exits 0")
