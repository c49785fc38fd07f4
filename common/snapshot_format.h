/*
 * snapshot_format.h - the on-disk layout of the snapshot (format version 1).
 *
 * Private to common/snapshot_*.c (and the tests that forge bad files); the
 * rest of the tree uses snapshot.h.
 *
 * The file is a tinycdb database (cdb: a 2048-byte table of contents, the
 * data section of records `klen vlen key value`, then the hash tables).
 * Every integer below is little-endian and unaligned; strings carry a
 * 16-bit length and no NUL.  Every key starts with one type byte:
 *
 *   key "M"                  the meta record (exactly one):
 *       magic[8] "OKTASNAP" | u32 format_version | u32 flags (0) |
 *       i64 last_sync | u64 generation | u32 nusers | u32 ngroups |
 *       u32 pw_first | u32 pw_end | u32 gr_first | u32 gr_end
 *       (56 bytes; a reader refuses another magic or version: EPROTO).
 *       pw_first..pw_end is the part of the data section that holds every
 *       'p' record (file offsets, end exclusive; 0..0 when there is none),
 *       gr_first..gr_end the same for 'g' records: enumeration walks only
 *       that part, not the whole file.
 *
 *   key 'p' NAME             a passwd record, by user name
 *   key 'u' u32 UID          the same passwd record, by UID
 *       u32 uid | u32 gid | u8 status (enum okta_status) | u8 pad[3] |
 *       str name | str gecos | str dir | str shell
 *
 *   key 'g' NAME             a group record, by group name
 *   key 'G' u32 GID          the same group record, by GID
 *       u32 gid | u32 nmembers | str name | nmembers * str member
 *
 *   key 'i' NAME             a user's supplementary GIDs, for initgroups:
 *       u32 gid * n          (ascending, no duplicates, n = vlen / 4)
 *
 *   where str is u16 len | len bytes.
 *
 * Enumeration (getpwent, getgrent) walks the data section in file order
 * between the meta record's bounds and returns the 'p' and 'g' records;
 * the enumeration position is the byte offset of the next record.  The writer adds records in
 * the order it is handed them.
 *
 * What the reader checks on every record, whatever the file holds: each
 * length fits in what is left of the record (by subtraction); names are
 * non-empty; no field holds a NUL, ':' or '\n' (names no ','); no UID or
 * GID is 0 or 0xffffffff; the name or ID inside the record equals the key
 * it was found by; group member counts are bounded by the record's length.
 * A record that fails is "corrupt" (EPROTO).  Offsets into the file are
 * checked by tinycdb (cdb_find) and by the reader's own walk (snap_*_next).
 */
#ifndef OKTA_SNAPSHOT_FORMAT_H
#define OKTA_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "OKTASNAP"
#define SNAP_MAGIC_LEN 8

#define SNAP_KEY_META 'M'
#define SNAP_KEY_PWNAM 'p'
#define SNAP_KEY_PWUID 'u'
#define SNAP_KEY_GRNAM 'g'
#define SNAP_KEY_GRGID 'G'
#define SNAP_KEY_GIDS 'i'

#define SNAP_META_LEN 56
#define SNAP_PW_FIXED 12        /* uid, gid, status, pad */
#define SNAP_GR_FIXED 8         /* gid, nmembers */
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
 * Is the field p[0..len) acceptable in a snapshot?  No NUL, ':' or '\n';
 * with `name` set also non-empty and no ','.  Returns 1 or 0; can't fail.
 * Shared by the writer (refuse) and the reader (EPROTO).
 */
int snap_field_ok(const void *p, size_t len, int name);

#endif
