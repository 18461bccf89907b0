"""The live status page in a real browser (headless Chromium, through tests/e2e/browser.py),
against a server under bounded load (sessions from a thread, a few held ones, a refused one,
UDP): no console error and no CSP violation (and a violation put in on purpose is seen), live
figures that move within two seconds and agree with /metrics read around them, charts whose
points are the ring's samples, the first view as it reads with scripts off, and a page whose
server went away saying so. One browser for the module; a screenshot is kept in
BUILD/artefacts/."""
import json
import os
import threading
import time

import harness
from browser import Browser
from harness import Server, check, closed_from, connect, half_close_echo, wait_until
from test_status import held, metrics_port, prometheus, status, udp_echoes

HELD = (("127.0.0.3", 3), ("127.0.0.2", 1))
LOAD_CONNS = 2  # live sessions of the load at one moment, at most: one, and one a worker still ends
LOAD_SECONDS = 60

# Every live figure of the page, by its data-f path: {path: text}.
FIGURES = """Object.fromEntries(Array.from(document.querySelectorAll('[data-f]'),
    e => [e.getAttribute('data-f'), e.textContent]))"""
# Each chart's top, newest sample and polylines' points: {id: [top, seq, [[x, y]...]...]}.
CHARTS = """Object.fromEntries(Array.from(document.querySelectorAll('svg.chart'), s =>
    [s.id, [+s.getAttribute('data-top'), +s.getAttribute('data-seq'),
     Array.from(s.querySelectorAll('polyline'), l => l.getAttribute('points').split(' ')
        .filter(p => p).map(p => p.split(',').map(Number)))]]))"""
BARS = """Array.from(document.querySelectorAll('#histogram rect'), r => +r.getAttribute('height'))
    .concat([+document.getElementById('histogram').getAttribute('data-top')])"""
WORKERS = """Array.from(document.querySelectorAll('#workers span'), s => [s.className, s.textContent])"""
ROWS = """Array.from(document.querySelectorAll('#sources tr'), r => r.textContent)"""


class Load:
    """Sessions one after another (500 bytes each, every byte checked), at most 100 a second,
    from a thread, until stop() or LOAD_SECONDS: the page has new sessions and bytes to show
    for as long as the test looks at it, however slow the machine."""

    def __init__(self, port):
        self.port, self.done, self.errors, self.count = port, threading.Event(), [], 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        end = time.monotonic() + LOAD_SECONDS
        while not self.done.wait(0.01) and time.monotonic() < end:
            try:
                with connect(self.port) as s:
                    if half_close_echo(s, b"L" * 500) != b"L" * 500:
                        self.errors.append("bytes not echoed")
                self.count += 1
            except OSError as e:
                self.errors.append(str(e))

    def stop(self):
        self.done.set()
        self.thread.join(15)
        check(not self.errors and self.count > 0, f"the load: {self.count} sessions, {self.errors[:3]}")


def counters(m):
    """What /metrics says of the totals the page shows, keyed by the page's data-f paths."""
    ended = {k[len('mpechod_sessions_ended_total{reason="'):-2]: v for k, v in m.items()
             if k.startswith("mpechod_sessions_ended_total")}
    out = {"bytes_in": m["mpechod_received_bytes_total"], "bytes_out": m["mpechod_sent_bytes_total"],
           "served": sum(ended.values()), "duration.total": m["mpechod_session_duration_seconds_count"]}
    out.update({f"ended.{k}": v for k, v in ended.items()})
    return out


def bracketed(page, mport):
    """The page's figures, read between two /metrics reads after the page took a fresh answer."""
    before = prometheus(mport)
    for _ in range(2):  # the second update's fetch began after `before` was read
        seen = page.eval("document.getElementById('live').textContent")
        page.wait(f"document.getElementById('live').textContent != {json.dumps(seen)}", 5)
    figures = page.eval(FIGURES)
    return counters(before), figures, counters(prometheus(mport))


def check_agreement(page, mport):
    a, f, b = bracketed(page, mport)
    for k in a:
        check(a[k] <= int(f[k]) <= b[k], f"{k}: the page's {f[k]} not within /metrics' {a[k]}..{b[k]}")
    check(a["served"] < b["served"] and a["bytes_in"] < b["bytes_in"], f"the load goes on: {a} {b}")
    live = int(f["sessions"])
    check(sum(n for _, n in HELD) <= live <= sum(n for _, n in HELD) + LOAD_CONNS, f"live sessions: {live}")
    check(float(f["rates.sessions"]) > 0 and f["rates.bytes_in"].endswith("B/s"), f"rates: {f}")
    check(f["refused.acl"] == "1" and f["pool.workers"] != "-" and int(f["udp.echoed"]) == 5 and
          int(f["udp.echoed_bytes"]) == 100, f"{f}")
    board = page.eval(WORKERS)
    check(len(board) == int(f["pool.workers"]) and sum(n != "0" for _, n in board) == int(f["pool.busy"]),
          f"the pool's board: {board} {f}")
    if f["model"] == "prefork":  # a worker serves one session at a time
        check(all(n == ("1" if c == "busy" else "0") for c, n in board), f"prefork's board: {board}")
    else:  # a loop worker serves many: the board's counts are the sessions
        check({c for c, _ in board} == {"serving"} and sum(map(int, (n for _, n in board))) == live,
              f"the loop's board: {board}, {live} sessions")


