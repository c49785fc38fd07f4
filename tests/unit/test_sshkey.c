/*
 * test_sshkey.c - sshkey_check and sshkey_type (common/sshkey.h): every
 * accepted key type with a real key (made once with ssh-keygen; the sk-*
 * blobs are built here, as no security key is at hand), canonical output,
 * the options allowlist, and each hostile or broken line issue 10 names,
 * refused with a reason that says why and never quotes the line.
 */
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "sshkey.h"

/* ssh-keygen -t ed25519 / ecdsa -b 256, 384, 521 / rsa -b 2048, 1024. */
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k"
#define ECDSA256 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPoIQM33u20JmRglebu+QAfDyKmhhBNFxPzYgjJMjGenUQvixwmj3RJz5IueIkiTs3SQ56Gj22j5LwDeNT9QNHo="
#define ECDSA384 "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBGatVdhiBnavk6U0m6ANIrxrngaJ4Bat4f5Fzu+J07pz1LOj4cZ85/+9kUd1BCWEGnMAXalGf9nsOHP8OleI04HwS5MKVljiBciA3Y+7qCXQ0Xa5+FNGqE/I/nqIIniTfw=="
#define ECDSA521 "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAC2TWWLlKt4L0tPZLFGZPNgJ6egWfMfTYGDIRoOlsUmP7cF9knutaKfOO3/RW5iRL76KVTmVGIRPrr9AeB+8nMO3QEOSTKgxYgZR5dP/FPbehP91IHtFUASaJa3gssyE6DbrXpLOkdajflDfsUN+wzr3ngpxBCMMk52ZXIj8qJ02fbq/w=="
#define RSA2048 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC3wUgs5cxXCxC+v2z0E18EUFh1l606Bsb5pH5tQeOjvCWPeaI/lG7WnhUGPO/5ElvzUWrOGaZr1quApLyr78nXeuWMwyk3h8QZZRcFgB9ghKfv1GsUfwvx+J7lxSeYGEQbFt0YQLKz/1KaWHVFpdFdKwiVSJwISveGsR14CK5RF+hhUjd9CYeFDvubIPMK06BJQ48zQHT7Lr+4p7zhta7eM8QBLHAjxM7iE+zVrMla/p07oFbRrQhCee6+LkhZTINwfSi3NjPYR+qflH2eYF4Iby6hCdXdol4L829lFNo68SpD0wuTbCjXri1Zq75wPcWLZNEpvf24rZfav9+ctQGt"
#define RSA1024 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDlpDtYaYk+LULgblFwkunnnN/jMsUCWYwevwy9aM0prjofiUvXNIbC80bIi6JK6IGvLTan9KQ34HQ3SQvyR0nYUSdHmRHlx7w5V7r9MDXswejBe5R8X6Yap53atA41KzVootfg/n4Deh9Jpo1Xxx2DoSRYjKUYWKn2itHupqYzfw=="
/* sk-* keys built by hand and checked with `ssh-keygen -l -f`
 * (ED25519-SK, ECDSA-SK); the second has the ECDSA256 point. */
#define SK_ED25519 "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAAAABHNzaDo="
#define SK_ECDSA "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBPoIQM33u20JmRglebu+QAfDyKmhhBNFxPzYgjJMjGenUQvixwmj3RJz5IueIkiTs3SQ56Gj22j5LwDeNT9QNHoAAAAEc3NoOg=="
/* The base64 of ED25519 alone. */
#define ED25519_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k"

static char out[SSHKEY_LINE_MAX + 1];
static char why[SSHKEY_WHY_MAX];

/* sshkey_check on a C string. */
static int
check(const char *line, int allow)
{
	out[0] = why[0] = '\0';
	return sshkey_check(line, strlen(line), allow, out, sizeof(out), why,
	    sizeof(why));
}

