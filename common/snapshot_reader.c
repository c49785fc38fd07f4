/*
 * snapshot_reader.c - the bounds-checked snapshot reader (see snapshot.h;
 * the layout is in snapshot_format.h).
 *
 * This code runs inside every process that looks up a user, on a file that
 * is trusted by nobody.  Before anything is read, the file must be a
 * regular file owned by root and not writable by group or others
 * (file_trust.h; opened O_NONBLOCK, so a FIFO at the path cannot hang the
 * caller), its meta record must carry the known magic and version and
 * flags 0.  Then every length and offset read from the file is checked by
 * subtraction against what is left before it is used, every field is
 * checked for NUL, ':' and '\n', and every UID and GID must be at least
 * OKTA_ID_FLOOR (rule 1, defence in depth: the sync never writes a lower
 * one; a forged record with GID 27 must not make anyone a member of sudo),
 * and not (uid_t)-1, which means "no ID" to chown and setreuid.  A record
 * that fails is corrupt (EPROTO) and never partly answered.  Nothing here
 * allocates except snap_open (its struct) and an index table's first
 * lookup (the bitmap that remembers which records were found
 * well-formed), writes but to those bitmaps, or logs (the handle logs a
 * refused file, once).
 *
 * The mapping is shared between threads: tinycdb's struct cdb keeps the
 * last hit in itself, so each lookup works on its own copy of it.
 *
 * What no check can prevent: a snapshot file truncated in place while it
 * is mapped (SIGBUS on the lost pages).  The writer never does that (it
 * renames a new file over the old one), and the file is root's, 0644.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cdb.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "file_trust.h"
#include "names.h"
#include "snapshot.h"
#include "snapshot_internal.h"
#include "snapshot_format.h"
#include "snapshot_index.h"

/* An ID a record may carry: rule 1's floor, and not (uid_t)-1. */
static int
id_ok(uint32_t id)
{
	return id >= OKTA_ID_FLOOR && id != UINT32_MAX;
}

int
snap_field_ok(const void *p, size_t len, int name)
{
	const unsigned char *s = p;
	size_t i;

	if (name && len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || s[i] == ':' || s[i] == '\n' ||
		    (name && s[i] == ','))
			return 0;
	return 1;
}

/*
 * The cdb structure, from the 2 KB table of contents toc of a file of
 * fsize bytes: the data section ends inside the file, and the 256 hash
 * tables the table of contents points at lie between the data and the end
 * of the file and fill it exactly, as cdb_make writes them.  This catches
 * a truncated file whole instead of in the lookups that happen to reach
 * its tail.  0 with the data section's end in *dend_out, or -1 EPROTO.
 */
