"""How the supervisor dies or is stopped: a signal to the whole process group (Ctrl-C, or
SIGTERM as systemd sends it to a unit's every process) gives the drain, not a massacre; a
supervisor killed outright leaves no worker holding the port and no session beyond --grace."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from harness import (MODELS, ROOT_DIR, Server, check, concurrently, connect, echo_roundtrip,
                     group_members, half_close_echo, recv_all, run_server_once, track, wait_until)


def test_a_signal_to_the_whole_group_drains_like_one_to_the_supervisor():
    for sig in (signal.SIGINT, signal.SIGTERM):
        for model in ("fork", "prefork", "loop"):
            srv = Server("-l", "127.0.0.1:0", "--grace", "20", "--model", model)
            s = connect(srv.port)
            part = os.urandom(500_000)
            check(echo_roundtrip(s, part) == part, "echo before the signal")
            os.killpg(srv.pid, sig)  # Ctrl-C, or systemd's KillMode=control-group
            srv.wait_for(rf"event=shutdown signal={sig.name[3:]} sessions=1 grace=20")
            rest = os.urandom(1_000_000)
            check(half_close_echo(s, rest) == rest, f"{sig.name} {model}: the session goes on")
            s.close()
            check(srv.wait_exit() == 0, "exit 0 after the drain")
            line = srv.wait_for(r"event=end ")[0]
            check("reason=eof in=1500000 out=1500000" in line, f"{sig.name} {model}: {line}")


def test_sigusr2_is_the_sessions_signal_and_leaves_the_supervisor_alone():
    """SIGUSR2 tells a fork-model session its supervisor died; sent to the supervisor (a stray
    kill, or one to the whole group) it changes nothing: it used to end the server, and the UDP
    process (which the supervisor started again)."""
    def one(model):
        srv = Server("-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0", "--model", model, "--grace", "1")
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"before") == b"before", "echo")
            os.kill(srv.pid, signal.SIGUSR2)
            if model == "fork":
                os.killpg(srv.pid, signal.SIGUSR2)  # the session too: not orphaned, not cut
            time.sleep(1.5)  # past --grace
            check(srv.proc.poll() is None, f"{model}: the supervisor is still running")
            check(echo_roundtrip(s, b"during") == b"during", f"{model}: the session goes on")
            check(not srv.matching(r"event=udp-exit"), f"{model}: the UDP process goes on")
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"after") == b"after", f"{model}: new clients are served")
        check(srv.stop() == 0, f"{model}: exit 0")
    concurrently(one, ("fork", "prefork", "loop"))


def test_orphaned_prefork_workers_leave_and_free_the_port():
    srv = Server("-l", "127.0.0.1:0", "--model", "prefork", "--start", "4")
    port = srv.port
    busy = connect(port)
    check(echo_roundtrip(busy, b"mid-session") == b"mid-session", "a worker is busy")
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait(10)  # not wait_exit(): the orphans still hold the log pipe
    check(echo_roundtrip(busy, b"still") == b"still", "the session in hand is finished")
    busy.close()
    wait_until(lambda: not group_members(srv.pid), 10, "every worker to leave")
    again = Server("-l", f"127.0.0.1:{port}")  # the port is free again
    with connect(port) as s:
        check(echo_roundtrip(s, b"new") == b"new", "a new server on the same port")
    check(again.stop() == 0, "exit 0")


def test_orphaned_sessions_end_within_the_grace_period():
    srv = Server("-l", "127.0.0.1:0", "--grace", "1", "--idle-timeout", "0")
    held = [connect(srv.port) for _ in range(3)]
    for s in held:
        check(echo_roundtrip(s, b"x") == b"x", "echo")
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait(10)
    t0 = time.monotonic()
    check(echo_roundtrip(held[0], b"orphan") == b"orphan", "an orphan still serves for a while")
    for s in held:
        s.settimeout(10)
        try:
            check(recv_all(s) == b"", "then closes")
        except ConnectionResetError:
            pass
        s.close()
    check(time.monotonic() - t0 < 3, f"within --grace 1 (and a second): {time.monotonic() - t0:.1f}s")
    wait_until(lambda: not group_members(srv.pid), 5, "no session left")


def test_a_killed_supervisor_leaves_no_process_past_the_grace_period():
    """The supervisor SIGKILLed while a session is held open (no idle timeout to end it), with a
    UDP process and, under -u, the privileged one: in every model the session is closed within
    --grace, and every process of the server ends: sessions, workers, the UDP process and the
    privileged one, each told by its parent-death signal."""
    def one(model):
        srv = Server("-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0", "-u", "nobody", "--grace", "1",
                     "--idle-timeout", "0", "--model", model)
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"held") == b"held", f"{model}: echo")
            before = group_members(srv.pid)
            os.kill(srv.pid, signal.SIGKILL)
            srv.proc.wait(10)  # not wait_exit(): the orphans still hold the log pipe
            t0 = time.monotonic()
            s.settimeout(10)
            try:
                closed = recv_all(s) == b""
            except ConnectionResetError:
                closed = True
            except TimeoutError:
                closed = False
            took = time.monotonic() - t0
        check(closed and took < 3, f"{model}: the session closed within --grace 1 (and 2 s): "
              f"{'after' if closed else 'still open after'} {took:.1f}s")
        wait_until(lambda: not group_members(srv.pid), 5, f"{model}: the end of all of {before}")
    concurrently(one, MODELS)


def test_a_test_runner_killed_outright_leaves_no_server_behind():
    """A runner killed with SIGKILL while its server runs (in a session of its own, which the
    runner's death does not reach) has the server's whole group ended by the guard (guard.py),
    and the directory it made for the run (tests/run.py: the sanitizer's) removed."""
    runner = track(subprocess.Popen([sys.executable, "-c", (
        "import sys, tempfile, time; sys.path.insert(0, sys.argv[1]); import guard, harness; "
        "d = tempfile.mkdtemp(prefix='mpecho-guard-'); guard.note_dir(d); "
        "srv = harness.Server('-l', '127.0.0.1:0', '--model', 'prefork', '--start', '2'); "
        "print(srv.pid, d, flush=True); time.sleep(60)"), os.path.join(ROOT_DIR, "tests", "e2e")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))  # the guard's line too
    pid, d = runner.stdout.readline().split()
    pid = int(pid)
    try:
        check(len(group_members(pid)) >= 3, f"the runner's server and its workers: {group_members(pid)}")
        runner.kill()
        runner.wait(5)
        wait_until(lambda: not group_members(pid), 5, "the guard to end the server's group")
        wait_until(lambda: not os.path.exists(d), 5, f"the guard to remove {d}")
    finally:
        if group_members(pid):
            os.killpg(pid, signal.SIGKILL)  # not the runner's: cleanup() does not know it
        shutil.rmtree(d, ignore_errors=True)
