/*
 * userkeys.c - an Okta profile attribute -> the user's checked SSH keys
 * and the reasons for those refused (the rules are in userkeys.h).
 *
 * Every key goes through sshkey_check(), the one checker the key program
 * runs again on what it prints; nothing here decides what a good key is.
 * Sentences never quote the attribute's text: a line may hold control
 * bytes or a terminal escape.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "sshkey.h"
#include "userkeys.h"
#include "xmalloc.h"

/* One run over an attribute's value. */
struct keyrun {
	struct userkeys *k;
	size_t len, cap;           /* of k->lines */
	const char *attr;
	int allow_options;
	int string_form;           /* one string: positions are line numbers */
	size_t over;               /* keys left out after SNAP_KEYS_MAX */
	size_t unsaid;             /* rejections past USERKEYS_REJECTS_MAX */
	char canon[SSHKEY_LINE_MAX + 1];
};

static void reject(struct keyrun *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reject(struct keyrun *r, const char *fmt, ...)
{
	struct userkeys *k = r->k;
	char buf[512];
	va_list ap;

	if (k->nrejects >= USERKEYS_REJECTS_MAX) {
		r->unsaid++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	k->rejects = xreallocarray(k->rejects, k->nrejects + 1,
	    sizeof(*k->rejects));
	k->rejects[k->nrejects++] = xstrdup(buf);
}

/* A token that may be named in a message: a key type's characters only,
 * starting as every known type does. */
static int
type_like(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 48 || !(strncmp(s, "ssh-", 4) == 0 ||
	    strncmp(s, "ecdsa-", 6) == 0 || strncmp(s, "sk-", 3) == 0))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '@' || s[i] == '.'))
			return 0;
	return 1;
}

/* The type a refused line claims, for its rejection: the first of its
 * first three space-separated tokens that looks like one. */
static const char *
guess_type(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i = 0, start, tokens;

	for (tokens = 0; tokens < 3 && i < len; tokens++) {
		while (i < len && s[i] == ' ')
			i++;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		if (type_like(s + start, i - start) && i - start < outlen) {
			memcpy(out, s + start, i - start);
			out[i - start] = '\0';
			return out;
		}
	}
	return "type not recognised";
}

/* The length of the part of a canonical line that makes it the same key
 * (options, type and base64; not the comment). */
static size_t
identity_len(const char *line)
{
	char type[64];
	size_t tlen;
	const char *p = line, *b;

	sshkey_type(line, type, sizeof(type));
	tlen = strlen(type);
	while (tlen > 0 && (p = strstr(p, type)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[tlen] == ' ') {
			b = strchr(p + tlen + 1, ' ');
			return b != NULL ? (size_t)(b - line) : strlen(line);
		}
		p += tlen;
	}
	return strlen(line);
}

/* Is the canonical line r->canon a key already accepted? */
static int
seen_before(const struct keyrun *r)
{
	size_t n = identity_len(r->canon);
	const char *p = r->k->lines, *end;

	for (; p != NULL && *p != '\0'; p = end + 1) {
		end = strchr(p, '\n');
		if (identity_len(p) == n && strncmp(p, r->canon, n) == 0)
			return 1;
	}
	return 0;
}

static void
append_line(struct keyrun *r)
{
	size_t n = strlen(r->canon);

	if (r->len + n + 2 > r->cap) {
		r->cap = (r->len + n + 2) * 2;
		r->k->lines = xreallocarray(r->k->lines, r->cap, 1);
	}
	memcpy(r->k->lines + r->len, r->canon, n);
	r->len += n;
	r->k->lines[r->len++] = '\n';
	r->k->lines[r->len] = '\0';
	r->k->nkeys++;
}

/* Blank, or an authorized_keys comment line: nothing to take. */
static int
skipped(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	return i == len || s[i] == '#';
}

/* One key: the item or line at position pos (1-based). */
static void
take_key(struct keyrun *r, const char *s, size_t len, size_t pos)
{
	char why[SSHKEY_WHY_MAX], type[64];

	if (skipped(s, len))
		return;
	if (r->k->nkeys >= SNAP_KEYS_MAX) {
		r->over++;
		return;
	}
	if (sshkey_check(s, len, r->allow_options, r->canon, sizeof(r->canon),
	    why, sizeof(why)) != 0) {
		reject(r, "SSH key %s%zu of %s (%s): %s",
		    r->string_form ? "on line " : "", pos, r->attr,
		    guess_type(s, len, type, sizeof(type)), why);
		return;
	}
	if (!seen_before(r))
		append_line(r);
}

/* The string form: keys separated by LF. */
static void
take_string(struct keyrun *r, const char *s, size_t len)
{
	size_t pos = 1, start = 0, i;

	r->string_form = 1;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '\n')
			continue;
		take_key(r, s + start, i - start, pos++);
		start = i + 1;
	}
}

