"""/status.json, the live status page's figures: every field against what the test did and
against /metrics read at the same moment; the busiest sources, the pool, UDP, the ring of
samples and ?since=; the same limits as /metrics (--metrics-allow, strict queries). The page
itself as served (test_page.py opens it in a browser): for a browser only, under a policy that
admits its own script and style alone, escaped, and unable to stall the supervisor."""
import atexit
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from harness import (MODELS, Server, check, children, closed_from, connect, half_close_echo, recv_all,
                     socket_fds, steal_fd, wait_until)


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


def udp_echoes(srv, n, size):
    """n datagrams of size bytes to the server's UDP listener, each checked back; returns its port."""
    uport = int(re.search(r"event=listen addr=udp:127.0.0.1:(\d+)", "\n".join(srv.lines)).group(1))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        for _ in range(n):
            u.sendto(b"d" * size, ("127.0.0.1", uport))
            check(u.recv(size + 1) == b"d" * size, "a datagram back")
    return uport


def test_status_json_says_what_happened_and_agrees_with_metrics():
    for model in ("fork", "prefork", "loop"):
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
            ws = p["list"]
            check(len(ws) == p["workers"] and sum(w["state"] == "busy" for w in ws) == 6 and
                  sum(w["connections"] for w in ws) == 6 and sum(w["served"] for w in ws) <= 3 and
                  {w["pid"] for w in ws} <= set(children(srv.pid)) and
                  {w["state"] for w in ws} <= {"starting", "idle", "busy", "leaving"}, f"the workers: {ws}")
        elif model == "fork":
            check(s["pool"] is None and s["udp"] is None, f"no pool, no UDP: {s['pool']} {s['udp']}")
        for c in socks:
            c.close()
        check(srv.stop() == 0, "exit 0")


def test_the_loop_models_workers_and_their_connections():
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--model", "loop", "--workers", "3")
    mport = metrics_port(srv)
    socks = held(srv.port, "127.0.0.3", 5) + held(srv.port, "127.0.0.2", 2)
    s = wait_until(lambda: (lambda j: j if j["sessions"] == 7 else None)(status(mport)), 10, "seven sessions")
    m, ws = prometheus(mport), s["pool"]["list"]
    per_pid = {int(k.split('pid="')[1].split('"')[0]): v for k, v in m.items()
               if k.startswith("mpechod_loop_worker_sessions{")}
    check(len(ws) == s["pool"]["workers"] == 3 and {w["state"] for w in ws} == {"serving"} and
          {w["pid"]: w["connections"] for w in ws} == per_pid and sum(per_pid.values()) == 7 and
          {w["pid"] for w in ws} <= set(children(srv.pid)) and
          s["pool"]["busy"] == sum(w["connections"] > 0 for w in ws) == 3 - s["pool"]["idle"],
          f"the loop workers: {s['pool']} /metrics: {per_pid}")
    check(s["sources"] == [{"addr": "127.0.0.3", "sessions": 5}, {"addr": "127.0.0.2", "sessions": 2}],
          f"the busiest sources, from every worker: {s['sources']}")
    for c in socks[:4]:
        c.close()
    s = wait_until(lambda: (lambda j: j if j["sessions"] == 3 else None)(status(mport)), 10, "three left")
    check(s["sources"] == [{"addr": "127.0.0.2", "sessions": 2}, {"addr": "127.0.0.3", "sessions": 1}],
          f"an ended session leaves its source's count: {s['sources']}")
    for c in socks[4:]:
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
    uport = udp_echoes(srv, 5, 10)
    s = wait_until(lambda: (lambda j: j if j["udp"]["echoed"] == 5 else None)(status(mport)), 10, "5 echoed")
    m = prometheus(mport)
    check(s["udp"]["received"] == m["mpechod_udp_received_total"] == 5 and s["udp"]["bytes"] == 50 and
          s["udp"]["dropped"] == {"port": 0, "acl": 0, "rate": 0, "send": 0, "loop": 0}, f"UDP: {s['udp']}")
    check(s["udp"]["echoed_bytes"] == m["mpechod_udp_sent_bytes_total"] == 50, f"UDP bytes sent: {s['udp']}")
    page = get(mport, "/?format=html")[2].decode()
    check(re.search(r'<th>bytes sent back</th><td><b data-f="udp.echoed_bytes">50</b>', page),
          "the page shows the UDP bytes sent back")
    check(f"udp:127.0.0.1:{uport}" in s["listeners"], f"the UDP listener named: {s['listeners']}")
    check(get(mport, "/status.json", source="127.0.0.2")[0] == 403, "outside --metrics-allow: 403")
    out = subprocess.run(["curl", "-sS", "-I", f"http://127.0.0.1:{mport}/status.json"],
                         capture_output=True, text=True, timeout=20).stdout
    check(out.startswith("HTTP/1.1 200") and "application/json" in out, f"HEAD: {out}")
    check(srv.stop() == 0, "exit 0")


HTML = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a browser's


def csp_sources(head, directive):
    policy = re.search(r"^Content-Security-Policy: (.*)$", head, re.M).group(1)
    return dict((d.split()[0], d.split()[1:]) for d in policy.split("; "))[directive]


def test_a_browser_gets_the_page_and_curl_the_summary():
    for model in MODELS:
        page_and_summary(model)