static int
check_toc(const unsigned char *toc, uint64_t fsize, uint64_t *dend_out)
{
	uint64_t dend, pos, n, total = 0;
	unsigned i;

	dend = snap_get32(toc);
	if (dend < SNAP_CDB_TOC || dend > fsize)
		goto bad;
	for (i = 0; i < 256; i++) {
		pos = snap_get32(toc + i * 8);
		n = snap_get32(toc + i * 8 + 4);
		if (n == 0)
			continue;
		if (pos < dend || pos > fsize || n > (fsize - pos) / 8)
			goto bad;
		total += n * 8;
	}
	if (total != fsize - dend)
		goto bad;
	*dend_out = dend;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* An enumeration span: empty (0, 0) or inside the data section. */
static int
span_ok(const struct snap *s, uint32_t first, uint32_t end)
{
	if (first == 0 && end == 0)
		return 1;
	return first >= SNAP_CDB_TOC && first < end && end <= s->data_end;
}

/*
 * The meta record, the data section's last (format 4): found without a
 * hash lookup, which would touch a page of the hash tables in every
 * process that looks up a user.  Read with pread rather than through the
 * mapping: its page is near the file's end, where a process that looks up
 * one user touches nothing else, and a first touch of a page is a fault
 * (about 30 us on a VM) where pread is 1-2 us.  0, or -1 EPROTO with *why.
 */
static int
read_meta(struct snap *s, int fd, const char **why)
{
	unsigned char rec[SNAP_META_REC];
	const unsigned char *m;
	uint64_t dend = s->data_end, at;

	*why = "has no valid meta record";
	if (dend < SNAP_CDB_TOC + SNAP_META_REC)
		goto bad;
	at = dend - SNAP_META_REC;
	/* Short or failed: the file shrank since its fstat, or cannot be
	 * read; either way it is not a snapshot to answer from. */
	if (pread(fd, rec, sizeof(rec), (off_t)at) != (ssize_t)sizeof(rec))
		goto bad;
	if (snap_get32(rec) != 1 || snap_get32(rec + 4) != SNAP_META_LEN ||
	    rec[8] != SNAP_KEY_META)
		goto bad;
	m = rec + 9;
	*why = "is not an okta-sync snapshot (wrong magic)";
	if (memcmp(m, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
		goto bad;
	s->meta.format_version = snap_get32(m + 8);
	*why = "has a format version this reader does not know";
	if (s->meta.format_version != SNAP_FORMAT_VERSION)
		goto bad;
	/* Flags would change how the file is read: one this reader does
	 * not know makes the file unknown, as a version would. */
	*why = "has meta flags this reader does not know";
	if (snap_get32(m + 12) != 0)
		goto bad;
	*why = "has enumeration bounds outside its data";
	s->meta.last_sync = (int64_t)snap_get64(m + 16);
	s->meta.generation = snap_get64(m + 24);
	s->meta.nusers = snap_get32(m + 32);
	s->meta.ngroups = snap_get32(m + 36);
	s->pw_first = snap_get32(m + 40);
	s->pw_end = snap_get32(m + 44);
	s->gr_first = snap_get32(m + 48);
	s->gr_end = snap_get32(m + 52);
	s->idx_at = snap_get32(m + 56);
	if (!span_ok(s, s->pw_first, s->pw_end) ||
	    !span_ok(s, s->gr_first, s->gr_end))
		goto bad;
	*why = NULL;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* The index record (snapshot_format.h): 0, or -1 EPROTO with *why (or
 * ENOMEM). */
static int
read_index(struct snap *s, const char **why)
{
	const unsigned char *mem = s->mem, *x, *tbl;
	uint64_t dend = s->data_end, at = s->idx_at, vlen, pw, gr, pad;
	uint32_t n;
	int t;

	*why = "has no valid index record";
	if (at < SNAP_CDB_TOC || at > dend || dend - at < 9 + SNAP_IDX_HDR ||
	    snap_get32(mem + at) != 1 || mem[at + 8] != SNAP_KEY_INDEX)
		goto bad;
	vlen = snap_get32(mem + at + 4);
	x = mem + at + 9;
	if (vlen < SNAP_IDX_HDR || vlen > dend - at - 9)
		goto bad;
	pw = snap_get32(x + 4);
	gr = snap_get32(x + 8);
	pad = x[SNAP_IDX_HDR - 1];
	if (pw > SNAP_MAX_ENTRIES || gr > SNAP_MAX_ENTRIES ||
	    pad >= SNAP_IDX_ALIGN || vlen != SNAP_IDX_HDR + pad +
	    2 * snap_idx_table_len((uint32_t)pw) +
	    2 * snap_idx_table_len((uint32_t)gr))
		goto bad;
	s->idx_seed = snap_get32(x);
	tbl = x + SNAP_IDX_HDR + pad;
	for (t = 0; t < SNAP_IDX_NTABLES; t++) {
		n = (uint32_t)(t < SNAP_IDX_GRNAM ? pw : gr);
		s->idx_salt[t] = x[12 + t];
		s->idx_nb[t] = snap_idx_buckets(n);
		s->idx_m[t] = snap_idx_slots(n);
		s->idx_pilots[t] = tbl;
		s->idx_slots[t] = tbl + snap_idx_table_len(n) -
		    (uint64_t)s->idx_m[t] * 4;
		tbl += snap_idx_table_len(n);
	}
	*why = NULL;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/*
 * Map the file of st (fd) for s: with tinycdb (cdb_init, which reads the
 * table of contents through the mapping), or, SNAP_OPEN_LOOKUPS, alone
 * and with the table of contents read by pread into toc.  Returns the
 * table of contents, or NULL with errno (mmap's, pread's; EPROTO for a
 * short read).
 */
static const unsigned char *
map_file(struct snap *s, int fd, int flags, unsigned char *toc)
{
	void *m;
	ssize_t n;

	if (!(flags & SNAP_OPEN_LOOKUPS)) {
		if (cdb_init(&s->cdb, fd) != 0)
			return NULL;
		s->cdb.cdb_fd = -1;   /* the caller keeps the descriptor */
		s->mem = s->cdb.cdb_mem;
		return s->mem;
	}
	m = mmap(NULL, (size_t)s->size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	s->mem = m;
	if ((n = pread(fd, toc, SNAP_CDB_TOC, 0)) == (ssize_t)SNAP_CDB_TOC)
		return toc;
	if (n >= 0)
		errno = EPROTO;   /* the file shrank since its fstat */
	return NULL;
}

int
snap_open_fd_why(int fd, int flags, struct snap **out, struct stat *st,
    const char **why)
{
	unsigned char tocbuf[SNAP_CDB_TOC];
	const unsigned char *toc;
	struct snap *s;
	int e;

	*out = NULL;
	*why = NULL;
	memset(st, 0, sizeof(*st));
	if (fstat(fd, st) != 0)
		return -1;
	if (file_trust_check(st, why) != 0)
		return -1;    /* EPERM */
	/* tinycdb addresses the file with 32-bit offsets. */
	if (st->st_size > (off_t)UINT_MAX) {
		*why = "is larger than 4 GiB";
		errno = EPROTO;
		return -1;
	}
	if (st->st_size < (off_t)SNAP_CDB_TOC) {
		*why = "is too short to be a snapshot";
		errno = EPROTO;
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->mtim = st->st_mtim;
	s->size = st->st_size;
	if ((toc = map_file(s, fd, flags, tocbuf)) == NULL) {
		e = errno;    /* mmap's (ENOMEM), or a failed read */
		snap_close(s);
		errno = e;
		return -1;
	}
	if (check_toc(toc, (uint64_t)s->size, &s->data_end) != 0) {
		*why = "is corrupt (its cdb tables do not fit the file)";
		goto bad;
	}
	if (read_meta(s, fd, why) != 0 || read_index(s, why) != 0)
		goto bad;
	*out = s;
	return 0;
bad:
	e = errno == ENOMEM ? ENOMEM : EPROTO;
	snap_close(s);
	errno = e;
	return -1;
}

int
snap_open_fd(int fd, struct snap **out)
{
	struct stat st;
	const char *why;

	return snap_open_fd_why(fd, 0, out, &st, &why);
}

int
snap_open_why(const char *path, int flags, struct snap **out,
    struct stat *st, const char **why)
{
	int fd, r, e;

	*out = NULL;
	*why = NULL;
	memset(st, 0, sizeof(*st));
	/* O_NONBLOCK: a FIFO at the path must not hang the caller (sshd);
	 * the descriptor's fstat then refuses it. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return -1;
	r = snap_open_fd_why(fd, flags, out, st, why);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
snap_open(const char *path, struct snap **out)
{
	struct stat st;
	const char *why;

	return snap_open_why(path, 0, out, &st, &why);
}

void
snap_close(struct snap *s)
{
	if (s == NULL)
		return;
	if (s->cdb.cdb_mem != NULL)
		cdb_free(&s->cdb);
	else if (s->mem != NULL)
		munmap((void *)s->mem, (size_t)s->size);
	for (int t = 0; t < SNAP_IDX_NTABLES; t++)
		free(s->memo[t]);
	free(s);
}

const struct snap_meta *
snap_get_meta(const struct snap *s)
{
	return &s->meta;
}

/* ---- Decoding ------------------------------------------------------ */

/*
 * What a byte means inside a blob: 0 an ordinary byte, FC_END the end of
 * a field, FC_BAD never allowed (':' and '\n' would split the line
 * getent prints), FC_NAME not allowed in a name (',' splits member lists).
 */
enum { FC_END = 1, FC_BAD = 2, FC_NAME = 3 };

static const unsigned char field_class[256] = {
	['\0'] = FC_END, [':'] = FC_BAD, ['\n'] = FC_BAD, [','] = FC_NAME,
};

/* The field splitter's state: where the current field started, how many
 * fields are done. */
struct split {
	char *b, **f;
	size_t nf, names, start, k;
};

/* The special byte at b[i] (field_class not 0): end a field, or refuse
 * the blob (-1). */
static inline int
split_at(struct split *sp, size_t i, unsigned c)
{
	if (c == FC_END) {
		if (sp->k == sp->nf || (sp->k < sp->names && i == sp->start))
			return -1;
		sp->f[sp->k++] = sp->b + sp->start;
		sp->start = i + 1;
		return 0;
	}
	return c == FC_BAD || sp->k < sp->names ? -1 : 0;
}

/*
 * Split the blob b[0..len), already copied into the caller's buffer, into
 * exactly nf NUL-terminated fields, f[0..nf); the first `names` of them
 * are names (non-empty, no ',').  This is the whole check of a record's
 * strings: one pass, over the copy, so what is checked is what is
 * returned.  Returns 0, or -1 (the blob is corrupt).
 *
 * With SSE2 (every x86-64), sixteen bytes are compared at a time with the
 * four special bytes and only those are looked at: a 2,500-member group
 * (`id` of a user in 40 of them) splits about four times faster than a
 * byte at a time.  The tail, and other machines, go a byte at a time.
 */
static int
split_fields(char *b, size_t len, char **f, size_t nf, size_t names)
{
	const unsigned char *u = (const unsigned char *)b;
	struct split sp = { b, f, nf, names, 0, 0 };
	size_t i = 0;
	unsigned c;

	if (len == 0 || u[len - 1] != '\0')
		return -1;
#ifdef __SSE2__
	{
		const __m128i nul = _mm_setzero_si128();
		const __m128i colon = _mm_set1_epi8(':');
		const __m128i lf = _mm_set1_epi8('\n');
		const __m128i comma = _mm_set1_epi8(',');
		__m128i x;
		unsigned m;

		for (; len - i >= 16; i += 16) {
			x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
			m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(x, nul),
			    _mm_cmpeq_epi8(x, colon)),
			    _mm_or_si128(_mm_cmpeq_epi8(x, lf),
			    _mm_cmpeq_epi8(x, comma))));
			for (; m != 0; m &= m - 1) {
				c = (unsigned)__builtin_ctz(m);
				if (split_at(&sp, i + c,
				    field_class[u[i + c]]) != 0)
					return -1;
			}
		}
	}
#endif
	for (; i < len; i++)
		if ((c = field_class[u[i]]) != 0 && split_at(&sp, i, c) != 0)
			return -1;
	return sp.k == nf ? 0 : -1;
}

/* Does the blob b[0..len) start with the field name[0..nlen)?  (The key
 * a record was found by; O(1) in the record's size.) */
static int
blob_starts_with(const unsigned char *b, size_t len, const unsigned char *name,
    size_t nlen)
{
	return nlen < len && memcmp(b, name, nlen) == 0 && b[nlen] == '\0';
}

/*
 * A record found: its name (the key without its type byte) and value, and
 * where the reader remembers that it was found well-formed (memo: a byte
 * of the mapping's bitmap for the index slot it was found through, bit:
 * the slot's bit; memo NULL in enumeration, which does not remember).
 * The mapping is read-only and never changes under us (the writer
 * renames a new file over the old), so a record checked once is checked
 * for as long as the mapping lives (issue 13: the field scan was a fifth
 * of a warm getpwnam).
 */
struct rec {
	const unsigned char *k, *v;
	size_t klen, vlen;
	unsigned char *memo;
	unsigned char bit;
};

static int
rec_known_good(const struct rec *r)
{
	return r->memo != NULL &&
	    (__atomic_load_n(r->memo, __ATOMIC_RELAXED) & r->bit) != 0;
}

static void
rec_remember_good(const struct rec *r)
{
	if (r->memo != NULL)
		(void)__atomic_fetch_or(r->memo, r->bit, __ATOMIC_RELAXED);
}

/*
 * The nf fields of a blob already found well-formed (rec_known_good),
 * copied to dst[0..len): their ends are looked for in the mapping (src),
 * not in the copy just written, whose loads would wait on the copy's
 * stores (store forwarding: a fifth of a warm getpwnam).  Should the file
 * have been changed in place since (only root could; the writer never
 * does), every field still ends inside dst: the last byte is a NUL.
 */
static inline void
known_end(char *dst, size_t len, char **f, size_t *k, size_t i)
{
	f[(*k)++] = dst + (i + 1 < len ? i + 1 : len - 1);
}

static void
split_known(const char *src, char *dst, size_t len, char **f, size_t nf)
{
	const unsigned char *u = (const unsigned char *)src;
	size_t k = 0, i = 0;

	f[k++] = dst;
	/* One pass for the NULs (SSE2: sixteen bytes at a time), not a
	 * strnlen call a field: those were a tenth of a warm getpwnam. */
#ifdef __SSE2__
	for (; k < nf && len - i >= 16; i += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)(u + i)),
		    _mm_setzero_si128()));

		for (; m != 0 && k < nf; m &= m - 1)
			known_end(dst, len, f, &k, i + (size_t)__builtin_ctz(m));
	}
#endif
	for (; k < nf && i < len; i++)
		if (u[i] == '\0')
			known_end(dst, len, f, &k, i);
	while (k < nf)            /* changed in place: empty fields */
		f[k++] = dst + len - 1;
	dst[len - 1] = '\0';
}

/*
 * The sizes a passwd record v[0..vlen), found by a name of nlen bytes,
 * states: the buffer its answer takes (*need: the name and its NUL, which
 * are the key's, then the rest of the blob, which is the record's) and its
 * GID list's length (*ngids, when asked), checked against vlen by
 * subtraction (O(1)).  0, or -1: they do not add up to the record's
 * length.
 */
static int
pw_sizes(const unsigned char *v, size_t vlen, size_t nlen, size_t *need,
    size_t *ngids)
{
	size_t n, rest, tail;

	if (vlen < SNAP_PW_FIXED)
		return -1;
	*need = snap_get32(v + 12);
	n = snap_get32(v + 16);
	if (*need <= nlen || *need - nlen - 1 > vlen - SNAP_PW_FIXED)
		return -1;
	rest = *need - nlen - 1;
	tail = vlen - SNAP_PW_FIXED - rest;
	if (tail % 4 != 0 || tail / 4 != n)
		return -1;
	if (ngids != NULL)
		*ngids = n;
	return 0;
}

/*
 * Decode the passwd record r (its name is its key: the record holds the
 * other three fields) into pw/buf.  want_uid, when given, must match the
 * record (it was found by it).  The fixed part is checked first, then a
 * too-small buffer is answered from the stored need; the fields are
 * checked as copied (once per mapping: see struct rec).  Returns 1, or
 * -1 with errno EPROTO (corrupt) or ERANGE (buf too small).
 */
static int
decode_pw(const struct rec *r, const uint32_t *want_uid, struct snap_pw *pw,
    char *buf, size_t buflen)
{
	char *f[4];
	size_t need, nlen = r->klen;
	unsigned st;

	if (pw_sizes(r->v, r->vlen, nlen, &need, NULL) != 0)
		goto corrupt;     /* a stored size that lies */
	pw->uid = snap_get32(r->v);
	pw->gid = snap_get32(r->v + 4);
	if (!id_ok(pw->uid) || !id_ok(pw->gid))
		goto corrupt;
	if (want_uid != NULL && pw->uid != *want_uid)
		goto corrupt;
	st = r->v[8];
	pw->status = st <= OKTA_STATUS_MAX ? (enum okta_status)st :
	    OKTA_STATUS_UNKNOWN;
	if (need > buflen) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, r->k, nlen);
	buf[nlen] = '\0';
	memcpy(buf + nlen + 1, r->v + SNAP_PW_FIXED, need - nlen - 1);
	if (rec_known_good(r)) {
		f[0] = buf;     /* the name: the key's, nlen bytes */
		split_known((const char *)r->v + SNAP_PW_FIXED, buf + nlen + 1,
		    need - nlen - 1, f + 1, 3);
	} else {
		/* Only the first field is a name: a GECOS may hold ','. */
		if (split_fields(buf, need, f, 4, 1) != 0)
			goto corrupt;
		rec_remember_good(r);
	}
	pw->name = f[0];
	pw->gecos = f[1];
	pw->dir = f[2];
	pw->shell = f[3];
	return 1;
corrupt:
	errno = EPROTO;
	return -1;
}

