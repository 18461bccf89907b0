"""make bench's prose: every figure it prints comes from the run's own measures (bench/cpu.py's
CPU split and machine figures, the negotiated TLS version, the stalls), and what it cannot
measure is labelled as a past observation with its date."""
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile

from harness import ROOT_DIR, check, track, wait_until
from test_tls import certs, tls_server

sys.path.insert(0, os.path.join(ROOT_DIR, "bench"))
run = importlib.import_module("run")
cpu = importlib.import_module("cpu")
tls = importlib.import_module("tls")
udp = importlib.import_module("udp")

LAT = {"p50": 10.0, "p90": 20.0, "p99": 30.0, "p99.9": 40.0, "max": 50.0}
MACHINE = {"cpus": 7, "somaxconn": 1234}
# A split no machine of ours has shown: every figure printed from it is recognisable.
SPLIT = {"seconds": 3.0, "server_user": 0.11, "server_system": 0.33, "client_user": 0.2,
         "client_system": 0.37, "machine_busy": 0.61, "machine_softirq": 0.13}


def results(tls_measured, udp_measured):
    """results.md written from a synthetic run: every server passed each round at 100."""
    data = {n: {m[0]: {"values": [], "latency": [], "failures": 0, "failed": []} for m in run.MEASURES}
            for n, _ in run.SERVERS}
    for name, _ in run.SERVERS:
        for key, _, _, field, _ in run.MEASURES:
            for _ in range(3):
                run.record(data[name][key], {"status": 0, field: 100.0, "latency_us": LAT}, field)
    burst = {name: {"rounds": 3, "served": [10000] * 3, "errors": {}, "max_ms_each": [900.0] * 3,
                    "listen_overflows": [0, 5, 0] if name == "node" else [0, 0, 0], "max_ms": 900.0,
                    "p99_ms": 90.0} for name in ("mpechod fork", "node")}
    tls_res = {name: {"connrate": 500.0, "stream1": 0.0 if name == "ncat" else 80.0}
               for name in ("mpechod fork", "mpechod prefork", "socat", "ncat")}
    udp_res = ({"mpechod": 9000.0, "xinetd": 3000.0, "socat": 1000.0}, {"mpechod": 70.0, "xinetd": 80.0,
                                                                         "socat": 90.0}, [], udp_measured)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "results.md")
        run.write_results(path, data, None, burst, None, (tls_res, [], tls_measured), udp_res, 3, 1.0,
                          "now", 1.0, MACHINE)
        return open(path).read()


def tls_measured(stalled_ncat, floor=None):
    return {"floor": floor, "versions": {"mpechod fork": ["TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256"],
                         "mpechod prefork": ["TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256"],
                         "socat": ["TLSv1.3 TLS_AES_256_GCM_SHA384"], "ncat": ["no handshake (x)"]},
            "cpu": {"connrate": SPLIT, "stream1": None},
            "stalled": {n: {"connrate": 0, "stream1": stalled_ncat if n == "ncat" else 0}
                        for n in ("mpechod fork", "mpechod prefork", "socat", "ncat")},
            "server_cpu": {"mpechod fork": {"connrate": 1500.0, "stream1": 1.25},
                           "mpechod prefork": {"connrate": 900.0, "stream1": 1.5},
                           "socat": {"connrate": 5000.0, "stream1": 2.5},
                           "ncat": {"connrate": 4000.0, "stream1": None}}}


