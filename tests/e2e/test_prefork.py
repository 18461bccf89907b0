"""The prefork model: same behaviour as fork, plus the pool's own rules."""
import os
import re
import signal
import socket
import tempfile
import threading
import time

from harness import (Server, check, children, connect, echo_roundtrip, recv_all,
                     run_server_once, wait_until)


def prefork(*args, **kw):
    return Server("--model", "prefork", *args, **kw)


def workers(srv):
    return sorted(p for p, v in children(srv.pid).items() if v[0] != "Z")


def session_pid(srv, n=1):
    return int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect", count=n)[n - 1]).group(1))


def test_prefork_data_path_matches_fork():
    srv = prefork("-l", "127.0.0.1:0", "-l", "[::1]:0", "-s", "upper")  # two listeners: epoll path
    for host, port in srv.addrs:
        with connect(port, host) as s:
            s.sendall(b"one\r\ntwo\nquit\nthree\n")
            check(recv_all(s) == b"ONE\r\nTWO\n", f"upper and quit over {host}")
    check(srv.stop() == 0, "server exits 0")
    srv = prefork("-l", "127.0.0.1:0")
    results = []

    def client(i):
        msg = os.urandom(50_000 + i)
        with connect(srv.port) as c:
            results.append(echo_roundtrip(c, msg) == msg)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(results == [True] * 20, f"20 concurrent clients: {results}")
    line = srv.wait_for(r"event=end ")[0]
    check(re.search(r"exit=0 reason=eof in=5\d{4} out=5\d{4} duration=", line),
          f"the worker logs the end line as the fork model does: {line}")
    check(srv.stop() == 0, "server exits 0")


def test_pool_starts_grows_and_shrinks():
    srv = prefork("-v", "-l", "127.0.0.1:0", "--start", "3", "--min-spare", "2", "--max-spare", "4", "-c", "20")
    wait_until(lambda: len(workers(srv)) == 3, 5, "3 workers at start")
    held = [connect(srv.port) for _ in range(8)]
    for i, s in enumerate(held):
        check(echo_roundtrip(s, b"%d" % i) == b"%d" % i, "held client served")
    lines = srv.wait_for(r"event=connect ", count=8)
    pids = {int(re.search(r"pid=(\d+)", l).group(1)) for l in lines}
    check(len(pids) == 8, f"one process per live connection: {len(pids)} pids")
    wait_until(lambda: len(workers(srv)) >= 10, 5, "the pool grows to keep 2 spare")
    check(len(workers(srv)) <= 12, f"but not beyond spare needs: {len(workers(srv))}")
    for s in held:
        s.close()
    wait_until(lambda: len(workers(srv)) <= 4, 10, "idle workers retired down to --max-spare")
    time.sleep(0.5)  # five pool checks: room for a retire too many to show in the log
    exits = srv.matching(r"event=worker-exit ")
    low = [l for l in exits if int(re.search(r" workers=(\d+)", l).group(1)) < 2]
    check(len(exits) >= 6 and not low, f"no retire ever left fewer than --min-spare workers: {low}")
    check(srv.stop() == 0, "server exits 0")


def test_workers_recycle_after_max_requests():
    srv = prefork("-v", "-l", "127.0.0.1:0", "--start", "1", "--min-spare", "1", "--max-spare", "2",
                  "--max-requests", "3")
    for i in range(7):
        with connect(srv.port) as s:
            s.sendall(b"r")
            s.shutdown(socket.SHUT_WR)
            check(recv_all(s) == b"r", "echo")
    srv.wait_for(r"event=worker-exit .*exit=0 sessions=3 ", count=2)  # fails unless they leave
    served = [re.search(r" pid=(\d+)", l).group(1) for l in srv.matching(r"event=connect ")]
    check(max(served.count(p) for p in served) == 3, f"no worker serves a 4th session: {served}")
    check(not srv.matching(r"respawn-throttled"), "a clean recycle is not a crash")
    check(srv.stop() == 0, "server exits 0")


