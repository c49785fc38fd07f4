/*
 * auth.c - pam_okta's auth phase (issue 11): the Okta password and Okta
 * Verify, decided by okta-syncd.  The module holds no credential and does
 * no network work (it links libc and libpam only): it connects to the
 * daemon's Unix socket, says who logs in (HELLO), relays each PROMPT
 * through the PAM conversation and sends back one ANSWER, until the
 * daemon's RESULT.  The wire format is common/authproto.h.
 *
 * Who gets here.  The account decision (common/account.c, the same as the
 * account phase) comes first, on the snapshot alone:
 *
 *   verdict                           pam_sm_authenticate returns
 *   ignored (root, a local account,   PAM_USER_UNKNOWN at once: the
 *     not an Okta user)               stack goes on to pam_unix, and the
 *                                     daemon never hears of the name
 *   denied (suspended, locked,        the account phase's code at once
 *     deprovisioned, a tombstone,     (PAM_PERM_DENIED, PAM_ACCT_EXPIRED,
 *     stale, no snapshot, bad         PAM_AUTHINFO_UNAVAIL,
 *     options)                        PAM_SERVICE_ERR), with its message:
 *                                     nothing is sent to Okta
 *   allowed                           the daemon decides:
 *
 *   RESULT          PAM code                  the message shown as
 *   SUCCESS         PAM_SUCCESS               PAM_TEXT_INFO (offline)
 *   AUTH_ERR        PAM_AUTH_ERR              PAM_ERROR_MSG
 *   USER_UNKNOWN    PAM_USER_UNKNOWN          PAM_ERROR_MSG
 *   AUTHINFO_UNAVAIL PAM_AUTHINFO_UNAVAIL     PAM_ERROR_MSG
 *   MAXTRIES        PAM_MAXTRIES              PAM_ERROR_MSG
 *   ACCT_EXPIRED    PAM_ACCT_EXPIRED          PAM_ERROR_MSG
 *   PERM_DENIED     PAM_PERM_DENIED           PAM_ERROR_MSG
 *   SERVICE_ERR     PAM_SERVICE_ERR           PAM_ERROR_MSG
 *
 * and the module's own failures: no daemon listening, a daemon not run by
 * root, a refused frame, a close or a silence before the RESULT ->
 * PAM_AUTHINFO_UNAVAIL (the profile's authinfo_unavail=ignore then lets
 * pam_unix try, which an Okta user without a local password fails); a
 * failed conversation (the user gave up) -> CANCEL, PAM_CONV_ERR.
 *
 * The "Okta password:" prompt (kind PASSWORD) is answered from PAM_AUTHTOK
 * with use_first_pass or try_first_pass when an earlier module read a
 * password; a typed password becomes PAM_AUTHTOK.  A password is never
 * retried: with try_first_pass the earlier password is the only one sent.
 *
 * Secrets: every answer (the conversation's reply, the ANSWER frame) is
 * wiped with explicit_bzero before it is freed or goes out of scope;
 * nothing typed is ever logged.  syslog (LOG_AUTHPRIV through pam_syslog)
 * gets one line per outcome.
 *
 * pam_sm_setcred has no credential to set: PAM_SUCCESS for Okta users,
 * PAM_USER_UNKNOWN for everyone else (as pam_sss does; the profile's
 * user_unknown=ignore skips it, where PAM_IGNORE would hit default=die
 * when sshd calls setcred after a key login without authenticate).
 *
 * State: none global; one connection per call, closed before return.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "authproto.h"
#include "compiler.h"
#include "pam_okta.h"

/* connect() only waits when the daemon's backlog is full. */
#define CONNECT_TIMEOUT_MS 5000
/* An ANSWER is small; the daemon reads it at once. */
#define WRITE_TIMEOUT_MS 10000
/* The daemon's next frame: it may be polling Okta for a push (Okta lets a
 * push wait five minutes) or a device code; past this the login is
 * given up as AUTHINFO_UNAVAIL. */
#define REPLY_TIMEOUT_MS (6 * 60 * 1000)
/* A conversation is a handful of prompts; a daemon asking more is
 * broken. */
#define MAX_PROMPTS 32

/* One login's state. */
struct login {
	pam_handle_t *pamh;
	const struct pam_okta_opts *o;
	int flags;
	const char *user;
	const char *rhost;           /* for the log: "" when unknown */
	int fd;
};

