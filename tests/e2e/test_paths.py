"""The files mpechod makes and removes: Unix socket and upgrade socket files removed at exit, by
a successor too; never a file that is not provably its own, however the directories around it
change (race_shim.c wins the races a real attacker would have to)."""
import os
import re
import socket
import stat
import subprocess
import tempfile

from harness import Server, check, group_members, wait_until
from test_unix import unix_echo

HERE = os.path.dirname(os.path.abspath(__file__))


def raced(d, at, path, target, directory=""):
    """The environment of an mpechod that race_shim.c (built into d) races at `at` on `path`."""
    shim = os.path.join(d, "race_shim.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", shim, os.path.join(HERE, "race_shim.c"),
                    "-ldl"], check=True, capture_output=True, timeout=60)
    asan = os.environ.get("ASAN_OPTIONS", "")  # the sanitizer build: its runtime is not first
    return dict(os.environ, LD_PRELOAD=shim, RACE_AT=at, RACE_PATH=path, RACE_TARGET=target,
                RACE_DIR=directory, RACE_DONE=os.path.join(d, "race.done"),
                ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")


def raced_start(d, path, at, target, *args, directory=""):
    """mpechod on -l unix:path, raced at `at`: (the server, its exit status or None if it runs)."""
    srv = Server("-l", f"unix:{path}", *args, ready=False, env=raced(d, at, path, target, directory))
    wait_until(lambda: srv.proc.poll() is not None or srv.matching(r"event=ready"), 10,
               "the server to start or fail")
    check(os.path.exists(os.path.join(d, "race.done")), "the race was run")
    if srv.proc.poll() is None:
        return srv, None
    rc = srv.wait_exit()
    wait_until(lambda: not group_members(srv.pid), 5, "nothing of it left")
    return srv, rc


def check_refused(srv, rc, path):
    check(rc == 1 and srv.matching(rf"cannot listen on unix:{re.escape(path)}: "),
          f"the start fails, saying where: {rc} {srv.lines[-2:]}")


def test_a_stale_socket_is_removed_from_its_own_directory_only():
    """Between the check of a stale socket and its removal, its directory becomes a link to
    another one, where a file of the same name lives: that file must stay (it was deleted)."""
    with tempfile.TemporaryDirectory() as d:
        attacker, victim = os.path.join(d, "attacker"), os.path.join(d, "victim")
        os.mkdir(attacker)
        os.mkdir(victim)
        path = os.path.join(attacker, "echo.sock")
        with socket.socket(socket.AF_UNIX) as stale:
            stale.bind(path)  # a socket nobody answers on: the server may replace it
        with open(os.path.join(victim, "echo.sock"), "w") as f:
            f.write("precious")
        srv, rc = raced_start(d, path, "connect", victim, directory=attacker)
        other = os.path.join(victim, "echo.sock")
        check(os.path.isfile(other) and open(other).read() == "precious",
              f"the file in the other directory is intact: {os.listdir(victim)}")
        check_refused(srv, rc, path)


def test_a_socket_file_swapped_for_a_link_after_bind_gives_nothing_away():
    """The socket file becomes a link to another file right after bind: that file's mode and
    owner must not change (--socket-mode was set with chmod(2), which follows links)."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "run"))
        path, victim = os.path.join(d, "run", "echo.sock"), os.path.join(d, "secret")
        with open(victim, "w") as f:
            f.write("root only")
        os.chmod(victim, 0o600)
        before = os.stat(victim)
        srv, rc = raced_start(d, path, "bind", victim, "--socket-mode", "666", "-u", "nobody")
        after = os.stat(victim)
        check(stat.S_IMODE(after.st_mode) == 0o600 and after.st_uid == before.st_uid,
              f"the other file keeps its mode and owner: {oct(after.st_mode)} uid {after.st_uid}")
        check_refused(srv, rc, path)


def test_socket_mode_on_a_socket_handed_over_never_follows_a_link():
    """A successor's --socket-mode on the Unix socket it takes over: the file becomes a link to
    another one just as its mode is set; that file must keep its mode (chmod(2) followed it)."""
    with tempfile.TemporaryDirectory() as d:
        path, up, victim = (os.path.join(d, n) for n in ("echo.sock", "upgrade.sock", "secret"))
        with open(victim, "w") as f:
            f.write("root only")
        os.chmod(victim, 0o600)
        old = Server("-l", f"unix:{path}", "--upgrade-socket", up)
        new = Server("-l", f"unix:{path}", "--socket-mode", "666", "--upgrade-socket", up, ready=False,
                     env=raced(d, "chmod", path, victim))
        wait_until(lambda: new.proc.poll() is not None or new.matching(r"event=ready"), 10, "the successor")
        check(os.path.exists(os.path.join(d, "race.done")), "the race was run")
        check(stat.S_IMODE(os.stat(victim).st_mode) == 0o600, f"the other file: {oct(os.stat(victim).st_mode)}")
        check(new.wait_exit() == 1 and new.matching(rf"cannot give the socket handed over as unix:"),
              f"the successor fails, saying which socket: {new.lines[-2:]}")
        check(old.stop() == 0, "the old server served on, and stops")


def test_socket_files_are_removed_at_exit_by_a_successor_too():
    """The Unix socket and the upgrade socket files are removed at exit, by a server that took
    them over in an upgrade too (a successor left both behind)."""
    with tempfile.TemporaryDirectory() as d:
        path, up = os.path.join(d, "echo.sock"), os.path.join(d, "upgrade.sock")
        first = Server("--upgrade-socket", up, "-l", "127.0.0.1:0")
        check(first.stop() == 0 and not os.path.exists(up), "a server removes its upgrade socket")
        old = Server("-l", f"unix:{path}", "--upgrade-socket", up)
        new = Server("-l", f"unix:{path}", "--upgrade-socket", up)
        old.wait_for(rf"event=handover successor={new.pid} ")
        check(old.wait_exit() == 0, "the old server exits 0")
        check(os.path.exists(path) and os.path.exists(up), "it left both files to the successor")
        check(unix_echo(path, b"successor") == b"successor", "the successor serves the Unix socket")
        check(new.stop() == 0, "exit 0")
        check(not os.path.exists(path) and not os.path.exists(up),
              f"the successor removed both: {os.listdir(d)}")


def test_the_upgrade_socket_never_replaces_a_file_that_is_not_a_socket():
    """--upgrade-socket names a regular file by mistake: it is kept (the socket used to be
    renamed over it), and the server says so and serves on without an upgrade socket."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "notes.txt")
        with open(path, "w") as f:
            f.write("keep me")
        srv = Server("-l", "127.0.0.1:0", "--upgrade-socket", path)
        srv.wait_for(rf"event=error during=upgrade-socket error=\"{re.escape(path)}: File exists\"")
        check(os.path.isfile(path) and open(path).read() == "keep me", f"the file is kept: {os.listdir(d)}")
        check(os.listdir(d) == ["notes.txt"], f"nothing else left: {os.listdir(d)}")
        check(srv.stop() == 0 and open(path).read() == "keep me", "exit 0, the file still kept")
