/*
 * authproto.h - the wire format of the auth socket between pam_okta.so
 * (the auth phase) and okta-syncd (the broker), issue 11: its encoders,
 * its decoder, and reading and writing one frame with a deadline.
 *
 * pam_okta links only libc and libpam, so the format is a small binary
 * one.  The daemon asks, the module prompts, the daemon decides; the
 * module relays one PROMPT and one ANSWER at a time.
 *
 * A frame (every integer little-endian, unaligned):
 *
 *   magic[4] "OKAP" | u8 version (1) | u8 type | u16 flags (0) |
 *   u32 length | payload[length]
 *
 * The payload is a sequence of fields `u16 tag | u16 len | len bytes`,
 * as in the snapshot's 'P' record.  Every field of a message appears
 * exactly once, in any order, and nothing else: an unknown tag, a tag
 * twice, a missing tag, a wrong length, a value out of range, bytes after
 * the last field, a message sent the wrong way, an unknown type, flags
 * other than 0 or another magic are refused (EPROTO); another version is
 * EPROTONOSUPPORT (okta-syncd and pam_okta from different releases); a
 * payload over AUTHPROTO_PAYLOAD_MAX is EMSGSIZE and is never read.
 *
 * Module -> daemon:
 *   HELLO  0x01  start authenticating a user
 *     1 client   pam_okta's release (OKTA_VERSION), line, 1..32 bytes
 *     2 service  PAM_SERVICE, line, 1..64
 *     3 user     PAM_USER, a valid name (names_check: 1..32 bytes): the
 *                Linux name; the daemon sends Okta the login its cache
 *                holds for it, never this
 *     4 rhost    PAM_RHOST or empty, line, 0..255
 *     5 tty      PAM_TTY or empty, line, 0..64
 *   ANSWER 0x02  the user's answer to the prompt with that id
 *     1 prompt_id  u32 (len 4), not 0
 *     2 text       SECRET, 0..1024 bytes without NUL (empty for info and
 *                  error prompts, and for "press Enter")
 *   CANCEL 0x03  no fields: the conversation failed (the user gave up)
 * Daemon -> module:
 *   PROMPT 0x81  show this, and answer it (every PROMPT gets one ANSWER)
 *     1 prompt_id  u32 (len 4), not 0
 *     2 style      u8: enum authproto_style (1..4)
 *     3 kind       u8: enum authproto_kind (0..3); a PASSWORD prompt is
 *                  ECHO_OFF (the module may answer it from PAM_AUTHTOK,
 *                  use_first_pass, and sets PAM_AUTHTOK from it)
 *     4 text       text, 1..512 bytes
 *   RESULT 0x82  the decision; the last frame of a conversation
 *     1 code       u8: enum authproto_code (1..8; 0 is never valid, so a
 *                  zeroed struct is never SUCCESS)
 *     2 offline    u8 0 or 1: an offline credential was used
 *     3 message    text, 0..512 bytes, for the user
 *
 * Strings: "line" is valid UTF-8 with no control character (C0, DEL, or
 * C1 U+0080..U+009F, which some terminals obey); "text" is the same but
 * may hold '\n'; SECRET is any bytes but NUL (a password is the user's
 * bytes: the token request form-encodes it, so refusing non-UTF-8 here
 * would turn Okta's answer into a protocol error).  User names are at
 * most NAME_MAX_LEN (32, names.h), not 256: the module sends only the
 * name of a user in the snapshot, which the sync validated the same way.
 *
 * Secrets: no error sentence ever quotes a field's bytes (only its name,
 * tag and length).  The receiver's frame buffer, the decoded struct and
 * the sender's encoded frame hold the answer: wipe them with
 * authproto_wipe (authproto_recv wipes its own frame buffer; a failed
 * decode wipes *m).
 *
 * A peer that gets another version or a refused frame closes the
 * connection (the daemon answers nothing it cannot frame); the module
 * logs the sentence and returns PAM_AUTHINFO_UNAVAIL.
 *
 * libc only (plus names.c), no allocation, no global state, no logging.
 */