/* The one place a RESULT code becomes a PAM code (the table at the top). */
static int
result_pam_code(int code)
{
	switch (code) {
	case AUTHPROTO_SUCCESS:
		return PAM_SUCCESS;
	case AUTHPROTO_AUTH_ERR:
		return PAM_AUTH_ERR;
	case AUTHPROTO_USER_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case AUTHPROTO_AUTHINFO_UNAVAIL:
		return PAM_AUTHINFO_UNAVAIL;
	case AUTHPROTO_MAXTRIES:
		return PAM_MAXTRIES;
	case AUTHPROTO_ACCT_EXPIRED:
		return PAM_ACCT_EXPIRED;
	case AUTHPROTO_PERM_DENIED:
		return PAM_PERM_DENIED;
	case AUTHPROTO_SERVICE_ERR:
	default:
		return PAM_SERVICE_ERR;
	}
}

static void
show(struct login *l, int style, const char *msg)
{
	if (msg[0] != '\0' && !(l->flags & PAM_SILENT))
		(void)pam_prompt(l->pamh, style, NULL, "%s", msg);
}

/*
 * Connect to the daemon's socket and check that root serves it (the
 * module is about to send it a password).  PAM_SUCCESS with l->fd, or
 * PAM_AUTHINFO_UNAVAIL (logged, and the user told).
 */
static int
connect_daemon(struct login *l)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int64_t deadline = authproto_deadline(CONNECT_TIMEOUT_MS);
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	const char *path = l->o->socket;
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* options.c bounds socket= below sun_path; paths.h's default fits. */
	(void)strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		pam_syslog(l->pamh, LOG_ERR, "user %s: cannot make a socket to "
		    "reach okta-syncd: %s", l->user, strerror(errno));
		return PAM_AUTHINFO_UNAVAIL;
	}
	/* A non-blocking AF_UNIX connect fails with EAGAIN while the
	 * listener's backlog is full: retry until the deadline. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		if (e == EINTR)
			continue;
		if (e == EAGAIN && authproto_deadline(0) < deadline) {
			(void)nanosleep(&pause, NULL);
			continue;
		}
		(void)close(fd);
		if (e == ENOENT || e == ECONNREFUSED) {
			pam_syslog(l->pamh, LOG_ERR, "user %s: okta-syncd is not "
			    "running, or runs without [auth] client_id (nothing "
			    "listens on %s: %s): Okta users cannot log in with "
			    "a password until it serves logins; set [auth] in "
			    "okta-sync.conf, run `systemctl restart okta-syncd` "
			    "and see `journalctl -u okta-syncd`", l->user, path,
			    strerror(e));
		} else {
			pam_syslog(l->pamh, LOG_ERR, "user %s: cannot connect to "
			    "okta-syncd at %s: %s", l->user, path,
			    e == EAGAIN ? "it accepts no connection (busy "
			    "or hung)" : strerror(e));
		}
		show(l, PAM_ERROR_MSG, "Okta sign-in is unavailable on this "
		    "host (okta-syncd is not answering). Contact your "
		    "administrator.");
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		pam_syslog(l->pamh, LOG_ERR, "user %s: cannot tell who serves "
		    "%s (SO_PEERCRED: %s): refusing to send it a password",
		    l->user, path, strerror(errno));
		(void)close(fd);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (cred.uid != 0) {
		pam_syslog(l->pamh, LOG_ERR, "user %s: %s is not served by "
		    "root but by uid %lu (pid %ld): refusing to send it a "
		    "password; something other than okta-syncd listens there",
		    l->user, path, (unsigned long)cred.uid, (long)cred.pid);
		(void)close(fd);
		return PAM_AUTHINFO_UNAVAIL;
	}
	l->fd = fd;
	return PAM_SUCCESS;
}

/* Send frame[0..len) and wipe it.  0, or -1 (logged). */
static int
send_frame(struct login *l, unsigned char *frame, size_t len,
    const char *what)
{
	char err[AUTHPROTO_ERR_MAX];
	int r;

	r = authproto_write_frame(l->fd, frame, len,
	    authproto_deadline(WRITE_TIMEOUT_MS), err, sizeof(err));
	authproto_wipe(frame, len);
	if (r != 0)
		pam_syslog(l->pamh, LOG_ERR, "user %s: cannot send %s to "
		    "okta-syncd: %s", l->user, what, err);
	return r;
}

/* Tell the daemon the conversation failed; it needs no reply. */
static void
send_cancel(struct login *l)
{
	unsigned char frame[AUTHPROTO_HEADER_LEN];
	char err[AUTHPROTO_ERR_MAX];
	size_t len;

	if (authproto_encode_cancel(frame, sizeof(frame), &len, err,
	    sizeof(err)) == 0)
		(void)send_frame(l, frame, len, "CANCEL");
}

/* HELLO, with PAM_RHOST and PAM_TTY each when it is a good line (an odd
 * remote host name must not stop a login: it is left out).  0, or a PAM
 * code. */
