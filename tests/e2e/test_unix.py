"""Unix-domain listeners (-l unix:PATH): echo, credentials in the log, permissions, a stale
socket replaced and nothing else, removal at exit; mpecho and mpecho-bench on them."""
import json
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import tempfile

from harness import (Server, binary, check, half_close_echo, run_client, run_server_once,
                     track, unix_connect_when_up, wait_for_file, wait_until)


def unix_echo(path, data, managed=False):
    """data back after a half-close; managed: a service manager's socket, which may not
    listen yet when its file appears."""
    with (unix_connect_when_up(path) if managed else socket.socket(socket.AF_UNIX)) as s:
        s.settimeout(10)
        if not managed:
            s.connect(path)
        return half_close_echo(s, data)


def test_echo_on_a_unix_socket_in_every_model_logs_the_peer_by_credentials():
    for model in ("fork", "prefork", "loop"):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "echo.sock")
            srv = Server("-l", f"unix:{path}", "--socket-mode", "600", "--model", model)
            check(srv.matching(rf"event=listen addr=unix:{re.escape(path)}$"), "the listen line")
            check(stat.S_ISSOCK(os.stat(path).st_mode) and stat.S_IMODE(os.stat(path).st_mode) == 0o600,
                  f"{model}: a socket, mode 600: {oct(os.stat(path).st_mode)}")
            data = os.urandom(4 << 20)   # bulk: the splice path
            check(unix_echo(path, data) == data, f"{model}: 4 MiB back byte-exact")
            line = srv.wait_for(r"event=end ")[0]
            check(f"peer=unix peer_uid={os.getuid()} peer_pid={os.getpid()} " in line and
                  f"reason=eof in={len(data)} out={len(data)}" in line, f"{model}: {line}")
            check(srv.stop() == 0, "server exits 0")
            check(not os.path.exists(path), f"{model}: the socket file is removed at exit")


def test_a_stale_socket_is_replaced_and_nothing_else_is():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.sock")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)        # a socket file nobody listens on (its server died)
        stale.close()
        srv = Server("-l", f"unix:{path}")
        check(unix_echo(path, b"after stale") == b"after stale", "the stale socket was replaced")
        rc, err = run_server_once("-l", f"unix:{path}")
        check(rc == 1 and f"cannot listen on unix:{path}: a server is listening there" in err, err)
        check(unix_echo(path, b"still") == b"still", "the running server keeps its socket")
        srv.wait_for(r"event=end ", count=3)
        check(srv.stop() == 0, "server exits 0")
        with open(path, "w") as f:
            f.write("mine")
        rc, err = run_server_once("-l", f"unix:{path}")
        check(rc == 1 and "it exists and is not a socket" in err and open(path).read() == "mine",
              f"a regular file there is left alone: {err}")
        # a killed server leaves its socket; the next one takes it over
        os.unlink(path)
        srv = Server("-l", f"unix:{path}")
        srv.proc.send_signal(signal.SIGKILL)
        srv.wait_exit()
        check(stat.S_ISSOCK(os.stat(path).st_mode), "SIGKILL leaves the socket file behind")
        srv = Server("-l", f"unix:{path}")
        check(unix_echo(path, b"taken over") == b"taken over", "the next server replaces it")
        srv.wait_for(r"event=end ")
        check(srv.stop() == 0, "server exits 0")


def test_bad_unix_listeners_are_usage_errors():
    for spec, msg in (("unix:", "expected unix:PATH"), ("unix:/tmp/x.sock,proxy", "no options"),
                      ("unix:/" + "x" * 200, "longer than 107 bytes")):
        rc, err = run_server_once("-l", spec)
        check(rc in (1, 2) and msg in err and err.count("\n") == 1, f"{spec[:30]}: {rc} {err!r}")
    rc, err = run_server_once("--socket-mode", "999", "-l", "unix:/tmp/y.sock")
    check(rc == 2 and "invalid value '999' for --socket-mode" in err, err)


def test_under_root_with_u_the_socket_belongs_to_the_user():
    check(os.getuid() == 0, "this test runs as root (as CI does)")
    nobody = pwd.getpwnam("nobody")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "n.sock")
        srv = Server("-u", "nobody", "--socket-mode", "660", "-l", f"unix:{path}")
        st = os.stat(path)
        check(st.st_uid == nobody.pw_uid and st.st_gid == nobody.pw_gid, f"owner {st.st_uid}:{st.st_gid}")
        check(srv.stop() == 0, "server exits 0")


def test_mpecho_and_mpecho_bench_reach_a_unix_socket():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.sock")
        srv = Server("-l", f"unix:{path}")
        rc, out, err = run_client(f"unix:{path}", data=b"through mpecho\n")
        check(rc == 0 and out == b"through mpecho\n", f"mpecho: {rc} {out!r} {err}")
        rc, out, err = run_client(f"unix:{path}", "7", data=b"x")
        check(rc == 2 and "a unix: socket has no port" in err, err)
        run = subprocess.run([binary("mpecho-bench"), "--json", "-q", "-d", "1", "-w", "0", "-c", "4",
                              "pingpong", f"unix:{path}"], capture_output=True, text=True, timeout=60)
        r = json.loads(run.stdout)
        check(run.returncode == 0 and r["ops"] > 0 and not any(r["errors"].values()),
              f"mpecho-bench pingpong: {r['ops']} {r['errors']}")
        wait_until(lambda: len(srv.matching(r"event=end ")) >= 5, 10, "the sessions' end lines")
        check(srv.stop() == 0, "server exits 0")
        rc, out, err = run_client(f"unix:{path}", data=b"x")
        check(rc == 1 and f"cannot connect to unix:{path}" in err, f"no server: {rc} {err}")


def test_socket_activation_hands_over_a_unix_socket_and_keeps_its_file():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "act.sock")
        srv = Server(prefix=("systemd-socket-activate", "-l", path), ready=False)
        # the first connection makes it start mpechod, which then accepts it
        check(unix_echo(path, b"activated", managed=True) == b"activated", "echo through systemd's socket")
        srv.wait_for(rf"event=listen addr=unix:{re.escape(path)} fd=3")
        srv.wait_for(r"event=end peer=unix ")
        check(srv.stop() == 0, "server exits 0")
        check(stat.S_ISSOCK(os.stat(path).st_mode), "the socket file is the service manager's: kept")


def test_inetd_mode_on_a_unix_socket_names_the_peer_by_credentials():
    """systemd's Accept=yes on a ListenStream=/path: one mpechod -i per connection, on a Unix socket."""
    with tempfile.TemporaryDirectory() as d:
        path, log = os.path.join(d, "inetd.sock"), os.path.join(d, "mpechod.log")
        sa = track(subprocess.Popen(["systemd-socket-activate", "--inetd", "-a", "-l", path,
                                     binary("mpechod"), "-i", "--log", log],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True))
        try:
            data = os.urandom(1 << 20)
            with unix_connect_when_up(path) as s:
                s.settimeout(10)
                check(half_close_echo(s, data) == data, "1 MiB back after a half-close")
            me = rf"peer=unix peer_uid={os.getuid()} peer_pid={os.getpid()}"
            text = wait_for_file(log, rf"event=end {me} pid=\d+ exit=0 reason=eof in={len(data)} ")
            check(re.search(rf"event=connect {me} pid=\d+ sessions=1$", text, re.M), text)
            check("level=error" not in text, text)
        finally:
            os.killpg(sa.pid, signal.SIGTERM)
            sa.wait(10)