def test_make_bench_prints_the_figures_its_run_measured():
    """The CPUs, somaxconn, the TLS versions, the CPU split, the drops and the stalls in results.md
    are those of the results given, and the fixed figures of old are gone or dated."""
    floor = {"cipher_gb_s": 3.21, "cipher_ns": 0.623, "copy_ns": 0.37, "ns": 0.993}
    text = results(tls_measured(2, floor), {"cpu": SPLIT, "dropped": {"mpechod": 0, "xinetd": 480,
                                                                     "socat": 0}})
    check("AES-256-GCM ran at 3.21 GB/s" in text and "each byte again costs 0.62 ns" in text and
          "cost mpechod fork 0.37 ns" in text and "Together 0.99 ns per echoed byte, 0.40x socat's" in text,
          f"the TLS floor is the run's: {[l for l in text.splitlines() if 'floor' in l]}")
    check("7 CPUs" in text and "share the machine's 7 CPUs" in text and "two CPUs" not in text,
          "the CPU count is the run's")
    check("net.core.somaxconn, 1234 on this machine" in text and "4096 here" not in text,
          "somaxconn is the run's")
    check("node 1 of 3" in text and "mpechod fork 0 of 3" in text,
          f"the overflows are the rounds': {[l for l in text.splitlines() if 'overflowed' in l]}")
    check("TLS 1.3" not in text and "mpechod fork TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" in text
          and "socat TLSv1.3 TLS_AES_256_GCM_SHA384" in text and "ncat no handshake (x)" in text,
          "the TLS versions are those negotiated")
    # 0.11 + 0.33 CPUs, 75% of it system time; the client 0.57 CPUs; the machine 61% busy, 13% softirq
    split = re.findall(r"used 0\.44 CPUs, 75% of it in the kernel .* the client used 0\.57 CPUs; the "
                       r"machine's 7 CPUs were 61% busy \(13% in softirq", text)
    check(len(split) == 2, f"the CPU split of UDP and of TLS connrate is the run's: {split}")
    check("95%" not in text and "3% in mpechod" not in text.replace("3% of its time in mpechod", ""),
          "no fixed UDP split")
    for figure in ("49% of its time in libcrypto", "3% of its time in mpechod"):
        line = next((l for l in text.splitlines() if figure in l), "")
        check("2026-11-22, a past observation" in line, f"{figure!r} is dated: {line}")
    check("| mpechod fork | 1,500 (0.30x) | 1.2 (0.50x) |" in text and "| ncat | 4,000 (0.80x) | - |"
          in text, "the servers' CPU per unit over TLS, against socat's, are the run's")
    check("stream1, mpechod fork: 0.50x socat's CPU per echoed byte (goal <= 0.5: met)" in text and
          "stream1, mpechod prefork: 0.60x socat's CPU per echoed byte (goal <= 0.5: NOT met)" in text,
          "the TLS CPU goal is judged on the run's figures")
    check("xinetd 480" in text and "Datagrams dropped" in text, "the drops are the run's")
    check("ncat stream1 in 2 of its rounds" in text and "--exec pipe deadlock" in text,
          "a stall seen in this run is named")
    calm = results(tls_measured(0), {"cpu": None, "dropped": {"mpechod": 0, "xinetd": 0, "socat": 0}})
    check("stall" not in calm.split("## Over TLS")[1].split("## Over UDP")[0].replace(
          "0 (stalled: nothing echoed)", ""), "no stall is told when none was measured")
    check("pipe deadlock" not in calm and "dropped (not back in 100 ms), summed over the rounds: none"
          in calm, "nor a deadlock, nor drops")
    check("Where the CPU went during mpechod's runs" not in calm, "no split without a measure")
    check("The floor in this run" not in calm, "no TLS floor without its measures")


def test_make_bench_writes_its_results_as_a_page_too():
    """results.html beside results.md: the same tables and text, the chart inline, nothing loaded."""
    from test_bench_html import self_contained
    text = results(tls_measured(2), {"cpu": SPLIT, "dropped": {"mpechod": 0, "xinetd": 480, "socat": 0}})
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "results.md"), "w") as f:
            f.write(text)
        run.write_svg(os.path.join(d, "results.svg"), *ratios())
        run.write_page(d)
        page = open(os.path.join(d, "results.html")).read()
    self_contained(page)
    rows = [l for l in text.splitlines() if l.startswith("| ") and "---" not in l]
    check(page.count("<tr>") == len(rows) and "<svg" in page and "ratio against Node.js" in page,
          f"every table row and the chart: {page.count('<tr>')} rows of {len(rows)}")
    check('<td class="n">100 (1.00x)</td>' in page and "<h2>Over TLS</h2>" in page and
          "<li>mpechod: 3.00x xinetd (target &gt;= 2.0: met)</li>" in page, "the figures and text")


def ratios():
    """(med, ref) for write_svg: every server at 100 and the reference too."""
    med = {(n, m[0]): 100.0 for n, _ in run.SERVERS for m in run.MEASURES}
    return med, {m[0]: 100.0 for m in run.MEASURES}


def test_the_cpu_split_and_machine_figures_are_read_from_proc():
    """cpu.Split counts a server group's CPU (a child it reaped included) and the client's; the
    machine figures are the kernel's; tls.negotiated() reads mpechod's TLS version."""
    with open("/proc/sys/net/core/somaxconn") as f:
        check(cpu.machine() == {"cpus": os.cpu_count(), "somaxconn": int(f.read())},
              f"machine figures: {cpu.machine()}")
    work = "x = 0\nfor i in range(3000000): x += i"
    # the "server": a shell that, once told, runs the work in a child it reaps, then waits to end
    srv = track(subprocess.Popen(["sh", "-c", f"read go; {sys.executable} -c '{work}'; exec sleep 60"],
                                 stdin=subprocess.PIPE, start_new_session=True))

    def server_done():
        with open(f"/proc/{srv.pid}/cmdline", "rb") as f:
            return f.read().startswith(b"sleep")
    try:
        split = cpu.Split(srv.pid)
        srv.stdin.write(b"go\n")
        srv.stdin.close()
        subprocess.run([sys.executable, "-c", work], check=True)   # the "client", reaped
        wait_until(server_done, 60, "the server's child to be done and reaped")
        got = split.end()
    finally:
        srv.kill()
        srv.wait()
    check(got["server_user"] > 0 and got["client_user"] > 0 and 0 < got["machine_busy"] <= 1,
          f"the server's reaped child and the client counted: {got}")
    srv = tls_server()
    try:
        got = tls.negotiated(srv.port, certs()[0])
        logged = srv.wait_for(r"event=tls .*version=")[0]
    finally:
        check(srv.stop() == 0, "mpechod exits 0")
    version = re.search(r"version=(\S+) cipher=(\S+)", logged)
    check(got == f"{version.group(1)} {version.group(2)}", f"negotiated {got!r}, mpechod logged {logged!r}")


