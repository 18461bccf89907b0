"""The loop model: the other models' end-to-end tests of the data path, the services and the
limits, run again with --model loop in front of their arguments; and what only the loop has."""
import os
import re
import resource
import signal
import socket
import time

import harness
import test_balancer
import test_bench
import test_classic
import test_echo
import test_limits
import test_metrics
import test_network
import test_ops
import test_process
import test_proxy
import test_sockopts
import test_status
import test_tls
from harness import Server, check, connect, echo_roundtrip, recv_exactly, wait_until

# The tests whose behaviour every model shares (those about a process per session are not here).
SHARED = (
    test_echo.test_binary_and_multi_megabyte_echo,
    test_echo.test_fifty_concurrent_clients_each_get_their_own_bytes,
    test_echo.test_upper_lines_crlf_split_batched_and_quit,
    test_echo.test_upper_quit_in_batch_drops_what_follows,
    test_echo.test_reset_by_peer_ends_the_child_quietly,
    test_echo.test_client_pipe_mode_multi_megabyte_binary,
    test_echo.test_client_reaches_ipv6_and_host_names,
    test_classic.test_chargen_to_a_client_that_stops_reading_ends_by_the_idle_timeout,
    test_limits.test_max_per_source_refuses_the_extra_connection,
    test_limits.test_rate_limit_per_source,
    test_limits.test_allow_and_deny_rules,
    (test_limits.test_refusal_lines_are_rate_limited, "--workers", "1"),  # a throttle per worker
    test_limits.test_min_rate_0_lifts_the_minimum_for_a_trickling_load_test,
    test_ops.test_idle_timeout_closes_a_client_that_never_reads,
    test_ops.test_max_time_ends_a_busy_session,
    test_ops.test_sighup_reopens_the_log_file,
    test_metrics.test_json_log_lines_carry_the_same_events_and_fields,
    test_metrics.test_a_thousand_concurrent_scrapes_all_answered_while_echo_goes_on,
    test_status.test_the_ring_of_samples_and_since,
    test_process.test_sessions_leave_through_exit_not_signals,
    test_balancer.test_haproxy_send_proxy_v1_and_v2_real_client_rules_and_checks,
    test_balancer.test_haproxy_on_an_ipv6_socket_names_ipv4_clients_in_tcp6_lines,
    test_balancer.test_haproxy_one_backend_drains_while_clients_stream_through,
    test_balancer.test_banner_tells_the_backends_apart_and_the_bench_still_checks_every_byte,
    test_balancer.test_haproxy_agent_check_drains_a_leaving_backend_before_its_listener_closes,
    test_bench.test_every_mode_against_mpechod,
    test_bench.test_sources_spread_the_client_addresses,
    test_network.test_lossy_reordering_network_echo_stays_exact_and_a_vanished_peer_times_out,
    test_process.test_grace_period_ends_sessions_that_stay,
    test_process.test_second_signal_ends_sessions_at_once,
    test_proxy.test_malformed_headers_and_strangers_are_refused_with_a_reason,
    test_proxy.test_limits_and_rules_judge_the_client_not_the_balancer,
    test_tls.test_every_service_works_over_tls,
    test_tls.test_clients_written_by_others_openssl_s_client_and_socat,
    test_tls.test_bad_clients_end_their_session_with_reason_tls_and_nothing_else,
    test_tls.test_idle_timeout_and_max_time_hold_over_tls,
    test_tls.test_proxy_header_then_tls,
    test_tls.test_a_root_only_key_serves_sessions_that_run_as_nobody,
    test_tls.test_taken_over_sockets_keep_tls_from_the_listen_options,
    test_tls.test_mpecho_tls_is_byte_exact_and_checks_the_certificate,
    test_sockopts.test_listener_options_are_on_every_accepted_socket_and_on_the_wire,
    test_sockopts.test_keepalive_and_user_timeout_drop_a_peer_that_vanished,
    test_sockopts.test_a_socket_handed_over_gets_the_options_of_its_l,
    test_tls.test_without_tls_the_children_do_not_map_openssl,  # a worker is forked as a session is
)


