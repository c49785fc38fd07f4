/*
 * sshkey.c - checks one OpenSSH public key line (see sshkey.h for what is
 * accepted and why).
 *
 * The line is untrusted twice: the sync reads it from a user-editable Okta
 * attribute, and the key program reads it back from the snapshot.  So the
 * check is a whitelist at every level: the bytes (printable ASCII only),
 * the fields, the options, and the key blob, whose SSH wire format (RFC
 * 4253 strings and mpints, RFC 5656 for ECDSA, OpenSSH's PROTOCOL.u2f for
 * the sk-* keys) is parsed by subtraction against what is left.  Base64 is
 * glibc's b64_pton (libresolv), which also refuses non-zero padding bits,
 * so that the base64 text of an accepted line is the one encoding of its
 * blob and can be copied as it is.
 *
 * No cryptography: the ECDSA point is checked for its form (uncompressed,
 * the curve's length), not that it lies on the curve; sshd does that.
 * Reasons never quote the line; they name a type or an option only when
 * it is one this file knows, or a short run of safe characters.
 */
#include <resolv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sshkey.h"

/* The longest blob a SSHKEY_LINE_MAX line can carry, plus the byte
 * b64_pton wants free after the last one it writes. */
#define BLOB_MAX (SSHKEY_LINE_MAX / 4 * 3 + 4)
#define RSA_MAX_BITS 16384      /* OpenSSH's SSH_RSA_MAXIMUM_MODULUS_SIZE */

enum ktype {
	K_ED25519, K_ECDSA256, K_ECDSA384, K_ECDSA521, K_RSA, K_SK_ED25519,
	K_SK_ECDSA256, K_NTYPES
};

static const struct {
	const char *name;
	const char *curve;        /* ECDSA: the curve the blob must name */
	size_t qlen;              /* ECDSA: uncompressed point 04|X|Y */
} types[K_NTYPES] = {
	[K_ED25519] = { "ssh-ed25519", NULL, 0 },
	[K_ECDSA256] = { "ecdsa-sha2-nistp256", "nistp256", 65 },
	[K_ECDSA384] = { "ecdsa-sha2-nistp384", "nistp384", 97 },
	[K_ECDSA521] = { "ecdsa-sha2-nistp521", "nistp521", 133 },
	[K_RSA] = { "ssh-rsa", NULL, 0 },
	[K_SK_ED25519] = { "sk-ssh-ed25519@openssh.com", NULL, 0 },
	[K_SK_ECDSA256] = { "sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 65 },
};

/* Types that are refused by name, so the reason can say which. */
static const char *const old_types[] = {
	"ssh-dss", "ssh-rsa1", "rsa1",
};

/* Options: the allowlist (valued: needs ="..."), then what is never
 * allowed whatever allow_options says. */
enum { OPT_FLAG, OPT_FROM, OPT_EXPIRY };
static const struct {
	const char *name;
	int kind;
} allowed_opts[] = {
	{ "no-port-forwarding", OPT_FLAG },
	{ "no-agent-forwarding", OPT_FLAG },
	{ "no-X11-forwarding", OPT_FLAG },
	{ "no-pty", OPT_FLAG },
	{ "no-user-rc", OPT_FLAG },
	{ "restrict", OPT_FLAG },
	{ "from", OPT_FROM },
	{ "expiry-time", OPT_EXPIRY },
};
#define NALLOWED (sizeof(allowed_opts) / sizeof(allowed_opts[0]))

static const struct {
	const char *name;
	int valued;
} refused_opts[] = {
	{ "command", 1 }, { "environment", 1 }, { "permitopen", 1 },
	{ "permitlisten", 1 }, { "tunnel", 1 }, { "principals", 1 },
	{ "cert-authority", 0 }, { "agent-forwarding", 0 },
	{ "port-forwarding", 0 }, { "pty", 0 }, { "user-rc", 0 },
	{ "X11-forwarding", 0 }, { "no-touch-required", 0 },
	{ "verify-required", 0 },
};
#define NREFUSED (sizeof(refused_opts) / sizeof(refused_opts[0]))

static int
fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Is s[0..n) short and made of characters a reason may show? */
static int
showable(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 40)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.' || s[i] == '@'))
			return 0;
	return 1;
}