/* As decode_pw, for a group record: members go into buf as a pointer
 * array (aligned) followed by the blob.  The name is the blob's first
 * field, and must be the record's key; it takes the array's first slot,
 * so that the members need not be moved down over it (20 KB a group of
 * 2,500 members, for each group `id` prints). */
static int
decode_gr(const struct rec *r, const uint32_t *want_gid, struct snap_gr *gr,
    char *buf, size_t buflen)
{
	const unsigned char *v = r->v;
	size_t vlen = r->vlen;
	size_t need, off, arr, n;
	uintptr_t mis;
	char **f;

	if (vlen < SNAP_GR_FIXED)
		goto corrupt;
	gr->gid = snap_get32(v);
	n = snap_get32(v + 4);
	need = snap_get32(v + 8);
	if (need != vlen - SNAP_GR_FIXED)
		goto corrupt;     /* a stored size that lies */
	if (!id_ok(gr->gid) || (want_gid != NULL && gr->gid != *want_gid))
		goto corrupt;
	/* Each of the n + 1 fields takes at least 2 bytes (a character and
	 * its NUL), so the count is bounded by the record before it sizes
	 * anything. */
	if (n >= need / 2)
		goto corrupt;
	if (!blob_starts_with(v + SNAP_GR_FIXED, need, r->k, r->klen))
		goto corrupt;
	/* Layout in buf: padding to align, the name's pointer, n member
	 * pointers and a NULL, then the blob. */
	mis = (uintptr_t)buf % alignof(char *);
	off = mis ? alignof(char *) - mis : 0;
	arr = (n + 2) * sizeof(char *);
	if (off > buflen || arr > buflen - off || need > buflen - off - arr) {
		errno = ERANGE;
		return -1;
	}
	f = (char **)(void *)(buf + off);
	memcpy(buf + off + arr, v + SNAP_GR_FIXED, need);
	/* f[0] is the name, f[1..n] the members, f[n + 1] the NULL. */
	if (rec_known_good(r)) {
		split_known((const char *)v + SNAP_GR_FIXED, buf + off + arr,
		    need, f, n + 1);
	} else {
		if (split_fields(buf + off + arr, need, f, n + 1, n + 1) != 0)
			goto corrupt;
		rec_remember_good(r);
	}
	gr->name = f[0];
	f[n + 1] = NULL;
	gr->members = f + 1;
	return 1;
corrupt:
	errno = EPROTO;
	return -1;
}

