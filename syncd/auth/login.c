/*
 * login.c - one login's conversation (login.h).
 *
 * The state of a login lives in struct conv on this thread's stack; the
 * secrets in it (the password, the OTP, Okta's mfa_token and oob_code,
 * the ID token) are wiped before it returns, whatever the outcome.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "account.h"
#include "cache.h"
#include "log.h"
#include "login.h"
#include "offline.h"
#include "okta.h"
#include "okta_auth.h"
#include "paths.h"
#include "throttle.h"

#define OKTA_ID_MAX 64
#define LOGIN_MAX 256

#define P_PASSWORD "Okta password: "
#define P_MFA_BOTH "Okta Verify code, or press Enter for a push: "
#define P_MFA_OTP "Okta Verify code: "
#define P_PUSH "Approve the push in Okta Verify, then press Enter: "
#define M_OFFLINE "Offline login: Okta cannot be reached; MFA skipped"
#define M_UNREACHABLE "Okta cannot be reached; try again later"

struct conv {
	const struct login_env *env;
	int fd;
	int64_t deadline;              /* of the whole conversation */
	uint32_t next_id;
	int dead;                      /* the peer is gone or misbehaved */
	const char *user, *service, *rhost;
	char okta_id[OKTA_ID_MAX + 1];
	char login[LOGIN_MAX + 1];
	sqlite3 *db;
	struct okta_auth_login *ol;
	char password[AUTHPROTO_ANSWER_MAX + 1];
	char answer[AUTHPROTO_ANSWER_MAX + 1];
	/* The outcome. */
	int code, offline;
	const char *method;            /* password, otp, push, device, offline */
	char message[AUTHPROTO_MESSAGE_MAX + 1];
	char why[512];                 /* for the log */
	int count_failure;             /* a failure for throttle.h */
};

