"""Socket options (mpechod -l ADDR:PORT,OPT, mpecho -O, mpecho-bench -O), each shown by what it
does, in network namespaces the tests make: ss on the accepted socket (the keepalive timer, the
buffers in skmem, the fwmark, the segment size), iptables counters on the wire (tos, mark), a
peer that vanishes (keepalive and user-timeout drop it), a veth pair to a second namespace
(device, mss, and TPROXY for transparent), an address not configured yet (freebind), the
kernel's TCP Fast Open counters (fastopen); and the errors: refused by the kernel, status 1;
one that cannot take effect, status 2."""
import os
import re
import socket
import subprocess
import tempfile

from harness import (OWN_PORT, Server, binary, check, connect_when_up, own_network, run_server_once,
                     track, wait_until)


def ns_server(*args, setup=()):
    """mpechod in a network namespace of its own, set up by these commands first: (server, the
    nsenter prefix that runs a command in its namespace)."""
    script = " && ".join(("ip link set lo up", *setup)) + ' && exec "$@"'
    srv = Server(*args, prefix=("unshare", "-n", "sh", "-c", script, "sh"))
    return srv, ("nsenter", "-t", str(srv.pid), "-n")


def sh(ns, command):
    return subprocess.run([*ns, "sh", "-c", command], capture_output=True, text=True, timeout=30,
                          check=True).stdout


HOLD = ("import socket, sys, time\n"
        "s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
        "s.sendall(b'x'); assert s.recv(1) == b'x'\n"
        "print(s.getsockname()[1], flush=True)\n"
        "sys.stdin.readline(); s.sendall(b'y'); time.sleep(60)")


