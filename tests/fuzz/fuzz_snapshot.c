/*
 * fuzz_snapshot.c - libFuzzer target for the snapshot reader: the input is
 * a whole snapshot file.  It is opened through snap_open_fd (from a memfd,
 * so that the reader maps it as it would the real file) and every lookup
 * and both enumerations are run over it.  Any crash, out-of-bounds read
 * (ASan) or undefined behaviour (UBSan) is a bug; so is an answer outside
 * the reader's contract (checked with __builtin_trap).
 *
 * An input that is not a usable snapshot file is tried a second way, so
 * that the fuzzer also reaches the record decoders behind tinycdb's hash
 * tables: as a list of records (u8 klen, u16 vlen little-endian, key,
 * value; repeated), written with cdb_make, then the index of the listed
 * 'p' and 'g' records (format 4's 'X'), unless the list has an 'X' record
 * of its own, which is then the index, and a valid meta record.  (A
 * listed record with the key "M" is left out: ours must be the meta.)
 *
 * Each file is also opened as nss's handle opens it (SNAP_OPEN_LOOKUPS:
 * mapped without tinycdb, the table of contents read with pread), which
 * must accept exactly the files snap_open_fd accepts and answer every
 * lookup it can be asked exactly alike.
 *
 * Built and run by tests/fuzz/run.sh; seeds in tests/fuzz/corpus_snapshot
 * (whole files *.cdb, record lists *.rec).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cdb.h>

#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_index.h"
#include "snapshot_internal.h"
#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int r)
{
	if (r < -1 || r > 1 || (r == -1 && errno != EPROTO && errno != ERANGE))
		__builtin_trap();
}

static int
count_gid(void *ctx, uint32_t gid)
{
	if (gid == 0)
		__builtin_trap();
	(*(unsigned *)ctx)++;
	return 0;
}

/* SSH key lines ('k', snapshot_keys.c): what the reader hands out is
 * framed and printable, whatever the record holds. */
