/*
 * okta_sync_keys.c - okta-sync-keys, sshd's AuthorizedKeysCommand: print
 * the SSH public keys an Okta user keeps in Okta, when pam_okta's account
 * decision would let that user in.
 *
 *   okta-sync-keys [--snapshot PATH] [--passwd PATH] USER
 *
 * sshd_config:
 *   AuthorizedKeysCommand /usr/libexec/okta-sync/okta-sync-keys %u
 *   AuthorizedKeysCommandUser nobody
 *
 * sshd runs it for every key a client offers, before PAM, so it must be
 * small and fast, and it must refuse exactly whom the account phase would
 * refuse: a suspended user never gets as far as the account phase with a
 * key.  It opens the snapshot once, makes the account decision of
 * common/account.c on that mapping, and reads the keys (the 'k' record)
 * from the same mapping, so that a snapshot replaced in between cannot
 * pair one file's verdict with another file's keys.
 *
 * The policy is the one the sync published in the snapshot ([pam] in
 * okta-sync.conf): this program cannot see pam_okta's module-line
 * overrides, so a site that wants keys and PAM to agree puts its policy in
 * [pam] (okta-sync-keys(8)).
 *
 * Output: only for an allowed user, each key line followed by "\n", each
 * checked again with sshkey_check() (the snapshot is untrusted input to
 * this program, and sshd trusts what it prints); a line that does not come
 * back unchanged is logged and left out.  Everything is written with one
 * flush at the end: nothing is printed unless the whole record was read.
 *
 * Exit status (sshd ignores the output of a command that fails):
 *   0  it answered: keys printed, or none (not an Okta user, root, a
 *      local account, a denied user, a user without keys)
 *   1  it could not: no usable snapshot for a name that may be an Okta
 *      user, a corrupt record, a write error, a usage error
 *
 * Logging: syslog (LOG_AUTHPRIV, ident okta-sync-keys) as pam_okta logs,
 * a denial at LOG_NOTICE with its reason, warnings and errors above it,
 * each also on stderr, which sshd shows in its debug modes.  A plain
 * "allowed" is not logged (sshd logs the key it accepts).
 * Libraries: common/ and libc only, linked static-pie (tinycdb and
 * libresolv's b64_pton too; the Makefile says why), so that it starts as
 * fast as any small program: no loader, no shared library to map.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "local_passwd.h"
#include "paths.h"
#include "snapshot.h"
#include "sshkey.h"

#define PROG "okta-sync-keys"

/* The keys of one user, pointing into the mapping. */
struct keys {
	const char *line[SNAP_KEYS_MAX];
	size_t len[SNAP_KEYS_MAX];
	size_t n;
	int too_many;
};