def _under_loop(fn, *extra):
    def run():
        harness.SERVER_ARGS[:] = ["--model", "loop", *extra]
        try:
            fn()
        finally:
            harness.SERVER_ARGS[:] = []
    return run


for _entry in SHARED:
    _fn, *_extra = _entry if isinstance(_entry, tuple) else (_entry,)
    globals()[f"test_{_fn.__module__[5:]}_{_fn.__name__[5:]}"] = _under_loop(_fn, *_extra)


def loop(*args, **kw):
    return Server("--model", "loop", *args, **kw)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def send_until_stalled(step, total):
    """step() sends what the socket takes (BlockingIOError: nothing), until the sends have
    stalled for a second, 20 s have passed or total() says 256 MiB went; whether they stalled."""
    stalled, deadline = None, time.monotonic() + 20
    while time.monotonic() < deadline and total() < (256 << 20):
        try:
            step()
            stalled = None
        except BlockingIOError:
            stalled = stalled or time.monotonic()
            if time.monotonic() - stalled > 1.0:
                return True
            time.sleep(0.01)
    return False


def test_a_client_that_does_not_read_is_not_buffered_without_bound():
    """Back-pressure: while a session holds output its client has not taken, the worker reads
    nothing more from it; the client's sends block, the worker stays small and serves others."""
    srv = loop("-l", "127.0.0.1:0", "--workers", "1")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", srv.port))
    s.setblocking(False)
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
    before = rss_kib(pid)
    sent, chunk = bytearray(), os.urandom(1 << 16)
    stalled = send_until_stalled(lambda: sent.extend(chunk[:s.send(chunk)]), lambda: len(sent))
    check(stalled, f"the client's sends stalled (sent {len(sent)} bytes)")
    check(len(sent) < (64 << 20), f"only socket buffers' worth went in: {len(sent) >> 20} MiB")
    grew = rss_kib(pid) - before
    check(grew < 4096, f"the worker grew by {grew} KiB only, for {len(sent) >> 10} KiB taken in")
    with connect(srv.port) as other:
        check(echo_roundtrip(other, b"meanwhile") == b"meanwhile", "the worker serves others")
    s.setblocking(True)
    s.settimeout(10)
    check(recv_exactly(s, len(sent)) == bytes(sent), "and every byte comes back, in order")
    s.close()
    srv.wait_for(rf"event=end .*in={len(sent)} out={len(sent)} ", count=1)
    check(srv.stop() == 0, "server exits 0")


def test_an_idle_worker_holds_no_buffer_per_session():
    """400 idle sessions on one worker cost it less than a buffer each would (64 KiB)."""
    srv = loop("-l", "127.0.0.1:0", "--workers", "1")
    with connect(srv.port) as first:
        check(echo_roundtrip(first, b"x" * 65536) == b"x" * 65536, "one bulk echo")
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
    before = rss_kib(pid)
    held = [connect(srv.port) for _ in range(400)]
    for s in held:
        check(echo_roundtrip(s, b"ping") == b"ping", "each one echoes once")
    grew = rss_kib(pid) - before
    check(grew < 400, f"400 idle sessions grew the worker by {grew} KiB (< 1 KiB each)")
    for s in held:
        s.close()
    srv.wait_for(r"event=end ", count=401)
    check(srv.stop() == 0, "server exits 0")


