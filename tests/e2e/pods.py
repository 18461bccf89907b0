"""Podman (and Docker) for the container tests: namespaces of the test's own, private stores.

Podman runs only inside a network namespace the test made (`unshare -n`, lo up): its NAT
rules would otherwise turn on connection tracking in the machine's own namespace, and
the connection rates of the other tests and of make bench would fill its table. Its
store, run root and temporary files live under BUILD/containers, so the tests neither
see nor touch images and containers of anyone else's; the image is built there once per
run (make image, whose layers podman caches between runs). A containers.conf there sets
what this machine needs: runc (crun fails on its cgroup setup), default ulimits within
the machine's hard limits, and a folder of its own for the networks podman kube play makes. Every container and pod a test starts is removed by close(),
which the tests call in a finally.
"""
import json
import os
import re
import socket
import subprocess
import threading
import time

import harness
from harness import check, track
from test_package import changelog_version

CONF = """[containers]
default_ulimits = ["nofile=4096:4096", "nproc=1024:1024"]
[engine]
runtime = "runc"
[network]
network_config_dir = "{top}/networks"
"""
_built = {}  # BUILD -> the image's name, once make image has run in this process


def store():
    """The private store's folder and the podman command line that uses it."""
    top = os.path.abspath(os.path.join(harness.BUILD, "containers"))
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, "containers.conf"), "w") as f:
        f.write(CONF.format(top=top))
    return top, ["podman", "--root", f"{top}/storage", "--runroot", f"{top}/run",
                 "--tmpdir", f"{top}/tmp"]


def environment():
    top, _ = store()
    return dict(os.environ, CONTAINERS_CONF=os.path.join(top, "containers.conf"))


def image():
    """mpecho:VERSION, built by make image into the private store (once per run)."""
    if harness.BUILD not in _built:
        _, podman = store()
        make = track(subprocess.Popen(["make", "-s", "-C", harness.ROOT_DIR, "image",
                                       f"BUILD={os.path.abspath(harness.BUILD)}",
                                       "IMAGE_TOOL=" + " ".join(podman)],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, env=environment(), start_new_session=True))
        out = make.communicate(timeout=100)[0]
        check(make.returncode == 0, f"make image failed: {out[-3000:]}")
        subprocess.run([*podman, "image", "prune", "--force"], env=environment(),
                       capture_output=True, timeout=60)  # the images it replaced
        _built[harness.BUILD] = f"localhost/mpecho:{changelog_version()}"
    return _built[harness.BUILD]


class Podman:
    """podman in a network namespace of its own; close() removes all it started there."""

    def __init__(self):
        self.holder = track(subprocess.Popen(
            ["unshare", "-n", "sh", "-c", "ip link set lo up && echo up && exec sleep 600"],
            stdout=subprocess.PIPE, text=True, start_new_session=True))
        check(self.holder.stdout.readline().strip() == "up", "the network namespace is up")
        self.ns = ["nsenter", "-t", str(self.holder.pid), "-n"]
        _, self.podman = store()
        self.env = environment()

    def run(self, *args, ok=True, timeout=60, data=None):
        """podman ARGS in the namespace; its CompletedProcess (text unless data is bytes)."""
        out = subprocess.run([*self.ns, *self.podman, *args], capture_output=True, timeout=timeout,
                             env=self.env, input=data, text=not isinstance(data, bytes))
        if ok:
            check(out.returncode == 0, f"podman {' '.join(args)}: status {out.returncode}, "
                  f"{out.stderr if isinstance(out.stderr, str) else out.stderr.decode()}")
        return out

    def connect(self, addr, port, timeout=20.0):
        """A TCP connection from the namespace to addr:port, retried while nothing listens
        there yet (a pod's start is not ours to see). The calling thread enters the
        namespace only while it connects: the socket stays there, the thread comes back."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(f"/proc/{self.holder.pid}/ns/net", os.O_RDONLY)
        try:
            harness.setns(there)
            try:
                return wait_connectable(lambda: socket.create_connection((addr, port), 5),
                                        timeout)
            finally:
                harness.setns(home)
        finally:
            os.close(home)
            os.close(there)

    def get(self, addr, port, path):
        """An HTTP/1.0 GET from the namespace: (status, body)."""
        with self.connect(addr, port) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n".encode())
            answer = harness.recv_all(s).decode("utf-8", "replace")
        head, _, body = answer.partition("\r\n\r\n")
        return int(head.split()[1]), body

    def address(self, container):
        """The container's address on podman's bridge network."""
        return bridge_address(json.loads(self.run("inspect", container).stdout)[0])

    def pods(self, names, container):
        """Each pod's address (its infra container's, on the network kube play made) and the
        host's pid of its container CONTAINER, from two podman calls for them all."""
        found = json.loads(self.run("pod", "inspect", *names).stdout)
        infra = {p["Name"]: p["InfraContainerID"] for p in
                 (found if isinstance(found, list) else [found])}
        info = json.loads(self.run("inspect", *infra.values(),
                                   *(f"{n}-{container}" for n in names)).stdout)
        by = {c["Id"]: c for c in info} | {c["Name"]: c for c in info}
        return ({n: bridge_address(by[infra[n]]) for n in names},
                {n: by[f"{n}-{container}"]["State"]["Pid"] for n in names})

    def logs(self, container):
        out = self.run("logs", container, ok=False)
        return out.stdout + out.stderr

    def wait_log(self, container, pattern, timeout=20.0):
        return harness.wait_until(lambda: re.search(pattern, self.logs(container)), timeout,
                                  f"/{pattern}/ in the logs of {container}")

    def close(self):
        """Remove every pod and container started here, then end the namespace."""
        try:
            left = self.run("ps", "--all", "--quiet", ok=False).stdout.split()
            if left:
                self.run("pod", "rm", "--all", "--force", "--time", "0", ok=False, timeout=60)
                self.run("rm", "--all", "--force", "--time", "0", ok=False, timeout=60)
                left = self.run("ps", "--all", "--quiet", ok=False).stdout.split()
            check(not left, f"containers left behind: {left}")
        finally:
            self.holder.kill()
            self.holder.wait(10)


