/*
 * okta_parse.c - the pure parts of the Okta client: the Link header, HTTP
 * dates, one JSON page, and making text from Okta safe to print.
 *
 * Nothing here talks to the network or keeps state, so that each function
 * can be unit-tested on the recorded Okta traffic (tests/unit/test_okta_*.c)
 * and fuzzed.  Every input is untrusted: lengths are capped and every
 * malformed input is an error, never a guess.
 */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "okta.h"

/* Longest Date header value we look at; real ones are 29 characters. */
#define HTTP_DATE_MAX 64

/* RFC 7230 tchar: the characters of a token (a parameter name or value). */
static int
is_tchar(int ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Whether the rel value [v, end) names "next" among its space-separated
 * relation types (RFC 8288 allows rel="next last"). */
static int
rel_has_next(const char *v, const char *end)
{
	const char *w;

	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		w = v;
		while (w < end && *w != ' ' && *w != '\t')
			w++;
		if (w - v == 4 && strncasecmp(v, "next", 4) == 0)
			return 1;
		v = w;
	}
	return 0;
}

/*
 * Parse one Link field value: `<URL>; param=value; ..., <URL>; ...`.
 * Returns 1 and the first rel="next" URL in out, 0 when no link is "next",
 * -1 when the value is malformed (a link without <...>, an unterminated
 * quoted string, a bad parameter, a URL with spaces or control characters)
 * or the next URL does not fit in outlen.  Commas inside <...> and inside
 * quoted strings do not split links.  The URL is copied exactly as sent.
 */
int
okta_parse_link_next(const char *value, char *out, size_t outlen)
{
	const char *p, *url, *url_end, *q, *name, *v, *vend;
	size_t namelen, len;
	int found = 0, is_next;

	if (value == NULL || out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	p = value;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p != '<')
			return -1;
		url = ++p;
		url_end = strchr(url, '>');
		if (url_end == NULL)
			return -1;
		for (q = url; q < url_end; q++)
			if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '<')
				return -1;
		p = url_end + 1;
		is_next = 0;
		for (;;) {
			p = skip_ws(p);
			if (*p == '\0' || *p == ',')
				break;
			if (*p != ';')
				return -1;
			p = skip_ws(p + 1);
			name = p;
			while (is_tchar((unsigned char)*p))
				p++;
			namelen = (size_t)(p - name);
			if (namelen == 0)
				return -1;
			p = skip_ws(p);
			if (*p != '=')
				continue;	/* a parameter without a value */
			p = skip_ws(p + 1);
			if (*p == '"') {
				v = ++p;
				while (*p != '\0' && *p != '"') {
					if (*p == '\\' && p[1] != '\0')
						p++;
					p++;
				}
				if (*p != '"')
					return -1;
				vend = p++;
			} else {
				v = p;
				while (is_tchar((unsigned char)*p))
					p++;
				vend = p;
				if (vend == v)
					return -1;
			}
			if (namelen == 3 && strncasecmp(name, "rel", 3) == 0 &&
			    rel_has_next(v, vend))
				is_next = 1;
		}
		if (is_next && !found) {
			len = (size_t)(url_end - url);
			if (len == 0 || len >= outlen)
				return -1;
			memcpy(out, url, len);
			out[len] = '\0';
			found = 1;
		}
	}
	return found;
}

/*
 * Parse an HTTP date (RFC 7231 IMF-fixdate, and the obsolete RFC 850 and
 * asctime forms every recipient must accept) with libcurl's curl_getdate,
 * which is independent of the locale.  Returns epoch seconds, or -1 when s
 * is NULL, empty, too long, has non-printable characters or is not a date.
 */