/* The known type s[0..n), or -1. */
static int
find_type(const char *s, size_t n)
{
	int i;

	for (i = 0; i < K_NTYPES; i++)
		if (strlen(types[i].name) == n && memcmp(types[i].name, s, n) == 0)
			return i;
	return -1;
}

static int
is_old_type(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(old_types) / sizeof(old_types[0]); i++)
		if (strlen(old_types[i]) == n && memcmp(old_types[i], s, n) == 0)
			return 1;
	return 0;
}

/*
 * The end of the field starting at s[i]: the first space outside double
 * quotes, or n.  -1 when a quote is left open.
 */
static long
field_end(const char *s, size_t i, size_t n)
{
	int q = 0;

	for (; i < n; i++) {
		if (s[i] == '"')
			q = !q;
		else if (s[i] == ' ' && !q)
			break;
	}
	return q ? -1 : (long)i;
}

/* ---- The blob -------------------------------------------------------- */

struct rd {
	const unsigned char *p;
	size_t left;
};

/* Take one RFC 4253 string.  0, or -1 when it does not fit. */
static int
take(struct rd *r, const unsigned char **s, size_t *len)
{
	uint32_t l;

	if (r->left < 4)
		return -1;
	l = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	if (l > r->left - 4)
		return -1;
	*s = r->p + 4;
	*len = l;
	r->p += 4 + l;
	r->left -= 4 + l;
	return 0;
}

/* A positive mpint in its one encoding: its bit length, or -1. */
static long
mpint_bits(const unsigned char *m, size_t len)
{
	unsigned char top;
	long bits;

	if (len == 0 || (m[0] & 0x80))
		return -1;              /* zero or negative */
	if (m[0] == 0) {
		if (len == 1 || !(m[1] & 0x80))
			return -1;      /* a leading zero it did not need */
		m++;
		len--;
	}
	if (len > RSA_MAX_BITS / 8 + 1)
		return -1;
	for (bits = (long)len * 8, top = m[0]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

static int
check_point(struct rd *r, int t, char *why, size_t whylen)
{
	const unsigned char *c, *q;
	size_t cl, ql;

	if (take(r, &c, &cl) != 0 || take(r, &q, &ql) != 0)
		return fail(why, whylen, "the key data is truncated");
	if (cl != strlen(types[t].curve) || memcmp(c, types[t].curve, cl) != 0)
		return fail(why, whylen, "type %s but the key data names "
		    "another curve", types[t].name);
	if (ql != types[t].qlen || q[0] != 0x04)
		return fail(why, whylen, "the %s public point is malformed",
		    types[t].curve);
	return 0;
}

static int
check_ed25519(struct rd *r, char *why, size_t whylen)
{
	const unsigned char *k;
	size_t kl;

	if (take(r, &k, &kl) != 0)
		return fail(why, whylen, "the key data is truncated");
	if (kl != 32)
		return fail(why, whylen, "ed25519 key of %zu bytes, 32 required",
		    kl);
	return 0;
}

/* The blob's fields after its type, for type t.  0 or -1 (why). */
static int
check_fields(struct rd *r, int t, char *why, size_t whylen)
{
	const unsigned char *e, *n, *app;
	size_t el, nl, al;
	long bits;

	switch (t) {
	case K_ED25519:
		return check_ed25519(r, why, whylen);
	case K_ECDSA256:
	case K_ECDSA384:
	case K_ECDSA521:
		return check_point(r, t, why, whylen);
	case K_RSA:
		if (take(r, &e, &el) != 0 || take(r, &n, &nl) != 0)
			return fail(why, whylen, "the key data is truncated");
		if (mpint_bits(e, el) < 2 || !(e[el - 1] & 1))
			return fail(why, whylen, "the RSA public exponent is "
			    "malformed");
		if ((bits = mpint_bits(n, nl)) < 0 || bits > RSA_MAX_BITS)
			return fail(why, whylen, "the RSA modulus is malformed "
			    "or over %d bits", RSA_MAX_BITS);
		if (bits < SSHKEY_RSA_MIN_BITS)
			return fail(why, whylen, "RSA key of %ld bits, at least "
			    "%d required", bits, SSHKEY_RSA_MIN_BITS);
		return 0;
	case K_SK_ED25519:
	case K_SK_ECDSA256:
		if ((t == K_SK_ED25519 ? check_ed25519(r, why, whylen) :
		    check_point(r, t, why, whylen)) != 0)
			return -1;
		if (take(r, &app, &al) != 0)
			return fail(why, whylen, "the key data is truncated");
		if (al == 0)
			return fail(why, whylen, "the security key's application "
			    "is empty");
		return 0;
	}
	return fail(why, whylen, "unknown key type");
}

/* Decode b64[0..n) and check the blob against type t.  0 or -1 (why). */
static int
check_blob(const char *b64, size_t n, int t, char *why, size_t whylen)
{
	char text[SSHKEY_LINE_MAX + 1];
	unsigned char blob[BLOB_MAX];
	const unsigned char *bt;
	struct rd r;
	size_t btl;
	int len, k;

	/* The caller bounds n by the line; b64_pton wants a C string. */
	memcpy(text, b64, n);
	text[n] = '\0';
	if ((len = b64_pton(text, blob, sizeof(blob))) < 0)
		return fail(why, whylen, "the key data is not valid base64");
	r.p = blob;
	r.left = (size_t)len;
	if (take(&r, &bt, &btl) != 0)
		return fail(why, whylen, "the key data is truncated");
	if (btl != strlen(types[t].name) ||
	    memcmp(bt, types[t].name, btl) != 0) {
		k = find_type((const char *)bt, btl);
		if (k >= 0)
			return fail(why, whylen, "type %s but the key data says "
			    "%s", types[t].name, types[k].name);
		return fail(why, whylen, "type %s but the key data holds "
		    "another type", types[t].name);
	}
	if (check_fields(&r, t, why, whylen) != 0)
		return -1;
	if (r.left != 0)
		return fail(why, whylen, "the key data has %zu bytes after the "
		    "key", r.left);
	return 0;
}

/* ---- Options --------------------------------------------------------- */

/* A from= pattern list: hosts, addresses, CIDR, wildcards, negation. */
static int
from_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' &&
		    v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		    strchr(".-_:*?!,/%[]", v[i]) != NULL))
			return 0;
	return 1;
}