/* Accepted, its output is `want`, and that output is a fixed point. */
#define ACCEPT(line, allow, want) do { \
	char again_[SSHKEY_LINE_MAX + 1], w2_[SSHKEY_WHY_MAX]; \
	if (check((line), (allow)) != 0) \
		fprintf(stderr, "  refused: %s\n", why); \
	ASSERT(check((line), (allow)) == 0); \
	ASSERT_STR_EQ(out, (want)); \
	ASSERT(sshkey_check(out, strlen(out), (allow), again_, \
	    sizeof(again_), w2_, sizeof(w2_)) == 0); \
	ASSERT_STR_EQ(again_, out); \
} while (0)

/* Refused, with a reason holding `reason`, and nothing but printable
 * ASCII in the reason. */
#define REFUSE(line, len, allow, reason) do { \
	size_t i_; \
	out[0] = why[0] = '\0'; \
	ASSERT(sshkey_check((line), (len), (allow), out, sizeof(out), why, \
	    sizeof(why)) == -1); \
	if (strstr(why, (reason)) == NULL) \
		fprintf(stderr, "  reason: \"%s\"\n", why); \
	ASSERT(strstr(why, (reason)) != NULL); \
	for (i_ = 0; why[i_]; i_++) \
		ASSERT(why[i_] >= 0x20 && why[i_] <= 0x7e); \
} while (0)
#define REFUSE_S(line, allow, reason) REFUSE(line, strlen(line), allow, reason)

/* Append an RFC 4253 string to b at *n. */
static void
put_str(unsigned char *b, size_t *n, const void *s, size_t len)
{
	b[*n] = (unsigned char)(len >> 24);
	b[*n + 1] = (unsigned char)(len >> 16);
	b[*n + 2] = (unsigned char)(len >> 8);
	b[*n + 3] = (unsigned char)len;
	memcpy(b + *n + 4, s, len);
	*n += 4 + len;
}

/* "type base64(blob)" into line. */
static void
make_line(char *line, size_t cap, const char *type, const unsigned char *b,
    size_t n)
{
	size_t tl = strlen(type);

	memcpy(line, type, tl);
	line[tl] = ' ';
	if (b64_ntop(b, n, line + tl + 1, cap - tl - 1) < 0)
		line[0] = '\0';
}

/* The ED25519 blob, decoded. */
static size_t
ed25519_blob(unsigned char *b, size_t cap)
{
	int n = b64_pton(ED25519_B64, b, cap);

	return n < 0 ? 0 : (size_t)n;
}

TEST(accepts_each_type)
{
	char t[64];

	ACCEPT(ED25519, 0, ED25519);
	ACCEPT(ECDSA256, 0, ECDSA256);
	ACCEPT(ECDSA384, 0, ECDSA384);
	ACCEPT(ECDSA521, 0, ECDSA521);
	ACCEPT(RSA2048, 0, RSA2048);
	ASSERT_STR_EQ(sshkey_type(ECDSA384, t, sizeof(t)), "ecdsa-sha2-nistp384");
	ASSERT_STR_EQ(sshkey_type(RSA2048, t, sizeof(t)), "ssh-rsa");
	ASSERT_STR_EQ(sshkey_type(RSA2048, t, 4), "ssh");
}

/* sk-* keys per OpenSSH's PROTOCOL.u2f: the ed25519 key plus the
 * application, and the nistp256 point plus the application. */