def expected_points(samples, seq, top, value):
    """The polyline the page should draw of a series over the samples up to seq."""
    rows = [s for s in samples if s[0] <= seq][-300:]
    return [[299 - (seq - b[0]), round(100 - value(a, b) / top * 100, 1)] for a, b in zip(rows, rows[1:])]


def check_charts(page, mport):
    charts, samples = page.eval(CHARTS), status(mport)["history"]["samples"]
    rate = lambda i: (lambda a, b: (b[i] - a[i]) / (b[1] - a[1]))
    series = {"chart-sessions": [lambda a, b: b[2]], "chart-rates": [rate(3), rate(6)],
              "chart-bytes": [rate(4), rate(5)]}
    for cid, fs in series.items():
        top, seq, lines = charts[cid]
        check(len(lines) == len(fs) and seq >= 4, f"{cid}: {len(lines)} lines, newest sample {seq}")
        for line, f in zip(lines, fs):
            want = expected_points(samples, seq, top, f)
            check(len(line) == len(want) == min(seq, 300) - 1 and
                  all(p[0] == w[0] and abs(p[1] - w[1]) <= 0.11 for p, w in zip(line, want)),
                  f"{cid}: drawn {line[-5:]}, the ring says {want[-5:]}")
    bars, f = page.eval(BARS), page.eval(FIGURES)
    check(len(bars) == 10 and sum(bars[:-1]) > 0 and max(bars[:-1]) <= 100 and
          int(f["duration.total"]) > 0, f"the histogram's bars: {bars}")


def check_scripts_off(b, url, mport, model):
    page = b.open(url, scripts=False)
    a, f = counters(prometheus(mport)), page.eval(FIGURES)
    check(page.eval("document.getElementById('live').textContent").startswith("This view was made"),
          "with scripts off, the page says its view is not live")
    check(int(f["served"]) <= a["served"] and int(f["sessions"]) >= sum(n for _, n in HELD) and
          f["model"] == model and f["listeners"].startswith("127.0.0.1:"), f"first view: {f}")
    charts = page.eval(CHARTS)
    check(all(len(line) >= 3 for _, _, lines in charts.values() for line in lines), f"charts: {charts}")
    check(page.problems() == [], f"scripts off: {page.problems()}")
    page.close()


def test_the_status_page_in_chromium_under_load():
    with Browser() as b:
        for pool in (("prefork", "--start", "8"), ("loop", "--workers", "2")):
            page_under_load(b, pool)


def page_under_load(b, pool):
    srv = Server("-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0", "--metrics", "127.0.0.1:0",
                 "--model", *pool, "-c", "64", "--deny", "127.0.0.9")
    mport = metrics_port(srv)
    url = f"http://127.0.0.1:{mport}/"
    socks = [s for source, n in HELD for s in held(srv.port, source, n)]
    closed_from(srv.port, "127.0.0.9")
    udp_echoes(srv, 5, 20)
    load = Load(srv.port)
    page = b.open(url)
    page.wait("document.getElementById('live').textContent.startsWith('live')", 5)
    wait_until(lambda: status(mport)["history"]["seq"] >= 5, 10, "five samples")
    first = page.eval(FIGURES)
    page.wait(f"document.querySelector('[data-f=served]').textContent != {json.dumps(first['served'])} &&"
              f"document.querySelector('[data-f=uptime]').textContent != {json.dumps(first['uptime'])}", 2)
    check_agreement(page, mport)
    check_charts(page, mport)
    rows = page.eval(ROWS)
    check("127.0.0.33" in rows and "127.0.0.21" in rows, f"the busiest sources: {rows}")
    if pool[0] == "prefork":
        page.screenshot(os.path.join(harness.BUILD, "artefacts", "status-page.png"), 1200, 1000)
    check(page.problems() == [], f"the page's problems: {page.problems()}")
    page.eval("document.body.appendChild(Object.assign(document.createElement('script'),"
              "{textContent: 'window.injected = 1'})) && 1")
    page.wait("window.__problems.length > 0", 5)
    check(any("CSP" in p for p in page.problems()) and page.eval("window.injected") is None,
          "an inline script the policy does not name is refused, and seen")
    check_scripts_off(b, url, mport, pool[0])
    load.stop()
    for s in socks:
        s.close()
    check(srv.stop() == 0, "exit 0")
    page.wait("document.getElementById('live').className == 'stale'", 3)
    check(page.eval("document.getElementById('live').textContent").startswith("no answer from the server"),
          "a page whose server went away says so")
