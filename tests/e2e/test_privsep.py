"""Least privilege under -u: after start-up nothing that reads the network runs as root (the
supervisor, its PROXY headers, the metrics HTTP, the agent, the sessions); one small root process
holds no socket but its line to the supervisor, and does what needs root (a root-only log and key
opened again on SIGHUP, files in root-only directories renamed and removed)."""
import base64
import hmac
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

from harness import (Server, binary, check, children, connect, echo_roundtrip,
                     socket_fds, steal_fd, wait_for_file, wait_until)
from test_tls import certs, served_subject, swap_cert

NOBODY = pwd.getpwnam("nobody")


def status(pid, key):
    """A line of /proc/PID/status, its fields after the key."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1:]
    return []


def ids(pid, key):
    """The Uid or Gid line: real, effective, saved, filesystem."""
    return [int(v) for v in status(pid, key)]


def is_nobody(pid):
    return ids(pid, "Uid") == [NOBODY.pw_uid] * 4 and ids(pid, "Gid") == [NOBODY.pw_gid] * 4


def holders(srv, client, what="the connection"):
    """The server's processes holding its end of the client's connection, once accepted: each
    socket of theirs is borrowed (pidfd_getfd) and asked for its peer. Quick: the agent lets a
    balancer 1 s to send its line."""
    me = client.getsockname()

    def find():
        found = set()
        for pid in [srv.pid, *children(srv.pid)]:
            try:
                fds = socket_fds(pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    with steal_fd(pid, fd) as s:
                        if s.family == client.family and s.getpeername() == me:
                            found.add(pid)
                except OSError:
                    continue
        return found or None
    return wait_until(find, 5, f"the process that accepted {what} from {me}")


def root_dir():
    """A directory only root can write or enter, as /run/mpechod would be."""
    d = tempfile.mkdtemp(prefix="mpecho-privsep-")
    os.chmod(d, 0o700)
    return d


def root_only_credentials(d, name="a"):
    """Certificate name's files copied into d, the key readable by root alone."""
    paths = (os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
    for src, to in zip(certs(name), paths):
        shutil.copy(src, to)
    os.chmod(paths[1], 0o600)
    return paths


def the_root_helper(srv):
    """The one process of the server that is still root: it holds no socket but its line."""
    def settled():
        """The children once each has left fork() for its own start (a worker becomes the user
        there: just forked, on a loaded machine, it is root for a moment)."""
        kids = [p for p, v in children(srv.pid).items() if v[0] != "Z"]
        return kids if sum(ids(p, "Uid")[0] == 0 for p in kids) == 1 else None
    kids = wait_until(settled, 5, "the children past their start")
    root = [p for p in kids if ids(p, "Uid")[0] == 0]
    check(len(root) == 1, f"one root child: {[(p, ids(p, 'Uid')) for p in kids]}")
    unix = set()
    with open("/proc/net/unix") as f:
        unix = {int(line.split()[6]) for line in f.readlines()[1:]}
    fds = socket_fds(root[0])
    inodes = {int(os.readlink(f"/proc/{root[0]}/fd/{fd}")[8:-1]) for fd in fds}
    check(len(fds) == 1 and inodes <= unix, f"its one socket is its line to the supervisor: {fds}")
    return root[0], [p for p in kids if p != root[0]]


def test_with_u_nothing_that_reads_the_network_is_root_in_any_model():
    for model in ("fork", "prefork", "loop"):
        d = root_dir()
        try:
            cert, key = root_only_credentials(d)
            srv = Server("-u", "nobody", "--model", model, "-l", "127.0.0.1:0,tls", "-l",
                         "127.0.0.1:0,proxy", "--tls-cert", cert, "--tls-key", key, "--metrics",
                         "127.0.0.1:0", "--agent", "127.0.0.1:0", "-p",
                         os.path.join(d, "pid"), "--proxy-timeout", "30")
            mport = srv.endpoint("metrics")[1]
            aport = srv.endpoint("agent")[1]
            tls_port, proxy_port = srv.addrs[0][1], srv.addrs[1][1]
            check(is_nobody(srv.pid), f"{model}: the supervisor: {ids(srv.pid, 'Uid')}")
            helper, others = the_root_helper(srv)
            check(all(is_nobody(p) for p in others), f"{model}: every other child is nobody")
            for pid in (srv.pid, helper, *others):  # the sandbox, inherited from the start
                check(status(pid, "NoNewPrivs") == ["1"] and status(pid, "Seccomp") == ["2"],
                      f"{model}: {pid} has no_new_privs and the seccomp filter")
            # Connections in the middle of what each part parses: who holds them is not root.
            held = []
            for port, partial, who in ((mport, b"GET /metrics HTTP/1.1\r\n", "the metrics HTTP"),
                                       (aport, b"", "the agent"),
                                       (proxy_port, b"PROXY TCP4 192.0.2.1 ", "the PROXY header"),
                                       (tls_port, b"\x16\x03\x01", "the TLS handshake")):
                s = connect(port)
                s.sendall(partial)
                held.append(s)
                pids = holders(srv, s, who)
                check(all(is_nobody(p) for p in pids) and helper not in pids,
                      f"{model}: {who} is read by {pids}: {[ids(p, 'Uid') for p in pids]}")
                if model == "fork" and who != "the TLS handshake":
                    check(pids == {srv.pid}, f"{model}: {who} is the supervisor's: {pids}")
            for s in held:
                s.close()
            with connect(proxy_port) as s:
                s.sendall(b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 7\r\n")
                check(echo_roundtrip(s, b"proxied") == b"proxied", f"{model}: served after the header")
            check(served_subject(tls_port) == "a", f"{model}: TLS with the root-only key")
            check(srv.stop() == 0, f"{model}: exit 0")
            check(not os.path.exists(os.path.join(d, "pid")), f"{model}: the pidfile removed")
        finally:
            shutil.rmtree(d)


def test_no_process_of_the_server_can_signal_the_supervisor():
    """The signal filters (sandbox.c), counted in /proc: every process has the start's filter
    and the supervisor's shield (no signal to the supervisor or a group, no SIGIO owner); a
    prefork or loop worker and the UDP process also one that lets them signal only themselves.
    What each filter refuses is checked in the unit tests (test_sandbox_signals).
    Each child is read once it is ready, and named by the log, not by its uid: a worker is
    root with two filters for a moment after fork() (its worker-ready line comes once its user
    and filters are final), the UDP process once it has echoed, a session once it has."""
    for model in ("fork", "prefork", "loop"):
        srv = Server("-v", "-u", "nobody", "--model", model, "-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0")
        udp_port = int(srv.wait_for(r"event=listen addr=udp:127\.0\.0\.1:\d+")[0].rsplit(":", 1)[1])
        with connect(srv.port) as s, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            check(echo_roundtrip(s, b"x") == b"x", f"{model}: echo")
            u.settimeout(5)
            u.sendto(b"y", ("127.0.0.1", udp_port))
            check(u.recv(16) == b"y", f"{model}: the UDP process echoes")
            session = holders(srv, s) if model == "fork" else set()

            def named():
                """The children, each named by a start line but the helper (a pool may be
                starting one more worker: its line comes just after fork())."""
                kids = {p for p, v in children(srv.pid).items() if v[0] != "Z"}
                workers = {int(e["pid"]) for e in srv.events("worker-start")} & kids
                udp = {int(e["pid"]) for e in srv.events("udp-start")} & kids
                rest = kids - workers - udp - session
                return (kids, workers, udp, rest) if len(rest) == 1 else None
            kids, workers, udp, helper = wait_until(named, 5, f"{model}: the children named")
            for pid in workers:
                srv.wait_for(rf"event=worker-ready pid={pid}( |$)")
            check(all(ids(p, "Uid")[0] == 0 for p in helper) and len(udp) == 1
                  and (len(workers) >= 1) == (model != "fork"),
                  f"{model}: one root helper, the UDP process, workers or the session: {kids}, "
                  f"workers {workers}, udp {udp}, session {session}")
            counts = {p: status(p, "Seccomp_filters") for p in [srv.pid, *kids]}
            check(counts[srv.pid] == ["2"] and all(counts[p] == ["2"] for p in helper),
                  f"{model}: the supervisor and the root helper: start + shield: {counts}")
            check(all(counts[p] == ["2"] for p in session) and all(counts[p] == ["3"] for p in
                                                                   workers | udp),
                  f"{model}: a fork session start + shield; workers and UDP also self-only: "
                  f"{counts}, session {session}")
        check(srv.stop() == 0, f"{model}: exit 0")


def test_sighup_as_nobody_reopens_a_root_only_log_and_reloads_a_root_only_key():
    for model in ("fork", "prefork", "loop"):
        d = root_dir()
        try:
            cert, key = root_only_credentials(d)
            log = os.path.join(d, "log")
            srv = Server("-u", "nobody", "--model", model, "-l", "127.0.0.1:0,tls",
                         "--tls-cert", cert, "--tls-key", key, "--log", log, ready=False)
            port = int(re.search(r"event=listen addr=127\.0\.0\.1:(\d+)",
                                 wait_for_file(log, r"event=ready ")).group(1))
            check(is_nobody(srv.pid), f"{model}: the supervisor runs as nobody")
            check(served_subject(port) == "a", f"{model}: a serves")
            os.rename(log, log + ".1")  # rotated: only root may create the new file
            swap_cert((cert, key), "b")
            os.chmod(key, 0o600)
            srv.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: os.path.exists(log) and "event=tls-reload " in open(log).read(), 10,
                       "the reload, logged in the new file")
            text = open(log).read()
            check("event=reopen signal=HUP" in text and "error" not in text, f"{model}: {text}")
            check(os.stat(log).st_uid == 0, f"{model}: the new log file was made by root")
            # prefork: the workers that hold a's context are replaced, one connection later at most
            wait_until(lambda: served_subject(port) == "b", 10, f"{model}: b served after SIGHUP")
            check(srv.stop() == 0, f"{model}: exit 0")
        finally:
            shutil.rmtree(d)


def test_after_rotation_every_process_writes_to_the_new_root_only_log():
    """Workers and the UDP process, running as nobody, may not open a root-only log (here a root
    file, mode 600, in a directory only root may enter): on SIGHUP they take the file the
    privileged process opened again from the supervisor. After a rotation, the lines of sessions
    that workers started before it serve, and the UDP process's, are in the new file, none in the
    old one."""
    for model, pool in (("prefork", ["--start", "3", "--min-spare", "1", "--max-spare", "3"]),
                        ("loop", ["--workers", "2"])):
        d = root_dir()
        try:
            log = os.path.join(d, "log")
            os.close(os.open(log, os.O_CREAT | os.O_WRONLY, 0o600))
            srv = Server("-v", "-u", "nobody", "--model", model, *pool, "-l", "127.0.0.1:0",
                         "-l", "udp:127.0.0.1:0", "--log", log, ready=False)
            text = wait_for_file(log, r"event=ready ")
            tcp, udp = (int(p) for p in re.findall(r"event=listen addr=(?:udp:)?127\.0\.0\.1:(\d+)", text))
            count = 3 if model == "prefork" else 2
            text = wait_until(lambda: (lambda t: t if t.count("event=worker-ready ") >= count else None)(
                open(log).read()), 10, f"{model}: {count} workers ready")
            before = {int(p) for p in re.findall(r"event=worker-ready pid=(\d+)", text)}
            udp_pid = int(re.search(r"event=udp-start pid=(\d+)", text).group(1))
            check(all(is_nobody(p) for p in [*before, udp_pid]), f"{model}: workers and UDP are nobody")
            os.rename(log, log + ".1")  # rotated: only root may make the new file
            srv.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: os.path.exists(log) and "event=reopen signal=HUP" in open(log).read(),
                       10, f"{model}: the supervisor's reopen, in the new file")
            held = []
            for i in range(len(before)):  # one held each: in prefork every worker serves one
                s = connect(tcp)
                check(echo_roundtrip(s, b"rotated %d" % i) == b"rotated %d" % i, f"{model}: echo")
                held.append(s)
            ports = [s.getsockname()[1] for s in held]
            for s in held:
                s.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(10)
            u.sendto(b"dgram", ("127.0.0.1", udp))
            check(u.recvfrom(100)[0] == b"dgram", f"{model}: the UDP echo")
            u.close()
            srv.proc.send_signal(signal.SIGUSR1)  # the UDP process's summary line
            new = wait_for_file(log, r"event=udp-summary pid=%d .*why=status" % udp_pid)
            for port in ports:
                wait_for_file(log, r"event=end peer=127\.0\.0\.1:%d " % port)
            new = open(log).read()
            served = {int(m) for m in re.findall(r"event=connect peer=127\.0\.0\.1:(?:%s) .*?pid=(\d+)"
                                                 % "|".join(map(str, ports)), new)}
            check(served and served <= before, f"{model}: served by workers started before the "
                  f"rotation: {served} of {before}")
            if model == "prefork":
                check(served == before, f"{model}: every worker served one: {served} of {before}")
            old = open(log + ".1").read()
            stray = [line for line in old.splitlines() if "why=status" in line or
                     any(f"127.0.0.1:{port} " in line for port in ports)]
            check(not stray, f"{model}: lines written to the rotated file: {stray}")
            check("error" not in new, f"{model}: no process failed to reopen: {new}")
            check(srv.stop() == 0, f"{model}: exit 0")
        finally:
            shutil.rmtree(d)


