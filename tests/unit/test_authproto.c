/*
 * test_authproto.c - the auth socket's wire format (common/authproto.h):
 * each message round trip (the conversation issue 11 prescribes), every
 * refusal of the decoder (magic, version, type, direction, flags, length,
 * field framing, duplicate, unknown and missing tags, NUL, bad UTF-8,
 * control characters, overlong fields, values out of range) built by
 * hand, error sentences that never quote a secret, and frame I/O over
 * socketpairs with peers that split writes, announce 1 GB, stay silent,
 * or hang up mid-frame.
 *
 *   test_authproto                run the tests
 *   test_authproto --seeds DIR    write the fuzz seeds (encoder output)
 *                                 into DIR (tests/fuzz/corpus_authproto)
 */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "testlib.h"
#include "authproto.h"

static unsigned char fb[AUTHPROTO_FRAME_MAX + 64];
static size_t fblen;
static struct authproto_msg m;
static char err[AUTHPROTO_ERR_MAX];

/* ---- A hand frame builder, to make frames the encoder never would. ---- */

static void
b16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
b32(unsigned char *p, uint32_t v)
{
	b16(p, v & 0xffff);
	b16(p + 2, v >> 16);
}

static void
fb_start(int type)
{
	memcpy(fb, "OKAP", 4);
	fb[4] = 1;
	fb[5] = (unsigned char)type;
	b16(fb + 6, 0);
	fblen = AUTHPROTO_HEADER_LEN;
	b32(fb + 8, 0);
}

static void
fb_field(unsigned tag, const void *v, size_t len)
{
	b16(fb + fblen, tag);
	b16(fb + fblen + 2, (unsigned)len);
	memcpy(fb + fblen + 4, v, len);
	fblen += 4 + len;
	b32(fb + 8, (uint32_t)(fblen - AUTHPROTO_HEADER_LEN));
}

static void
fb_str(unsigned tag, const char *s)
{
	fb_field(tag, s, strlen(s));
}

static void
fb_u32(unsigned tag, uint32_t v)
{
	unsigned char b[4];

	b32(b, v);
	fb_field(tag, b, 4);
}

static void
fb_u8(unsigned tag, unsigned v)
{
	unsigned char b = (unsigned char)v;

	fb_field(tag, &b, 1);
}

/* A good HELLO, with field `skip` left out and `user` as the user. */
static void
fb_hello(unsigned skip, const char *user)
{
	fb_start(AUTHPROTO_HELLO);
	if (skip != 1)
		fb_str(1, "0.1.0");
	if (skip != 2)
		fb_str(2, "sshd");
	if (skip != 3)
		fb_str(3, user);
	if (skip != 4)
		fb_str(4, "203.0.113.9");
	if (skip != 5)
		fb_str(5, "ssh");
}

static void
fb_prompt(uint32_t id, unsigned style, unsigned kind, const char *text)
{
	fb_start(AUTHPROTO_PROMPT);
	fb_u32(1, id);
	fb_u8(2, style);
	fb_u8(3, kind);
	fb_str(4, text);
}

static int
dec(int dir)
{
	err[0] = '\0';
	return authproto_decode(fb, fblen, dir, &m, err, sizeof(err));
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

/* Refused with errno e and a sentence holding `why`; *m wiped. */
#define REFUSED(dir, e, why) do { \
	ASSERT_INT_EQ(dec(dir), -1); \
	if (strstr(err, (why)) == NULL) \
		fprintf(stderr, "  err: \"%s\"\n", err); \
	ASSERT_INT_EQ(errno, (e)); \
	ASSERT(strstr(err, (why)) != NULL); \
	ASSERT(all_zero(&m, sizeof(m))); \
} while (0)

#define D AUTHPROTO_TO_DAEMON
#define M AUTHPROTO_TO_MODULE

/* ---- Round trips ---------------------------------------------------- */

TEST(roundtrip_hello)
{
	ASSERT_INT_EQ(authproto_encode_hello(fb, sizeof(fb), &fblen, "sshd",
	    "jane", "2001:db8::1", "ssh", err, sizeof(err)), 0);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_INT_EQ(m.type, AUTHPROTO_HELLO);
	ASSERT_STR_EQ(m.hello.client, OKTA_VERSION);
	ASSERT_STR_EQ(m.hello.service, "sshd");
	ASSERT_STR_EQ(m.hello.user, "jane");
	ASSERT_STR_EQ(m.hello.rhost, "2001:db8::1");
	ASSERT_STR_EQ(m.hello.tty, "ssh");
	/* No PAM_RHOST or PAM_TTY (su from a script): sent empty. */
	ASSERT_INT_EQ(authproto_encode_hello(fb, sizeof(fb), &fblen, "su",
	    "jane", NULL, NULL, err, sizeof(err)), 0);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_STR_EQ(m.hello.rhost, "");
	ASSERT_STR_EQ(m.hello.tty, "");
	/* The module refuses it: it is not the module's to decode. */
	REFUSED(M, EPROTO, "HELLO is not sent to the module");
}