#ifndef OKTA_AUTHPROTO_H
#define OKTA_AUTHPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define AUTHPROTO_MAGIC "OKAP"
#define AUTHPROTO_VERSION 1
#define AUTHPROTO_HEADER_LEN 12
#define AUTHPROTO_PAYLOAD_MAX 8192
#define AUTHPROTO_FRAME_MAX (AUTHPROTO_HEADER_LEN + AUTHPROTO_PAYLOAD_MAX)
#define AUTHPROTO_ERR_MAX 192          /* room for any error sentence */

#define AUTHPROTO_CLIENT_MAX 32
#define AUTHPROTO_SERVICE_MAX 64
#define AUTHPROTO_USER_MAX NAME_MAX_LEN
#define AUTHPROTO_RHOST_MAX 255
#define AUTHPROTO_TTY_MAX 64
#define AUTHPROTO_ANSWER_MAX 1024
#define AUTHPROTO_PROMPT_MAX 512
#define AUTHPROTO_MESSAGE_MAX 512

enum authproto_type {
	AUTHPROTO_HELLO = 0x01,
	AUTHPROTO_ANSWER = 0x02,
	AUTHPROTO_CANCEL = 0x03,
	AUTHPROTO_PROMPT = 0x81,
	AUTHPROTO_RESULT = 0x82
};

/* Who decodes: the daemon accepts only HELLO, ANSWER and CANCEL, the
 * module only PROMPT and RESULT. */
enum authproto_dir {
	AUTHPROTO_TO_DAEMON = 1,
	AUTHPROTO_TO_MODULE = 2
};

/* Mapped by the module to PAM_PROMPT_ECHO_OFF, _ON, PAM_TEXT_INFO,
 * PAM_ERROR_MSG. */
enum authproto_style {
	AUTHPROTO_ECHO_OFF = 1,
	AUTHPROTO_ECHO_ON = 2,
	AUTHPROTO_INFO = 3,
	AUTHPROTO_ERROR = 4
};

enum authproto_kind {
	AUTHPROTO_KIND_OTHER = 0,
	AUTHPROTO_KIND_PASSWORD = 1,  /* "Okta password:" */
	AUTHPROTO_KIND_MFA = 2,       /* "Okta Verify code, or press Enter..." */
	AUTHPROTO_KIND_CONFIRM = 3    /* "Tap N in Okta Verify, then press Enter:" */
};

/* Ours, mapped to PAM codes by the module in one function. */
enum authproto_code {
	AUTHPROTO_SUCCESS = 1,
	AUTHPROTO_AUTH_ERR = 2,
	AUTHPROTO_USER_UNKNOWN = 3,
	AUTHPROTO_AUTHINFO_UNAVAIL = 4,
	AUTHPROTO_MAXTRIES = 5,
	AUTHPROTO_ACCT_EXPIRED = 6,
	AUTHPROTO_PERM_DENIED = 7,
	AUTHPROTO_SERVICE_ERR = 8
};

/* A decoded message.  Strings are copied, NUL-terminated; the enums are
 * held in ints. */
struct authproto_msg {
	int type;                      /* enum authproto_type; 0: none */
	union {
		struct {
			char client[AUTHPROTO_CLIENT_MAX + 1];
			char service[AUTHPROTO_SERVICE_MAX + 1];
			char user[AUTHPROTO_USER_MAX + 1];
			char rhost[AUTHPROTO_RHOST_MAX + 1];
			char tty[AUTHPROTO_TTY_MAX + 1];
		} hello;
		struct {
			uint32_t prompt_id;
			char text[AUTHPROTO_ANSWER_MAX + 1];   /* secret */
		} answer;
		struct {
			uint32_t prompt_id;
			int style;             /* enum authproto_style */
			int kind;              /* enum authproto_kind */
			char text[AUTHPROTO_PROMPT_MAX + 1];
		} prompt;
		struct {
			int code;              /* enum authproto_code */
			int offline;
			char message[AUTHPROTO_MESSAGE_MAX + 1];
		} result;
	};
};

/*
 * The encoders write one whole frame (header and payload) into out,
 * which has outlen bytes (AUTHPROTO_FRAME_MAX is always enough), and its
 * length into *len.  They check every field as the decoder does, so a
 * sender's bug shows at the sender.  0, or -1 with a sentence in err that
 * names the field (never its bytes) and errno EINVAL, or EMSGSIZE when
 * outlen is too small; out is then untouched.  A NULL rhost or tty is
 * sent empty.  The frame of an ANSWER holds the secret: wipe it.
 */
