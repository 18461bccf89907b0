"""Several instances on one port (--reuseport), and replacing a running server under load
(--upgrade-socket) with no refused and no reset connection."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import (MODELS, Server, binary, check, connect, echo_roundtrip, recv_all,
                     run_server_once, track, wait_until)


def test_reuseport_instances_share_one_port():
    for model in MODELS:
        reuseport_instances_share_one_port(model)


def reuseport_instances_share_one_port(model):
    a = Server("--reuseport", "-l", "127.0.0.1:0", "--model", model)
    port = a.port
    b = Server("--reuseport", "-l", f"127.0.0.1:{port}", "--model", model)
    for i in range(40):
        with connect(port) as s:
            check(echo_roundtrip(s, b"%d" % i) == b"%d" % i, "echo")
    wait_until(lambda: sum(len(x.matching(r"event=end ")) for x in (a, b)) == 40, 5, "40 end lines")
    served = [len(x.matching(r"event=end ")) for x in (a, b)]
    check(min(served) >= 5, f"{model}: the kernel spreads connections over both: {served}")
    rc, err = run_server_once("-l", f"127.0.0.1:{port}")
    check(rc == 1 and "Address already in use" in err, f"without --reuseport the port is taken: {err}")
    check(a.stop() == 0 and b.stop() == 0, "both exit 0")


def bench_in_background(port, seconds):
    return track(subprocess.Popen([binary("mpecho-bench"), "--json", "-q", "-S", "8", "-c", "16",
                                   "-w", "0", "-d", str(seconds), "connrate", "127.0.0.1", str(port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE))


def test_upgrade_under_a_connect_loop_refuses_and_resets_nothing():
    """A loop hands over to a pool, and takes over from a fork."""
    for models in (("fork", "loop"), ("loop", "prefork")):
        upgrade_under_a_connect_loop(*models)


def upgrade_under_a_connect_loop(old_model, new_model):
    with tempfile.TemporaryDirectory() as d:
        sock, pidfile = os.path.join(d, "upgrade.sock"), os.path.join(d, "mpechod.pid")
        old = Server("-l", "127.0.0.1:0", "-c", "2000", "--upgrade-socket", sock, "-p", pidfile,
                     "--model", old_model)
        port = old.port
        # The loop runs against the old one first (20 sessions: on the sanitizer build of a
        # loaded 2-CPU machine 200 took over 10 s), then across the switch to the new one.
        load = bench_in_background(port, 6)
        old.wait_for(r"event=end ", count=20, timeout=6)
        new = Server("--upgrade-socket", sock, "-p", pidfile, "-c", "500", "--model", new_model,
                     ready=True)
        check(new.matching(rf"event=listen addr=127\.0\.0\.1:{port} fd=\d+ upgrade-from={old.pid}$"),
              f"the listener came from the old server: {new.lines[:4]}")
        check(new.matching(rf"event=start .* model={new_model} max_conns=500"), "new options took effect")
        old.wait_for(rf"event=handover successor={new.pid} ")
        check(old.wait_exit() == 0, "the old server drains and exits 0")
        out, err = load.communicate(timeout=60)
        result = json.loads(out)
        check(load.returncode == 0 and not any(result["errors"].values()),
              f"{old_model} to {new_model}: no refused, reset or broken session across the switch: {result['errors']} {err!r}")
        old_served = int(re.search(r"event=stop served=(\d+)", "\n".join(old.lines)).group(1))
        wait_until(lambda: open(pidfile).read().strip() == str(new.pid), 5, "the pidfile names the new one")
        check(not os.path.exists(pidfile + ".old"), "the old one removed its file")
        with connect(port) as s:
            check(echo_roundtrip(s, b"after") == b"after", "the new one serves")
        check(new.stop() == 0, "exit 0")
        new_served = int(re.search(r"event=stop served=(\d+)", "\n".join(new.lines)).group(1))
        check(old_served >= 20 and new_served >= 2,
              f"{old_model} to {new_model}: sessions on both sides of the switch: {old_served} old, {new_served - 1} new")


def take_offer(sock):
    """Connect to an upgrade socket as a successor does: (the connection, the line, the descriptors)."""
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(sock)
    msg, fds, _, _ = socket.recv_fds(conn, 64, 8)
    return conn, msg, fds


def test_a_successor_that_fails_leaves_the_old_server_as_it_was():
    for model in MODELS:
        a_successor_that_fails(model)


def a_successor_that_fails(model):
    with tempfile.TemporaryDirectory() as d:
        sock, pidfile = os.path.join(d, "upgrade.sock"), os.path.join(d, "mpechod.pid")
        old = Server("-l", "127.0.0.1:0", "--upgrade-socket", sock, "-p", pidfile, "--model", model)
        fake, msg, fds = take_offer(sock)
        check(msg == b"mpechod-upgrade 1\n" and len(fds) == 1, f"the offer: {msg!r} {fds}")
        check(os.path.exists(pidfile + ".old"), "the pidfile's name is freed meanwhile")
        for fd in fds:
            os.close(fd)
        fake.close()  # gone before READY
        old.wait_for(r"event=upgrade-failed ")
        wait_until(lambda: os.path.exists(pidfile) and not os.path.exists(pidfile + ".old"), 5,
                   "the pidfile back under its name")
        with connect(old.port) as s:
            check(echo_roundtrip(s, b"still") == b"still", f"{model}: the old server still serves")
        check(old.stop() == 0, f"{model}: exit 0")
        check(not os.path.exists(pidfile), f"{model}: pidfile removed at exit")


def test_after_an_upgrade_with_udp_the_old_server_lets_go_at_once():
    """The old server stops its UDP process and closes its UDP sockets when it hands over, as it
    does on SIGTERM: it used to keep them for --grace + 2 s, then SIGKILL the UDP process."""
    for model in MODELS:
        udp_let_go_at_once(model)


def udp_let_go_at_once(model):
    from test_udp import echo, udp_port
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "upgrade.sock")
        old = Server("-l", "udp:127.0.0.1:0", "-l", "127.0.0.1:0", "--upgrade-socket", sock,
                     "--grace", "10", "--model", model)
        port = udp_port(old)
        check(echo(("127.0.0.1", port), b"before")[0] == b"before", "the old server echoes")
        new = Server("-l", f"udp:127.0.0.1:{port}", "--upgrade-socket", sock)
        old.wait_for(rf"event=handover successor={new.pid} ")
        t0 = time.monotonic()
        check(old.wait_exit() == 0, "the old server exits 0")
        took = time.monotonic() - t0
        check(took < 3 and not old.matching(r"event=terminate "),
              f"{model}: it left {took:.2f} s after the handover, its UDP process not killed: {old.lines[-4:]}")
        for i in range(20):  # from 20 source ports: none is hashed to a socket nobody reads
            check(echo(("127.0.0.1", port), b"after %d" % i)[0] == b"after %d" % i, "the successor echoes")
        check(new.stop() == 0, "exit 0")


def scrape_loop(port, stop, results):
    """Scrape /metrics over and over until stop is set: (status, the build_info line) each."""
    while not stop.is_set() and len(results) < 2000:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
                text = recv_all(s).decode()
            results.append((text.split(" ")[1] if text.startswith("HTTP/1.1 ") else text[:40],
                            re.search(r"^mpechod_build_info\{.*$", text, re.M).group(0)))
        except (OSError, AttributeError) as e:
            results.append((repr(e), ""))
        time.sleep(0.01)


def test_metrics_and_agent_sockets_are_handed_over_and_scraped_across_the_upgrade():
    """--metrics and --agent go to the successor like the listeners: it used to fail to start
    (EADDRINUSE), so --upgrade-socket never worked with --metrics."""
    for models in (("fork", "prefork"), ("prefork", "loop"), ("loop", "fork")):
        endpoints_handed_over(*models)


def endpoints_handed_over(old_model, new_model):
    from test_probes import agent_says
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "upgrade.sock")
        old = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--agent", "127.0.0.1:0",
                     "--upgrade-socket", sock, "--model", old_model)
        mport, aport = old.endpoint("metrics")[1], old.endpoint("agent")[1]
        ends = ("--metrics", f"127.0.0.1:{mport}", "--agent", f"127.0.0.1:{aport}", "--upgrade-socket", sock)
        stop, results = threading.Event(), []
        scraper = threading.Thread(target=scrape_loop, args=(mport, stop, results))
        scraper.start()
        wait_until(lambda: len(results) >= 5, 10, "scrapes of the old server")
        new = Server("--model", new_model, *ends)
        old.wait_for(rf"event=handover successor={new.pid} ")
        check(old.wait_exit() == 0, "the old server exits 0")
        n = len(results)
        wait_until(lambda: len(results) >= n + 5, 10, "scrapes after the handover")
        stop.set()
        scraper.join(10)
        check(all(status == "200" for status, _ in results), f"every scrape answered: {results[:3]} ...")
        check(f'model="{old_model}"' in results[0][1] and f'model="{new_model}"' in results[-1][1],
              f"the old one, then the new one: {results[0][1]} ... {results[-1][1]}")
        check(new.matching(rf"event=upgrade from={old.pid} listeners=1 endpoints=metrics,agent$"),
              f"the endpoints came from the old server: {new.lines[:4]}")
        check(agent_says(aport) == b"up ready\n", "the successor's agent answers")
        check(new.stop() == 0, "exit 0")


def test_a_successor_that_says_nothing_is_given_up_and_others_are_told_why():
    """A process that takes the offer and says nothing holds the upgrade socket for 5 s at most;
    a real successor meanwhile is told the upgrade is busy, and succeeds once it is given up."""
    with tempfile.TemporaryDirectory() as d:
        sock, pidfile = os.path.join(d, "upgrade.sock"), os.path.join(d, "mpechod.pid")
        old = Server("-l", "127.0.0.1:0", "--upgrade-socket", sock, "-p", pidfile)
        silent, msg, fds = take_offer(sock)
        check(msg == b"mpechod-upgrade 1\n" and len(fds) == 1, f"the offer: {msg!r} {fds}")
        for fd in fds:
            os.close(fd)
        t0 = time.monotonic()
        rc, err = run_server_once("--upgrade-socket", sock, "-p", pidfile)
        check(rc == 1 and f"is handing its listeners to another successor (pid {os.getpid()})" in err,
              f"a second successor is told why, at once: {rc} {err!r}")
        old.wait_for(rf'event=upgrade-failed successor={os.getpid()} error="no READY within 5 s"', timeout=8)
        check(4.5 < time.monotonic() - t0 < 8, "given up after 5 s")
        silent.settimeout(5)
        check(recv_all(silent) == b"mpechod-upgrade timeout\n", "the silent one is told, then closed")
        silent.close()
        wait_until(lambda: os.path.exists(pidfile) and not os.path.exists(pidfile + ".old"), 5,
                   "the pidfile back under its name")
        new = Server("--upgrade-socket", sock, "-p", pidfile)
        old.wait_for(rf"event=handover successor={new.pid} ")
        check(old.wait_exit() == 0 and new.stop() == 0, "then a real successor takes over")


def waiting_on(name):
    """Whether a connection waits in the backlog of the Unix socket bound as name (ss -xl)."""
    out = subprocess.run(["ss", "-xlH"], capture_output=True, text=True, timeout=10).stdout
    return any(f.split()[4] == name and int(f.split()[2]) > 0 for f in out.splitlines()
               if len(f.split()) > 4)


def test_a_successor_too_late_for_its_predecessor_gives_up_and_changes_nothing():
    """A successor whose READY comes after the old server gave up is told so and exits 1: the
    old one serves on, its pidfile intact; never two servers that both think they are the one."""
    with tempfile.TemporaryDirectory() as d:
        sock, pidfile = os.path.join(d, "upgrade.sock"), os.path.join(d, "mpechod.pid")
        old = Server("-l", "127.0.0.1:0", "--upgrade-socket", sock, "-p", pidfile)
        old.proc.send_signal(signal.SIGSTOP)  # so that the successor is stopped before its offer
        late = Server("--upgrade-socket", sock, ready=False)  # with -p it would stop at the pidfile
        wait_until(lambda: waiting_on(f"{sock}.{old.pid}"), 10, "the successor to connect")
        late.proc.send_signal(signal.SIGSTOP)
        old.proc.send_signal(signal.SIGCONT)
        old.wait_for(rf"event=upgrade-offer successor={late.pid} ")
        old.wait_for(rf'event=upgrade-failed successor={late.pid} error="no READY within 5 s"', timeout=8)
        late.proc.send_signal(signal.SIGCONT)
        check(late.wait_exit() == 1, "the late successor exits 1")
        check(late.matching(rf"pid {old.pid}\) gave up waiting for this one"), f"it says why: {late.lines}")
        check(not old.matching(r"event=handover"), "the old one never handed over")
        check(open(pidfile).read().strip() == str(old.pid) and not os.path.exists(pidfile + ".old"),
              "the pidfile still names the old server")
        with connect(old.port) as s:
            check(echo_roundtrip(s, b"still") == b"still", "the old server serves on")
        check(old.stop() == 0, "exit 0")