def test_an_upgrade_as_nobody_moves_and_removes_files_in_a_root_only_directory():
    for models in (("fork", "prefork"), ("prefork", "loop"), ("loop", "fork")):
        upgrade_as_nobody(*models)


def upgrade_as_nobody(old_model, new_model):
    d = root_dir()
    os.chmod(d, 0o755)  # the socket files must be reachable; writable still by root alone
    try:
        sock, pidfile, path = (os.path.join(d, n) for n in ("upgrade.sock", "pid", "echo.sock"))
        old = Server("-u", "nobody", "-l", "127.0.0.1:0", "-l", f"unix:{path}", "--upgrade-socket",
                     sock, "-p", pidfile, "--model", old_model)
        port = old.port
        check(is_nobody(old.pid), "the old server runs as nobody")
        new = Server("-u", "nobody", "-l", f"127.0.0.1:{port}", "-l", f"unix:{path}",
                     "--upgrade-socket", sock, "-p", pidfile, "--model", new_model)
        old.wait_for(rf"event=handover successor={new.pid} ")
        check(old.wait_exit() == 0, f"{old_model} to {new_model}: the old server drains and exits 0")
        wait_until(lambda: not os.path.exists(pidfile + ".old"), 5, "the old pidfile removed")
        check(open(pidfile).read().strip() == str(new.pid), "the pidfile names the new one")
        check(is_nobody(new.pid), "the new server runs as nobody")
        with connect(port) as s:
            check(echo_roundtrip(s, b"after") == b"after", "the new one serves")
        check(new.stop() == 0, "exit 0")
        check(os.listdir(d) == [], f"{new_model}: its pidfile and socket files removed: {os.listdir(d)}")
    finally:
        shutil.rmtree(d)


