"""Behind the real HAProxy: PROXY v1 and v2, the client's own address in logs and rules,
health checks kept out of the logs, one backend drained while clients stream through, and
one that tells HAProxy itself that it leaves (agent-check) before its listener closes."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import (OWN_PORT, ROOT_DIR, Server, binary, check, own_network, recv_all, recv_exactly, track,
                     wait_until)

HAPROXY_CFG = os.path.join(ROOT_DIR, "dist", "haproxy", "haproxy.cfg")
AGENT_CFG = os.path.join(ROOT_DIR, "dist", "haproxy", "haproxy-agent.cfg")


def haproxy_config(path, front, send, ports, agents=(), bind="127.0.0.1:{}"):
    """An example of dist/haproxy, the one the docs show, with this test's ports and PROXY version."""
    text = open(path).read()
    text = text.replace("bind 127.0.0.1:7000", "bind " + bind.format(front))
    text = text.replace(" send-proxy\n", f" {send}\n")
    for i, port in enumerate(ports):
        text = text.replace(f"127.0.0.1:{7001 + i} check", f"127.0.0.1:{port} check")
    for i, port in enumerate(agents):
        text = text.replace(f"agent-port {7101 + i}\n", f"agent-port {port}\n")
    return text


class Balanced:
    """Three mpechod backends with ,proxy listeners behind one HAProxy; or, with agent=True,
    plain listeners that answer HAProxy's agent-check (haproxy-agent.cfg). HAProxy binds the
    port it is given: make it inside own_network(), and stop() it there."""

    def __init__(self, send, *extra, agent=False, bind="127.0.0.1:{}"):
        listen = ("-l", "127.0.0.1:0") if agent else ("-l", "127.0.0.1:0,proxy", "--proxy-from",
                                                       "127.0.0.1", "--deny", "127.0.0.66")
        self.backends = [Server("-v", *listen, *extra, *(("--agent", "127.0.0.1:0") if agent else ()))
                         for i in range(3)]
        self.agents = [b.endpoint("agent")[1] for b in self.backends] if agent else []
        self.front = OWN_PORT
        self.dir = tempfile.TemporaryDirectory()
        path = os.path.join(self.dir.name, "haproxy.cfg")
        config = haproxy_config(AGENT_CFG if agent else HAPROXY_CFG, self.front, send,
                                [b.port for b in self.backends], self.agents, bind)
        check(f"127.0.0.1:{self.backends[2].port} check" in config and
              (f" {send}\n" in config or agent) and all(f"agent-port {a}\n" in config for a in self.agents),
              "the example configuration took this test's ports")
        with open(path, "w") as f:
            f.write(config)
        self.out = open(os.path.join(self.dir.name, "haproxy.log"), "w+")
        self.proc = track(subprocess.Popen(["haproxy", "-db", "-f", path], stdin=subprocess.DEVNULL,
                                           stdout=self.out, stderr=subprocess.STDOUT,
                                           start_new_session=True))
        wait_until(self.listening, 10, "HAProxy to listen")

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.front), timeout=1).close()
            return True
        except OSError:
            return False

    def log(self):
        self.out.flush()
        return open(self.out.name).read()

    def client(self, source):
        s = socket.socket()
        s.settimeout(20)
        s.bind((source, 0))
        s.connect(("127.0.0.1", self.front))
        return s

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)
        for b in self.backends:
            if b.proc.poll() is None:
                if self.agents:  # a second SIGTERM skips the --shutdown-delay
                    b.proc.send_signal(signal.SIGTERM)
                    b.wait_for(r"event=leaving ")
                check(b.stop() == 0, "backend exits 0")
        self.out.close()
        self.dir.cleanup()


def echo_through(bal, source, data):
    with bal.client(source) as s:
        sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
        sender.start()
        back = recv_all(s)
        sender.join()
        return back, s.getsockname()[1]