/*
 * The record an index slot points at: pos, the file offset of the cdb
 * record (header `klen vlen`, key, value) that must start a record of key
 * type `type` inside [first, end), the span of that type (checked at open
 * to lie inside the data section).  1 with its name (the key without its
 * type byte) and value, or -1 EPROTO.
 */
static int
deref(const struct snap *s, uint64_t pos, char type, uint64_t first,
    uint64_t end, const unsigned char **k, size_t *klen,
    const unsigned char **v, size_t *vlen)
{
	const unsigned char *mem = s->mem;
	uint32_t kl, vl;

	if (pos < first || pos >= end || end - pos < 8)
		goto corrupt;
	kl = snap_get32(mem + pos);
	vl = snap_get32(mem + pos + 4);
	pos += 8;
	if (kl < 2 || kl > end - pos || vl > end - pos - kl ||
	    mem[pos] != (unsigned char)type)
		goto corrupt;
	*k = mem + pos + 1;
	*klen = kl - 1;
	*v = mem + pos + kl;
	*vlen = vl;
	return 1;
corrupt:
	errno = EPROTO;
	return -1;
}

int
snap_find_key(const struct snap *s, const void *key, size_t klen,
    const unsigned char **v, size_t *vlen)
{
	struct cdb c = s->cdb;
	int r;

	if (s->cdb.cdb_mem == NULL) {
		errno = EINVAL;   /* SNAP_OPEN_LOOKUPS */
		return -1;
	}
	if (klen > UINT_MAX / 2)
		return 0;
	r = cdb_find(&c, key, (unsigned)klen);
	if (r <= 0) {
		if (r < 0)
			errno = EPROTO;
		return r;
	}
	*v = c.cdb_mem + cdb_datapos(&c);
	*vlen = cdb_datalen(&c);
	return 1;
}