/* The array form: every item must be a string, or no key is taken. */
static void
take_array(struct keyrun *r, json_object *v)
{
	size_t i, n = json_object_array_length(v);
	json_object *item;

	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (item != NULL && !json_object_is_type(item, json_type_string)) {
			reject(r, "%s item %zu is not a string: no SSH key of "
			    "the user is taken (the attribute must be an array "
			    "of strings)", r->attr, i + 1);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (item != NULL)
			take_key(r, json_object_get_string(item),
			    (size_t)json_object_get_string_len(item), i + 1);
	}
}

/* The JSON type of v as an admin knows it. */
static const char *
json_kind(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		return "number";
	case json_type_boolean:
		return "boolean";
	case json_type_object:
		return "object";
	default:
		return "value of another type";
	}
}

void
userkeys_map(const struct config *c, json_object *profile,
    struct userkeys *k)
{
	struct keyrun *r;
	json_object *v;

	memset(k, 0, sizeof(*k));
	if (c->ssh_keys_attribute == NULL || profile == NULL ||
	    !json_object_object_get_ex(profile, c->ssh_keys_attribute, &v) ||
	    v == NULL)
		return;
	r = xmalloc(sizeof(*r));
	memset(r, 0, offsetof(struct keyrun, canon));
	r->k = k;
	r->attr = c->ssh_keys_attribute;
	r->allow_options = c->ssh_keys_allow_options;
	if (json_object_is_type(v, json_type_array))
		take_array(r, v);
	else if (json_object_is_type(v, json_type_string))
		take_string(r, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	else
		reject(r, "%s is not an array of strings or a string (it is a "
		    "JSON %s): no SSH key of the user is taken", r->attr,
		    json_kind(v));
	if (r->over > 0)
		reject(r, "%s holds more than %d SSH keys: %zu more not taken",
		    r->attr, SNAP_KEYS_MAX, r->over);
	if (r->unsaid > 0) {
		r->k->nrejects--;   /* make room for the count */
		free(r->k->rejects[r->k->nrejects]);
		reject(r, "%zu more SSH keys of %s rejected", r->unsaid + 1,
		    r->attr);
	}
	free(r);
}

void
userkeys_free(struct userkeys *k)
{
	size_t i;

	for (i = 0; i < k->nrejects; i++)
		free(k->rejects[i]);
	free(k->rejects);
	free(k->lines);
	memset(k, 0, sizeof(*k));
}

size_t
userkeys_count(const char *lines)
{
	size_t n = 0;

	for (; lines != NULL && *lines != '\0'; lines++)
		if (*lines == '\n')
			n++;
	return n;
}

int
userkeys_next(const char **pos, const char **line, size_t *len)
{
	const char *p = *pos, *end;

	if (p == NULL || *p == '\0' || (end = strchr(p, '\n')) == NULL)
		return 0;
	*line = p;
	*len = (size_t)(end - p);
	*pos = end + 1;
	return 1;
}

/* Does the stored list `lines` hold the line p (n bytes, no '\n')? */
static int
holds_line(const char *lines, const char *p, size_t n)
{
	const char *pos = lines, *q;
	size_t len;

	while (userkeys_next(&pos, &q, &len))
		if (len == n && memcmp(q, p, n) == 0)
			return 1;
	return 0;
}

/* Append to out the types of the lines of `lines` that `other` does not
 * hold (other NULL: every line), comma-separated.  Returns how many. */
static size_t
list_types(const char *lines, const char *other, char *out, size_t outlen)
{
	const char *pos = lines, *p;
	char type[64], line[SSHKEY_LINE_MAX + 1];
	size_t n = 0, used, len;

	while (userkeys_next(&pos, &p, &len)) {
		if (other != NULL && holds_line(other, p, len))
			continue;
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		used = strlen(out);
		snprintf(out + used, outlen - used, "%s%s", n ? ", " : "",
		    sshkey_type(line, type, sizeof(type)));
		n++;
	}
	return n;
}

const char *
userkeys_describe(const char *lines, char *out, size_t outlen)
{
	size_t n = userkeys_count(lines), used;

	snprintf(out, outlen, "%zu key%s", n, n == 1 ? "" : "s");
	if (n > 0) {
		used = strlen(out);
		snprintf(out + used, outlen - used, ": ");
		list_types(lines, NULL, out, outlen);
	}
	return out;
}

const char *
userkeys_diff(const char *old, const char *new, char *out, size_t outlen)
{
	char added[256] = "", removed[256] = "";
	size_t na, nr;

	na = list_types(new, old, added, sizeof(added));
	nr = list_types(old, new, removed, sizeof(removed));
	snprintf(out, outlen, "%zu -> %zu (%s%s%s%s%s)", userkeys_count(old),
	    userkeys_count(new), na ? "added " : "", added,
	    na && nr ? "; " : "", nr ? "removed " : "", removed);
	return out;
}
