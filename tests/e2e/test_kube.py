"""deploy/kubernetes and its overlays: rendered by two kubectls, run by podman kube play.

kubectl kustomize renders them with no cluster: Debian's kubectl 1.20 (tests/deps.sh
unpacks it) and the one on PATH must give the same. The Deployment then runs for real:
podman kube play starts its pods from the image make image built, in a network namespace
of the test's own, and the test reaches each pod at its address on podman's bridge
network: the banner names the pod, every byte comes back, /readyz says 200 and /metrics
answers. The bench Job's generators load one of those pods meanwhile. Then podman kube
down stops them while a client streams: the pod leaves as it would leave a cluster
(/readyz 503 at once, still accepting for --shutdown-delay, then the drain), and the
stream gets every byte back. (podman 4.3 needs podman stop first: see _kube_down.)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import harness
import kyaml
import pods
from harness import check

ONCE = True
BASE = os.path.join(harness.ROOT_DIR, "deploy", "kubernetes")


# Debian's kubectl, which tests/deps.sh unpacks: 1.20 in Debian 12 (kustomize 2.0.3, no
# components, no inline patches). Every manifest must render the same with it as with the
# kubectl on PATH, which may be newer, and only these warnings of a newer one may show.
DEBIAN_KUBECTL = os.path.join(harness.ROOT_DIR, "build", "deps", "kubernetes-client", "usr",
                              "bin", "kubectl")
DEPRECATED = re.compile(r"# Warning: '(bases|patchesJson6902)' is deprecated\. .*")


def render(path):
    """kubectl kustomize PATH by each kubectl, the same: its documents by kind."""
    check(os.access(DEBIAN_KUBECTL, os.X_OK), f"tests/deps.sh unpacks kubectl to {DEBIAN_KUBECTL}")
    outs = []
    for kubectl in ("kubectl", DEBIAN_KUBECTL):
        out = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True,
                             timeout=60)
        check(out.returncode == 0 and all(DEPRECATED.fullmatch(line) for line in
                                          out.stderr.splitlines()),
              f"{kubectl} kustomize {path}: {out.stderr}")
        outs.append(out.stdout)
    check(outs[0] == outs[1], f"both kubectls render {path} the same:\n{outs[0]}\n{outs[1]}")
    return {d["kind"]: d for d in kyaml.load_all(outs[0])}


def option(args, name):
    """The value of --name=VALUE in a container's args (None if absent)."""
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    return values[-1] if values else None


def test_the_base_is_a_restricted_deployment_of_three_with_its_service_and_budget():
    docs = render(BASE)
    dep, svc, pdb = docs["Deployment"], docs["Service"], docs["PodDisruptionBudget"]
    pod = dep["spec"]["template"]
    spec, (c,) = pod["spec"], pod["spec"]["containers"]
    check(dep["spec"]["replicas"] == 3, "three replicas")
    version = pods.image().rsplit(":", 1)[1]
    check(c["image"] == f"mpecho:{version}", f"the image of this version: {c['image']}")
    sec, csec = spec["securityContext"], c["securityContext"]
    check(sec["runAsNonRoot"] is True and sec["seccompProfile"]["type"] == "RuntimeDefault"
          and csec["readOnlyRootFilesystem"] is True and csec["allowPrivilegeEscalation"] is False
          and csec["capabilities"]["drop"] == ["ALL"] and "add" not in csec["capabilities"],
          f"the restricted Pod Security Standard: {sec} {csec}")
    ports = {p["name"]: p for p in c["ports"]}
    metrics = ports["metrics"]["containerPort"]
    check(option(c["args"], "metrics") == f"0.0.0.0:{metrics}", "--metrics on the metrics port")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = c[probe]["httpGet"]
        check(get["path"] == path and get["port"] in ("metrics", metrics), f"{probe}: {get}")
    delay, grace = int(option(c["args"], "shutdown-delay")), int(option(c["args"], "grace"))
    check(0 < delay and delay + grace < spec["terminationGracePeriodSeconds"],
          f"--shutdown-delay {delay} and --grace {grace} fit in the pod's "
          f"{spec['terminationGracePeriodSeconds']} s")
    res = c["resources"]
    check(res["requests"]["memory"] and res["requests"]["cpu"] and res["limits"]["memory"],
          f"resources requested, memory bounded: {res}")
    check(pod["metadata"]["annotations"].get("prometheus.io/scrape") == "true" and
          pod["metadata"]["annotations"].get("prometheus.io/port") == str(metrics),
          "Prometheus scrape annotations")
    want = {("echo", "TCP"), ("echo-udp", "UDP"), ("metrics", "TCP")}
    got = {(p["targetPort"], p["protocol"]) for p in svc["spec"]["ports"]}
    check(got == want and all(p["targetPort"] in ports for p in svc["spec"]["ports"]),
          f"the Service: TCP and UDP echo, metrics: {got}")
    labels = pod["metadata"]["labels"]
    for name, sel in (("Service", svc["spec"]["selector"]),
                      ("budget", pdb["spec"]["selector"]["matchLabels"])):
        check(sel.items() <= labels.items(), f"the {name} selects the pods: {sel}")
    check(pdb["spec"].get("maxUnavailable") == 1, "one pod at a time may be disrupted")


