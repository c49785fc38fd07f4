/*
 * authproto.c - the auth socket's wire format (see authproto.h for the
 * layout and the contract).
 *
 * Each message is a table of its fields; one encoder and one decoder walk
 * the tables and share check_value(), so that the decoder accepts exactly
 * what the encoder writes.  The daemon parses frames from any root
 * process that connects, and the module parses what the daemon says
 * before showing it on a terminal: both sides fail closed.  Bounds are
 * checked by subtraction, as the snapshot reader does.  Error sentences
 * name fields, never their bytes: an ANSWER holds a password or an OTP.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "authproto.h"

#ifndef OKTA_VERSION
#define OKTA_VERSION "unknown"
#endif

enum fkind { F_U32, F_U8, F_NAME, F_LINE, F_TEXT, F_SECRET };

struct field {
	uint16_t tag;
	uint8_t kind;
	const char *name;
	uint32_t min, max;      /* string bytes, or the value's range */
	size_t off;             /* in struct authproto_msg */
};

#define OFF(m) offsetof(struct authproto_msg, m)

static const struct field hello_fields[] = {
	{ 1, F_LINE, "client", 1, AUTHPROTO_CLIENT_MAX, OFF(hello.client) },
	{ 2, F_LINE, "service", 1, AUTHPROTO_SERVICE_MAX, OFF(hello.service) },
	{ 3, F_NAME, "user", 1, AUTHPROTO_USER_MAX, OFF(hello.user) },
	{ 4, F_LINE, "rhost", 0, AUTHPROTO_RHOST_MAX, OFF(hello.rhost) },
	{ 5, F_LINE, "tty", 0, AUTHPROTO_TTY_MAX, OFF(hello.tty) },
};
static const struct field answer_fields[] = {
	{ 1, F_U32, "prompt_id", 1, UINT32_MAX, OFF(answer.prompt_id) },
	{ 2, F_SECRET, "text", 0, AUTHPROTO_ANSWER_MAX, OFF(answer.text) },
};
static const struct field prompt_fields[] = {
	{ 1, F_U32, "prompt_id", 1, UINT32_MAX, OFF(prompt.prompt_id) },
	{ 2, F_U8, "style", AUTHPROTO_ECHO_OFF, AUTHPROTO_ERROR, OFF(prompt.style) },
	{ 3, F_U8, "kind", AUTHPROTO_KIND_OTHER, AUTHPROTO_KIND_CONFIRM,
	    OFF(prompt.kind) },
	{ 4, F_TEXT, "text", 1, AUTHPROTO_PROMPT_MAX, OFF(prompt.text) },
};
static const struct field result_fields[] = {
	{ 1, F_U8, "code", AUTHPROTO_SUCCESS, AUTHPROTO_SERVICE_ERR,
	    OFF(result.code) },
	{ 2, F_U8, "offline", 0, 1, OFF(result.offline) },
	{ 3, F_TEXT, "message", 0, AUTHPROTO_MESSAGE_MAX, OFF(result.message) },
};

#define NF(a) (sizeof(a) / sizeof(a[0]))

static const struct mtype {
	int type;
	const char *name;
	int dir;
	const struct field *fields;
	size_t nfields;
} mtypes[] = {
	{ AUTHPROTO_HELLO, "HELLO", AUTHPROTO_TO_DAEMON, hello_fields,
	    NF(hello_fields) },
	{ AUTHPROTO_ANSWER, "ANSWER", AUTHPROTO_TO_DAEMON, answer_fields,
	    NF(answer_fields) },
	{ AUTHPROTO_CANCEL, "CANCEL", AUTHPROTO_TO_DAEMON, NULL, 0 },
	{ AUTHPROTO_PROMPT, "PROMPT", AUTHPROTO_TO_MODULE, prompt_fields,
	    NF(prompt_fields) },
	{ AUTHPROTO_RESULT, "RESULT", AUTHPROTO_TO_MODULE, result_fields,
	    NF(result_fields) },
};

/* One value to encode: a number or a C string. */
struct val {
	uint32_t u;
	const char *s;
};

static int
fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return -1;
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static const struct mtype *
find_type(int type)
{
	size_t i;

	for (i = 0; i < NF(mtypes); i++)
		if (mtypes[i].type == type)
			return &mtypes[i];
	return NULL;
}