def test_a_dead_worker_is_replaced_and_its_sessions_are_counted_lost():
    srv = loop("-v", "-l", "127.0.0.1:0", "--workers", "1")
    held = [connect(srv.port) for _ in range(3)]
    for s in held:
        check(echo_roundtrip(s, b"a") == b"a", "echo")
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
    os.kill(pid, signal.SIGKILL)
    line = srv.wait_for(r"event=worker-exit ")[0]
    check(f"pid={pid} signal=KILL lost=3 " in line and "level=warning" in line, f"logged: {line}")
    srv.wait_for(r"event=worker-start ", count=2)
    for s in held:
        s.settimeout(5)
        check(s.recv(1) == b"", "its clients were closed with it")
        s.close()
    with connect(srv.port) as s:
        check(echo_roundtrip(s, b"again") == b"again", "the new worker serves")
    srv.wait_for(r"event=end ")  # that session's: the lost ones have none
    srv.proc.send_signal(signal.SIGUSR1)
    status = srv.wait_for(r"event=status ")[0]
    check(re.search(r"served=4\b", status), f"the lost sessions are counted as ended: {status}")
    srv.proc.send_signal(signal.SIGTERM)
    check(srv.wait_exit() == 0, "server exits 0")


def test_more_workers_when_one_process_cannot_hold_its_share():
    """A hard descriptor limit of 200: -c 600 with one worker would not fit, so there are enough
    workers (and the start line says so), and 400 clients are all served at once."""
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
    srv = loop("-l", "127.0.0.1:0", "-c", "600", "--workers", "1", preexec_fn=limit)
    start = srv.wait_for(r"event=start ")[0]
    check("workers=4 nofile=200 per_worker=150" in start, f"the start line says why: {start}")
    held = [connect(srv.port) for _ in range(400)]
    for i, s in enumerate(held):
        check(echo_roundtrip(s, b"%d" % i) == b"%d" % i, f"client {i} served")
    pids = {int(p) for p in re.findall(r"event=connect .*?pid=(\d+)", "\n".join(srv.lines))}
    check(len(pids) >= 3, f"the sessions are spread over the workers: {len(pids)}")
    for s in held:
        s.close()
    srv.wait_for(r"event=end ", count=400)
    check(srv.stop() == 0, "server exits 0")


def test_a_dead_workers_sources_get_their_count_back_and_the_others_keep_theirs():
    """--max-per-source 1 with two workers of one session each (-c 2): a session from .2 on one
    worker, one from .3 on the other. The second worker is stopped (SIGSTOP) and the first killed:
    the supervisor gives back exactly the dead worker's counts, from its list of addresses, with
    no help from the others, so .3's count still refuses a second from .3 at once, and .2 may
    connect again."""
    srv = loop("-v", "-l", "127.0.0.1:0", "--workers", "2", "-c", "2", "--max-per-source", "1")
    a = test_limits.connect_from(srv.port, "127.0.0.2")
    b = test_limits.connect_from(srv.port, "127.0.0.3")
    check(test_limits.served(a) and test_limits.served(b), "one session each")
    pid_of = lambda src: int(re.search(rf"peer={src}:\d+ pid=(\d+)",
                                       "\n".join(srv.wait_for(rf"event=connect peer={src}:"))).group(1))
    victim, other = pid_of("127.0.0.2"), pid_of("127.0.0.3")
    check(victim != other, "the two sessions are on two workers")
    os.kill(other, signal.SIGSTOP)
    try:
        os.kill(victim, signal.SIGKILL)
        srv.wait_for(rf"event=worker-exit pid={victim} signal=KILL lost=1 ")
        srv.wait_for(r"event=worker-start ", count=3)
        a.close()
        with test_limits.connect_from(srv.port, "127.0.0.3") as c:
            check(test_limits.refused(c), "127.0.0.3 still has its one session counted")
        again = test_limits.connect_from(srv.port, "127.0.0.2")
        check(test_limits.served(again), "127.0.0.2's count went with the dead worker")
    finally:
        os.kill(other, signal.SIGCONT)
    check(test_limits.served(b, b"after"), "the stopped worker serves on")
    for s in (again, b):
        s.close()
    srv.proc.send_signal(signal.SIGTERM)
    check(srv.wait_exit() == 0, "server exits 0")