def test_make_bench_cpu_per_unit_big_hold_and_results_md_again_from_results_json():
    """The CPU per unit of work (server and generator, per connection, message and byte), the
    generator's ceiling row and the big hold's memory ratios against the epoll ceiling come from
    the figures given; run.py --from-json writes the same results.md again from results.json."""
    cost = importlib.import_module("cost")
    data = {n: {m[0]: {"values": [], "latency": [], "failures": 0, "failed": []} for m in run.MEASURES}
            for n, _ in run.SERVERS}
    for name, _ in run.SERVERS:
        for key, _, args, field, _ in run.MEASURES:
            r = {"status": 0, field: 100.0, "latency_us": LAT, "ops": 1000, "bytes": 10 ** 6,
                 "server_cpu_s": 0.02 if name == "mpechod loop" else 0.01, "client_cpu_s": 0.04}
            run.record(data[name][key], r, field)
            cost.record(data[name][key], r, args[-1])
    hold = {"settings": {"conns": 250000}, "held": 250000, "errors": {"lost": 0}}
    big_hold = {n: dict(hold, memory={"mem_per_conn_bytes": mem, "pss_per_conn_bytes": pss},
                        cpu_us_per_conn=cpu_us)
                for n, mem, pss, cpu_us in (("mpechod loop", 6000.0, 410.0, 30.0),
                                            ("epoll ceiling", 5000.0, 50.0, 25.0),
                                            ("node", 9000.0, 6800.0, 250.0))}
    res = {"started": "now", "elapsed": 1.0, "rounds": 1, "seconds": 1.0, "machine": MACHINE,
           "runs": data, "hold": None, "burst": None, "big_hold": big_hold}
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "a"))
        run.publish(res, os.path.join(d, "a"))
        with open(os.path.join(d, "results.json"), "w") as f:
            json.dump(res, f)
        track(subprocess.Popen([sys.executable, os.path.join(ROOT_DIR, "bench", "run.py"), "--from-json",
                                os.path.join(d, "results.json"), "--out", os.path.join(d, "b")],
                               stdout=subprocess.DEVNULL)).wait(60)
        first, again = (open(os.path.join(d, x, "results.md")).read() for x in ("a", "b"))
    check(first == again, "results.md written again from results.json is the same")
    check("| mpechod loop | 20.0 | 20.0 | 20.0 | 20.0 | 20.0 | 20.0 |" in first and
          "| node | 10.0 | 10.0 | 10.0 | 10.0 | 10.0 | 10.0 |" in first,
          "the CPU per unit: 20 (loop) and 10 us a connection and a message, ns a byte")
    check("| 175,000 | 175,000 | 175,000 | 175,000 | 175 | 175 |" in first,
          "the generator's ceiling: 7 CPUs / 40 us = 175,000 a second, 7 / 40 ns = 175 MB/s")
    check("| mpechod loop | 250,000 of 250,000 | 6,000 B | 1.20x | 410 B | 8.20x | 30.0 us | none |" in first,
          f"the big hold's row, against the epoll ceiling: {[l for l in first.splitlines() if '250,000 of' in l]}")


def test_a_server_whose_children_take_their_cpu_time_along_gets_no_cpu_figure():
    """The fork floor lets its children die unreaped: their CPU time leaves the process group
    with them, and the window's difference came out below 0 (-0.184 us a message in a make
    bench). Such a round, or a median over one, is no figure ('-'), never a negative one."""
    cost = importlib.import_module("cost")
    r = {"status": 0, "ops": 1000, "bytes": 64000, "server_cpu_s": -0.0002, "client_cpu_s": 0.01}
    check(cost.per_unit(r, "pingpong") == (None, None), f"a round below 0: {cost.per_unit(r, 'pingpong')}")
    check(cost.median({"cpu": [5.0, -0.184, 6.0]}) is None, "a median over such a round")
    check(cost.median({"cpu": [5.0, 7.0, 6.0]}) == 6.0, "the median of rounds that counted")