static void
set_result(struct conv *c, int code, const char *message, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
set_result(struct conv *c, int code, const char *message, const char *fmt,
    ...)
{
	va_list ap;

	c->code = code;
	snprintf(c->message, sizeof(c->message), "%s", message ? message : "");
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* The deadline of the next wait: the answer timeout, within the
 * conversation's. */
static int64_t
answer_deadline(const struct conv *c)
{
	int64_t d = authproto_deadline(c->env->answer_timeout_ms);

	return d < c->deadline ? d : c->deadline;
}

static int
stopping(const struct conv *c)
{
	return c->env->stop != NULL && *c->env->stop;
}

/*
 * Send one PROMPT and wait for its ANSWER into c->answer.  0, or -1 when
 * the conversation is over (c->dead set, c->why says why): a CANCEL, the
 * peer gone, a bad frame, a timeout, or okta-syncd stopping.
 */
static int
ask(struct conv *c, int style, int kind, const char *text)
{
	unsigned char frame[AUTHPROTO_FRAME_MAX];
	struct authproto_msg m;
	struct pollfd pfd;
	char err[AUTHPROTO_ERR_MAX];
	uint32_t id = ++c->next_id;
	int64_t deadline = answer_deadline(c);
	size_t len;
	int rc;

	if (authproto_encode_prompt(frame, sizeof(frame), &len, id, style, kind,
	    text, err, sizeof(err)) != 0 ||
	    authproto_write_frame(c->fd, frame, len, deadline, err,
	    sizeof(err)) != 0) {
		c->dead = 1;
		set_result(c, AUTHPROTO_SERVICE_ERR, NULL, "sending a prompt: %s",
		    err);
		return -1;
	}
	/* Wait in slices, so that a stop cuts the wait short; the frame is
	 * then read in one go (a partial read would lose the stream). */
	for (;;) {
		if (stopping(c)) {
			set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL,
			    "okta-syncd is stopping; try again", "okta-syncd "
			    "is stopping");
			return -1;
		}
		if (authproto_deadline(0) >= deadline) {
			c->dead = 1;
			set_result(c, AUTHPROTO_AUTH_ERR, NULL, "no answer in time");
			return -1;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, 200);
		if (rc < 0 && errno != EINTR) {
			c->dead = 1;
			set_result(c, AUTHPROTO_SERVICE_ERR, NULL, "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (rc > 0)
			break;
	}
	rc = authproto_recv(c->fd, AUTHPROTO_TO_DAEMON, deadline, &m, err,
	    sizeof(err));
	if (rc <= 0) {
		c->dead = 1;
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "%s", rc == 0 ?
		    "the client closed the connection" : err);
		return -1;
	}
	if (m.type == AUTHPROTO_CANCEL) {
		c->dead = 1;
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "cancelled by the user");
		return -1;
	}
	if (m.type != AUTHPROTO_ANSWER || m.answer.prompt_id != id) {
		authproto_wipe(&m, sizeof(m));
		c->dead = 1;
		set_result(c, AUTHPROTO_SERVICE_ERR, NULL, "protocol error: %s "
		    "where the ANSWER to prompt %u was due",
		    authproto_type_name(m.type), (unsigned)id);
		return -1;
	}
	memcpy(c->answer, m.answer.text, sizeof(c->answer));
	authproto_wipe(&m, sizeof(m));
	return 0;
}

/* U's Okta ID and login from cache.db.  0, or -1 (c's result set). */
static int
lookup_user(struct conv *c)
{
	sqlite3_stmt *st = NULL;
	char err[256];
	const unsigned char *id, *login;
	int rc;

	if (cache_open(c->env->cfg->cache_dir, CACHE_READ_WRITE, &c->db, err,
	    sizeof(err)) != OK_SUCCESS) {
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, NULL, "cache.db: %s",
		    err);
		return -1;
	}
	if (sqlite3_prepare_v2(c->db, "SELECT okta_id, login FROM users "
	    "WHERE name = ?", -1, &st, NULL) != SQLITE_OK) {
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, NULL, "cache.db: %s",
		    sqlite3_errmsg(c->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, c->user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, NULL, "in the "
			    "snapshot but not in cache.db (a sync is under "
			    "way?)");
		else
			set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, NULL,
			    "cache.db: %s", sqlite3_errmsg(c->db));
		sqlite3_finalize(st);
		return -1;
	}
	id = sqlite3_column_text(st, 0);
	login = sqlite3_column_text(st, 1);
	if (id == NULL || login == NULL || !okta_valid_id((const char *)id) ||
	    login[0] == '\0' || strlen((const char *)login) > LOGIN_MAX) {
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, NULL, "cache.db holds "
		    "no usable Okta ID and login for the user");
		sqlite3_finalize(st);
		return -1;
	}
	snprintf(c->okta_id, sizeof(c->okta_id), "%s", (const char *)id);
	snprintf(c->login, sizeof(c->login), "%s", (const char *)login);
	sqlite3_finalize(st);
	return 0;
}

/* Whether U is in one of [auth] offline_deny_groups (the Okta groups of
 * cache.db).  An error counts as "in", so the hash is not stored. */
