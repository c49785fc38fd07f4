/*
 * test_fleet.c - fleet mode's building blocks (issue 12): Ed25519 keys and
 * manifest signatures, the manifest's strict JSON form, and zstd
 * compression and patch-from deltas.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cdb.h>
#include <fcntl.h>

#include "cdbdata.h"
#include "delta.h"
#include "fleet_sign.h"
#include "manifest.h"
#include "testlib.h"

static char dir[] = "/tmp/okta-fleet-XXXXXX";

static void
keypath(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

TEST(keygen_writes_a_private_key_and_prints_the_public_line)
{
	char path[256], pub[FLEET_PUBKEY_LINE_MAX], err[512];
	struct fleet_pubkey pk;
	EVP_PKEY *k;
	char again[FLEET_PUBKEY_LINE_MAX];
	struct stat sb;

	keypath(path, sizeof(path), "k1");
	ASSERT(fleet_keygen(path, pub, sizeof(pub), err, sizeof(err)) == 0);
	ASSERT(stat(path, &sb) == 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0600);
	ASSERT(strncmp(pub, FLEET_PUBKEY_PREFIX, strlen(FLEET_PUBKEY_PREFIX)) == 0);
	ASSERT(fleet_parse_pubkey(pub, &pk, err, sizeof(err)) == 0);
	k = fleet_load_signing_key(path, err, sizeof(err));
	ASSERT(k != NULL);
	ASSERT(fleet_public_line(k, again, sizeof(again)) == 0);
	EVP_PKEY_free(k);
	ASSERT_STR_EQ(again, pub);
	/* Never over an existing key. */
	ASSERT(fleet_keygen(path, pub, sizeof(pub), err, sizeof(err)) == -1);
	ASSERT(strstr(err, "already exists") != NULL);
}

TEST(a_key_readable_by_others_is_refused)
{
	char path[256], pub[FLEET_PUBKEY_LINE_MAX], err[512];

	keypath(path, sizeof(path), "k2");
	ASSERT(fleet_keygen(path, pub, sizeof(pub), err, sizeof(err)) == 0);
	ASSERT(chmod(path, 0644) == 0);
	ASSERT(fleet_load_signing_key(path, err, sizeof(err)) == NULL);
	ASSERT(strstr(err, "refusing the signing key") != NULL);
}

TEST(signature_verifies_with_the_key_and_only_over_the_same_bytes)
{
	char p1[256], p2[256], pub1[FLEET_PUBKEY_LINE_MAX],
	    pub2[FLEET_PUBKEY_LINE_MAX], err[512], sig[FLEET_SIG_LINE_MAX];
	const char msg[] = "{\"generation\": 7}";
	char bad[sizeof(msg)];
	struct fleet_pubkey keys[2];
	EVP_PKEY *k;

	keypath(p1, sizeof(p1), "s1");
	keypath(p2, sizeof(p2), "s2");
	ASSERT(fleet_keygen(p1, pub1, sizeof(pub1), err, sizeof(err)) == 0);
	ASSERT(fleet_keygen(p2, pub2, sizeof(pub2), err, sizeof(err)) == 0);
	ASSERT(fleet_parse_pubkey(pub1, &keys[0], err, sizeof(err)) == 0);
	ASSERT(fleet_parse_pubkey(pub2, &keys[1], err, sizeof(err)) == 0);
	k = fleet_load_signing_key(p2, err, sizeof(err));
	ASSERT(k != NULL);
	ASSERT(fleet_sign(k, (const unsigned char *)msg, strlen(msg), sig,
	    sizeof(sig), err, sizeof(err)) == 0);
	EVP_PKEY_free(k);
	/* Rotation: any configured key may verify; here the second. */
	ASSERT_INT_EQ(fleet_verify(keys, 2, (const unsigned char *)msg,
	    strlen(msg), sig, strlen(sig), err, sizeof(err)), 1);
	/* One flipped byte of the manifest. */
	memcpy(bad, msg, sizeof(msg));
	bad[5] ^= 1;
	ASSERT_INT_EQ(fleet_verify(keys, 2, (const unsigned char *)bad,
	    strlen(bad), sig, strlen(sig), err, sizeof(err)), -1);
	ASSERT(strstr(err, "changed after it was signed") != NULL);
	/* Signed by a key the subscriber does not have. */
	ASSERT_INT_EQ(fleet_verify(keys, 1, (const unsigned char *)msg,
	    strlen(msg), sig, strlen(sig), err, sizeof(err)), -1);
	ASSERT(strstr(err, "not among the configured") != NULL);
	/* A broken signature line. */
	sig[strlen(FLEET_SIG_PREFIX) + 2] = 'X';
	ASSERT_INT_EQ(fleet_verify(keys, 2, (const unsigned char *)msg,
	    strlen(msg), sig, strlen(sig), err, sizeof(err)), -1);
}

