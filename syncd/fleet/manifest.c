/*
 * manifest.c - the fleet manifest's JSON form (see manifest.h).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "okta.h"

int
fleet_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FLEET_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void
fleet_hex(const unsigned char sha[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[sha[i] >> 4];
		out[2 * i + 1] = hex[sha[i] & 15];
	}
	out[64] = '\0';
}

static int
unhex(const char *s, unsigned char out[32])
{
	if (strlen(s) != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int v = 0;
		for (size_t j = 0; j < 2; j++) {
			char c = s[2 * i + j];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return -1;     /* lowercase only: one spelling */
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static json_object *
u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static json_object *
hexobj(const unsigned char sha[32])
{
	char h[65];

	fleet_hex(sha, h);
	return json_object_new_string(h);
}

char *
fleet_manifest_write(const struct fleet_manifest *m, size_t *len)
{
	json_object *o, *snap, *deltas;
	const char *s;
	char *out = NULL;

	if (m->generation == 0 || m->generation > INT64_MAX ||
	    !fleet_name_ok(m->name) || m->ndeltas > FLEET_DELTAS_MAX ||
	    (m->encoding != FLEET_ENC_FILE && m->encoding != FLEET_ENC_CDB_DATA) ||
	    m->payload_size > FLEET_SNAPSHOT_MAX ||
	    m->size > FLEET_SNAPSHOT_MAX || m->compressed_size > FLEET_SNAPSHOT_MAX)
		return NULL;
	o = json_object_new_object();
	snap = json_object_new_object();
	deltas = json_object_new_array();
	if (o == NULL || snap == NULL || deltas == NULL)
		goto out;
	json_object_object_add(o, "okta_sync_fleet",
	    json_object_new_int(FLEET_MANIFEST_FORMAT));
	json_object_object_add(o, "snapshot_format",
	    json_object_new_int64(m->snapshot_format));
	json_object_object_add(o, "generation", u64(m->generation));
	json_object_object_add(o, "created", json_object_new_int64(m->created));
	json_object_object_add(snap, "name", json_object_new_string(m->name));
	json_object_object_add(snap, "sha256", hexobj(m->sha256));
	json_object_object_add(snap, "size", u64(m->size));
	json_object_object_add(snap, "encoding", json_object_new_string(
	    m->encoding == FLEET_ENC_CDB_DATA ? "cdb-data" : "file"));
	json_object_object_add(snap, "payload_size", u64(m->payload_size));
	json_object_object_add(snap, "compressed_size", u64(m->compressed_size));
	json_object_object_add(o, "snapshot", snap);
	snap = NULL;
	for (size_t i = 0; i < m->ndeltas; i++) {
		const struct fleet_delta *d = &m->deltas[i];
		json_object *e = json_object_new_object();

		if (e == NULL || !fleet_name_ok(d->name) || d->from == 0 ||
		    d->from >= m->generation || d->compressed_size > FLEET_SNAPSHOT_MAX) {
			json_object_put(e);
			goto out;
		}
		json_object_object_add(e, "from", u64(d->from));
		json_object_object_add(e, "base_sha256", hexobj(d->base_sha256));
		json_object_object_add(e, "name", json_object_new_string(d->name));
		json_object_object_add(e, "compressed_size", u64(d->compressed_size));
		json_object_array_add(deltas, e);
	}
	json_object_object_add(o, "deltas", deltas);
	deltas = NULL;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL && (out = strdup(s)) != NULL)
		*len = strlen(out);
out:
	json_object_put(snap);
	json_object_put(deltas);
	json_object_put(o);
	return out;
}

/* ---- parsing ---------------------------------------------------------- */

struct member_rule {
	const char *name;
	json_type type;
};

/* Every member of o is in rules[0..n), and every rule's member is there
 * with its type.  0, or -1 with err set. */