def test_haproxy_send_proxy_v1_and_v2_real_client_rules_and_checks():
    for send in ("send-proxy", "send-proxy-v2"):
        with own_network():
            bal = Balanced(send)
            for i in range(9):
                data = os.urandom(64 * 1024 + i)
                back, port = echo_through(bal, f"127.0.0.{10 + i}", data)
                check(back == data, f"{send}: every byte back through HAProxy for 127.0.0.{10 + i}")
                line = wait_until(lambda: [l for b in bal.backends
                                           for l in b.matching(rf"event=end peer=127\.0\.0\.{10 + i}:{port} ")],
                                  5, "the backend's end line")[0]
                check(re.search(r" via=127\.0\.0\.1:\d+ ", line), f"{send}: the balancer in via=: {line}")
            counts = [len(b.matching(r"event=end peer=127\.0\.0\.1\d:")) for b in bal.backends]
            check(sum(counts) == 9 and min(counts) >= 1, f"{send}: spread over three backends: {counts}")
            back, port = echo_through(bal, "127.0.0.66", b"denied")
            check(back == b"", f"{send}: the denied client gets nothing back")
            wait_until(lambda: any(b.matching(rf"event=refused peer=127\.0\.0\.66:{port} via=127\.0\.0\.1:\d+ "
                                              r"reason=acl") for b in bal.backends), 5, "the refusal")
            back, _ = echo_through(bal, "127.0.0.67", b"next door")
            check(back == b"next door", f"{send}: only that client is refused")
            for b in bal.backends:  # checks every 200 ms: counted, at debug level only
                b.wait_for(r"level=debug event=(end|health-check) ", count=3)
                infos = b.matching(r"level=info event=(connect|end) ")
                check(infos and all(re.search(r"peer=127\.0\.0\.(1\d|6\d|1):", l) and " via=" in l
                                    and not re.search(r"peer=(\S+) via=\1 ", l) for l in infos),
                      f"{send}: no health check among the info lines: {infos[:3]}")
                b.proc.send_signal(signal.SIGUSR1)
                st = b.wait_for(r"event=status")[0]
                check(int(re.search(r"checks=(\d+)", st).group(1)) >= 3, f"checks are counted: {st}")
            bal.stop()


def test_haproxy_on_an_ipv6_socket_names_ipv4_clients_in_tcp6_lines():
    """HAProxy listening on an IPv6 socket sends an IPv4 client as TCP6 ::ffff:a.b.c.d (RFC 4291's
    dotted form): accepted, logged and judged as the IPv4 client (it was refused: v1 source address)."""
    with own_network():
        bal = Balanced("send-proxy", bind="ipv6@::ffff:127.0.0.1:{} v4v6")
        for i in range(3):
            back, port = echo_through(bal, f"127.0.0.{20 + i}", b"mapped %d" % i)
            check(back == b"mapped %d" % i, f"echoed through HAProxy for 127.0.0.{20 + i}")
            wait_until(lambda: any(b.matching(rf"event=end peer=127\.0\.0\.{20 + i}:{port} via=127\.0\.0\.1:")
                                   for b in bal.backends), 5, "the client's own IPv4 address in the end line")
        back, port = echo_through(bal, "127.0.0.66", b"denied")
        check(back == b"", "--deny 127.0.0.66 applies to ::ffff:127.0.0.66")
        wait_until(lambda: any(b.matching(rf"event=refused peer=127\.0\.0\.66:{port} via=\S+ reason=acl")
                               for b in bal.backends), 5, "the refusal")
        check(not any(b.matching(r"reason=proxy") for b in bal.backends), "no header refused")
        bal.stop()


def streams_through(bal, results, first):
    """Six clients (sources 127.0.0.first...) streaming about a second each through HAProxy."""
    def stream(i):
        data = os.urandom(300_000)
        try:
            with bal.client(f"127.0.0.{first + i}") as s:
                back = b""
                for off in range(0, len(data), 30_000):
                    s.sendall(data[off:off + 30_000])
                    back += recv_exactly(s, 30_000)
                    time.sleep(0.1)  # about a second of streaming
                s.shutdown(socket.SHUT_WR)
                results[i] = (back + recv_all(s)) == data
        except OSError as e:
            results[i] = repr(e)

    streams = [threading.Thread(target=stream, args=(i,)) for i in range(6)]
    for t in streams:
        t.start()
    return streams