def test_dead_worker_is_replaced_and_its_session_logged():
    srv = prefork("-l", "127.0.0.1:0", "--start", "2", "--min-spare", "2", "--max-spare", "4")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"alive") == b"alive", "echo")
        victim = session_pid(srv)
        os.kill(victim, signal.SIGKILL)
        check(recv_all(s) == b"", "the client sees its connection close")
    line = srv.wait_for(r"event=end .*signal=KILL reason=killed")[0]
    # The worker stores its out counter just after send() returns: a kill can land in between.
    check(f"pid={victim} " in line and re.search(r" in=5 out=(0|5) ", line),
          f"the supervisor logs the lost session: {line}")
    srv.wait_for(rf"event=worker-exit pid={victim} signal=KILL")
    wait_until(lambda: len(workers(srv)) >= 2 and victim not in workers(srv), 5, "a replacement")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"again") == b"again", "still serving")
    check(srv.stop() == 0, "server exits 0")


def test_crash_loop_does_not_fork_bomb():
    """In either pool (the loop model held each young failure's respawn for a second, and
    said nothing of it)."""
    for pool in (("prefork", "--start", "2", "--min-spare", "2", "--max-spare", "4"),
                 ("loop", "--workers", "2")):
        crash_loop(Server("-v", "-l", "127.0.0.1:0", "--model", *pool), pool[0])


def crash_loop(srv, model):
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        for pid in workers(srv):
            try:
                os.kill(pid, signal.SIGKILL)  # every worker dies young, again and again
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    srv.wait_for(r"event=respawn-throttled failures=5 .*delay_ms=1000")
    started = len(srv.matching(r"event=worker-start"))
    check(started < 30, f"{model}: respawns are held back: {started} workers started in 2.5 s")
    wait_until(lambda: len(workers(srv)) >= 2, 15, f"{model}: the pool comes back once the crashes stop")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"ok") == b"ok", f"{model}: serving again")
    check(srv.stop() == 0, f"{model}: server exits 0")


def test_prefork_grace_end_terminates_busy_workers():
    srv = prefork("-l", "127.0.0.1:0", "--grace", "1")
    s = connect(srv.port)
    check(echo_roundtrip(s, b"stay") == b"stay", "echo")
    check(srv.stop(signal.SIGTERM, timeout=10) == 0, "exit 0")
    check(srv.matching(r"event=end .*signal=TERM reason=killed"), "the session ended by the grace end")
    s.close()


def test_prefork_operations():
    srv = prefork("-u", "nobody", "-l", "127.0.0.1:0", "--deny", "127.0.0.3", "--idle-timeout", "1")
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"x") == b"x", "echo")
        pid = session_pid(srv)
        uid = [l for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")][0].split()[1:]
        check(uid == ["65534"] * 4, f"the worker runs as nobody: {uid}")
        check(recv_all(s) == b"", "idle timeout closes it")
    check("reason=idle" in srv.wait_for(r"event=end ")[0], "reason idle")
    d = socket.socket()
    d.bind(("127.0.0.3", 0))
    d.connect(("127.0.0.1", srv.port))
    d.settimeout(5)
    check(recv_all(d) == b"", "denied client closed")
    d.close()
    srv.wait_for(r"event=refused peer=127.0.0.3:\d+ reason=acl")
    srv.proc.send_signal(signal.SIGUSR1)
    st = srv.wait_for(r"event=status")[0]
    check("refused_acl=1 " in st and "served=1 " in st and "workers=" in st, st)
    check(srv.stop() == 0, "server exits 0")
    for pool in (("prefork", "--start", "2"), ("loop", "--workers", "2")):
        workers_reopen_the_log(pool)


def workers_reopen_the_log(pool):
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "p.log")
        srv = Server("--log", log, "-l", "127.0.0.1:0", "--model", *pool, ready=False)
        wait_until(lambda: os.path.exists(log) and "event=ready" in open(log).read(), 10, "ready")
        port = int(re.search(r"addr=127.0.0.1:(\d+)", open(log).read()).group(1))
        os.rename(log, log + ".1")
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: os.path.exists(log), 5, "reopened")

        def workers_on_new_file():
            targets = []
            for pid in workers(srv):
                fds = f"/proc/{pid}/fd"
                targets += [os.readlink(f"{fds}/{f}") for f in os.listdir(fds)
                            if os.readlink(f"{fds}/{f}").startswith(d)]
            return targets and all(t == log for t in targets)
        wait_until(workers_on_new_file, 5, f"{pool[0]}: every worker to reopen the log file")
        with connect(port) as s:
            check(echo_roundtrip(s, b"rotated") == b"rotated", "echo")
        wait_until(lambda: "event=end " in open(log).read(), 5, f"{pool[0]}: a worker's end line in the new file")
        check(srv.stop() == 0, f"{pool[0]}: server exits 0")


