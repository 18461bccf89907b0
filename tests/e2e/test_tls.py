"""TLS listeners (-l ADDR:PORT,tls): every service over TLS in every model, a close-notify
half-close, clients written by others (Python's ssl, openssl s_client, socat OPENSSL:), the
failures that must end one session with reason=tls and nothing else, the credentials read
before privileges drop and reloaded on SIGHUP, and the usage errors."""
import atexit
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from harness import (OWN_PORT, Server, binary, check, own_network, run_client, run_server_once, track,
                     wait_until)
from test_service import connect_when_up

_certs = {}
_certs_made = threading.Lock()  # tests whose models run at once ask for the same one
_certs_dir = []  # their directory, made once, removed when the run ends
MODELS = ("fork", "prefork", "loop")


def certs(name="a"):
    """A self-signed certificate for localhost and 127.0.0.1, and its key, made once per name."""
    with _certs_made:
        if name not in _certs:
            if not _certs_dir:
                _certs_dir.append(tempfile.mkdtemp(prefix="mpecho-tls-"))
                atexit.register(shutil.rmtree, _certs_dir[0], True)
            d = os.path.join(_certs_dir[0], name)
            os.mkdir(d)
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", f"/CN=mpecho test {name}",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True)
            _certs[name] = (cert, key)
        return _certs[name]


def tls_server(*args, cert="a", model=None):
    """A server on a ,tls listener; model None: the harness's (test_loop.py runs these again
    with --model loop)."""
    c, k = certs(cert)
    return Server("-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", k,
                  *(("--model", model) if model else ()), *(() if "-q" in args else ("-v",)), *args)


def client_context(cert="a", version=None):
    ctx = ssl.create_default_context(cafile=certs(cert)[0])
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


class TLSClient:
    """A TLS client over a memory BIO: it decides exactly when its close-notify goes."""

    def __init__(self, port, ctx=None, session=None, preamble=b"", sock=None, flush=True):
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=10)
        if preamble:
            self.sock.sendall(preamble)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = (ctx or client_context()).wrap_bio(self.inc, self.out,
                                                      server_hostname="localhost", session=session)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
            except ssl.SSLError:
                self._flush()   # the alert that says why
                self.sock.close()
                raise
        if flush:   # else the handshake's last flight waits for what is written next
            self._flush()

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        if self.inc.eof:
            raise ssl.SSLEOFError("the server closed the connection")
        data = self.sock.recv(65536)
        if data:
            self.inc.write(data)
        else:
            self.inc.write_eof()

    def send(self, data):
        for i in range(0, len(data), 16384):
            self.obj.write(data[i:i + 16384])
            self._flush()

    def close_notify(self):
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        self._flush()

    def read_to_end(self):
        """Everything until the server's close-notify; (data, whether the close-notify came)."""
        got = bytearray()
        while True:
            try:
                chunk = self.obj.read(65536)
                if not chunk:   # Python's word for a close-notify received
                    return bytes(got), True
                got += chunk
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                return bytes(got), True
            except ssl.SSLEOFError:
                return bytes(got), False
            try:
                self._fill()
            except ssl.SSLEOFError:
                return bytes(got), False

    def read_exactly(self, n):
        got = bytearray()
        while len(got) < n:
            try:
                got += self.obj.read(n - len(got))
            except ssl.SSLWantReadError:
                self._fill()
        return bytes(got)

    def close(self):
        self.sock.close()


def half_close(port, data, **kw):
    """Send data and our close-notify at once, then read the echo and the server's close-notify."""
    c = TLSClient(port, **kw)
    c.send(data)
    c.close_notify()
    back, notified = c.read_to_end()
    c.close()
    return back, notified


