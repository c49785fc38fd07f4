/*
 * snapdump.c - print a snapshot as one JSON document, read through the
 * real reader (common/snapshot.h), so that the sync tests can compare what
 * was published with the plan, field by field.
 *
 *   build/tests/snapdump SNAPSHOT
 *
 * Output: {"meta": {...}, "users": [{"name", "uid", "gid", "gecos", "dir",
 * "shell", "status", "gids": [...], "keys": [...]}], "groups": [{"name",
 * "gid", "members": [...]}]}.  "keys" holds the user's SSH public key
 * lines (the 'k' record, as snap_user_keys hands them out: framing
 * checked, not sshkey_check), [] when the user has none.  Exit 0, or 1
 * with a message on stderr (also for a corrupt record).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static char buf[1 << 22];

static int
add_key(void *ctx, const char *line, size_t len)
{
	json_object_array_add(ctx, json_object_new_string_len(line, (int)len));
	return 0;
}

static int
add_gid(void *ctx, uint32_t gid)
{
	json_object_array_add(ctx, json_object_new_int64(gid));
	return 0;
}

int
main(int argc, char **argv)
{
	struct snap *s = NULL;
	const struct snap_meta *m;
	struct snap_pw pw;
	struct snap_gr gr;
	json_object *doc, *meta, *users, *groups, *o, *gids, *mem, *keys;
	uint64_t pos;
	int r;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: snapdump SNAPSHOT\n");
		return 1;
	}
	if (snap_open(argv[1], &s) != 0) {
		fprintf(stderr, "snapdump: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	m = snap_get_meta(s);
	doc = json_object_new_object();
	meta = json_object_new_object();
	json_object_object_add(meta, "format_version", json_object_new_int64(m->format_version));
	json_object_object_add(meta, "last_sync", json_object_new_int64(m->last_sync));
	json_object_object_add(meta, "generation", json_object_new_int64((int64_t)m->generation));
	json_object_object_add(meta, "nusers", json_object_new_int64(m->nusers));
	json_object_object_add(meta, "ngroups", json_object_new_int64(m->ngroups));
	json_object_object_add(doc, "meta", meta);

	users = json_object_new_array();
	pos = 0;
	while ((r = snap_pw_next(s, &pos, &pw, buf, sizeof(buf))) == 1) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(pw.name));
		json_object_object_add(o, "uid", json_object_new_int64(pw.uid));
		json_object_object_add(o, "gid", json_object_new_int64(pw.gid));
		json_object_object_add(o, "gecos", json_object_new_string(pw.gecos));
		json_object_object_add(o, "dir", json_object_new_string(pw.dir));
		json_object_object_add(o, "shell", json_object_new_string(pw.shell));
		json_object_object_add(o, "status",
		    json_object_new_string(okta_status_name(pw.status)));
		gids = json_object_new_array();
		if (snap_user_gids(s, pw.name, add_gid, gids) < 0) {
			fprintf(stderr, "snapdump: gids of %s: %s\n", pw.name,
			    strerror(errno));
			return 1;
		}
		json_object_object_add(o, "gids", gids);
		keys = json_object_new_array();
		if (snap_user_keys(s, pw.name, add_key, keys) < 0) {
			fprintf(stderr, "snapdump: SSH keys of %s: %s\n", pw.name,
			    strerror(errno));
			json_object_put(keys);
			json_object_put(o);
			json_object_put(users);
			json_object_put(doc);
			snap_close(s);
			return 1;
		}
		json_object_object_add(o, "keys", keys);
		json_object_array_add(users, o);
	}
	if (r < 0) {
		fprintf(stderr, "snapdump: users: %s\n", strerror(errno));
		return 1;
	}
	json_object_object_add(doc, "users", users);

	groups = json_object_new_array();
	pos = 0;
	while ((r = snap_gr_next(s, &pos, &gr, buf, sizeof(buf))) == 1) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(gr.name));
		json_object_object_add(o, "gid", json_object_new_int64(gr.gid));
		mem = json_object_new_array();
		for (i = 0; gr.members[i] != NULL; i++)
			json_object_array_add(mem, json_object_new_string(gr.members[i]));
		json_object_object_add(o, "members", mem);
		json_object_array_add(groups, o);
	}
	if (r < 0) {
		fprintf(stderr, "snapdump: groups: %s\n", strerror(errno));
		return 1;
	}
	json_object_object_add(doc, "groups", groups);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	snap_close(s);
	return 0;
}