def page_and_summary(model):
    tmp = tempfile.mkdtemp(prefix="mpecho-page-")
    atexit.register(shutil.rmtree, tmp, True)  # if the test fails before its rmdir
    path = os.path.join(tmp, "a<b>&c'.sock")
    srv = Server("-l", "127.0.0.1:0", "-l", f"unix:{path}", "--metrics", "127.0.0.1:0",
                 "--metrics-allow", "127.0.0.1", "--model", model)
    mport = metrics_port(srv)
    with connect(srv.port) as c:
        check(half_close_echo(c, b"page") == b"page", "echo")
    srv.wait_for(r"event=end ")
    code, head, body = get(mport, "/", [HTML])
    page = body.decode()
    check(code == 200 and "Content-Type: text/html; charset=utf-8" in head and "no-store" in head and
          "X-Content-Type-Options: nosniff" in head, f"a browser's /: {code} {head}")
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = lambda text: "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    check(len(scripts) == 1 and csp_sources(head, "script-src") == [digest(scripts[0])] and
          len(styles) == 1 and csp_sources(head, "style-src") == [digest(styles[0])],
          f"the policy admits exactly the inline script and style, by hash: {head}")
    check(csp_sources(head, "default-src") == ["'none'"] and "unsafe" not in head and
          csp_sources(head, "connect-src") == ["'self'"], f"a strict policy: {head}")
    check(not re.search(r"\s(style|on\w+)=", page) and not re.search(r"\ssrc=", page) and
          set(re.findall(r'href="([^"]*)"', page)) == {"data:,", "status.json", "metrics"},
          "nothing from outside, no style or handler attribute")
    check('data-f="served">1<' in page and 'data-f="bytes_in">4<' in page and
          f"<title>mpechod 127.0.0.1:{srv.port}: echo, {model} model</title>" in page and
          '<svg id="chart-sessions"' in page, f"{model}: the first view's figures")
    check("a&lt;b&gt;&amp;c&#39;.sock" in page and "a<b>" not in page, "a listener's name escaped")
    for accept, want in (("", "text/plain"), ("Accept: */*", "text/plain"), ("Accept: text/plain", "text/plain"),
                         ("Accept: text/html;q=0.5, text/plain", "text/plain")):
        code, head, body = get(mport, "/", [accept] if accept else [])
        check(code == 200 and f"Content-Type: {want}" in head and body.startswith(b"mpechod 0.1.0: echo"),
              f"{accept or 'no Accept'}: the summary")
    out = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{mport}/"], capture_output=True, timeout=20).stdout
    check(out.startswith(b"mpechod 0.1.0: echo service"), f"curl: the summary: {out[:80]}")
    check("text/html" in get(mport, "/?format=html")[1] and "text/plain" in get(mport, "/?format=text", [HTML])[1],
          "?format= chooses")
    code, head, body = get(mport, "/", [HTML.replace("Accept", "HEAD-NOT")])
    check("text/plain" in head, "an unknown header is no Accept")
    with socket.socket() as s:
        s.connect(("127.0.0.1", mport))
        s.sendall(f"HEAD / HTTP/1.1\r\n{HTML}\r\n\r\n".encode())
        check(recv_all(s).endswith(b"\r\n\r\n"), "HEAD: the headers only")
    check(get(mport, "/", [HTML], source="127.0.0.2")[0] == 403, "the page obeys --metrics-allow")
    check(srv.stop() == 0, "exit 0")
    os.rmdir(tmp)


def test_a_browser_that_never_reads_the_page_stalls_nothing():
    """Page readers that never read: the answers stick in their sockets (the listener's send
    buffer made small, which accepted sockets inherit), while scrapes and echoes go on, and each
    is closed at the deadline with its page unfinished."""
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
    mport = metrics_port(srv)
    for fd in socket_fds(srv.pid):
        with steal_fd(srv.pid, fd) as dup:
            if dup.type == socket.SOCK_STREAM and dup.getsockname()[1] == mport:
                dup.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    base, stuck = len(socket_fds(srv.pid)), []
    code, head, body = get(mport, "/", [HTML])
    size = len(head) + 4 + len(body)
    for _ in range(8):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.connect(("127.0.0.1", mport))
        s.sendall(f"GET / HTTP/1.1\r\n{HTML}\r\n\r\n".encode())
        stuck.append(s)
    t0 = time.monotonic()
    wait_until(lambda: len(socket_fds(srv.pid)) == base + 8, 2, "the stuck readers taken")
    for i in range(10):
        check(get(mport, "/metrics" if i % 2 else "/status.json")[0] == 200, "a scrape answered")
        if i % 3 == 0:
            with connect(srv.port) as c:
                check(half_close_echo(c, b"x" * 100) == b"x" * 100, "an echo")
    check(len(socket_fds(srv.pid)) == base + 8, "the stuck readers are still held, not yet let go")
    time.sleep(max(0, t0 + 2.5 - time.monotonic()))  # past their deadline: the server let them go
    for s in stuck:  # each closed by the server (EOF or reset), else recv times out
        s.settimeout(10)
        got = b""
        try:
            while chunk := s.recv(65536):
                got += chunk
        except ConnectionResetError:
            pass
        check(0 < len(got) < size, f"a stuck reader got {len(got)} of {size} bytes: its page was stuck")
        s.close()
    check(srv.stop() == 0, "exit 0")