def hold(ns, host, port):
    """A client in ns that connects, has a byte echoed and holds the connection; a line on its
    stdin makes it send one more byte: (process, its local port)."""
    proc = track(subprocess.Popen([*ns, "python3", "-c", HOLD, host, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True))
    return proc, int(proc.stdout.readline())


def ss(ns, local, peer, flags="-tieom"):
    """ss's line (both of its lines, joined) for the connection from port local to port peer."""
    out = sh(ns, f"ss {flags}nH state established '( sport = :{local} and dport = :{peer} )'")
    check(out.strip(), f"ss shows the connection :{local} -> :{peer}")
    return " ".join(out.split())


def keepalive_seconds(line):
    """The keepalive timer ss shows, in seconds, or None."""
    m = re.search(r"timer:\(keepalive,([\d.]+)(ms|sec|min|h)?", line)
    if m is None:
        return None
    return float(m.group(1)) * {"ms": 0.001, "sec": 1, "min": 60, "h": 3600, None: 1}[m.group(2)]


def counted(ns, rule, tool="iptables"):
    """Packets counted by the rule in OUTPUT (its match text) in ns."""
    out = sh(ns, f"{tool} -L OUTPUT -v -x -n")
    for line in out.splitlines():
        if rule in line:
            return int(line.split()[0])
    raise AssertionError(f"no rule with {rule!r} in:\n{out}")


def client(ns, *args, data=b"hello\n", timeout=30):
    return subprocess.run([*ns, binary("mpecho"), *args], input=data, capture_output=True, timeout=timeout)


def test_listener_options_are_on_every_accepted_socket_and_on_the_wire():
    srv, ns = ns_server("-l", "127.0.0.1:7,keepalive=5:2:3,rcvbuf=30000,sndbuf=50000,mark=7,tos=ef,"
                        "mss=1000", "-l", "127.0.0.1:8", setup=(
                            "iptables -A OUTPUT -p tcp --sport 7 -m mark --mark 0x7",
                            "iptables -A OUTPUT -p tcp --sport 7 -m dscp --dscp 0x2e"))
    for port, opts in ((7, True), (8, False)):
        proc, mine = hold(ns, "127.0.0.1", port)
        theirs, ours = ss(ns, port, mine), ss(ns, mine, port)
        secs = keepalive_seconds(theirs)
        if opts:
            check(secs is not None and secs <= 5, f"keepalive=5: a probe within 5 s: {theirs}")
            check("rb60000," in theirs and "tb100000," in theirs,
                  f"rcvbuf=30000, sndbuf=50000: the kernel's doubled sizes in skmem: {theirs}")
            check("fwmark:0x7 " in theirs, f"mark=7: ss shows the fwmark: {theirs}")
            advmss = int(re.search(r" advmss:(\d+)", theirs).group(1))
            mss = int(re.search(r" mss:(\d+)", ours).group(1))
            check(advmss <= 1000 and mss <= 1000, f"mss=1000: announced {advmss}, the client sends "
                  f"{mss}")
        else:  # the listener beside it, without: the system's own
            check(secs is None and "fwmark" not in theirs and "rb60000," not in theirs and
                  int(re.search(r" mss:(\d+)", ours).group(1)) > 1000, f"no options, none: {theirs}")
        proc.kill()
        proc.wait(10)
    check(counted(ns, "mark match 0x7") > 0, "mark=7: the packets carry it")
    check(counted(ns, "DSCP match 0x2e") > 0, "tos=ef: the packets carry DSCP 46")
    check(srv.stop() == 0, "exit 0")



def test_tos_on_ipv6_is_the_traffic_class_and_both_on_the_dual_stack_socket():
    srv, ns = ns_server("-l", "[::1]:9,tos=af41", "-l", ":10,tos=cs1", setup=(
        "ip6tables -A OUTPUT -p tcp --sport 9 -m dscp --dscp 0x22",
        "ip6tables -A OUTPUT -p tcp --sport 10 -m dscp --dscp 0x08",
        "iptables -A OUTPUT -p tcp --sport 10 -m dscp --dscp 0x08"))
    for host, port in (("::1", 9), ("::1", 10), ("127.0.0.1", 10)):
        proc, _ = hold(ns, host, port)
        proc.kill()
        proc.wait(10)
    for tool, rule, what in (("ip6tables", "DSCP match 0x22", "[::1]:9,tos=af41: IPV6_TCLASS"),
                             ("ip6tables", "DSCP match 0x08", ":10,tos=cs1 over IPv6"),
                             ("iptables", "DSCP match 0x08", ":10,tos=cs1 over IPv4 (dual-stack)")):
        check(counted(ns, rule, tool) > 0, f"{what}: the packets carry it")
    check(srv.stop() == 0, "exit 0")

def test_keepalive_and_user_timeout_drop_a_peer_that_vanished():
    srv, ns = ns_server("-l", "127.0.0.1:7,keepalive=1:1:2", "-l", "127.0.0.1:8,user-timeout=1500")
    # keepalive: the peer's answers to the probes are lost; 1 s, then 2 probes 1 s apart.
    proc, mine = hold(ns, "127.0.0.1", 7)
    sh(ns, f"iptables -I INPUT -p tcp --sport {mine} --dport 7 -j DROP")
    line = srv.wait_for(rf"event=end peer=127\.0\.0\.1:{mine} ", timeout=7)[0]
    check("reason=" in line, f"keepalive=1:1:2 ended the session of the silent peer: {line}")
    # user-timeout: what the server sends is never acknowledged; after 1.5 s it gives up.
    proc2, mine2 = hold(ns, "127.0.0.1", 8)
    sh(ns, f"iptables -I OUTPUT -p tcp --sport 8 --dport {mine2} -j DROP")
    proc2.stdin.write("go\n")
    proc2.stdin.flush()
    line = srv.wait_for(rf"event=end peer=127\.0\.0\.1:{mine2} ", timeout=7)[0]
    check("reason=" in line, f"user-timeout=1500 ended the session whose echo went unacknowledged: {line}")
    for p in (proc, proc2):
        p.kill()
        p.wait(10)
    check(srv.stop() == 0, "exit 0")


def peer_namespace():
    """A second network namespace, held by a process of its own: (process, nsenter prefix)."""
    proc = track(subprocess.Popen(["unshare", "-n", "sleep", "120"]))
    home = os.readlink("/proc/self/ns/net")
    wait_until(lambda: os.readlink(f"/proc/{proc.pid}/ns/net") != home, 10, "the peer's namespace")
    return proc, ("nsenter", "-t", str(proc.pid), "-n")


def test_over_veth_pairs_device_mss_and_transparent_take_effect():
    peer, pns = peer_namespace()
    # Two veth pairs to the peer: v0-v1 (10.77.0.0/24) and v2-v3 (10.78.0.0/24); TPROXY
    # diverts 198.51.100.9:80, an address no one has, to the ,transparent listener.
    srv, ns = ns_server(
        "-l", "0.0.0.0:7,device=v0,mss=1000", "-l", "0.0.0.0:8", "-l", "10.77.0.1:9,transparent",
        setup=("ip link add v0 type veth peer name v1", f"ip link set v1 netns {peer.pid}",
               "ip link add v2 type veth peer name v3", f"ip link set v3 netns {peer.pid}",
               "ip addr add 10.77.0.1/24 dev v0", "ip link set v0 up",
               "ip addr add 10.78.0.1/24 dev v2", "ip link set v2 up",
               "ip rule add fwmark 1 lookup 100", "ip route add local 0.0.0.0/0 dev lo table 100",
               "iptables -t mangle -A PREROUTING -i v0 -p tcp -d 198.51.100.9 --dport 80 -j TPROXY "
               "--on-ip 10.77.0.1 --on-port 9 --tproxy-mark 1"))
    sh(pns, "ip link set lo up && ip addr add 10.77.0.2/24 dev v1 && ip link set v1 up && "
       "ip addr add 10.78.0.2/24 dev v3 && ip link set v3 up && "
       "ip route add 198.51.100.0/24 via 10.77.0.1")
    out = client(pns, "-w", "5", "10.77.0.1:7")
    check(out.returncode == 0 and out.stdout == b"hello\n", f"device=v0: served through v0 ({out})")
    out = client(pns, "-w", "5", "10.78.0.1:7")
    check(out.returncode == 1 and b"Connection refused" in out.stderr,
          f"device=v0: a connection through v2 is not let in ({out.returncode}, {out.stderr!r})")
    out = client(pns, "-w", "5", "10.78.0.1:8")
    check(out.returncode == 0, f"the listener beside it, without device=, takes it ({out})")
    for port, most in ((7, 1000), (8, 1460)):
        proc, mine = hold(pns, "10.77.0.1", port)
        mss = int(re.search(r" mss:(\d+)", ss(pns, mine, port)).group(1))
        check(mss <= most and (port == 7 or mss > 1000), f"port {port}: the client sends segments of "
              f"{mss} bytes (mss=1000 on 7, the veth's 1448 on 8)")
        proc.kill()
        proc.wait(10)
    out = client(pns, "-w", "5", "198.51.100.9:80")
    check(out.returncode == 0 and out.stdout == b"hello\n", f"transparent: a connection to an address "
          f"this host does not have, diverted by TPROXY, is served ({out})")
    srv.wait_for(r"event=connect peer=10\.77\.0\.2:\d+ .*")
    check(srv.stop() == 0, "exit 0")
    peer.kill()
    peer.wait(10)


def test_freebind_binds_an_address_not_configured_yet():
    out = run_server_once("-l", "10.66.0.1:7", prefix=("unshare", "-n", "sh", "-c",
                                                       'ip link set lo up && exec "$@"', "sh"))
    check(out[0] == 1 and "Cannot assign requested address" in out[1], f"without freebind: {out}")
    srv, ns = ns_server("-l", "10.66.0.1:7,freebind")
    sh(ns, "ip addr add 10.66.0.1/32 dev lo")
    out = client(ns, "-w", "5", "10.66.0.1:7")
    check(out.returncode == 0 and out.stdout == b"hello\n", f"served once the address is there ({out})")
    check(srv.stop() == 0, "exit 0")


def nstat(ns, name):
    out = sh(ns, f"nstat -az {name}")
    m = re.search(rf"^{name}\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else 0


def test_fastopen_data_comes_with_the_syn_both_ways():
    srv, ns = ns_server("-l", "127.0.0.1:7,fastopen=16", setup=("sysctl -qw net.ipv4.tcp_fastopen=3",))
    for _ in range(3):  # the first gets a cookie; the next send their bytes with the SYN
        out = client(ns, "-O", "fastopen", "127.0.0.1:7")
        check(out.returncode == 0 and out.stdout == b"hello\n", f"mpecho -O fastopen is served ({out})")
    passive, active = nstat(ns, "TcpExtTCPFastOpenPassive"), nstat(ns, "TcpExtTCPFastOpenActive")
    check(passive >= 2 and active >= 2, f"fastopen=16 took data with the SYN ({passive}) and mpecho "
          f"-O fastopen sent it ({active})")
    check(srv.stop() == 0, "exit 0")


def test_a_udp_listener_takes_the_udp_ones():
    srv, ns = ns_server("-l", "udp:127.0.0.1:7,rcvbuf=30000,mark=5,tos=cs1", setup=(
        "iptables -A OUTPUT -p udp --sport 7 -m mark --mark 0x5",
        "iptables -A OUTPUT -p udp --sport 7 -m dscp --dscp 0x08"))
    out = client(ns, "-u", "-w", "5", "127.0.0.1:7")
    check(out.returncode == 0 and out.stdout == b"hello\n", f"the datagram is echoed ({out})")
    line = " ".join(sh(ns, "ss -uamenH 'sport = :7'").split())
    check("rb60000," in line and "fwmark:0x5" in line, f"rcvbuf=30000 and mark=5 on the socket: {line}")
    check(counted(ns, "mark match 0x5") > 0 and
          counted(ns, "DSCP match 0x08") > 0, "the echo carries mark 5 and cs1")
    check(srv.stop() == 0, "exit 0")


def test_the_clients_set_them_on_their_own_sockets():
    srv, ns = ns_server("-l", "127.0.0.1:7", "-l", "udp:127.0.0.1:7", setup=(
        "iptables -A OUTPUT -p tcp --dport 7 -m mark --mark 0x9",
        "iptables -A OUTPUT -p tcp --dport 7 -m dscp --dscp 0x0a",
        "iptables -A OUTPUT -p tcp --dport 7 -m mark --mark 0xb",
        "iptables -A OUTPUT -p udp --dport 7 -m mark --mark 0xc"))
    proc = track(subprocess.Popen([*ns, binary("mpecho"), "-O", "keepalive=5:2:3,rcvbuf=30000",
                                   "-O", "mark=9,tos=af11", "127.0.0.1:7"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    proc.stdin.write(b"x")
    proc.stdin.flush()
    check(proc.stdout.read(1) == b"x", "mpecho -O is served")
    line = " ".join(sh(ns, "ss -tieomnH state established '( dport = :7 )'").split())
    secs = keepalive_seconds(line)
    check(secs is not None and secs <= 5 and "rb60000," in line and "fwmark:0x9 " in line,
          f"mpecho -O keepalive=5:2:3,rcvbuf=30000,mark=9: on its socket: {line}")
    proc.stdin.close()
    check(proc.wait(10) == 0, "mpecho exits 0")
    check(counted(ns, "mark match 0x9") > 0 and
          counted(ns, "DSCP match 0x0a") > 0, "its packets carry mark 9 and af11")
    run = subprocess.run([*ns, binary("mpecho-bench"), "-q", "-O", "mark=11", "-d", "0.5", "-w", "0",
                          "-c", "2", "pingpong", "127.0.0.1", "7"], capture_output=True, timeout=60)
    check(run.returncode == 0 and counted(ns, "mark match 0xb") > 0,
          f"mpecho-bench -O mark=11: its packets carry it ({run.returncode}, {run.stderr!r})")
    out = client(ns, "-u", "-O", "mark=12", "-w", "5", "127.0.0.1:7")
    check(out.returncode == 0 and counted(ns, "mark match 0xc") > 0,
          f"mpecho -u -O mark=12: its datagrams carry it ({out})")
    check(srv.stop() == 0, "exit 0")


def test_a_socket_handed_over_gets_the_options_of_its_l():
    with own_network():
        p = OWN_PORT  # the manager binds it: in a network namespace of the test's own
        srv = Server("-l", f"127.0.0.1:{p},keepalive=5:2:3,mark=7", ready=False,
                     prefix=("systemd-socket-activate", "-l", f"127.0.0.1:{p}"))
        first = connect_when_up(p)
        srv.wait_for(r"event=ready")
        listening = " ".join(subprocess.run(["ss", "-ltenH", f"sport = :{p}"], capture_output=True,
                                            text=True, check=True).stdout.split())
        check("fwmark:0x7 " in listening, f"mark=7 is set on the socket handed over: {listening}")
        first.sendall(b"x")
        check(first.recv(1) == b"x", "served")
        line = ss((), p, first.getsockname()[1])
        secs = keepalive_seconds(line)
        check(secs is not None and secs <= 5 and "fwmark:0x7 " in line,
              f"keepalive=5:2:3 and mark=7 reach the accepted socket: {line}")
        first.close()
        check(srv.stop() == 0, "exit 0")
        srv = Server("-l", f"127.0.0.1:{p},freebind", ready=False,
                     prefix=("systemd-socket-activate", "-l", f"127.0.0.1:{p}"))
        try:  # the first connection starts mpechod, which refuses the socket and closes it
            first = connect_when_up(p)
        except ConnectionResetError:  # reset so before a loaded client saw its connect() done
            first = None
        check(srv.wait_exit() == 2, "freebind on a socket bound already: status 2")
        if first is not None:
            first.close()
        check(any("socket option freebind cannot take effect on a TCP socket handed over" in l
                  for l in srv.lines), f"it says why: {srv.lines}")


def test_a_datagram_socket_handed_over_gets_the_options_of_its_udp_l():
    with own_network():
        p = OWN_PORT  # the manager binds it: in a network namespace of the test's own
        srv = Server("-l", f"udp:127.0.0.1:{p},mark=5,rcvbuf=30000", ready=False,
                     prefix=("systemd-socket-activate", "-d", "-l", f"127.0.0.1:{p}"))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        wait_until(lambda: s.sendto(b"x", ("127.0.0.1", p)) and srv.matching(r"event=ready"), 10,
                   "a datagram to start mpechod")  # sent again until the manager has bound
        line = " ".join(subprocess.run(["ss", "-uamenH", f"sport = :{p}"], capture_output=True,
                                       text=True, check=True).stdout.split())
        check("fwmark:0x5 " in line and "rb60000," in line, f"mark=5, rcvbuf=30000 on it: {line}")
        s.close()
        check(srv.stop() == 0, "exit 0")


def test_an_option_the_kernel_refuses_is_one_line_at_start_and_nothing_is_left():
    for args, status, says in (
            (["-l", "127.0.0.1:0,device=nope"], 1,
             "cannot listen on 127.0.0.1:0: device=nope: No such device"),
            (["-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0,device=nope"], 1,
             "cannot listen on udp:127.0.0.1:0: device=nope: No such device"),
            (["-l", "udp:127.0.0.1:0,keepalive"], 2,
             "socket option keepalive cannot take effect on a udp: listener: it is a TCP option"),
            (["-l", "127.0.0.1:0,mss=10"], 2, "invalid socket option 'mss=10'")):
        rc, err = run_server_once(*args)
        lines = [l for l in err.splitlines() if l.startswith("mpechod:")]
        check(rc == status and len(lines) == 1 and says in lines[0], f"{args}: {rc} {err!r}")
    with tempfile.TemporaryDirectory() as d:  # a socket file bound before the refusal goes too
        rc, err = run_server_once("-l", f"unix:{d}/echo.sock", "-l", "127.0.0.1:0,device=nope")
        check(rc == 1 and "device=nope: No such device" in err and os.listdir(d) == [],
              f"nothing left behind: {rc} {err!r} {os.listdir(d)}")
        rc, err = run_server_once("-l", f"unix:{d}/echo.sock,mark=5")
        check(rc == 2 and "socket option mark=5 cannot take effect on a unix: listener" in err, err)
    out = subprocess.run([binary("mpecho"), "-O", "device=nope", "127.0.0.1:9"], capture_output=True,
                         text=True, timeout=10)
    check(out.returncode == 1 and out.stderr == "mpecho: cannot connect to 127.0.0.1 (-O device=nope: "
          "No such device)\n", f"mpecho: {out}")
    out = subprocess.run([binary("mpecho-bench"), "-O", "device=nope", "pingpong", "127.0.0.1", "9"],
                         capture_output=True, text=True, timeout=10)
    check(out.returncode == 4 and "(-O device=nope: No such device)" in out.stderr, f"mpecho-bench: {out}")