/* YYYYMMDD[HHMM[SS]], as sshd reads it. */
static int
expiry_ok(const char *v, size_t n)
{
	size_t i;
	int mon, day;

	if (n != 8 && n != 12 && n != 14)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	mon = (v[4] - '0') * 10 + (v[5] - '0');
	day = (v[6] - '0') * 10 + (v[7] - '0');
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	if (n >= 12 && ((v[8] - '0') * 10 + (v[9] - '0') > 23 ||
	    (v[10] - '0') * 10 + (v[11] - '0') > 59))
		return 0;
	if (n == 14 && (v[12] - '0') * 10 + (v[13] - '0') > 60)
		return 0;
	return 1;
}

/* The allowlisted option named o[0..n), or -1. */
static int
find_opt(const char *o, size_t n)
{
	size_t k;

	for (k = 0; k < NALLOWED; k++)
		if (strlen(allowed_opts[k].name) == n &&
		    strncasecmp(allowed_opts[k].name, o, n) == 0)
			return (int)k;
	return -1;
}

/* Why the option named o[0..n), not on the allowlist, is refused. */
static int
refuse_opt(const char *o, size_t n, char *why, size_t whylen)
{
	size_t k;

	if (n == 0)
		return fail(why, whylen, "an option is empty");
	for (k = 0; k < NREFUSED; k++)
		if (strlen(refused_opts[k].name) == n &&
		    strncasecmp(refused_opts[k].name, o, n) == 0)
			return fail(why, whylen, "option %s%s is not allowed",
			    refused_opts[k].name, refused_opts[k].valued ?
			    "=" : "");
	if (showable(o, n))
		return fail(why, whylen, "unknown option %.*s", (int)n, o);
	return fail(why, whylen, "an unknown option");
}

/*
 * Check one allowlisted option k, o[0..n), and append it canonically
 * (the name as OpenSSH documents it) at out + *o_len.  0 or -1 (why).
 */