const char *
authproto_type_name(int type)
{
	const struct mtype *t = find_type(type);

	return t != NULL ? t->name : "unknown";
}

void
authproto_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

/*
 * Why the NUL-terminated string s (len bytes, no NUL inside) is not a
 * good value for a field of kind k, or NULL.  Bounds are the caller's.
 */
static const char *
check_string(int k, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (k == F_SECRET)
		return NULL;
	if (k == F_NAME)
		return names_check(s);
	if (!names_utf8_valid(s))
		return "is not valid UTF-8";
	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && !(k == F_TEXT && p[i] == '\n')) ||
		    p[i] == 0x7f)
			return "holds a control character";
		/* U+0080..U+009F: C1 controls, CSI among them. */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] < 0xa0)
			return "holds a control character";
	}
	return NULL;
}

/* ---- Encoding ------------------------------------------------------- */

/* Check v against f.  0, or -1 with err. */
static int
check_value(const struct mtype *t, const struct field *f,
    const struct val *v, char *err, size_t errlen)
{
	const char *why;
	size_t n;

	if (f->kind == F_U32 || f->kind == F_U8) {
		if (v->u < f->min || v->u > f->max)
			return fail(err, errlen, EINVAL, "%s: field %s is %u, "
			    "outside %u..%u", t->name, f->name, v->u, f->min,
			    f->max);
		return 0;
	}
	n = v->s != NULL ? strnlen(v->s, (size_t)f->max + 1) : 0;
	if (n < f->min || n > f->max)
		return fail(err, errlen, EINVAL, "%s: field %s has %s bytes, "
		    "%u..%u allowed", t->name, f->name, n > f->max ?
		    "too many" : "too few", f->min, f->max);
	if ((why = check_string(f->kind, v->s != NULL ? v->s : "", n)) != NULL)
		return fail(err, errlen, EINVAL, "%s: field %s %s", t->name,
		    f->name, why);
	return 0;
}

/* Encode message type with values v[] (one per field, in table order). */
static int
encode(int type, const struct val *v, unsigned char *out, size_t outlen,
    size_t *len, char *err, size_t errlen)
{
	const struct mtype *t = find_type(type);
	size_t i, n = AUTHPROTO_HEADER_LEN, flen;
	unsigned char *o;

	for (i = 0; i < t->nfields; i++) {
		if (check_value(t, &t->fields[i], &v[i], err, errlen) != 0)
			return -1;
		flen = t->fields[i].kind == F_U32 ? 4 :
		    t->fields[i].kind == F_U8 ? 1 :
		    v[i].s != NULL ? strlen(v[i].s) : 0;
		n += 4 + flen;
	}
	if (n - AUTHPROTO_HEADER_LEN > AUTHPROTO_PAYLOAD_MAX || n > outlen)
		return fail(err, errlen, EMSGSIZE, "%s: the frame needs %zu "
		    "bytes, the buffer has %zu", t->name, n, outlen);
	memcpy(out, AUTHPROTO_MAGIC, 4);
	out[4] = AUTHPROTO_VERSION;
	out[5] = (unsigned char)type;
	put16(out + 6, 0);
	put32(out + 8, (uint32_t)(n - AUTHPROTO_HEADER_LEN));
	o = out + AUTHPROTO_HEADER_LEN;
	for (i = 0; i < t->nfields; i++) {
		put16(o, t->fields[i].tag);
		if (t->fields[i].kind == F_U32) {
			flen = 4;
			put32(o + 4, v[i].u);
		} else if (t->fields[i].kind == F_U8) {
			flen = 1;
			o[4] = (unsigned char)v[i].u;
		} else {
			flen = v[i].s != NULL ? strlen(v[i].s) : 0;
			if (flen > 0)
				memcpy(o + 4, v[i].s, flen);
		}
		put16(o + 2, (uint16_t)flen);
		o += 4 + flen;
	}
	*len = n;
	return 0;
}

int
authproto_encode_hello(unsigned char *out, size_t outlen, size_t *len,
    const char *service, const char *user, const char *rhost,
    const char *tty, char *err, size_t errlen)
{
	struct val v[5] = {
		{ 0, OKTA_VERSION }, { 0, service }, { 0, user },
		{ 0, rhost != NULL ? rhost : "" }, { 0, tty != NULL ? tty : "" }
	};

	return encode(AUTHPROTO_HELLO, v, out, outlen, len, err, errlen);
}

