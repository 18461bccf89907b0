"""UDP listeners (-l udp:ADDR:PORT): datagrams echoed whole from the address they came to, by a
process of its own in both models; the reflection and loop guards (service ports, mpechod's own
ports, sources that repeat like a loop, access rules, a rate per source that a flood of forged
sources cannot refill) and the summary line; the UDP process restarted and stopped with the
server; mpecho -u and mpecho-bench udp.

Servers listen on port 0 and the tests read the port from the listen line: a port found free
and handed on could be taken in between, by a test running beside this one."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

from harness import (OWN_PORT, Server, binary, check, own_network, run_client, run_server_once, track,
                     wait_for_file, wait_until)


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


def udp_port(srv):
    """The port of the server's first udp: listener, from its listen line."""
    line = srv.wait_for(r"event=listen addr=udp:")[0]
    return int(re.search(r"addr=udp:\S*:(\d+)", line).group(1))


def forge(src, dst, payload):
    """One UDP datagram with any IPv4 source (a raw socket: the tests run as root)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload   # no checksum
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src[0]), socket.inet_aton(dst[0]))       # the kernel sums it
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
        raw.sendto(ip + udp, (dst[0], 0))


def udp_pid(srv, count=1):
    return int(re.search(r"pid=(\d+)", srv.wait_for(r"event=udp-start ", count=count)[count - 1]).group(1))


def test_datagrams_come_back_whole_from_the_address_they_came_to_in_every_model():
    for model in ("fork", "prefork", "loop"):
        srv = Server("-v", "--model", model, "-l", "udp::0", "-l", "127.0.0.1:0")
        port = udp_port(srv)
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
    srv = Server("-l", "udp:127.0.0.1:0", "--deny", "127.0.0.3", "--udp-rate", "20")
    target = ("127.0.0.1", udp_port(srv))
    for src in (7, 13, 19, 53, 123):    # an echo to chargen's port is CVE-1999-0103's loop
        back, _ = echo(target, b"loop?", bind=("127.0.0.1", src))
        check(back is None, f"nothing goes back to port {src}")
    back, _ = echo(target, b"denied", bind=("127.0.0.3", 0))
    check(back is None, "--deny holds for datagrams")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        s.bind(("127.0.0.4", 0))
        t0 = time.monotonic()
        for i in range(100):
            s.sendto(b"%d" % i, target)
        took = time.monotonic() - t0
        got = 0
        try:
            while True:
                s.recvfrom(100)
                got += 1
        except socket.timeout:
            pass
    # The bucket holds 20 and refills 20 a second while the burst is being sent (slowly, on a
    # loaded machine or the sanitizer build): the bound follows how long the sending took.
    check(20 <= got <= 20 + int(20 * took) + 1,
          f"--udp-rate 20: a burst of 100 sent in {took:.3f} s gets 20 back, and the refill ({got})")
    back, _ = echo(target, b"another source", bind=("127.0.0.5", 0))
    check(back == b"another source", "the rate is per source")
    srv.proc.send_signal(signal.SIGUSR1)
    s = summary(srv, "status")
    check(s["dropped_port"] == 5 and s["dropped_acl"] == 1 and s["dropped_rate"] == 100 - got and
          s["echoed"] == got + 1 and s["received"] == 107, f"dropped by reason: {s}")
    check(len(srv.matching(r"event=")) < 12, "no line per datagram")
    srv.stop()


def test_the_udp_process_is_restarted_runs_as_the_user_and_stops_with_the_server():
    check(os.geteuid() == 0, "the tests run as root (they start servers with -u)")
    srv = Server("-v", "-l", "udp:127.0.0.1:0", "-l", "127.0.0.1:0", "--grace", "30", "-u", "nobody")
    port = udp_port(srv)
    pid = udp_pid(srv)
    # udp-start is logged just after the fork, before the process drops its privileges: its
    # credentials are read once it has served, when they are what it serves with.
    check(echo(("127.0.0.1", port), b"one")[0] == b"one", "echo")
    uids = open(f"/proc/{pid}/status").read().split("Uid:")[1].split()[:4]
    nobody = str(__import__("pwd").getpwnam("nobody").pw_uid)
    check(uids == [nobody] * 4, f"the UDP process runs as nobody: real, effective, saved, fs {uids}")
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
    for args, status, msg in (
            (["-l", "udp:127.0.0.1"], 2, "expected udp:HOST:PORT"),
            (["-l", "udp:127.0.0.1:7,tls"], 2, "a udp: listener takes socket options only"),
            (["-l", "udp:127.0.0.1:99999"], 2, "invalid port '99999'"),
            (["-l", "127.0.0.1:0", "--udp-rate", "5"], 2,
             "--udp-rate cannot take effect: it needs a udp: listener"),
            (["-l", "udp:127.0.0.1:0", "--model", "prefork"], 2,
             "--model cannot take effect: it needs a stream listener"),
            (["-l", "udp:192.0.2.1:7"], 1, "cannot listen on udp:192.0.2.1:7: ")):
        rc, err = run_server_once(*args)
        check(rc == status and msg in err and err.count("\n") == 1, f"{args}: {rc} {err!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        rc, err = run_server_once("-l", f"udp:127.0.0.1:{port}")
        check(rc == 1 and "Address already in use" in err, err)


def test_mpecho_u_is_byte_exact_and_says_what_did_not_come_back():
    srv = Server("-q", "-l", "udp::0")   # dual-stack: 127.0.0.1 and ::1 on one port
    port = udp_port(srv)
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
    srv = Server("-q", "-l", "udp:127.0.0.1:0", "-l", "127.0.0.1:0", "--model", "prefork")
    port = udp_port(srv)

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
    srv = Server("-q", "-l", "udp:127.0.0.1:0", "--udp-rate", "200")
    port = udp_port(srv)
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
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "mpechod.log")
        srv = Server("--log", log, "-l", "udp:127.0.0.1:0", ready=False)
        text = wait_for_file(log, r"event=ready")
        port = int(re.search(r"event=listen addr=udp:127\.0\.0\.1:(\d+)", text).group(1))
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
    srv = Server("-v", "-l", "udp:127.0.0.1:0", "--metrics", "127.0.0.1:0")
    mport = srv.endpoint("metrics")[1]
    port = udp_port(srv)
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
    # systemd-socket-activate binds the port itself: in a network namespace of the test's own
    with own_network():
        port = OWN_PORT
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
        old = Server("-l", "udp:127.0.0.1:0", "-l", "127.0.0.1:0", "--upgrade-socket", sock)
        port = udp_port(old)
        new = Server("-l", f"udp:127.0.0.1:{port}", "--upgrade-socket", sock)
        check(old.wait_exit() == 0, "the old server hands over and exits")
        check(echo(("127.0.0.1", port), b"after")[0] == b"after", "the successor echoes on the UDP port")
        check(new.stop() == 0, "exit 0")


def test_a_datagram_from_its_own_port_is_never_answered():
    """Issue 24, defect 2: a datagram whose source is the server's own address and port was
    echoed to itself for ever (about 440,000 a second, one CPU); one from another instance on
    the same port bounced between the two. Any source on a port mpechod listens on is dropped."""
    srv = Server("-l", "udp:127.0.0.1:0", "-l", "127.0.0.1:0")
    port, tcp = udp_port(srv), srv.port
    other = Server("-l", f"udp:127.0.0.2:{port}")            # a fleet on one port
    forge(("127.0.0.1", port), ("127.0.0.1", port), b"to myself")
    forge(("127.0.0.2", port), ("127.0.0.1", port), b"between two")
    forge(("127.0.0.3", tcp), ("127.0.0.1", port), b"from its TCP port")
    check(echo(("127.0.0.1", port), b"still here")[0] == b"still here", "it serves on")
    time.sleep(0.5)   # a loop would have gone round tens of thousands of times by now
    for s in (srv, other):
        s.proc.send_signal(signal.SIGUSR1)
    mine, theirs = summary(srv, "status"), summary(other, "status")
    check(mine["received"] == 4 and mine["dropped_port"] == 3 and mine["echoed"] == 1,
          f"three forged datagrams dropped, none answered: {mine}")
    check(theirs["received"] == 0, f"nothing reached the other instance: {theirs}")
    check(srv.stop() == 0 and other.stop() == 0, "exit 0")


def test_a_loop_through_another_echo_is_found_and_muted():
    """An echo on a port nobody listed (another RFC 862 server) and a datagram forged from it:
    each answers the other for ever. The same datagram coming back from one source, at once,
    UDP_GUARD_REPEATS (1000) times in a row is a loop: the source is muted, which ends it."""
    srv = Server("-l", "udp:127.0.0.1:0")
    port = udp_port(srv)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # the other echo server
    peer.bind(("127.0.0.5", 0))
    peer.settimeout(1.0)
    bounced = [0]

    def other_echo():
        try:
            while bounced[0] < 100000:      # bounded: a loop not broken ends here
                data, frm = peer.recvfrom(2048)
                bounced[0] += 1
                peer.sendto(data, frm)
        except (socket.timeout, OSError):
            pass                              # quiet for a second: the loop is over

    t = threading.Thread(target=other_echo)
    t.start()
    forge(peer.getsockname(), ("127.0.0.1", port), b"round and round")
    t.join(60)
    peer.close()
    line = srv.wait_for(r"event=udp-loop ")[0]
    check(f"peer=127.0.0.5:{peer_port(line)}" in line and "repeats=1000 action=muted secs=60" in line,
          line)
    # A repeat later than 10 ms (the other echo descheduled) starts the count again, so the
    # loop may take more than 1,000 rounds to be found; never found, it runs to the bound.
    check(1000 <= bounced[0] < 100000, f"the loop ended once found: {bounced[0]} rounds")
    srv.proc.send_signal(signal.SIGUSR1)
    s = summary(srv, "status")
    check(s["dropped_loop"] == 1 and s["echoed"] == bounced[0], f"counted as a loop: {s}")
    check(srv.stop() == 0, "exit 0")


def peer_port(line):
    return re.search(r"peer=127\.0\.0\.5:(\d+)", line).group(1)


def test_udp_rate_holds_under_a_flood_of_forged_sources():
    """Issue 24, defect 6: when the table of sources filled, every idle entry was dropped, so a
    flood of forged sources handed the limited source a full bucket again. 100,000 forged
    sources fill the UDP process's table (9,216) about ten times; the limited source, asking
    all along, gets no more than its own refill."""
    srv = Server("-l", "udp:127.0.0.1:0", "--udp-rate", "1")
    target = ("127.0.0.1", udp_port(srv))
    me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    me.bind(("127.0.0.6", 0))
    me.settimeout(2)
    me.sendto(b"first", target)
    check(me.recvfrom(100)[0] == b"first", "its one token")
    udp_hdr = struct.pack("!HHHH", 40000, target[1], 9, 0) + b"f"
    flood = [struct.pack("!BBHHHBBH4s4s", 0x45, 0, 29, 0, 0, 64, 17, 0,
                         socket.inet_aton("127.%d.%d.%d" % (100 + (i >> 16), (i >> 8) & 255, i & 255)),
                         socket.inet_aton(target[0])) + udp_hdr for i in range(100000)]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
        t0 = time.monotonic()
        for i, packet in enumerate(flood):
            raw.sendto(packet, (target[0], 0))
            if i % 1000 == 999:
                me.sendto(b"again", target)
    took = time.monotonic() - t0
    me.settimeout(0.5)
    got = 0
    try:
        while True:
            me.recvfrom(100)
            got += 1
    except socket.timeout:
        pass
    me.close()
    srv.proc.send_signal(signal.SIGUSR1)
    s = summary(srv, "status")
    check(s["received"] > 30000, f"the flood reached the server: {s}")
    # Its bucket (1 token, 1 a second) was emptied just before the flood: the flood's time
    # refills it int(took) times, and once more for the moments before t0 and after the end.
    check(got <= int(took) + 1, f"1 a second: {got} echoes to the limited source over {took:.2f} s "
          f"of flood (its refill allows {int(took) + 1}); {s}")
    check(srv.stop() == 0, "exit 0")
