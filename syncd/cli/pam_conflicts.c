/*
 * pam_conflicts.c - pam_okta.so module-line options against [pam] (see
 * pam_conflicts.h).
 *
 * A PAM line is "[-]type control module [args...]", where control may be
 * a bracketed list with spaces ("[success=ok default=bad]"); '#' starts a
 * comment.  Only lines whose module's base name is pam_okta.so are looked
 * at; an option pam_okta does not know is not ours to judge here (the
 * module itself logs it and denies Okta users).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pam_conflicts.h"
#include "snapshot.h"
#include "xmalloc.h"

#define LINE_MAX_LEN 4096

/* Where [pam] set a key: "okta-sync.conf:12", or "the default". */
static const char *
where(const struct config *c, int line, char *buf, size_t len)
{
	if (line > 0)
		snprintf(buf, len, "%s:%d", c->path, line);
	else
		snprintf(buf, len, "the default");
	return buf;
}

/* Is the comma-separated list v the same set of names as [pam]'s? */
static int
same_groups(const struct config *c, const char *v)
{
	char *copy = xstrdup(v), *tok, *save = NULL;
	size_t n = 0, i;
	int same = 1, found;

	for (tok = strtok_r(copy, ",", &save); tok != NULL && same;
	    tok = strtok_r(NULL, ",", &save)) {
		n++;
		found = 0;
		for (i = 0; i < c->pam.nallowed; i++)
			if (strcmp(c->pam.allowed_groups[i], tok) == 0)
				found = 1;
		same = found;
	}
	free(copy);
	/* Names are unique in neither list; equal sets with duplicates are
	 * rare enough to be reported. */
	return same && n == c->pam.nallowed;
}

/*
 * One option of a pam_okta line: print a conflict when it differs from
 * [pam].  Returns 1 for a conflict, else 0.
 */
static int
check_option(const struct config *c, const char *file, int lineno,
    const char *arg, FILE *out)
{
	const struct config_pam *pp = &c->pam;
	const char *eq = strchr(arg, '='), *v;
	char key[32], w[4200], d1[32], d2[32];
	long long secs;
	int want, have, line;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(key))
		return 0;
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	v = eq + 1;
	if (strcmp(key, "allowed_groups") == 0) {
		if (same_groups(c, v))
			return 0;
		fprintf(out, "%s:%d: conflict: pam_okta.so allowed_groups=%s, "
		    "but [pam] allowed_groups is %s (%s); on this line the "
		    "option wins\n", file, lineno, v, pp->nallowed ?
		    "set" : "empty: any group", where(c,
		    pp->line_allowed_groups, w, sizeof(w)));
		return 1;
	}
	if (strcmp(key, "max_cache_age") == 0) {
		if (snap_policy_parse_duration(v, &secs) != 0 ||
		    secs == pp->max_cache_age)
			return 0;
		fprintf(out, "%s:%d: conflict: pam_okta.so max_cache_age=%s "
		    "(%s), but [pam] max_cache_age is %s (%s); on this line "
		    "the option wins\n", file, lineno, v,
		    secs ? snap_policy_format_duration(secs, d1, sizeof(d1)) :
		    "no limit", pp->max_cache_age ? snap_policy_format_duration(
		    pp->max_cache_age, d2, sizeof(d2)) : "0, no limit",
		    where(c, pp->line_max_cache_age, w, sizeof(w)));
		return 1;
	}
	/* The two-valued settings: want is what the option means, have
	 * what [pam] says, both in the option's terms. */
	if (strcmp(key, "stale_policy") == 0) {
		want = strcmp(v, "allow") == 0;
		have = pp->stale_allow;
		line = pp->line_stale_policy;
		if (!want && strcmp(v, "deny") != 0)
			return 0;
		if (want == have)
			return 0;
		fprintf(out, "%s:%d: conflict: pam_okta.so stale_policy=%s, but "
		    "[pam] stale_policy is %s (%s); on this line the option "
		    "wins\n", file, lineno, v, have ? "allow" : "deny",
		    where(c, line, w, sizeof(w)));
		return 1;
	}
	if (strcmp(key, "recovery") == 0 || strcmp(key, "password_expired") == 0) {
		int deny = key[0] == 'r' ? pp->deny_recovery :
		    pp->deny_password_expired;

		line = key[0] == 'r' ? pp->line_deny_recovery :
		    pp->line_deny_password_expired;
		if (strcmp(v, "deny") != 0 && strcmp(v, "allow") != 0)
			return 0;
		if ((strcmp(v, "deny") == 0) == deny)
			return 0;
		fprintf(out, "%s:%d: conflict: pam_okta.so %s=%s, but [pam] "
		    "deny_%s is %s (%s); on this line the option wins\n", file,
		    lineno, key, v, key, deny ? "yes" : "no",
		    where(c, line, w, sizeof(w)));
		return 1;
	}
	if (strcmp(key, "tombstone") == 0) {
		if (strcmp(v, "deny") != 0 && strcmp(v, "ignore") != 0)
			return 0;
		if ((strcmp(v, "ignore") == 0) == pp->tombstone_ignore)
			return 0;
		fprintf(out, "%s:%d: conflict: pam_okta.so tombstone=%s, but "
		    "[pam] tombstone is %s (%s); on this line the option "
		    "wins\n", file, lineno, v, pp->tombstone_ignore ? "ignore" :
		    "deny", where(c, pp->line_tombstone, w, sizeof(w)));
		return 1;
	}
	return 0;
}

/* One PAM line (comment already cut): conflicts found. */
static int
check_line(const struct config *c, const char *file, int lineno, char *s,
    FILE *out)
{
	char *p = s, *tok[3], *slash, *arg;
	int i, n = 0;

	/* type, control (maybe bracketed), module */
	for (i = 0; i < 3; i++) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			return 0;
		tok[i] = p;
		if (i == 1 && *p == '[') {
			if ((p = strchr(p, ']')) == NULL)
				return 0;
			p++;
		} else
			p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (tok[0][0] == '@')
		return 0;
	slash = strrchr(tok[2], '/');
	if (strcmp(slash != NULL ? slash + 1 : tok[2], "pam_okta.so") != 0)
		return 0;
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		arg = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
		n += check_option(c, file, lineno, arg, out);
	}
	return n;
}

static int
check_file(const struct config *c, const char *path, FILE *out)
{
	FILE *f;
	char line[LINE_MAX_LEN], *hash;
	int lineno = 0, n = 0;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(out, "%s: cannot read: %s\n", path, strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		n += check_line(c, path, lineno, line, out);
	}
	fclose(f);
	return n;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pam_conflicts_report(const struct config *c, const char *dir, FILE *out)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, *path;
	size_t n = 0, i, len;
	int total = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(out, "%s: cannot read the PAM configuration: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || (len > 0 && e->d_name[len - 1] == '~'))
			continue;
		if (e->d_type != DT_REG && e->d_type != DT_LNK &&
		    e->d_type != DT_UNKNOWN)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	/* In name order, so that the report is the same on every run. */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		total += check_file(c, path, out);
		free(path);
		free(names[i]);
	}
	free(names);
	return total;
}