TEST(public_key_lines_are_checked)
{
	struct fleet_pubkey pk;
	char err[512];

	ASSERT(fleet_parse_pubkey("ssh-ed25519 AAAA", &pk, err, sizeof(err)) == -1);
	ASSERT(fleet_parse_pubkey("okta-sync-ed25519 AAAA", &pk, err,
	    sizeof(err)) == -1);
	/* 33 bytes, not 32. */
	ASSERT(fleet_parse_pubkey("okta-sync-ed25519 "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &pk, err,
	    sizeof(err)) == -1);
	/* Non-canonical trailing bits. */
	ASSERT(fleet_parse_pubkey("okta-sync-ed25519 "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", &pk, err,
	    sizeof(err)) == -1);
	ASSERT(fleet_parse_pubkey("  okta-sync-ed25519 "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", &pk, err,
	    sizeof(err)) == 0);
}

static void
sample(struct fleet_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->snapshot_format = 2;
	m->generation = 42;
	m->created = 1764470000;
	strcpy(m->name, "snapshot-42.cdb.zst");
	memset(m->sha256, 0xab, 32);
	m->size = 1000;
	m->compressed_size = 300;
	m->encoding = FLEET_ENC_CDB_DATA;
	m->payload_size = 800;
	m->ndeltas = 1;
	m->deltas[0].from = 41;
	memset(m->deltas[0].base_sha256, 0x01, 32);
	strcpy(m->deltas[0].name, "delta-41-42.zst");
	m->deltas[0].compressed_size = 20;
}

TEST(manifest_round_trips)
{
	struct fleet_manifest m, back;
	char err[512], *text;
	size_t len;

	sample(&m);
	text = fleet_manifest_write(&m, &len);
	ASSERT(text != NULL);
	ASSERT(fleet_manifest_parse(text, len, &back, err, sizeof(err)) == 0);
	free(text);
	ASSERT(memcmp(&m, &back, sizeof(m)) == 0);
}

/* Parse text with one substitution made to the good manifest. */
static int
parse_changed(const char *from, const char *to, char *err, size_t errlen)
{
	struct fleet_manifest m;
	char *text, *p, buf[4096];
	size_t len;
	int rc;

	sample(&m);
	text = fleet_manifest_write(&m, &len);
	if (text == NULL || (p = strstr(text, from)) == NULL) {
		free(text);
		return 99;
	}
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - text), text, to,
	    p + strlen(from));
	free(text);
	rc = fleet_manifest_parse(buf, strlen(buf), &m, err, errlen);
	return rc;
}