def test_echo_over_tls_in_every_model_half_closes_with_close_notify():
    data = os.urandom(3 << 20)
    for model in MODELS:
        srv = tls_server(model=model)
        check(srv.matching(r"event=listen addr=127\.0\.0\.1:\d+ tls=yes$"), "the listen line says tls")
        check(srv.matching(r'event=tls-loaded cert=\S+ subject="/CN=mpecho test a" not_after=20'),
              "the loaded certificate is logged")
        back, notified = half_close(srv.port, data)
        check(back == data, f"{model}: 3 MiB back byte-exact after our close-notify ({len(back)})")
        check(notified, f"{model}: the server ended with a close-notify of its own")
        for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
            back, _ = half_close(srv.port, b"v" * 1000, ctx=client_context(version=version))
            check(back == b"v" * 1000, f"{model}: {name} echo")
            srv.wait_for(rf"event=tls pid=\d+ version={name} ")
        # Sessions end in their own processes: the first one's line may come after the others'.
        ends = srv.wait_for(r"event=end ", count=3)
        check(sum(f"reason=eof in={len(data)} out={len(data)} " in e for e in ends) == 1, ends)
        check(srv.stop() == 0 and not srv.zombies(), f"{model}: clean stop")


def test_records_that_come_together_are_all_echoed():
    """mpechod reads TLS records ahead, as many as one read(2) gets: records that come in one
    segment with the client's Finished, and three that come at once later, are all echoed at
    once; none waits in OpenSSL's buffer for a readiness that no byte on the socket would give
    (the loop model asks SSL_has_pending(), and once more after the handshake)."""
    for model in MODELS:
        srv = tls_server("-q", model=model)
        c = TLSClient(srv.port, flush=False)
        c.sock.settimeout(5)
        for burst in ("with the handshake's last flight", "later, in one segment"):
            msgs = [bytes([65 + i]) * (1000 * (i + 1)) for i in range(3)]
            for m in msgs:
                c.obj.write(m)   # a record each
            c._flush()
            try:
                back = c.read_exactly(6000)
            except socket.timeout:
                back = b"(none within 5 s)"
            check(back == b"".join(msgs), f"{model}: three records sent {burst} echoed: {back[-20:]!r}")
        c.close()
        check(srv.stop() == 0 and not srv.zombies(), f"{model}: clean stop")


def test_chargen_takes_no_record_that_came_with_the_handshake():
    """A record that comes in one segment with the client's Finished is input, for the services
    that read; chargen reads none and streams as ever (the loop model fed it to chargen, which
    has no input step: the worker died of SIGSEGV)."""
    line = bytes(range(32, 32 + 72)) + b"\r\n"
    for model in MODELS:
        srv = tls_server("-s", "chargen", model=model)
        c = TLSClient(srv.port, flush=False)
        c.sock.settimeout(5)
        c.obj.write(b"hello\n")   # a record, sent with the handshake's last flight
        c._flush()
        try:
            got = c.read_exactly(len(line))
        except OSError as e:   # a timeout, a reset, or TLS's error on a cut connection
            got = repr(e).encode()
        check(got == line, f"{model}: chargen's first line: {got!r}")
        c.close()
        srv.wait_for(r"event=end ")
        check(not srv.matching(r"event=worker-exit"), f"{model}: no worker died: {srv.lines}")
        check(srv.stop() == 0 and not srv.zombies(), f"{model}: clean stop")


def test_every_service_works_over_tls():
    srv = tls_server("-s", "upper")
    c = TLSClient(srv.port)
    c.send(b"hello tls\n")
    check(c.read_exactly(10) == b"HELLO TLS\n", "upper over TLS")
    c.send(b"quit\n")
    back, notified = c.read_to_end()
    check(back == b"" and notified, f"quit ends the session with a close-notify: {back!r}")
    c.close()
    check("reason=quit" in srv.wait_for(r"event=end ")[0], "the end reason is quit")
    srv.stop()
    srv = tls_server("-s", "chargen")
    c = TLSClient(srv.port)
    got = c.read_exactly(74 * 3)
    c.close()
    check(got[:74] == bytes(range(32, 32 + 72)) + b"\r\n", f"chargen's first line: {got[:74]!r}")
    srv.stop()
    srv = tls_server("-s", "daytime")
    back, notified = half_close(srv.port, b"")
    check(re.match(rb"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$", back) and notified, back)
    srv.stop()
    srv = tls_server("-s", "discard")
    back, notified = half_close(srv.port, b"x" * 100000)
    check(back == b"" and notified, "discard: nothing back, then a close-notify")
    check("in=100000 out=0" in srv.wait_for(r"event=end ")[0], "discard counted the bytes")
    srv.stop()


