/* inetd: the client's address a relaying super-server hands on (socat, UCSPI), parsed or refused. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "inetd.h"
#include "net.h"
#include "unit.h"

/* ip and port parsed: the address as net_format() shows it, or "" if refused. */
static const char *
parsed(const char *ip, const char *port)
{
	static char buf[NET_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (inetd_peer_parse(ip, port, &ss, &len) < 0)
		return "";
	return net_format((struct sockaddr *)&ss, buf, sizeof(buf));
}

void
unit_inetd(void)
{
	CHECK(strcmp(parsed("127.0.0.1", "40596"), "127.0.0.1:40596") == 0);
	CHECK(strcmp(parsed("::1", "7"), "[::1]:7") == 0);
	/* socat's IPv6 form: brackets, every group written out */
	CHECK(strcmp(parsed("[0000:0000:0000:0000:0000:0000:0000:0001]", "40460"), "[::1]:40460") == 0);
	CHECK(strcmp(parsed("::ffff:192.0.2.1", "1"), "192.0.2.1:1") == 0);
	CHECK(strcmp(parsed("2001:db8::1", "65535"), "[2001:db8::1]:65535") == 0);
	CHECK(*parsed("localhost", "7") == '\0');		/* a name: never looked up */
	CHECK(*parsed("127.0.0.1", "0") == '\0');
	CHECK(*parsed("127.0.0.1", "65536") == '\0');
	CHECK(*parsed("127.0.0.1", "echo") == '\0');
	CHECK(*parsed("127.0.0.1", "") == '\0');
	CHECK(*parsed("", "7") == '\0');
	CHECK(*parsed("[]", "7") == '\0');
	CHECK(*parsed("[127.0.0.1", "7") == '\0');
	CHECK(*parsed("[[::1]]", "7") == '\0');
	CHECK(*parsed("127.0.0.1:7", "7") == '\0');
	CHECK(*parsed("127.0.0.1 ", "7") == '\0');
	CHECK(*parsed("1.2.3.4\nevent=forged", "7") == '\0');
}
