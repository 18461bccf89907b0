/*
 * options_usage: what mpechod's command line offers: the --help text a person
 * reads first (the man page says the same at length), the long option names,
 * and the bounds of the numeric options.
 */
#include "options.h"

#include <getopt.h>
#include <stddef.h>

static const char usage_text[] =
"Usage: mpechod [OPTIONS] [[ADDRESS] PORT]\n"
"A multi-process TCP echo server: a supervisor accepts, one process serves each connection.\n"
"\n"
"  -l, --listen ADDR:PORT[,proxy][,tls][,deferred]\n"
"                           listen there; repeatable. ADDR is a host name, an IPv4\n"
"                           address, an [IPv6] address, or empty for all addresses.\n"
"                           Port 0 picks a free port (logged at start); FIRST-LAST,\n"
"                           a range (at most 1024 ports), a listener on each port.\n"
"                           ,proxy: clients come through a load balancer that sends a\n"
"                           PROXY header (versions 1 and 2) first\n"
"                           ,tls: clients speak TLS 1.2 or 1.3 (needs --tls-cert, --tls-key)\n"
"                           ,deferred: a connection is served once its first bytes are in,\n"
"                           a silent one after a second (not for services that speak first)\n"
"                           socket options, set before bind() and kept by every accepted\n"
"                           socket: ,keepalive or ,keepalive=IDLE:INTVL:CNT (seconds,\n"
"                           seconds, probes) ,user-timeout=MS ,rcvbuf=BYTES ,sndbuf=BYTES\n"
"                           ,tos=N or DSCP (ef, af41, cs1...; IPv6: the traffic class)\n"
"                           ,mark=N ,device=IFNAME (a VRF) ,freebind ,transparent\n"
"                           ,fastopen[=QLEN] (default 256) ,mss=BYTES; one the system\n"
"                           refuses fails the start (status 1)\n"
"      --tls-cert FILE      the certificate chain (PEM, the server's first); reloaded with\n"
"                           the key on SIGHUP (a bad new pair is refused, the old one kept)\n"
"      --tls-key FILE       its private key (PEM); both are read before privileges drop\n"
"      --tls-timeout SECS   how long a TLS handshake may take (1-3600, default 10)\n"
"  -l unix:PATH             a Unix-domain stream socket at PATH (a stale one is replaced;\n"
"                           removed at exit); clients are logged by uid and pid\n"
"  -l udp:ADDR:PORT         echo datagrams there (RFC 862 over UDP), from a process of\n"
"                           their own; datagrams from service ports (7, 19, 53, 123, ...)\n"
"                           are dropped, --allow/--deny apply to each; the socket options\n"
"                           rcvbuf, sndbuf, tos, mark, device, freebind, transparent may follow\n"
"      --udp-rate N         datagrams a second from one source, bursts up to N; more are\n"
"                           dropped (0-10000000, default 0: no limit)\n"
"      --socket-mode MODE   octal permissions of unix: sockets, like 660 (default: as\n"
"                           bind(2) and the umask leave them); under root with -u, the\n"
"                           socket belongs to that user\n"
"  -s, --service NAME       echo: every byte back unchanged (RFC 862, the default)\n"
"                           upper: ASCII letters upper-cased; a line \"quit\" ends the session\n"
"                           discard: read and drop (RFC 863); chargen: the rotating\n"
"                           character lines, as fast as they are read (RFC 864);\n"
"                           daytime: one line, the date and time, then close (RFC 867)\n"
"  -c, --max-conns N        live sessions at most; more clients wait in the backlog\n"
"                           (1-100000, default 1000)\n"
"      --max-per-source N   live sessions from one address; more are refused\n"
"                           (0-100000, default 0: no limit)\n"
"      --rate N             new connections a second from one address, bursts up to N;\n"
"                           more are refused (0-1000000, default 0: no limit)\n"
"      --source-prefix6 BITS  IPv6 clients count as one source per this prefix for\n"
"                           --max-per-source and --rate (1-128, default 64: a host)\n"
"      --allow CIDR         accept only clients in these networks; repeatable\n"
"      --deny CIDR          refuse clients in this network; repeatable, wins over --allow\n"
"                           (10.0.0.0/8, 2001:db8::/32, or one address)\n"
"      --rules FILE         more of them from FILE: lines 'allow CIDR', 'deny CIDR',\n"
"                           # comments; read again on SIGHUP (a bad file: the old kept)\n"
"      --proxy-from CIDR    only these peers may send a PROXY header (to a listener\n"
"                           with ,proxy); repeatable; none: any peer may\n"
"      --proxy-timeout SECS how long a PROXY header may take to arrive (1-3600, default 5)\n"
"      --idle-timeout SECS  close a session that makes no progress for SECS\n"
"                           (0-86400, default 300; 0: never)\n"
"      --min-rate BYTES     close a session that moves fewer than BYTES a second in\n"
"                           either direction over an idle-timeout window: a trickling\n"
"                           client cannot hold a slot (0-1000000000, default 1; 0: none)\n"
"      --max-time SECS      close a session after SECS (0-604800, default 0: no limit)\n"
"      --backlog N          listen backlog (1-65535, default 4096; the kernel caps it\n"
"                           at net.core.somaxconn)\n"
"      --reuseport          share the address and port with other mpechod instances\n"
"                           (SO_REUSEPORT): the kernel spreads connections over them\n"
"      --upgrade-socket PATH  hand the listeners to a successor started with the same\n"
"                           option (a new binary or new options): it takes them over,\n"
"                           and this one drains; no connection is refused or reset\n"
"      --grace SECS         on SIGTERM/SIGINT, time live sessions get to finish\n"
"                           (0-86400, default 10)\n"
"      --shutdown-delay SECS  on SIGTERM/SIGINT, first turn /readyz to 503 and keep\n"
"                           accepting for SECS, while balancers and Kubernetes endpoints\n"
"                           learn the server is leaving; then drain (0-3600, default 0)\n"
"  -d, --daemon             detach; the command returns once the daemon is ready\n"
"  -i, --inetd              standard input is the socket (inetd, xinetd, systemd\n"
"                           Accept=yes, tcpserver): serve that one connection and exit\n"
"                           with its end status; a listening socket there is served\n"
"                           as the listener instead (inetd \"wait\")\n"
"  -p, --pidfile FILE       write the pid there once ready, lock it, remove it at exit\n"
"      --log TARGET         stderr, syslog or a FILE (default: stderr; syslog with -d);\n"
"                           SIGHUP reopens the file\n"
"      --log-format FORMAT  text (key=value, the default) or json (one object a line)\n"
"      --metrics ADDR:PORT  answer GET /metrics (Prometheus), / (a summary; for a browser,\n"
"                           the live status page), /status.json (its figures as JSON),\n"
"                           /healthz (200 while the server runs) and /readyz (200 while\n"
"                           it takes new clients, 503 once leaving or draining) there;\n"
"                           :PORT: all addresses; port 0: a free one (both logged:\n"
"                           event=listen ... endpoint=metrics)\n"
"      --metrics-allow CIDR who may scrape; repeatable (default: loopback only)\n"
"      --agent ADDR:PORT    answer HAProxy's agent-check there: up ready, up drain\n"
"                           (--shutdown-delay running), drain down (draining)\n"
"  -u, --user USER[:GROUP]  sessions run as USER (its groups, or GROUP) after binding\n"
"  -m, --model MODEL        fork: a process forked per connection (the default)\n"
"                           prefork: a pool of workers, each serving one connection at\n"
"                           a time; at most -c workers\n"
"                           loop: a few workers, each an epoll loop serving many\n"
"                           connections (-c up to 2000000)\n"
"      --workers N          loop: worker processes (default: one per CPU; more when -c\n"
"                           needs more descriptors than one process may open)\n"
"      --start N            prefork: workers at start (default 5)\n"
"      --min-spare N        prefork: start workers while fewer are idle (default 5)\n"
"      --max-spare N        prefork: retire workers while more are idle (default 10)\n"
"      --max-requests N     prefork, loop: a worker is replaced after N sessions (default 0:\n"
"                           never)\n"
"      --banner TEXT        a line each session sends first, before any echo: %h host\n"
"                           name, %p the server's pid, %a the local address, %% a %\n"
"      --splice WHEN        echo's zero-copy path: auto (once a flow is bulk, the\n"
"                           default), always, or never (read and write)\n"
"  -v, --verbose            log debug lines too\n"
"  -q, --quiet              do not log a line per connection\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"With no address: all IPv4 and IPv6 addresses, port " MPECHO_DEFAULT_PORT ".\n"
"Signals: TERM/INT stop accepting and drain, after --shutdown-delay (a second one\n"
"moves on at once: from the delay to the drain, from the drain to ending sessions),\n"
"HUP reopens the log file, USR1 logs a status line.\n"
"An option that cannot take effect where it is given is a usage error.\n"
"Exit status: 0 stopped cleanly, 1 run-time failure (cannot listen, ...), 2 usage error.\n";

