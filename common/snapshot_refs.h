/*
 * snapshot_refs.h - a snapshot's cdb data section without its derived
 * index, and the index put back (fleet deltas, issue 12).
 *
 * In format 4 the 'X' record (snapshot_index.h) holds, for each 'p' and
 * 'g' record, a hash tag and the record's file offset.  Those follow from
 * the records themselves and the record's seed, but one user added near
 * the start of the file moves every later offset and reshuffles the
 * tables, so a binary delta between two generations would carry all of
 * it, and the tables compress badly.  The fleet therefore ships the data
 * section with the tables zeroed ("stripped"; the record's header with
 * its seed stays), and the subscriber rebuilds them ("filled") before
 * rebuilding the cdb file; the signed SHA-256 of the whole file then
 * checks the result.
 *
 * Both work in place on the data section (the records `u32 klen | u32
 * vlen | key | value` from offset SNAP_CDB_TOC of the file), with every
 * length checked.  A section of an older format (without an index) is
 * left alone: the reader refuses such a file later, by its version.
 * libc only.
 */
#ifndef OKTA_SNAPSHOT_REFS_H
#define OKTA_SNAPSHOT_REFS_H

#include <stddef.h>

/* Zero the index's tables.  0, or -1 (errno EPROTO) when a record runs
 * past the end, or there is no meta or no index record. */
int snap_refs_strip(unsigned char *data, size_t len);

/* Rebuild the index's tables from the section's 'p' and 'g' records, as
 * the writer built them.  0, or -1 (errno EPROTO) on a malformed section
 * or an index record of another size than those records make; ENOMEM. */
int snap_refs_fill(unsigned char *data, size_t len);

#endif
