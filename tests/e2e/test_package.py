"""What a packager and an administrator get: the units pass systemd-analyze, as they are in
dist/ and as make install and the Debian package install them; the package builds without a
warning, passes lintian, ships the documents with working links, and its installed server
runs; the service reads its options file and the socket takes the drop-in README shows; the
version has one home."""
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile

from harness import (BUILD, OWN_PORT, ROOT_DIR, Server, binary, check, connect, connect_when_up,
                     echo_roundtrip, own_network)

ONCE = True  # about the tree and the package, not a build flavour

UNITS = os.path.join(ROOT_DIR, "dist", "systemd")


def changelog_version():
    first = open(os.path.join(ROOT_DIR, "debian", "changelog")).readline()
    return re.match(r"mpecho \(([^)]+)\)", first).group(1)


def test_units_pass_systemd_analyze_verify():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "man", "man8"))
        shutil.copy(os.path.join(ROOT_DIR, "man", "mpechod.8"), os.path.join(d, "man", "man8"))
        for name in os.listdir(UNITS):
            text = open(os.path.join(UNITS, name)).read()
            with open(os.path.join(d, name), "w") as f:
                f.write(text.replace("/usr/sbin/mpechod", os.path.abspath(binary("mpechod"))))
        env = dict(os.environ, MANPATH=os.path.join(d, "man"))  # Documentation=man:mpechod(8)
        for pair in (("mpechod.service", "mpechod.socket"),
                     ("mpechod-inetd.socket", "mpechod-inetd@.service")):
            out = subprocess.run(["systemd-analyze", "verify", *[os.path.join(d, u) for u in pair]],
                                 capture_output=True, text=True, env=env, timeout=60)
            check(out.returncode == 0 and out.stderr.strip() == "",
                  f"systemd-analyze verify {pair}: {out.returncode} {out.stderr}")
        with open(os.path.join(d, "mpechod.service"), "a") as f:
            f.write("Restart=sometimes\n")  # the check can fail: a bad value is reported
        out = subprocess.run(["systemd-analyze", "verify", os.path.join(d, "mpechod.service")],
                             capture_output=True, text=True, env=env, timeout=60)
        check("Restart" in out.stderr, f"a broken unit is reported: {out.stderr}")


def make_install(dest, *args):
    out = subprocess.run(["make", "-s", "-C", ROOT_DIR, "install", f"BUILD={os.path.abspath(BUILD)}",
                          f"DESTDIR={dest}", *args], capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, f"make install {args}: {out.stdout[-2000:]}{out.stderr[-2000:]}")


def systemd_root(dest):
    """What systemd-analyze verify --root=dest needs beside the installed files: the system's
    own units (sysinit.target and the rest) and /bin/kill (ExecReload)."""
    shutil.copytree("/lib/systemd/system", os.path.join(dest, "usr/lib/systemd/system"), symlinks=True)
    os.makedirs(os.path.join(dest, "bin"), exist_ok=True)
    shutil.copy(shutil.which("kill"), os.path.join(dest, "bin", "kill"))


def verify_root(dest, *units):
    env = dict(os.environ, MANPATH=os.path.join(dest, "usr/local/share/man"))
    return subprocess.run(["systemd-analyze", "verify", f"--root={dest}", *units],
                          capture_output=True, text=True, env=env, timeout=60)


def test_make_install_names_the_installed_paths_in_the_units():
    with tempfile.TemporaryDirectory() as d:
        make_install(d)  # PREFIX=/usr/local, the default
        systemd_root(d)
        service = open(os.path.join(d, "usr/local/lib/systemd/system/mpechod.service")).read()
        check("ExecStart=/usr/local/sbin/mpechod $MPECHOD_OPTS" in service and
              "EnvironmentFile=-/usr/local/etc/default/mpechod" in service, service)
        for pair in (("mpechod.socket", "mpechod.service"),
                     ("mpechod-inetd.socket", "mpechod-inetd@.service")):
            out = verify_root(d, *pair)
            check(out.returncode == 0 and out.stderr.strip() == "",
                  f"systemd-analyze verify --root {pair}: {out.returncode} {out.stderr}")
        check_documents(d, "usr/local/share/doc/mpecho", {})
        options = os.path.join(d, "usr/local/etc/default/mpechod")
        with open(options, "a") as f:
            f.write("# the administrator's\n")
        make_install(d)
        check(open(options).read().endswith("# the administrator's\n"), "a second make install "
              "keeps the administrator's options file")
        # The unit as it is in dist/ names /usr/sbin/mpechod: the check sees it is not there.
        os.makedirs(os.path.join(d, "etc/systemd/system"))
        shutil.copy(os.path.join(UNITS, "mpechod.service"), os.path.join(d, "etc/systemd/system"))
        out = verify_root(d, "mpechod.service")
        check("/usr/sbin/mpechod is not executable" in out.stderr, f"a wrong path is reported: {out.stderr}")


