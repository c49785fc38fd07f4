/*
 * cdbdata.h - a snapshot reduced to its cdb data section, and rebuilt
 * from it (issue 12).
 *
 * A cdb file is its 2048-byte table of contents, the data section (each
 * record `u32 klen | u32 vlen | key | value`, little-endian, in the order
 * they were added), then the hash tables, which hold a hash and a file
 * position for every record.  The tables are a function of the records
 * and their order: tinycdb's cdb_make, given the same records in the same
 * order, writes the same file.  They are also random-looking bytes (about
 * 16 bytes a record) that no compressor shrinks, and inserting one record
 * moves every later position in them, so a binary delta of the whole file
 * is large.  The fleet therefore ships the data section only, and the
 * subscriber rebuilds the file; the publisher offers this encoding only
 * after rebuilding its own file and finding it byte for byte the same,
 * and the subscriber checks the result against the signed SHA-256.
 *
 * The shipped data section also has its by-ID references zeroed
 * (common/snapshot_refs.h: offsets that one inserted record would all
 * move); the subscriber fills them in before rebuilding.  That section
 * is the "cdb-data" payload.
 */
#ifndef OKTA_CDBDATA_H
#define OKTA_CDBDATA_H

#include <stddef.h>

/* Where the data section of file[0..len) lies: [*start, *end), checked
 * against the table of contents (every table within the file, none
 * before the end of the data).  0, or -1 when it is not such a file. */
int cdbdata_section(const unsigned char *file, size_t len, size_t *start,
    size_t *end);

/*
 * Rebuild the cdb file whose data section is data[0..len): every record
 * parsed with bounds checks, added through cdb_make in order.  0 with a
 * malloc'd *out of *outlen bytes, or -1 with a sentence in err (a record
 * that runs past the end, or the bytes after the last one).
 */
int cdbdata_rebuild(const unsigned char *data, size_t len,
    unsigned char **out, size_t *outlen, char *err, size_t errlen);

/* The cdb-data payload of a snapshot file: a malloc'd copy of its data
 * section, references stripped.  0, or -1 when it is not such a file. */
int cdbdata_payload(const unsigned char *file, size_t len,
    unsigned char **out, size_t *outlen);

/* The snapshot file from a cdb-data payload (whose references it fills
 * in, in place): malloc'd into *out.  0, or -1 with a sentence in err. */
int cdbdata_file(unsigned char *payload, size_t len, unsigned char **out,
    size_t *outlen, char *err, size_t errlen);

#endif