/* A lookup key: type byte + name, on the stack (names are short). */
#define KEY_MAX 256

static int
name_key(unsigned char *key, char type, const char *name, size_t *klen)
{
	size_t nl = strlen(name);

	if (nl == 0 || nl >= KEY_MAX)
		return -1;
	key[0] = (unsigned char)type;
	memcpy(key + 1, name, nl);
	*klen = nl + 1;
	return 0;
}

int
snap_find_named(const struct snap *s, char type, const char *name,
    const unsigned char **v, size_t *vlen)
{
	unsigned char key[KEY_MAX];
	size_t klen;

	if (name_key(key, type, name, &klen) != 0)
		return 0;
	return snap_find_key(s, key, klen, v, vlen);
}

/*
 * Table t's bitmap of records found well-formed (struct rec): one bit a
 * slot, about 1 KB per 4,000 entries, allocated at the table's first
 * lookup, so that `getent passwd name` grows its heap by one table's
 * bitmap, not four (a page fault is about 30 us on a VM).  The bitmaps
 * are the one thing a lookup writes in the shared struct, hence the
 * cast; two threads racing here keep one allocation.  NULL (out of
 * memory) only means that nothing is remembered.
 */
static unsigned char *
table_memo(const struct snap *s, int t)
{
	unsigned char **at = &((struct snap *)s)->memo[t];
	unsigned char *m = __atomic_load_n(at, __ATOMIC_ACQUIRE), *n;

	if (m != NULL)
		return m;
	if ((n = calloc(1, (size_t)s->idx_m[t] / 8 + 1)) == NULL)
		return NULL;
	if (__atomic_compare_exchange_n(at, &m, n, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE))
		return n;
	free(n);
	return m;
}