const char *
options_usage(void)
{
	return usage_text;
}

/* The options that take a whole number: name, bounds, and where the value goes. */
const struct options_numeric options_numbers[] = {
	{ 'c', "--max-conns", 1, OPTIONS_LOOP_CONNS, offsetof(struct config, max_conns) },
	{ OPT_MAX_PER_SOURCE, "--max-per-source", 0, 100000, offsetof(struct config, max_per_source) },
	{ OPT_RATE, "--rate", 0, 1000000, offsetof(struct config, rate) },
	{ OPT_IDLE_TIMEOUT, "--idle-timeout", 0, 86400, offsetof(struct config, idle_timeout) },
	{ OPT_MAX_TIME, "--max-time", 0, 604800, offsetof(struct config, max_time) },
	{ OPT_MIN_RATE, "--min-rate", 0, 1000000000, offsetof(struct config, min_rate) },
	{ OPT_BACKLOG, "--backlog", 1, 65535, offsetof(struct config, backlog) },
	{ OPT_GRACE, "--grace", 0, 86400, offsetof(struct config, grace) },
	{ OPT_SHUTDOWN_DELAY, "--shutdown-delay", 0, 3600, offsetof(struct config, shutdown_delay) },
	{ OPT_START, "--start", 1, 100000, offsetof(struct config, start_workers) },
	{ OPT_MIN_SPARE, "--min-spare", 1, 100000, offsetof(struct config, min_spare) },
	{ OPT_MAX_SPARE, "--max-spare", 1, 100000, offsetof(struct config, max_spare) },
	{ OPT_MAX_REQUESTS, "--max-requests", 0, 1000000000, offsetof(struct config, max_requests) },
	{ OPT_WORKERS, "--workers", 1, OPTIONS_LOOP_WORKERS, offsetof(struct config, workers) },
	{ OPT_PROXY_TIMEOUT, "--proxy-timeout", 1, 3600, offsetof(struct config, proxy_timeout) },
	{ OPT_SOURCE_PREFIX6, "--source-prefix6", 1, 128, offsetof(struct config, source_prefix6) },
	{ OPT_TLS_TIMEOUT, "--tls-timeout", 1, 3600, offsetof(struct config, tls_timeout) },
	{ OPT_UDP_RATE, "--udp-rate", 0, 10000000, offsetof(struct config, udp_rate) },
	{ 0, NULL, 0, 0, 0 }
};

