/*
 * broker.c - the auth socket's server (broker.h).
 *
 * The accept thread polls the listening socket and a pipe that
 * broker_stop writes to.  It checks the peer (SO_PEERCRED, uid 0 only)
 * and the number of conversations in flight itself, and never reads or
 * waits on a connection: a slow or hostile client cannot stall it.
 * Everything else happens on the connection's own thread, detached,
 * counted under mu (a non-root peer's thread only sends the refusal and
 * gives the HELLO a second to arrive, so that the client reads the
 * refusal instead of EPIPE): broker_stop waits for the count to reach
 * zero after setting the stop flag that every wait of a login (the
 * prompts, Okta's requests, the polling) watches.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "authproto.h"
#include "broker.h"
#include "log.h"
#include "login.h"
#include "okta_auth.h"
#include "throttle.h"
#include "xmalloc.h"

struct broker {
	struct config *cfg;
	struct okta_auth *oa;
	struct throttle *throttle;
	struct login_env env;
	char *path;
	int lfd;
	int wake[2];                  /* broker_stop -> the accept thread */
	pthread_t acceptor;
	volatile sig_atomic_t stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int active;                   /* connection threads alive */
	int refusing;                 /* of which refusing a non-root peer */
};

struct conn {
	struct broker *b;
	int fd;
	pid_t pid;
	int64_t started;
	const char *refusal;          /* non-NULL: refuse_thread says this */
};

/* Send a RESULT and forget about the connection (a refusal). */
static void
refuse(int fd, int code, const char *message)
{
	unsigned char frame[AUTHPROTO_FRAME_MAX];
	char err[AUTHPROTO_ERR_MAX];
	size_t len;

	if (authproto_encode_result(frame, sizeof(frame), &len, code, 0,
	    message, err, sizeof(err)) == 0)
		(void)authproto_write_frame(fd, frame, len,
		    authproto_deadline(200), err, sizeof(err));
}

/* Wait for the HELLO, stop-aware.  1 with *m, 0: nothing to do. */
static int
read_hello(struct conn *cn, struct authproto_msg *m)
{
	struct pollfd pfd;
	char err[AUTHPROTO_ERR_MAX];
	int64_t deadline = authproto_deadline(BROKER_HELLO_MS);
	int rc;

	for (;;) {
		if (cn->b->stop)
			return 0;
		if (authproto_deadline(0) >= deadline) {
			info("auth: closed a connection from pid %ld: no HELLO "
			    "within %d s", (long)cn->pid, BROKER_HELLO_MS / 1000);
			return 0;
		}
		pfd.fd = cn->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, 200);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return 0;
	}
	rc = authproto_recv(cn->fd, AUTHPROTO_TO_DAEMON, deadline, m, err,
	    sizeof(err));
	if (rc == 0)
		return 0;
	if (rc < 0) {
		warn("auth: dropped a connection from pid %ld: %s", (long)cn->pid,
		    err);
		return 0;
	}
	if (m->type != AUTHPROTO_HELLO) {
		warn("auth: dropped a connection from pid %ld: %s before HELLO",
		    (long)cn->pid, authproto_type_name(m->type));
		authproto_wipe(m, sizeof(*m));
		return 0;
	}
	return 1;
}

/*
 * A peer refused (not root, or too many logins in flight): the refusal,
 * then a second for its HELLO to arrive, so that a client that sends
 * before it reads (as pam_okta does) finds the RESULT instead of EPIPE.
 */
static void *
refuse_thread(void *arg)
{
	struct conn *cn = arg;
	struct broker *b = cn->b;
	struct pollfd pfd;
	char sink[4096];

	refuse(cn->fd, AUTHPROTO_AUTHINFO_UNAVAIL, cn->refusal);
	pfd.fd = cn->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) > 0)
		(void)recv(cn->fd, sink, sizeof(sink), MSG_DONTWAIT);
	close(cn->fd);
	free(cn);
	pthread_mutex_lock(&b->mu);
	b->active--;
	b->refusing--;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static void *
conn_thread(void *arg)
{
	struct conn *cn = arg;
	struct broker *b = cn->b;
	struct authproto_msg m;

	if (read_hello(cn, &m) == 1)
		login_run(&b->env, cn->fd, &m, cn->started);
	authproto_wipe(&m, sizeof(m));
	close(cn->fd);
	free(cn);
	pthread_mutex_lock(&b->mu);
	b->active--;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static const char not_root[] = "okta-syncd serves root only";
static const char busy[] = "okta-syncd is busy; try again in a moment";

/* One accepted connection: check the peer, hand it to a thread (a login,
 * or a refusal). */
static void
take(struct broker *b, int fd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	pthread_attr_t attr;
	pthread_t t;
	struct conn *cn;
	const char *refusal = NULL;
	int full;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    clen != sizeof(cred)) {
		warn("auth: cannot tell who connected (SO_PEERCRED: %s); closed",
		    strerror(errno));
		close(fd);
		return;
	}
	pthread_mutex_lock(&b->mu);
	if (cred.uid != 0)
		refusal = not_root;
	else if (b->active - b->refusing >= BROKER_MAX_CONNS)
		refusal = busy;
	full = refusal != NULL && b->refusing >= BROKER_MAX_REFUSING;
	if (!full) {
		b->active++;
		if (refusal != NULL)
			b->refusing++;
	}
	pthread_mutex_unlock(&b->mu);
	if (cred.uid != 0)
		info("auth: refused a connection from uid %ld (pid %ld): "
		    "okta-syncd serves root only", (long)cred.uid, (long)cred.pid);
	else if (refusal != NULL)
		warn("auth: %d logins in flight already: refused one from pid %ld",
		    BROKER_MAX_CONNS, (long)cred.pid);
	if (full) {
		/* Too many refusals at once: no thread for one more. */
		refuse(fd, AUTHPROTO_AUTHINFO_UNAVAIL, refusal);
		close(fd);
		return;
	}
	cn = xcalloc(1, sizeof(*cn));
	cn->b = b;
	cn->fd = fd;
	cn->pid = cred.pid;
	cn->started = authproto_deadline(0);
	cn->refusal = refusal;
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&t, &attr, refusal != NULL ? refuse_thread :
	    conn_thread, cn) != 0) {
		error("auth: cannot start a thread for a connection; closed it");
		refuse(fd, AUTHPROTO_AUTHINFO_UNAVAIL, busy);
		close(fd);
		free(cn);
		pthread_mutex_lock(&b->mu);
		b->active--;
		if (refusal != NULL)
			b->refusing--;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
	}
	pthread_attr_destroy(&attr);
}