/*
 * Find through index table t (of records of key type `type`) the record
 * of hash h that is name[0..nl) (name NULL: the record whose value starts
 * with the ID id, as 'p' and 'g' values do).  The perfect hash sends any
 * key to some slot, so a record of another name or ID there means the
 * key is not in the file.  1 with the record in *r, 0 not found, -1
 * EPROTO (a slot that points outside its span or at another kind of
 * record).
 */
static int
idx_find(const struct snap *s, int t, char type, uint64_t h,
    const char *name, size_t nl, uint32_t id, struct rec *r)
{
	uint32_t b = snap_idx_bucket(h, s->idx_nb[t]), i, off;
	uint64_t first = type == SNAP_KEY_PWNAM ? s->pw_first : s->gr_first;
	uint64_t end = type == SNAP_KEY_PWNAM ? s->pw_end : s->gr_end;

	i = snap_idx_slot(h, snap_idx_pilot_hash(
	    snap_get16(s->idx_pilots[t] + (size_t)b * 2), s->idx_salt[t]),
	    s->idx_m[t]);
	if ((off = snap_get32(s->idx_slots[t] + (size_t)i * 4)) == 0)
		return 0;
	if (deref(s, off, type, first, end, &r->k, &r->klen, &r->v,
	    &r->vlen) < 0)
		return -1;
	if (name != NULL ? r->klen != nl || memcmp(r->k, name, nl) != 0 :
	    r->vlen < 4 || snap_get32(r->v) != id)
		return 0;
	r->memo = table_memo(s, t);
	if (r->memo != NULL)
		r->memo += i / 8;
	r->bit = (unsigned char)(1u << (i % 8));
	return 1;
}

