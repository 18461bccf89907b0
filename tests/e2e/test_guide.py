"""docs/guide*.md, the guide for learners, kept true: every shell session in it runs and prints
what the guide says it prints; every file and function it names exists; the English, Chinese and
Korean guides carry the same sessions, the same expected output and the same references."""
import os
import re
import signal
import subprocess
import tempfile

from harness import ROOT_DIR, binary, check, group_members, track

# The guide's text is checked once; its sessions run on every build, the sanitizers' too.
ONCE = {"test_the_three_guides_carry_the_same_sessions_and_references",
        "test_every_file_and_function_the_guide_names_exists"}

GUIDES = {"en": "docs/guide.md", "zh-CN": "docs/guide.zh-CN.md", "ko": "docs/guide.ko.md"}
REFERENCE = re.compile(r"`((?:src|tests)/[\w/.-]+\.[ch]): (\w+)\(\)`")


def read(lang):
    with open(os.path.join(ROOT_DIR, GUIDES[lang]), encoding="utf-8") as f:
        return f.read()


def fenced(text):
    """(language, body) of every fenced block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)


def sessions(text):
    """(shell session, expected output or None): each sh block and the text block right after it."""
    out, blocks = [], fenced(text)
    for i, (lang, body) in enumerate(blocks):
        if lang == "sh":
            after = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else None
            out.append((body, after[1] if after else None))
    return out


def without_comments(body):
    """A session as the shell sees it: comment lines and trailing comments dropped (the guides
    may word their comments in their own language)."""
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"\s+#\s.*$", "", line).rstrip()
        if line and not line.lstrip().startswith("#"):
            lines.append(line)
    return "\n".join(lines)


def matches(expected, actual):
    """expected, line by line; "..." inside a line stands for any text, a line "..." for any lines."""
    pattern = "".join(r"(?:.*\n)*" if line == "..." else
                      ".*".join(map(re.escape, line.split("..."))) + r"\n"
                      for line in expected.rstrip("\n").split("\n"))
    return re.fullmatch(pattern, actual) is not None


def test_the_three_guides_carry_the_same_sessions_and_references():
    en = read("en")
    for lang in ("zh-CN", "ko"):
        text = read(lang)
        check([(without_comments(s), e) for s, e in sessions(text)] ==
              [(without_comments(s), e) for s, e in sessions(en)],
              f"{GUIDES[lang]}: its shell sessions and their output differ from the English guide's")
        check(set(REFERENCE.findall(text)) == set(REFERENCE.findall(en)),
              f"{GUIDES[lang]}: its references differ: {set(REFERENCE.findall(text)) ^ set(REFERENCE.findall(en))}")
        check(len(re.findall(r"^## ", text, re.M)) == len(re.findall(r"^## ", en, re.M)),
              f"{GUIDES[lang]}: not the same sections")
    readme = open(os.path.join(ROOT_DIR, "README.md"), encoding="utf-8").read()
    check(all(f"({path})" in readme for path in GUIDES.values()), "README links to the three guides")


def test_every_file_and_function_the_guide_names_exists():
    refs = set(REFERENCE.findall(read("en")))
    check(len(refs) >= 20, f"the guide names the source it teaches: {len(refs)} references")
    missing = []
    for path, func in sorted(refs):
        full = os.path.join(ROOT_DIR, path)
        if not os.path.exists(full):
            missing.append(f"{path} (no such file)")
        elif not re.search(rf"^{func}\(", open(full).read(), re.M):
            missing.append(f"{path}: {func}() (not defined there)")
    check(not missing, "the guide names what does not exist: " + "; ".join(missing))


def test_every_session_in_the_guide_prints_what_the_guide_says():
    steps = sessions(read("en"))
    check(len(steps) >= 10, f"the guide has its sessions: {len(steps)}")
    with tempfile.TemporaryDirectory() as d:
        script = ["cd " + d]
        for i, (body, _) in enumerate(steps):
            script.append(f"{{\n{body}}} >{d}/out.{i} 2>{d}/err.{i} </dev/null; echo $? >{d}/rc.{i}")
        env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(binary("mpechod"))) + ":" +
                   os.environ["PATH"])
        # On the sanitizer build: LeakSanitizer cannot work under ptrace, and the guide shows
        # system calls with strace (ASan's and UBSan's reports stay on).
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        # In a network namespace of its own: the guide's fixed ports (7101...) are then free
        # whatever else runs beside it (make test runs the builds' tests at once).
        proc = track(subprocess.Popen(["unshare", "-n", "bash", "-c", "ip link set lo up\n" +
                                       "\n".join(script)], env=env,
                                      start_new_session=True, stdin=subprocess.DEVNULL))
        try:
            proc.wait(240)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything a session left behind
            except ProcessLookupError:
                pass
        left = group_members(proc.pid)
        for i, (body, expected) in enumerate(steps):
            first = body.strip().split("\n")[0]
            out = open(f"{d}/out.{i}").read() if os.path.exists(f"{d}/out.{i}") else ""
            err = open(f"{d}/err.{i}").read() if os.path.exists(f"{d}/err.{i}") else ""
            rc = open(f"{d}/rc.{i}").read().strip() if os.path.exists(f"{d}/rc.{i}") else "none"
            check(rc == "0", f"session {i + 1} ({first}) ended with status {rc}; stderr: {err[-500:]}")
            if expected is not None:
                check(matches(expected, out), f"session {i + 1} ({first}) printed:\n{out}\n"
                      f"the guide says:\n{expected}\nstderr: {err[-500:]}")
        check(not left, f"the sessions left processes running: {left}")