static int
send_hello(struct login *l)
{
	unsigned char frame[AUTHPROTO_FRAME_MAX];
	char err[AUTHPROTO_ERR_MAX];
	const void *service = NULL, *rhost = NULL, *tty = NULL;
	size_t len;
	int i;

	(void)pam_get_item(l->pamh, PAM_SERVICE, &service);
	(void)pam_get_item(l->pamh, PAM_RHOST, &rhost);
	(void)pam_get_item(l->pamh, PAM_TTY, &tty);
	/* Both, then without the one that is refused, then neither. */
	for (i = 0; i < 4; i++)
		if (authproto_encode_hello(frame, sizeof(frame), &len, service,
		    l->user, i & 1 ? NULL : rhost, i & 2 ? NULL : tty, err,
		    sizeof(err)) == 0)
			break;
	if (i == 4) {
		pam_syslog(l->pamh, LOG_ERR, "user %s: cannot start an Okta "
		    "login: %s", l->user, err);
		return PAM_SERVICE_ERR;
	}
	if (send_frame(l, frame, len, "HELLO") != 0)
		return PAM_AUTHINFO_UNAVAIL;
	return 0;
}

/* The PAM message style of a PROMPT's style. */
static int
pam_style(int style)
{
	switch (style) {
	case AUTHPROTO_ECHO_ON:
		return PAM_PROMPT_ECHO_ON;
	case AUTHPROTO_INFO:
		return PAM_TEXT_INFO;
	case AUTHPROTO_ERROR:
		return PAM_ERROR_MSG;
	case AUTHPROTO_ECHO_OFF:
	default:
		return PAM_PROMPT_ECHO_OFF;
	}
}

/*
 * Send the ANSWER text to prompt p; a typed password also becomes
 * PAM_AUTHTOK.  0, or a PAM code (logged).
 */
static int
send_answer(struct login *l, const struct authproto_msg *p, const char *text,
    int typed_password)
{
	unsigned char frame[AUTHPROTO_FRAME_MAX];
	char err[AUTHPROTO_ERR_MAX];
	size_t len;
	int r;

	if (authproto_encode_answer(frame, sizeof(frame), &len,
	    p->prompt.prompt_id, text, err, sizeof(err)) != 0) {
		/* Only the length can be wrong: a C string has no NUL. */
		pam_syslog(l->pamh, LOG_NOTICE, "user %s: refused: an answer "
		    "longer than %d bytes", l->user, AUTHPROTO_ANSWER_MAX);
		show(l, PAM_ERROR_MSG, "That answer is too long.");
		send_cancel(l);
		return PAM_AUTH_ERR;
	}
	if (typed_password &&
	    (r = pam_set_item(l->pamh, PAM_AUTHTOK, text)) != PAM_SUCCESS) {
		authproto_wipe(frame, len);
		pam_syslog(l->pamh, LOG_ERR, "user %s: cannot keep the password "
		    "for later modules: %s", l->user, pam_strerror(l->pamh, r));
		send_cancel(l);
		return r;
	}
	if (send_frame(l, frame, len, "an answer") != 0)
		return PAM_AUTHINFO_UNAVAIL;
	return 0;
}

/* Relay one PROMPT to the user and send the ANSWER.  0, or a PAM code
 * (logged; the daemon told with a CANCEL where it still listens). */
static int
relay_prompt(struct login *l, const struct authproto_msg *p)
{
	const void *authtok = NULL;
	char *resp = NULL;
	int style = pam_style(p->prompt.style), r;

	if (p->prompt.kind == AUTHPROTO_KIND_PASSWORD &&
	    (l->o->use_first_pass || l->o->try_first_pass)) {
		if (pam_get_item(l->pamh, PAM_AUTHTOK, &authtok) == PAM_SUCCESS &&
		    authtok != NULL)
			return send_answer(l, p, authtok, 0);
		if (l->o->use_first_pass) {
			pam_syslog(l->pamh, LOG_ERR, "user %s: use_first_pass, "
			    "but no earlier module read a password: put "
			    "pam_okta after one that does, or use "
			    "try_first_pass", l->user);
			send_cancel(l);
			return PAM_AUTH_ERR;
		}
	}
	if (style == PAM_TEXT_INFO || style == PAM_ERROR_MSG) {
		show(l, style, p->prompt.text);
		return send_answer(l, p, "", 0);
	}
	r = pam_prompt(l->pamh, style, &resp, "%s", p->prompt.text);
	/* No reply at all (misc_conv's end of input, Ctrl-D) is the user
	 * giving up; an empty line is an answer ("press Enter"). */
	if (r == PAM_SUCCESS && resp == NULL)
		r = PAM_CONV_ERR;
	if (r != PAM_SUCCESS) {
		if (resp != NULL) {
			authproto_wipe(resp, strlen(resp));
			free(resp);
		}
		pam_syslog(l->pamh, LOG_NOTICE, "user %s: the conversation "
		    "ended (%s): login cancelled", l->user,
		    pam_strerror(l->pamh, r));
		send_cancel(l);
		return PAM_CONV_ERR;
	}
	r = send_answer(l, p, resp, p->prompt.kind == AUTHPROTO_KIND_PASSWORD);
	authproto_wipe(resp, strlen(resp));
	free(resp);
	return r;
}