class Stream:
    """A client streaming to addr:port from the namespace while a reader thread takes
    the echo: send() what you like, then finish() for all that came back."""

    def __init__(self, pm, addr, port=8000):
        self.sent = b""
        self.sock = pm.connect(addr, port)
        self.sock.settimeout(60)
        self.got = []
        self.reader = threading.Thread(target=lambda: self.got.append(harness.recv_all(self.sock)))
        self.reader.start()

    def send(self, data):
        self.sock.sendall(data)
        self.sent += data

    def finish(self):
        """Half-close, wait for the server's close: the bytes that came back."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.reader.join(60)
            check(not self.reader.is_alive(), "the stream ended")
        finally:
            self.sock.close()
        return self.got[0] if self.got else b""


def bridge_address(info):
    """A container's address on podman's bridge network, from its podman inspect."""
    nets = info["NetworkSettings"]["Networks"]
    addr = info["NetworkSettings"].get("IPAddress") or next(
        (n["IPAddress"] for n in nets.values() if n.get("IPAddress")), "")
    check(addr, f"{info['Name']} has an address on the bridge: {nets}")
    return addr


def wait_connectable(connect, timeout=20.0):
    """connect(), retried while it is refused."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Docker:
    """dockerd from Debian's docker.io (tests/deps.sh unpacks it and its containerd), in a
    network and a mount namespace of its own, with /run a tmpfs there and its store under
    BUILD/containers/docker: the machine has no Docker engine, and gets none. run() is the
    docker client's command line for it; close() stops it."""
    DEPS = os.path.join(harness.ROOT_DIR, "build", "deps")

    def __init__(self):
        top = os.path.join(store()[0], "docker")
        os.makedirs(top, exist_ok=True)
        self.sock = f"unix://{top}/docker.sock"
        self.cli = [os.path.join(self.DEPS, "docker.io", "usr", "bin", "docker"), "-H", self.sock]
        check(os.access(self.cli[0], os.X_OK), f"tests/deps.sh unpacks docker.io to {self.DEPS}")
        path = ":".join([os.path.join(self.DEPS, "docker.io", "usr", "sbin"),
                         os.path.join(self.DEPS, "containerd", "usr", "bin"), os.environ["PATH"]])
        with open(f"{top}/dockerd.log", "w") as log:
            self.daemon = track(subprocess.Popen(
                ["unshare", "-n", "-m", "sh", "-c", 'ip link set lo up && '
                 'mount -t tmpfs run /run && exec dockerd "$@"', "sh", "--data-root",
                 f"{top}/data", "--exec-root", f"{top}/run", "--pidfile", f"{top}/docker.pid",
                 "-H", self.sock, "--iptables=false", "--ip6tables=false", "--bridge=none"],
                stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ, PATH=path),
                start_new_session=True))
        harness.wait_until(lambda: self.daemon.poll() is not None or self.run(
            "version", ok=False).returncode == 0, 30, "dockerd to answer")
        check(self.daemon.poll() is None, f"dockerd runs: {open(f'{top}/dockerd.log').read()}")

    def run(self, *args, ok=True, timeout=60):
        out = subprocess.run([*self.cli, *args], capture_output=True, text=True, timeout=timeout)
        if ok:
            check(out.returncode == 0, f"docker {' '.join(args)}: {out.stderr}")
        return out

    def close(self):
        self.daemon.terminate()
        self.daemon.wait(30)