static int
put_opt(int k, const char *o, size_t n, char *out, size_t *olen,
    char *why, size_t whylen)
{
	const char *name = allowed_opts[k].name, *v;
	size_t nlen = strlen(name), vlen;

	if (allowed_opts[k].kind == OPT_FLAG) {
		if (n != nlen)
			return fail(why, whylen, "option %s takes no value", name);
		v = NULL;
		vlen = 0;
	} else {
		/* name="value": one quoted value, no '"' or '\' inside. */
		v = o + nlen + 1;
		if (n < nlen + 3 || o[nlen] != '=' || v[0] != '"' ||
		    o[n - 1] != '"' || memchr(v + 1, '"', n - nlen - 3) ||
		    memchr(v + 1, '\\', n - nlen - 3))
			return fail(why, whylen, "option %s= needs a value in "
			    "double quotes", name);
		v++;
		vlen = n - nlen - 3;
		if (allowed_opts[k].kind == OPT_FROM && !from_ok(v, vlen))
			return fail(why, whylen, "option from= needs a list of "
			    "host or address patterns");
		if (allowed_opts[k].kind == OPT_EXPIRY && !expiry_ok(v, vlen))
			return fail(why, whylen, "option expiry-time= needs "
			    "YYYYMMDD[HHMM[SS]]");
	}
	if (*olen > 0)
		out[(*olen)++] = ',';
	memcpy(out + *olen, name, nlen);
	*olen += nlen;
	if (v != NULL) {
		out[(*olen)++] = '=';
		out[(*olen)++] = '"';
		memcpy(out + *olen, v, vlen);
		*olen += vlen;
		out[(*olen)++] = '"';
	}
	return 0;
}

/*
 * Check the options field s[0..n) (quotes balanced) and write it
 * canonically to out.  The worst refusal wins: an option that is never
 * allowed is named even when an allowlisted one comes first, and before
 * the lack of allow_options.  0 or -1 (why).
 */
static int
check_options(const char *s, size_t n, int allow, char *out, size_t *olen,
    char *why, size_t whylen)
{
	const char *o, *eq, *gated = NULL;
	size_t i, start, on, nl;
	unsigned seen = 0;
	int pass, q = 0, k;

	*olen = 0;
	for (pass = 0; pass < 2; pass++) {
		for (start = 0, i = 0; i <= n; i++) {
			if (i < n && s[i] == '"')
				q = !q;
			if (i < n && (q || s[i] != ','))
				continue;
			o = s + start;
			on = i - start;
			start = i + 1;
			eq = memchr(o, '=', on);
			nl = eq ? (size_t)(eq - o) : on;
			if ((k = find_opt(o, nl)) < 0)
				return refuse_opt(o, nl, why, whylen);
			if (pass == 0) {
				if (gated == NULL)
					gated = allowed_opts[k].name;
				continue;
			}
			if (seen & (1u << k))
				return fail(why, whylen, "option %s given twice",
				    allowed_opts[k].name);
			seen |= 1u << k;
			if (put_opt(k, o, on, out, olen, why, whylen) != 0)
				return -1;
		}
		if (pass == 0 && !allow)
			return fail(why, whylen, "option %s%s is not allowed "
			    "(ssh_keys_allow_options is off)", gated,
			    strcmp(gated, "from") == 0 ||
			    strcmp(gated, "expiry-time") == 0 ? "=" : "");
	}
	return 0;
}

/* ---- The line -------------------------------------------------------- */

/* Refuse any byte outside 0x20..0x7e, saying which kind.  0 or -1. */
static int
check_bytes(const char *line, size_t len, char *why, size_t whylen)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)line[i];
		if (c >= 0x20 && c <= 0x7e)
			continue;
		if (c == '\n')
			return fail(why, whylen, "the key holds a line break");
		if (c == '\r')
			return fail(why, whylen, "the key holds a carriage "
			    "return");
		if (c == '\0')
			return fail(why, whylen, "the key holds a NUL byte");
		if (c >= 0x80)
			return fail(why, whylen, "the key holds a byte that is "
			    "not ASCII");
		return fail(why, whylen, "the key holds a tab or another "
		    "control byte");
	}
	return 0;
}

/* Where the fields of a line are (offsets and lengths into it). */
struct fields {
	size_t ostart, olen;      /* options, olen 0: none */
	size_t tstart, tlen;      /* type */
	size_t bstart, blen;      /* base64 */
	size_t cstart, clen;      /* comment, clen 0: none */
	int type;                 /* enum ktype */
};

/*
 * Split line[0..len) (bytes already checked) into its fields.  Options
 * come first when the first field is not a type, unless it is the only
 * field or a plain word followed by key data: then it is a type this
 * file does not know.  0 or -1 (why).
 */