const struct option options_long[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "service", required_argument, NULL, 's' },
	{ "max-conns", required_argument, NULL, 'c' },
	{ "max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "deny", required_argument, NULL, OPT_DENY },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "proxy-from", required_argument, NULL, OPT_PROXY_FROM },
	{ "proxy-timeout", required_argument, NULL, OPT_PROXY_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-time", required_argument, NULL, OPT_MAX_TIME },
	{ "min-rate", required_argument, NULL, OPT_MIN_RATE },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-timeout", required_argument, NULL, OPT_TLS_TIMEOUT },
	{ "udp-rate", required_argument, NULL, OPT_UDP_RATE },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "shutdown-delay", required_argument, NULL, OPT_SHUTDOWN_DELAY },
	{ "daemon", no_argument, NULL, 'd' },
	{ "inetd", no_argument, NULL, 'i' },
	{ "reuseport", no_argument, NULL, OPT_REUSEPORT },
	{ "upgrade-socket", required_argument, NULL, OPT_UPGRADE_SOCKET },
	{ "banner", required_argument, NULL, OPT_BANNER },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-allow", required_argument, NULL, OPT_METRICS_ALLOW },
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "source-prefix6", required_argument, NULL, OPT_SOURCE_PREFIX6 },
	{ "pidfile", required_argument, NULL, 'p' },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "user", required_argument, NULL, 'u' },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "start", required_argument, NULL, OPT_START },
	{ "min-spare", required_argument, NULL, OPT_MIN_SPARE },
	{ "max-spare", required_argument, NULL, OPT_MAX_SPARE },
	{ "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "splice", required_argument, NULL, OPT_SPLICE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};