TEST(accepts_security_keys)
{
	unsigned char b[512], pk[32], q[65];
	char line[1024], t[64];
	size_t n = 0;

	ACCEPT(SK_ED25519 " yubikey", 0, SK_ED25519 " yubikey");
	ACCEPT(SK_ECDSA, 0, SK_ECDSA);
	memset(pk, 0x5a, sizeof(pk));
	put_str(b, &n, "sk-ssh-ed25519@openssh.com", 26);
	put_str(b, &n, pk, sizeof(pk));
	put_str(b, &n, "ssh:", 4);
	make_line(line, sizeof(line), "sk-ssh-ed25519@openssh.com", b, n);
	ACCEPT(line, 0, line);
	ASSERT_STR_EQ(sshkey_type(line, t, sizeof(t)),
	    "sk-ssh-ed25519@openssh.com");

	n = 0;
	memset(q, 0x33, sizeof(q));
	q[0] = 0x04;
	put_str(b, &n, "sk-ecdsa-sha2-nistp256@openssh.com", 34);
	put_str(b, &n, "nistp256", 8);
	put_str(b, &n, q, sizeof(q));
	put_str(b, &n, "ssh:", 4);
	make_line(line, sizeof(line), "sk-ecdsa-sha2-nistp256@openssh.com", b, n);
	ACCEPT(line, 0, line);

	/* The same without its application: truncated. */
	n = 0;
	put_str(b, &n, "sk-ecdsa-sha2-nistp256@openssh.com", 34);
	put_str(b, &n, "nistp256", 8);
	put_str(b, &n, q, sizeof(q));
	make_line(line, sizeof(line), "sk-ecdsa-sha2-nistp256@openssh.com", b, n);
	REFUSE_S(line, 0, "truncated");
}

TEST(comment_kept_and_spaces_normalised)
{
	ACCEPT(ED25519 " jane@laptop", 0, ED25519 " jane@laptop");
	ACCEPT("   " ED25519 "    jane@laptop  ", 0, ED25519 " jane@laptop");
	ACCEPT("ssh-ed25519    " ED25519_B64, 0, ED25519);
	/* Spaces inside the comment are the comment's own. */
	ACCEPT(ED25519 " Jane Doe  (laptop)", 0, ED25519 " Jane Doe  (laptop)");
}

TEST(refuses_command_option)
{
	REFUSE_S("command=\"/bin/sh\" " ED25519, 0, "option command= is not allowed");
	REFUSE_S("command=\"/bin/sh\" " ED25519, 1, "option command= is not allowed");
	/* Named even behind an allowlisted option. */
	REFUSE_S("no-pty,command=\"/bin/sh\" " ED25519, 1,
	    "option command= is not allowed");
	REFUSE_S("from=\"10.0.0.1\",COMMAND=\"id\" " ED25519, 0,
	    "option command= is not allowed");
	REFUSE_S("environment=\"LD_PRELOAD=/tmp/x\" " ED25519, 1,
	    "option environment= is not allowed");
	REFUSE_S("cert-authority " ED25519, 1, "option cert-authority is not allowed");
	REFUSE_S("permitopen=\"host:22\" " ED25519, 1,
	    "option permitopen= is not allowed");
}

TEST(options_need_allow_options)
{
	REFUSE_S("from=\"10.0.0.0/8\" " ED25519, 0,
	    "option from= is not allowed (ssh_keys_allow_options is off)");
	REFUSE_S("no-pty " ED25519, 0, "option no-pty is not allowed");
	ACCEPT("from=\"10.0.0.0/8,*.example.com,!bad.example.com\" " ED25519 " c",
	    1, "from=\"10.0.0.0/8,*.example.com,!bad.example.com\" " ED25519 " c");
	ACCEPT("NO-PTY,restrict,No-X11-Forwarding,expiry-time=\"20301231\"   "
	    ED25519, 1, "no-pty,restrict,no-X11-forwarding,"
	    "expiry-time=\"20301231\" " ED25519);
	ACCEPT("no-port-forwarding,no-agent-forwarding,no-user-rc " ED25519, 1,
	    "no-port-forwarding,no-agent-forwarding,no-user-rc " ED25519);
}

