/*
 * runlog.h - the latest errors of failed syncs, for `okta-sync status`.
 *
 * A failed sync must leave cache.db and the snapshot byte-for-byte
 * unchanged (DESIGN.md rule 5), so its error cannot be recorded there.  It
 * goes to a small file of its own instead: <cache dir>/sync-errors.log,
 * mode 0600 (details may name hosts and accounts), one JSON object a line:
 *
 *     {"time":1795872878,"error":"OK_ERR_AUTH","message":"detail"}
 *
 * "error" is the okerr's name (runlog_err_name); "message" is the detail
 * the sync produced (never the token: sync.c never formats it).  Only the
 * last RUNLOG_KEEP lines are kept; each record rewrites the file through a
 * temporary file and rename(), so a reader sees the old or the new file,
 * never half of one.  Lines a reader cannot parse are skipped.
 */
#ifndef OKTA_RUNLOG_H
#define OKTA_RUNLOG_H

#include <stddef.h>

#include "error.h"

#define RUNLOG_NAME "sync-errors.log"
#define RUNLOG_KEEP 20
#define RUNLOG_LINE_MAX 4096     /* longer lines are skipped when read */

struct runlog_entry {
	long long time;          /* epoch seconds */
	char error[64];          /* "OK_ERR_..." (or whatever the file held) */
	char message[1024];      /* the detail; "" when none */
};

/*
 * Append one failure (now, rc, detail) to <cache_dir>/sync-errors.log,
 * keeping the last RUNLOG_KEEP entries.  Never fails the caller: a problem
 * (no space, read-only directory) is logged as a warning and otherwise
 * ignored.  detail may be NULL; it is cut to fit struct runlog_entry.
 * Creates cache_dir (0755) when missing, as cache_open does.
 */
void runlog_record_failure(const char *cache_dir, okerr rc, const char *detail);

/*
 * Read up to max entries of <cache_dir>/sync-errors.log into v, newest
 * first.  Returns the count (0 when the file does not exist), or -1 with
 * errno set when the file exists but cannot be read (EACCES for a
 * non-root user: the file is 0600).  Allocates nothing that outlives the
 * call.
 */
int runlog_read(const char *cache_dir, struct runlog_entry *v, size_t max);

/* The name of an okerr ("OK_ERR_AUTH"); "OK_ERR_UNKNOWN" for others. */
const char *runlog_err_name(okerr rc);

/*
 * The admin's sentence for a name stored in the log: err_sentence() of the
 * okerr named, or NULL when the name is not one this build knows.
 */
const char *runlog_err_sentence(const char *name);

#endif
