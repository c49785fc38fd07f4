/*
 * fuzz_auth_answer.c - libFuzzer target for what okta-syncd makes of
 * Okta's answers at login time (okta_auth_read_answer, issue 11): the
 * token endpoint's grants, /challenge and /device/authorize, whose bodies
 * come from the network and whose fields end up in a prompt the user
 * reads (the number to tap, the device page and code) or decide whether
 * offline credentials may be used.
 *
 * Input: byte 0 picks the endpoint (token, challenge, device), byte 1 the
 * HTTP status (200, 400, 401, 403, 429, 500, 502 or a raw value), the rest
 * is the body (a malloc'd copy of exactly its bytes).  Seeds:
 * tests/fuzz/corpus_auth_answer (the emulator's answers).
 *
 * The oracle, besides the sanitizers:
 *   - the status is one of enum oa_status, and OA_UNAVAILABLE only for a
 *     429 or a 5xx (never for an answer Okta gave as a refusal);
 *   - OA_OK exactly when an ID token came, with a 2xx;
 *   - r->detail and r->error are NUL-terminated printable ASCII;
 *   - a binding code is digits only (it goes into a prompt), a user code
 *     [A-Z0-9-], a device page https://, printable;
 *   - okta_auth_reply_wipe leaves nothing (and frees the token: the leak
 *     checker sees it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "okta_auth.h"

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

static void
check_charset(const char *s, size_t cap, const char *allowed)
{
	size_t n = strnlen(s, cap);

	if (n == cap || strspn(s, allowed) != n)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const whats[] = { "token", "challenge", "device" };
	static const long statuses[] = { 200, 400, 401, 403, 429, 500, 502 };
	struct okta_auth_reply r;
	const unsigned char *p;
	const char *what;
	long status;
	char *body;
	size_t i;

	if (size < 2)
		return 0;
	what = whats[data[0] % 3];
	status = data[1] < 7 * 30 ? statuses[data[1] % 7] : 100 + data[1];
	size -= 2;
	if ((body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(body, data + 2, size);
	body[size] = '\0';

	memset(&r, 0, sizeof(r));
	okta_auth_read_answer(&r, "/oauth2/v1/token", what, status, body, size);
	if ((unsigned)r.status > OA_ERROR)
		__builtin_trap();
	if (r.status == OA_UNAVAILABLE && status != 429 && status < 500)
		__builtin_trap();
	if ((r.status == OA_OK) != (r.id_token != NULL))
		__builtin_trap();
	if (r.status == OA_OK && (status < 200 || status > 299))
		__builtin_trap();
	check_text(r.detail, sizeof(r.detail));
	check_text(r.error, sizeof(r.error));
	check_charset(r.binding_code, sizeof(r.binding_code), "0123456789");
	check_charset(r.user_code, sizeof(r.user_code),
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
	check_text(r.verification_uri, sizeof(r.verification_uri));
	if (r.status == OA_DEVICE &&
	    (strncmp(r.verification_uri, "https://", 8) != 0 ||
	    r.device_code[0] == '\0' || r.user_code[0] == '\0'))
		__builtin_trap();
	if (r.status == OA_MFA_REQUIRED && r.mfa_token[0] == '\0')
		__builtin_trap();
	okta_auth_reply_wipe(&r);
	for (p = (const unsigned char *)&r, i = 0; i < sizeof(r); i++)
		if (p[i] != 0)
			__builtin_trap();
	free(body);
	return 0;
}