def private_scalar(key):
    """The EC private key's number, as its 32 bytes."""
    text = subprocess.run(["openssl", "ec", "-in", key, "-text", "-noout"], capture_output=True,
                          text=True, check=True).stdout
    digits = re.sub(r"[^0-9a-f]", "", re.search(r"priv:(.*?)pub:", text, re.S).group(1))
    return bytes.fromhex(digits)[-32:]


def writable(pid):
    """The bytes of each writable mapping of a process (those under 256 MiB)."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if "w" not in fields[1] or hi - lo > 256 << 20:
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            yield data


def holds(pid, number):
    """Whether a process's writable memory holds the number, big-endian or as OpenSSL's
    BIGNUM keeps it on a little-endian machine (64-bit words, the lowest first)."""
    forms = (number, number[::-1])
    return any(f in data for data in writable(pid) for f in forms)


def scannable():
    """ASan's heap lies in regions too large to read here: the scans need the usual allocator."""
    with open(binary("mpechod"), "rb") as f:
        return b"AddressSanitizer" not in f.read()


def test_a_session_process_drops_the_private_key_after_its_handshake():
    d = root_dir()
    try:
        cert, key = root_only_credentials(d)
        number = private_scalar(key)
        srv = Server("-u", "nobody", "-l", "127.0.0.1:0,tls", "--tls-cert", cert, "--tls-key", key)
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with connect(srv.port) as raw, ctx.wrap_socket(raw) as t:
            t.sendall(b"after the handshake")
            check(t.recv(64) == b"after the handshake", "echo over TLS")
            session = holders(srv, t)
            check(len(session) == 1 and srv.pid not in session, f"one session process: {session}")
            if scannable():
                check(holds(srv.pid, number), "the supervisor holds the key (the scan finds it)")
                check(not holds(session.pop(), number), "the session holds no copy of the key")
        check(srv.stop() == 0, "exit 0")
    finally:
        shutil.rmtree(d)


