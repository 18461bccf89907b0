/* sockopt: unit tests of the socket options' parser, their places, and setting them. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

#include "listener.h"
#include "sockopt.h"

/* A list parses, and so is what it says. */
static bool
parses(const char *text, struct sockopts *so)
{
	char err[256];

	memset(so, 0, sizeof(*so));
	return sockopt_parse_list(text, so, err, sizeof(err)) == 0;
}

/* A list fails, and the message names what was wrong. */
static bool
fails(const char *text, const char *named)
{
	struct sockopts so = { 0 };
	char err[256] = "";

	return sockopt_parse_list(text, &so, err, sizeof(err)) < 0 && strstr(err, named) != NULL;
}

static void
test_sockopt_parse(void)
{
	struct sockopts so;
	char buf[96];

	CHECK(parses("keepalive", &so) && so.set == 1u << SOCKOPT_KEEPALIVE && so.keepidle == 0);
	CHECK(parses("keepalive=5:2:3", &so) && so.keepidle == 5 && so.keepintvl == 2 &&
	    so.keepcnt == 3 && strcmp(sockopt_text(&so, SOCKOPT_KEEPALIVE, buf, sizeof(buf)),
	    "keepalive=5:2:3") == 0);
	CHECK(parses("user-timeout=4000,rcvbuf=65536,sndbuf=131072", &so) && so.user_timeout == 4000 &&
	    so.rcvbuf == 65536 && so.sndbuf == 131072);
	CHECK(parses("tos=184", &so) && so.tos == 184);
	CHECK(parses("tos=ef", &so) && so.tos == 46 << 2);
	CHECK(parses("tos=af41", &so) && so.tos == 34 << 2);
	CHECK(parses("tos=af11", &so) && so.tos == 10 << 2);
	CHECK(parses("tos=cs1", &so) && so.tos == 8 << 2);
	CHECK(parses("tos=cs0", &so) && so.tos == 0 && (so.set & (1u << SOCKOPT_TOS)));
	CHECK(parses("tos=le", &so) && so.tos == 4);
	CHECK(parses("mark=4294967295", &so) && so.mark == 4294967295u &&
	    strcmp(sockopt_text(&so, SOCKOPT_MARK, buf, sizeof(buf)), "mark=4294967295") == 0);
	CHECK(parses("device=vrf-blue", &so) && strcmp(so.device, "vrf-blue") == 0);
	CHECK(parses("device=eth0.100", &so) && strcmp(so.device, "eth0.100") == 0);
	CHECK(parses("freebind,transparent", &so) && so.set == ((1u << SOCKOPT_FREEBIND) |
	    (1u << SOCKOPT_TRANSPARENT)));
	CHECK(parses("fastopen", &so) && so.fastopen == 0 && (so.set & (1u << SOCKOPT_FASTOPEN)));
	CHECK(parses("fastopen=16", &so) && so.fastopen == 16);
	CHECK(parses("mss=1000", &so) && so.mss == 1000 &&
	    strcmp(sockopt_text(&so, SOCKOPT_MSS, buf, sizeof(buf)), "mss=1000") == 0);
	CHECK(fails("keepalive=5:2", "keepalive=IDLE:INTVL:CNT"));
	CHECK(fails("keepalive=0:2:3", "'keepalive=0:2:3'"));
	CHECK(fails("keepalive=5:2:128", "probes 1-127"));
	CHECK(fails("keepalive=5:2:3:4", "'keepalive=5:2:3:4'"));
	CHECK(fails("user-timeout", "user-timeout=MS"));
	CHECK(fails("user-timeout=0", "user-timeout=MS"));
	CHECK(fails("rcvbuf=1k", "rcvbuf=BYTES"));
	CHECK(fails("tos=256", "tos=N (0-255)"));
	CHECK(fails("tos=af44", "tos=DSCP"));
	CHECK(fails("tos=cs8", "tos=DSCP"));
	CHECK(fails("mark=4294967296", "mark=N"));
	CHECK(fails("mark=-1", "mark=N"));
	CHECK(fails("device=", "device=IFNAME"));
	CHECK(fails("device=a-name-much-too-long", "at most 15"));
	CHECK(fails("device=eth0/x", "device=IFNAME"));
	CHECK(fails("freebind=1", "freebind (no value)"));
	CHECK(fails("fastopen=0", "fastopen=QLEN"));
	CHECK(fails("mss=87", "mss=BYTES (88-65535)"));
	CHECK(fails("mss=65536", "mss=BYTES"));
	CHECK(fails("mark=1,mark=2", "mark is given twice"));
	CHECK(fails("nodelay", "unknown socket option 'nodelay'"));
	CHECK(fails("", "unknown socket option ''"));
	CHECK(fails("mark=1,", "unknown socket option ''"));
	CHECK(fails("mark=1,,tos=0", "unknown socket option ''"));
	CHECK(fails("tos=0123456789012345678901234567890123456789012345678901234567890123456789",
	    "tos=N"));
	memset(&so, 0, sizeof(so));
	CHECK(sockopt_parse("proxy", 5, &so, buf, sizeof(buf)) == 0 && so.set == 0);
	CHECK(sockopt_parse("mark=7,tos=1", 6, &so, buf, sizeof(buf)) == 1 && so.mark == 7 &&
	    so.set == 1u << SOCKOPT_MARK);	/* n bytes only */
}