static void say(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* To syslog, and to stderr when it is worth a notice or worse. */
static void
say(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", msg);
	if (prio <= LOG_NOTICE)
		(void)fprintf(stderr, PROG ": %s\n", msg);
}

/* account.c's warnings on the way. */
static void
log_warning(void *ctx, int prio, const char *msg)
{
	say(prio, "%s", msg);
}

/* snap_user_keys' callback: each line is only noted here, so that nothing
 * is printed before the whole record has been read; more lines than the
 * format allows make the record corrupt. */
static int
collect(void *ctx, const char *line, size_t len)
{
	struct keys *k = ctx;

	if (k->n == SNAP_KEYS_MAX) {
		k->too_many = 1;
		return 1;
	}
	k->line[k->n] = line;
	k->len[k->n] = len;
	k->n++;
	return 0;
}

/*
 * Print the keys of the allowed `user` from s.  0, or 1 when the record
 * is corrupt (nothing printed) or stdout fails.
 */
static int
print_keys(const struct snap *s, const char *user)
{
	static char canon[SSHKEY_LINE_MAX + 1];
	struct keys k;
	char why[SSHKEY_WHY_MAX];
	const char *bad;
	size_t i;
	int r;

	memset(&k, 0, sizeof(k));
	r = snap_user_keys(s, user, collect, &k);
	if (r < 0 || k.too_many) {
		say(LOG_ERR, "user %s: no keys printed: the key record in the "
		    "Okta user cache is %s; run `okta-sync sync` to publish "
		    "a new one", user, r < 0 && errno != EPROTO ?
		    strerror(errno) : "corrupt");
		return 1;
	}
	for (i = 0; i < k.n; i++) {
		if (sshkey_check(k.line[i], k.len[i], 1, canon, sizeof(canon),
		    why, sizeof(why)) < 0) {
			bad = why;
		} else if (strlen(canon) != k.len[i] ||
		    memcmp(canon, k.line[i], k.len[i]) != 0) {
			/* The sync stores canonical lines only. */
			bad = "not in canonical form";
		} else {
			bad = NULL;
		}
		if (bad != NULL) {
			say(LOG_ERR, "user %s: key %zu of %zu in the Okta user "
			    "cache not printed: %s", user, i + 1, k.n, bad);
			continue;
		}
		(void)fwrite(k.line[i], 1, k.len[i], stdout);
		(void)putchar('\n');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		say(LOG_ERR, "user %s: cannot write the keys to sshd: %s", user,
		    strerror(errno));
		return 1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	(void)fprintf(f,
	    "usage: " PROG " [--snapshot PATH] [--passwd PATH] USER\n"
	    "\n"
	    "Print USER's SSH public keys from the Okta user cache, one per\n"
	    "line, when pam_okta's account decision would let USER in; print\n"
	    "nothing otherwise.  For sshd_config:\n"
	    "  AuthorizedKeysCommand /usr/libexec/okta-sync/" PROG " %%u\n"
	    "  AuthorizedKeysCommandUser nobody\n"
	    "\n"
	    "options:\n"
	    "  --snapshot PATH  the snapshot (default " OKTA_SNAPSHOT_PATH ")\n"
	    "  --passwd PATH    the local passwd file (default "
	    LOCAL_PASSWD_PATH ")\n"
	    "  -h, --help       this text\n"
	    "  --version        the version\n"
	    "\n"
	    "Exit status: 0 answered (keys or none), 1 no usable snapshot, a\n"
	    "corrupt record, a write error or a usage error.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "snapshot", required_argument, NULL, 's' },
		{ "passwd", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct acct_ctx c;
	struct acct_verdict v;
	struct snap *s = NULL;
	const char *user;
	int ch, rc = 0;

	memset(&c, 0, sizeof(c));
	c.snapshot = OKTA_SNAPSHOT_PATH;
	c.passwd = LOCAL_PASSWD_PATH;
	c.log = log_warning;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.snapshot = optarg;
			break;
		case 'p':
			c.passwd = optarg;
			break;
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		case 'V':
			(void)printf(PROG " " OKTA_VERSION "\n");
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 1) {
		(void)fprintf(stderr, PROG ": expected one user name\n");
		usage(stderr);
		return 1;
	}
	user = argv[optind];
	openlog(PROG, LOG_PID, LOG_AUTHPRIV);
	if (*user == '\0' || strlen(user) >= ACCT_NAME_MAX) {
		say(LOG_ERR, "the user name is empty or too long");
		return 1;
	}

	if (snap_open(c.snapshot, &s) < 0)
		acct_no_snapshot(&c, user, errno, &v);
	else
		acct_decide_snap(&c, s, user, &v);

	/* sshd runs this for every key offered, and logs the key it
	 * accepts itself: routine verdicts (root, not an Okta user, a plain
	 * "allowed") are not logged, which also spares the syslog socket
	 * on the common path.  Denials and warnings are. */
	if (v.prio >= 0 && v.prio <= LOG_NOTICE)
		say(v.prio, "user %s: %s: %s", user, v.what, v.reason);
	if (v.result == ACCT_ALLOW)
		rc = print_keys(s, user);
	else if (v.result == ACCT_DENY && (v.kind == ACCT_DENY_UNAVAILABLE ||
	    v.kind == ACCT_DENY_MISCONFIGURED))
		rc = 1;
	snap_close(s);
	closelog();
	return rc;
}