static int
offline_denied(struct conv *c)
{
	const struct config_auth *a = &c->env->cfg->auth;
	sqlite3_stmt *st = NULL;
	const unsigned char *g;
	size_t i;
	int rc, in = 0;

	if (a->noffline_deny == 0)
		return 0;
	if (sqlite3_prepare_v2(c->db, "SELECT g.name FROM memberships m "
	    "JOIN groups g ON g.okta_id = m.group_id WHERE m.user_id = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return 1;
	sqlite3_bind_text(st, 1, c->okta_id, -1, SQLITE_STATIC);
	while (!in && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		g = sqlite3_column_text(st, 0);
		for (i = 0; g != NULL && i < a->noffline_deny; i++)
			if (strcmp((const char *)g, a->offline_deny_groups[i]) == 0)
				in = 1;
	}
	if (!in && rc != SQLITE_DONE)
		in = 1;
	sqlite3_finalize(st);
	return in;
}

/* Step 1: the account decision, before anything goes to Okta.  0: an
 * Okta user who may log in; -1: c's result is set. */
static int
account_check(struct conv *c)
{
	struct acct_ctx ac;
	struct acct_verdict v;
	char snap[4096];

	snprintf(snap, sizeof(snap), "%s/%s", c->env->cfg->cache_dir,
	    OKTA_SNAPSHOT_NAME);
	memset(&ac, 0, sizeof(ac));
	ac.snapshot = snap;
	ac.passwd = c->env->cfg->passwd_file;
	acct_decide(&ac, c->user, &v);
	if (v.result == ACCT_ALLOW)
		return 0;
	if (v.result == ACCT_IGNORE) {
		set_result(c, AUTHPROTO_USER_UNKNOWN, NULL, "not an Okta user: %s",
		    v.reason);
		return -1;
	}
	switch (v.kind) {
	case ACCT_DENY_EXPIRED:
		set_result(c, AUTHPROTO_ACCT_EXPIRED, v.msg, "%s", v.reason);
		break;
	case ACCT_DENY_UNAVAILABLE:
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, v.msg, "%s", v.reason);
		break;
	default:
		set_result(c, AUTHPROTO_PERM_DENIED, v.msg, "%s", v.reason);
		break;
	}
	return -1;
}

/* Step 6: the ID token of a grant that succeeded.  0: SUCCESS set. */
static int
accept_token(struct conv *c, struct okta_auth_reply *r, const char *method)
{
	char err[256];
	enum idtoken_result res;

	c->method = method;
	res = okta_auth_verify(c->ol, r->id_token, c->okta_id, err, sizeof(err));
	if (res == IDTOKEN_OK) {
		set_result(c, AUTHPROTO_SUCCESS, NULL, "ID token verified");
		return 0;
	}
	if (res == IDTOKEN_UNAVAILABLE)
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, M_UNREACHABLE,
		    "the ID token could not be checked: %s", err);
	else
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "ID token refused: %s",
		    err);
	return -1;
}

/* A reply that is not a success, as a result; denial counts as a local
 * failure.  what: "password", "code", "push", "device approval". */
static void
refused(struct conv *c, const struct okta_auth_reply *r, const char *what)
{
	switch (r->status) {
	case OA_DENIED:
		c->count_failure = 1;
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "Okta refused the %s: %s",
		    what, r->detail);
		break;
	case OA_EXPIRED:
		c->count_failure = 1;
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "the %s timed out: %s",
		    what, r->detail);
		break;
	case OA_NOT_ENROLLED:
		set_result(c, AUTHPROTO_AUTH_ERR, "That Okta Verify factor is "
		    "not set up for you", "not enrolled: %s", r->detail);
		break;
	case OA_UNAVAILABLE:
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, M_UNREACHABLE,
		    "Okta cannot be reached: %s", r->detail);
		break;
	default:
		set_result(c, AUTHPROTO_SERVICE_ERR, NULL, "unexpected answer "
		    "(%s): %s", okta_auth_status_name(r->status), r->detail);
		break;
	}
}

/* Sleep seconds in slices, until the conversation's deadline or a stop.
 * 0, or -1 (c's result set). */
