"""The documentation cannot drift from the code: every option getopt takes is in --help, in
README's option block and in the man page (and nothing else is), for the three programs; and
every event the server can log is in README's table and in the man page's list (and nothing
else is)."""
import os
import re
import subprocess

from harness import ROOT_DIR, binary, check

ONCE = True  # about the sources and the documents

PROGRAMS = (("mpechod", "man/mpechod.8"), ("mpecho", "man/mpecho.1"),
            ("mpecho-bench", "man/mpecho-bench.1"))
OPTION = r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z0-9])\b"


def source(*folders):
    """The C sources of these folders under src/, as one text."""
    text = ""
    for folder in folders:
        path = os.path.join(ROOT_DIR, "src", folder)
        for name in sorted(os.listdir(path)):
            if name.endswith(".c"):
                text += open(os.path.join(path, name)).read()
    return text


def getopt_options(prog):
    """What getopt_long takes: the long options' table and the short letters of its optstring."""
    text = source(prog)
    longs = {"--" + m for m in re.findall(r'\{ "([a-z0-9-]+)", (?:no|required|optional)_argument', text)}
    strings = re.findall(r'getopt_long\(\w+, \w+, "([^"]*)"', text)
    check(strings and longs, f"{prog}: the getopt_long call and its table are found")
    return longs | {"-" + c for s in strings for c in s if c.isalnum()}


def readme_block(prog):
    """README's option block of prog: the code block that opens with its synopsis."""
    text = open(os.path.join(ROOT_DIR, "README.md")).read()
    blocks = [b for b in re.findall(r"^```\w*\n(.*?)^```$", text, re.S | re.M)
              if b.startswith(prog + " [")]
    check(len(blocks) == 1, f"README has one option block for {prog}: {len(blocks)}")
    return blocks[0]


def man_options(page):
    text = open(os.path.join(ROOT_DIR, page)).read()
    return ({"--" + m for m in re.findall(r"Fl Fl ([a-z][a-z0-9-]*)", text)} |
            {"-" + m for m in re.findall(r"\.It Fl ([a-zA-Z0-9])\b", text)})


def test_every_option_getopt_takes_is_in_help_readme_and_the_man_page():
    for prog, page in PROGRAMS:
        taken = getopt_options(prog)
        helped = subprocess.run([binary(prog), "--help"], capture_output=True, text=True,
                                timeout=10).stdout
        for where, shown in (("--help", set(re.findall(OPTION, helped))),
                             ("README", set(re.findall(OPTION, readme_block(prog)))),
                             (page, man_options(page))):
            check(shown == taken, f"{prog}: getopt takes but {where} lacks {sorted(taken - shown)}; "
                  f"{where} shows what getopt does not take: {sorted(shown - taken)}")


def logged_events():
    """Every event= the server's code can write: literal ones, and the names handed to the
    helpers that write the line (log_throttle_*'s held lines, child_begin's error lines)."""
    text = source("mpechod", "lib")
    events = set(re.findall(r"event=([a-z][a-z0-9-]*)", text))
    events |= set(re.findall(r'(?:log_throttle_\w+|child_begin)\([^;]*?"([a-z][a-z0-9-]*)"', text))
    check(len(events) > 30 and {"start", "connect", "refused-held", "session-error"} <= events,
          f"the events are found in the code: {sorted(events)}")
    return events


def readme_events():
    text = open(os.path.join(ROOT_DIR, "README.md")).read()
    table = text[text.index("| event | level | keys |"):]
    table = table[:table.index("\n\n")]
    return {e for row in table.splitlines()[2:] for e in re.findall(r"`([a-z][a-z0-9-]*)`", row.split("|")[1])}


def man_events():
    text = open(os.path.join(ROOT_DIR, "man/mpechod.8")).read()
    text = text[text.index("The events are:"):]
    text = text[:text.index("\n.El")]
    return {e for m in re.findall(r"^\.It Cm (.*)$", text, re.M) for e in re.findall(r"[a-z][a-z0-9-]*", m)}


def test_every_event_the_server_logs_is_in_readme_and_the_man_page():
    events = logged_events()
    for where, shown in (("README's event table", readme_events()), ("mpechod.8's events", man_events())):
        check(shown == events, f"{where} lacks {sorted(events - shown)}; "
              f"it shows events the code never logs: {sorted(shown - events)}")
