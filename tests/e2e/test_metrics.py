"""--metrics and --log-format json: scraped with curl, checked with promtool, every figure
against what the test did; a strict, capped endpoint that never slows the echo."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

from harness import (Server, binary, check, closed_from, concurrently, connect, echo_roundtrip,
                     half_close_echo, recv_all, track, wait_until)


def scrape(port, path="/metrics", extra=()):
    out = subprocess.run(["curl", "-sS", "-i", "--max-time", "10", *extra,
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, timeout=20)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode(), body.decode()


def samples(text):
    """{'name{labels}': value} of a Prometheus text page."""
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^(mpechod_\S+) (\S+)$", text, re.M)}


def promtool(text):
    out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    check(out.returncode == 0, f"promtool check metrics: {out.stdout}{out.stderr}")


def test_metrics_after_a_mixed_load_equal_what_happened():
    def one(model):
        extra = ("--max-per-source", "2") if model != "prefork" else ()
        srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--model", model,
                     "--deny", "127.0.0.9", "--idle-timeout", "1", *extra)
        mport = srv.endpoint("metrics")[1]
        sent = 0
        for i in range(5):
            data = os.urandom(10_000 * (i + 1))
            with connect(srv.port) as s:
                check(half_close_echo(s, data) == data, "echo")
            # The session's process may outlive its socket (an ASan build checks for leaks at
            # exit): wait for its end, or --max-per-source 2 refuses the next connection.
            srv.wait_for(r"event=end ", count=i + 1)
            sent += len(data)
        closed_from(srv.port, "127.0.0.9")  # refused by --deny
        idle = connect(srv.port)
        idle.settimeout(10)
        check(recv_all(idle) == b"", "cut by the idle timeout")
        idle.close()
        srv.wait_for(r"event=end .*reason=idle")
        srv.wait_for(r"event=refused .*reason=acl")
        status, head, text = scrape(mport)
        check(status == 200 and "text/plain; version=0.0.4" in head, f"{model}: {status} {head}")
        promtool(text)
        m = samples(text)
        want = {'mpechod_sessions_ended_total{reason="eof"}': 5,
                'mpechod_sessions_ended_total{reason="idle"}': 1,
                'mpechod_sessions_ended_total{reason="killed"}': 0,
                'mpechod_connections_refused_total{reason="acl"}': 1,
                'mpechod_received_bytes_total': sent, 'mpechod_sent_bytes_total': sent,
                'mpechod_session_duration_seconds_count': 6, 'mpechod_sessions': 0,
                'mpechod_sessions_limit': 1000, 'mpechod_fork_failures_total': 0}
        got = {k: m.get(k) for k in want}
        check(got == want, f"{model}: {got} wants {want}")
        check(m['mpechod_session_duration_seconds_bucket{le="+Inf"}'] == 6, "the histogram's count")
        check(m['mpechod_start_time_seconds'] <= time.time(), "start time")
        check(f'mpechod_build_info{{version="0.1.0",service="echo",model="{model}"}} 1' in text,
              "build info")
        if model == "prefork":
            check(m['mpechod_workers{state="busy"}'] == 0 and m['mpechod_workers{state="idle"}'] >= 1,
                  "workers by state")
        if model == "loop":
            lanes = {k: v for k, v in m.items() if k.startswith("mpechod_loop_worker_sessions{")}
            check(len(lanes) >= 1 and set(lanes.values()) == {0}, f"each worker's sessions: {lanes}")
            check(m["mpechod_loop_workers_started_total"] == len(lanes), "workers started")
        srv.proc.send_signal(signal.SIGHUP)  # counters never go backwards
        srv.wait_for(r"event=reopen")
        after = samples(scrape(mport)[2])
        check(all(after[k] >= v for k, v in m.items() if k.endswith("_total")), "no counter went back")
        check(srv.stop() == 0, "exit 0")
    concurrently(one, ("fork", "prefork", "loop"))


def raw(port, data, source="127.0.0.1"):
    s = socket.socket()
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(data)
    try:
        return recv_all(s)
    except ConnectionResetError:
        return b"<reset>"
    finally:
        s.close()


def test_the_endpoint_is_strict_bounded_and_guarded():
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--metrics-allow", "127.0.0.1")
    mport = srv.endpoint("metrics")[1]
    check(scrape(mport, "/nope")[0] == 404, "unknown path: 404")
    status, head, _ = scrape(mport, "/metrics", ("-X", "POST"))
    check(status == 405 and "Allow: GET, HEAD" in head, f"POST: 405 with Allow: {head}")
    status, head, body = scrape(mport, "/metrics", ("-I",))
    check(status == 200 and body == "" and re.search(r"Content-Length: [1-9]", head), "HEAD: headers only")
    check(raw(mport, b"GET /metrics HTTP/1.1\r\nbad header\r\n\r\n").startswith(b"HTTP/1.1 400 "),
          "malformed: 400")
    check(raw(mport, b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 431 "),
          "oversized: 431")
    check(raw(mport, b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.2").startswith(b"HTTP/1.1 403 "),
          "outside --metrics-allow: 403")
    slow = socket.create_connection(("127.0.0.1", mport))
    slow.sendall(b"GET /metr")  # and no more
    t0 = time.monotonic()
    slow.settimeout(10)
    check(recv_all(slow) == b"" and time.monotonic() - t0 < 4, "a slow scraper is closed at the deadline")
    slow.close()
    status, _, text = scrape(mport, "/")
    check(status == 200 and re.search(r"^sessions: 0 now, limit 1000$", text, re.M) and
          "echo service, fork model" in text and re.search(r"^refused: acl 0, ", text, re.M),
          f"the summary: {text}")
    check(srv.stop() == 0, "exit 0")
    for model in ("prefork", "loop"):  # the endpoint is the supervisor's; the summary names the model
        srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--model", model)
        text = scrape(srv.endpoint("metrics")[1], "/")[2]
        check(f"echo service, {model} model" in text and re.search(r"^sessions: 0 now, ", text, re.M),
              f"{model}: the summary: {text}")
        check(srv.stop() == 0, f"{model}: exit 0")


def test_a_thousand_concurrent_scrapes_all_answered_while_echo_goes_on():
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0")
    mport = srv.endpoint("metrics")[1]
    bench = track(subprocess.Popen([binary("mpecho-bench"), "--json", "-q", "-c", "8", "-d", "3", "-w",
                                    "0", "pingpong", "127.0.0.1", str(srv.port)], stdout=subprocess.PIPE,
                                   text=True))  # a failure before its end: cleanup() ends it
    answers = []

    def scraper():
        try:
            with socket.create_connection(("127.0.0.1", mport), timeout=30) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                answers.append(recv_all(s).startswith(b"HTTP/1.1 200 OK"))
        except OSError as e:
            answers.append(repr(e))
    threads = [threading.Thread(target=scraper) for _ in range(1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    out, _ = bench.communicate(timeout=60)
    result = json.loads(out)
    bad = [a for a in answers if a is not True]
    check(len(answers) == 1000 and not bad, f"every scrape answered 200: {len(answers)}, {bad[:3]}")
    check(bench.returncode == 0 and result["ops"] > 0 and not any(result["errors"].values()),
          f"echo went on, every byte checked: {result}")
    check(srv.stop() == 0, "exit 0")


def test_json_log_lines_carry_the_same_events_and_fields():
    runs = {}
    for fmt in ("text", "json"):
        srv = Server("--log-format", fmt, "-l", "127.0.0.1:0", "--deny", "127.0.0.9")
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"abc") == b"abc", "echo")
        closed_from(srv.port, "127.0.0.9")  # refused by --deny
        srv.wait_for(r"refused")
        srv.wait_for(r"end")
        check(srv.stop() == 0, "exit 0")
        runs[fmt] = srv.lines
    text = [dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', l)) for l in runs["text"]]
    objs = [json.loads(l) for l in runs["json"]]  # every line one JSON object
    check(sorted(t["event"] for t in text) == sorted(o["event"] for o in objs), "the same events")
    for t in text:  # two runs: a refusal and an end may come in either order
        o = [o for o in objs if o["event"] == t["event"]][0]
        check(set(t) == set(o), f"{t['event']}: the same fields: {sorted(t)} vs {sorted(o)}")
    end = [o for o in objs if o["event"] == "end"][0]
    check(isinstance(end["pid"], int) and end["in"] == 3 and isinstance(end["duration"], float) and
          isinstance(end["peer"], str), f"numbers as numbers: {end}")


def test_refused_scrapers_take_no_slot_and_cannot_starve_an_allowed_one():
    """Peers outside --metrics-allow are closed at once, without taking one of the 16 slots: a
    crowd of them holding their connections open cannot keep an allowed scraper waiting."""
    srv = Server("-l", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--metrics-allow", "127.0.0.2")
    mport = srv.endpoint("metrics")[1]
    crowd = []
    for _ in range(40):  # more than the 16 slots; they send nothing and never close
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.connect(("127.0.0.1", mport))
        crowd.append(s)
    t0 = time.monotonic()
    back = raw(mport, b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.2")
    took = time.monotonic() - t0
    check(back.startswith(b"HTTP/1.1 200 ") and took < 1, f"the allowed scraper in {took:.2f} s: {back[:40]!r}")
    for s in crowd:  # each was closed at once (a 403 first, if it could go): its close is in
        s.settimeout(1)
        try:
            got = recv_all(s)
        except ConnectionResetError:
            got = b""
        except socket.timeout:
            got = b"<still open>"
        check(got in (b"",) or got.startswith(b"HTTP/1.1 403 "), f"an outsider's connection: {got[:40]!r}")
        s.close()
    check(srv.stop() == 0, "exit 0")