long long
okta_parse_http_date(const char *s)
{
	size_t i, n;
	time_t t;

	if (s == NULL)
		return -1;
	n = strnlen(s, HTTP_DATE_MAX + 1);
	if (n == 0 || n > HTTP_DATE_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return -1;
	t = curl_getdate(s, NULL);
	if (t < 0)
		return -1;
	return (long long)t;
}

/* JSON's white space (RFC 8259); a NUL is not. */
static size_t
skip_json_ws(const char *body, size_t at, size_t len)
{
	while (at < len && (body[at] == ' ' || body[at] == '\t' ||
	    body[at] == '\n' || body[at] == '\r'))
		at++;
	return at;
}

/*
 * body[0..len) as one JSON value, parsed strictly, with nothing but white
 * space after it: the value (the caller puts it), or NULL for broken or
 * truncated JSON, with *oom set when json-c could not allocate.
 */
json_object *
okta_parse_json(const char *body, size_t len, int *oom)
{
	json_tokener *tok;
	json_object *v;

	*oom = 0;
	if (body == NULL || len == 0 || len > INT_MAX)
		return NULL;
	if ((tok = json_tokener_new()) == NULL) {
		*oom = 1;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	v = json_tokener_parse_ex(tok, body, (int)len);
	if (v != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(v);
		v = NULL;
	}
	/* Anything but white space after the value is broken JSON too. */
	if (v != NULL &&
	    skip_json_ws(body, json_tokener_get_parse_end(tok), len) != len) {
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

/*
 * Parse one page (a JSON array) and hand each element to fn (which may be
 * NULL to only count).  Returns OK_SUCCESS with *count set (count may be
 * NULL), OK_ERR_PROTOCOL with *why set when the body is not one complete
 * JSON value (a truncated body is an error, not a shorter page), has
 * trailing garbage, or is not an array; OK_ERR_INTERRUPTED when fn returned
 * non-zero; OK_ERR_INTERNAL when json-c cannot allocate.  The page is freed
 * before returning: the caller's memory grows by one page at most.
 */
okerr
okta_ingest_page_why(const char *body, size_t len, okta_item_fn fn, void *ctx,
    unsigned long *count, const char **why)
{
	json_object *page;
	const char *reason = "the answer is broken or truncated JSON";
	okerr rc = OK_ERR_PROTOCOL;
	size_t i, n;
	int oom;

	if (count != NULL)
		*count = 0;
	page = okta_parse_json(body, len, &oom);
	if (oom) {
		rc = OK_ERR_INTERNAL;
		reason = "out of memory parsing JSON";
		goto out;
	}
	if (page == NULL)
		goto out;
	if (!json_object_is_type(page, json_type_array)) {
		reason = "the answer is JSON but not a list (a JSON array)";
		goto out;
	}
	n = json_object_array_length(page);
	for (i = 0; i < n; i++) {
		if (fn != NULL && fn(ctx, json_object_array_get_idx(page, i)) != 0) {
			rc = OK_ERR_INTERRUPTED;
			reason = "stopped by the caller";
			if (count != NULL)
				*count = i;
			goto out;
		}
	}
	if (count != NULL)
		*count = n;
	rc = OK_SUCCESS;
	reason = "";
out:
	if (why != NULL)
		*why = reason;
	json_object_put(page);
	return rc;
}

okerr
okta_ingest_page(const char *body, size_t len, okta_item_fn fn, void *ctx,
    unsigned long *count)
{
	return okta_ingest_page_why(body, len, fn, ctx, count, NULL);
}

/*
 * The element starting at body[*at], parsed strictly by json-c, which
 * says where it ends (ALLOW_TRAILING_CHARS: what follows is the page's,
 * checked by the caller).  *item: the element, NULL for JSON null.
 * 0, or -1 for broken or truncated JSON.
 */
static int
next_element(json_tokener *tok, const char *body, size_t len, size_t *at,
    json_object **item)
{
	json_tokener_reset(tok);
	*item = json_tokener_parse_ex(tok, body + *at, (int)(len - *at));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(*item);
		*item = NULL;
		return -1;
	}
	*at += json_tokener_get_parse_end(tok);
	return 0;
}

/*
 * One page element by element: json-c builds the tree of one element at a
 * time, which is handed over and freed before the next is parsed.  A sync
 * lists hundreds of thousands of members and needs only each one's id:
 * parsing the page whole built a tree of a few hundred kilobytes per page
 * and freed it at the end, which cost more than half again as much CPU
 * (malloc reused nothing while the tree lived).  The page's own syntax
 * around the elements, '[', ',', ']' and white space, is checked here;
 * everything inside an element is json-c's, with its nesting limit one
 * less (the page's '[' counted as one level when the page was parsed
 * whole), so that a page is accepted exactly when okta_ingest_page_why
 * accepts it.
 */
okerr
okta_stream_page_why(const char *body, size_t len, okta_item_fn fn, void *ctx,
    unsigned long *count, const char **why)
{
	const char *reason = "the answer is broken or truncated JSON";
	json_tokener *tok = NULL;
	json_object *item;
	okerr rc = OK_ERR_PROTOCOL;
	unsigned long n = 0;
	size_t at = 0;

	if (body != NULL && len > 0 && len <= INT_MAX)
		at = skip_json_ws(body, 0, len);
	if (body == NULL || len == 0 || len > INT_MAX || at == len ||
	    body[at] != '[') {
		/* Not a list: the whole-page parse says why. */
		rc = okta_ingest_page_why(body, len, NULL, NULL, NULL, &reason);
		if (rc == OK_SUCCESS)	/* cannot be: an array starts with '[' */
			rc = OK_ERR_PROTOCOL;
		goto out;
	}
	if ((tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 1)) == NULL) {
		rc = OK_ERR_INTERNAL;
		reason = "out of memory parsing JSON";
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	at = skip_json_ws(body, at + 1, len);
	while (at < len && body[at] != ']') {
		if (next_element(tok, body, len, &at, &item) != 0)
			goto out;
		if (fn != NULL && fn(ctx, item) != 0) {
			json_object_put(item);
			rc = OK_ERR_INTERRUPTED;
			reason = "stopped by the caller";
			goto out;
		}
		json_object_put(item);
		n++;
		at = skip_json_ws(body, at, len);
		if (at >= len || body[at] != ',')
			break;
		/* After a ',' comes an element: a ']' there is an error. */
		at = skip_json_ws(body, at + 1, len);
		if (at < len && body[at] == ']')
			goto out;
	}
	if (at >= len || body[at] != ']' || skip_json_ws(body, at + 1, len) != len)
		goto out;	/* no ']', or something after it */
	rc = OK_SUCCESS;
	reason = "";
out:
	if (tok != NULL)
		json_tokener_free(tok);
	if (count != NULL)
		*count = n;
	if (why != NULL)
		*why = reason;
	return rc;
}

/*
 * Copy srclen bytes of untrusted text into dst (dstlen > 0), replacing
 * every byte outside printable ASCII with '?' and cutting what does not fit
 * (ending in "..."), so that text from Okta cannot forge log lines or
 * terminal escapes.  Always NUL-terminates.  Returns the length written.
 */
size_t
okta_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i, n = 0;
	unsigned char ch;

	if (dstlen == 0)
		return 0;
	for (i = 0; src != NULL && i < srclen && src[i] != '\0'; i++) {
		if (dstlen - n <= 1) {
			if (dstlen > 4) {
				memcpy(dst + dstlen - 4, "...", 3);
				n = dstlen - 1;
			}
			break;
		}
		ch = (unsigned char)src[i];
		dst[n++] = (ch >= 0x20 && ch <= 0x7e) ? (char)ch : '?';
	}
	dst[n] = '\0';
	return n;
}

/* Whether s is a plausible Okta object id: 1 to 64 ASCII letters and
 * digits, so that it can go into a URL path as is. */
int
okta_valid_id(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 64)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return 1;
}

/*
 * The milliseconds to wait after a 429: until reset (X-Rate-Limit-Reset,
 * epoch seconds) as measured against date (the server's Date, epoch
 * seconds), plus OKTA_RATE_MARGIN_MS because both have one-second
 * resolution; never more than OKTA_WAIT_MAX_MS.  When reset or date is
 * unknown (< 0): OKTA_RATE_BACKOFF_MS doubled for each earlier attempt
 * (attempt counts from 1).  Can't fail.
 */
long
okta_rate_wait_ms(long long reset, long long date, unsigned attempt)
{
	long long ms;

	if (reset >= 0 && date >= 0) {
		/* Capped in seconds before the multiplication: the reset is
		 * any number Okta (or whoever answers) sends, and a far one
		 * overflowed into a negative wait, i.e. none (found by
		 * tests/fuzz/fuzz_headers.c). */
		ms = reset > date ? reset - date : 0;
		ms = ms > OKTA_WAIT_MAX_MS / 1000 ? OKTA_WAIT_MAX_MS : ms * 1000;
		ms += OKTA_RATE_MARGIN_MS;
	} else {
		ms = OKTA_RATE_BACKOFF_MS;
		while (attempt-- > 1 && ms < OKTA_WAIT_MAX_MS)
			ms *= 2;
	}
	return (long)(ms > OKTA_WAIT_MAX_MS ? OKTA_WAIT_MAX_MS : ms);
}

/* Copy one string member of o, sanitized; leaves out alone otherwise. */
static void
copy_member(json_object *o, const char *key, char *out, size_t outlen)
{
	json_object *f;
	const char *s;

	if (json_object_object_get_ex(o, key, &f) &&
	    json_object_is_type(f, json_type_string) &&
	    (s = json_object_get_string(f)) != NULL)
		okta_sanitize(out, outlen, s, (size_t)json_object_get_string_len(f));
}

/*
 * Okta's error body: {"errorCode":"E0000011","errorSummary":"...",...}.
 * Sets code and summary (each sanitized, cut to fit; "" when absent or the
 * body is not such an object).  Bodies over 64 KiB are not looked at.
 */
void
okta_parse_error(const char *body, size_t len, char *code, size_t codelen,
    char *summary, size_t summarylen)
{
	json_tokener *tok;
	json_object *o;

	if (codelen > 0)
		code[0] = '\0';
	if (summarylen > 0)
		summary[0] = '\0';
	if (body == NULL || len == 0 || len > 65536 || codelen == 0 || summarylen == 0)
		return;
	tok = json_tokener_new();
	if (tok == NULL)
		return;
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (o != NULL && json_object_is_type(o, json_type_object)) {
		copy_member(o, "errorCode", code, codelen);
		copy_member(o, "errorSummary", summary, summarylen);
	}
	json_object_put(o);
	json_tokener_free(tok);
}

void
okta_headers_reset(struct okta_headers *h)
{
	h->has_next = 0;
	h->link_bad = 0;
	h->next[0] = '\0';
	h->content_type[0] = '\0';
	h->date = -1;
	h->rl_reset = -1;
	h->rl_limit = -1;
	h->rl_remaining = -1;
	h->dpop_nonce[0] = '\0';
	h->www_authenticate[0] = '\0';
	h->max_age = -1;
}

/* Cache-Control: max-age=N (bounded), or 0 for no-cache / no-store. */
static long
parse_max_age(const char *v)
{
	const char *p;
	long long n;
	char num[16];
	size_t len;

	if (strcasestr(v, "no-store") != NULL || strcasestr(v, "no-cache") != NULL)
		return 0;
	if ((p = strcasestr(v, "max-age=")) == NULL)
		return -1;
	p += 8;
	len = strspn(p, "0123456789");
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, p, len);
	num[len] = '\0';
	n = okta_parse_number(num);
	return n < 0 || n > 100000000 ? -1 : (long)n;
}

