"""mpecho's habits from nc: -z (is the port open?), -v (a line on connect and on close) and
-s (the source address), over TCP, TLS, Unix sockets and UDP."""
import os
import re
import socket
import tempfile
import threading

from harness import Server, check, run_client
from test_tls import certs, tls_server


def refusing_port():
    """A bound socket that does not listen: a connection to its port is refused, and no other
    process can take the port while the socket is held."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def test_client_z_says_whether_the_port_is_open():
    srv = Server("-l", "127.0.0.1:0")
    rc, out, err = run_client("-z", f"127.0.0.1:{srv.port}", data=b"not sent\n")
    check((rc, out, err) == (0, b"", ""), f"-z on an open port: status 0, silent: {rc} {out} {err!r}")
    end = srv.wait_for(r"event=end ")[0]
    check(" in=0 " in end and " out=0 " in end, f"-z sends nothing, not even its input: {end}")
    with refusing_port() as closed:
        rc, out, err = run_client("-z", f"127.0.0.1:{closed.getsockname()[1]}")
    check(rc == 1 and out == b"" and err.count("\n") == 1 and "Connection refused" in err,
          f"-z on a closed port: status 1 and one line: {rc} {err!r}")
    check(srv.stop() == 0, "the server ends cleanly")


def test_client_z_on_a_unix_socket_and_over_tls():
    with tempfile.TemporaryDirectory(prefix="mpecho-z-") as d:  # removed whatever happens
        path = os.path.join(d, "s")
        srv = Server("-l", f"unix:{path}")
        check(run_client("-z", f"unix:{path}")[0] == 0, "-z on a listening Unix socket: status 0")
        rc, _, err = run_client("-z", f"unix:{path}.none")
        check(rc == 1 and "No such file or directory" in err, f"-z on no socket: status 1: {err!r}")
        check(srv.stop() == 0, "the Unix server ends cleanly")
        check(not os.listdir(d), f"the server removed its socket file: {os.listdir(d)}")
    srv = tls_server()
    rc, _, err = run_client("-z", "--tls", "--ca", certs()[0], f"127.0.0.1:{srv.port}")
    check((rc, err) == (0, ""), f"-z --tls: the handshake succeeds: {rc} {err!r}")
    rc, _, err = run_client("-z", "--tls", "--ca", certs("b")[0], f"127.0.0.1:{srv.port}")
    check(rc == 1 and "certificate verify failed" in err,
          f"-z --tls with a certificate that is not trusted: status 1: {rc} {err!r}")
    check(srv.stop() == 0, "the TLS server ends cleanly")


def test_client_v_names_both_ends_and_the_bytes():
    srv = Server("-l", "127.0.0.1:0")
    rc, out, err = run_client("-v", f"127.0.0.1:{srv.port}", data=b"hello\n")
    check(rc == 0 and out == b"hello\n", f"-v leaves the echo alone: {rc} {out}")
    lines = err.splitlines()
    m = re.fullmatch(rf"mpecho: connected to 127\.0\.0\.1:{srv.port} from 127\.0\.0\.1:(\d+)",
                     lines[0]) if lines else None
    check(m and lines[1:] == ["mpecho: closed: 6 bytes sent, 6 received, exit status 0"],
          f"-v: a line on connect and one on close: {err!r}")
    srv.wait_for(rf"event=connect peer=127\.0\.0\.1:{m.group(1)} ")
    rc, _, err = run_client("-v", "-z", f"127.0.0.1:{srv.port}")
    check(rc == 0 and err.endswith("mpecho: closed: 0 bytes sent, 0 received, exit status 0\n"),
          f"-v -z: connected, then closed: {err!r}")
    check(srv.stop() == 0, "the server ends cleanly")
    with refusing_port() as closed:
        rc, _, err = run_client("-v", f"127.0.0.1:{closed.getsockname()[1]}")
    check(rc == 1 and err.count("\n") == 1 and "connected" not in err and "closed:" not in err,
          f"-v and a refused connection: only the reason: {err!r}")


def test_client_s_connects_from_the_address_given():
    srv = Server("-l", "127.0.0.1:0", "-l", "[::1]:0")
    rc, out, _ = run_client("-s", "127.0.0.2", f"127.0.0.1:{srv.port}", data=b"x\n")
    check(rc == 0 and out == b"x\n", f"-s 127.0.0.2: echoed ({rc})")
    srv.wait_for(r"event=connect peer=127\.0\.0\.2:\d+ ")
    rc, out, _ = run_client("-s", "::1", "-v", f"[::1]:{srv.addrs[1][1]}", data=b"y\n")
    check(rc == 0 and out == b"y\n", f"-s ::1 to [::1]: echoed ({rc})")
    rc, _, err = run_client("-s", "192.0.2.1", f"127.0.0.1:{srv.port}")
    check(rc == 1 and err == "mpecho: cannot connect from 192.0.2.1 (-s): Cannot assign requested "
          "address\n", f"-s with an address not of this host: status 1, one line: {err!r}")
    rc, _, err = run_client("-s", "::1", f"127.0.0.1:{srv.port}")
    check(rc == 2 and "-s ::1 cannot take effect" in err, f"-s of the other IP version: {rc} {err!r}")
    check(srv.stop() == 0, "the server ends cleanly")


def test_client_s_and_v_over_udp():
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(10)
    seen = []

    def reflect():
        data, addr = peer.recvfrom(65536)
        seen.append(addr)
        peer.sendto(data, addr)
    t = threading.Thread(target=reflect)
    t.start()
    port = peer.getsockname()[1]
    rc, out, err = run_client("-u", "-v", "-s", "127.0.0.3", f"127.0.0.1:{port}", data=b"ping\n")
    t.join()
    peer.close()
    check(rc == 0 and out == b"ping\n", f"-u -s: the datagram came back ({rc} {err!r})")
    check(seen and seen[0][0] == "127.0.0.3", f"the datagram came from -s's address: {seen}")
    check(err.splitlines() == [f"mpecho: connected to 127.0.0.1:{port} from 127.0.0.3:{seen[0][1]} (UDP)",
                               "mpecho: closed: 5 bytes sent, 5 received, exit status 0"],
          f"-u -v: the two lines: {err!r}")
