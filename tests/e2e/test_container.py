"""The container image (Containerfile, make image), run for real by podman.

The image holds the three static programs, as one file that runs the one it is called
by, and nothing else; it runs as nobody, and works read-only with every capability
dropped. mpechod is its PID 1: on SIGTERM (podman stop)
it stops accepting, lets a client that is still streaming finish with every byte, reaps
every session and exits 0. mpecho and mpecho-bench run from the same image. buildah bud
and docker build make the same image from the Containerfile.
"""
import json
import os
import re
import subprocess
import threading

import harness
import pods
from harness import check

ONCE = True  # one image, whatever the build: it is made from BUILD/static
LOCKED = ("--read-only", "--cap-drop", "ALL", "--user", "65534")
FILES = {"usr/sbin/mpechod": None, "usr/bin/mpecho": "../sbin/mpechod",
         "usr/bin/mpecho-bench": "../sbin/mpechod"}


def test_image_is_the_three_programs_in_one_file_as_nobody_with_its_labels():
    image = pods.image()
    pm = pods.Podman()
    try:
        info = json.loads(pm.run("image", "inspect", image).stdout)[0]
        conf, version = info["Config"], image.rsplit(":", 1)[1]
        check(conf["User"] == "65534:65534" and conf["Entrypoint"] == ["/usr/sbin/mpechod"],
              f"runs mpechod as nobody: {conf['User']} {conf['Entrypoint']}")
        labels = conf["Labels"]
        for key, want in (("title", "mpecho"), ("version", version), ("licenses", "ISC"),
                          ("source", "https://example.org/mpecho"), ("description", "echo server")):
            got = labels.get(f"org.opencontainers.image.{key}", "")
            check(want in got, f"label {key}: {got!r} holds {want!r}")
        check({"8000/tcp", "8000/udp", "9100/tcp"} <= set(conf["ExposedPorts"]),
              f"exposes the echo and metrics ports: {conf['ExposedPorts']}")
        pm.run("create", "--name", "files", image)
        files = _tar_files(pm.run("export", "files", data=b"").stdout)
        check(files == FILES, f"the image is the three programs in one file and nothing else: {files}")
        check(_buildah_bud(pm, version) == conf, "buildah bud makes the same image from it")
    finally:
        pm.close()


def _buildah_bud(pm, version):
    """The Containerfile as buildah bud takes it, from make image's folder: its config."""
    podman = pm.podman
    buildah = ["buildah", *podman[podman.index("--root"):podman.index("--tmpdir")]]
    tag = "localhost/mpecho-bud:test"
    out = subprocess.run([*buildah, "bud", "-q", "-f", "Containerfile", "--build-arg",
                          f"VERSION={version}", "-t", tag,
                          os.path.join(os.path.abspath(harness.BUILD), "image")],
                         cwd=harness.ROOT_DIR, env=pm.env, capture_output=True, text=True,
                         timeout=120)
    check(out.returncode == 0, f"buildah bud: {out.stderr}")
    try:
        return json.loads(pm.run("image", "inspect", tag).stdout)[0]["Config"]
    finally:
        pm.run("rmi", tag)


def test_docker_build_takes_the_containerfile_and_makes_the_same_image():
    """make image IMAGE_TOOL=docker, with Debian's Docker (20.10, its default builder):
    the image's configuration and files are those podman built."""
    image = pods.image()
    pm = pods.Podman()
    docker = None
    try:
        want = json.loads(pm.run("image", "inspect", image).stdout)[0]["Config"]
        docker = pods.Docker()
        make = subprocess.run(["make", "-s", "-C", harness.ROOT_DIR, "image",
                               f"BUILD={os.path.abspath(harness.BUILD)}",
                               "IMAGE_TOOL=" + " ".join(docker.cli)],
                              capture_output=True, text=True, timeout=100)
        check(make.returncode == 0, f"make image IMAGE_TOOL=docker: {make.stdout}{make.stderr}")
        tag = image.split("/", 1)[1]
        got = json.loads(docker.run("image", "inspect", tag).stdout)[0]["Config"]
        want["Labels"].pop("io.buildah.version", None)  # podman's own mark
        same = ("User", "Entrypoint", "Env", "Labels", "ExposedPorts", "Cmd", "WorkingDir")
        check({k: got.get(k) or None for k in same} == {k: want.get(k) or None for k in same},
              f"docker's image is configured as podman's:\n{got}\n{want}")
        blob = os.path.join(pods.store()[0], "docker", "image.tar")
        docker.run("save", "-o", blob, tag)
        try:
            files = _saved_files(blob)
        finally:
            os.unlink(blob)
        check(files == FILES, f"docker's image holds the same files: {files}")
    finally:
        if docker:
            docker.close()
        pm.close()