static int
check_key(void *ctx, const char *line, size_t len)
{
	size_t i;

	if (len == 0 || len > SSHKEY_LINE_MAX || ++*(unsigned *)ctx > SNAP_KEYS_MAX)
		__builtin_trap();
	for (i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			__builtin_trap();
	return 0;
}

static const char *const names[] = { "alice", "bob", "carol", "eng", "ops",
    "big", "u", "x", "user00001" };

/* The index of the records added so far, as the writer would make it,
 * unless the list gave its own.  0, or -1. */
static int
add_index(struct cdb_make *cm, struct snap_idx_builder *b, int own,
    uint32_t *at)
{
	unsigned char *v;
	size_t len;
	int r;

	if (own)
		return 0;
	*at = cm->cdb_dpos;
	len = snap_idx_value_len(b, cm->cdb_dpos);
	if ((v = malloc(len)) == NULL)
		return -1;
	r = snap_idx_encode(b, cm->cdb_dpos, NULL, v);
	if (r == 0)
		r = cdb_make_add(cm, "X", 1, v, (unsigned)len);
	free(v);
	return r;
}

/* Build a cdb in a memfd from a record list; returns the fd or -1, and
 * in *own whether the list gave its own index. */
static int
records_to_cdb(const uint8_t *data, size_t size, int *own)
{
	struct snap_idx_builder b;
	struct cdb_make cm;
	unsigned char m[SNAP_META_LEN] = { 0 };
	size_t kl, vl;
	uint32_t at, index_at = 0;
	int fd, started = 0;

	*own = 0;
	snap_idx_init(&b, 0x5eed);
	if ((fd = memfd_create("rec", MFD_CLOEXEC)) < 0)
		return -1;
	if (fchmod(fd, 0644) != 0)
		goto fail;
	if (cdb_make_start(&cm, fd) != 0)
		goto fail;
	started = 1;
	while (size >= 3) {
		kl = data[0];
		vl = (size_t)data[1] | (size_t)data[2] << 8;
		data += 3;
		size -= 3;
		if (kl > size)
			kl = size;
		if (vl > size - kl)
			vl = size - kl;
		at = cm.cdb_dpos;
		if (kl == 1 && data[0] == SNAP_KEY_INDEX && !*own) {
			*own = 1;
			index_at = at;
		}
		if (!(kl == 1 && data[0] == SNAP_KEY_META) &&
		    cdb_make_add(&cm, data, (unsigned)kl, data + kl,
		    (unsigned)vl) != 0)
			goto fail;
		if (kl >= 2 && vl >= 4 && data[0] == SNAP_KEY_PWNAM &&
		    snap_idx_add_user(&b, data + 1, kl - 1, snap_get32(data + kl),
		    at) != 0)
			goto fail;
		if (kl >= 2 && vl >= 4 && data[0] == SNAP_KEY_GRNAM &&
		    snap_idx_add_group(&b, data + 1, kl - 1,
		    snap_get32(data + kl), at) != 0)
			goto fail;
		data += kl + vl;
		size -= kl + vl;
	}
	if (add_index(&cm, &b, *own, &index_at) != 0)
		goto fail;
	/* The meta record last, its enumeration spans over every record. */
	memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put32(m + 8, SNAP_FORMAT_VERSION);
	if (cm.cdb_dpos > SNAP_CDB_TOC) {
		snap_put32(m + 40, SNAP_CDB_TOC);
		snap_put32(m + 44, cm.cdb_dpos);
		snap_put32(m + 48, SNAP_CDB_TOC);
		snap_put32(m + 52, cm.cdb_dpos);
	}
	snap_put32(m + 56, index_at);
	if (cdb_make_add(&cm, "M", 1, m, sizeof(m)) != 0)
		goto fail;
	started = 0;
	if (cdb_make_finish(&cm) != 0)
		goto fail;
	snap_idx_free(&b);
	return fd;
fail:
	if (started)
		(void)cdb_make_finish(&cm);   /* frees tinycdb's lists */
	snap_idx_free(&b);
	close(fd);
	return -1;
}

static void exercise(struct snap *s, const uint8_t *data, size_t size);

/* The answers of one lookup on the two openings. */
static void
same_answer(int r, int e, int rl, int el)
{
	if (r != rl || (r == -1 && e != el))
		__builtin_trap();
}

/*
 * fd opened as nss's handle opens it (SNAP_OPEN_LOOKUPS) must open
 * exactly when snap_open_fd opened it (s, or NULL), and answer the keyed
 * lookups alike.
 */
static void
same_for_nss(int fd, const struct snap *s)
{
	static char b1[65536], b2[65536];
	struct snap_pw p1, p2;
	struct snap_gr g1, g2;
	struct snap *l;
	struct stat st;
	const char *why;
	unsigned i;
	int r, e;

	r = snap_open_fd_why(fd, SNAP_OPEN_LOOKUPS, &l, &st, &why);
	if ((r == 0) != (s != NULL)) {
		if (r != 0 && errno == ENOMEM)
			return;
		__builtin_trap();
	}
	if (r != 0)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = snap_getpwnam(s, names[i], &p1, b1, sizeof(b1));
		e = errno;
		same_answer(r, e, snap_getpwnam(l, names[i], &p2, b2,
		    sizeof(b2)), errno);
		if (r == 1 && (p1.uid != p2.uid || strcmp(p1.dir, p2.dir) != 0))
			__builtin_trap();
		r = snap_getgrnam(s, names[i], &g1, b1, sizeof(b1));
		e = errno;
		same_answer(r, e, snap_getgrnam(l, names[i], &g2, b2,
		    sizeof(b2)), errno);
		if (r == 1 && g1.gid != g2.gid)
			__builtin_trap();
		if (r == 1) {
			r = snap_getgrgid(s, g1.gid, &g1, b1, sizeof(b1));
			e = errno;
			same_answer(r, e, snap_getgrgid(l, g1.gid, &g2, b2,
			    sizeof(b2)), errno);
		}
	}
	snap_close(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap *s;
	int fd, r, own;

	if ((fd = memfd_create("snap", MFD_CLOEXEC)) < 0)
		return 0;
	/* The reader trusts only root's files not writable by others (a
	 * memfd is 0777); the tests run as root. */
	if (fchmod(fd, 0644) != 0) {
		close(fd);
		return 0;
	}
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	r = snap_open_fd(fd, &s);
	same_for_nss(fd, r == 0 ? s : NULL);
	close(fd);
	if (r == 0) {
		exercise(s, data, size);
		snap_close(s);
		return 0;
	}
	if ((fd = records_to_cdb(data, size, &own)) < 0)
		return 0;
	r = snap_open_fd(fd, &s);
	same_for_nss(fd, r == 0 ? s : NULL);
	close(fd);
	if (r != 0 && !own)
		__builtin_trap();   /* a file cdb_make wrote must open */
	if (r != 0)
		return 0;           /* the list's own index was refused */
	exercise(s, data, size);
	snap_close(s);
	return 0;
}

static void
exercise(struct snap *s, const uint8_t *data, size_t size)
{
	struct snap_pw pw;
	struct snap_gr gr;
	static char buf[65536];
	char small[24];
	uint64_t pos;
	unsigned n, i, gids;
	uint32_t id;
	int r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		check(r = snap_getpwnam(s, names[i], &pw, buf, sizeof(buf)));
		if (r == 1 && (pw.uid == 0 || strcmp(pw.name, names[i]) != 0))
			__builtin_trap();
		check(snap_getpwnam(s, names[i], &pw, small, sizeof(small)));
		check(snap_getgrnam(s, names[i], &gr, buf, sizeof(buf)));
		check(snap_getgrnam(s, names[i], &gr, small, sizeof(small)));
		gids = 0;
		check(snap_user_gids(s, names[i], count_gid, &gids));
		gids = 0;
		check(snap_user_keys(s, names[i], check_key, &gids));
		/* Tombstones ('t', snapshot_tombstone.c): a found one names
		 * the user it was looked up by, never UID 0. */
		{
			struct snap_tombstone t;

			check(r = snap_get_tombstone(s, names[i], &t, buf, sizeof(buf)));
			if (r == 1 && (t.uid == 0 || strcmp(t.name, names[i]) != 0))
				__builtin_trap();
			check(snap_get_tombstone(s, names[i], &t, small, sizeof(small)));
		}
	}
	/* The PAM policy record ('P', snapshot_policy.c): what it returns
	 * stays within its bounds, whatever the record holds. */
	{
		struct snap_policy pol;
		size_t k;

		check(r = snap_get_policy(s, &pol, buf, sizeof(buf)));
		if (r == 1) {
			if (pol.ngroups > SNAP_POLICY_MAX_GROUPS ||
			    pol.max_cache_age < 0)
				__builtin_trap();
			for (k = 0; k < pol.ngroups; k++)
				if (pol.groups[k][0] == '\0' ||
				    strlen(pol.groups[k]) > SNAP_POLICY_NAME_MAX)
					__builtin_trap();
		}
		check(snap_get_policy(s, &pol, small, sizeof(small)));
	}
	/* IDs: the ones near the default range, and any 4 bytes of input. */
	for (i = 0; i < 8; i++) {
		id = 2000000000u + i;
		if (size >= 4 * (i + 1))
			memcpy(&id, data + 4 * i, 4);
		check(r = snap_getpwuid(s, id, &pw, buf, sizeof(buf)));
		if (r == 1 && (pw.uid != id || pw.uid == 0 || pw.gid == 0))
			__builtin_trap();
		check(r = snap_getgrgid(s, id, &gr, buf, sizeof(buf)));
		if (r == 1 && (gr.gid != id || gr.gid == 0))
			__builtin_trap();
	}
	/* Enumerations end (each step moves forward). */
	for (pos = 0, n = 0; n < 100000; n++) {
		check(r = snap_pw_next(s, &pos, &pw, buf, sizeof(buf)));
		if (r != 1)
			break;
		if (pw.uid == 0 || strchr(pw.name, ':') || strchr(pw.shell, '\n'))
			__builtin_trap();
		/* The by-UID record may differ (the input says so); it must
		 * still answer cleanly. */
		id = pw.uid;
		check(snap_getpwuid(s, id, &pw, buf, sizeof(buf)));
	}
	for (pos = 0, n = 0; n < 100000; n++) {
		check(r = snap_gr_next(s, &pos, &gr, buf, sizeof(buf)));
		if (r != 1)
			break;
		for (i = 0; gr.members[i] != NULL; i++)
			if (gr.members[i][0] == '\0')
				__builtin_trap();
		id = gr.gid;
		check(snap_getgrgid(s, id, &gr, small, sizeof(small)));
		check(snap_getgrgid(s, id, &gr, buf, sizeof(buf)));
	}
}