int
authproto_encode_answer(unsigned char *out, size_t outlen, size_t *len,
    uint32_t prompt_id, const char *text, char *err, size_t errlen)
{
	struct val v[2] = { { prompt_id, NULL }, { 0, text != NULL ? text : "" } };

	return encode(AUTHPROTO_ANSWER, v, out, outlen, len, err, errlen);
}

int
authproto_encode_cancel(unsigned char *out, size_t outlen, size_t *len,
    char *err, size_t errlen)
{
	return encode(AUTHPROTO_CANCEL, NULL, out, outlen, len, err, errlen);
}

int
authproto_encode_prompt(unsigned char *out, size_t outlen, size_t *len,
    uint32_t prompt_id, int style, int kind, const char *text, char *err,
    size_t errlen)
{
	struct val v[4] = {
		{ prompt_id, NULL }, { (uint32_t)style, NULL },
		{ (uint32_t)kind, NULL }, { 0, text }
	};

	if (kind == AUTHPROTO_KIND_PASSWORD && style != AUTHPROTO_ECHO_OFF)
		return fail(err, errlen, EINVAL, "PROMPT: a password prompt "
		    "must not echo");
	return encode(AUTHPROTO_PROMPT, v, out, outlen, len, err, errlen);
}

int
authproto_encode_result(unsigned char *out, size_t outlen, size_t *len,
    int code, int offline, const char *message, char *err, size_t errlen)
{
	struct val v[3] = {
		{ (uint32_t)code, NULL }, { (uint32_t)offline, NULL },
		{ 0, message != NULL ? message : "" }
	};

	return encode(AUTHPROTO_RESULT, v, out, outlen, len, err, errlen);
}

/* ---- Decoding ------------------------------------------------------- */

int
authproto_check_header(const unsigned char *hdr, uint32_t *payload_len,
    char *err, size_t errlen)
{
	uint32_t n;

	if (memcmp(hdr, AUTHPROTO_MAGIC, 4) != 0)
		return fail(err, errlen, EPROTO, "bad magic: not an okta-sync "
		    "auth frame");
	if (hdr[4] != AUTHPROTO_VERSION)
		return fail(err, errlen, EPROTONOSUPPORT, "the peer speaks auth "
		    "protocol version %u, this side version %u: pam_okta and "
		    "okta-syncd come from different releases (restart "
		    "okta-syncd after an upgrade)", hdr[4], AUTHPROTO_VERSION);
	if (find_type(hdr[5]) == NULL)
		return fail(err, errlen, EPROTO, "unknown message type 0x%02x",
		    hdr[5]);
	if (get16(hdr + 6) != 0)
		return fail(err, errlen, EPROTO, "%s: unknown flags 0x%04x",
		    authproto_type_name(hdr[5]), get16(hdr + 6));
	n = get32(hdr + 8);
	if (n > AUTHPROTO_PAYLOAD_MAX)
		return fail(err, errlen, EMSGSIZE, "%s: announces a %u-byte "
		    "payload, over the %d-byte limit",
		    authproto_type_name(hdr[5]), n, AUTHPROTO_PAYLOAD_MAX);
	*payload_len = n;
	return 0;
}

/* Decode one field f, v[0..len), into m.  0, or -1 with err. */
static int
decode_field(const struct mtype *t, const struct field *f,
    const unsigned char *v, size_t len, struct authproto_msg *m, char *err,
    size_t errlen)
{
	char *dst = (char *)m + f->off;
	const char *why;
	uint32_t u;

	if (f->kind == F_U32 || f->kind == F_U8) {
		if (len != (f->kind == F_U32 ? 4u : 1u))
			return fail(err, errlen, EPROTO, "%s: field %s has %zu "
			    "bytes, not %d", t->name, f->name, len,
			    f->kind == F_U32 ? 4 : 1);
		u = f->kind == F_U32 ? get32(v) : v[0];
		if (u < f->min || u > f->max)
			return fail(err, errlen, EPROTO, "%s: field %s is %u, "
			    "outside %u..%u", t->name, f->name, u, f->min,
			    f->max);
		if (f->kind == F_U32)
			memcpy(dst, &u, sizeof(u));
		else {
			int i = (int)u;

			memcpy(dst, &i, sizeof(i));
		}
		return 0;
	}
	if (len < f->min || len > f->max)
		return fail(err, errlen, EPROTO, "%s: field %s has %zu bytes, "
		    "%u..%u allowed", t->name, f->name, len, f->min, f->max);
	if (len > 0 && memchr(v, '\0', len) != NULL)
		return fail(err, errlen, EPROTO, "%s: field %s holds a NUL byte",
		    t->name, f->name);
	if (len > 0)
		memcpy(dst, v, len);
	dst[len] = '\0';
	if ((why = check_string(f->kind, dst, len)) != NULL)
		return fail(err, errlen, EPROTO, "%s: field %s %s", t->name,
		    f->name, why);
	return 0;
}