def test_clients_written_by_others_openssl_s_client_and_socat():
    srv = tls_server()
    cert = certs()[0]
    lines = b"".join(b"line %d of the s_client test\n" % i for i in range(200))
    for version in ("-tls1_2", "-tls1_3"):
        # s_client quits at the end of its input: it gets it all, and the end once the echo is in
        p = track(subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}",
                                    version, "-CAfile", cert, "-verify_return_error",
                                    "-verify_hostname", "localhost", "-quiet", "-no_ign_eof"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL))
        p.stdin.write(lines)
        p.stdin.flush()
        out = b""
        while len(out) < len(lines):
            chunk = p.stdout.read1(65536)
            if not chunk:
                break
            out += chunk
        p.stdin.close()
        p.wait(timeout=10)
        check(p.returncode == 0 and out == lines,
              f"s_client {version}: rc={p.returncode} {len(out)} of {len(lines)} bytes back")
    p = subprocess.run(["socat", "-t", "5", "-",
                        f"OPENSSL:127.0.0.1:{srv.port},cafile={cert},commonname=localhost"],
                       input=lines, capture_output=True, timeout=30)
    check(p.returncode == 0 and p.stdout == lines,
          f"socat OPENSSL: rc={p.returncode} {len(p.stdout)} bytes; {p.stderr[-300:]!r}")
    ends = srv.wait_for(r"event=end ", count=3)
    check(all(f"in={len(lines)} out={len(lines)}" in e and "exit=7" not in e for e in ends),
          "\n".join(ends))
    srv.stop()


def tls_failure(srv, n, what):
    """The nth session's tls-failed line, with its end line checked (exit=7 reason=tls)."""
    failed = srv.wait_for(r"event=tls-failed ", count=n)[n - 1]
    end = srv.wait_for(r"event=end ", count=n)[n - 1]
    check(re.search(r"exit=7 reason=tls in=0 out=0", end), f"{what}: {end}")
    return failed


