"""A start that fails says why in the log's own format (--log-format json: a JSON error event on
standard error) and, once --log FILE is open, in that file too: once, also with -d."""
import json
import os
import socket
import tempfile

from harness import check, run_server_once


def untimed(line):
    """A JSON line's fields but its time (the file's line and stderr's are written apart)."""
    return {k: v for k, v in json.loads(line).items() if k != "time"}


def test_a_failed_start_is_said_in_the_chosen_format_and_place():
    with socket.socket() as taken, tempfile.TemporaryDirectory() as d:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        where = f"127.0.0.1:{taken.getsockname()[1]}"
        why = f"cannot listen on {where}: Address already in use"
        rc, err = run_server_once("--log-format", "json", "-l", where)
        lines = err.splitlines()
        obj = json.loads(lines[0]) if len(lines) == 1 and lines[0].startswith("{") else {}
        check(rc == 1 and {k: obj.get(k) for k in ("level", "event", "during", "error")} ==
              {"level": "error", "event": "error", "during": "start", "error": why},
              f"--log-format json: one JSON error event on stderr: {rc} {err!r}")
        for fmt, extra in (("text", ()), ("json", ()), ("json", ("-d",))):
            log = os.path.join(d, f"{fmt}{len(extra)}.log")
            rc, err = run_server_once("--log-format", fmt, "--log", log, *extra, "-l", where)
            written = open(log).read().splitlines()
            check(rc == 1 and err.count("\n") == 1, f"{fmt} {extra}: status 1, one line: {rc} {err!r}")
            check(len(written) == 1 and (fmt == "text" or untimed(written[0]) == untimed(err)),
                  f"{fmt} {extra}: the error, once, in --log FILE: {written} {err!r}")
            if fmt == "text":
                check(err == f"mpechod: {why}\n" and
                      written[0].endswith(f'level=error event=error during=start error="{why}"'),
                      f"text: plain on stderr, an event in the file: {err!r} {written}")
            else:
                check(json.loads(written[0])["error"] == why, f"json: {written}")
