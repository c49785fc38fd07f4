/*
 * fuzz_error.c - libFuzzer target for Okta's error body parser
 * (okta_parse_error: errorCode and errorSummary out of any body a failed
 * request brings) and the sanitizer it copies them with (okta_sanitize).
 *
 * Input: one response body.  It is parsed into the buffers okta.c uses
 * (32 and 256 bytes) and into small ones whose sizes the input picks, so
 * that every cut is tried; then sanitized whole into a buffer of the
 * input's choosing.  The body is a malloc'd copy of exactly its bytes
 * plus the NUL okta.c's body buffer has.  Seeds: tests/fuzz/corpus_error
 * (the recorded error bodies, 429 E0000047 and 404 E0000007 among them,
 * and other bodies; made by tests/fuzz/make_seeds.py).
 *
 * The oracle, besides the sanitizers: what comes out is NUL-terminated
 * inside its buffer and holds printable ASCII only (no log forging, no
 * terminal escapes), and the sanitizer's length is the string's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "okta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t cap)
{
	size_t i, n = strnlen(s, cap);

	if (n == cap)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char code[32], summary[256], *small_code, *small_sum, *body, *out;
	size_t cl, sl, ol, n;

	if ((body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';

	okta_parse_error(body, size, code, sizeof(code), summary, sizeof(summary));
	check_text(code, sizeof(code));
	check_text(summary, sizeof(summary));

	/* Small buffers, sized by the input: every cut point. */
	cl = size > 0 ? 1 + data[0] % 8 : 1;
	sl = size > 1 ? 1 + data[1] % 16 : 1;
	small_code = malloc(cl);
	small_sum = malloc(sl);
	if (small_code != NULL && small_sum != NULL) {
		okta_parse_error(body, size, small_code, cl, small_sum, sl);
		check_text(small_code, cl);
		check_text(small_sum, sl);
	}
	free(small_code);
	free(small_sum);

	ol = 1 + size % 64;
	if ((out = malloc(ol)) != NULL) {
		n = okta_sanitize(out, ol, body, size);
		check_text(out, ol);
		if (n != strlen(out))
			__builtin_trap();
		free(out);
	}
	free(body);
	return 0;
}
