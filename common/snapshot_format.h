/*
 * snapshot_format.h - the on-disk layout of the snapshot (format version 4).
 *
 * Private to common/snapshot_*.c (and the tests that forge bad files); the
 * rest of the tree uses snapshot.h.
 *
 * The file is a tinycdb database (cdb: a 2048-byte table of contents, the
 * data section of records `klen vlen key value`, then the hash tables).
 * Every integer below is little-endian and unaligned; strings carry a
 * 16-bit length and no NUL.  Every key starts with one type byte:
 *
 *   key "M"                  the meta record (exactly one, the last record
 *                            of the data section, where a reader finds it
 *                            without a hash lookup: at the data's end
 *                            (the first hash table, toc[0]) minus 69):
 *       magic[8] "OKTASNAP" | u32 format_version | u32 flags (0) |
 *       i64 last_sync | u64 generation | u32 nusers | u32 ngroups |
 *       u32 pw_first | u32 pw_end | u32 gr_first | u32 gr_end |
 *       u32 index_at
 *       (60 bytes; a reader refuses another magic or version, and any
 *       flags but 0, as an unknown version: EPROTO).  index_at: the file
 *       offset of the 'X' record's header, which must be a record of
 *       key "X" inside the data section.
 *       pw_first..pw_end is the part of the data section that holds every
 *       'p' record (file offsets, end exclusive; 0..0 when there is none),
 *       gr_first..gr_end the same for 'g' records: enumeration walks only
 *       that part, not the whole file.
 *
 *   key 'p' NAME             a passwd record, by user name (format 3:
 *                            the only copy of it; found through 'X')
 *       u32 uid | u32 gid | u8 status (enum okta_status) | u8 pad[3] |
 *       u32 need | u32 ngids | rest[need - len(NAME) - 1] |
 *       u32 gid * ngids
 *       need is the buffer size getpwnam_r's answer takes: the blob
 *       "name\0gecos\0dir\0shell\0", whose name is the key's (not
 *       stored twice) and whose rest, "gecos\0dir\0shell\0", is the
 *       record's.  The GIDs are the user's supplementary groups, for
 *       initgroups (ascending, no duplicates; format 2 kept them in an
 *       'i' record of their own).  vlen must be SNAP_PW_FIXED (20) +
 *       need - len(NAME) - 1 + 4 * ngids: a record whose need or ngids
 *       says otherwise lies about its size and is corrupt.  The name is
 *       checked as the other fields are, as it is copied.
 *
 *   key 'g' NAME             a group record, by group name (the only copy)
 *       u32 gid | u32 nmembers | u32 need | blob[need]
 *       blob: "name\0member\0...member\0", nmembers + 1 non-empty
 *       fields; need is vlen - SNAP_GR_FIXED (12).  The buffer an answer
 *       takes is need + (nmembers + 1) pointers + alignment, known
 *       before a byte of the members is read: a too-small buffer is
 *       answered ERANGE at once (O(1)), and the blob is checked as it
 *       is copied, so a corrupt record gives EPROTO once the caller's
 *       buffer is big enough, and that size is bounded by the record.
 *
 *   key "X"                  the index (format 4, exactly one, after the
 *                            last 'p' and 'g' record; snapshot_index.h):
 *       u32 seed | u32 nusers | u32 ngroups | u8 salt[4] | u8 pad |
 *       pad zero bytes | pwnam | pwuid | grnam | grgid
 *       Each table, of n entries (nusers for the pw tables, ngroups for
 *       the gr tables), is a perfect hash: u16 pilot[n / 4 + 1], zero
 *       bytes to a multiple of 4, then u32 slot[n + n / 8 + 1], a slot
 *       being the file offset of a 'p' (pw tables) or 'g' (gr tables)
 *       record's cdb header `klen vlen`, or 0 (empty).  A key (a name, or
 *       an ID) with hash h (snap_idx_hash_name or snap_idx_hash_id under
 *       seed) is in the slot snap_idx_slot(h, snap_idx_pilot_hash(
 *       pilot[snap_idx_bucket(h)], salt), n + n / 8 + 1) if it is in
 *       the file at all: the record there must lie inside the meta
 *       record's span of its type and be a record of that type (else
 *       corrupt); its key, or the ID its value starts with, then says
 *       whether it is the one looked up.  The pad puts the first table on
 *       a 64-byte boundary of the file.  vlen must be exactly what nusers
 *       and ngroups make, pad below 64, nusers and ngroups at most 2^30.
 *
 *   keys 'u' u32 UID, 'G' u32 GID, 'i' NAME
 *                            format 2 and 3's by-ID records and format
 *                            2's GID lists: format 4 writes none (the
 *                            index finds by ID; the GIDs are in 'p').
 *
 *   key 't' NAME             a tombstone (format 2): an Okta user who has
 *                            left the host (removed from Okta, out of
 *                            scope, deprovisioned under `remove`, rejected
 *                            after once being synced).  NSS never reads it;
 *                            pam_okta denies the name (unless local).
 *       u32 uid | u8 reason (enum snap_tomb_reason) | u8 pad[3] |
 *       i64 left_at | i64 expires | str name | str why
 *       (fixed part SNAP_TOMB_FIXED = 24 bytes).  left_at: when the sync
 *       that saw the user leave was applied (epoch s); expires: when the
 *       tombstone stops being published ([sync] tombstone_days later);
 *       why: a short sentence for the admin (may be empty).  No 't' name
 *       is also a 'p' name: a name is either on the host or gone.  The
 *       reader checks the name against the key, the strings as for 'p',
 *       and the UID against OKTA_ID_FLOOR and 0xffffffff (EPROTO).
 *
 *   key 'k' NAME             a user's SSH public keys (format 2, issue
 *                            10; snapshot_keys.c):
 *       u32 nkeys | nkeys * str line
 *       1 <= nkeys <= SNAP_KEYS_MAX; each line 1..SSHKEY_LINE_MAX bytes
 *       of printable ASCII (0x20..0x7e: no NUL, CR, LF or other control
 *       byte), nothing after the last line; NAME is a 'p' name.  Any
 *       other shape is corrupt (EPROTO), and the whole record is checked
 *       before the first line is handed out.  The writer also requires
 *       each line to be sshkey_check's canonical output (options
 *       allowed); the reader checks framing and bytes only, and whoever
 *       prints a line runs sshkey_check on it again.  Readers that
 *       predate the record ignore it (they never look it up).
 *
 *   key "P"                  the PAM policy (format 2, exactly one): the
 *                            [pam] section of okta-sync.conf as the sync
 *                            saw it, so that pam_okta never reads the
 *                            root-only config (snapshot_policy.c):
 *       u32 nfields | nfields * (u16 tag | u16 len | len bytes)
 *         tag 1  max_cache_age          i64 seconds, 0: no limit   (len 8)
 *         tag 2  stale_policy           u8 0 deny, 1 allow         (len 1)
 *         tag 3  deny_recovery          u8 0 or 1                  (len 1)
 *         tag 4  deny_password_expired  u8 0 or 1                  (len 1)
 *         tag 5  tombstone              u8 0 deny, 1 ignore        (len 1)
 *         tag 6  allowed_group          a group name (no NUL, ':',
 *                                       ',' or '\n'; 1..64 bytes), one
 *                                       field per group, at most 64
 *       Tags 1 to 5 appear exactly once, in any order.  A new setting
 *       gets a new tag; a reader refuses (EPROTO) a tag it does not know,
 *       a tag twice, a wrong length or an out-of-range value: a policy
 *       it cannot fully read might have been stricter (fail closed).
 *
 *   where str is u16 len | len bytes.
 *
 * Enumeration (getpwent, getgrent) walks the data section in file order
 * between the meta record's bounds and returns the 'p' and 'g' records;
 * the enumeration position is the byte offset of the next record.  The writer adds records in
 * the order it is handed them.
 *
 * Format 3 (issue 13) stores each passwd and group record once (format 2
 * kept a second copy under the ID key), carries each answer's buffer size
 * in the record, and moves the 'i' GID lists into the 'p' records (a
 * third of the records, and of the hash slots, fewer); the other records
 * are as in format 2.  Format 4 finds the 'p' and 'g' records through
 * the 'X' index, not through tinycdb's tables (those still find 'M',
 * 'P', 't' and 'k'), and drops format 3's 'u' and 'G' records.  A reader
 * of one version refuses the others (EPROTO, "unknown version").
 *
 * What the reader checks before it reads the file: it is a regular file
 * owned by root and not writable by group or others (common/file_trust.h;
 * else EPERM), opened O_NONBLOCK.  What it checks on every record,
 * whatever the file holds: each
 * length fits in what is left of the record (by subtraction); names are
 * non-empty; no field holds a NUL, ':' or '\n' (names no ','); a blob
 * holds exactly its fields' NULs and ends with one; the stored need
 * equals what the record's length says; no UID or
 * GID is below OKTA_ID_FLOOR (1000, names.h) or 0xffffffff, in passwd and
 * group records and in GID lists (one bad GID refuses the whole list); the
 * name or ID inside the record equals the key
 * it was found by; group member counts are bounded by the record's length.
 * A record that fails is "corrupt" (EPROTO).  Offsets into the file are
 * checked by tinycdb (cdb_find), by the reader's own walk (snap_*_next),
 * and for the index, against the span of their record type, at each use.
 */
