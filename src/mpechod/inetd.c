/* inetd: one session on standard input, for super-servers that accept for us. */
#include "inetd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admission.h"
#include "clock.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "privs.h"
#include "session.h"

enum inetd_input
inetd_classify(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		return INETD_OTHER;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return INETD_OTHER;
	return listening ? INETD_LISTENING : INETD_CONNECTED;
}

/*
 * The peer of fd, as the supervisor would have it from accept(); on a socket
 * pair from a relaying super-server, the address it hands on in the
 * environment. *tcp says whether fd is the client's own TCP socket. 0, or -1
 * with the error line logged.
 */
static int
inetd_peer(int fd, struct peer *p, bool *tcp)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char which[64];
	int r;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    listener_peer_of(fd, (struct sockaddr *)&ss, p) < 0) {
		log_msg(LOG_LVL_ERROR, "event=session-error pid=%ld error=%s",
		    (long)getpid(), log_qerrf("standard input"));
		return -1;
	}
	if ((*tcp = !p->local))
		return 0;	/* the kernel's word beats any variable */
	len = sizeof(ss);
	if ((r = inetd_peer_from_env(&ss, &len, which, sizeof(which))) < 0) {
		log_msg(LOG_LVL_ERROR, "event=session-error pid=%ld error=%s", (long)getpid(),
		    log_qf("the client's address in %s is malformed", which));
		return -1;
	}
	return r == 0 ? 0 : listener_peer_of(-1, (struct sockaddr *)&ss, p);
}

/* What the supervisor's listeners and child set up: the socket options, the rules, the user. */
static int
inetd_admit(const struct config *cfg, int fd, const struct peer *p, bool tcp)
{
	struct admission adm;
	enum refusal why;

	if ((tcp && net_tune(fd) < 0) || net_set_timeouts(fd, cfg->idle_timeout) < 0) {
		log_msg(LOG_LVL_ERROR, "event=session-error pid=%ld error=%s",
		    (long)getpid(), log_qerr());
		return -1;
	}
	if (admission_init(&adm, &cfg->acl, 0, 0, 1) < 0)
		return -1;
	why = admission_check(&adm, p, clock_ms());
	admission_free(&adm);
	if (why != ADMITTED)
		return -1;
	if (cfg->privs.set && privs_drop(&cfg->privs) < 0) {
		log_msg(LOG_LVL_ERROR, "event=session-error pid=%ld error=%s",
		    (long)getpid(), log_qerrf("cannot become %s", cfg->privs.name));
		return -1;
	}
	return 0;
}

int
inetd_serve(const struct config *cfg, const struct tls_server *tls, int fd)
{
	struct session_params params = options_session_params(cfg);
	struct stream_counters ctr = { 0, 0, 0 };
	int64_t start = clock_ms();
	struct peer p;
	enum end end;
	char how[64], who[PEER_TEXT_MAX];
	bool tcp;
	int keep;

	if (inetd_peer(fd, &p, &tcp) < 0)
		return END_ERROR;
	if (inetd_admit(cfg, fd, &p, tcp) < 0) {
		close(fd);
		return END_ERROR;
	}
	params.tls = tls;
	session_log_connect(peer_text(&p, who, sizeof(who)), false, (long)getpid(), 1);
	/*
	 * A relay that ends its child as soon as the connection is over (socat
	 * sends SIGTERM) would cut the end line: the last close waits for it.
	 */
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	end = session_run(fd, tls != NULL, &params, &ctr);
	session_log_end(who, session_kind(false, &ctr), (long)getpid(),
	    end_describe(W_EXITCODE(end, 0), how, sizeof(how)),
	    ctr.bytes_in, ctr.bytes_out, clock_ms() - start, 0);
	if (keep >= 0)
		close(keep);
	return end;
}