/* The fields p[0..left) of a message of type t into m.  0 or -1. */
static int
decode_fields(const struct mtype *t, const unsigned char *p, size_t left,
    struct authproto_msg *m, char *err, size_t errlen)
{
	uint32_t seen = 0;
	unsigned tag, flen;
	size_t i;

	while (left > 0) {
		if (left < 4)
			return fail(err, errlen, EPROTO, "%s: a field header is "
			    "cut off", t->name);
		tag = get16(p);
		flen = get16(p + 2);
		if (flen > left - 4)
			return fail(err, errlen, EPROTO, "%s: field tag %u runs "
			    "past the end of the frame", t->name, tag);
		for (i = 0; i < t->nfields && t->fields[i].tag != tag; i++)
			;
		if (i == t->nfields)
			return fail(err, errlen, EPROTO, "%s: unknown field tag "
			    "%u", t->name, tag);
		if (seen & (1u << i))
			return fail(err, errlen, EPROTO, "%s: field %s given "
			    "twice", t->name, t->fields[i].name);
		seen |= 1u << i;
		if (decode_field(t, &t->fields[i], p + 4, flen, m, err,
		    errlen) != 0)
			return -1;
		p += 4 + flen;
		left -= 4 + flen;
	}
	for (i = 0; i < t->nfields; i++)
		if (!(seen & (1u << i)))
			return fail(err, errlen, EPROTO, "%s: field %s is "
			    "missing", t->name, t->fields[i].name);
	if (t->type == AUTHPROTO_PROMPT &&
	    m->prompt.kind == AUTHPROTO_KIND_PASSWORD &&
	    m->prompt.style != AUTHPROTO_ECHO_OFF)
		return fail(err, errlen, EPROTO, "PROMPT: a password prompt "
		    "must not echo");
	return 0;
}

int
authproto_decode(const unsigned char *frame, size_t len, int dir,
    struct authproto_msg *m, char *err, size_t errlen)
{
	const struct mtype *t;
	uint32_t plen;

	authproto_wipe(m, sizeof(*m));
	if (errlen > 0)
		err[0] = '\0';
	if (len < AUTHPROTO_HEADER_LEN)
		return fail(err, errlen, EPROTO, "the frame is shorter than "
		    "its %d-byte header", AUTHPROTO_HEADER_LEN);
	if (authproto_check_header(frame, &plen, err, errlen) != 0)
		return -1;
	t = find_type(frame[5]);
	if (t->dir != dir)
		return fail(err, errlen, EPROTO, "%s is not sent to the %s",
		    t->name, dir == AUTHPROTO_TO_DAEMON ? "daemon" : "module");
	if (len - AUTHPROTO_HEADER_LEN != plen)
		return fail(err, errlen, EPROTO, "%s: the frame has %zu bytes "
		    "after its header, it announces %u", t->name,
		    len - AUTHPROTO_HEADER_LEN, plen);
	if (decode_fields(t, frame + AUTHPROTO_HEADER_LEN, plen, m, err,
	    errlen) != 0) {
		authproto_wipe(m, sizeof(*m));
		return -1;
	}
	m->type = t->type;
	return 0;
}

/* ---- I/O ------------------------------------------------------------ */

int64_t
authproto_deadline(int timeout_ms)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
}

