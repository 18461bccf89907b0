"""The build's own targets that a user runs: install into a staging directory, make run
(which builds all three programs), make unit, make static in BUILD, and the fuzzing time
README states."""
import os
import re
import signal
import subprocess
import tempfile

from harness import binary, check, connect, echo_roundtrip, group_members, track, wait_until

ONCE = True  # about the build, not about a build flavour: run for the first build only

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_install_honours_prefix_and_destdir():
    with tempfile.TemporaryDirectory() as stage:
        out = subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={stage}",
                              "PREFIX=/opt/mpecho"], capture_output=True, text=True, timeout=300)
        check(out.returncode == 0, f"make install failed: {out.stderr}")
        for path, mode in (("sbin/mpechod", 0o755), ("bin/mpecho", 0o755), ("bin/mpecho-bench", 0o755),
                           ("share/man/man1/mpecho-bench.1", 0o644),
                           ("share/man/man8/mpechod.8", 0o644), ("share/man/man1/mpecho.1", 0o644),
                           ("lib/systemd/system/mpechod.service", 0o644),
                           ("lib/systemd/system/mpechod.socket", 0o644),
                           ("lib/systemd/system/mpechod-inetd.socket", 0o644),
                           ("lib/systemd/system/mpechod-inetd@.service", 0o644)):
            full = os.path.join(stage, "opt/mpecho", path)
            check(os.path.isfile(full), f"{path} installed under DESTDIR/PREFIX")
            check(os.stat(full).st_mode & 0o777 == mode, f"{path} mode {oct(mode)}")
        out = subprocess.run([os.path.join(stage, "opt/mpecho/sbin/mpechod"), "--version"],
                             capture_output=True, text=True, timeout=10)
        check(out.returncode == 0 and out.stdout.startswith("mpechod "), "installed binary runs")


def test_make_run_starts_the_server_in_the_foreground():
    proc = track(subprocess.Popen(["make", "-s", "-C", ROOT, "run",
                                   "RUNARGS=-l 127.0.0.1:0"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, start_new_session=True))
    port = None
    for raw in proc.stderr:
        m = re.search(r"event=listen addr=127.0.0.1:(\d+)", raw.decode())
        if m:
            port = int(m.group(1))
            break
    check(port is not None, "make run logs its listener")
    with connect(port) as s:
        check(echo_roundtrip(s, b"make run") == b"make run", "echo through make run")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C on the terminal
    proc.wait(15)
    wait_until(lambda: not group_members(proc.pid), 5, "make run's processes to end")


def dry_run(*args):
    """The commands make would run (make -n), recursive makes included."""
    out = subprocess.run(["make", "-n", "-C", ROOT, *args], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"make -n {args}: {out.stderr}")
    return out.stdout


def test_make_run_builds_all_three_and_static_and_unit_honour_build():
    with tempfile.TemporaryDirectory() as d:
        commands = dry_run("run", f"BUILD={d}")
        for prog in ("mpechod", "mpecho", "mpecho-bench"):
            check(re.search(rf"-o {re.escape(d)}/{prog} ", commands), f"make run builds {prog}")
        commands = dry_run("static", f"BUILD={d}")
        check(f"BUILD={d}/static {d}/static/mpechod" in commands and " build/static" not in commands,
              f"make static builds in BUILD/static: {commands[:300]}")
        check(re.search(rf"^{re.escape(d)}/unit$", dry_run("unit", f"BUILD={d}"), re.M),
              "make unit runs the unit tests it builds")
    out = subprocess.run(["make", "-s", "-C", ROOT, "unit"], capture_output=True, text=True, timeout=120)
    check(out.returncode == 0 and re.search(r"^unit: \d+ passed, 0 failed$", out.stdout, re.M),
          f"make unit: {out.stdout[-300:]}")


def test_each_program_carries_only_the_parts_of_src_lib_it_uses():
    """src/lib is linked as an archive: the server has no client wire, the client no chargen
    stream, and only the server quotes log values; each uses cli and tls."""
    def functions(program):
        out = subprocess.run(["nm", "--defined-only", binary(program)], capture_output=True,
                             text=True, check=True).stdout
        return {line.split()[2] for line in out.splitlines() if line.split()[1] == "T"}
    server, client, bench = functions("mpechod"), functions("mpecho"), functions("mpecho-bench")
    check("wire_send" not in server and "wire_send" in client and "wire_send" in bench,
          "lib/wire.c: in the clients only")
    check("chargen_fill" in server and "chargen_fill" in bench and "chargen_fill" not in client,
          "lib/chargen.c: not in mpecho")
    check("cli_tls_check" in client and "cli_tls_check" in bench and "tls_error_text" in server,
          "what they all use, they all have")


def test_readme_states_the_fuzzing_time_make_test_uses():
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    seconds = re.search(r"^TEST_FUZZ_SECONDS = (\d+)$", makefile, re.M).group(1)
    check(re.search(r"^test:(.|\n)*?\$\(MAKE\)( -\S+)* fuzz FUZZ_SECONDS=\$\(TEST_FUZZ_SECONDS\)$", makefile, re.M),
          "make test fuzzes for TEST_FUZZ_SECONDS")
    readme = open(os.path.join(ROOT, "README.md")).read()
    stated = re.findall(r"make test runs (\d+) s each", readme)
    check(stated == [seconds], f"README says make test fuzzes {stated} s, the Makefile {seconds}")
    default = re.search(r"^FUZZ_SECONDS \?= (\d+)$", makefile, re.M).group(1)
    stated = re.findall(r"make fuzz runs (\d+) s each", readme)
    check(stated == [default], f"README says make fuzz fuzzes {stated} s, the Makefile {default}")
    check(int(default) > int(seconds), "make fuzz fuzzes longer than make test")


def test_the_static_build_runs_whole_modules_and_only_those_the_makefile_names():
    pattern = re.search(r"^STATIC_TESTS = (\S+)$", open(os.path.join(ROOT, "Makefile")).read(),
                        re.M).group(1)
    named = re.search(r"\(([\w|]+)\)", pattern).group(1).split("|")
    check({"udp", "scaleout", "proxy", "metrics", "limits"} <= set(named),
          f"the image's features are tested on the static build it ships: {named}")
    e2e = os.path.join(ROOT, "tests", "e2e")
    for module in sorted(f[:-3] for f in os.listdir(e2e) if f.startswith("test_") and f.endswith(".py")):
        source = open(os.path.join(e2e, module + ".py")).read()
        tests = [f"{module}.{name}" for name in re.findall(r"^def (test_\w+)\(", source, re.M)]
        chosen = [t for t in tests if re.search(pattern, t)]
        check(chosen == (tests if module[len("test_"):] in named else []),
              f"{module}: STATIC_TESTS picks {len(chosen)} of its {len(tests)} tests: {chosen[:3]}")
