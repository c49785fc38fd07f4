/*
 * fuzz_sshkey.c - libFuzzer target for sshkey_check (common/sshkey.h): the
 * input is one key line, as an Okta profile attribute or the snapshot
 * hands it over (any bytes, not NUL-terminated).  It is checked with
 * options refused and allowed.  Besides what ASan and UBSan catch, these
 * break the contract (__builtin_trap):
 *   - an accepted line whose output holds a byte outside 0x20..0x7e, is
 *     longer than SSHKEY_LINE_MAX, or is refused or changed when checked
 *     again (the output is canonical: sshkey_check is idempotent);
 *   - an output accepted with options refused that carries options
 *     (sshkey_type is not its first field);
 *   - an accepted line with options refused that is refused with them
 *     allowed (allowing options only ever widens);
 *   - a refusal without a reason, or a reason that is not printable ASCII
 *     or does not fit SSHKEY_WHY_MAX.
 *
 * Built and run by tests/fuzz/run.sh; seeds in tests/fuzz/corpus_sshkey
 * (real key lines from ssh-keygen, some with options or broken).
 */
#include <stdint.h>
#include <string.h>

#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_why(const char *why)
{
	size_t i, n = strlen(why);

	if (n == 0 || n >= SSHKEY_WHY_MAX)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (why[i] < 0x20 || why[i] > 0x7e)
			__builtin_trap();
}

/* 1 accepted (out checked), 0 refused (why checked). */
static int
one(const char *line, size_t len, int allow, char *out)
{
	static char again[SSHKEY_LINE_MAX + 1];
	char why[SSHKEY_WHY_MAX], t[64];
	size_t i, n;

	if (sshkey_check(line, len, allow, out, SSHKEY_LINE_MAX + 1, why,
	    sizeof(why)) != 0) {
		check_why(why);
		return 0;
	}
	n = strlen(out);
	if (n == 0 || n > SSHKEY_LINE_MAX)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			__builtin_trap();
	if (sshkey_check(out, n, allow, again, sizeof(again), why,
	    sizeof(why)) != 0 || strcmp(again, out) != 0)
		__builtin_trap();
	sshkey_type(out, t, sizeof(t));
	if (t[0] == '\0' || (!allow && strncmp(out, t, strlen(t)) != 0))
		__builtin_trap();
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out0[SSHKEY_LINE_MAX + 1], out1[SSHKEY_LINE_MAX + 1];
	int a0, a1;

	a0 = one((const char *)data, size, 0, out0);
	a1 = one((const char *)data, size, 1, out1);
	if (a0 && (!a1 || strcmp(out0, out1) != 0))
		__builtin_trap();
	return 0;
}
