/*
 * fuzz_authproto.c - libFuzzer target for the auth socket's parser
 * (common/authproto.h), which okta-syncd runs on whatever a root process
 * sends to its socket, and pam_okta on what the daemon answers.
 *
 * The input is tried two ways:
 *   - as one frame, decoded towards the daemon and towards the module;
 *   - as a byte stream: written into a socketpair (then closed) and read
 *     with authproto_recv, frame after frame, as the daemon reads one
 *     connection.
 * Besides what ASan and UBSan catch, these break the contract
 * (__builtin_trap):
 *   - a decoded message that the encoders refuse, or that does not come
 *     back the same when encoded and decoded again (the decoder accepts
 *     only what the encoder writes);
 *   - a refusal with an errno other than EPROTO, EPROTONOSUPPORT or
 *     EMSGSIZE, without a sentence, with a sentence that is not printable
 *     ASCII, or that leaves anything in the message (it must be wiped);
 *   - an authproto_recv answer other than 1, 0 or -1.
 *
 * Built and run by tests/fuzz/run.sh; seeds in tests/fuzz/corpus_authproto
 * (written by `test_authproto --seeds DIR` with the real encoders).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_refusal(const struct authproto_msg *m, const char *err)
{
	const unsigned char *p = (const unsigned char *)m;
	size_t i, n = strlen(err);

	if (errno != EPROTO && errno != EPROTONOSUPPORT && errno != EMSGSIZE)
		__builtin_trap();
	if (n == 0 || n >= AUTHPROTO_ERR_MAX - 1)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (err[i] < 0x20 || err[i] > 0x7e)
			__builtin_trap();
	for (i = 0; i < sizeof(*m); i++)
		if (p[i] != 0)
			__builtin_trap();
}

/* Encode m again with the encoders; 0, or -1 when they refuse it. */
static int
reencode(const struct authproto_msg *m, unsigned char *out, size_t *len)
{
	char err[AUTHPROTO_ERR_MAX];

	switch (m->type) {
	case AUTHPROTO_HELLO:
		/* The client field is the encoder's own release. */
		return authproto_encode_hello(out, AUTHPROTO_FRAME_MAX, len,
		    m->hello.service, m->hello.user, m->hello.rhost,
		    m->hello.tty, err, sizeof(err));
	case AUTHPROTO_ANSWER:
		return authproto_encode_answer(out, AUTHPROTO_FRAME_MAX, len,
		    m->answer.prompt_id, m->answer.text, err, sizeof(err));
	case AUTHPROTO_CANCEL:
		return authproto_encode_cancel(out, AUTHPROTO_FRAME_MAX, len,
		    err, sizeof(err));
	case AUTHPROTO_PROMPT:
		return authproto_encode_prompt(out, AUTHPROTO_FRAME_MAX, len,
		    m->prompt.prompt_id, m->prompt.style, m->prompt.kind,
		    m->prompt.text, err, sizeof(err));
	case AUTHPROTO_RESULT:
		return authproto_encode_result(out, AUTHPROTO_FRAME_MAX, len,
		    m->result.code, m->result.offline, m->result.message, err,
		    sizeof(err));
	}
	return -1;
}

static void
one_frame(const uint8_t *data, size_t size, int dir)
{
	static unsigned char out[AUTHPROTO_FRAME_MAX];
	static struct authproto_msg m, again;
	char err[AUTHPROTO_ERR_MAX];
	size_t len;

	if (authproto_decode(data, size, dir, &m, err, sizeof(err)) != 0) {
		check_refusal(&m, err);
		return;
	}
	if (reencode(&m, out, &len) != 0)
		__builtin_trap();
	if (authproto_decode(out, len, dir, &again, err, sizeof(err)) != 0)
		__builtin_trap();
	if (m.type == AUTHPROTO_HELLO)
		memcpy(again.hello.client, m.hello.client,
		    sizeof(m.hello.client));
	if (memcmp(&m, &again, sizeof(m)) != 0)
		__builtin_trap();
}

/* The input as a connection's bytes, read frame by frame. */
static void
stream(const uint8_t *data, size_t size)
{
	static struct authproto_msg m;
	char err[AUTHPROTO_ERR_MAX];
	int sv[2], r;

	/* More than a socket buffer would block the write: keep it short. */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return;
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size)
		__builtin_trap();
	close(sv[0]);
	do {
		r = authproto_recv(sv[1], AUTHPROTO_TO_DAEMON,
		    authproto_deadline(1000), &m, err, sizeof(err));
		if (r == -1)
			check_refusal(&m, err);
		else if (r != 0 && r != 1)
			__builtin_trap();
	} while (r == 1);
	close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_frame(data, size, AUTHPROTO_TO_DAEMON);
	one_frame(data, size, AUTHPROTO_TO_MODULE);
	stream(data, size);
	return 0;
}