def _saved_files(path):
    """What the layers of an image that docker save wrote hold, as _tar_files says."""
    import tarfile
    files = {}
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            if m.name.endswith("/layer.tar"):
                files.update(_tar_files(tar.extractfile(m).read()))
    return files


def _tar_files(blob):
    """{name: None for a file, or where a link points} of an exported file system."""
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        return {m.name: m.linkname if m.issym() else None for m in tar.getmembers()
                if not m.isdir()}


def test_read_only_nobody_container_echoes_runs_the_client_and_bench_and_drains_on_stop():
    image = pods.image()
    pm = pods.Podman()
    try:
        pm.run("run", "-d", "--name", "srv", *LOCKED, image,
               "--metrics", "0.0.0.0:9100", "--metrics-allow", "0.0.0.0/0")
        addr = pm.address("srv")
        with pm.connect(addr, 8000) as s:
            s.sendall(b"hello container\n")
            check(s.recv(100) == b"hello container\n", "echo from the container")
        check(pm.get(addr, 9100, "/readyz")[0] == 200, "/readyz 200 while serving")

        data = os.urandom(256 << 10)
        out = pm.run("run", "--rm", "-i", *LOCKED, "--entrypoint", "mpecho", image,
                     f"{addr}:8000", data=data)
        check(out.stdout == data, f"mpecho from the image: {len(out.stdout)} of {len(data)} bytes")
        out = pm.run("run", "--rm", *LOCKED, "--entrypoint", "mpecho-bench", image, "--json",
                     "-q", "-d", "0.5", "-w", "0", "pingpong", "-c", "2", addr, "8000")
        r = json.loads(out.stdout)
        check(r["ops"] > 0 and not any(r["errors"].values()),
              f"mpecho-bench from the image: {r['ops']} messages, {r['errors']}")

        back = _stream_across_stop(pm, addr)
        logs = pm.logs("srv")
        check(back, "the stream got every byte back")
        state = json.loads(pm.run("inspect", "srv").stdout)[0]["State"]
        check(state["ExitCode"] == 0, f"mpechod as PID 1 exits 0 on SIGTERM: {state['ExitCode']}")
        connects, ends = (len(re.findall(rf"event={e} ", logs)) for e in ("connect", "end"))
        check(connects == ends and connects >= 4 and "event=terminate" not in logs
              and re.search(r"event=stop served=\d+", logs),
              f"every session ended by itself and was reaped ({connects} in, {ends} out):\n{logs}")
    finally:
        pm.close()


def _stream_across_stop(pm, addr):
    """A client streams while podman stop drains the server: half before, half after the
    drain began (and the listener is gone). True when every byte came back."""
    stream = pods.Stream(pm, addr)
    stopper = threading.Thread(target=pm.run, args=("stop", "--time", "30", "srv"))
    try:
        stream.send(os.urandom(1 << 20))
        stopper.start()
        pm.wait_log("srv", r"event=shutdown signal=TERM sessions=1 ")
        try:
            pm.connect(addr, 8000, timeout=0).close()
            check(False, "a new client is refused once the drain began")
        except ConnectionRefusedError:
            pass
        stream.send(os.urandom(1 << 20))
    finally:
        back = stream.finish()
        if stopper.ident is not None:
            stopper.join(60)
    return back == stream.sent