static int
check_members(json_object *o, const char *where, const struct member_rule *rules,
    size_t n, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "%s is not a JSON object", where);
		return -1;
	}
	json_object_object_foreach(o, key, val) {
		size_t i;
		(void)val;
		for (i = 0; i < n; i++)
			if (strcmp(key, rules[i].name) == 0)
				break;
		if (i == n) {
			snprintf(err, errlen, "%s has an unknown member (a manifest "
			    "from a newer okta-sync?)", where);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_object *v;
		if (!json_object_object_get_ex(o, rules[i].name, &v) ||
		    !json_object_is_type(v, rules[i].type)) {
			snprintf(err, errlen, "%s: \"%s\" is missing or not of its type",
			    where, rules[i].name);
			return -1;
		}
	}
	return 0;
}

static json_object *
get(json_object *o, const char *name)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, name, &v);
	return v;
}

/* An integer member in [min, max].  json-c saturates out-of-range
 * numbers at INT64_MIN/MAX, so the range check also catches those. */
static int
get_int(json_object *o, const char *where, const char *name, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen)
{
	int64_t v;

	errno = 0;
	v = json_object_get_int64(get(o, name));
	if (errno != 0 || v < min || v > max) {
		snprintf(err, errlen, "%s: \"%s\" is out of range", where, name);
		return -1;
	}
	*out = v;
	return 0;
}

static int
get_name(json_object *o, const char *where, char out[FLEET_NAME_MAX + 1],
    char *err, size_t errlen)
{
	json_object *v = get(o, "name");
	const char *s = json_object_get_string(v);

	if ((size_t)json_object_get_string_len(v) != strlen(s) ||
	    !fleet_name_ok(s)) {
		snprintf(err, errlen, "%s: \"name\" is not a plain file name", where);
		return -1;
	}
	strcpy(out, s);
	return 0;
}

static int
get_sha(json_object *o, const char *where, const char *name,
    unsigned char out[32], char *err, size_t errlen)
{
	json_object *v = get(o, name);

	if ((size_t)json_object_get_string_len(v) != 64 ||
	    unhex(json_object_get_string(v), out) != 0) {
		snprintf(err, errlen, "%s: \"%s\" is not 64 lowercase hex digits",
		    where, name);
		return -1;
	}
	return 0;
}

/* The top-level numbers. */
static int
parse_top(json_object *o, struct fleet_manifest *m, char *err, size_t errlen)
{
	static const struct member_rule top[] = {
		{"okta_sync_fleet", json_type_int}, {"snapshot_format", json_type_int},
		{"generation", json_type_int}, {"created", json_type_int},
		{"snapshot", json_type_object}, {"deltas", json_type_array}};
	const char *w = "the manifest";
	int64_t v;

	if (check_members(o, w, top, sizeof(top) / sizeof(top[0]), err,
	    errlen) != 0 ||
	    get_int(o, w, "okta_sync_fleet", 1, INT32_MAX, &v, err, errlen) != 0)
		return -1;
	if (v != FLEET_MANIFEST_FORMAT) {
		snprintf(err, errlen, "the manifest is of format %lld, this okta-sync "
		    "reads format %d: upgrade okta-sync on this host", (long long)v,
		    FLEET_MANIFEST_FORMAT);
		return -1;
	}
	if (get_int(o, w, "snapshot_format", 1, UINT32_MAX, &v, err, errlen) != 0)
		return -1;
	m->snapshot_format = (uint32_t)v;
	if (get_int(o, w, "generation", 1, INT64_MAX, &v, err, errlen) != 0)
		return -1;
	m->generation = (uint64_t)v;
	if (get_int(o, w, "created", 0, INT64_MAX, &v, err, errlen) != 0)
		return -1;
	m->created = v;
	return 0;
}

