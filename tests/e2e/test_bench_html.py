"""mpecho-bench --html and merge --html: the report page, opened in Debian's chromium (headless):
no console message (no CSP violation, nothing loaded from elsewhere), the run's own figures in
the page, a chart point for each interval; a screenshot is kept in BUILD/artefacts. Errors and
bad bytes marked, and the merged run's page, read from the file (static SVG and HTML, no script:
the page chromium shows is that text). merge --html from two real runs, opened in chromium: the
merged run's figures, and its charts over time from the runs' intervals merged by wall-clock
time, their percentiles those of the merged histograms."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import BUILD, Server, binary, check, track
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
              'id="no-intervals"' not in dom, f"the merged run's page: {figures} {out}")
        check(re.search(r'<svg id="ops".*?<line class="mark-bad"', dom, re.S),
              "the merged page marks bad bytes on its time axis too")
    finally:
        fs.close()


def bucket_high(low):
    """The highest value of the histogram's bucket that begins at low (128 a power of two)."""
    return low if low < 128 else low + (1 << (low.bit_length() - 8)) - 1


def buckets(latency):
    """An interval's latency in the JSON as {lowest: count}: its counts are those of the buckets
    one after the other from lowest on."""
    out, low = {}, latency["lowest"] if latency else 0
    for n in latency["counts"] if latency else []:
        if n:
            out[low] = n
        low = bucket_high(low) + 1
    return out


def quantile(counts, top, q):
    """As stats_quantile(): the bucket of the sample at rank q, its highest value (not above top)."""
    total = sum(counts.values())
    rank, seen = min(int(q * total), total - 1), 0
    for low in sorted(counts):
        seen += counts[low]
        if seen > rank:
            return min(bucket_high(low), top)


def slots(results):
    """The runs' intervals merged as merge should, computed here on its own: each in the slot of
    its middle, slots of 1 s from the earliest start; {slot: (ops, conns, {low: count}, max)}."""
    origin = min(i["start"] for r in results for i in r["intervals"])
    out = {}
    for r in results:
        for i in r["intervals"]:
            ops, conns, counts, top = out.setdefault(int(i["start"] + i["secs"] / 2 - origin),
                                                     (0, 0, {}, 0))
            for low, n in buckets(i["latency"]).items():
                counts[low] = counts.get(low, 0) + n
            out[int(i["start"] + i["secs"] / 2 - origin)] = (ops + i["ops"], conns + i["conns"], counts,
                                                             max(top, (i["latency"] or {"max": 0})["max"]))
    return [out[k] for k in sorted(out)]


def test_merge_draws_the_merged_runs_charts_over_time_in_chromium():
    srv = Server("-q", "-l", "127.0.0.1:0")
    with tempfile.TemporaryDirectory() as d:
        at, runs = time.time() + 3, []
        for i in range(2):   # two generators started together, as on two machines
            runs.append(track(subprocess.Popen(
                [binary("mpecho-bench"), "--json", "-q", "--start-at", f"{at:.3f}", "-c", str(2 + i),
                 "-d", "3", "-w", "1", "pingpong", "127.0.0.1", str(srv.port)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)))
        results = []
        for i, p in enumerate(runs):
            out, err = p.communicate(timeout=60)
            check(p.returncode == 0, f"run {i}: {p.returncode} {err.decode()}")
            results.append(json.loads(out))
            with open(os.path.join(d, f"{i}.json"), "wb") as f:
                f.write(out)
        page = os.path.join(d, "merged.html")
        rc, out, err = bench("merge", "--json", "--html", page, *(os.path.join(d, f"{i}.json")
                                                                  for i in range(2)))
        check(rc == 0 and out.strip(), f"merge: {rc} {err}")
        merged = json.loads(out)
        check(merged["runs"] == 2, f"merge: {merged['runs']} runs")
        self_contained(open(page).read())
        dom = opened(page, os.path.join(BUILD, "artefacts", "bench-merged.png"))
    a, b = results
    expect = slots(results)
    n = len(merged["intervals"])
    check(n == len(expect) >= 4, f"a merged interval a slot: {n} against {len(expect)}")
    if abs(a["started"] - b["started"]) < 0.2:   # started together: the intervals line up
        check(n == max(len(a["intervals"]), len(b["intervals"])),
              f"lined up: {n} from {len(a['intervals'])} and {len(b['intervals'])}")
    check(sum(i["ops"] for i in merged["intervals"]) ==
          sum(i["ops"] for r in results for i in r["intervals"]), "every operation in an interval")
    rows = re.findall(r'<tr><td class="n">([\d.]+)</td><td>(?:warm-up|measure|drain)</td>'
                      r'<td class="n">(\d+)</td><td class="n">(\d+)</td>(?:<td class="n">\d+</td>){3}'
                      r'<td class="n">([\d.]+)</td><td class="n">([\d.]+)</td>', dom)
    check(len(rows) == n, f"a row an interval: {len(rows)} of {n}")
    for row, (ops, conns, counts, top) in zip(rows, expect):
        check(int(row[1]) == ops and int(row[2]) == conns,
              f"an interval's counts are the runs' summed: {row} against {ops}, {conns}")
        if counts:
            check(row[3] == f"{quantile(counts, top, 0.5) / 1e3:.1f}" and
                  row[4] == f"{quantile(counts, top, 0.99) / 1e3:.1f}",
                  f"its p50 and p99 are the merged histogram's: {row} against {counts}")
    for chart, series in (("ops", "operations"), ("conns", "opened"), ("latency", "p50"),
                          ("latency", "p99"), ("latency", "max")):
        check(len(points(dom, chart, series)) == n, f"{chart}/{series}: a point an interval")
    figures = cells(dom, "figures")
    check(figures["operations"] == str(merged["ops"]) == str(a["ops"] + b["ops"]) and
          figures["operations a second"] == f"{merged['ops_per_s']:.1f}" and
          figures["latency p99, us"] == f"{merged['latency_us']['p99']:.1f}" and
          "2 runs merged" in dom and 'id="no-intervals"' not in dom,
          f"the merged run's own figures: {figures} {merged['ops']}")
    check(srv.stop() == 0, "server exits 0")


def test_html_usage_and_an_unwritable_page():
    rc, out, err = bench("--html", "pingpong")
    check(rc == 2 and "unknown mode 'pingpong'" not in err and "no mode" in err,
          f"--html takes the next word as its file: {rc} {err}")
    rc, out, err = bench("--html", "/nonexistent/dir/page.html", "pingpong", "127.0.0.1", "9")
    check(rc == 4 and "cannot write /nonexistent/dir/page.html" in err,
          f"a page that cannot be written: status 4 before any load: {rc} {err}")