/* Where each option takes effect: the rule, an option that cannot is a usage error. */
static void
test_sockopt_places(void)
{
	struct sockopts so;
	char err[256];

	CHECK(parses("keepalive,user-timeout=1,rcvbuf=1,sndbuf=1,tos=1,mark=1,device=lo,freebind,"
	    "transparent,fastopen=5,mss=500", &so) &&
	    sockopt_check(&so, SOCKOPT_AT_LISTENER, err, sizeof(err)) == 0);
	CHECK(parses("rcvbuf=1,sndbuf=1,tos=ef,mark=1,device=lo,freebind,transparent", &so) &&
	    sockopt_check(&so, SOCKOPT_AT_UDP, err, sizeof(err)) == 0 &&
	    sockopt_check(&so, SOCKOPT_AT_CLIENT_UDP, err, sizeof(err)) == 0 &&
	    sockopt_check(&so, SOCKOPT_AT_CLIENT, err, sizeof(err)) == 0);
	CHECK(parses("keepalive", &so) && sockopt_check(&so, SOCKOPT_AT_UDP, err, sizeof(err)) < 0 &&
	    strstr(err, "keepalive cannot take effect on a udp: listener: it is a TCP option"));
	CHECK(parses("mss=500", &so) && sockopt_check(&so, SOCKOPT_AT_CLIENT_UDP, err, sizeof(err)) < 0 &&
	    strstr(err, "mss=500 cannot take effect on a UDP client socket"));
	CHECK(parses("fastopen=5", &so) && sockopt_check(&so, SOCKOPT_AT_CLIENT, err, sizeof(err)) < 0 &&
	    strstr(err, "QLEN is a listener's queue"));
	CHECK(parses("fastopen", &so) && sockopt_check(&so, SOCKOPT_AT_CLIENT, err, sizeof(err)) == 0);
	CHECK(parses("freebind", &so) && sockopt_check(&so, SOCKOPT_AT_TAKEN, err, sizeof(err)) < 0 &&
	    strstr(err, "bound already"));
	CHECK(parses("user-timeout=9", &so) && sockopt_check(&so, SOCKOPT_AT_UDP_TAKEN, err,
	    sizeof(err)) < 0 && strstr(err, "user-timeout=9 cannot take effect on a UDP socket handed over"));
}

static int
get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