def unit_settings(root, unit):
    """{key: [values]} of a unit with its drop-ins, as systemd reads them: an empty
    assignment clears the list."""
    text = subprocess.run(["systemd-analyze", "cat-config", f"--root={root}", f"systemd/system/{unit}"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    settings = {}
    for line in text.splitlines():
        m = re.match(r"(\w+)=(.*)$", line.strip())
        if m:
            values = settings.setdefault(m.group(1), [])
            values[:] = [] if m.group(2) == "" else values + [m.group(2)]
    return settings


def service_command(root, unit):
    """The command line systemd would run: Environment=, then EnvironmentFile= over it, then
    $VAR in ExecStart= replaced by its value split at blanks."""
    settings = unit_settings(root, unit)
    env = dict(v.split("=", 1) for e in settings.get("Environment", []) for v in shlex.split(e))
    for path in settings.get("EnvironmentFile", []):
        for line in open(os.path.join(root, path.lstrip("-").lstrip("/"))):
            if re.match(r"\w+=", line):
                key, value = line.strip().split("=", 1)
                env[key] = " ".join(shlex.split(value))
    words = settings["ExecStart"][-1].split()
    return [w for word in words for w in (env.get(word[1:], "").split() if word.startswith("$") else [word])]


def readme_block(lang, marker):
    text = open(os.path.join(ROOT_DIR, "README.md")).read()
    blocks = re.findall(rf"```{lang}\n(.*?)```", text, re.S)
    found = [b for b in blocks if marker in b]
    check(len(found) == 1, f"README has one {lang} block with {marker}")
    return found[0]


def test_the_service_reads_its_options_file_and_the_socket_takes_the_documented_drop_in():
    port = OWN_PORT  # systemd-socket-activate binds it below, in a network namespace of the test's own
    with tempfile.TemporaryDirectory() as d:
        make_install(d)
        systemd_root(d)
        dropin = os.path.join(d, "etc/systemd/system/mpechod.socket.d")
        os.makedirs(dropin)
        with open(os.path.join(dropin, "override.conf"), "w") as f:
            f.write(readme_block("ini", "ListenStream=").replace("0.0.0.0:7", f"127.0.0.1:{port}"))
        options = os.path.join(d, "usr/local/etc/default/mpechod")
        text = open(options).read()
        check(re.search(r'^MPECHOD_OPTS="-q -l 127.0.0.1:7"$', text, re.M), text)
        shown = readme_block("sh", "MPECHOD_OPTS=").replace("0.0.0.0:7", f"127.0.0.1:{port}")
        with open(options, "w") as f:
            f.write(re.sub(r"^MPECHOD_OPTS=.*$", shown.strip().splitlines()[-1].replace('"-q', '"-s upper -q'),
                           text, flags=re.M))
        out = verify_root(d, "mpechod.socket", "mpechod.service")
        check(out.returncode == 0 and out.stderr.strip() == "", f"verify with the drop-in: {out.stderr}")
        listen = unit_settings(d, "mpechod.socket")["ListenStream"]
        check(listen == [f"127.0.0.1:{port}"], f"the drop-in replaces the address: {listen}")
        argv = service_command(d, "mpechod.service")
        check(argv[0] == "/usr/local/sbin/mpechod", f"{argv}")
        with own_network():
            srv = Server(*argv[1:], program=os.path.join(d, argv[0].lstrip("/")), ready=False,
                         prefix=("systemd-socket-activate", "-l", listen[0]))
            with connect_when_up(port) as s:
                check(echo_roundtrip(s, b"options\n") == b"OPTIONS\n", "-s upper from the options file")
            srv.wait_for(rf"event=listen addr=127\.0\.0\.1:{port} fd=3 ")
            check(srv.stop(served=1) == 0, "exit 0")


def test_deb_builds_passes_lintian_and_the_installed_server_runs():
    version = changelog_version()
    with tempfile.TemporaryDirectory() as build:
        out = subprocess.run(["make", "-s", "-C", ROOT_DIR, "deb", f"BUILD={build}"],
                             capture_output=True, text=True, timeout=600)
        check(out.returncode == 0, f"make deb failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
        warned = [l for l in (out.stdout + out.stderr).splitlines() if re.search(r": warning: ", l)]
        check(not warned, f"the package builds (with Debian's hardening flags) without a warning: {warned}")
        debs = glob.glob(os.path.join(build, "deb", f"mpecho_{version}_*.deb"))
        check(len(debs) == 1, f"one package: {os.listdir(os.path.join(build, 'deb'))}")
        changes = glob.glob(os.path.join(build, "deb", "*.changes"))[0]
        lint = subprocess.run(["lintian", changes], capture_output=True, text=True, timeout=300)
        errors = [l for l in lint.stdout.splitlines() if l.startswith("E:")]
        check(lint.returncode == 0 and not errors, f"lintian: {lint.returncode} {errors} {lint.stderr}")
        root = os.path.join(build, "root")
        subprocess.run(["dpkg", "-x", debs[0], root], check=True, timeout=60)
        for path in ("usr/sbin/mpechod", "usr/bin/mpecho", "usr/bin/mpecho-bench",
                     "usr/share/man/man8/mpechod.8.gz", "usr/share/man/man1/mpecho.1.gz",
                     "usr/share/man/man1/mpecho-bench.1.gz", "usr/share/doc/mpecho/copyright"):
            check(os.path.isfile(os.path.join(root, path)), f"the package installs {path}")
        for unit in os.listdir(UNITS):
            installed = os.path.join(root, "lib/systemd/system", unit)
            check(open(installed).read() == open(os.path.join(UNITS, unit)).read(),
                  f"{unit} installed as it is in dist/")
        check_documents(root, "usr/share/doc/mpecho", {"LICENSE": "copyright"})
        scripts = maintainer_scripts(debs[0], build)
        conffiles = open(os.path.join(build, "control", "conffiles")).read().split()
        check(conffiles == ["/etc/default/mpechod"], f"the options file is a conffile: {conffiles}")
        # dh_installsystemd --no-enable: a unit is enabled again on upgrade only if the
        # administrator had enabled it (the block is guarded by debian-installed); no start.
        blocks = scripts.split("# Automatically added by dh_installsystemd")
        check(all("debian-installed" in b for b in blocks if "deb-systemd-helper enable" in b),
              f"units are installed, never enabled by the package:\n{scripts}")
        check("deb-systemd-invoke start" not in scripts and "deb-systemd-invoke restart" not in scripts,
              "nor started")
        run_installed(root, version)


# dpkg-buildpackage compiles everything: minutes on two busy CPUs; its own bounds are
# make deb's 600 s and lintian's 300 s.
test_deb_builds_passes_lintian_and_the_installed_server_runs.timeout = 900


def check_documents(root, docdir, renamed):
    """README, the guides and the examples are installed, and every link between them works."""
    doc = os.path.join(root, docdir)
    for name in ("README.md", "docs/guide.md", "docs/balancer.md", "examples/xinetd/mpechod",
                 "examples/haproxy/haproxy.cfg", "examples/default/mpechod"):
        check(os.path.isfile(os.path.join(doc, name)), f"{docdir}/{name} is installed")
    broken = []
    for md in glob.glob(os.path.join(doc, "**", "*.md"), recursive=True):
        for link in re.findall(r"\]\(([^)#]+)\)", open(md).read()):
            if re.match(r"\w+:", link):
                continue  # https: and the like
            target = os.path.normpath(os.path.join(os.path.dirname(md), renamed.get(link, link)))
            if not os.path.exists(target):
                broken.append(f"{os.path.relpath(md, doc)}: {link}")
    check(not broken, f"links in the installed documents that lead nowhere: {broken}")


def maintainer_scripts(deb, build):
    """The package's maintainer scripts, as text ("" if it has none)."""
    ctl = os.path.join(build, "control")
    subprocess.run(["dpkg-deb", "-e", deb, ctl], check=True, timeout=60)
    return "".join(open(os.path.join(ctl, n)).read() for n in os.listdir(ctl)
                   if n in ("postinst", "preinst", "prerm", "postrm"))


def run_installed(root, version):
    mpechod = os.path.join(root, "usr/sbin/mpechod")
    out = subprocess.run([mpechod, "--version"], capture_output=True, text=True, timeout=10)
    check(out.stdout.strip() == f"mpechod {version}", f"installed version: {out.stdout!r}")
    srv = Server("-l", "127.0.0.1:0", program=mpechod)
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"installed") == b"installed", "the installed server echoes")
    check(srv.stop() == 0, "exit 0")


def test_the_version_has_one_home():
    version = changelog_version()
    for prog in ("mpechod", "mpecho", "mpecho-bench"):
        out = subprocess.run([binary(prog), "--version"], capture_output=True, text=True, timeout=10)
        check(out.stdout.strip() == f"{prog} {version}", f"{prog}: {out.stdout!r}")
    hits = subprocess.run(["grep", "-rn", re.escape(f'"{version}"'), os.path.join(ROOT_DIR, "src")],
                          capture_output=True, text=True).stdout
    check(hits == "", f"a second copy of the version in the sources: {hits}")