/* Log the RESULT, show its message, and return its PAM code. */
static int
finish(struct login *l, const struct authproto_msg *m)
{
	int code = result_pam_code(m->result.code);
	const char *how = m->result.offline ?
	    " with an offline credential (Okta unreachable)" : "";

	if (code == PAM_SUCCESS)
		pam_syslog(l->pamh, LOG_INFO, "user %s%s%s: authenticated by "
		    "Okta%s", l->user, l->rhost[0] ? " from " : "", l->rhost,
		    how);
	else
		pam_syslog(l->pamh, LOG_NOTICE, "user %s%s%s: refused by "
		    "okta-syncd%s: %s%s%s", l->user, l->rhost[0] ? " from " : "",
		    l->rhost, how, pam_strerror(l->pamh, code),
		    m->result.message[0] ? ": " : "", m->result.message);
	show(l, code == PAM_SUCCESS ? PAM_TEXT_INFO : PAM_ERROR_MSG,
	    m->result.message);
	return code;
}

/* The conversation with the daemon, on a connected l->fd. */
static int
converse(struct login *l)
{
	struct authproto_msg m;
	char err[AUTHPROTO_ERR_MAX];
	int r, nprompts = 0;

	if ((r = send_hello(l)) != 0)
		return r;
	for (;;) {
		r = authproto_recv(l->fd, AUTHPROTO_TO_MODULE,
		    authproto_deadline(REPLY_TIMEOUT_MS), &m, err, sizeof(err));
		if (r <= 0) {
			pam_syslog(l->pamh, LOG_ERR, "user %s: okta-syncd %s: "
			    "login given up", l->user, r == 0 ? "closed the "
			    "connection without a decision (see its log)" : err);
			show(l, PAM_ERROR_MSG, "Okta sign-in failed on this host "
			    "(okta-syncd did not answer). Contact your "
			    "administrator.");
			return PAM_AUTHINFO_UNAVAIL;
		}
		if (m.type == AUTHPROTO_RESULT) {
			r = finish(l, &m);
			authproto_wipe(&m, sizeof(m));
			return r;
		}
		if (++nprompts > MAX_PROMPTS) {
			pam_syslog(l->pamh, LOG_ERR, "user %s: okta-syncd asked "
			    "more than %d questions: login given up", l->user,
			    MAX_PROMPTS);
			send_cancel(l);
			return PAM_AUTHINFO_UNAVAIL;
		}
		r = relay_prompt(l, &m);
		authproto_wipe(&m, sizeof(m));
		if (r != 0)
			return r;
	}
}

OKTA_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct pam_okta_opts o;
	struct acct_verdict v;
	struct login l;
	const void *rhost = NULL;
	int r;

	pam_okta_parse_options(pamh, argc, argv, &o);
	memset(&l, 0, sizeof(l));
	l.pamh = pamh;
	l.o = &o;
	l.flags = flags;
	l.fd = -1;
	if ((r = pam_okta_get_user(pamh, &l.user)) != PAM_SUCCESS)
		return r;
	(void)pam_get_item(pamh, PAM_RHOST, &rhost);
	l.rhost = rhost != NULL ? rhost : "";

	pam_okta_decide(pamh, &o, l.user, &v);
	if (v.result == ACCT_IGNORE) {
		if (o.debug)
			pam_syslog(pamh, LOG_DEBUG, "user %s: not an Okta user, "
			    "left to the rest of the stack: %s", l.user,
			    v.reason);
		return PAM_USER_UNKNOWN;
	}
	if (v.result == ACCT_DENY) {
		pam_syslog(pamh, v.prio >= 0 ? v.prio : LOG_NOTICE, "user %s: "
		    "refused before asking Okta: %s", l.user, v.reason);
		if (v.msg_style != ACCT_MSG_NONE)
			show(&l, PAM_ERROR_MSG, v.msg);
		return pam_okta_verdict_code(&v);
	}

	if ((r = connect_daemon(&l)) != PAM_SUCCESS)
		return r;
	r = converse(&l);
	(void)close(l.fd);
	return r;
}

OKTA_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_okta_opts o;
	struct acct_verdict v;
	const char *user = NULL;
	int r;

	(void)flags;
	pam_okta_parse_options(pamh, argc, argv, &o);
	if ((r = pam_okta_get_user(pamh, &user)) != PAM_SUCCESS)
		return r;
	pam_okta_decide(pamh, &o, user, &v);
	return v.result == ACCT_IGNORE ? PAM_USER_UNKNOWN : PAM_SUCCESS;
}