static int
split_fields(const char *line, size_t len, struct fields *f, char *why,
    size_t whylen)
{
	size_t i, e, next;
	long fe;

	memset(f, 0, sizeof(*f));
	while (len > 0 && line[len - 1] == ' ')
		len--;
	for (i = 0; i < len && line[i] == ' '; i++)
		;
	if (i == len)
		return fail(why, whylen, "the key line is empty");
	if ((fe = field_end(line, i, len)) < 0)
		return fail(why, whylen, "a quote is left open");
	e = (size_t)fe;
	for (next = e; next < len && line[next] == ' '; next++)
		;
	if (find_type(line + i, e - i) < 0 && next < len &&
	    !(memchr(line + i, '=', e - i) == NULL &&
	    memchr(line + i, ',', e - i) == NULL && len - next >= 4 &&
	    memcmp(line + next, "AAAA", 4) == 0)) {
		f->ostart = i;
		f->olen = e - i;
		i = next;
		if ((fe = field_end(line, i, len)) < 0)
			return fail(why, whylen, "a quote is left open");
		e = (size_t)fe;
	}
	f->tstart = i;
	f->tlen = e - i;
	if ((f->type = find_type(line + i, e - i)) < 0) {
		if (is_old_type(line + i, e - i))
			return fail(why, whylen, "key type %.*s is not "
			    "accepted", (int)(e - i), line + i);
		if (showable(line + i, e - i))
			return fail(why, whylen, "unknown key type %.*s",
			    (int)(e - i), line + i);
		return fail(why, whylen, "unknown key type");
	}
	for (i = e; i < len && line[i] == ' '; i++)
		;
	if (i == len)
		return fail(why, whylen, "the key data is missing");
	f->bstart = i;
	for (; i < len && line[i] != ' '; i++)
		;
	f->blen = i - f->bstart;
	for (; i < len && line[i] == ' '; i++)
		;
	f->cstart = i;
	f->clen = len - i;
	if (f->clen > SSHKEY_COMMENT_MAX)
		return fail(why, whylen, "the comment is longer than %d bytes",
		    SSHKEY_COMMENT_MAX);
	return 0;
}

int
sshkey_check(const char *line, size_t len, int allow_options, char *out,
    size_t outlen, char *why, size_t whylen)
{
	char opts[SSHKEY_LINE_MAX];
	struct fields f;
	size_t o = 0, olen = 0;

	if (whylen > 0)
		why[0] = '\0';
	if (len > SSHKEY_LINE_MAX)
		return fail(why, whylen, "the key line is longer than %d bytes",
		    SSHKEY_LINE_MAX);
	if (check_bytes(line, len, why, whylen) != 0 ||
	    split_fields(line, len, &f, why, whylen) != 0)
		return -1;
	/* The options before the blob: a forbidden option is the reason an
	 * admin most needs to see. */
	if (f.olen > 0 && check_options(line + f.ostart, f.olen,
	    allow_options, opts, &olen, why, whylen) != 0)
		return -1;
	if (check_blob(line + f.bstart, f.blen, f.type, why, whylen) != 0)
		return -1;

	/* Never longer than the line: only spaces and letter case change. */
	if (olen + 1 + f.tlen + 1 + f.blen + 1 + f.clen + 1 > outlen)
		return fail(why, whylen, "the caller's buffer is too small");
	if (olen > 0) {
		memcpy(out, opts, olen);
		o = olen;
		out[o++] = ' ';
	}
	memcpy(out + o, line + f.tstart, f.tlen);
	o += f.tlen;
	out[o++] = ' ';
	memcpy(out + o, line + f.bstart, f.blen);
	o += f.blen;
	if (f.clen > 0) {
		out[o++] = ' ';
		memcpy(out + o, line + f.cstart, f.clen);
		o += f.clen;
	}
	out[o] = '\0';
	return 0;
}

const char *
sshkey_type(const char *canonical, char *type, size_t typelen)
{
	size_t n = strlen(canonical), i = 0, e;
	long fe;

	if (typelen == 0)
		return type;
	type[0] = '\0';
	if ((fe = field_end(canonical, 0, n)) < 0)
		return type;
	e = (size_t)fe;
	if (find_type(canonical, e) < 0 && e < n) {
		i = e + 1;
		if ((fe = field_end(canonical, i, n)) < 0)
			return type;
		e = (size_t)fe;
	}
	if (e - i > typelen - 1)
		e = i + typelen - 1;
	memcpy(type, canonical + i, e - i);
	type[e - i] = '\0';
	return type;
}
