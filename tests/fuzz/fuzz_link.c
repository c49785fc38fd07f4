/*
 * fuzz_link.c - libFuzzer target for the Link header parser
 * (okta_parse_link_next), alone and as okta_headers_parse_line sees it.
 *
 * Input: one Link field value.  It is parsed three ways: with the client's
 * buffer (OKTA_URL_MAX), with a small one (the input's length picks it:
 * "does not fit" must be -1, never an overflow), and as one or two header
 * lines "Link: <value>\r\n" (split at the first newline, case varied) fed
 * to okta_headers_parse_line.  Seeds: tests/fuzz/corpus_link (every Link
 * value in the recorded Okta traffic, made by tests/fuzz/make_seeds.py).
 *
 * The oracle, besides the sanitizers: a URL found is non-empty, fits the
 * buffer, holds no space or control character, and is a piece of the
 * value between '<' and '>'; the header path agrees with the direct call
 * (found, not found, or malformed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_chars(const char *url, size_t outlen)
{
	const char *p;
	size_t n = strlen(url);

	if (n == 0 || n >= outlen)
		__builtin_trap();
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			__builtin_trap();
}

static void
check_url(const char *value, const char *url, size_t outlen)
{
	const char *p;
	size_t n = strlen(url);

	check_chars(url, outlen);
	/* Copied exactly as sent, from between <...>. */
	for (p = value; (p = strchr(p, '<')) != NULL; p++)
		if (strncmp(p + 1, url, n) == 0 && p[1 + n] == '>')
			return;
	__builtin_trap();
}

/* The value as a header line, as libcurl hands it over: no NUL, CRLF. */
static void
as_header(struct okta_headers *h, const char *name, const char *v, size_t vlen)
{
	size_t nlen = strlen(name), len = nlen + 2 + vlen + 2;
	char *line = malloc(len);

	if (line == NULL)
		return;
	memcpy(line, name, nlen);
	memcpy(line + nlen, ": ", 2);
	memcpy(line + nlen + 2, v, vlen);
	memcpy(line + len - 2, "\r\n", 2);
	okta_headers_parse_line(h, line, len);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[OKTA_URL_MAX];
	static struct okta_headers h;
	char small[64], *value;
	const char *nl;
	size_t smalllen;
	int r, rs;

	if ((value = malloc(size + 1)) == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';

	r = okta_parse_link_next(value, out, sizeof(out));
	if (r < -1 || r > 1)
		__builtin_trap();
	if (r == 1)
		check_url(value, out, sizeof(out));

	smalllen = 1 + size % sizeof(small);
	rs = okta_parse_link_next(value, small, smalllen);
	if (rs == 1)
		check_url(value, small, smalllen);
	if (r != 1 && rs != r)   /* only the length of a found URL may differ */
		__builtin_trap();
	if (r == 1 && !(rs == -1 || (rs == 1 && strcmp(small, out) == 0)))
		__builtin_trap();

	/* Through the header parser: one line, or two Link fields. */
	okta_headers_reset(&h);
	nl = memchr(data, '\n', size);
	/* (The header parser trims a CR; the direct call refuses it.) */
	if (nl == NULL && strlen(value) == size && memchr(data, '\r', size) == NULL) {
		as_header(&h, (size & 1) ? "link" : "Link", value, size);
		if (r == -1 && size < OKTA_HDR_MAX && !h.link_bad)
			__builtin_trap();
		if (r == 1 && size < OKTA_HDR_MAX &&
		    (!h.has_next || h.link_bad || strcmp(h.next, out) != 0))
			__builtin_trap();
		if (r == 0 && size < OKTA_HDR_MAX && (h.has_next || h.link_bad))
			__builtin_trap();
	} else if (nl != NULL) {
		as_header(&h, "LINK", (const char *)data, (size_t)(nl - (const char *)data));
		as_header(&h, "Link", nl + 1, size - (size_t)(nl + 1 - (const char *)data));
		if (h.has_next)
			check_chars(h.next, sizeof(h.next));
	}
	free(value);
	return 0;
}
