"""UDP listeners (-l udp:ADDR:PORT): datagrams echoed whole from the address they came to, by a
process of its own in both models; the reflection guards (service ports, access rules, a rate
per source) and the summary line; the UDP process restarted and stopped with the server;
mpecho -u and mpecho-bench udp."""
import json
import os
import re
import signal
import socket
import subprocess

from harness import (Server, binary, check, children, free_port, run_client, run_server_once, track,
                     wait_until)


def echo(target, data, family=socket.AF_INET, bind=None):
    """Send one datagram; (what came back, from where), or (None, None) if nothing did in 0.5 s."""
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        if bind is not None:
            s.bind(bind)
        s.sendto(data, target)
        try:
            return s.recvfrom(70000)
        except socket.timeout:
            return None, None


def summary(srv, why, count=1):
    """The counts of the count-th summary line logged for why (status, stop)."""
    line = srv.wait_for(rf"event=udp-summary .* why={why}$", count=count)[count - 1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def udp_pid(srv, count=1):
    return int(re.search(r"pid=(\d+)", srv.wait_for(r"event=udp-start ", count=count)[count - 1]).group(1))


def test_datagrams_come_back_whole_from_the_address_they_came_to_in_both_models():
    for model in ("fork", "prefork"):
        port = free_port()
        srv = Server("-v", "--model", model, "-l", f"udp::{port}", "-l", "127.0.0.1:0")
        check(srv.matching(rf"event=listen addr=udp:\[::\]:{port}$"), "a dual-stack UDP socket")
        for target, family in ((("127.0.0.1", port), socket.AF_INET),
                               (("127.0.0.2", port), socket.AF_INET),   # the reply must leave from .2
                               (("::1", port), socket.AF_INET6)):
            for size in (1, 1400, 65000):
                data = os.urandom(size)
                back, frm = echo(target, data, family)
                check(back == data, f"{model} {target} {size} B: whole and unchanged")
                check(frm[0] == target[0] and frm[1] == port,
                      f"{model}: the reply to {target} came from {frm}")
        back, _ = echo(("127.0.0.1", port), b"")
        check(back == b"", "an empty datagram is echoed too")
        srv.proc.send_signal(signal.SIGUSR1)
        s = summary(srv, "status")
        check(s["received"] == 10 and s["echoed"] == 10 and s["bytes"] == 3 * 66401,
              f"{model}: the summary counts them: {s}")
        check(srv.stop() == 0 and not srv.zombies(), f"{model}: clean stop")
        check(summary(srv, "stop")["echoed"] == 10, "a last summary at the stop")


def test_reflection_guards_service_ports_rules_and_the_rate():
    port = free_port()
    srv = Server("-l", f"udp:127.0.0.1:{port}", "--deny", "127.0.0.3", "--udp-rate", "20")
    target = ("127.0.0.1", port)
    for src in (7, 13, 19, 53, 123):    # an echo to chargen's port is CVE-1999-0103's loop
        back, _ = echo(target, b"loop?", bind=("127.0.0.1", src))
        check(back is None, f"nothing goes back to port {src}")
    back, _ = echo(target, b"denied", bind=("127.0.0.3", 0))
    check(back is None, "--deny holds for datagrams")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        s.bind(("127.0.0.4", 0))
        for i in range(100):
            s.sendto(b"%d" % i, target)
        got = 0
        try:
            while True:
                s.recvfrom(100)
                got += 1
        except socket.timeout:
            pass
    check(20 <= got <= 30, f"--udp-rate 20: a burst of 100 gets about 20 back ({got})")
    back, _ = echo(target, b"another source", bind=("127.0.0.5", 0))
    check(back == b"another source", "the rate is per source")
    srv.proc.send_signal(signal.SIGUSR1)
    s = summary(srv, "status")
    check(s["dropped_port"] == 5 and s["dropped_acl"] == 1 and s["dropped_rate"] == 100 - got and
          s["echoed"] == got + 1 and s["received"] == 107, f"dropped by reason: {s}")
    check(len(srv.matching(r"event=")) < 12, "no line per datagram")
    srv.stop()


def test_the_udp_process_is_restarted_runs_as_the_user_and_stops_with_the_server():
    port = free_port()
    args = ["-v", "-l", f"udp:127.0.0.1:{port}", "-l", "127.0.0.1:0", "--grace", "30"] + (
        ["-u", "nobody"] if os.geteuid() == 0 else [])
    srv = Server(*args)
    pid = udp_pid(srv)
    if os.geteuid() == 0:  # udp-start is logged before the drop: wait for the state itself
        nobody = str(__import__("pwd").getpwnam("nobody").pw_uid)
        wait_until(lambda: open(f"/proc/{pid}/status").read().split("Uid:")[1].split()[0] == nobody,
                   5, "the UDP process to run as nobody")
    check(echo(("127.0.0.1", port), b"one")[0] == b"one", "echo")
    os.kill(pid, signal.SIGKILL)
    line = srv.wait_for(r"event=udp-exit ")[0]
    check(f"pid={pid} signal=KILL action=restart" in line, line)
    new = udp_pid(srv, count=2)
    check(new != pid and echo(("127.0.0.1", port), b"two")[0] == b"two", "a new UDP process echoes")
    check(not srv.zombies(), "the dead one was reaped")
    srv.proc.send_signal(signal.SIGTERM)     # no session: the drain does not wait for --grace
    check(srv.wait_exit(timeout=5) == 0, "the server stops at once, exit 0")
    check(not os.path.exists(f"/proc/{new}") or open(f"/proc/{new}/stat").read().split()[2] == "Z",
          "the UDP process is gone")


def test_udp_usage_errors():
    port = free_port()
    for args, status, msg in (
            (["-l", "udp:127.0.0.1"], 2, "expected udp:HOST:PORT"),
            (["-l", "udp:127.0.0.1:7,tls"], 2, "no options"),
            (["-l", "udp:127.0.0.1:99999"], 2, "invalid port '99999'"),
            (["-l", "127.0.0.1:0", "--udp-rate", "5"], 2,
             "--udp-rate cannot take effect: it needs a udp: listener"),
            (["-l", f"udp:127.0.0.1:{port}", "--model", "prefork"], 2,
             "--model cannot take effect: it needs a stream listener"),
            (["-l", "udp:192.0.2.1:7"], 1, "cannot listen on udp:192.0.2.1:7: ")):
        rc, err = run_server_once(*args)
        check(rc == status and msg in err and err.count("\n") == 1, f"{args}: {rc} {err!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", port))
        rc, err = run_server_once("-l", f"udp:127.0.0.1:{port}")
        check(rc == 1 and "Address already in use" in err, err)