def test_a_killed_worker_gives_back_every_count_of_its_source_before_its_successor_starts():
    """--max-per-source 3, one worker with 3 sessions from 127.0.0.2 (a fourth is refused). The
    worker is killed (-9): as soon as its successor's start is logged, 127.0.0.2 gets all three
    back, and the fourth is refused again."""
    srv = loop("-v", "-l", "127.0.0.1:0", "--workers", "1", "--max-per-source", "3")
    held = [test_limits.connect_from(srv.port, "127.0.0.2") for _ in range(3)]
    check(all(test_limits.served(s) for s in held), "three sessions from 127.0.0.2")
    with test_limits.connect_from(srv.port, "127.0.0.2") as s:
        check(test_limits.refused(s), "a fourth is refused")
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect ")[0]).group(1))
    os.kill(pid, signal.SIGKILL)
    srv.wait_for(rf"event=worker-exit pid={pid} signal=KILL lost=3 ")
    srv.wait_for(r"event=worker-start ", count=2)
    again = [test_limits.connect_from(srv.port, "127.0.0.2") for _ in range(3)]
    check(all(test_limits.served(s) for s in again), "three sessions again, at once")
    with test_limits.connect_from(srv.port, "127.0.0.2") as s:
        check(test_limits.refused(s), "and a fourth is refused again: nothing was lost either way")
    for s in held + again:
        s.close()
    srv.proc.send_signal(signal.SIGTERM)
    check(srv.wait_exit() == 0, "server exits 0")


def test_max_requests_retires_a_worker_and_its_successor_keeps_within_c():
    """-c 2, one worker, --max-requests 2: the worker retires with two live sessions and a new
    one starts, but has no room until one of those ends; then it serves the third client."""
    srv = loop("-v", "-l", "127.0.0.1:0", "--workers", "1", "-c", "2", "--max-requests", "2")
    a, b = connect(srv.port), connect(srv.port)
    for s in (a, b):
        check(echo_roundtrip(s, b"x") == b"x", "two sessions on the first worker")
    srv.wait_for(r"event=worker-start ", count=2)
    c = connect(srv.port)
    c.sendall(b"waiting")
    c.settimeout(0.5)
    try:
        early = c.recv(16)
    except socket.timeout:
        early = None
    check(early is None, f"the third waits in the backlog while -c 2 are live: {early!r}")
    a.close()
    c.settimeout(10)
    check(recv_exactly(c, 7) == b"waiting", "served once one of the two ended")
    b.close()
    srv.wait_for(r"event=worker-exit .*exit=0 lost=0 ")
    pids = re.findall(r"event=connect .*?pid=(\d+)", "\n".join(srv.lines))
    check(pids[0] == pids[1] != pids[2], f"the third on the new worker: {pids}")
    c.close()
    check(srv.stop() == 0, "server exits 0")


def tls_loop(*args):
    return test_tls.tls_server("--workers", "1", *args, model="loop")


def test_a_tls_handshake_that_stalls_does_not_hold_up_the_worker():
    """One worker, three clients that stop halfway through their ClientHello: another client's
    handshake and echo go through at once (the handshakes are steps of the loop, not calls that
    wait), and the three end at --tls-timeout with reason=tls, as in the other models."""
    srv = tls_loop("--tls-timeout", "3")
    hello = test_tls.TLSHello.first_bytes()
    stalled = [connect(srv.port) for _ in range(3)]
    for s in stalled:
        s.sendall(hello[:10])
    srv.wait_for(r"event=connect ", count=3)
    t0 = time.monotonic()
    back, notified = test_tls.half_close(srv.port, b"not held up")
    took = time.monotonic() - t0
    check(back == b"not held up" and notified, f"served while three handshakes wait: {back!r}")
    check(took < 2.5, f"within {took:.2f} s, before the stalled ones' deadline")
    check(not srv.matching(r"event=tls-failed "), "none of the three has ended yet")
    fails = srv.wait_for(r"event=tls-failed ", count=3)
    check(all("stage=handshake" in f and "no handshake within 3000 ms" in f for f in fails), f"{fails}")
    ends = [e for e in srv.wait_for(r"event=end ", count=4) if "reason=tls" in e]
    check(len(ends) == 3 and all("exit=7 reason=tls in=0 out=0" in e for e in ends), f"{ends}")
    for s in stalled:
        s.close()
    check(srv.stop() == 0, "server exits 0")