/* "snapshot": what the payloads unpack to, and the file they make. */
static int
parse_snapshot(json_object *s, struct fleet_manifest *m, char *err,
    size_t errlen)
{
	static const struct member_rule snap[] = {
		{"name", json_type_string}, {"sha256", json_type_string},
		{"size", json_type_int}, {"encoding", json_type_string},
		{"payload_size", json_type_int}, {"compressed_size", json_type_int}};
	const char *w = "the manifest's snapshot", *enc;
	const int64_t max = (int64_t)FLEET_SNAPSHOT_MAX;
	json_object *e;
	int64_t v;

	if (check_members(s, w, snap, sizeof(snap) / sizeof(snap[0]), err,
	    errlen) != 0 || get_name(s, w, m->name, err, errlen) != 0 ||
	    get_sha(s, w, "sha256", m->sha256, err, errlen) != 0 ||
	    get_int(s, w, "size", 1, max, &v, err, errlen) != 0)
		return -1;
	m->size = (uint64_t)v;
	if (get_int(s, w, "compressed_size", 1, max, &v, err, errlen) != 0)
		return -1;
	m->compressed_size = (uint64_t)v;
	if (get_int(s, w, "payload_size", 1, max, &v, err, errlen) != 0)
		return -1;
	m->payload_size = (uint64_t)v;
	e = get(s, "encoding");
	enc = json_object_get_string(e);
	if ((size_t)json_object_get_string_len(e) != strlen(enc))
		enc = "";
	if (strcmp(enc, "file") == 0 && m->payload_size == m->size)
		m->encoding = FLEET_ENC_FILE;
	else if (strcmp(enc, "cdb-data") == 0 && m->payload_size < m->size)
		m->encoding = FLEET_ENC_CDB_DATA;
	else {
		snprintf(err, errlen, "%s: \"encoding\" is not \"file\" or "
		    "\"cdb-data\" with a payload_size that fits it", w);
		return -1;
	}
	return 0;
}

/* One element of "deltas", into m->deltas[m->ndeltas]. */
static int
parse_delta(json_object *d, struct fleet_manifest *m, char *err, size_t errlen)
{
	static const struct member_rule delta[] = {
		{"from", json_type_int}, {"base_sha256", json_type_string},
		{"name", json_type_string}, {"compressed_size", json_type_int}};
	struct fleet_delta *fd = &m->deltas[m->ndeltas];
	const char *w = "a delta of the manifest";
	int64_t v;

	if (check_members(d, w, delta, sizeof(delta) / sizeof(delta[0]), err,
	    errlen) != 0 || get_name(d, w, fd->name, err, errlen) != 0 ||
	    get_sha(d, w, "base_sha256", fd->base_sha256, err, errlen) != 0 ||
	    get_int(d, w, "from", 1, (int64_t)m->generation - 1, &v, err,
	    errlen) != 0)
		return -1;
	fd->from = (uint64_t)v;
	if (get_int(d, w, "compressed_size", 1, (int64_t)FLEET_SNAPSHOT_MAX, &v,
	    err, errlen) != 0)
		return -1;
	fd->compressed_size = (uint64_t)v;
	m->ndeltas++;
	return 0;
}

int
fleet_manifest_parse(const char *text, size_t len, struct fleet_manifest *m,
    char *err, size_t errlen)
{
	json_object *o, *ds;
	int oom = 0, rc = -1;

	memset(m, 0, sizeof(*m));
	if (len > FLEET_MANIFEST_MAX) {
		snprintf(err, errlen, "the manifest is larger than %d bytes",
		    FLEET_MANIFEST_MAX);
		return -1;
	}
	o = okta_parse_json(text, len, &oom);
	if (o == NULL) {
		snprintf(err, errlen, oom ? "out of memory reading the manifest" :
		    "the manifest is not one JSON value");
		return -1;
	}
	if (parse_top(o, m, err, errlen) != 0 ||
	    parse_snapshot(get(o, "snapshot"), m, err, errlen) != 0)
		goto out;
	ds = get(o, "deltas");
	if (json_object_array_length(ds) > FLEET_DELTAS_MAX) {
		snprintf(err, errlen, "the manifest lists more than %d deltas",
		    FLEET_DELTAS_MAX);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(ds); i++)
		if (parse_delta(json_object_array_get_idx(ds, i), m, err,
		    errlen) != 0)
			goto out;
	rc = 0;
out:
	json_object_put(o);
	if (rc != 0)
		memset(m, 0, sizeof(*m));
	return rc;
}