OVERLAYS = os.path.join(harness.ROOT_DIR, "deploy", "kubernetes-overlays")
LAYERS = ("monitoring", "prefork", "tls", "proxy")


def chain(*layers):
    """The layers on top of each other, as README says to combine them: each layer's
    folder copied, its bases pointed at the one before (the first's at the base)."""
    top = tempfile.mkdtemp(dir=pods.store()[0])
    below = os.path.relpath(BASE, os.path.join(top, layers[0]))
    for layer in layers:
        shutil.copytree(os.path.join(OVERLAYS, layer), os.path.join(top, layer))
        kust = os.path.join(top, layer, "kustomization.yaml")
        with open(kust) as f:
            text = f.read()
        check("\n- ../../kubernetes\n" in text, f"{layer}'s bases is the base: {text}")
        with open(kust, "w") as f:
            f.write(text.replace("\n- ../../kubernetes\n", f"\n- {below}\n"))
        below = f"../{layer}"
    try:
        return render(os.path.join(top, layers[-1]))
    finally:
        shutil.rmtree(top)


def test_overlays_add_monitoring_prefork_tls_and_proxy_alone_or_chained_and_mpechod_takes_them():
    alone = {layer: render(os.path.join(OVERLAYS, layer)) for layer in LAYERS}
    every = chain(*LAYERS)
    mon = alone["monitoring"]["ServiceMonitor"]["spec"]
    check(mon["endpoints"][0]["port"] == "metrics" and mon["selector"]["matchLabels"].items()
          <= every["Deployment"]["spec"]["template"]["metadata"]["labels"].items(),
          f"the ServiceMonitor scrapes the Service's metrics port: {mon}")
    args = {c: d["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
            for c, d in alone.items()}
    check(option(args["prefork"], "model") == "prefork", "prefork: --model=prefork")
    check(args["proxy"][0] == "--listen=:8000,proxy" and "--listen=:8000" not in args["proxy"]
          and option(args["proxy"], "proxy-from"), f"proxy: the echo listener takes PROXY: {args['proxy']}")
    tls = alone["tls"]
    spec = tls["Deployment"]["spec"]["template"]["spec"]
    mount = spec["containers"][0]["volumeMounts"][0]
    check("--listen=:8443,tls" in args["tls"] and option(args["tls"], "tls-cert") ==
          f"{mount['mountPath']}/tls.crt" and spec["volumes"][0]["secret"]["secretName"]
          == "mpecho-tls" and 8443 in [p["port"] for p in tls["Service"]["spec"]["ports"]],
          f"tls: port 8443 with the Secret's pair: {args['tls']}")
    chained = every["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    check(all(a in chained for layer in LAYERS for a in args[layer] if a != "--listen=:8000")
          and "ServiceMonitor" in every and 8443 in
          [p["port"] for p in every["Service"]["spec"]["ports"]],
          f"the chain holds every layer's change: {chained}")
    for name, d in (("the base", render(BASE)), ("every layer", every)):
        _mpechod_takes(d["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"], name)


def _mpechod_takes(args, name):
    """mpechod starts with a manifest's arguments (in a network namespace of its own, with
    a test certificate where the Secret's would be)."""
    from test_tls import certs
    cert, key = certs()
    args = [a.replace("/etc/mpecho/tls/tls.crt", cert).replace("/etc/mpecho/tls/tls.key", key)
            for a in args]
    srv = harness.Server(*args, prefix=("unshare", "-n", "sh", "-c",
                                        'ip link set lo up && exec "$@"', "sh"))
    check(len(srv.addrs) >= 1, f"{name}: mpechod listens with {args}")
    srv.proc.send_signal(signal.SIGTERM)  # the second TERM cuts --shutdown-delay short
    srv.wait_for(r"event=leaving ")
    check(srv.stop() == 0, f"{name}: mpechod stops cleanly")


def playable(deployment):
    """The Deployment as podman 4.3's kube play can run three of: without the container's
    ports, which it would publish on the host (three replicas would collide there; a
    cluster publishes none), and so with the probes' named ports as numbers."""
    d = json.loads(json.dumps(deployment))
    for c in d["spec"]["template"]["spec"]["containers"]:
        named = {p["name"]: p["containerPort"] for p in c.pop("ports", [])}
        for probe in ("readinessProbe", "livenessProbe"):
            get = c.get(probe, {}).get("httpGet", {})
            get["port"] = named.get(get.get("port"), get.get("port"))
    return d


def test_kube_play_runs_the_deployment_and_the_bench_job_and_kube_down_loses_no_byte():
    """One play of the Deployment for both: its pods are checked while the Job's two
    generators load one of them, then kube down stops them while a client streams."""
    pods.image()
    dep = playable(render(BASE)["Deployment"])
    job = render(os.path.join(BASE, "bench"))["Job"]
    check(job["spec"]["completionMode"] == "Indexed" and "--json" in
          job["spec"]["template"]["spec"]["containers"][0]["args"], "an Indexed Job of --json runs")
    names = [f"{dep['metadata']['name']}-pod-{i}" for i in range(dep["spec"]["replicas"])]
    with tempfile.TemporaryDirectory(dir=pods.store()[0]) as d:
        pm = pods.Podman()
        try:
            server = _play(pm, d, "server", dep)
            addrs, pids = pm.pods(names, "mpechod")
            harness.wait_until(lambda: pm.get(addrs[names[1]], 9100, "/readyz")[0] == 200, 20,
                               f"{names[1]} ready for the generators")
            start_at = round(time.time() + 2, 3)
            bench = _play(pm, d, "bench", bench_pod(job, addrs[names[1]], start_at))
            for pod in names:
                _check_pod(pm, pod, addrs[pod])
            _check_bench(pm, d, start_at)
            pm.run("kube", "down", bench, timeout=60)
            _check_kube_down(pm, server, dep, names, addrs[names[0]], list(pids.values()))
        finally:
            pm.close()


def _play(pm, d, name, doc):
    """podman kube play of one document, written to d/name.json: that file."""
    path = os.path.join(d, f"{name}.json")
    with open(path, "w") as f:
        f.write(kyaml.dump([doc]))
    pm.run("kube", "play", path, timeout=120)
    return path


def _check_pod(pm, pod, addr):
    """A pod of the Deployment answers: its banner names it, it echoes, it is ready."""
    with pm.connect(addr, 8000) as s:
        s.settimeout(20)
        banner = s.recv(200)
        check(banner == f"mpechod {pod} {addr}:8000\r\n".encode(), f"{pod}'s banner: {banner!r}")
        s.sendall(b"ping\n")
        check(harness.recv_exactly(s, 5) == b"ping\n", f"{pod} echoes")
    status, _ = harness.wait_until(lambda: (lambda r: r if r[0] == 200 else None)(
        pm.get(addr, 9100, "/readyz")), 20, f"{pod} ready")
    status, body = pm.get(addr, 9100, "/metrics")
    check(status == 200 and "mpechod_sessions_ended_total" in body, f"{pod}'s /metrics: {body[:300]}")


def _check_bench(pm, d, start_at):
    """The Job's two generators began at --start-at, and merged, their messages are the sum."""
    results = []
    gens = [f"mpecho-bench-gen-{i}" for i in range(2)]
    pm.run("wait", *gens, timeout=60)
    for gen in gens:
        results.append(os.path.join(d, f"{gen}.json"))
        with open(results[-1], "w") as f:
            f.write(pm.run("logs", gen).stdout)
    merged = subprocess.run([harness.binary("mpecho-bench"), "merge", "--json", *results],
                            capture_output=True, text=True, timeout=30)
    check(merged.returncode == 0, f"merge: {merged.stderr}")
    each = [json.load(open(r)) for r in results]
    total = json.loads(merged.stdout)
    check(all(r["settings"]["start_at"] == start_at and r["measure_start"] >= start_at
              for r in each), f"both began at --start-at {start_at}: "
          f"{[r['measure_start'] for r in each]}")
    check(all(r["ops"] > 0 and not any(r["errors"].values()) for r in each) and
          total["ops"] == sum(r["ops"] for r in each),
          f"merged messages {total['ops']} = {[r['ops'] for r in each]}")


def _check_kube_down(pm, manifest, dep, names, addr, pids):
    """kube down while a client streams to the first pod: every byte comes back, and the
    pod left, drained and stopped by itself."""
    pod = names[0]
    spec = dep["spec"]["template"]["spec"]
    grace = spec["terminationGracePeriodSeconds"]
    containers = [f"{p}-{c['name']}" for p in names for c in spec["containers"]]
    logs = {}
    sent, back = _stream_across_kube_down(pm, (manifest, containers, grace, logs), addr, pids)
    text = logs.get(f"{pod}-mpechod", "")
    check(back == f"mpechod {pod} {addr}:8000\r\n".encode() + sent,
          f"the stream through kube down got every byte back ({len(back)} bytes for "
          f"{len(sent)}):\n{text}")
    check(re.search(r"event=leaving signal=TERM sessions=1 .*event=shutdown signal=TERM "
                    r".*event=stop served=", text, re.S) and "event=terminate" not in text,
          f"{pod} left, drained and stopped by itself:\n{text}")


def _kube_down(pm, manifest, containers, grace, logs):
    """podman kube down, after podman stop of the pods' containers, as a kubelet stops a
    pod: SIGTERM, up to terminationGracePeriodSeconds, and only then the pod's network.
    podman 4.3 alone would not: kube down kills the containers outright (podman issue
    22397, fixed in 5.1), and podman pod stop stops the infra container at once, whose
    network then goes while the others drain; nor does it read the grace period. The
    first container's log is kept in logs before kube down removes it."""
    pm.run("stop", "--time", str(grace), *containers, timeout=grace + 30)
    logs[containers[0]] = pm.logs(containers[0])
    pm.run("kube", "down", manifest, timeout=60)


def _stream_across_kube_down(pm, down_args, addr, pids):
    """Half a stream before kube down, half once the pod drains: (sent, what came back).
    In between, the pod is leaving, as its clients see it: /readyz says 503 and a new
    client is still served; then its listener is gone (the drain began). Once that is
    seen, a second TERM to each pod's mpechod (pids, on this host) ends --shutdown-delay
    (5 s) at once, as mpechod.8 says, instead of waiting it out: test_probes times the
    delay itself."""
    stream = pods.Stream(pm, addr)
    down = threading.Thread(target=_kube_down, args=(pm, *down_args))
    try:
        stream.send(os.urandom(1 << 20))
        down.start()
        harness.wait_until(lambda: pm.get(addr, 9100, "/readyz")[0] == 503, 30,
                           "/readyz 503 once the pod is leaving")
        with pm.connect(addr, 8000, timeout=0) as late:
            late.settimeout(20)
            late.sendall(b"late\n")
            check(b"late\n" in recv_until(late, b"late\n"), "a client is served while leaving")
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        harness.wait_until(lambda: refused(pm, addr, 8000), 30, "the listener to close")
        stream.send(os.urandom(1 << 20))
    finally:
        try:
            back = stream.finish()
        finally:
            if down.ident is not None:
                down.join(down_args[2] + 90)
    return stream.sent, back


def refused(pm, addr, port):
    try:
        pm.connect(addr, port, timeout=0).close()
        return False
    except ConnectionRefusedError:
        return True


def recv_until(s, tail):
    data = b""
    while not data.endswith(tail):
        b = s.recv(4096)
        if not b:
            break
        data += b
    return data


def bench_pod(job, target, start_at, generators=2):
    """The Job's generators as one pod podman can play: its template with the container
    twice, each told its index as the Job would. The kubelet expands $(START_AT) from the
    ConfigMap; podman 4.3 does not, so it is written in here, with the server pod's address
    for the Service's name and a run of a second instead of thirty."""
    spec = json.loads(json.dumps(job["spec"]["template"]["spec"]))
    (c,) = spec["containers"]
    c.pop("env")
    c["args"] = [a.replace("$(START_AT)", f"{start_at:.3f}") for a in c["args"]]
    c["args"] = [target if a == "mpecho" else "--duration=1" if a.startswith("--duration=")
                 else a for a in c["args"]]
    spec["containers"] = [dict(c, name=f"gen-{i}",
                               env=[{"name": "JOB_COMPLETION_INDEX", "value": str(i)}])
                          for i in range(generators)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "mpecho-bench"},
            "spec": spec}
