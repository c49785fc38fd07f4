/*
 * snapshot_refs.h - a snapshot's cdb data section without its derived
 * references, and the references put back (fleet deltas, issue 12).
 *
 * In format 3 the by-ID records ('u' UID, 'G' GID) hold no copy of the
 * entry, only the file offset of its by-name record ('p', 'g').  Those
 * offsets follow from the records themselves, but one user added near the
 * start of the file moves every later offset, so a binary delta between
 * two generations would carry every one of them.  The fleet therefore
 * ships the data section with each reference zeroed ("stripped"), and the
 * subscriber recomputes them ("filled") before rebuilding the cdb file;
 * the signed SHA-256 of the whole file then checks the result.
 *
 * Both work in place on the data section (the records `u32 klen | u32
 * vlen | key | value` from offset SNAP_CDB_TOC of the file), with every
 * length checked.  In format 2 the by-ID records are full copies, not
 * references: both functions find the meta record's version and leave
 * such a section alone.  libc only.
 */
#ifndef OKTA_SNAPSHOT_REFS_H
#define OKTA_SNAPSHOT_REFS_H

#include <stddef.h>

/* Zero every reference.  0, or -1 (errno EPROTO) when a record runs past
 * the end or there is no meta record. */
int snap_refs_strip(unsigned char *data, size_t len);

/* Set every reference to the offset of the by-name record of its ID.
 * 0, or -1 (errno EPROTO) on a malformed section or a reference whose ID
 * no record has; ENOMEM. */
int snap_refs_fill(unsigned char *data, size_t len);

#endif