/* A header value that must be a non-negative decimal number (digits
 * only, no sign, no spaces), or -1. */
long long
okta_parse_number(const char *v)
{
	char *end;
	long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return -1;
	return n;
}

static int
header_is(const char *name, size_t namelen, const char *want)
{
	return namelen == strlen(want) && strncasecmp(name, want, namelen) == 0;
}

/*
 * One header line as libcurl passes it: `Name: value` with CRLF, not
 * NUL-terminated.  Names are compared without regard to case.  A status
 * line ("HTTP/...") starts a new response and resets h (after a 100
 * Continue, say).  Each Link field is parsed on its own and may hold
 * several comma-joined links; a malformed one, one too long, or two
 * different next links mark h->link_bad, so that a listing fails rather
 * than guess where the rest of the data is.  Numbers that are not plain
 * decimals are taken as absent (-1).  Can't fail.
 */
void
okta_headers_parse_line(struct okta_headers *h, const char *line, size_t len)
{
	char value[OKTA_HDR_MAX], next[OKTA_URL_MAX];
	const char *colon, *v, *end;
	size_t namelen, vlen;
	long long num;
	int found;

	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		okta_headers_reset(h);
		return;
	}
	colon = memchr(line, ':', len);
	if (colon == NULL)
		return;
	namelen = (size_t)(colon - line);
	v = colon + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
	    end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - v);
	if (vlen >= sizeof(value) || memchr(v, '\0', vlen) != NULL) {
		if (header_is(line, namelen, "Link"))
			h->link_bad = 1;
		return;
	}
	memcpy(value, v, vlen);
	value[vlen] = '\0';

	if (header_is(line, namelen, "Link")) {
		found = okta_parse_link_next(value, next, sizeof(next));
		if (found < 0) {
			h->link_bad = 1;
		} else if (found > 0) {
			if (h->has_next && strcmp(h->next, next) != 0)
				h->link_bad = 1;
			memcpy(h->next, next, sizeof(h->next));
			h->has_next = 1;
		}
	} else if (header_is(line, namelen, "Date")) {
		h->date = okta_parse_http_date(value);
	} else if (header_is(line, namelen, "Content-Type")) {
		okta_sanitize(h->content_type, sizeof(h->content_type), value, vlen);
	} else if (header_is(line, namelen, "X-Rate-Limit-Limit")) {
		num = okta_parse_number(value);
		h->rl_limit = num > 1000000000 ? -1 : (long)num;
	} else if (header_is(line, namelen, "X-Rate-Limit-Remaining")) {
		num = okta_parse_number(value);
		h->rl_remaining = num > 1000000000 ? -1 : (long)num;
	} else if (header_is(line, namelen, "X-Rate-Limit-Reset")) {
		h->rl_reset = okta_parse_number(value);
	} else if (header_is(line, namelen, "DPoP-Nonce")) {
		okta_sanitize(h->dpop_nonce, sizeof(h->dpop_nonce), value, vlen);
	} else if (header_is(line, namelen, "Cache-Control")) {
		h->max_age = parse_max_age(value);
	} else if (header_is(line, namelen, "WWW-Authenticate")) {
		okta_sanitize(h->www_authenticate, sizeof(h->www_authenticate), value, vlen);
	}
}
