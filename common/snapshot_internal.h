/*
 * snapshot_internal.h - what the reader and the refreshing handle share:
 * the struct behind the opaque `struct snap`.  Private to common/.
 */
#ifndef OKTA_SNAPSHOT_INTERNAL_H
#define OKTA_SNAPSHOT_INTERNAL_H

#include <sys/stat.h>
#include <time.h>

#include <cdb.h>

#include "snapshot.h"

struct snap {
	/* tinycdb's view of the mapping, for the records found by their cdb
	 * key (tombstones, keys, the policy): never handed to cdb_find itself
	 * (it writes into it), copy first.  Unset (cdb_mem NULL) in nss's
	 * handle, which finds records through the 'X' index only and maps
	 * the file itself (SNAP_OPEN_LOOKUPS). */
	struct cdb cdb;
	const unsigned char *mem; /* the mapping, of `size` bytes */
	uint64_t data_end;        /* the data section's end (toc[0], checked) */
	struct snap_meta meta;
	/* Where enumeration walks (see snapshot_format.h); checked at open
	 * to lie inside the data section. */
	uint32_t pw_first, pw_end, gr_first, gr_end;
	uint32_t idx_at;          /* the 'X' record, from the meta record */
	/* The 'X' index (snapshot_index.h), per table: its pilots and slots
	 * in the mapping, their counts and the table's salt, checked at open
	 * to lie inside the record; the offsets in the slots are checked at
	 * each use.  memo: a bit per slot, the record it found was
	 * well-formed (snapshot_reader.c, struct rec), allocated at the
	 * table's first lookup (table_memo). */
	const unsigned char *idx_pilots[4], *idx_slots[4];
	uint32_t idx_nb[4], idx_m[4];
	uint8_t idx_salt[4];
	uint32_t idx_seed;
	unsigned char *memo[4];
	/* The file's identity when it was opened, to notice a new one. */
	dev_t dev;
	ino_t ino;
	struct timespec mtim;
	off_t size;
	/* Users of this mapping through snap_acquire (the handle's own
	 * reference counts as one); guarded by the handle's mutex. */
	unsigned long refs;
};

/*
 * snap_open and snap_open_fd, also saying why a file was refused, for the
 * handle's log line: *st receives the file's fstat whenever it could be
 * made (st_ino 0 otherwise), so that one refused file is logged once and
 * not once per lookup; *why a sentence fragment ("is not owned by root",
 * "has meta flags this reader does not know") when the file itself was
 * refused (errno EPERM: not trusted; EPROTO: not a snapshot this reader
 * can read), NULL when the failure is the system's (ENOENT, EMFILE,
 * ENOMEM...).
 */
int snap_open_why(const char *path, int flags, struct snap **out,
    struct stat *st, const char **why);

/*
 * flags for snap_open_why: 0, or SNAP_OPEN_LOOKUPS for a snapshot that
 * only the keyed lookups, snap_user_gids and enumeration will read (nss's
 * handle).  It maps the file without tinycdb, whose cdb_init reads the
 * first page of the mapping: the table of contents is read with pread,
 * and a process that looks up one user touches one page fewer (a page
 * fault is about 30 us on a VM).  The records found by cdb key answer
 * -1 EINVAL on such a snapshot.
 */
#define SNAP_OPEN_LOOKUPS 1
int snap_open_fd_why(int fd, int flags, struct snap **out, struct stat *st,
    const char **why);

/*
 * The record of cdb key key[0..klen), found through tinycdb's tables: 1
 * with *v and *vlen pointing into the mapping, 0 not found, -1 with errno
 * EPROTO (tinycdb found the file corrupt) or EINVAL (a snapshot opened
 * SNAP_OPEN_LOOKUPS, which has no tinycdb view).  The one place the
 * reader asks tinycdb (the policy, and snap_find_named's records).
 */
int snap_find_key(const struct snap *s, const void *key, size_t klen,
    const unsigned char **v, size_t *vlen);

/*
 * The record of key type byte + name (a name that cannot be a key, empty
 * or too long, is simply not found): 1 with *v and *vlen pointing into
 * the mapping, 0 not found, -1 as snap_find_key.  For the readers of the
 * optional records (snapshot_tombstone.c, snapshot_keys.c).
 */
int snap_find_named(const struct snap *s, char type, const char *name,
    const unsigned char **v, size_t *vlen);

#endif
