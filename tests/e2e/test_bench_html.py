"""mpecho-bench --html and merge --html: the report page, opened in Debian's chromium (headless):
no console message (no CSP violation, nothing loaded from elsewhere), the run's own figures in
the page, a chart point for each interval; a screenshot is kept in BUILD/artefacts. Errors and
bad bytes marked, and the merged run's page, read from the file (static SVG and HTML, no script:
the page chromium shows is that text)."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

from harness import BUILD, Server, check, track
from test_bench import FaultyServer, bench

CHROMIUM_TIMEOUT = 100   # it starts slowly on a loaded machine; a test has 120 s


def chromium(page, *args):
    """chromium headless on the page with args: (stdout, its console lines). Everything it
    started is ended here: it runs in a session of its own."""
    profile = tempfile.mkdtemp(prefix="mpecho-chromium-")
    proc = track(subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                   f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                                   *args, "file://" + page], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  start_new_session=True))
    try:
        out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # its helpers, if any outlived it
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    check(proc.returncode == 0, f"chromium exits 0: {proc.returncode} {err.decode()[-2000:]}")
    return out.decode(), [l for l in err.decode().splitlines() if ":CONSOLE" in l]


def opened(page, shot):
    """The page's DOM as chromium built it, and its screenshot in shot, after checking that it
    logged nothing to its console (a CSP violation, a resource it could not load, an error)."""
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    dom, console = chromium(page, "--window-size=900,2400", f"--screenshot={shot}", "--dump-dom")
    check(not console, f"nothing on the console: {console}")
    check(os.path.getsize(shot) > 10000, f"a screenshot in {shot}")
    return dom


def self_contained(text):
    """No script, link, image, frame or object; no attribute or style that names a resource."""
    refs = re.findall(r"""\b(?:src|href|srcset|action|data|poster)\s*=\s*["']?([^"'\s>]+)""", text)
    refs += re.findall(r"url\(|@import", text)
    tags = re.findall(r"<(script|link|img|iframe|object|embed|image|use)\b", text, re.I)
    check(not refs and not tags, f"self-contained: refs {refs[:5]}, tags {tags}")
    check("Content-Security-Policy" in text and "default-src 'none'" in text, "a strict CSP")


def cells(dom, table):
    """{name: value} of a two-column table by its id."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', dom, re.S).group(1)
    return dict(re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", body))


def points(dom, chart, series):
    svg = re.search(rf'<svg id="{chart}".*?</svg>', dom, re.S).group(0)
    line = re.search(rf'<polyline[^>]*data-series="{series}"[^>]*points="([^"]*)"', svg)
    return line.group(1).split() if line else []


def test_the_report_page_opens_in_chromium_with_the_runs_own_figures():
    srv = Server("-q", "-l", "127.0.0.1:0")
    with tempfile.TemporaryDirectory() as d:
        page = os.path.join(d, "run.html")
        rc, out, err = bench("--json", "-q", "-c", "4", "-d", "2", "-w", "0.5", "--progress", "0.5",
                             "--html", page, "pingpong", "127.0.0.1", str(srv.port))
        r = json.loads(out)
        check(rc == 0 and r["ops"] > 0, f"the run: {rc} {err}")
        text = open(page).read()
        self_contained(text)
        dom = opened(page, os.path.join(BUILD, "artefacts", "bench-report.png"))
    figures = cells(dom, "figures")
    check(figures["operations"] == str(r["ops"]) and
          figures["operations a second"] == f"{r['ops_per_s']:.1f}" and
          figures["latency p99, us"] == f"{r['latency_us']['p99']:.1f}" and
          figures["errors: corrupt"] == "0", f"the run's own figures: {figures} {r}")
    settings = cells(dom, "settings")
    check(settings["connections (-c)"] == "4" and settings["duration, s (-d)"] == "2" and
          f"against 127.0.0.1 port {srv.port}" in dom, f"its settings and target: {settings}")
    rows = re.findall(r"<tr><td class=\"n\">([\d.]+)</td><td>(warm-up|measure|drain)</td>"
                      r"<td class=\"n\">(\d+)</td>", dom)
    check(len(rows) >= 4 and rows[0][1] == "warm-up" and sum(int(x[2]) for x in rows) >= r["ops"],
          f"every --progress interval a row (0.5 s each), all operations in them: {rows}")
    for chart, series in (("ops", "operations"), ("conns", "opened"), ("latency", "p99"),
                          ("latency", "max")):
        check(len(points(dom, chart, series)) == len(rows), f"{chart}/{series}: a point an interval")
    check(len(points(dom, "percentiles", "latency")) > 10, "the percentile plot")
    check('<line class="mark-' not in dom, "no marks on a clean run")
    check(srv.stop() == 0, "server exits 0")


def test_bad_bytes_are_marked_and_merge_writes_the_page_of_the_merged_run():
    fs = FaultyServer("corrupt")
    try:
        with tempfile.TemporaryDirectory() as d:
            page, merged = os.path.join(d, "bad.html"), os.path.join(d, "merged.html")
            results = []
            for i in range(2):
                rc, out, err = bench("--json", "-q", "-c", "2", "-d", "1", "-w", "0", "--html", page,
                                     "pingpong", "-s", "600", "127.0.0.1", str(fs.port))
                check(rc == 1, f"corrupted bytes: status 1 ({rc} {err})")
                results.append(os.path.join(d, f"{i}.json"))
                with open(results[-1], "w") as f:
                    f.write(out)
            dom = open(page).read()   # static SVG: the DOM chromium builds is this text
            check(re.search(r'<line class="mark-bad"[^>]*><title>[\d.]+ s: \d+ connection errors, '
                            r'[1-9]\d* bad bytes', dom), "an interval with bad bytes is marked")
            check('class="status-bad">1: lost, extra or corrupted bytes' in dom, "the status")
            rc, out, err = bench("merge", "--html", merged, *results)
            check(rc == 1 and "runs=2" in out, f"merge: {rc} {out} {err}")
            dom = open(merged).read()
            self_contained(dom)
        figures = cells(dom, "figures")
        total = re.search(r"messages: (\d+)", out).group(1)
        check(figures["operations"] == total and "2 runs merged" in dom and
              'id="no-intervals"' in dom, f"the merged run's page: {figures} {out}")
    finally:
        fs.close()


def test_html_usage_and_an_unwritable_page():
    rc, out, err = bench("--html", "pingpong")
    check(rc == 2 and "unknown mode 'pingpong'" not in err and "no mode" in err,
          f"--html takes the next word as its file: {rc} {err}")
    rc, out, err = bench("--html", "/nonexistent/dir/page.html", "pingpong", "127.0.0.1", "9")
    check(rc == 4 and "cannot write /nonexistent/dir/page.html" in err,
          f"a page that cannot be written: status 4 before any load: {rc} {err}")