TEST(manifest_refuses_what_it_does_not_know)
{
	char err[512];

	ASSERT_INT_EQ(parse_changed("\"generation\"", "\"extra\": 1, \"generation\"",
	    err, sizeof(err)), -1);
	ASSERT(strstr(err, "unknown member") != NULL);
	ASSERT_INT_EQ(parse_changed("snapshot-42.cdb.zst", "../etc/shadow", err,
	    sizeof(err)), -1);
	ASSERT(strstr(err, "plain file name") != NULL);
	ASSERT_INT_EQ(parse_changed("snapshot-42.cdb.zst",
	    "https:\\/\\/evil.example\\/x", err, sizeof(err)), -1);
	ASSERT_INT_EQ(parse_changed("\"okta_sync_fleet\": 1",
	    "\"okta_sync_fleet\": 2", err, sizeof(err)), -1);
	ASSERT(strstr(err, "upgrade okta-sync") != NULL);
	ASSERT_INT_EQ(parse_changed("\"generation\": 42", "\"generation\": 0",
	    err, sizeof(err)), -1);
	ASSERT_INT_EQ(parse_changed("\"generation\": 42", "\"generation\": \"42\"",
	    err, sizeof(err)), -1);
	/* A delta from a generation not below the manifest's. */
	ASSERT_INT_EQ(parse_changed("\"from\": 41", "\"from\": 42", err,
	    sizeof(err)), -1);
	ASSERT_INT_EQ(parse_changed("abababab", "ABABABAB", err, sizeof(err)), -1);
	ASSERT_INT_EQ(parse_changed("\"cdb-data\"", "\"gzip\"", err, sizeof(err)),
	    -1);
	/* A data section is smaller than its file. */
	ASSERT_INT_EQ(parse_changed("\"payload_size\": 800",
	    "\"payload_size\": 1000", err, sizeof(err)), -1);
	ASSERT_INT_EQ(parse_changed("\"size\": 1000", "\"size\": 99999999999999",
	    err, sizeof(err)), -1);
	/* Trailing bytes after the object. */
	ASSERT_INT_EQ(parse_changed("\"deltas\"", "\"deltas\"", err, sizeof(err)),
	    0);
	{
		struct fleet_manifest m;
		const char two[] = "{} {}";
		ASSERT(fleet_manifest_parse(two, strlen(two), &m, err,
		    sizeof(err)) == -1);
	}
}

/* A fake snapshot: records with an id, so that a change moves bytes. */
static unsigned char *
make_blob(size_t n, unsigned seed, unsigned changed)
{
	unsigned char *p = malloc(n);
	size_t i = 0;
	unsigned rec = 0;

	while (p != NULL && i < n) {
		char line[96];
		int k = snprintf(line, sizeof(line), "user%06u:x:%u:%u:User %u:/home/user%06u:/bin/bash\n",
		    rec, 100000 + rec, 100000 + rec, rec % 7 == 0 && rec < changed * 7 ? seed : 0, rec);
		for (int j = 0; j < k && i < n; j++)
			p[i++] = (unsigned char)line[j];
		rec++;
	}
	return p;
}

TEST(compression_round_trips_and_is_bounded)
{
	size_t n = 1 << 20, clen;
	unsigned char *a = make_blob(n, 0, 0);
	void *c = NULL, *back = NULL;
	char err[512];

	ASSERT(a != NULL);
	ASSERT(fleet_compress(NULL, 0, a, n, &c, &clen, err, sizeof(err)) == 0);
	ASSERT(clen < n / 4);
	ASSERT(fleet_decompress(NULL, 0, c, clen, n, &back, err, sizeof(err)) == 0);
	ASSERT(memcmp(a, back, n) == 0);
	free(back);
	/* The manifest says another size: refused before unpacking. */
	ASSERT(fleet_decompress(NULL, 0, c, clen, n - 1, &back, err,
	    sizeof(err)) == -1);
	ASSERT(back == NULL);
	/* Truncated. */
	ASSERT(fleet_decompress(NULL, 0, c, clen - 10, n, &back, err,
	    sizeof(err)) == -1);
	/* Not zstd. */
	ASSERT(fleet_decompress(NULL, 0, a, 100, n, &back, err, sizeof(err)) == -1);
	free(c);
	free(a);
}

