"""A bad network, in a namespace the test makes: packets dropped and reordered at random.

The kernel here has no netem; the faults are made with what it has. Drops: iptables'
statistic match. Reordering: a second, slow HTB class on lo that iptables' CLASSIFY sends
a random share of packets through, so they arrive after packets sent later. The kernel's
own counters (nstat) show both happened.
"""
import json
import os
import re
import signal
import subprocess

from harness import Server, binary, check, track

NETWORK = " && ".join([
    "ip link set lo up",
    "tc qdisc add dev lo root handle 1: htb default 10",
    "tc class add dev lo parent 1: classid 1:10 htb rate 10gbit",
    "tc class add dev lo parent 1: classid 1:20 htb rate 20mbit ceil 20mbit",
    "iptables -t mangle -A POSTROUTING -o lo -m statistic --mode random --probability 0.1 "
    "-j CLASSIFY --set-class 1:20",
    "iptables -A INPUT -p tcp -m statistic --mode random --probability 0.03 -j DROP",
])


def counters(ns):
    out = subprocess.run([*ns, "nstat", "-az", "--json"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["kernel"]


def test_lossy_reordering_network_echo_stays_exact_and_a_vanished_peer_times_out():
    srv = Server("-l", "127.0.0.1:7", "--idle-timeout", "3",
                 prefix=("unshare", "-n", "sh", "-c", NETWORK + ' && exec "$@"', "sh"))
    ns = ("nsenter", "-t", str(srv.pid), "-n")
    data = os.urandom(4 << 20)
    out = subprocess.run([*ns, binary("mpecho"), "127.0.0.1:7"], input=data, capture_output=True,
                         timeout=120)
    check(out.returncode == 0 and out.stdout == data,
          f"4 MiB through the bad network, byte-exact (status {out.returncode}, "
          f"{len(out.stdout)} bytes back, {out.stderr!r})")
    runs = [(mode, track(subprocess.Popen(  # the two at once: each waits out -d, not the CPU
        [*ns, binary("mpecho-bench"), "--json", "-q", "-d", "3", "-w", "0", "-T", "20", *mode,
         "127.0.0.1", "7"], stdout=subprocess.PIPE, text=True)))
        for mode in (["pingpong", "-c", "8"], ["connrate", "-c", "8"])]
    for mode, run in runs:
        r = json.loads(run.communicate(timeout=90)[0])
        check(run.returncode == 0 and r["ops"] > 0 and not any(r["errors"].values()),
              f"{mode[0]}: every message echoed exactly, no error: {r['ops']} {r['errors']}")
    k = counters(ns)
    drops = subprocess.run([*ns, "iptables", "-L", "INPUT", "-v", "-x", "-n"], capture_output=True,
                           text=True, check=True).stdout
    dropped = int(re.search(r"^\s*(\d+)\s+\d+\s+DROP", drops, re.M).group(1))
    check(dropped > 0 and k["TcpRetransSegs"] > 0, f"packets were dropped ({dropped}) and resent "
          f"({k['TcpRetransSegs']})")
    check(k["TcpExtTCPOFOQueue"] > 0, f"segments arrived out of order ({k['TcpExtTCPOFOQueue']})")

    # A peer that vanishes without a word: its packets, its FIN and its RST are all dropped.
    holder = track(subprocess.Popen(
        [*ns, "python3", "-c", "import socket, sys, time\n"
         "s = socket.create_connection(('127.0.0.1', 7))\n"
         "s.sendall(b'x'); assert s.recv(1) == b'x'\n"
         "print(s.getsockname()[1], flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True))
    port = int(holder.stdout.readline())
    # The loads above may have used the same client port already: their end lines do not count.
    before = len(srv.matching(rf"event=end peer=127.0.0.1:{port} "))
    for chain, way in (("INPUT", "--sport"), ("INPUT", "--dport")):
        subprocess.run([*ns, "iptables", "-I", chain, "-p", "tcp", way, str(port), "-j", "DROP"],
                       check=True)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    line = srv.wait_for(rf"event=end peer=127.0.0.1:{port} ", count=before + 1, timeout=15)[-1]
    check("reason=idle" in line, f"the vanished peer's session ended by the idle timeout: {line}")
    check(srv.stop() == 0, "server exits 0")
