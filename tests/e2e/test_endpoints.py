"""The server's own endpoints can be found: --metrics and --agent on port 0 or :PORT, named by
listen lines; the process_* metrics as Prometheus client libraries name them; UDP bytes sent."""
import os
import socket
import time

from harness import Server, check, recv_all, wait_until
from test_metrics import promtool, scrape


def test_metrics_and_agent_on_port_0_are_named_by_listen_lines():
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--agent", "127.0.0.1:0")
    check(srv.addrs == [("127.0.0.1", srv.port)], f"the echo listener alone in srv.addrs: {srv.addrs}")
    order = [l.split("event=")[1].split()[0] + (" " + l.split()[-1] if "endpoint" in l else "")
             for l in srv.lines if "event=start" in l or "event=listen" in l or "event=ready" in l]
    check(order == ["start", "listen", "listen endpoint=metrics", "listen endpoint=agent", "ready"],
          f"the endpoints' lines follow the listeners' and come before ready: {order}")
    mhost, mport = srv.endpoint("metrics")
    check(mhost == "127.0.0.1" and mport != 0, f"the real port: {mhost} {mport}")
    check(scrape(mport, "/healthz")[0] == 200, "the metrics endpoint answers on the logged port")
    with socket.create_connection(srv.endpoint("agent"), timeout=10) as s:
        check(recv_all(s).startswith(b"up ready"), "the agent answers on the logged port")
    check(srv.stop() == 0, "the server ends cleanly")


def test_metrics_on_all_addresses_with_colon_port():
    srv = Server("-l", "127.0.0.1:0", "--metrics", ":0")
    host, port = srv.endpoint("metrics")
    check(host in ("::", "0.0.0.0"), f":PORT is every address, as -l takes it: {host}")
    for addr in ("127.0.0.1", "::1") if host == "::" else ("127.0.0.1",):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        with socket.socket(family) as s:
            s.settimeout(10)
            s.connect((addr, port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            check(recv_all(s).startswith(b"HTTP/1.1 200"), f"/healthz over {addr}")
    check(srv.stop() == 0, "the server ends cleanly")


def process_samples(text):
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines()
            if l.startswith("process_")}


def ticks(pid):
    """utime + stime of pid, in seconds."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def test_process_metrics_are_the_supervisors_own():
    before = time.time()
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
                 prefix=("prlimit", "--nofile=1234:2048", "--"))
    after = time.time()
    port = srv.endpoint("metrics")[1]
    fds = len(os.listdir(f"/proc/{srv.pid}/fd"))
    cpu_before = ticks(srv.pid)
    status, _, text = scrape(port)
    cpu_after = ticks(srv.pid)
    promtool(text)
    p = process_samples(text)
    check(sorted(p) == ["process_cpu_seconds_total", "process_max_fds", "process_open_fds",
                        "process_resident_memory_bytes", "process_start_time_seconds",
                        "process_virtual_memory_bytes"], f"the six process_* metrics: {sorted(p)}")
    check(p["process_max_fds"] == 1234, f"the soft limit of descriptors: {p}")
    check(p["process_open_fds"] == fds + 1, f"its descriptors and the scrape's socket: {p} {fds}")
    check(before - 0.02 <= p["process_start_time_seconds"] <= after + 0.02,
          f"started between {before} and {after}: {p}")
    check(cpu_before - 0.01 <= p["process_cpu_seconds_total"] <= cpu_after + 0.01,
          f"CPU time between {cpu_before} and {cpu_after}: {p}")
    rss = int(open(f"/proc/{srv.pid}/status").read().split("VmRSS:")[1].split()[0]) * 1024
    check(rss / 2 <= p["process_resident_memory_bytes"] <= rss * 2, f"resident memory near {rss}: {p}")
    check(srv.stop() == 0, "the server ends cleanly")


def test_udp_bytes_sent_are_counted():
    srv = Server("-l", "udp:127.0.0.1:0", "--metrics", "127.0.0.1:0")
    port, mport = srv.port, srv.endpoint("metrics")[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        for size in (100, 200, 300):
            s.sendto(b"u" * size, ("127.0.0.1", port))
            check(s.recvfrom(65536)[0] == b"u" * size, "echoed")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 19))  # chargen's port: dropped, never echoed
        s.sendto(b"loop?", ("127.0.0.1", port))
    wait_until(lambda: "mpechod_udp_received_total 4\n" in scrape(mport)[2], 10, "the drop counted")
    text = scrape(mport)[2]
    promtool(text)
    check("mpechod_udp_sent_bytes_total 600\n" in text and
          "mpechod_udp_received_bytes_total 605\n" in text, f"bytes both ways: {text}")
    check(srv.stop() == 0, "the server ends cleanly")
    line = srv.wait_for(r"event=udp-summary .*why=stop")[0]
    check(" echoed=3 bytes=605 echoed_bytes=600 " in line, f"the summary counts them too: {line}")