int authproto_encode_hello(unsigned char *out, size_t outlen, size_t *len,
    const char *service, const char *user, const char *rhost,
    const char *tty, char *err, size_t errlen);
int authproto_encode_answer(unsigned char *out, size_t outlen, size_t *len,
    uint32_t prompt_id, const char *text, char *err, size_t errlen);
int authproto_encode_cancel(unsigned char *out, size_t outlen, size_t *len,
    char *err, size_t errlen);
int authproto_encode_prompt(unsigned char *out, size_t outlen, size_t *len,
    uint32_t prompt_id, int style, int kind, const char *text, char *err,
    size_t errlen);
int authproto_encode_result(unsigned char *out, size_t outlen, size_t *len,
    int code, int offline, const char *message, char *err, size_t errlen);

/*
 * Check a frame's fixed header hdr[0..AUTHPROTO_HEADER_LEN): magic,
 * version, a known type, flags 0, length at most AUTHPROTO_PAYLOAD_MAX.
 * 0 with the payload's length in *payload_len, or -1 with errno EPROTO,
 * EPROTONOSUPPORT or EMSGSIZE and a sentence in err.
 */
int authproto_check_header(const unsigned char *hdr, uint32_t *payload_len,
    char *err, size_t errlen);

/*
 * Decode the complete frame frame[0..len) (header included; nothing may
 * follow it) sent towards dir into *m.  0, or -1 with errno EPROTO,
 * EPROTONOSUPPORT or EMSGSIZE and a sentence in err; *m is then wiped
 * (all zero, type 0).  Can't fail otherwise.
 */
int authproto_decode(const unsigned char *frame, size_t len, int dir,
    struct authproto_msg *m, char *err, size_t errlen);

/* CLOCK_MONOTONIC now + timeout_ms, in ms: the deadline the I/O
 * functions take.  Can't fail. */
int64_t authproto_deadline(int timeout_ms);

/*
 * Read exactly one frame from fd (a stream socket or a pipe; blocking or
 * not) into buf (buflen >= AUTHPROTO_HEADER_LEN), waiting with poll until
 * the deadline.  It reads the header, checks it (authproto_check_header),
 * then exactly the announced payload: never a byte of the next frame, and
 * nothing of a payload over AUTHPROTO_PAYLOAD_MAX or buflen.  EINTR is
 * retried.  Returns 1 with the frame's length in *len (decode it with
 * authproto_decode); 0 when the peer closed before the first byte; or -1
 * with a sentence in err and errno ETIMEDOUT, EPROTO (a bad header, or
 * the peer closed mid-frame), EPROTONOSUPPORT, EMSGSIZE, or that of poll
 * or recv.  On -1 the bytes read so far are wiped.
 */
int authproto_read_frame(int fd, unsigned char *buf, size_t buflen,
    int64_t deadline, size_t *len, char *err, size_t errlen);

/*
 * authproto_read_frame then authproto_decode into *m, through a frame
 * buffer of its own that it wipes.  1, 0 or -1 as authproto_read_frame
 * (and authproto_decode's errors).
 */
int authproto_recv(int fd, int dir, int64_t deadline,
    struct authproto_msg *m, char *err, size_t errlen);

/*
 * Write buf[0..len) to fd, waiting with poll until the deadline,
 * through short writes and EINTR.  On a socket it uses send with
 * MSG_NOSIGNAL, so a closed peer is EPIPE and not SIGPIPE (on a pipe,
 * write, and SIGPIPE is the caller's).  0, or -1 with a sentence in err
 * and errno ETIMEDOUT, EPIPE, or that of poll or send.
 */
int authproto_write_frame(int fd, const unsigned char *buf, size_t len,
    int64_t deadline, char *err, size_t errlen);

/* The name of a type ("HELLO"), or "unknown".  Can't fail. */
const char *authproto_type_name(int type);

/* Wipe p[0..n) with explicit_bzero, which the compiler may not drop.
 * p NULL is fine.  Can't fail. */
void authproto_wipe(void *p, size_t n);

#endif