def test_a_tls_client_that_does_not_read_is_not_buffered_without_bound():
    """Back-pressure over TLS: a client that sends and never reads fills its socket buffers; the
    worker then holds what one read made (and OpenSSL a record it could not finish), reads no
    more, serves others, and sends every byte back once the client reads."""
    import threading
    srv = tls_loop()
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", srv.port))
    raw.settimeout(10)
    c = test_tls.TLSClient(srv.port, sock=raw)
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
    before = rss_kib(pid)
    raw.setblocking(False)
    plain, backlog, chunk = bytearray(), bytearray(), os.urandom(1 << 14)

    def step():
        if len(backlog) < (1 << 20):   # records made ahead, at most 1 MiB
            c.obj.write(chunk)
            plain.extend(chunk)
            backlog.extend(c.out.read())
        del backlog[:raw.send(backlog)]
    stalled = send_until_stalled(step, lambda: len(plain))
    check(stalled, f"the client's sends stalled ({len(plain)} bytes written)")
    check(len(plain) < (64 << 20), f"only socket buffers' worth went in: {len(plain) >> 20} MiB")
    grew = rss_kib(pid) - before
    if "sanitize" not in harness.binary("mpechod"):  # ASan's quarantine keeps OpenSSL's freed records
        check(grew < 4096, f"the worker grew by {grew} KiB only, for {len(plain) >> 10} KiB written")
    back, _ = test_tls.half_close(srv.port, b"meanwhile")
    check(back == b"meanwhile", "the worker serves others")
    raw.setblocking(True)
    raw.settimeout(10)
    rest = bytes(backlog)
    sender = threading.Thread(target=raw.sendall, args=(rest,))
    sender.start()
    got = c.read_exactly(len(plain))
    sender.join(10)
    check(got == bytes(plain), "and every byte comes back, in order")
    c.close_notify()
    check(c.read_to_end() == (b"", True), "then the server's close-notify")
    c.close()
    srv.wait_for(rf"event=end .*in={len(plain)} out={len(plain)} ", count=1)
    check(srv.stop() == 0, "server exits 0")


def test_an_idle_tls_session_holds_no_record_buffer():
    """300 idle TLS sessions on one worker, each after an echo: OpenSSL freed their record
    buffers (SSL_MODE_RELEASE_BUFFERS), so each costs the worker less than those two buffers
    (16 KiB each) would. The sanitizer build keeps freed memory in quarantine: there only the
    echoes are checked."""
    srv = tls_loop()
    first = test_tls.TLSClient(srv.port)
    first.send(b"x" * 65536)
    check(first.read_exactly(65536) == b"x" * 65536, "one bulk echo")
    pid = int(re.search(r"pid=(\d+)", srv.wait_for(r"event=connect")[0]).group(1))
    before = rss_kib(pid)
    held, record = [], os.urandom(16384)
    for _ in range(300):
        c = test_tls.TLSClient(srv.port)
        c.send(record)
        check(c.read_exactly(len(record)) == record, "each one echoes a full record once")
        held.append(c)
    per = (rss_kib(pid) - before) * 1024 // 300
    if "sanitize" not in harness.binary("mpechod"):
        check(per < 20 * 1024, f"an idle TLS session costs the worker {per} bytes, less than its "
              "two record buffers would")
    for c in held + [first]:
        c.close()
    srv.wait_for(r"event=end ", count=301)
    check(srv.stop() == 0, "server exits 0")


def test_splice_cannot_take_effect_in_the_loop_model():
    """--splice in any form is a usage error with --model loop (a worker copies; see README)."""
    for when in ("auto", "always", "never"):
        rc, err = harness.run_server_once("--model", "loop", "--splice", when, "-l", "127.0.0.1:0")
        check(rc == 2 and err.count("\n") == 1 and "--splice cannot take effect: it needs --model "
              "fork or prefork: the loop model copies" in err, f"--splice {when}: {rc} {err!r}")
