"""What make bench's side runs share: a server started in a process group of its own once it
answers, its end, and xinetd's configuration for its internal echo (stream or datagram)."""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "e2e"))
import guard  # noqa: E402  (tests/e2e/guard.py: a server ends even if make bench is killed outright)

XINETD_TEMPLATE = """defaults
{{
	instances = UNLIMITED
	per_source = UNLIMITED
	cps = 1000000 1
	log_type = FILE /dev/null
}}
service echo
{{
	type = INTERNAL UNLISTED
	id = echo-{kind}
	socket_type = {kind}
	protocol = {protocol}
	wait = {wait}
	user = root
	bind = 127.0.0.1
	port = {port}
	instances = UNLIMITED
	per_source = UNLIMITED
	cps = 1000000 1
}}
"""


def xinetd_config(port, datagram=False):
    """xinetd's internal echo on 127.0.0.1:port: echo-stream, or echo-dgram; nothing limited."""
    return XINETD_TEMPLATE.format(port=port, kind="dgram" if datagram else "stream",
                                  protocol="udp" if datagram else "tcp",
                                  wait="yes" if datagram else "no")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_answers(port):
    """Whether 127.0.0.1:port takes a connection."""
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
    return True


def started(cmd, ready, where, settle=0.3):
    """cmd in a process group of its own, once ready() says it answers (within 10 s), then
    settle seconds more (a prefork pool fills)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    guard.note(proc.pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if ready():
                time.sleep(settle)
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"{cmd[0]} never answered on {where}")


def stop(proc):
    """SIGTERM to the server's group, SIGKILL if it is still there 15 s later."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue
