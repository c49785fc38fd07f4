/*
 * cdbdata.c - a cdb file's data section, and the file rebuilt from it
 * (see cdbdata.h).
 */
#include <cdb.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbdata.h"
#include "snapshot_refs.h"

#define TOC_LEN 2048

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
cdbdata_section(const unsigned char *file, size_t len, size_t *start,
    size_t *end)
{
	size_t lowest = len;

	if (len < TOC_LEN)
		return -1;
	for (size_t i = 0; i < 256; i++) {
		uint32_t pos = le32(file + 8 * i), n = le32(file + 8 * i + 4);

		if (pos < TOC_LEN || pos > len || (uint64_t)n * 8 > len - pos)
			return -1;
		if (pos < lowest)
			lowest = pos;
	}
	*start = TOC_LEN;
	*end = lowest;
	return 0;
}

int
cdbdata_rebuild(const unsigned char *data, size_t len, unsigned char **out,
    size_t *outlen, char *err, size_t errlen)
{
	struct cdb_make cm;
	unsigned char *buf = NULL;
	size_t off = 0;
	struct stat sb;
	int fd, started = 0;

	*out = NULL;
	fd = memfd_create("okta-sync-fleet", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (cdb_make_start(&cm, fd) != 0) {
		snprintf(err, errlen, "cannot start rebuilding the snapshot: %s",
		    strerror(errno));
		goto fail;
	}
	started = 1;
	while (off < len) {
		uint32_t klen, vlen;

		if (len - off < 8) {
			snprintf(err, errlen, "the snapshot's records end in the "
			    "middle of a record header");
			goto fail;
		}
		klen = le32(data + off);
		vlen = le32(data + off + 4);
		if ((uint64_t)klen + vlen > len - off - 8) {
			snprintf(err, errlen, "a record of the snapshot runs past "
			    "its end");
			goto fail;
		}
		if (cdb_make_add(&cm, data + off + 8, klen, data + off + 8 + klen,
		    vlen) != 0) {
			snprintf(err, errlen, "cannot rebuild the snapshot: %s",
			    strerror(errno));
			goto fail;
		}
		off += 8 + (size_t)klen + vlen;
	}
	started = 0;
	if (cdb_make_finish(&cm) != 0 || fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "cannot finish rebuilding the snapshot: %s",
		    strerror(errno));
		goto fail;
	}
	buf = malloc((size_t)sb.st_size ? (size_t)sb.st_size : 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory rebuilding the snapshot");
		goto fail;
	}
	for (size_t got = 0; got < (size_t)sb.st_size;) {
		ssize_t n = pread(fd, buf + got, (size_t)sb.st_size - got,
		    (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read the rebuilt snapshot: %s",
			    n < 0 ? strerror(errno) : "short");
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*outlen = (size_t)sb.st_size;
	return 0;
fail:
	if (started)
		(void)cdb_make_finish(&cm);   /* frees its record lists */
	free(buf);
	close(fd);
	return -1;
}

int
cdbdata_payload(const unsigned char *file, size_t len, unsigned char **out,
    size_t *outlen)
{
	size_t start, end;
	unsigned char *p;

	*out = NULL;
	if (cdbdata_section(file, len, &start, &end) != 0)
		return -1;
	p = malloc(end - start ? end - start : 1);
	if (p == NULL)
		return -1;
	memcpy(p, file + start, end - start);
	if (snap_refs_strip(p, end - start) != 0) {
		free(p);
		return -1;
	}
	*out = p;
	*outlen = end - start;
	return 0;
}

int
cdbdata_file(unsigned char *payload, size_t len, unsigned char **out,
    size_t *outlen, char *err, size_t errlen)
{
	*out = NULL;
	if (snap_refs_fill(payload, len) != 0) {
		snprintf(err, errlen, "its by-ID references cannot be resolved: %s",
		    strerror(errno));
		return -1;
	}
	return cdbdata_rebuild(payload, len, out, outlen, err, errlen);
}