static int
wait_poll(struct conv *c, long seconds)
{
	struct timespec ts = { 0, 100000000L };
	int64_t until = authproto_deadline((int)(seconds * 1000));

	while (authproto_deadline(0) < until) {
		if (stopping(c)) {
			set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, "okta-syncd is "
			    "stopping; try again", "okta-syncd is stopping");
			return -1;
		}
		if (authproto_deadline(0) >= c->deadline) {
			c->count_failure = 1;
			set_result(c, AUTHPROTO_AUTH_ERR, NULL, "the login took "
			    "too long");
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Poll a push (oob != NULL) or a device code until Okta decides.  r
 * holds the challenge's interval and expiry on entry, the final reply on
 * return.  0: a token came; -1: c's result set. */
static int
poll_grant(struct conv *c, const char *mfa_token, const char *code,
    struct okta_auth_reply *r, const char *what)
{
	long interval = okta_auth_next_interval(r->interval, OA_PENDING);
	int64_t expires = authproto_deadline((int)(r->expires_in > 0 ?
	    r->expires_in : 300) * 1000);
	char secret[OA_SECRET_MAX];
	int first = 1;

	snprintf(secret, sizeof(secret), "%s", code);
	for (;;) {
		if (!first && wait_poll(c, interval) != 0)
			break;
		first = 0;
		okta_auth_reply_wipe(r);
		if (mfa_token != NULL)
			okta_auth_mfa_oob(c->ol, mfa_token, secret, r);
		else
			okta_auth_device_poll(c->ol, secret, r);
		if (r->status == OA_OK) {
			explicit_bzero(secret, sizeof(secret));
			return 0;
		}
		if (r->status != OA_PENDING && r->status != OA_SLOW_DOWN) {
			refused(c, r, what);
			break;
		}
		interval = okta_auth_next_interval(interval, r->status);
		if (authproto_deadline(0) >= expires) {
			c->count_failure = 1;
			set_result(c, AUTHPROTO_AUTH_ERR, NULL, "the %s timed out",
			    what);
			break;
		}
	}
	explicit_bzero(secret, sizeof(secret));
	return -1;
}

/* Step 5, a push: /challenge, the confirm prompt, the polling. */
static void
do_push(struct conv *c, const char *mfa_token)
{
	struct okta_auth_reply r;
	char text[AUTHPROTO_PROMPT_MAX + 1];

	c->method = "push";
	okta_auth_challenge(c->ol, mfa_token, 1, &r);
	if (r.status != OA_CHALLENGE || r.challenge_otp) {
		if (r.status == OA_CHALLENGE)
			r.status = OA_NOT_ENROLLED;
		refused(c, &r, "push");
		okta_auth_reply_wipe(&r);
		return;
	}
	if (r.binding_code[0] != '\0')
		snprintf(text, sizeof(text), "Tap %s in Okta Verify, then press "
		    "Enter: ", r.binding_code);
	else
		snprintf(text, sizeof(text), "%s", P_PUSH);
	if (ask(c, AUTHPROTO_ECHO_ON, AUTHPROTO_KIND_CONFIRM, text) != 0) {
		okta_auth_reply_wipe(&r);
		return;
	}
	explicit_bzero(c->answer, sizeof(c->answer));
	{
		char oob[OA_SECRET_MAX];

		memcpy(oob, r.oob_code, sizeof(oob));
		if (poll_grant(c, mfa_token, oob, &r, "push") == 0)
			(void)accept_token(c, &r, "push");
		explicit_bzero(oob, sizeof(oob));
	}
	okta_auth_reply_wipe(&r);
}

/* Step 5: the second factor, after mfa_required. */
static void
do_mfa(struct conv *c, const char *mfa_token)
{
	const int *mfa = c->env->cfg->auth.mfa;
	struct okta_auth_reply r;
	int push = 0, otp = 0, i;

	for (i = 0; i < AUTH_MFA_MAX && mfa[i] != 0; i++) {
		push |= mfa[i] == AUTH_MFA_PUSH;
		otp |= mfa[i] == AUTH_MFA_OTP;
	}
	if (!otp) {
		do_push(c, mfa_token);
		return;
	}
	c->method = "otp";
	if (ask(c, AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_MFA, push ? P_MFA_BOTH :
	    P_MFA_OTP) != 0)
		return;
	if (c->answer[0] == '\0') {
		if (push) {
			do_push(c, mfa_token);
			return;
		}
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "no code entered");
		return;
	}
	okta_auth_mfa_otp(c->ol, mfa_token, c->answer, &r);
	explicit_bzero(c->answer, sizeof(c->answer));
	if (r.status == OA_OK)
		(void)accept_token(c, &r, "otp");
	else
		refused(c, &r, "code");
	okta_auth_reply_wipe(&r);
}

/* Step 4 with an empty password and device_flow = yes. */
static void
do_device(struct conv *c)
{
	struct okta_auth_reply r;
	char text[AUTHPROTO_PROMPT_MAX + 1], code[OA_SECRET_MAX];

	c->method = "device";
	okta_auth_device_authorize(c->ol, &r);
	if (r.status != OA_DEVICE) {
		refused(c, &r, "device authorization");
		okta_auth_reply_wipe(&r);
		return;
	}
	snprintf(text, sizeof(text), "Open %s and check the code %s, then "
	    "press Enter: ", r.verification_uri, r.user_code);
	if (ask(c, AUTHPROTO_ECHO_ON, AUTHPROTO_KIND_CONFIRM, text) != 0) {
		okta_auth_reply_wipe(&r);
		return;
	}
	explicit_bzero(c->answer, sizeof(c->answer));
	memcpy(code, r.device_code, sizeof(code));
	if (poll_grant(c, NULL, code, &r, "device approval") == 0)
		(void)accept_token(c, &r, "device");
	explicit_bzero(code, sizeof(code));
	okta_auth_reply_wipe(&r);
}

/* Okta answered nothing to the password grant: the offline credential,
 * when there may be one. */
static void
do_offline(struct conv *c, const struct okta_auth_reply *r)
{
	const struct config_auth *a = &c->env->cfg->auth;
	struct offline_policy p;
	long long retry = 0;
	char err[256];

	if (!a->offline_credentials) {
		refused(c, r, "password");
		return;
	}
	p.expiration = a->offline_expiration;
	p.failed_login_attempts = a->offline_failed_login_attempts;
	p.failed_login_delay = a->offline_failed_login_delay;
	c->method = "offline";
	switch (offline_verify(c->db, c->okta_id, c->password, time(NULL), &p,
	    &retry, err, sizeof(err))) {
	case OFFLINE_OK:
		c->offline = 1;
		set_result(c, AUTHPROTO_SUCCESS, M_OFFLINE, "offline credential "
		    "(Okta cannot be reached: %s)", r->detail);
		break;
	case OFFLINE_WRONG:
		set_result(c, AUTHPROTO_AUTH_ERR, NULL, "wrong offline password "
		    "(Okta cannot be reached: %s)", r->detail);
		break;
	case OFFLINE_DELAYED:
		set_result(c, AUTHPROTO_MAXTRIES, "Too many failed offline "
		    "logins; try again later", "offline logins delayed for "
		    "%lld s more", retry);
		break;
	case OFFLINE_NONE:
	case OFFLINE_EXPIRED:
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, M_UNREACHABLE,
		    "Okta cannot be reached (%s) and no usable offline "
		    "credential is stored", r->detail);
		break;
	default:
		set_result(c, AUTHPROTO_AUTHINFO_UNAVAIL, M_UNREACHABLE,
		    "Okta cannot be reached (%s); offline credential: %s",
		    r->detail, err);
		break;
	}
}

