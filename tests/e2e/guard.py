"""guard: what a test run started ends with it, even when the runner is killed outright.

Servers run in sessions of their own (so that a test can signal a server's whole group): a
Ctrl-C on the terminal does not reach them, nor does the runner's death. harness.cleanup()
ends them after each test, and tests/run.py on Ctrl-C or SIGTERM, but a runner killed with
SIGKILL (by hand, by a timeout, by the OOM killer) gets to neither, and its servers, which
have no time bound, would run on for good.

note(pid) tells the guard, a process of its own started at the first note, about a process
just started, note_dir(path) about a directory made for the run. The guard reads a line
"P PID START" for each process and "D PATH" for each directory, and at end of file (the
runner's exit, however it came: no other process holds the pipe) SIGKILLs what is left of
each process, the whole group if it leads one (a server in its session), and removes each
directory still there. A pid is taken for the one noted only while its start time in /proc
is the one noted, so a pid used again by an unrelated process is spared; a group whose
leader is gone is still ended while it has members (the id of a group with members is never
given to another).

    python3 guard.py          (the guard itself; the harness starts it)
"""
import os
import shutil
import signal
import subprocess
import sys
import threading

_guard = None
_lock = threading.Lock()


def start_time(pid):
    """The process's start time (/proc/PID/stat's 22nd field, in clock ticks), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _tell(line):
    global _guard
    with _lock:
        try:
            if _guard is None:
                # its stdin is a pipe no child inherits (close_fds): its end is the runner's
                _guard = subprocess.Popen([sys.executable, os.path.abspath(__file__)],
                                          stdin=subprocess.PIPE, start_new_session=True)
            os.write(_guard.stdin.fileno(), f"{line}\n".encode())
        except OSError:
            pass  # no guard: cleanup() still ends what a test started, only not after a SIGKILL


def note(pid):
    """Have pid (and its group, if it leads one) ended if the runner dies without ending it."""
    start = start_time(pid)
    if start is not None:  # else gone already
        _tell(f"P {pid} {start}")


def note_dir(path):
    """Have the directory path removed if the runner dies without removing it."""
    _tell(f"D {os.path.abspath(path)}")


def _groups():
    """{process group: live members} of every process on the machine."""
    out = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            out.setdefault(int(fields[2]), []).append(int(entry))
    return out


def _end(noted):
    """SIGKILL what is left of each noted process; how many were still there."""
    groups, ended = _groups(), 0
    for pid, start in noted.items():
        now = start_time(pid)
        if now is not None and now != start:
            continue  # the pid is another process's now
        try:
            if pid in groups:
                os.killpg(pid, signal.SIGKILL)
            elif now is not None:
                os.kill(pid, signal.SIGKILL)
            else:
                continue
            ended += 1
        except OSError:
            pass
    return ended


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the runner's; the guard waits for its end
    runner, noted, dirs = os.getppid(), {}, []
    for line in sys.stdin:
        kind, rest = line.rstrip("\n").split(" ", 1)
        if kind == "P":
            pid, start = rest.split()
            noted[int(pid)] = start
        else:
            dirs.append(rest)
    ended = _end(noted)
    if ended:
        print(f"guard: {runner} ended and left {ended} of the processes it started running; "
              "they were killed", file=sys.stderr)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