def test_mpecho_u_is_byte_exact_and_says_what_did_not_come_back():
    port = free_port()
    srv = Server("-q", "-l", f"udp:127.0.0.1:{port}", "-l", f"udp:[::1]:{port}")
    denying = Server("-q", "-l", "udp:127.0.0.1:0", "--deny", "127.0.0.1")
    data = os.urandom(3 << 20)
    rc, out, err = run_client("-u", f"[::1]:{port}", data=data)
    check(rc == 0 and out == data, f"3 MiB over UDP, paced, byte-exact: rc={rc} {len(out)} {err!r}")
    rc, out, err = run_client("-u", "127.0.0.1", str(port), data=b"line one\nline two\n")
    check(rc == 0 and out == b"line one\nline two\n", f"lines: {out!r} {err!r}")
    rc, out, err = run_client("-u", "-w", "1", "127.0.0.1", str(denying.port), data=b"dropped\n")
    check(rc == 1 and "0 of 1 datagrams came back (0 of 8 bytes)" in err, f"{rc} {err!r}")
    denying.stop()
    srv.stop()
    rc, out, err = run_client("-u", "-w", "1", "127.0.0.1", str(port), data=b"x")
    check(rc == 1 and "Connection refused" in err, f"nobody there: {err!r}")
    for args, msg in ((["-u", "--tls", "127.0.0.1"], "-u cannot go with --tls"),
                      (["-u", "unix:/tmp/x"], "-u cannot go with a unix: socket")):
        rc, out, err = run_client(*args)
        check(rc == 2 and msg in err, f"{args}: {err!r}")