/* Steps 3 to 6. */
static void
converse(struct conv *c)
{
	const struct config_auth *a = &c->env->cfg->auth;
	struct okta_auth_reply r;
	char err[256];
	char mfa_token[OA_SECRET_MAX];
	long long wait;

	wait = throttle_check(c->env->throttle, c->okta_id, time(NULL));
	if (wait > 0) {
		set_result(c, AUTHPROTO_MAXTRIES, "Too many failed logins; try "
		    "again later", "%d failed logins in a row: delayed for %lld "
		    "s more", a->failed_login_attempts, wait);
		return;
	}
	c->method = "password";
	if (ask(c, AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_PASSWORD, P_PASSWORD) != 0)
		return;
	memcpy(c->password, c->answer, sizeof(c->password));
	explicit_bzero(c->answer, sizeof(c->answer));
	c->ol = okta_auth_login_new(c->env->oa, c->okta_id, c->env->stop, err,
	    sizeof(err));
	if (c->ol == NULL) {
		set_result(c, AUTHPROTO_SERVICE_ERR, NULL, "%s", err);
		return;
	}
	if (c->password[0] == '\0') {
		if (a->device_flow)
			do_device(c);
		else
			set_result(c, AUTHPROTO_AUTH_ERR, NULL, "no password "
			    "entered");
		return;
	}
	okta_auth_password(c->ol, c->login, c->password, &r);
	switch (r.status) {
	case OA_OK:
		(void)accept_token(c, &r, "password");
		break;
	case OA_MFA_REQUIRED:
		memcpy(mfa_token, r.mfa_token, sizeof(mfa_token));
		do_mfa(c, mfa_token);
		explicit_bzero(mfa_token, sizeof(mfa_token));
		break;
	case OA_UNAVAILABLE:
		do_offline(c, &r);
		break;
	default:
		refused(c, &r, "password");
		break;
	}
	okta_auth_reply_wipe(&r);
}