def der(data):
    """The (tag, contents) of each DER element in data, in turn."""
    i = 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        yield tag, data[i:i + n]
        i += n


def session_ticket(path):
    """The ticket in the session openssl s_client -sess_out wrote (OpenSSL's SSL_SESSION: a
    SEQUENCE whose [10] holds it as an OCTET STRING): key name, IV, state, HMAC-SHA256."""
    with open(path) as f:
        blob = base64.b64decode("".join(l for l in f.read().splitlines() if not l.startswith("-----")))
    (_, fields), = der(blob)
    for tag, value in der(fields):
        if tag == 0xAA:
            return next(der(value))[1]
    return None


def ticket_keys(pid, ticket):
    """The ticket keys a process holds, found by what they do: 32 bytes at an address malloc may
    give (16-aligned) that are the key of the ticket's HMAC, and the 32 after them (OpenSSL keeps
    the HMAC key, then the AES key, in a struct of their own); None if there are none."""
    body, mac = ticket[:-32], ticket[-32:]
    for data in writable(pid):
        for at in range(0, len(data) - 63, 16):
            if hmac.digest(data[at:at + 32], body, "sha256") == mac:
                return data[at:at + 32], data[at + 32:at + 64]
    return None


def test_a_session_process_drops_the_ticket_keys_once_its_tickets_are_sent():
    """Every session is forked with the ticket keys, with which it could read (or forge) the
    resumption ticket of any other client: a fork-model session writes over them once its
    handshake, and with it its own ticket, is done. The keys are found in the supervisor by the
    ticket a client got, and then looked for in the session serving that client."""
    d = root_dir()
    try:
        cert, key = root_only_credentials(d)
        sess = os.path.join(d, "session.pem")
        srv = Server("-u", "nobody", "-l", "127.0.0.1:0,tls", "--tls-cert", cert, "--tls-key", key)
        client = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}",
                                   "-quiet", "-no_ign_eof", "-sess_out", sess], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            client.stdin.write(b"ticket\n")
            client.stdin.flush()
            check(client.stdout.readline() == b"ticket\n", "echo over TLS")
            ticket = wait_until(lambda: os.path.exists(sess) and session_ticket(sess), 10,
                                "the ticket, in the session s_client wrote")
            session = int(re.search(r" pid=(\d+)", srv.wait_for(r"event=connect ")[0]).group(1))
            check(session != srv.pid and is_nobody(session), f"the session process: {session}")
            if scannable():
                keys = ticket_keys(srv.pid, ticket)
                check(keys is not None, "the supervisor holds the keys the ticket was made with")
                check(not any(holds(session, k) for k in keys),
                      "the session holds neither the ticket's HMAC key nor its AES key")
        finally:
            client.stdin.close()
            client.wait(10)
        check(srv.stop() == 0, "exit 0")
    finally:
        shutil.rmtree(d)