def test_prefork_usage_errors():
    for args, named in ((["--model", "threads"], "'threads'"),
                        (["--model", "prefork", "--rate", "5"], "--model fork"),
                        (["--model", "prefork", "--min-spare", "5", "--max-spare", "5"], "--min-spare 5"),
                        (["--max-requests", "-1"], "'-1'"), (["--start", "0"], "'0'")):
        rc, err = run_server_once("-l", "127.0.0.1:0", *args)
        check(rc == 2 and named in err, f"{args}: {rc} {err!r}")


def signal_masks(pid):
    st = {k: int(v, 16) for k, v in (l.split(":\t") for l in open(f"/proc/{pid}/status")
                                      if l.startswith(("SigBlk", "SigCgt")))}
    return st["SigBlk"], st["SigCgt"]


def test_workers_read_their_signals_from_a_signalfd():
    """A worker never tests a flag and then blocks in accept(): SIGUSR1 and SIGHUP stay
    blocked and arrive through a signalfd it waits on with the listeners, so one that comes
    at any moment is seen at once (the old handlers were missed if they landed in between).
    A loop worker too: it waits on its signalfd with its listeners and sessions."""
    for pool in (("prefork", "--start", "2", "--min-spare", "1", "--max-spare", "3"),
                 ("loop", "--workers", "2")):
        signals_from_a_signalfd(Server("-v", "-l", "127.0.0.1:0", "--model", *pool), pool[0])


def signals_from_a_signalfd(srv, model):
    # A worker is read once it says it is ready: just forked, it still has the supervisor's.
    ready = sorted(int(re.search(r"pid=(\d+)", l).group(1))
                   for l in srv.wait_for(r"event=worker-ready ", count=2))
    check(ready == workers(srv), f"{model}: 2 workers, both ready: {ready} {workers(srv)}")
    usr1, hup = 1 << (signal.SIGUSR1 - 1), 1 << (signal.SIGHUP - 1)
    for pid in ready:
        blocked, caught = signal_masks(pid)
        check(blocked & usr1 and blocked & hup, f"worker {pid} blocks USR1 and HUP: {blocked:x}")
        check(not caught & (usr1 | hup), f"worker {pid} has no handler for them: {caught:x}")
        fds = [os.readlink(f"/proc/{pid}/fd/{f}") for f in os.listdir(f"/proc/{pid}/fd")]
        check("anon_inode:[signalfd]" in fds, f"worker {pid} waits on a signalfd: {fds}")
    victim = workers(srv)[0]
    for _ in range(20):
        os.kill(victim, signal.SIGHUP)  # a burst of reopens, then the retire
    os.kill(victim, signal.SIGUSR1)
    srv.wait_for(rf"event=worker-exit pid={victim} exit=0 ", timeout=3)
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"still") == b"still", f"{model}: the pool still serves")
    check(srv.stop() == 0, f"{model}: server exits 0")


def test_connections_queued_before_the_start_are_logged_after_ready():
    """Clients queued on an inherited listener before mpechod runs: a worker serves them at once,
    but their connect and end lines follow the supervisor's start, listen and ready lines."""
    for model, extra in (("prefork", ("--start", "4")), ("loop", ("--workers", "2"))):
        with socket.socket() as lsock:
            lsock.bind(("127.0.0.1", 0))
            lsock.listen(64)
            clients = []
            for i in range(8):
                c = socket.create_connection(lsock.getsockname(), timeout=10)
                c.sendall(b"queued %d" % i)
                c.shutdown(socket.SHUT_WR)
                clients.append(c)
            srv = Server("--model", model, *extra, pass_fds=(lsock.fileno(),),
                         prefix=("sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" 3<&{lsock.fileno()}', "sh"))
        for i, c in enumerate(clients):
            with c:
                check(recv_all(c) == b"queued %d" % i, f"{model}: queued client {i} served")
        srv.wait_for(r"event=end ", count=len(clients))
        order = [re.search(r"event=(\S+)", l).group(1) for l in srv.lines if "event=" in l]
        first = min(order.index(e) for e in ("connect", "end"))
        check(order.index("ready") < first and order.index("start") == 0,
              f"{model}: start, listen, ready, then the sessions: {order}")
        check(srv.stop() == 0, f"{model}: exit 0")