def test_mpecho_bench_udp_checks_every_datagram_and_counts_the_dropped():
    port = free_port()
    srv = Server("-q", "-l", f"udp:127.0.0.1:{port}", "-l", "127.0.0.1:0", "--model", "prefork")

    def bench(*args):
        p = track(subprocess.Popen([binary("mpecho-bench"), "--json", "-q", *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE))
        out, err = p.communicate(timeout=60)
        return p.returncode, json.loads(out) if out.strip() else {}, err.decode()

    rc, r, err = bench("-c", "8", "-d", "0.5", "-w", "0.2", "udp", "127.0.0.1", str(port))
    check(rc == 0 and r["ops"] > 1000 and not any(r["errors"].values()), f"udp mode: {r} {err}")
    rc, r, err = bench("-c", "2", "-s", "9000", "-d", "0.3", "-w", "0", "udp", "127.0.0.1", str(port))
    check(rc == 0 and r["bytes"] > 0 and r["errors"]["corrupt"] == 0, f"9000-byte datagrams: {r}")
    srv.stop()
    srv = Server("-q", "-l", f"udp:127.0.0.1:{port}", "--udp-rate", "200")
    rc, r, err = bench("-c", "4", "-d", "1.5", "-w", "0", "-T", "0.2", "udp", "127.0.0.1", str(port))
    check(rc == 3 and r["errors"]["dropped"] > 0 and r["errors"]["corrupt"] == 0,
          f"a server that drops: counted, status 3: {r}")
    srv.stop()
    rc, r, err = bench("-d", "0.3", "udp", "127.0.0.1", str(port))
    check(rc == 3 and "no echo from 127.0.0.1 port" in err, f"nobody there: fails at once: {err!r}")
    for args, msg in ((["-s", "4", "udp"], "8 to 65507 bytes"), (["--tls", "udp"], "cannot go with --tls")):
        rc, r, err = bench(*args, "127.0.0.1", str(port))
        check(rc == 2 and msg in err, f"{args}: {err!r}")


def test_sighup_makes_the_udp_process_reopen_the_log_file_too():
    import tempfile
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "mpechod.log")
        srv = Server("--log", log, "-l", f"udp:127.0.0.1:{port}", ready=False)
        wait_until(lambda: os.path.exists(log) and "event=ready" in open(log).read(), 10, "ready")
        check(echo(("127.0.0.1", port), b"before")[0] == b"before", "echo")
        os.rename(log, log + ".1")
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: os.path.exists(log) and "event=reopen" in open(log).read(), 5, "the new file")
        check(echo(("127.0.0.1", port), b"after")[0] == b"after", "echo after the reopen")
        srv.proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: "event=udp-summary" in open(log).read(), 5,
                   "the UDP process's summary in the new file, not the renamed one")
        check("event=udp-summary" not in open(log + ".1").read(), "nothing more in the old file")
        check(srv.stop() == 0, "exit 0")


def test_udp_counters_in_metrics_never_go_back_across_a_restart():
    from test_metrics import promtool, samples, scrape
    port, mport = free_port(), free_port()
    srv = Server("-v", "-l", f"udp:127.0.0.1:{port}", "--metrics", f"127.0.0.1:{mport}")
    for i in range(5):
        check(echo(("127.0.0.1", port), b"x" * 100)[0] == b"x" * 100, "echo")
    echo(("127.0.0.1", port), b"loop?", bind=("127.0.0.1", 19))
    status, _, text = scrape(mport)
    promtool(text)
    m = samples(text)
    check(m["mpechod_udp_received_total"] == 6 and m["mpechod_udp_echoed_total"] == 5 and
          m["mpechod_udp_received_bytes_total"] == 505 and
          m['mpechod_udp_dropped_total{reason="port"}'] == 1, f"the counts: {m}")
    os.kill(udp_pid(srv), signal.SIGKILL)
    udp_pid(srv, count=2)
    check(echo(("127.0.0.1", port), b"again")[0] == b"again", "echo from the new process")
    m = samples(scrape(mport)[2])
    check(m["mpechod_udp_received_total"] == 7 and m["mpechod_udp_echoed_total"] == 6,
          f"the new process counts on from the old one's figures: {m}")
    srv.stop()


def test_udp_sockets_from_systemd_and_across_an_upgrade():
    import tempfile
    port = free_port()
    srv = Server("-v", "-l", f"udp:127.0.0.1:{port}", ready=False,
                 prefix=("systemd-socket-activate", "-d", "-l", f"127.0.0.1:{port}", "--fdname=dgram"))
    back = None
    for _ in range(50):   # the manager starts mpechod on the first datagram
        back, _ = echo(("127.0.0.1", port), b"activated")
        if back is not None:
            break
    check(back == b"activated", "the first datagram is echoed by the activated server")
    # The echo comes from the UDP process: the supervisor's lines may still be on their way.
    srv.wait_for(rf"event=listen addr=udp:127\.0\.0\.1:{port} fd=3 name=dgram$")
    check(srv.stop() == 0, "exit 0")
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "upgrade.sock")
        port = free_port()
        old = Server("-l", f"udp:127.0.0.1:{port}", "-l", "127.0.0.1:0", "--upgrade-socket", sock)
        new = Server("-l", f"udp:127.0.0.1:{port}", "--upgrade-socket", sock)
        check(old.wait_exit() == 0, "the old server hands over and exits")
        check(echo(("127.0.0.1", port), b"after")[0] == b"after", "the successor echoes on the UDP port")
        check(new.stop() == 0, "exit 0")