/* After an online success: the offline credential, when wanted. */
static void
store_offline(struct conv *c)
{
	char err[256];

	if (!c->env->cfg->auth.offline_credentials || c->offline ||
	    c->password[0] == '\0')
		return;
	if (offline_denied(c)) {
		debug("auth: %s is in offline_deny_groups: no offline credential "
		    "stored", c->user);
		return;
	}
	if (offline_store(c->db, c->okta_id, c->password, time(NULL), err,
	    sizeof(err)) != 0)
		warn("auth: storing the offline credential of %s failed: %s",
		    c->user, err);
}

static const char *
code_name(int code)
{
	static const char *const names[] = {
		"?", "success", "auth_err", "user_unknown", "authinfo_unavail",
		"maxtries", "acct_expired", "perm_denied", "service_err"
	};

	return code >= 1 && code <= 8 ? names[code] : "?";
}

void
login_run(const struct login_env *env, int fd,
    const struct authproto_msg *hello, int64_t started)
{
	struct conv c;
	unsigned char frame[AUTHPROTO_FRAME_MAX];
	char err[AUTHPROTO_ERR_MAX];
	size_t len;

	memset(&c, 0, sizeof(c));
	c.env = env;
	c.fd = fd;
	c.deadline = started + env->conversation_ms;
	c.user = hello->hello.user;
	c.service = hello->hello.service;
	c.rhost = hello->hello.rhost;
	c.method = "-";
	c.code = AUTHPROTO_SERVICE_ERR;

	if (account_check(&c) == 0 && lookup_user(&c) == 0)
		converse(&c);
	if (c.code == AUTHPROTO_SUCCESS) {
		throttle_success(env->throttle, c.okta_id);
		store_offline(&c);
	} else if (c.count_failure) {
		(void)throttle_fail(env->throttle, c.okta_id, time(NULL));
	}
	/* Logged before the RESULT goes out: whoever sees the result can
	 * find its line. */
	info("auth: user=%s service=%s rhost=%s outcome=%s method=%s%s: %s",
	    c.user, c.service, c.rhost[0] ? c.rhost : "-", code_name(c.code),
	    c.method, c.offline ? " offline=1" : "", c.why);
	if (!c.dead) {
		if (authproto_encode_result(frame, sizeof(frame), &len, c.code,
		    c.offline, c.message, err, sizeof(err)) != 0 ||
		    authproto_write_frame(fd, frame, len,
		    authproto_deadline(5000), err, sizeof(err)) != 0)
			debug("auth: sending the result to %s's client: %s",
			    c.user, err);
	}
	explicit_bzero(c.password, sizeof(c.password));
	explicit_bzero(c.answer, sizeof(c.answer));
	okta_auth_login_free(c.ol);
	cache_close(c.db);
}