TEST(refuses_bad_options)
{
	char t[64];

	REFUSE_S("frobnicate " ED25519, 1, "unknown option frobnicate");
	REFUSE_S("no-pty,no-pty " ED25519, 1, "option no-pty given twice");
	REFUSE_S("no-pty=\"x\" " ED25519, 1, "option no-pty takes no value");
	REFUSE_S("from=10.0.0.1 " ED25519, 1,
	    "option from= needs a value in double quotes");
	REFUSE_S(",no-pty " ED25519, 1, "an option is empty");
	REFUSE_S("from=\"a b\" " ED25519, 1, "option from= needs");
	REFUSE_S("from=\"\" " ED25519, 1, "option from= needs");
	REFUSE_S("from=\"a\\\"b\" " ED25519, 1, "quote");
	REFUSE_S("expiry-time=\"2030\" " ED25519, 1, "expiry-time=");
	REFUSE_S("from=\"10.0.0.1 " ED25519, 1, "quote");
	ACCEPT("from=\"10.0.0.1\" " ED25519, 1, "from=\"10.0.0.1\" " ED25519);
	ASSERT_STR_EQ(sshkey_type(out, t, sizeof(t)), "ssh-ed25519");
}

TEST(refuses_control_bytes)
{
	static const char nul[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\0AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k";

	REFUSE_S(ED25519 "\ncommand=\"/bin/sh\" " ED25519, 0, "line break");
	REFUSE_S(ED25519 "\r", 0, "carriage return");
	REFUSE_S(ED25519 " jane\rcommand", 1, "carriage return");
	REFUSE(nul, sizeof(nul) - 1, 0, "NUL byte");
	REFUSE_S(ED25519 " ja\x01ne", 0, "control byte");
	REFUSE_S("ssh-ed25519\t" ED25519_B64, 0, "control byte");
	REFUSE_S(ED25519 " j\xc3\xa4ne", 0, "not ASCII");
	REFUSE_S(ED25519 " \x7f", 0, "control byte");
}

TEST(refuses_mismatched_type)
{
	REFUSE_S("ssh-rsa " ED25519_B64, 0,
	    "type ssh-rsa but the key data says ssh-ed25519");
	REFUSE_S("ecdsa-sha2-nistp256 " ED25519_B64, 0,
	    "type ecdsa-sha2-nistp256 but the key data says ssh-ed25519");
	/* A curve named in the type but another in the blob. */
	REFUSE_S("ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAyNTYAAABBBPoIQM33u20JmRglebu+QAfDyKmhhBNFxPzYgjJMjGenUQvixwmj3RJz5IueIkiTs3SQ56Gj22j5LwDeNT9QNHo=",
	    0, "another curve");
}

TEST(refuses_short_rsa)
{
	REFUSE_S(RSA1024, 0, "RSA key of 1024 bits, at least 2048 required");
	REFUSE_S(RSA1024 " c", 1, "RSA key of 1024 bits");
}

TEST(refuses_long_line)
{
	char *big = malloc(10240 + 1);

	ASSERT(big != NULL);
	memcpy(big, ED25519 " ", sizeof(ED25519));
	memset(big + sizeof(ED25519), 'x', 10240 - sizeof(ED25519));
	big[10240] = '\0';
	out[0] = why[0] = '\0';
	if (sshkey_check(big, 10240, 1, out, sizeof(out), why, sizeof(why)) != -1 ||
	    strstr(why, "longer than 8192 bytes") == NULL) {
		fprintf(stderr, "  reason: \"%s\"\n", why);
		free(big);
		ASSERT(0);
	}
	/* A comment of 300 bytes is also refused, in a line well under. */
	big[sizeof(ED25519) + 300] = '\0';
	out[0] = why[0] = '\0';
	if (sshkey_check(big, strlen(big), 1, out, sizeof(out), why,
	    sizeof(why)) != -1 || strstr(why, "comment") == NULL) {
		free(big);
		ASSERT(0);
	}
	free(big);
}

TEST(refuses_broken_blobs)
{
	unsigned char b[256];
	char line[512];
	size_t n = ed25519_blob(b, sizeof(b));

	ASSERT(n == 51);
	REFUSE_S("ssh-ed25519 AAAA!!!!", 0, "not valid base64");
	REFUSE_S("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv", 0,
	    "not valid base64");
	/* Non-zero padding bits: not the one encoding of the blob. */
	REFUSE_S("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPoIQM33u20JmRglebu+QAfDyKmhhBNFxPzYgjJMjGenUQvixwmj3RJz5IueIkiTs3SQ56Gj22j5LwDeNT9QNHp=", 0,
	    "not valid base64");
	/* A space splits the key data (b64_pton would skip it): the rest
	 * is the comment, and the key is cut short. */
	REFUSE_S("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k", 0,
	    "truncated");
	REFUSE_S("ssh-ed25519", 0, "key data is missing");
	REFUSE_S("", 0, "empty");
	REFUSE_S("   ", 0, "empty");
	/* Truncated: the key's last byte cut. */
	make_line(line, sizeof(line), "ssh-ed25519", b, n - 1);
	REFUSE_S(line, 0, "truncated");
	/* Trailing bytes after the key. */
	b[n] = 0;
	make_line(line, sizeof(line), "ssh-ed25519", b, n + 1);
	REFUSE_S(line, 0, "1 bytes after the key");
	/* ed25519 with a 31-byte key. */
	n = 0;
	put_str(b, &n, "ssh-ed25519", 11);
	put_str(b, &n, "0123456789012345678901234567890", 31);
	make_line(line, sizeof(line), "ssh-ed25519", b, n);
	REFUSE_S(line, 0, "ed25519 key of 31 bytes, 32 required");
	/* A string length past the end. */
	n = 0;
	put_str(b, &n, "ssh-ed25519", 11);
	put_str(b, &n, "01234567890123456789012345678901", 32);
	b[18] = 0x7f;
	make_line(line, sizeof(line), "ssh-ed25519", b, n);
	REFUSE_S(line, 0, "truncated");
}

TEST(refuses_other_types)
{
	REFUSE_S("ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSo=",
	    0, "key type ssh-dss is not accepted");
	REFUSE_S("ssh-foo AAAAB3NzaC1kc3MAAACBAP1", 0, "unknown key type ssh-foo");
	REFUSE_S("x", 0, "unknown key type x");
	REFUSE_S("no-pty", 1, "unknown key type no-pty");
	REFUSE_S("restrict ssh-dss AAAAB3NzaC1kc3MAAACBAP1", 1,
	    "key type ssh-dss is not accepted");
}

/* Reasons never quote the line, even a hostile one. */
TEST(reason_never_quotes_line)
{
	REFUSE_S("evil$(reboot) " ED25519, 1, "an unknown option");
	ASSERT(strstr(why, "reboot") == NULL);
	REFUSE_S("ssh-$(reboot) AAAAB3Nza", 1, "unknown key type");
	ASSERT(strstr(why, "reboot") == NULL);
}

TEST(small_buffers)
{
	char small[16], w[8];

	ASSERT(sshkey_check(ED25519, strlen(ED25519), 0, small, sizeof(small),
	    w, sizeof(w)) == -1);
	ASSERT(strlen(w) < sizeof(w));
	ASSERT(sshkey_check("", 0, 0, small, sizeof(small), NULL, 0) == -1);
}

int
main(void)
{
	RUN(accepts_each_type);
	RUN(accepts_security_keys);
	RUN(comment_kept_and_spaces_normalised);
	RUN(refuses_command_option);
	RUN(options_need_allow_options);
	RUN(refuses_bad_options);
	RUN(refuses_control_bytes);
	RUN(refuses_mismatched_type);
	RUN(refuses_short_rsa);
	RUN(refuses_long_line);
	RUN(refuses_broken_blobs);
	RUN(refuses_other_types);
	RUN(reason_never_quotes_line);
	RUN(small_buffers);
	return test_done();
}
