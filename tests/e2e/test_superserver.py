"""mpechod -i behind super-servers that relay the connection over a socket pair: socat EXEC:,
and socat under tcpserver (ucspi-tcp). The client's address comes from the variables they
set (SOCAT_PEERADDR/SOCAT_PEERPORT, TCPREMOTEIP/TCPREMOTEPORT): logged, and judged by --deny."""
import os
import re
import signal
import socket
import subprocess
import tempfile

from harness import (OWN_PORT, binary, check, connect_when_up, half_close_echo, own_network, recv_all,
                     track, wait_for_file)


def started(cmd, d):
    """A super-server in a session of its own, its output in a file of d."""
    out = open(os.path.join(d, "out"), "w")
    return track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  start_new_session=True))


def ended(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)


def served(host, port, log):
    """One connection echoed through the super-server; the server's connect and end lines name
    this client's address and port."""
    with connect_when_up(port, host) as s:
        check(half_close_echo(s, b"relayed\n") == b"relayed\n", "echoed through the relay")
        me = s.getsockname()
    peer = f"[{me[0]}]:{me[1]}" if ":" in me[0] else f"{me[0]}:{me[1]}"
    text = wait_for_file(log, rf"event=end peer={re.escape(peer)} ")
    check(re.search(rf"event=connect peer={re.escape(peer)} pid=\d+ sessions=1", text), text)
    check("peer=unix" not in text, f"no session is logged as a Unix peer: {text}")


def test_socat_exec_hands_on_the_client_address_ipv4_and_ipv6():
    for host, listen in (("127.0.0.1", "TCP4-LISTEN:{},bind=127.0.0.1"),
                         ("::1", "TCP6-LISTEN:{},bind=[::1]")):
        with tempfile.TemporaryDirectory() as d, own_network():  # socat binds the port it is given
            log, port = os.path.join(d, "log"), OWN_PORT
            proc = started(["socat", listen.format(port),
                            f"EXEC:{os.path.abspath(binary('mpechod'))} -i --log {log}"], d)
            try:
                served(host, port, log)
            finally:
                ended(proc)


def tcpserver_socat(d, *server_args):
    """tcpserver on port 0 (it prints the port) running socat, which relays to mpechod -i over
    a socket pair: only tcpserver's variables know the client."""
    cmd = " ".join([os.path.abspath(binary("mpechod")), "-i", "--log", os.path.join(d, "log"),
                    *server_args])
    proc = track(subprocess.Popen(["tcpserver", "-1", "-H", "-R", "-l", "localhost", "127.0.0.1", "0", "socat", "-",
                                   f"EXEC:{cmd}"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  start_new_session=True))
    return proc, int(proc.stdout.readline())


def test_tcpserver_variables_name_the_client_and_deny_judges_them():
    with tempfile.TemporaryDirectory() as d:
        proc, port = tcpserver_socat(d)
        try:
            served("127.0.0.1", port, os.path.join(d, "log"))
        finally:
            ended(proc)
    with tempfile.TemporaryDirectory() as d:
        proc, port = tcpserver_socat(d, "--deny", "127.0.0.0/8")
        try:
            with connect_when_up(port) as s:
                me = s.getsockname()
                s.settimeout(10)
                check(recv_all(s) == b"", "a denied client is closed unserved")
            wait_for_file(os.path.join(d, "log"),
                          rf"event=refused peer=127\.0\.0\.1:{me[1]} reason=acl")
        finally:
            ended(proc)


def on_socket_pair(env):
    """mpechod -i on one end of a socket pair, with env added: (status, its stderr)."""
    ours, theirs = socket.socketpair()
    proc = track(subprocess.Popen([binary("mpechod"), "-i", "-v"], stdin=theirs,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env={**os.environ, **env}, start_new_session=True))
    theirs.close()
    ours.sendall(b"x")
    ours.shutdown(socket.SHUT_WR)
    ours.settimeout(10)
    try:
        back = recv_all(ours)
    except ConnectionResetError:  # refused with our byte unread
        back = b""

    ours.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    return proc.wait(10), back, err


def test_ucspi_tcp6_names_and_malformed_variables():
    rc, back, err = on_socket_pair({"PROTO": "TCP6", "TCP6REMOTEIP": "2001:db8::7",
                                    "TCP6REMOTEPORT": "4242"})
    check(rc == 0 and back == b"x" and "event=connect peer=[2001:db8::7]:4242 " in err,
          f"ucspi-tcp6's variables: {rc} {err!r}")
    rc, back, err = on_socket_pair({"TCPREMOTEIP": "192.0.2.1", "TCPREMOTEPORT": "1"})
    check(rc == 0 and "event=connect peer=unix " in err, f"without PROTO, no UCSPI: {err!r}")
    for env, names in (({"SOCAT_PEERADDR": "bogus", "SOCAT_PEERPORT": "1"}, "SOCAT_PEERADDR and SOCAT_PEERPORT"),
                       ({"PROTO": "TCP", "TCPREMOTEIP": "192.0.2.1", "TCPREMOTEPORT": "0"},
                        "TCPREMOTEIP and TCPREMOTEPORT")):
        rc, back, err = on_socket_pair(env)
        check(rc == 1 and back == b"" and f'error="the client\'s address in {names} is malformed"' in err
              and "event=connect" not in err, f"malformed {names}: refused, one line: {rc} {err!r}")
