"""Port ranges, -l HOST:FIRST-LAST: a listener on every port of it, TCP and UDP, with its options;
in a network namespace of the test's own, where every port is free."""
import subprocess

from harness import Server, binary, check, run_server_once

IN_NEW_NET = ("unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh")


def test_a_range_listens_on_every_port_of_it():
    srv = Server("-l", "127.0.0.1:9600-9602,deferred", "-l", "udp:127.0.0.1:9700-9701",
                 prefix=IN_NEW_NET)
    check(srv.addrs == [("127.0.0.1", p) for p in (9600, 9601, 9602, 9700, 9701)],
          f"a listen line per port, in order: {srv.addrs}")
    check(len(srv.matching(r"event=listen addr=127\.0\.0\.1:960\d deferred=yes$")) == 3,
          "the range's option on each of its listeners")
    ns = ("nsenter", "-t", str(srv.pid), "-n", binary("mpecho"))
    for port in (9600, 9601, 9602):
        out = subprocess.run([*ns, f"127.0.0.1:{port}"], input=b"to %d\n" % port,
                             capture_output=True, timeout=20)
        check(out.returncode == 0 and out.stdout == b"to %d\n" % port, f"echoed on {port}: {out}")
    for port in (9700, 9701):
        out = subprocess.run([*ns, "-u", f"127.0.0.1:{port}"], input=b"udp\n", capture_output=True,
                             timeout=20)
        check(out.returncode == 0 and out.stdout == b"udp\n", f"echoed over UDP on {port}: {out}")
    for port in (9599, 9603):
        out = subprocess.run([*ns, "-z", f"127.0.0.1:{port}"], capture_output=True, timeout=20)
        check(out.returncode == 1, f"nothing listens on {port}, outside the range")
    check(srv.stop() == 0, "the server ends cleanly")


def test_a_range_that_cannot_be_bound_or_read_is_refused_whole():
    rc, err = run_server_once("-l", "127.0.0.1:9601", "-l", "127.0.0.1:9600-9602", prefix=IN_NEW_NET)
    check(rc == 1 and err == "mpechod: cannot listen on 127.0.0.1:9601: Address already in use\n",
          f"a taken port in the range: status 1, one line: {rc} {err!r}")
    for spec, named in (("127.0.0.1:9602-9600", "the first port is above the last"),
                        ("127.0.0.1:1-2000", "2000 ports, at most 1024"),
                        ("[::1]:0-5", "expected FIRST-LAST, two numbers from 1 to 65535")):
        rc, err = run_server_once("-l", spec)
        check(rc == 2 and err.count("\n") == 1 and named in err, f"{spec}: status 2: {rc} {err!r}")
