"""/status.json, the live status page's figures: every field against what the test did and
against /metrics read at the same moment; the busiest sources, the pool, UDP, the ring of
samples and ?since=; the same limits as /metrics (--metrics-allow, strict queries)."""
import json
import os
import re
import socket
import subprocess

from harness import Server, check, closed_from, connect, half_close_echo, wait_until


def metrics_port(srv):
    """The --metrics listener's port (asked for as port 0): the TCP listener not in its listen lines."""
    inodes = {}
    for fd in os.listdir(f"/proc/{srv.pid}/fd"):
        try:
            link = os.readlink(f"/proc/{srv.pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes[link[8:-1]] = fd
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in open(table).read().splitlines()[1:]:
            f = row.split()
            if f[3] == "0A" and f[9] in inodes:
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    ports -= {a[1] for a in srv.addrs}
    check(len(ports) == 1, f"one listener besides the echo ones: {ports}")
    return ports.pop()


def get(port, path, headers=(), source="127.0.0.1"):
    """(status, headers text, body bytes) of one GET over a raw socket."""
    with socket.socket() as s:
        s.settimeout(10)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{''.join(h + chr(13) + chr(10) for h in headers)}"
                  "\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head.decode(), body


def status(port, query=""):
    code, head, body = get(port, "/status.json" + query)
    check(code == 200 and "Content-Type: application/json" in head and "no-store" in head,
          f"/status.json: {code} {head}")
    return json.loads(body)


def prometheus(port):
    code, _, body = get(port, "/metrics")
    check(code == 200, f"/metrics: {code}")
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^(mpechod_\S+) (\S+)$", body.decode(), re.M)}


def agrees(s, m):
    """What /status.json and /metrics both say, when nothing moves between the two reads."""
    pairs = [(s["sessions"], m["mpechod_sessions"]), (s["max_conns"], m["mpechod_sessions_limit"]),
             (s["bytes_in"], m["mpechod_received_bytes_total"]),
             (s["bytes_out"], m["mpechod_sent_bytes_total"]),
             (s["checks"], m["mpechod_health_checks_total"]),
             (s["duration"]["total"], m["mpechod_session_duration_seconds_count"])]
    pairs += [(v, m[f'mpechod_sessions_ended_total{{reason="{k}"}}']) for k, v in s["ended"].items()]
    pairs += [(v, m[f'mpechod_connections_refused_total{{reason="{k}"}}']) for k, v in s["refused"].items()]
    cum = 0
    for le, n in zip(s["duration"]["le"], s["duration"]["count"]):
        cum += n
        pairs.append((cum, m['mpechod_session_duration_seconds_bucket{le="%s"}' %
                          ("+Inf" if le is None else "%g" % le)]))
    return [p for p in pairs if p[0] != p[1]]


def held(port, source, n):
    out = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        out.append(s)
    return out


def test_status_json_says_what_happened_and_agrees_with_metrics():
    for model in ("fork", "prefork"):
        extra = ("--start", "8", "--min-spare", "2") if model == "prefork" else ()
        srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--model", model,
                     "--deny", "127.0.0.9", *extra)
        mport = metrics_port(srv)
        sent = 0
        for i in range(3):
            with connect(srv.port) as s:
                check(half_close_echo(s, b"x" * (1000 * (i + 1))) == b"x" * (1000 * (i + 1)), "echo")
            sent += 1000 * (i + 1)
        srv.wait_for(r"event=end ", count=3)
        closed_from(srv.port, "127.0.0.9")
        srv.wait_for(r"event=refused .*reason=acl")
        socks = held(srv.port, "127.0.0.3", 3) + held(srv.port, "127.0.0.2", 1) + held(srv.port, "127.0.0.4", 2)
        wait_until(lambda: status(mport)["sessions"] == 6, 10, "six live sessions")
        s, m = status(mport), prometheus(mport)
        check(not agrees(s, m), f"{model}: /status.json and /metrics differ: {agrees(s, m)}")
        check(s["served"] == 3 and s["bytes_in"] == sent and s["ended"]["eof"] == 3 and
              s["refused"]["acl"] == 1 and s["model"] == model and s["service"] == "echo" and
              s["state"] == "ready" and s["pid"] == srv.pid and s["version"] == "0.1.0" and
              s["listeners"] == [f"127.0.0.1:{srv.port}"], f"{model}: {s}")
        check(s["sources"] == [{"addr": "127.0.0.3", "sessions": 3}, {"addr": "127.0.0.4", "sessions": 2},
                               {"addr": "127.0.0.2", "sessions": 1}], f"{model}: busiest sources {s['sources']}")
        if model == "prefork":
            p = s["pool"]
            check(p["busy"] == 6 and p["workers"] == p["busy"] + p["idle"] and
                  p["workers"] == m['mpechod_workers{state="busy"}'] + m['mpechod_workers{state="idle"}'] and
                  p["started"] == m["mpechod_workers_started_total"], f"the pool: {p}")
        else:
            check(s["pool"] is None and s["udp"] is None, f"no pool, no UDP: {s['pool']} {s['udp']}")
        for c in socks:
            c.close()
        check(srv.stop() == 0, "exit 0")


