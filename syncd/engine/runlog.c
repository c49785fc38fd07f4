/*
 * runlog.c - the latest errors of failed syncs, kept in
 * <cache dir>/sync-errors.log outside cache.db (see runlog.h).
 *
 * The file is tiny (at most RUNLOG_KEEP lines), so a record reads it
 * whole, drops the oldest entries and writes it again through a temporary
 * file and rename().  Two writers at once (a CLI sync refused as busy while
 * the daemon fails) can at worst lose one of the two records; neither
 * leaves a torn file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "runlog.h"
#include "xmalloc.h"

static const char *const names[OK_ERR_MAX] = {
	[OK_SUCCESS] = "OK_SUCCESS",
	[OK_ERR_CONFIG] = "OK_ERR_CONFIG",
	[OK_ERR_TOKEN_FILE] = "OK_ERR_TOKEN_FILE",
	[OK_ERR_DNS] = "OK_ERR_DNS",
	[OK_ERR_CONNECT] = "OK_ERR_CONNECT",
	[OK_ERR_TLS] = "OK_ERR_TLS",
	[OK_ERR_AUTH] = "OK_ERR_AUTH",
	[OK_ERR_FORBIDDEN] = "OK_ERR_FORBIDDEN",
	[OK_ERR_NOT_FOUND] = "OK_ERR_NOT_FOUND",
	[OK_ERR_RATE_LIMIT] = "OK_ERR_RATE_LIMIT",
	[OK_ERR_SERVER] = "OK_ERR_SERVER",
	[OK_ERR_TIMEOUT] = "OK_ERR_TIMEOUT",
	[OK_ERR_PROTOCOL] = "OK_ERR_PROTOCOL",
	[OK_ERR_CACHE] = "OK_ERR_CACHE",
	[OK_ERR_PUBLISH] = "OK_ERR_PUBLISH",
	[OK_ERR_REFUSED] = "OK_ERR_REFUSED",
	[OK_ERR_BUSY] = "OK_ERR_BUSY",
	[OK_ERR_INTERRUPTED] = "OK_ERR_INTERRUPTED",
	[OK_ERR_INTERNAL] = "OK_ERR_INTERNAL",
};

const char *
runlog_err_name(okerr rc)
{
	if ((int)rc < 0 || rc >= OK_ERR_MAX || names[rc] == NULL)
		return "OK_ERR_UNKNOWN";
	return names[rc];
}

const char *
runlog_err_sentence(const char *name)
{
	int i;

	for (i = 0; i < OK_ERR_MAX; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return err_sentence((okerr)i);
	return NULL;
}

/* Copy s into dst (size n), cut at a UTF-8 character boundary. */
static void
copy_utf8(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (len >= n) {
		len = n - 1;
		/* Back off over continuation bytes (10xxxxxx) so that a cut
		 * never leaves half a character. */
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Parse one line into *e: 1 parsed, 0 not an entry (skipped). */
static int
parse_line(const char *line, struct runlog_entry *e)
{
	json_object *o, *t, *er, *m;
	int ok = 0;

	o = json_tokener_parse(line);
	if (o == NULL)
		return 0;
	if (json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "time", &t) &&
	    json_object_is_type(t, json_type_int) &&
	    json_object_object_get_ex(o, "error", &er) &&
	    json_object_is_type(er, json_type_string)) {
		memset(e, 0, sizeof(*e));
		e->time = (long long)json_object_get_int64(t);
		copy_utf8(e->error, sizeof(e->error), json_object_get_string(er));
		if (json_object_object_get_ex(o, "message", &m) &&
		    json_object_is_type(m, json_type_string))
			copy_utf8(e->message, sizeof(e->message),
			    json_object_get_string(m));
		ok = 1;
	}
	json_object_put(o);
	return ok;
}

/*
 * Read the entries of path in file order (oldest first), keeping the last
 * `max` in v (a ring, then straightened).  Returns the count, 0 when the
 * file is missing, -1 with errno otherwise.
 */
static int
read_file_order(const char *path, struct runlog_entry *v, size_t max)
{
	FILE *f = NULL;
	char *line = NULL, *tmp;
	size_t cap = 0, n = 0, total = 0, i, start;
	ssize_t len;
	int fd, rc = -1, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((f = fdopen(fd, "r")) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (max == 0) {
		rc = 0;
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		if ((size_t)len > RUNLOG_LINE_MAX)
			continue;
		if (!parse_line(line, &v[total % max]))
			continue;
		total++;
	}
	if (ferror(f))
		goto out;
	n = total < max ? total : max;
	if (total > max) {
		/* Rotate so that v[0] is the oldest kept entry. */
		start = total % max;
		tmp = xreallocarray(NULL, max, sizeof(*v));
		for (i = 0; i < max; i++)
			memcpy(tmp + i * sizeof(*v), &v[(start + i) % max],
			    sizeof(*v));
		memcpy(v, tmp, max * sizeof(*v));
		free(tmp);
	}
	rc = (int)n;
out:
	saved = errno;
	free(line);
	fclose(f);
	errno = saved;
	return rc;
}

int
runlog_read(const char *cache_dir, struct runlog_entry *v, size_t max)
{
	struct runlog_entry t;
	char *path;
	int n, i;

	if (max > RUNLOG_KEEP)
		max = RUNLOG_KEEP;
	path = xasprintf("%s/%s", cache_dir, RUNLOG_NAME);
	n = read_file_order(path, v, max);
	free(path);
	/* Newest first. */
	for (i = 0; i < n / 2; i++) {
		t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	return n;
}

/* One entry as a JSON line into f.  0 or -1. */
static int
write_entry(FILE *f, const struct runlog_entry *e)
{
	json_object *o = json_object_new_object();
	int rc;

	json_object_object_add(o, "time", json_object_new_int64(e->time));
	json_object_object_add(o, "error", json_object_new_string(e->error));
	json_object_object_add(o, "message", json_object_new_string(e->message));
	rc = fprintf(f, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ? -1 : 0;
	json_object_put(o);
	return rc;
}

void
runlog_record_failure(const char *cache_dir, okerr rc, const char *detail)
{
	struct runlog_entry *v;
	char *path, *tmp = NULL;
	FILE *f = NULL;
	int n, i, fd = -1, ok = 0;

	v = xcalloc(RUNLOG_KEEP, sizeof(*v));
	path = xasprintf("%s/%s", cache_dir, RUNLOG_NAME);
	if (mkdir(cache_dir, 0755) != 0 && errno != EEXIST) {
		warn("cannot record the sync error in %s: %s", path,
		    strerror(errno));
		goto out;
	}
	/* Keep room for the new entry. */
	n = read_file_order(path, v, RUNLOG_KEEP - 1);
	if (n < 0) {
		/* An unreadable old log is replaced, not kept failing. */
		warn("cannot read %s (%s); starting it afresh", path,
		    strerror(errno));
		n = 0;
	}
	v[n].time = (long long)time(NULL);
	copy_utf8(v[n].error, sizeof(v[n].error), runlog_err_name(rc));
	copy_utf8(v[n].message, sizeof(v[n].message), detail ? detail : "");
	n++;

	tmp = xasprintf("%s.XXXXXX", path);
	/* mkostemp creates the file 0600, which is the mode wanted. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		warn("cannot record the sync error: cannot create a temporary "
		    "file next to %s: %s", path, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		warn("cannot record the sync error in %s: %s", path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (write_entry(f, &v[i]) != 0)
			break;
	if (i < n || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		warn("cannot record the sync error in %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		warn("cannot record the sync error in %s: %s", path,
		    strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		warn("cannot record the sync error: cannot rename %s to %s: %s",
		    tmp, path, strerror(errno));
		goto out;
	}
	ok = 1;
out:
	if (f != NULL)
		fclose(f);
	if (tmp != NULL && !ok)
		unlink(tmp);
	free(tmp);
	free(path);
	free(v);
}