TEST(a_delta_is_small_and_needs_the_right_base)
{
	size_t n = 4 << 20, dlen;
	unsigned char *base = make_blob(n, 0, 0);
	unsigned char *next = make_blob(n, 5, 10);
	unsigned char *other = make_blob(n, 9, 100);
	void *d = NULL, *back = NULL;
	char err[512];

	ASSERT(base != NULL && next != NULL && other != NULL);
	ASSERT(memcmp(base, next, n) != 0);
	ASSERT(fleet_compress(base, n, next, n, &d, &dlen, err, sizeof(err)) == 0);
	ASSERT(dlen < 4096);
	ASSERT(fleet_decompress(base, n, d, dlen, n, &back, err, sizeof(err)) == 0);
	ASSERT(memcmp(back, next, n) == 0);
	free(back);
	back = NULL;
	/* Against another base the bytes differ (the frame's checksum). */
	ASSERT(fleet_decompress(other, n, d, dlen, n, &back, err,
	    sizeof(err)) == -1);
	free(d);
	free(base);
	free(next);
	free(other);
}


/* A small cdb file made by cdb_make, read back whole. */
static unsigned char *
small_cdb(size_t *len)
{
	char path[256];
	struct cdb_make cm;
	unsigned char *buf;
	struct stat sb;
	int fd;

	keypath(path, sizeof(path), "small.cdb");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || cdb_make_start(&cm, fd) != 0)
		return NULL;
	for (int i = 0; i < 500; i++) {
		char k[32], v[64];
		int kl = snprintf(k, sizeof(k), "pkey%d", i);
		int vl = snprintf(v, sizeof(v), "value of record %d", i * 7);
		cdb_make_add(&cm, k, (unsigned)kl, v, (unsigned)vl);
	}
	if (cdb_make_finish(&cm) != 0 || fstat(fd, &sb) != 0)
		return NULL;
	buf = malloc((size_t)sb.st_size);
	if (buf == NULL || pread(fd, buf, (size_t)sb.st_size, 0) != sb.st_size)
		return NULL;
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

TEST(a_cdb_file_rebuilds_from_its_data_section_byte_for_byte)
{
	size_t len = 0, start, end, outlen;
	unsigned char *file = small_cdb(&len), *out = NULL;
	char err[256];

	ASSERT(file != NULL);
	ASSERT(cdbdata_section(file, len, &start, &end) == 0);
	ASSERT_INT_EQ(start, 2048);
	ASSERT(end > start && end < len);
	ASSERT(cdbdata_rebuild(file + start, end - start, &out, &outlen, err,
	    sizeof(err)) == 0);
	ASSERT_INT_EQ(outlen, len);
	ASSERT(memcmp(out, file, len) == 0);
	free(out);
	/* A record cut short, and a table of contents pointing outside. */
	ASSERT(cdbdata_rebuild(file + start, end - start - 3, &out, &outlen, err,
	    sizeof(err)) == -1);
	ASSERT(out == NULL);
	file[0] = 0xff, file[1] = 0xff, file[2] = 0xff, file[3] = 0x7f;
	ASSERT(cdbdata_section(file, len, &start, &end) == -1);
	ASSERT(cdbdata_section(file, 100, &start, &end) == -1);
	free(file);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(keygen_writes_a_private_key_and_prints_the_public_line);
	RUN(a_key_readable_by_others_is_refused);
	RUN(signature_verifies_with_the_key_and_only_over_the_same_bytes);
	RUN(public_key_lines_are_checked);
	RUN(manifest_round_trips);
	RUN(manifest_refuses_what_it_does_not_know);
	RUN(compression_round_trips_and_is_bounded);
	RUN(a_delta_is_small_and_needs_the_right_base);
	RUN(a_cdb_file_rebuilds_from_its_data_section_byte_for_byte);
	test_rmtree(dir);
	return test_done();
}