def test_bad_clients_end_their_session_with_reason_tls_and_nothing_else():
    srv = tls_server("--tls-timeout", "1")
    port = srv.port
    # a plain-TCP client on the TLS port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            s.recv(4096)
        except ConnectionResetError:
            pass    # the server closed with our request unread
    line = tls_failure(srv, 1, "plain client")
    check("stage=handshake" in line and re.search(r"error=\"?(http request|wrong version number)", line), line)
    # a client that trusts another certificate: it refuses ours
    try:
        TLSClient(port, ctx=client_context(cert="b"))
        check(False, "the client should have refused the certificate")
    except ssl.SSLCertVerificationError:
        pass
    line = tls_failure(srv, 2, "wrong certificate")
    check(re.search(r"error=\"?tlsv1 alert unknown ca", line), f"the server logs the client's alert: {line}")
    # a truncated handshake: half a ClientHello, then the client hangs up
    hello = TLSHello.first_bytes()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(hello[:len(hello) // 2])
    check("the peer closed the connection during the handshake" in tls_failure(srv, 3, "truncated"),
          "a truncated handshake says so")
    # a stalled handshake: the deadline (--tls-timeout 1)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        t0 = time.monotonic()
        s.sendall(hello[:10])
        check(s.recv(100) == b"", "the server closes without a word")
        took = time.monotonic() - t0
    check("no handshake within 1000 ms" in tls_failure(srv, 4, "stalled"), "the deadline is named")
    check(0.8 < took < 5, f"closed after the 1 s deadline: {took:.2f} s")
    back, _ = half_close(port, b"still serving")
    check(back == b"still serving", "the server serves on")
    check("reason=eof" in srv.wait_for(r"event=end ", count=5)[4], "and that session ends well")
    srv.proc.send_signal(signal.SIGUSR1)    # the loop model's workers are children that stay
    status = srv.wait_for(r"event=status ")[0]
    check("event=status sessions=0 " in status and not srv.zombies(), f"no session or zombie left: {status}")
    check(srv.stop() == 0, "clean stop")


class TLSHello:
    """The first bytes a real client sends (Python's own ClientHello), captured once."""
    _hello = None

    @classmethod
    def first_bytes(cls):
        if cls._hello is None:
            inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = client_context().wrap_bio(inc, out, server_hostname="localhost")
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            cls._hello = out.read()
        return cls._hello


def test_idle_timeout_and_max_time_hold_over_tls():
    srv = tls_server("--idle-timeout", "1", "--min-rate", "0")
    c = TLSClient(srv.port)
    c.send(b"once")
    check(c.read_exactly(4) == b"once", "echo")
    end = srv.wait_for(r"event=end ", timeout=10)[0]
    c.close()
    check("reason=idle" in end, f"a silent TLS client ends by the idle timeout: {end}")
    srv.stop()
    srv = tls_server("--max-time", "1", "--tls-timeout", "30")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(TLSHello.first_bytes()[:5])   # the handshake stalls: --max-time still holds
        end = srv.wait_for(r"event=end ", timeout=10)[0]
    check("reason=max-time" in end, f"--max-time covers the handshake: {end}")
    srv.stop()


def test_proxy_header_then_tls():
    c, k = certs()
    srv = Server("-l", "127.0.0.1:0,proxy,tls", "--tls-cert", c, "--tls-key", k)
    check(srv.matching(r"event=listen addr=127\.0\.0\.1:\d+ proxy=yes tls=yes$"), f"{srv.lines[:3]}")
    for model_note in ("fork",):
        back, _ = half_close(srv.port, b"behind a balancer",
                             preamble=b"PROXY TCP4 192.0.2.9 127.0.0.1 4444 443\r\n")
        check(back == b"behind a balancer", f"{model_note}: PROXY header, then TLS")
    end = srv.wait_for(r"event=end ")[0]
    check("peer=192.0.2.9:4444 via=127.0.0.1:" in end and "reason=eof" in end, end)
    srv.stop()


def test_sessions_resume_across_processes():
    """The ticket keys are made before the fork: a session served by one process resumes in another."""
    for model in MODELS:
        srv = tls_server(model=model)
        ctx = client_context(version=ssl.TLSVersion.TLSv1_2)
        c = TLSClient(srv.port, ctx=ctx)
        c.send(b"first")
        c.read_exactly(5)
        session = c.obj.session
        c.close_notify()
        c.read_to_end()
        c.close()
        c = TLSClient(srv.port, ctx=ctx, session=session)
        check(c.obj.session_reused, f"{model}: the second connection resumed the first's session")
        c.close()
        srv.wait_for(r"event=tls pid=\d+ .* resumed=yes")
        srv.stop()


def swap_cert(dst, name):
    """Put certificate name's files in place of dst's, as a rotation would (write, then rename)."""
    for src, to in zip(certs(name), dst):
        with open(src, "rb") as f, open(to + ".new", "wb") as g:
            g.write(f.read())
        os.rename(to + ".new", to)


def served_subject(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    for name in ("a", "b"):
        with open(certs(name)[0]) as f:
            if ssl.PEM_cert_to_DER_cert(f.read()) == der:
                return name
    return "?"


def test_sighup_reloads_the_certificate_and_keeps_the_old_one_when_the_new_is_bad():
    for model in MODELS:
        d = tempfile.mkdtemp(prefix="mpecho-rot-")
        atexit.register(shutil.rmtree, d, True)  # whatever becomes of the test
        files = (os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
        swap_cert(files, "a")
        srv = Server("-l", "127.0.0.1:0,tls", "--tls-cert", files[0], "--tls-key", files[1],
                     "--model", model)
        check(served_subject(srv.port) == "a", f"{model}: serves a")
        held = TLSClient(srv.port)
        held.send(b"before")
        check(held.read_exactly(6) == b"before", f"{model}: a session begun with a")
        swap_cert(files, "b")
        srv.proc.send_signal(signal.SIGHUP)
        srv.wait_for(r'event=tls-reload cert=\S+ subject="/CN=mpecho test b"')
        wait_until(lambda: served_subject(srv.port) == "b", timeout=10,
                   what=f"{model}: new connections get b after SIGHUP")
        held.send(b"after the reload")
        check(held.read_exactly(16) == b"after the reload", f"{model}: the session begun with a goes on")
        held.close_notify()
        check(held.read_to_end() == (b"", True), f"{model}: and ends with a close-notify")
        held.close()
        with open(files[0], "w") as f:
            f.write("not a certificate\n")
        srv.proc.send_signal(signal.SIGHUP)
        line = srv.wait_for(r"event=tls-reload-failed ")[0]
        check("cannot load the certificate" in line and "action=kept" in line, line)
        check(all(served_subject(srv.port) == "b" for _ in range(5)), f"{model}: b serves on")
        swap_cert(files, "a")
        with open(certs("b")[1], "rb") as f, open(files[1], "wb") as g:
            g.write(f.read())   # a key that does not match
        srv.proc.send_signal(signal.SIGHUP)
        line = srv.wait_for(r"event=tls-reload-failed ", count=2)[1]
        check("does not match" in line, line)
        check(served_subject(srv.port) == "b", f"{model}: b still")
        check(srv.stop() == 0 and not srv.zombies(), f"{model}: clean stop")


def test_a_root_only_key_serves_sessions_that_run_as_nobody():
    check(os.geteuid() == 0, "this test runs as root (as CI does): a root-only key and -u nobody")
    c, k = certs()
    d = tempfile.mkdtemp(prefix="mpecho-key-")
    atexit.register(shutil.rmtree, d, True)
    key = os.path.join(d, "key.pem")
    with open(k, "rb") as f, open(key, "wb") as g:
        g.write(f.read())
    os.chmod(key, 0o600)
    srv = Server("-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", key, "-u", "nobody")
    back, _ = half_close(srv.port, b"as nobody")
    check(back == b"as nobody", "echo in a session that runs as nobody")
    srv.proc.send_signal(signal.SIGHUP)
    srv.wait_for(r"event=tls-reload cert=")   # the supervisor reads it again; sessions never could
    srv.stop()


def test_tls_usage_errors_and_bad_files():
    c, k = certs()
    for args, status, msg in (
            (["-l", "127.0.0.1:0,tls"], 2, "a ,tls listener needs --tls-cert FILE and --tls-key FILE"),
            (["-l", "127.0.0.1:0,tls", "--tls-cert", c], 2, "--tls-cert needs --tls-key too"),
            (["-l", "127.0.0.1:0", "--tls-key", k], 2, "--tls-key needs --tls-cert too"),
            (["-l", "127.0.0.1:0", "--tls-cert", c, "--tls-key", k], 2, "none has it"),
            (["-l", "127.0.0.1:0,tsl"], 2, "unknown option 'tsl' for listener '127.0.0.1:0,tsl': "
                                           "expected proxy, tls, deferred or a socket option"),
            (["-l", "127.0.0.1:0,tls", "--tls-cert", "/nonexistent.pem", "--tls-key", k], 1,
             "cannot load the certificate /nonexistent.pem: "),
            (["-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", c], 1, "cannot load the key "),
            (["-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", certs("b")[1]], 1,
             "does not match the certificate"),
            (["-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", k, "--tls-timeout", "0"], 2,
             "--tls-timeout")):
        rc, err = run_server_once(*args)
        check(rc == status and msg in err and err.count("\n") == 1, f"{args}: {rc} {err!r}")


def test_inetd_mode_speaks_tls_when_given_the_files():
    c, k = certs()
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen()
    cli = socket.create_connection(lst.getsockname(), timeout=10)
    conn, _ = lst.accept()
    proc = track(subprocess.Popen([binary("mpechod"), "-i", "--tls-cert", c, "--tls-key", k,
                                   "--log", "stderr"], stdin=conn, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE))
    conn.close()
    obj = client_context().wrap_socket(cli, server_hostname="localhost")
    obj.sendall(b"inetd over tls")
    check(obj.recv(100) == b"inetd over tls", "echo")
    obj.close()
    err = proc.communicate(timeout=10)[1].decode()
    check(proc.returncode == 0 and "reason=eof in=14 out=14" in err, f"{proc.returncode} {err}")
    lst.close()


def test_taken_over_sockets_keep_tls_from_the_listen_options():
    """A successor (--upgrade-socket) and systemd socket activation get ,tls from their -l."""
    c, k = certs()
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "upgrade.sock")
        old = Server("-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", k, "--upgrade-socket", sock)
        port = old.port
        new = Server("-l", f"127.0.0.1:{port},tls", "--tls-cert", c, "--tls-key", k,
                     "--upgrade-socket", sock)
        check(new.matching(rf"event=listen addr=127\.0\.0\.1:{port} fd=\d+ upgrade-from={old.pid} tls=yes$"),
              f"the successor speaks TLS on the socket it took: {new.lines[:5]}")
        check(old.wait_exit() == 0, "the old server drains and exits")
        back, _ = half_close(port, b"after the upgrade")
        check(back == b"after the upgrade", "TLS echo from the successor")
        check(new.stop() == 0, "exit 0")
    with own_network():
        port = OWN_PORT  # the manager binds it: in a network namespace of the test's own
        addr = f"127.0.0.1:{port}"
        srv = Server("-l", f"{addr},tls", "--tls-cert", c, "--tls-key", k, ready=False,
                     prefix=("systemd-socket-activate", "-l", addr))
        first = connect_when_up(port)   # the manager starts mpechod on the first connection
        srv.wait_for(r"event=ready")
        check(srv.matching(rf"event=listen addr={addr} fd=3 .*tls=yes$"), f"{srv.lines[:5]}")
        c = TLSClient(port, sock=first)
        c.send(b"socket-activated")
        c.close_notify()
        back, _ = c.read_to_end()
        c.close()
        check(back == b"socket-activated", "TLS echo on the socket systemd bound")
        check(srv.stop() == 0, "exit 0")


def test_mpecho_tls_is_byte_exact_and_checks_the_certificate():
    srv = tls_server("--banner", "tls backend %p")
    port, cert = str(srv.port), certs()[0]
    data = os.urandom(8 << 20)
    rc, out, err = run_client("--tls", "--ca", cert, "--banner", f"127.0.0.1:{port}", data=data)
    check(rc == 0 and out == data, f"8 MiB through mpecho --tls: rc={rc} {len(out)} bytes {err!r}")
    check(f"tls backend {srv.pid}" in err, f"the banner, read over TLS: {err!r}")
    rc, out, err = run_client("--tls", "--ca", cert, "--banner", "localhost", port, data=b"by name\n")
    check(rc == 0 and out == b"by name\n", f"the name localhost is in the certificate: {err!r}")
    rc, out, err = run_client("--tls", "--banner", "127.0.0.1", port, data=b"x")
    check(rc == 1 and "TLS handshake with 127.0.0.1 failed: certificate verify failed: "
          "self-signed certificate" in err, f"not trusted without --ca: {err!r}")
    rc, out, err = run_client("--tls", "--ca", certs("b")[0], "--banner", "127.0.0.1", port, data=b"x")
    check(rc == 1 and "certificate verify failed" in err, f"another CA: {err!r}")
    rc, out, err = run_client("--tls", "--insecure", "--banner", "127.0.0.1", port, data=b"as is")
    check(rc == 0 and out == b"as is", f"--insecure checks nothing: {err!r}")
    for spec, msg in (("127.0.0.1", "hostname mismatch"),):
        c, k = certs("b")
        other = Server("-l", "127.0.0.2:0,tls", "--tls-cert", c, "--tls-key", k)
        rc, out, err = run_client("--tls", "--ca", c, f"127.0.0.2:{other.port}", data=b"x")
        check(rc == 1 and ("IP address mismatch" in err or msg in err),
              f"a certificate without the address asked for: {err!r}")
        other.stop()
    srv.wait_for(r"event=end ", count=5)
    check(len(srv.matching(r"exit=7 reason=tls")) == 2, "the two refused handshakes end as tls")
    srv.stop()
    for args, msg in ((["--ca", cert, "127.0.0.1"], "--ca is for TLS: add --tls"),
                      (["--insecure", "127.0.0.1"], "--insecure is for TLS: add --tls"),
                      (["--tls", "--ca", cert, "--insecure", "127.0.0.1"], "exclude each other"),
                      (["--tls", "unix:/tmp/x.sock"], "not unix: sockets")):
        rc, out, err = run_client(*args)
        check(rc == 2 and msg in err and err.count("\n") == 1, f"{args}: {rc} {err!r}")
    rc, out, err = run_client("--tls", "--ca", "/nonexistent.pem", "127.0.0.1", port)
    check(rc == 1 and "cannot load the CA certificates /nonexistent.pem" in err, err)
    rc, out, err = run_client("--tls", "--insecure", "127.0.0.1", port)   # the server is gone
    check(rc == 1 and "Connection refused" in err, err)


def test_mpecho_bench_tls_runs_every_mode_and_fails_fast_on_a_bad_certificate():
    from test_bench import bench, bench_json, no_errors
    cert = certs()[0]
    for model in MODELS:
        srv = tls_server("-q", "-c", "64", model=model)
        port = str(srv.port)
        tls = ("--tls", "--ca", cert)
        rc, r = bench_json(*tls, "-c", "8", "-d", "0.5", "-w", "0.2", "connrate", "127.0.0.1", port)
        check(rc == 0 and no_errors(r) and r["ops"] > 0, f"{model}: connrate over TLS: {r}")
        rc, r = bench_json(*tls, "-c", "4", "-d", "0.5", "-w", "0.2", "pingpong", "localhost", port)
        check(rc == 0 and no_errors(r) and r["ops"] > 100, f"{model}: pingpong over TLS: {r}")
        rc, r = bench_json(*tls, "-c", "2", "-d", "0.5", "-w", "0", "stream", "127.0.0.1", port)
        check(rc == 0 and no_errors(r) and r["bytes"] > 1_000_000, f"{model}: stream over TLS: {r}")
        # hold reports what is open when -d ends: 20 handshakes (and, in the fork model, 20
        # forks) took over 0.3 s on the ASan build of a loaded machine (2 to 9 held)
        rc, r = bench_json(*tls, "-c", "20", "-d", "2", "-w", "0", "hold", "127.0.0.1", port)
        check(rc == 0 and r["held"] == 20 and no_errors(r), f"{model}: hold over TLS: {r}")
        srv.stop()
    srv = tls_server("-q", "-s", "chargen")
    rc, r = bench_json("--tls", "--insecure", "-c", "2", "-d", "0.3", "-w", "0", "source",
                       "127.0.0.1", str(srv.port))
    check(rc == 0 and no_errors(r) and r["bytes"] > 0, f"source over TLS, every byte checked: {r}")
    srv.stop()
    srv = tls_server("-q")
    rc, out, err = bench("--tls", "-d", "0.3", "connrate", "127.0.0.1", str(srv.port))
    check(rc == 3 and "TLS handshake with 127.0.0.1 port" in err and "self-signed certificate" in err,
          f"an untrusted certificate fails the run at once: {rc} {err!r}")
    plain = Server("-q", "-l", "127.0.0.1:0")
    rc, out, err = bench("--tls", "--insecure", "-d", "0.3", "connrate", "127.0.0.1", str(plain.port))
    check(rc == 3 and "TLS handshake with" in err, f"a plain server: {rc} {err!r}")
    plain.stop()
    srv.stop()
    for args, msg in ((["--ca", cert], "--ca is for TLS"), (["--insecure"], "--insecure is for TLS"),
                      (["--tls", "--ca", cert, "--insecure"], "exclude each other")):
        rc, out, err = bench(*args, "connrate", "127.0.0.1", "1")
        check(rc == 2 and msg in err, f"{args}: {rc} {err!r}")
    rc, out, err = bench("--tls", "connrate", "unix:/tmp/none.sock")
    check(rc == 2 and "not unix: sockets" in err, err)


def test_without_tls_the_children_do_not_map_openssl():
    """fork() skips OpenSSL's mappings when no child will speak TLS (MADV_DONTFORK); with TLS it cannot.
    A static build (make static) has OpenSSL in the executable: no shared library at all."""
    sanitized = "sanitize" in binary("mpechod")     # ASan's runtime reads every module in children
    static = "statically linked" in subprocess.run(["file", "-L", binary("mpechod")],
                                                   capture_output=True, text=True).stdout
    c, k = certs()
    for args, mapped in ((["-l", "127.0.0.1:0"], sanitized),
                         (["-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", k], not static)):
        srv = Server(*args)
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        wait_until(lambda: srv.sessions(), 10, "the session process")
        maps = open(f"/proc/{srv.sessions()[0]}/maps").read()
        check(("libcrypto" in maps) == mapped and ("libssl" in maps) == mapped,
              f"{args}: OpenSSL mapped in the session: {'libcrypto' in maps}, expected {mapped}")
        supervisor = open(f"/proc/{srv.pid}/maps").read()
        if static:
            check(".so" not in supervisor, f"a static build maps no shared library: {supervisor}")
        else:
            check("libcrypto" in supervisor, "the supervisor keeps it")
        s.close()
        srv.stop()


def test_a_fifo_or_device_at_a_key_path_is_refused_without_blocking():
    """--tls-cert and --tls-key are read only if they are regular files, without blocking: a
    FIFO at the key path on SIGHUP used to hang the supervisor in open() for good."""
    c, k = certs()
    with tempfile.TemporaryDirectory() as d:
        fifo, key, pid = os.path.join(d, "fifo"), os.path.join(d, "key.pem"), os.path.join(d, "p.pid")
        os.mkfifo(fifo)
        for cert, keyfile, which in ((fifo, k, "certificate"), (c, fifo, "key"), ("/dev/zero", k, "certificate")):
            t0 = time.monotonic()
            rc, err = run_server_once("-l", "127.0.0.1:0,tls", "--tls-cert", cert, "--tls-key", keyfile)
            check(rc == 1 and f"cannot load the {which} {cert if which == 'certificate' else keyfile}: "
                  "not a regular file" in err and time.monotonic() - t0 < 5, f"{cert} {keyfile}: {rc} {err!r}")
        enc = os.path.join(d, "enc.pem")  # an encrypted key: refused, no password asked for
        subprocess.run(["openssl", "pkey", "-in", k, "-aes256", "-passout", "pass:x", "-out", enc],
                       check=True, capture_output=True, timeout=30)
        rc, err = run_server_once("-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", enc)
        check(rc == 1 and "it is encrypted, and mpechod asks for no password" in err, f"{rc} {err!r}")
        rc, err = run_server_once("-l", "127.0.0.1:0", "-p", fifo)  # the pidfile: never blocks either
        check(rc == 1 and "must be a regular file" in err, f"a FIFO pidfile: {rc} {err!r}")
        with open(k, "rb") as f, open(key, "wb") as g:
            g.write(f.read())
        srv = Server("-l", "127.0.0.1:0,tls", "--tls-cert", c, "--tls-key", key)
        os.unlink(key)
        os.mkfifo(key)
        srv.proc.send_signal(signal.SIGHUP)
        line = srv.wait_for(r"event=tls-reload-failed ", timeout=3)[0]
        check(f"cannot load the key {key}: not a regular file" in line and "action=kept" in line, line)
        back, _ = half_close(srv.port, b"not blocked")
        check(back == b"not blocked", "the old credentials serve on")
        check(srv.stop() == 0, "exit 0")