/* Set on a socket: each option is there; one the kernel refuses is named. */
static void
test_sockopt_apply(void)
{
	struct sockopts so;
	char err[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0), fd6 = socket(AF_INET6, SOCK_STREAM, 0);

	CHECK(parses("keepalive=5:2:3,user-timeout=4000,rcvbuf=65536,tos=ef,mss=1000,fastopen=7", &so) &&
	    sockopt_apply(fd, &so, SOCKOPT_AT_LISTENER, err, sizeof(err)) == 0);
	CHECK(get_int(fd, SOL_SOCKET, SO_KEEPALIVE) == 1 && get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 5 &&
	    get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 2 && get_int(fd, IPPROTO_TCP, TCP_KEEPCNT) == 3);
	CHECK(get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 4000 &&
	    get_int(fd, SOL_SOCKET, SO_RCVBUF) == 2 * 65536 && get_int(fd, IPPROTO_IP, IP_TOS) == 0xb8 &&
	    get_int(fd, IPPROTO_TCP, TCP_FASTOPEN) == 7);
	CHECK(parses("tos=af41", &so) && sockopt_apply(fd6, &so, SOCKOPT_AT_LISTENER, err,
	    sizeof(err)) == 0 && get_int(fd6, IPPROTO_IPV6, IPV6_TCLASS) == 0x88 &&
	    get_int(fd6, IPPROTO_IP, IP_TOS) == 0x88);	/* dual-stack: both */
	CHECK(parses("fastopen", &so) && sockopt_apply(fd6, &so, SOCKOPT_AT_CLIENT, err, sizeof(err)) == 0 &&
	    get_int(fd6, IPPROTO_TCP, TCP_FASTOPEN_CONNECT) == 1);
	CHECK(parses("freebind,mark=3", &so) && sockopt_apply(fd6, &so, SOCKOPT_AT_ACCEPTED, err,
	    sizeof(err)) == 0 && get_int(fd6, SOL_SOCKET, SO_MARK) == 3 &&
	    get_int(fd6, IPPROTO_IP, IP_FREEBIND) == 0);	/* accepted: only what acts on a connection */
	CHECK(parses("mark=7,device=no-such-dev0", &so) &&
	    sockopt_apply(fd, &so, SOCKOPT_AT_CLIENT, err, sizeof(err)) < 0 &&
	    strncmp(err, "device=no-such-dev0: ", 21) == 0);
	if (fd >= 0)
		close(fd);
	if (fd6 >= 0)
		close(fd6);
}

/* The listener grammar takes them: TCP all, udp: its own, unix: none. */
static void
test_sockopt_listeners(void)
{
	struct listen_spec spec, one;
	char err[256];

	CHECK(listener_parse("127.0.0.1:7,proxy,keepalive=5:2:3,mark=7", &spec, err, sizeof(err)) == 0 &&
	    spec.proxy && spec.so.keepidle == 5 && spec.so.mark == 7);
	listener_spec_free(&spec);
	CHECK(listener_parse("127.0.0.1:9600-9601,mark=3", &spec, err, sizeof(err)) == 0 &&
	    listener_spec_port(&spec, 1, &one, err, sizeof(err)) == 0 && one.so.mark == 3 &&
	    strcmp(one.port, "9601") == 0);	/* each port of a range has them */
	listener_spec_free(&one);
	listener_spec_free(&spec);
	CHECK(listener_parse("udp:127.0.0.1:7,rcvbuf=65536,tos=ef", &spec, err, sizeof(err)) == 0 &&
	    spec.udp && spec.so.rcvbuf == 65536 && strcmp(spec.port, "7") == 0);
	listener_spec_free(&spec);
	CHECK(listener_parse("udp:127.0.0.1:7,keepalive", &spec, err, sizeof(err)) < 0 &&
	    strstr(err, "keepalive cannot take effect on a udp: listener") && spec.host == NULL);
	CHECK(listener_parse("udp:127.0.0.1:7,mark=x", &spec, err, sizeof(err)) < 0 &&
	    strstr(err, "'mark=x'") && spec.host == NULL);
	CHECK(listener_parse("udp:127.0.0.1:7,", &spec, err, sizeof(err)) < 0 && spec.host == NULL);
	CHECK(listener_parse("127.0.0.1:7,mss=1", &spec, err, sizeof(err)) < 0 &&
	    strstr(err, "mss=BYTES"));
	CHECK(listener_parse("unix:/x.sock,keepalive", &spec, err, sizeof(err)) < 0 &&
	    strstr(err, "socket option keepalive cannot take effect on a unix: listener"));
	CHECK(listener_parse("unix:/x.sock,proxy", &spec, err, sizeof(err)) < 0 &&
	    strstr(err, "no options"));
}

void
unit_sockopt(void)
{
	test_sockopt_parse();
	test_sockopt_places();
	test_sockopt_apply();
	test_sockopt_listeners();
}
