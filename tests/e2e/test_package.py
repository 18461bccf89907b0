"""What a packager and an administrator get: the units pass systemd-analyze, the Debian
package builds, passes lintian and its installed server runs, and the version has one home."""
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile

from harness import ROOT_DIR, Server, binary, check, connect, echo_roundtrip

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


def test_deb_builds_passes_lintian_and_the_installed_server_runs():
    version = changelog_version()
    with tempfile.TemporaryDirectory() as build:
        out = subprocess.run(["make", "-s", "-C", ROOT_DIR, "deb", f"BUILD={build}"],
                             capture_output=True, text=True, timeout=600)
        check(out.returncode == 0, f"make deb failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
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
        scripts = maintainer_scripts(debs[0], build)
        # dh_installsystemd --no-enable: a unit is enabled again on upgrade only if the
        # administrator had enabled it (the block is guarded by debian-installed); no start.
        blocks = scripts.split("# Automatically added by dh_installsystemd")
        check(all("debian-installed" in b for b in blocks if "deb-systemd-helper enable" in b),
              f"units are installed, never enabled by the package:\n{scripts}")
        check("deb-systemd-invoke start" not in scripts and "deb-systemd-invoke restart" not in scripts,
              "nor started")
        run_installed(root, version)


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