def test_haproxy_one_backend_drains_while_clients_stream_through():
    with own_network():
        bal = Balanced("send-proxy-v2", "--grace", "10")
        results = {}
        streams = streams_through(bal, results, 20)
        victim = bal.backends[0]
        wait_until(lambda: len(victim.matching(r"event=connect peer=127\.0\.0\.2\d:")) >= 1, 10,
                   "a stream on the first backend")
        # every stream in a session before the drain: one still in the victim's accept queue when
        # it stops listening is reset, which is the kernel's doing and not what this test is about
        wait_until(lambda: sum(len(b.matching(r"event=connect peer=127\.0\.0\.2\d:")) for b in bal.backends)
                   >= 6, 10, "all six streams in a session")
        victim.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "Server echo/s1 is DOWN" in bal.log(), 10, "HAProxy to mark s1 down")
        for j in range(6):  # new sessions: on the other two, every byte back
            data = os.urandom(20_000)
            back, port = echo_through(bal, f"127.0.0.{40 + j}", data)
            check(back == data, f"a new client after the restart began ({back[:20]!r})")
        check(not victim.matching(r"event=connect peer=127\.0\.0\.4\d:"), "no new session on the drained one")
        for t in streams:
            t.join(30)
        check(results == {i: True for i in range(6)}, f"every stream intact: {results}")
        check(victim.wait_exit() == 0, "the drained backend exits 0 once its sessions are done")
        ended = victim.matching(r"event=end peer=127\.0\.0\.2\d:")
        check(ended and all("reason=eof in=300000 out=300000" in l for l in ended),
              f"its sessions finished with every byte: {ended}")
        bal.stop()


def test_banner_tells_the_backends_apart_and_the_bench_still_checks_every_byte():
    with own_network():
        bal = Balanced("send-proxy", "--banner", "backend %p on %a")
        seen = set()
        for i in range(6):
            out = subprocess.run([binary("mpecho"), "--banner", "127.0.0.1", str(bal.front)],
                                 input=b"payload\n", capture_output=True, timeout=20)
            check(out.returncode == 0 and out.stdout == b"payload\n", f"echo after the banner: {out}")
            m = re.fullmatch(rb"backend (\d+) on 127\.0\.0\.1:(\d+)\r\n", out.stderr)
            check(m, f"the banner names the backend: {out.stderr!r}")
            seen.add(int(m.group(1)))
        check(seen == {b.pid for b in bal.backends}, f"three backends answered: {seen}")
        bench = subprocess.run([binary("mpecho-bench"), "--banner", "--json", "-q", "-c", "8", "-d", "1",
                                "-w", "0", "pingpong", "127.0.0.1", str(bal.front)],
                               capture_output=True, text=True, timeout=60)
        result = json.loads(bench.stdout)
        check(bench.returncode == 0 and result["ops"] > 100 and
              not any(result["errors"].values()), f"every byte checked: {result}")
        bal.stop()


def test_haproxy_agent_check_drains_a_leaving_backend_before_its_listener_closes():
    with own_network():
        bal = Balanced(None, "--shutdown-delay", "4", "--grace", "10", agent=True)
        for b in bal.backends:  # HAProxy asks every agent, and each says it is up and ready
            b.wait_for(r'event=agent peer=127\.0\.0\.1:\d+ answer="up ready" asked="" ')
        results = {}
        streams = streams_through(bal, results, 20)
        victim = bal.backends[0]
        wait_until(lambda: sum(len(b.matching(r"event=connect peer=127\.0\.0\.1:")) for b in bal.backends)
                   >= 6 and victim.matching(r"event=connect "), 10, "six streams, some on the first backend")
        victim.proc.send_signal(signal.SIGTERM)
        victim.wait_for(r"event=leaving signal=TERM sessions=\d+ delay=4")
        wait_until(lambda: "Server echo/s1 enters drain state" in bal.log(), 5, "HAProxy to drain s1")
        victim.wait_for(r'event=agent .* answer="up drain" ')
        before = len(victim.matching(r"event=connect "))
        for j in range(6):  # new clients: on the other two, every byte back
            data = os.urandom(20_000)
            back, _ = echo_through(bal, f"127.0.0.{40 + j}", data)
            check(back == data, f"a new client while s1 leaves ({back[:20]!r})")
        check(len(victim.matching(r"event=connect ")) == before, "no new session on the leaving backend")
        check(not victim.matching(r"event=shutdown") and "is DOWN" not in bal.log(),
              "all this while the leaving backend still listened: the agent drained it, not a refusal")
        with socket.create_connection(("127.0.0.1", victim.port), timeout=10) as s:
            s.sendall(b"still here")
            check(recv_exactly(s, 10) == b"still here", "its listener still takes a direct client")
        for t in streams:
            t.join(30)
        check(results == {i: True for i in range(6)}, f"every stream intact: {results}")
        victim.wait_for(r"event=shutdown signal=TERM ")
        check(victim.wait_exit() == 0, "the leaving backend exits 0 once its sessions are done")
        bal.stop()