def test_the_ring_of_samples_and_since():
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
    mport = metrics_port(srv)
    wait_until(lambda: status(mport)["history"]["seq"] >= 3, 10, "three samples")
    with connect(srv.port) as c:
        check(half_close_echo(c, b"abc") == b"abc", "echo")
    srv.wait_for(r"event=end ")
    first = status(mport)["history"]["seq"]
    s = wait_until(lambda: (lambda j: j if j["history"]["seq"] >= first + 2 else None)(status(mport)),
                   10, "two samples more")
    h = s["history"]
    rows = [dict(zip(h["fields"], r)) for r in h["samples"]]
    check([r["seq"] for r in rows] == list(range(1, h["seq"] + 1)), f"every sample, oldest first: {rows}")
    check(all(b["uptime"] > a["uptime"] for a, b in zip(rows, rows[1:])), "time goes on")
    check(rows[-1]["served"] == 1 and rows[-1]["bytes_in"] == 3 and rows[0]["served"] == 0,
          f"the counts: {rows}")
    later = status(mport, f"?since={h['seq'] - 1}")["history"]["samples"]
    check(len(later) >= 1 and later[0][0] == h["seq"], f"since=N: the samples after the Nth: {later}")
    check(status(mport, "?since=999999")["history"]["samples"] == [], "none after the newest")
    check(s["rates"]["seconds"] > 0.5, f"rates over the last second: {s['rates']}")
    for bad in ("?since=x", "?since=", "?since=1&since=2", "?format=json"):
        check(get(mport, "/status.json" + bad)[0] == 400, f"{bad}: 400")
    check(get(mport, "/status.json/")[0] == 404, "404")
    check(srv.stop() == 0, "exit 0")


def test_udp_counts_and_the_metrics_allow_rule():
    srv = Server("-l", "udp:127.0.0.1:0", "-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
                 "--metrics-allow", "127.0.0.1")
    mport = metrics_port(srv)
    uport = int(re.search(r"event=listen addr=udp:127.0.0.1:(\d+)", "\n".join(srv.lines)).group(1))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        for i in range(5):
            u.sendto(b"d" * 10, ("127.0.0.1", uport))
            check(u.recv(100) == b"d" * 10, "a datagram back")
    s = wait_until(lambda: (lambda j: j if j["udp"]["echoed"] == 5 else None)(status(mport)), 10, "5 echoed")
    m = prometheus(mport)
    check(s["udp"]["received"] == m["mpechod_udp_received_total"] == 5 and s["udp"]["bytes"] == 50 and
          s["udp"]["dropped"] == {"port": 0, "acl": 0, "rate": 0, "send": 0, "loop": 0}, f"UDP: {s['udp']}")
    check(f"udp:127.0.0.1:{uport}" in s["listeners"], f"the UDP listener named: {s['listeners']}")
    check(get(mport, "/status.json", source="127.0.0.2")[0] == 403, "outside --metrics-allow: 403")
    out = subprocess.run(["curl", "-sS", "-I", f"http://127.0.0.1:{mport}/status.json"],
                         capture_output=True, text=True, timeout=20).stdout
    check(out.startswith("HTTP/1.1 200") and "application/json" in out, f"HEAD: {out}")
    check(srv.stop() == 0, "exit 0")