#ifndef OKTA_SNAPSHOT_FORMAT_H
#define OKTA_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "OKTASNAP"
#define SNAP_MAGIC_LEN 8

#define SNAP_KEY_META 'M'
#define SNAP_KEY_PWNAM 'p'
#define SNAP_KEY_GRNAM 'g'
#define SNAP_KEY_INDEX 'X'      /* format 4: the lookup index */
#define SNAP_KEY_TOMB 't'       /* format 2: a user who left the host */
#define SNAP_KEY_SSHKEY 'k'     /* format 2: a user's SSH public keys */
#define SNAP_KEY_POLICY 'P'     /* format 2: the PAM policy (snapshot_policy.c) */

#define SNAP_META_LEN 60
#define SNAP_META_REC (8 + 1 + SNAP_META_LEN)   /* with klen, vlen, "M" */
#define SNAP_PW_FIXED 20        /* uid, gid, status, pad, need, ngids */
#define SNAP_GR_FIXED 12        /* gid, nmembers, need */
#define SNAP_TOMB_FIXED 24      /* uid, reason, pad, left_at, expires */
#define SNAP_STR_MAX 0xffffu    /* a field's longest length */

/* The cdb table of contents: the data section starts after it. */
#define SNAP_CDB_TOC 2048u

static inline void
snap_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void
snap_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void
snap_put64(unsigned char *p, uint64_t v)
{
	snap_put32(p, (uint32_t)v);
	snap_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
snap_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
snap_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
snap_get64(const unsigned char *p)
{
	return (uint64_t)snap_get32(p) | (uint64_t)snap_get32(p + 4) << 32;
}

/*
 * The 'P' record (snapshot_policy.c): encode *p into out, which has room
 * for SNAP_POLICY_REC_MAX bytes; *len gets the record's length.  0, or -1
 * with a sentence in err (a value out of range, a bad group name).
 */
#define SNAP_POLICY_REC_MAX (4 + 5 * 12 + \
	SNAP_POLICY_MAX_GROUPS * (4 + SNAP_POLICY_NAME_MAX))
struct snap_policy;
int snap_policy_encode(const struct snap_policy *p, unsigned char *out,
    size_t *len, char *err, size_t errlen);

/*
 * The 'k' record (snapshot_keys.c), for snap_writer_add_user_keys:
 * snap_keys_check refuses a count outside 1..SNAP_KEYS_MAX and any line
 * that sshkey_check (options allowed) would refuse or change, and gives
 * the value's length in *vlen; 0, or -1 with a sentence naming the user
 * and the key's position in err.  snap_keys_encode then writes the value
 * (*vlen bytes) into out; can't fail.
 */
int snap_keys_check(const char *user, const char *const *lines,
    size_t nlines, size_t *vlen, char *err, size_t errlen);
void snap_keys_encode(const char *const *lines, size_t nlines,
    unsigned char *out);

/*
 * Is the field p[0..len) acceptable in a snapshot?  No NUL, ':' or '\n';
 * with `name` set also non-empty and no ','.  Returns 1 or 0; can't fail.
 * Shared by the writer (refuse) and the reader (EPROTO).
 */
int snap_field_ok(const void *p, size_t len, int name);

#endif