READ_MEMORY = """
import sys
pid = sys.argv[1]
try:
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        lo = int(next(l for l in maps if " rw" in l).split("-")[0], 16)
        mem.seek(lo)
        print("read", len(mem.read(64)))
except OSError as e:
    print(type(e).__name__)
"""


def test_no_process_of_the_same_user_can_read_the_servers_memory():
    """Without -u every process of the server runs as the user that started it (systemd's
    DynamicUser= too), as a compromised session would: through /proc/PID/mem it could read the
    supervisor's memory, and the private key and ticket keys in it. No process of the server is
    dumpable (sandbox.c), so another process of that user is refused."""
    d = tempfile.mkdtemp(prefix="mpecho-privsep-")
    try:
        os.chmod(d, 0o755)
        cert, key = root_only_credentials(d)
        os.chown(key, NOBODY.pw_uid, NOBODY.pw_gid)
        nobody = ("setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups")
        srv = Server("-l", "127.0.0.1:0,tls", "--tls-cert", cert, "--tls-key", key, prefix=nobody)
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with connect(srv.port) as raw, ctx.wrap_socket(raw) as t:
            t.sendall(b"mine")
            check(t.recv(64) == b"mine", "echo over TLS")
            session = int(re.search(r" pid=(\d+)", srv.wait_for(r"event=connect ")[0]).group(1))
            check(is_nobody(srv.pid) and is_nobody(session), "the server runs as nobody, without -u")
            for pid, who in ((srv.pid, "the supervisor"), (session, "the session")):
                out = subprocess.run([*nobody, sys.executable, "-c", READ_MEMORY, str(pid)],
                                     capture_output=True, text=True, timeout=10).stdout.strip()
                # An ASan build stays dumpable: its leak check traces the process at exit.
                check(out == "PermissionError" or (not scannable() and out.startswith("read")),
                      f"{who}'s memory, read by another process of its user: {out}")
        check(srv.stop() == 0, "exit 0")
    finally:
        shutil.rmtree(d)