/* poll fd for events until the deadline: 1 ready, 0 timed out, -1. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int r;

	for (;;) {
		left = deadline - authproto_deadline(0);
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0) {
			if (pfd.revents & POLLNVAL) {
				errno = EBADF;
				return -1;
			}
			return 1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (r == 0 && left <= 60000)
			return 0;
	}
}

/*
 * Read exactly n bytes into buf: got is how many so far.  0 done, 1 EOF
 * (*got short), -1 with errno (ETIMEDOUT included).
 */
static int
read_exact(int fd, unsigned char *buf, size_t n, size_t *got,
    int64_t deadline)
{
	ssize_t r;
	int w;

	while (*got < n) {
		w = wait_fd(fd, POLLIN, deadline);
		if (w <= 0) {
			if (w == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		r = recv(fd, buf + *got, n - *got, MSG_DONTWAIT);
		if (r < 0 && errno == ENOTSOCK)
			r = read(fd, buf + *got, n - *got);
		if (r == 0)
			return 1;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		*got += (size_t)r;
	}
	return 0;
}

static int
read_failed(unsigned char *buf, size_t got, size_t want, int r, char *err,
    size_t errlen)
{
	int e = errno;

	authproto_wipe(buf, got);
	if (r == 1)
		return fail(err, errlen, EPROTO, "the peer closed the "
		    "connection in the middle of a frame (%zu of %zu bytes)",
		    got, want);
	if (e == ETIMEDOUT)
		return fail(err, errlen, e, "no complete frame before the "
		    "deadline (%zu bytes read)", got);
	return fail(err, errlen, e, "reading a frame: %s", strerror(e));
}

int
authproto_read_frame(int fd, unsigned char *buf, size_t buflen,
    int64_t deadline, size_t *len, char *err, size_t errlen)
{
	size_t got = 0;
	uint32_t plen;
	int r;

	if (errlen > 0)
		err[0] = '\0';
	if (buflen < AUTHPROTO_HEADER_LEN)
		return fail(err, errlen, EINVAL, "the frame buffer is smaller "
		    "than a header");
	r = read_exact(fd, buf, AUTHPROTO_HEADER_LEN, &got, deadline);
	if (r == 1 && got == 0)
		return 0;
	if (r != 0)
		return read_failed(buf, got, AUTHPROTO_HEADER_LEN, r, err,
		    errlen);
	if (authproto_check_header(buf, &plen, err, errlen) != 0) {
		authproto_wipe(buf, got);
		return -1;
	}
	if (plen > buflen - AUTHPROTO_HEADER_LEN) {
		authproto_wipe(buf, got);
		return fail(err, errlen, EMSGSIZE, "a %u-byte payload does not "
		    "fit the %zu-byte frame buffer", plen, buflen);
	}
	r = read_exact(fd, buf, AUTHPROTO_HEADER_LEN + (size_t)plen, &got,
	    deadline);
	if (r != 0)
		return read_failed(buf, got, AUTHPROTO_HEADER_LEN + plen, r,
		    err, errlen);
	*len = got;
	return 1;
}

int
authproto_recv(int fd, int dir, int64_t deadline, struct authproto_msg *m,
    char *err, size_t errlen)
{
	unsigned char buf[AUTHPROTO_FRAME_MAX];
	size_t len = 0;
	int r;

	authproto_wipe(m, sizeof(*m));
	r = authproto_read_frame(fd, buf, sizeof(buf), deadline, &len, err,
	    errlen);
	if (r == 1 && authproto_decode(buf, len, dir, m, err, errlen) != 0)
		r = -1;
	authproto_wipe(buf, len);
	return r;
}

int
authproto_write_frame(int fd, const unsigned char *buf, size_t len,
    int64_t deadline, char *err, size_t errlen)
{
	size_t done = 0;
	ssize_t r;
	int w;

	if (errlen > 0)
		err[0] = '\0';
	while (done < len) {
		w = wait_fd(fd, POLLOUT, deadline);
		if (w == 0)
			return fail(err, errlen, ETIMEDOUT, "the peer read "
			    "nothing before the deadline (%zu of %zu bytes "
			    "written)", done, len);
		if (w < 0)
			return fail(err, errlen, errno, "writing a frame: %s",
			    strerror(errno));
		r = send(fd, buf + done, len - done, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, buf + done, len - done);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return fail(err, errlen, errno, "writing a frame: %s",
			    strerror(errno));
		}
		done += (size_t)r;
	}
	return 0;
}