static int
idx_by_name(const struct snap *s, int t, char type, const char *name,
    struct rec *r)
{
	size_t nl = strlen(name);

	if (nl == 0)
		return 0;
	return idx_find(s, t, type, snap_idx_hash_name(s->idx_seed, name, nl),
	    name, nl, 0, r);
}

static int
idx_by_id(const struct snap *s, int t, char type, uint32_t id, struct rec *r)
{
	return idx_find(s, t, type, snap_idx_hash_id(s->idx_seed, id), NULL,
	    0, id, r);
}

int
snap_getpwnam(const struct snap *s, const char *name, struct snap_pw *pw,
    char *buf, size_t buflen)
{
	struct rec r;
	int n;

	if ((n = idx_by_name(s, SNAP_IDX_PWNAM, SNAP_KEY_PWNAM, name, &r)) <= 0)
		return n;
	return decode_pw(&r, NULL, pw, buf, buflen);
}

int
snap_getpwuid(const struct snap *s, uint32_t uid, struct snap_pw *pw,
    char *buf, size_t buflen)
{
	struct rec r;
	int n;

	if (!id_ok(uid))
		return 0;     /* never an Okta user's: not looked for */
	if ((n = idx_by_id(s, SNAP_IDX_PWUID, SNAP_KEY_PWNAM, uid, &r)) <= 0)
		return n;
	return decode_pw(&r, &uid, pw, buf, buflen);
}

int
snap_getgrnam(const struct snap *s, const char *name, struct snap_gr *gr,
    char *buf, size_t buflen)
{
	struct rec r;
	int n;

	if ((n = idx_by_name(s, SNAP_IDX_GRNAM, SNAP_KEY_GRNAM, name, &r)) <= 0)
		return n;
	return decode_gr(&r, NULL, gr, buf, buflen);
}

int
snap_getgrgid(const struct snap *s, uint32_t gid, struct snap_gr *gr,
    char *buf, size_t buflen)
{
	struct rec r;
	int n;

	if (!id_ok(gid))
		return 0;
	if ((n = idx_by_id(s, SNAP_IDX_GRGID, SNAP_KEY_GRNAM, gid, &r)) <= 0)
		return n;
	return decode_gr(&r, &gid, gr, buf, buflen);
}