def published_mappings(pid):
    """The permissions of each mapping of the memory the supervisor publishes (mem_published)."""
    with open(f"/proc/{pid}/maps") as f:
        return [line.split()[1] for line in f if "memfd:mpechod-published" in line]


def test_children_read_the_rules_in_force_but_cannot_write_them():
    """The access rules every process admits by (the --rules file's, published again on SIGHUP)
    are in memory the supervisor writes and its children may only read: a compromised session or
    worker would otherwise let anyone in, for every process. A child has the read-only mapping
    alone (that it cannot be made writable is the unit test's, test_acl_shared)."""
    for model in ("fork", "prefork", "loop"):
        srv = Server("-u", "nobody", "--model", model, "-l", "127.0.0.1:0", "-l", "udp:127.0.0.1:0",
                     "--deny", "192.0.2.0/24")
        with connect(srv.port) as s:
            check(echo_roundtrip(s, b"rules") == b"rules", f"{model}: echo")
            kids = [p for p, v in children(srv.pid).items() if v[0] != "Z" and ids(p, "Uid")[0] != 0]
            check(sorted(published_mappings(srv.pid)) == ["r--s", "rw-s"],
                  f"{model}: the supervisor writes the rules: {published_mappings(srv.pid)}")
            check(len(kids) >= 2 and all(published_mappings(p) == ["r--s"] for p in kids),
                  f"{model}: sessions, workers and the UDP process read them only: "
                  f"{ {p: published_mappings(p) for p in kids} }")
        check(srv.stop() == 0, f"{model}: exit 0")