static void *
accept_thread(void *arg)
{
	struct broker *b = arg;
	struct pollfd p[2];
	int fd;

	while (!b->stop) {
		p[0].fd = b->lfd;
		p[0].events = POLLIN;
		p[1].fd = b->wake[0];
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			error("auth: poll on the socket: %s", strerror(errno));
			break;
		}
		if (p[1].revents != 0)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(b->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				warn("auth: accept: %s", strerror(errno));
			/* EMFILE and friends: do not spin. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				(void)poll(NULL, 0, 100);
			continue;
		}
		take(b, fd);
	}
	return NULL;
}

/* The directory (0755, made when missing) and the socket (0666). */
static int
listen_on(struct broker *b, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat sb;
	char *dir, *slash;
	int fd, probe;

	dir = xstrdup(b->path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot make %s for the auth socket: "
			    "%s", dir, strerror(errno));
			free(dir);
			return -1;
		}
	}
	free(dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(b->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "the auth socket path %s is too long", b->path);
		return -1;
	}
	memcpy(sa.sun_path, b->path, strlen(b->path) + 1);
	if (lstat(b->path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; remove "
			    "it or set [auth] socket", b->path);
			return -1;
		}
		/* A socket someone still listens on is another okta-syncd. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
		    sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "another okta-syncd is serving logins "
			    "on %s; stop it first", b->path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(b->path) != 0) {
			snprintf(err, errlen, "cannot remove the stale socket %s: %s",
			    b->path, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(b->path, 0666) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", b->path,
		    strerror(errno));
		close(fd);
		(void)unlink(b->path);
		return -1;
	}
	b->lfd = fd;
	return 0;
}

static void
free_broker(struct broker *b)
{
	if (b->wake[0] >= 0)
		close(b->wake[0]);
	if (b->wake[1] >= 0)
		close(b->wake[1]);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	okta_auth_free(b->oa);
	throttle_free(b->throttle);
	config_free(b->cfg);
	free(b->path);
	free(b);
}

struct broker *
broker_start(const char *config_path, char *err, size_t errlen)
{
	struct config_problems probs = { NULL, 0 };
	struct broker *b;

	err[0] = '\0';
	b = xcalloc(1, sizeof(*b));
	b->lfd = b->wake[0] = b->wake[1] = -1;
	if (pthread_mutex_init(&b->mu, NULL) != 0 ||
	    pthread_cond_init(&b->cv, NULL) != 0) {
		snprintf(err, errlen, "cannot initialise the broker's lock");
		free(b);
		return NULL;
	}
	b->cfg = config_load(config_path, 1, &probs);
	if (b->cfg == NULL) {
		snprintf(err, errlen, "%s", probs.n > 0 ? probs.v[0].message :
		    "the configuration cannot be read");
		config_problems_free(&probs);
		free_broker(b);
		return NULL;
	}
	config_problems_free(&probs);
	if (b->cfg->auth.client_id == NULL) {
		free_broker(b);
		return NULL;
	}
	b->path = xstrdup(b->cfg->auth.socket_path);
	if ((b->oa = okta_auth_new(b->cfg, err, errlen)) == NULL ||
	    (b->throttle = throttle_new(b->cfg->auth.failed_login_attempts,
	    b->cfg->auth.failed_login_delay)) == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		free_broker(b);
		return NULL;
	}
	if (pipe2(b->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free_broker(b);
		return NULL;
	}
	b->env.cfg = b->cfg;
	b->env.oa = b->oa;
	b->env.throttle = b->throttle;
	b->env.stop = &b->stop;
	b->env.answer_timeout_ms = BROKER_ANSWER_MS;
	b->env.conversation_ms = BROKER_CONVERSATION_MS;
	if (listen_on(b, err, errlen) != 0) {
		free_broker(b);
		return NULL;
	}
	if (pthread_create(&b->acceptor, NULL, accept_thread, b) != 0) {
		snprintf(err, errlen, "cannot start the auth socket's thread");
		close(b->lfd);
		(void)unlink(b->path);
		free_broker(b);
		return NULL;
	}
	return b;
}

const char *
broker_socket(const struct broker *b)
{
	return b->path;
}

void
broker_stop(struct broker *b)
{
	char c = 1;

	if (b == NULL)
		return;
	b->stop = 1;
	if (write(b->wake[1], &c, 1) != 1)
		warn("auth: cannot wake the socket's thread: %s", strerror(errno));
	pthread_join(b->acceptor, NULL);
	close(b->lfd);
	if (unlink(b->path) != 0 && errno != ENOENT)
		warn("auth: cannot remove %s: %s", b->path, strerror(errno));
	pthread_mutex_lock(&b->mu);
	while (b->active > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
	free_broker(b);
}