int
snap_user_gids(const struct snap *s, const char *user,
    int (*fn)(void *ctx, uint32_t gid), void *ctx)
{
	const unsigned char *g;
	size_t need, n, i;
	struct rec r;
	int k;

	/* Format 3: the list is the tail of the user's 'p' record. */
	if ((k = idx_by_name(s, SNAP_IDX_PWNAM, SNAP_KEY_PWNAM, user, &r)) <= 0)
		return k;
	if (pw_sizes(r.v, r.vlen, r.klen, &need, &n) != 0) {
		errno = EPROTO;
		return -1;
	}
	g = r.v + SNAP_PW_FIXED + (need - r.klen - 1);   /* need - name - NUL */
	/* Check the whole list first, so that a corrupt record gives no
	 * partial answer: one GID below the floor (sudo, adm...) refuses
	 * the user's whole list. */
	for (i = 0; i < n; i++)
		if (!id_ok(snap_get32(g + 4 * i))) {
			errno = EPROTO;
			return -1;
		}
	for (i = 0; i < n; i++)
		if (fn(ctx, snap_get32(g + 4 * i)) != 0)
			break;
	return 1;
}

/* ---- Enumeration --------------------------------------------------- */

/*
 * Walk the data section from *pos (at least the span's first record; span
 * checked at open) up to the span's end for the next record whose key is
 * `type` + a name.  Returns 1 with the record's value and name, and the
 * position after it in *next; 0 at the end; -1 EPROTO when the record
 * structure itself is broken (the walk cannot go on).
 */
static int
next_rec(const struct snap *s, uint64_t pos, char type,
    const unsigned char **k, size_t *klen, const unsigned char **v,
    size_t *vlen, uint64_t *next)
{
	const unsigned char *mem = s->mem;
	uint64_t first, dend;   /* dend: the end of this walk */
	uint32_t kl, vl;

	if (type == SNAP_KEY_PWNAM) {
		first = s->pw_first;
		dend = s->pw_end;
	} else {
		first = s->gr_first;
		dend = s->gr_end;
	}
	if (pos < first)
		pos = first;
	while (pos < dend) {
		if (dend - pos < 8)
			goto corrupt;
		kl = snap_get32(mem + pos);
		vl = snap_get32(mem + pos + 4);
		pos += 8;
		if (kl > dend - pos || vl > dend - pos - kl)
			goto corrupt;
		if (kl >= 2 && mem[pos] == (unsigned char)type) {
			*k = mem + pos + 1;
			*klen = kl - 1;
			*v = mem + pos + kl;
			*vlen = vl;
			*next = pos + kl + vl;
			return 1;
		}
		pos += (uint64_t)kl + vl;
	}
	return 0;
corrupt:
	errno = EPROTO;
	return -1;
}

int
snap_pw_next(const struct snap *s, uint64_t *pos, struct snap_pw *pw,
    char *buf, size_t buflen)
{
	const unsigned char *k, *v;
	size_t klen, vlen;
	uint64_t p = *pos, next;
	int r;

	for (;;) {
		if ((r = next_rec(s, p, SNAP_KEY_PWNAM, &k, &klen, &v, &vlen,
		    &next)) <= 0)
			return r;
		r = decode_pw(&(struct rec){ k, v, klen, vlen, NULL, 0 }, NULL,
		    pw, buf, buflen);
		if (r > 0) {
			*pos = next;
			return 1;
		}
		if (errno == ERANGE)
			return -1;
		/* One bad record is skipped, not the rest of the file. */
		p = next;
		*pos = next;
	}
}

int
snap_gr_next(const struct snap *s, uint64_t *pos, struct snap_gr *gr,
    char *buf, size_t buflen)
{
	const unsigned char *k, *v;
	size_t klen, vlen;
	uint64_t p = *pos, next;
	int r;

	for (;;) {
		if ((r = next_rec(s, p, SNAP_KEY_GRNAM, &k, &klen, &v, &vlen,
		    &next)) <= 0)
			return r;
		r = decode_gr(&(struct rec){ k, v, klen, vlen, NULL, 0 }, NULL,
		    gr, buf, buflen);
		if (r > 0) {
			*pos = next;
			return 1;
		}
		if (errno == ERANGE)
			return -1;
		p = next;
		*pos = next;
	}
}