TEST(roundtrip_answer)
{
	char big[AUTHPROTO_ANSWER_MAX + 1];

	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 7,
	    "correct horse", err, sizeof(err)), 0);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_INT_EQ(m.type, AUTHPROTO_ANSWER);
	ASSERT_INT_EQ(m.answer.prompt_id, 7);
	ASSERT_STR_EQ(m.answer.text, "correct horse");
	/* "press Enter for a push": empty. */
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen,
	    0xffffffffu, "", err, sizeof(err)), 0);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_INT_EQ(m.answer.prompt_id, 0xffffffffu);
	ASSERT_STR_EQ(m.answer.text, "");
	/* A Latin-1 password is the user's bytes: passed as they are. */
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 2,
	    "p\xe4ss\x1b", err, sizeof(err)), 0);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_STR_EQ(m.answer.text, "p\xe4ss\x1b");
	/* The longest answer. */
	memset(big, 'x', AUTHPROTO_ANSWER_MAX);
	big[AUTHPROTO_ANSWER_MAX] = '\0';
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 3, big,
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_INT_EQ(strlen(m.answer.text), AUTHPROTO_ANSWER_MAX);
	authproto_wipe(&m, sizeof(m));
	ASSERT(all_zero(&m, sizeof(m)));
}

TEST(roundtrip_cancel)
{
	ASSERT_INT_EQ(authproto_encode_cancel(fb, sizeof(fb), &fblen, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(fblen, AUTHPROTO_HEADER_LEN);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_INT_EQ(m.type, AUTHPROTO_CANCEL);
	/* CANCEL has no fields: any is refused. */
	fb_start(AUTHPROTO_CANCEL);
	fb_u32(1, 1);
	REFUSED(D, EPROTO, "CANCEL: unknown field tag 1");
}

/* The conversation of issue 11, as the daemon sends it. */
TEST(roundtrip_prompt)
{
	static const struct {
		int style, kind;
		const char *text;
	} conv[] = {
		{ AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_PASSWORD, "Okta password: " },
		{ AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_MFA,
		    "Okta Verify code, or press Enter for a push: " },
		{ AUTHPROTO_ECHO_ON, AUTHPROTO_KIND_CONFIRM,
		    "Tap 42 in Okta Verify, then press Enter: " },
		{ AUTHPROTO_INFO, AUTHPROTO_KIND_OTHER,
		    "Open https://example.okta.com/activate\nand enter WDJB-MJHT" },
		{ AUTHPROTO_ERROR, AUTHPROTO_KIND_OTHER, "Push rejected \xe2\x9c\x97" },
	};
	size_t i;

	for (i = 0; i < sizeof(conv) / sizeof(conv[0]); i++) {
		ASSERT_INT_EQ(authproto_encode_prompt(fb, sizeof(fb), &fblen,
		    (uint32_t)i + 1, conv[i].style, conv[i].kind, conv[i].text,
		    err, sizeof(err)), 0);
		ASSERT_INT_EQ(dec(M), 0);
		ASSERT_INT_EQ(m.type, AUTHPROTO_PROMPT);
		ASSERT_INT_EQ(m.prompt.prompt_id, i + 1);
		ASSERT_INT_EQ(m.prompt.style, conv[i].style);
		ASSERT_INT_EQ(m.prompt.kind, conv[i].kind);
		ASSERT_STR_EQ(m.prompt.text, conv[i].text);
	}
	REFUSED(D, EPROTO, "PROMPT is not sent to the daemon");
}

TEST(roundtrip_result)
{
	int c;

	for (c = AUTHPROTO_SUCCESS; c <= AUTHPROTO_SERVICE_ERR; c++) {
		ASSERT_INT_EQ(authproto_encode_result(fb, sizeof(fb), &fblen, c,
		    c == AUTHPROTO_SUCCESS, c == AUTHPROTO_AUTH_ERR ?
		    "Wrong password or code." : NULL, err, sizeof(err)), 0);
		ASSERT_INT_EQ(dec(M), 0);
		ASSERT_INT_EQ(m.type, AUTHPROTO_RESULT);
		ASSERT_INT_EQ(m.result.code, c);
		ASSERT_INT_EQ(m.result.offline, c == AUTHPROTO_SUCCESS);
		ASSERT_STR_EQ(m.result.message, c == AUTHPROTO_AUTH_ERR ?
		    "Wrong password or code." : "");
	}
	ASSERT_STR_EQ(authproto_type_name(AUTHPROTO_RESULT), "RESULT");
	ASSERT_STR_EQ(authproto_type_name(9), "unknown");
}

/* Fields in any order: the decoder does not depend on the encoder's. */
TEST(fields_in_any_order)
{
	fb_start(AUTHPROTO_RESULT);
	fb_str(3, "Welcome");
	fb_u8(2, 0);
	fb_u8(1, AUTHPROTO_SUCCESS);
	ASSERT_INT_EQ(dec(M), 0);
	ASSERT_INT_EQ(m.result.code, AUTHPROTO_SUCCESS);
	ASSERT_STR_EQ(m.result.message, "Welcome");
}

/* ---- The frame's header --------------------------------------------- */

TEST(refuses_bad_header)
{
	fb_hello(0, "jane");
	ASSERT_INT_EQ(dec(D), 0);
	fb[0] = 'G';
	REFUSED(D, EPROTO, "bad magic");
	fb_hello(0, "jane");
	fb[4] = 2;
	REFUSED(D, EPROTONOSUPPORT, "version 2, this side version 1");
	fb_hello(0, "jane");
	fb[4] = 0;
	REFUSED(D, EPROTONOSUPPORT, "version 0");
	fb_hello(0, "jane");
	fb[5] = 0x04;
	REFUSED(D, EPROTO, "unknown message type 0x04");
	fb_hello(0, "jane");
	fb[5] = 0;
	REFUSED(D, EPROTO, "unknown message type 0x00");
	fb_hello(0, "jane");
	fb[7] = 0x80;
	REFUSED(D, EPROTO, "HELLO: unknown flags 0x8000");
	fb_hello(0, "jane");
	fb[6] = 1;
	REFUSED(D, EPROTO, "unknown flags 0x0001");
	/* Shorter than a header. */
	fblen = AUTHPROTO_HEADER_LEN - 1;
	REFUSED(D, EPROTO, "shorter than its 12-byte header");
}

TEST(refuses_bad_length)
{
	uint32_t plen;

	/* Over the limit, whatever follows: EMSGSIZE. */
	fb_hello(0, "jane");
	b32(fb + 8, AUTHPROTO_PAYLOAD_MAX + 1);
	REFUSED(D, EMSGSIZE, "announces a 8193-byte payload");
	b32(fb + 8, 0xffffffffu);
	REFUSED(D, EMSGSIZE, "over the 8192-byte limit");
	ASSERT_INT_EQ(authproto_check_header(fb, &plen, err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	/* Exactly the limit passes the header check. */
	b32(fb + 8, AUTHPROTO_PAYLOAD_MAX);
	ASSERT_INT_EQ(authproto_check_header(fb, &plen, err, sizeof(err)), 0);
	ASSERT_INT_EQ(plen, AUTHPROTO_PAYLOAD_MAX);
	/* Announced length and frame disagree: trailing bytes, or short. */
	fb_hello(0, "jane");
	fblen++;
	REFUSED(D, EPROTO, "HELLO: the frame has 48 bytes after its header, "
	    "it announces 47");
	fb_hello(0, "jane");
	fblen--;
	REFUSED(D, EPROTO, "the frame has 46 bytes after its header");
}

/* ---- Fields --------------------------------------------------------- */

TEST(refuses_field_framing)
{
	/* A field running past the payload. */
	fb_hello(0, "jane");
	b16(fb + fblen - 3 - 2, 200);   /* tty's len: 3 -> 200 */
	REFUSED(D, EPROTO, "HELLO: field tag 5 runs past the end");
	/* A field header cut off: 2 stray bytes at the end. */
	fb_hello(0, "jane");
	fb[fblen] = 1;
	fb[fblen + 1] = 0;
	fblen += 2;
	b32(fb + 8, (uint32_t)(fblen - AUTHPROTO_HEADER_LEN));
	REFUSED(D, EPROTO, "a field header is cut off");
	/* The length field says 4, the u32 is 4: a u32 of 3 bytes. */
	fb_start(AUTHPROTO_ANSWER);
	fb_field(1, "\x01\x00\x00", 3);
	fb_str(2, "pw");
	REFUSED(D, EPROTO, "ANSWER: field prompt_id has 3 bytes, not 4");
	fb_start(AUTHPROTO_RESULT);
	fb_field(1, "\x01\x00", 2);
	fb_u8(2, 0);
	fb_str(3, "");
	REFUSED(M, EPROTO, "RESULT: field code has 2 bytes, not 1");
}

TEST(refuses_unknown_duplicate_missing)
{
	fb_hello(0, "jane");
	fb_str(6, "x");
	REFUSED(D, EPROTO, "HELLO: unknown field tag 6");
	fb_hello(0, "jane");
	fb_field(0, "", 0);
	REFUSED(D, EPROTO, "HELLO: unknown field tag 0");
	fb_hello(0, "jane");
	fb_str(3, "bob");
	REFUSED(D, EPROTO, "HELLO: field user given twice");
	fb_start(AUTHPROTO_ANSWER);
	fb_u32(1, 1);
	fb_u32(1, 2);
	fb_str(2, "pw");
	REFUSED(D, EPROTO, "ANSWER: field prompt_id given twice");
	fb_hello(3, "jane");
	REFUSED(D, EPROTO, "HELLO: field user is missing");
	fb_hello(5, "jane");
	REFUSED(D, EPROTO, "HELLO: field tty is missing");
	fb_start(AUTHPROTO_ANSWER);
	fb_u32(1, 1);
	REFUSED(D, EPROTO, "ANSWER: field text is missing");
	fb_start(AUTHPROTO_RESULT);
	fb_u8(1, AUTHPROTO_SUCCESS);
	fb_str(3, "");
	REFUSED(M, EPROTO, "RESULT: field offline is missing");
}

TEST(refuses_bad_strings)
{
	char s[AUTHPROTO_RHOST_MAX + 2];

	/* NUL inside a string. */
	fb_start(AUTHPROTO_HELLO);
	fb_str(1, "0.1.0");
	fb_field(2, "sshd\0x", 6);
	fb_str(3, "jane");
	fb_str(4, "");
	fb_str(5, "");
	REFUSED(D, EPROTO, "HELLO: field service holds a NUL byte");
	fb_start(AUTHPROTO_ANSWER);
	fb_u32(1, 1);
	fb_field(2, "hunter\0002", 8);
	REFUSED(D, EPROTO, "ANSWER: field text holds a NUL byte");
	fb_start(AUTHPROTO_PROMPT);
	fb_u32(1, 1);
	fb_u8(2, AUTHPROTO_ECHO_OFF);
	fb_u8(3, 0);
	fb_field(4, "Okta\0password:", 14);
	REFUSED(M, EPROTO, "PROMPT: field text holds a NUL byte");
	/* User names as names.h says; what was typed is not a user. */
	fb_hello(0, "Jane");
	REFUSED(D, EPROTO, "HELLO: field user has upper-case letters");
	fb_hello(0, "../etc");
	REFUSED(D, EPROTO, "HELLO: field user does not start");
	fb_hello(0, "jane@example.com");
	REFUSED(D, EPROTO, "HELLO: field user contains '@'");
	fb_hello(0, "");
	REFUSED(D, EPROTO, "HELLO: field user has 0 bytes, 1..32 allowed");
	fb_hello(0, "abcdefghijklmnopqrstuvwxyzabcdefg");
	REFUSED(D, EPROTO, "HELLO: field user has 33 bytes");
	fb_hello(0, "abcdefghijklmnopqrstuvwxyzabcdef");
	ASSERT_INT_EQ(dec(D), 0);
	/* Terminal control in what the module will show. */
	fb_prompt(1, AUTHPROTO_INFO, 0, "\x1b]0;pwned\x07Okta password:");
	REFUSED(M, EPROTO, "PROMPT: field text holds a control character");
	fb_prompt(1, AUTHPROTO_INFO, 0, "\xc2\x9b" "2J");
	REFUSED(M, EPROTO, "field text holds a control character");
	fb_prompt(1, AUTHPROTO_INFO, 0, "caf\xe9");
	REFUSED(M, EPROTO, "PROMPT: field text is not valid UTF-8");
	fb_prompt(1, AUTHPROTO_INFO, 0, "over\xc0\xaflong");
	REFUSED(M, EPROTO, "not valid UTF-8");
	fb_prompt(1, AUTHPROTO_INFO, 0, "");
	REFUSED(M, EPROTO, "PROMPT: field text has 0 bytes, 1..512 allowed");
	/* '\n' is fine in a text, not in a line (rhost). */
	fb_start(AUTHPROTO_HELLO);
	fb_str(1, "0.1.0");
	fb_str(2, "sshd");
	fb_str(3, "jane");
	fb_str(4, "evil\nhost");
	fb_str(5, "");
	REFUSED(D, EPROTO, "HELLO: field rhost holds a control character");
	/* Over each bound by one. */
	memset(s, 'h', sizeof(s) - 1);
	s[AUTHPROTO_RHOST_MAX + 1] = '\0';
	fb_start(AUTHPROTO_HELLO);
	fb_str(1, "0.1.0");
	fb_str(2, "sshd");
	fb_str(3, "jane");
	fb_str(4, s);
	fb_str(5, "");
	REFUSED(D, EPROTO, "HELLO: field rhost has 256 bytes, 0..255 allowed");
}

TEST(refuses_overlong_prompt_answer_message)
{
	static char s[AUTHPROTO_ANSWER_MAX + 2];

	memset(s, 'a', AUTHPROTO_PROMPT_MAX + 1);
	s[AUTHPROTO_PROMPT_MAX + 1] = '\0';
	fb_prompt(1, AUTHPROTO_INFO, 0, s);
	REFUSED(M, EPROTO, "PROMPT: field text has 513 bytes, 1..512");
	fb_start(AUTHPROTO_RESULT);
	fb_u8(1, AUTHPROTO_AUTH_ERR);
	fb_u8(2, 0);
	fb_str(3, s);
	REFUSED(M, EPROTO, "RESULT: field message has 513 bytes, 0..512");
	s[AUTHPROTO_PROMPT_MAX] = '\0';
	fb_prompt(1, AUTHPROTO_INFO, 0, s);
	ASSERT_INT_EQ(dec(M), 0);
	memset(s, 'a', AUTHPROTO_ANSWER_MAX + 1);
	s[AUTHPROTO_ANSWER_MAX + 1] = '\0';
	fb_start(AUTHPROTO_ANSWER);
	fb_u32(1, 1);
	fb_str(2, s);
	REFUSED(D, EPROTO, "ANSWER: field text has 1025 bytes, 0..1024");
}

TEST(refuses_values_out_of_range)
{
	fb_prompt(1, 0, 0, "x");
	REFUSED(M, EPROTO, "PROMPT: field style is 0, outside 1..4");
	fb_prompt(1, 5, 0, "x");
	REFUSED(M, EPROTO, "field style is 5");
	fb_prompt(1, AUTHPROTO_INFO, 4, "x");
	REFUSED(M, EPROTO, "PROMPT: field kind is 4, outside 0..3");
	fb_prompt(0, AUTHPROTO_INFO, 0, "x");
	REFUSED(M, EPROTO, "PROMPT: field prompt_id is 0");
	/* A password prompt that would echo the password. */
	fb_prompt(1, AUTHPROTO_ECHO_ON, AUTHPROTO_KIND_PASSWORD, "Okta password:");
	REFUSED(M, EPROTO, "a password prompt must not echo");
	fb_start(AUTHPROTO_RESULT);
	fb_u8(1, 0);
	fb_u8(2, 0);
	fb_str(3, "");
	REFUSED(M, EPROTO, "RESULT: field code is 0, outside 1..8");
	fb_start(AUTHPROTO_RESULT);
	fb_u8(1, 9);
	fb_u8(2, 0);
	fb_str(3, "");
	REFUSED(M, EPROTO, "field code is 9");
	fb_start(AUTHPROTO_RESULT);
	fb_u8(1, AUTHPROTO_SUCCESS);
	fb_u8(2, 2);
	fb_str(3, "");
	REFUSED(M, EPROTO, "RESULT: field offline is 2, outside 0..1");
	fb_start(AUTHPROTO_ANSWER);
	fb_u32(1, 0);
	fb_str(2, "pw");
	REFUSED(D, EPROTO, "ANSWER: field prompt_id is 0");
}

/* The encoders refuse what the decoder would, and never quote a secret. */
TEST(encoder_refusals)
{
	static char s[AUTHPROTO_ANSWER_MAX + 2];
	unsigned char small[16];

	fblen = 99;
	ASSERT_INT_EQ(authproto_encode_hello(fb, sizeof(fb), &fblen, "sshd",
	    "Jane.Doe@example.com", NULL, NULL, err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_STR_EQ(err, "HELLO: field user has upper-case letters");
	ASSERT_INT_EQ(fblen, 99);
	ASSERT_INT_EQ(authproto_encode_hello(fb, sizeof(fb), &fblen, NULL,
	    "jane", NULL, NULL, err, sizeof(err)), -1);
	ASSERT(strstr(err, "field service has too few bytes") != NULL);
	ASSERT_INT_EQ(authproto_encode_prompt(fb, sizeof(fb), &fblen, 1,
	    AUTHPROTO_ECHO_ON, AUTHPROTO_KIND_PASSWORD, "Okta password:", err,
	    sizeof(err)), -1);
	ASSERT_INT_EQ(authproto_encode_prompt(fb, sizeof(fb), &fblen, 1,
	    AUTHPROTO_INFO, 0, "bell\a", err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "PROMPT: field text holds a control character");
	ASSERT_INT_EQ(authproto_encode_result(fb, sizeof(fb), &fblen, 0, 0,
	    "", err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "RESULT: field code is 0, outside 1..8");
	/* A 1025-byte secret: refused, not a byte of it in the sentence. */
	memset(s, 'S', AUTHPROTO_ANSWER_MAX + 1);
	memcpy(s, "hunter2", 7);
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 1, s,
	    err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "ANSWER: field text has too many bytes, 0..1024 "
	    "allowed");
	ASSERT(strstr(err, "hunter2") == NULL);
	/* The caller's buffer too small: EMSGSIZE, nothing written. */
	memset(small, 0xee, sizeof(small));
	ASSERT_INT_EQ(authproto_encode_answer(small, sizeof(small), &fblen, 1,
	    "hunter2", err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	ASSERT(small[0] == 0xee && small[15] == 0xee);
	ASSERT(strstr(err, "hunter2") == NULL);
}

/* A refused ANSWER never quotes the secret, and wipes what it decoded. */
TEST(decoder_never_echoes_secret)
{
	fb_start(AUTHPROTO_ANSWER);
	fb_str(2, "hunter2-secret");
	fb_u32(1, 1);
	ASSERT_INT_EQ(dec(D), 0);
	ASSERT_STR_EQ(m.answer.text, "hunter2-secret");
	fb_u32(9, 1);                   /* then an unknown field */
	REFUSED(D, EPROTO, "ANSWER: unknown field tag 9");
	ASSERT(strstr(err, "hunter2") == NULL);
	fb_start(AUTHPROTO_ANSWER);
	fb_str(2, "hunter2-secret");
	fb_str(2, "hunter2-secret");
	REFUSED(D, EPROTO, "given twice");
	ASSERT(strstr(err, "hunter2") == NULL);
}

/* ---- I/O ------------------------------------------------------------ */

static int sv[2];

static int
pair(void)
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static void
unpair(void)
{
	close(sv[0]);
	close(sv[1]);
}

/* Wait for child pid: its exit status, or -1 when it did not exit. */
static int
reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Until the peer has read everything fd sent (SIOCOUTQ 0), or 5 s. */
static void
wait_drained(int fd)
{
	int64_t dl = authproto_deadline(5000);
	int q = 1;

	while (authproto_deadline(0) < dl && ioctl(fd, SIOCOUTQ, &q) == 0 &&
	    q > 0)
		(void)poll(NULL, 0, 1);
}

TEST(io_roundtrip)
{
	unsigned char buf[AUTHPROTO_FRAME_MAX];
	size_t len;

	ASSERT(pair() == 0);
	ASSERT_INT_EQ(authproto_encode_prompt(fb, sizeof(fb), &fblen, 1,
	    AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_PASSWORD, "Okta password: ", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(authproto_write_frame(sv[0], fb, fblen,
	    authproto_deadline(2000), err, sizeof(err)), 0);
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 1,
	    "pw", err, sizeof(err)), 0);
	/* Two frames back to back: each read takes exactly one. */
	ASSERT_INT_EQ(authproto_write_frame(sv[0], fb, fblen,
	    authproto_deadline(2000), err, sizeof(err)), 0);
	ASSERT_INT_EQ(authproto_recv(sv[1], M, authproto_deadline(2000), &m,
	    err, sizeof(err)), 1);
	ASSERT_STR_EQ(m.prompt.text, "Okta password: ");
	ASSERT_INT_EQ(authproto_read_frame(sv[1], buf, sizeof(buf),
	    authproto_deadline(2000), &len, err, sizeof(err)), 1);
	ASSERT_INT_EQ(len, fblen);
	ASSERT(memcmp(buf, fb, len) == 0);
	/* Then the peer hangs up between frames: 0, not an error. */
	close(sv[0]);
	ASSERT_INT_EQ(authproto_recv(sv[1], D, authproto_deadline(2000), &m,
	    err, sizeof(err)), 0);
	close(sv[1]);
}

/* A pipe is not a socket: read and write instead of recv and send. */
TEST(io_over_pipe)
{
	int p[2];

	ASSERT(pipe(p) == 0);
	ASSERT_INT_EQ(authproto_encode_result(fb, sizeof(fb), &fblen,
	    AUTHPROTO_AUTHINFO_UNAVAIL, 1, "Okta is unreachable", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(authproto_write_frame(p[1], fb, fblen,
	    authproto_deadline(2000), err, sizeof(err)), 0);
	ASSERT_INT_EQ(authproto_recv(p[0], M, authproto_deadline(2000), &m,
	    err, sizeof(err)), 1);
	ASSERT_INT_EQ(m.result.code, AUTHPROTO_AUTHINFO_UNAVAIL);
	ASSERT_INT_EQ(m.result.offline, 1);
	close(p[0]);
	close(p[1]);
}

/* The peer sends one frame in 6 pieces, each read before the next is
 * sent: the reader must put them together. */
TEST(io_split_writes)
{
	static const size_t cuts[] = { 1, 5, 11, 12, 20, 0 };
	size_t i, at = 0, next;
	pid_t pid;

	ASSERT_INT_EQ(authproto_encode_hello(fb, sizeof(fb), &fblen, "login",
	    "jane", "", "tty1", err, sizeof(err)), 0);
	ASSERT(pair() == 0);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			next = cuts[i] ? cuts[i] : fblen;
			if (write(sv[0], fb + at, next - at) !=
			    (ssize_t)(next - at))
				_exit(1);
			at = next;
			wait_drained(sv[0]);
		}
		_exit(0);
	}
	close(sv[0]);
	ASSERT_INT_EQ(authproto_recv(sv[1], D, authproto_deadline(5000), &m,
	    err, sizeof(err)), 1);
	ASSERT_STR_EQ(m.hello.service, "login");
	ASSERT_STR_EQ(m.hello.tty, "tty1");
	close(sv[1]);
	ASSERT_INT_EQ(reap(pid), 0);
}

/* A frame larger than the socket buffer, written while the buffer is
 * full: the writer must wait for room and carry on through short sends
 * while the peer drains it 100 bytes at a time.  (The frame is all
 * header and filler: write_frame and read_frame move bytes, they do not
 * decode.) */
TEST(io_short_writes)
{
	static unsigned char big[AUTHPROTO_FRAME_MAX];
	unsigned char junk[512];
	int sz = 4096;
	size_t filled = 0, i;
	ssize_t r;
	pid_t pid;

	ASSERT(pair() == 0);
	ASSERT(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == 0);
	memset(junk, 'j', sizeof(junk));
	while ((r = send(sv[0], junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		filled += (size_t)r;
	ASSERT(filled > 0);
	fb_start(AUTHPROTO_PROMPT);
	memcpy(big, fb, AUTHPROTO_HEADER_LEN);
	b32(big + 8, AUTHPROTO_PAYLOAD_MAX);
	for (i = AUTHPROTO_HEADER_LEN; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		static unsigned char got_frame[AUTHPROTO_FRAME_MAX];
		unsigned char b[100];
		size_t got = 0, len = 0;

		close(sv[0]);
		/* Drain the junk 100 bytes at a time, then the frame. */
		while (got < filled) {
			r = read(sv[1], b, filled - got < sizeof(b) ?
			    filled - got : sizeof(b));
			if (r <= 0)
				_exit(2);
			got += (size_t)r;
		}
		if (authproto_read_frame(sv[1], got_frame, sizeof(got_frame),
		    authproto_deadline(5000), &len, err, sizeof(err)) != 1 ||
		    len != sizeof(big) || memcmp(got_frame, big, len) != 0) {
			fprintf(stderr, "  child: %s\n", err);
			_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	ASSERT_INT_EQ(authproto_write_frame(sv[0], big, sizeof(big),
	    authproto_deadline(5000), err, sizeof(err)), 0);
	close(sv[0]);
	ASSERT_INT_EQ(reap(pid), 0);
}

/* A peer announcing 1 GB: refused from the header, nothing of the
 * payload read (the bytes after the header are still in the socket). */
TEST(io_refuses_oversize_announce)
{
	unsigned char buf[AUTHPROTO_FRAME_MAX], rest[8];
	size_t len = 0;

	ASSERT(pair() == 0);
	fb_start(AUTHPROTO_HELLO);
	b32(fb + 8, 1u << 30);
	memcpy(fb + AUTHPROTO_HEADER_LEN, "NEXT", 4);
	ASSERT(write(sv[0], fb, AUTHPROTO_HEADER_LEN + 4) ==
	    AUTHPROTO_HEADER_LEN + 4);
	ASSERT_INT_EQ(authproto_read_frame(sv[1], buf, sizeof(buf),
	    authproto_deadline(2000), &len, err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	ASSERT_STR_EQ(err, "HELLO: announces a 1073741824-byte payload, over "
	    "the 8192-byte limit");
	ASSERT(recv(sv[1], rest, sizeof(rest), MSG_DONTWAIT) == 4);
	ASSERT(memcmp(rest, "NEXT", 4) == 0);
	/* Within the limit but over the caller's buffer: the same. */
	ASSERT_INT_EQ(authproto_encode_prompt(fb, sizeof(fb), &fblen, 1,
	    AUTHPROTO_INFO, 0, "a prompt longer than the buffer", err,
	    sizeof(err)), 0);
	ASSERT(write(sv[0], fb, fblen) == (ssize_t)fblen);
	ASSERT_INT_EQ(authproto_read_frame(sv[1], buf, 20,
	    authproto_deadline(2000), &len, err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	unpair();
}

/* A peer that never writes, or stops mid-frame: ETIMEDOUT at the
 * deadline (100 ms; the assertion is the error, not the time). */
TEST(io_timeout)
{
	unsigned char buf[AUTHPROTO_FRAME_MAX];
	size_t len;
	pid_t pid;

	ASSERT(pair() == 0);
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 1,
	    "hunter2", err, sizeof(err)), 0);
	/* In a child with a 10 s alarm: a reader that ignores the deadline
	 * fails here instead of hanging the suite. */
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		alarm(10);
		if (authproto_read_frame(sv[1], buf, sizeof(buf),
		    authproto_deadline(100), &len, err, sizeof(err)) != -1 ||
		    errno != ETIMEDOUT ||
		    strstr(err, "no complete frame before the deadline") == NULL)
			_exit(1);
		/* Then most of a frame, and silence. */
		if (write(sv[0], fb, fblen - 3) != (ssize_t)fblen - 3)
			_exit(2);
		if (authproto_read_frame(sv[1], buf, sizeof(buf),
		    authproto_deadline(100), &len, err, sizeof(err)) != -1 ||
		    errno != ETIMEDOUT || strstr(err, "hunter2") != NULL)
			_exit(3);
		/* What it had read of the secret is wiped. */
		if (!all_zero(buf, fblen - 3))
			_exit(4);
		_exit(0);
	}
	ASSERT_INT_EQ(reap(pid), 0);
	unpair();
}

TEST(io_write_timeout)
{
	unsigned char junk[512];
	int sz = 4096;
	pid_t pid;

	ASSERT(pair() == 0);
	ASSERT(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == 0);
	memset(junk, 'j', sizeof(junk));
	while (send(sv[0], junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	ASSERT_INT_EQ(authproto_encode_cancel(fb, sizeof(fb), &fblen, err,
	    sizeof(err)), 0);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		alarm(10);      /* as in io_timeout */
		if (authproto_write_frame(sv[0], fb, fblen,
		    authproto_deadline(100), err, sizeof(err)) != -1 ||
		    errno != ETIMEDOUT)
			_exit(1);
		_exit(0);
	}
	ASSERT_INT_EQ(reap(pid), 0);
	unpair();
}

TEST(io_eof_mid_frame)
{
	unsigned char buf[AUTHPROTO_FRAME_MAX];
	size_t len;

	/* In the payload. */
	ASSERT(pair() == 0);
	ASSERT_INT_EQ(authproto_encode_answer(fb, sizeof(fb), &fblen, 1,
	    "hunter2", err, sizeof(err)), 0);
	ASSERT(write(sv[0], fb, fblen - 1) == (ssize_t)fblen - 1);
	close(sv[0]);
	ASSERT_INT_EQ(authproto_read_frame(sv[1], buf, sizeof(buf),
	    authproto_deadline(2000), &len, err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT(strstr(err, "closed the connection in the middle of a frame "
	    "(30 of 31 bytes)") != NULL);
	close(sv[1]);
	/* In the header. */
	ASSERT(pair() == 0);
	ASSERT(write(sv[0], fb, 5) == 5);
	close(sv[0]);
	ASSERT_INT_EQ(authproto_recv(sv[1], D, authproto_deadline(2000), &m,
	    err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT(strstr(err, "(5 of 12 bytes)") != NULL);
	close(sv[1]);
}

/* Garbage (an HTTP client on the socket) and a frame that decodes badly
 * are errors of recv, and *m is left empty. */
TEST(io_garbage)
{
	ASSERT(pair() == 0);
	ASSERT(write(sv[0], "GET / HTTP/1.1\r\n\r\n", 18) == 18);
	ASSERT_INT_EQ(authproto_recv(sv[1], D, authproto_deadline(2000), &m,
	    err, sizeof(err)), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT(strstr(err, "bad magic") != NULL);
	ASSERT_INT_EQ(m.type, 0);
	unpair();
	ASSERT(pair() == 0);
	fb_hello(2, "jane");
	ASSERT(write(sv[0], fb, fblen) == (ssize_t)fblen);
	ASSERT_INT_EQ(authproto_recv(sv[1], D, authproto_deadline(2000), &m,
	    err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "HELLO: field service is missing");
	ASSERT(all_zero(&m, sizeof(m)));
	unpair();
}

/* Writing to a peer that is gone: EPIPE, and no SIGPIPE (checked in a
 * child, which SIGPIPE would kill). */
TEST(io_no_sigpipe)
{
	pid_t pid;

	ASSERT(pair() == 0);
	close(sv[1]);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (authproto_encode_cancel(fb, sizeof(fb), &fblen, err,
		    sizeof(err)) != 0)
			_exit(2);
		if (authproto_write_frame(sv[0], fb, fblen,
		    authproto_deadline(2000), err, sizeof(err)) != -1 ||
		    errno != EPIPE)
			_exit(1);
		_exit(0);
	}
	close(sv[0]);
	ASSERT_INT_EQ(reap(pid), 0);
}

/* ---- Fuzz seeds ----------------------------------------------------- */

static int
seed(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(fb, 1, fblen, f) != fblen ||
	    fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static int
write_seeds(const char *dir)
{
	size_t n;
	int r = 0;

#define SEED(call, name) do { \
	if ((call) != 0 || seed(dir, name) != 0) \
		r = -1; \
} while (0)
	SEED(authproto_encode_hello(fb, sizeof(fb), &fblen, "sshd", "jane",
	    "203.0.113.9", "ssh", err, sizeof(err)), "hello");
	SEED(authproto_encode_answer(fb, sizeof(fb), &fblen, 1, "hunter2", err,
	    sizeof(err)), "answer");
	SEED(authproto_encode_answer(fb, sizeof(fb), &fblen, 2, "", err,
	    sizeof(err)), "answer-empty");
	SEED(authproto_encode_cancel(fb, sizeof(fb), &fblen, err, sizeof(err)),
	    "cancel");
	SEED(authproto_encode_prompt(fb, sizeof(fb), &fblen, 1,
	    AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_PASSWORD, "Okta password: ", err,
	    sizeof(err)), "prompt-password");
	SEED(authproto_encode_prompt(fb, sizeof(fb), &fblen, 2,
	    AUTHPROTO_ECHO_OFF, AUTHPROTO_KIND_MFA, "Okta Verify code, or press "
	    "Enter for a push: ", err, sizeof(err)), "prompt-mfa");
	SEED(authproto_encode_prompt(fb, sizeof(fb), &fblen, 3,
	    AUTHPROTO_ECHO_ON, AUTHPROTO_KIND_CONFIRM, "Tap 42 in Okta Verify, "
	    "then press Enter: ", err, sizeof(err)), "prompt-confirm");
	SEED(authproto_encode_result(fb, sizeof(fb), &fblen, AUTHPROTO_SUCCESS,
	    1, "Logged in with the offline password", err, sizeof(err)),
	    "result-success");
	SEED(authproto_encode_result(fb, sizeof(fb), &fblen,
	    AUTHPROTO_AUTH_ERR, 0, "", err, sizeof(err)), "result-auth-err");
	/* A stream: HELLO then ANSWER then CANCEL, as the daemon reads it. */
	if (authproto_encode_hello(fb, sizeof(fb), &fblen, "sudo", "bob", NULL,
	    "/dev/pts/1", err, sizeof(err)) != 0 ||
	    authproto_encode_answer(fb + fblen, sizeof(fb) - fblen, &n, 9,
	    "123456", err, sizeof(err)) != 0)
		return -1;
	fblen += n;
	if (authproto_encode_cancel(fb + fblen, sizeof(fb) - fblen, &n, err,
	    sizeof(err)) != 0)
		return -1;
	fblen += n;
	if (seed(dir, "stream") != 0)
		r = -1;
#undef SEED
	return r;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
		return write_seeds(argv[2]) == 0 ? 0 : 1;
	RUN(roundtrip_hello);
	RUN(roundtrip_answer);
	RUN(roundtrip_cancel);
	RUN(roundtrip_prompt);
	RUN(roundtrip_result);
	RUN(fields_in_any_order);
	RUN(refuses_bad_header);
	RUN(refuses_bad_length);
	RUN(refuses_field_framing);
	RUN(refuses_unknown_duplicate_missing);
	RUN(refuses_bad_strings);
	RUN(refuses_overlong_prompt_answer_message);
	RUN(refuses_values_out_of_range);
	RUN(encoder_refusals);
	RUN(decoder_never_echoes_secret);
	RUN(io_roundtrip);
	RUN(io_over_pipe);
	RUN(io_split_writes);
	RUN(io_short_writes);
	RUN(io_refuses_oversize_announce);
	RUN(io_timeout);
	RUN(io_write_timeout);
	RUN(io_eof_mid_frame);
	RUN(io_garbage);
	RUN(io_no_sigpipe);
	return test_done();
}
