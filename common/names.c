/*
 * names.c - name and field validation shared by syncd and the readers
 * (see names.h for the rules).  libc only, no allocation, no logging.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static int
is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/*
 * The length of the well-formed UTF-8 sequence starting at p (1..4), or 0
 * when the bytes there are not one (overlong forms, surrogates and values
 * above U+10FFFF included).  p points at a non-NUL byte.
 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

const char *
names_check(const char *s)
{
	size_t i;
	unsigned char c;

	if (s == NULL || *s == '\0')
		return "is empty";
	c = (unsigned char)s[0];
	if (!((c >= 'a' && c <= 'z') || c == '_')) {
		if (c == '-')
			return "starts with '-'";
		if (c >= '0' && c <= '9')
			return "starts with a digit";
		if (c >= 'A' && c <= 'Z')
			return "has upper-case letters";
		return "does not start with a lower-case letter or '_'";
	}
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (i >= NAME_MAX_LEN)
			return "is longer than 32 characters";
		if (is_name_char(c))
			continue;
		if (c == ':')
			return "contains ':'";
		if (c == '/')
			return "contains '/'";
		if (c == '@')
			return "contains '@'";
		if (c == '\n' || c == '\r')
			return "contains a line break";
		if (c == ' ' || c == '\t')
			return "contains white space";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		if (c >= 0x80)
			return "contains non-ASCII characters";
		if (c >= 'A' && c <= 'Z')
			return "has upper-case letters";
		return "contains characters other than a-z 0-9 _ . -";
	}
	return NULL;
}

const char *
names_derive_group(const char *okta_name, char *out, size_t outlen)
{
	const unsigned char *p;
	size_t n = 0, start, end, i;
	char tmp[NAME_MAX_LEN + 3];
	int in_run = 0;

	if (outlen < NAME_MAX_LEN + 1)
		return "cannot be derived (internal buffer too small)";
	out[0] = '\0';
	if (okta_name == NULL || *okta_name == '\0')
		return "is empty";
	/* Build into a scratch buffer one byte too big to notice overflow. */
	for (p = (const unsigned char *)okta_name; *p != '\0'; p++) {
		unsigned char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (is_name_char(c)) {
			if (n >= sizeof(tmp) - 1)
				return "is longer than 32 characters once made a valid name";
			tmp[n++] = (char)c;
			in_run = 0;
		} else if (!in_run) {
			if (n >= sizeof(tmp) - 1)
				return "is longer than 32 characters once made a valid name";
			tmp[n++] = '-';
			in_run = 1;
		}
	}
	tmp[n] = '\0';
	start = 0;
	while (start < n && (tmp[start] == '-' || tmp[start] == '.'))
		start++;
	end = n;
	while (end > start && (tmp[end - 1] == '-' || tmp[end - 1] == '.'))
		end--;
	if (end == start)
		return "has no letters or digits usable in a group name";
	i = 0;
	if (tmp[start] >= '0' && tmp[start] <= '9') {
		out[i++] = 'g';
		out[i++] = '-';
	}
	if (end - start > NAME_MAX_LEN - i) {
		out[0] = '\0';
		return "is longer than 32 characters once made a valid name";
	}
	memcpy(out + i, tmp + start, end - start);
	out[i + end - start] = '\0';
	return names_check(out);
}

size_t
names_sanitise_gecos(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = 0, len;
	int space = 1;	/* drops leading spaces */

	if (outlen == 0)
		return 0;
	while (*p != '\0') {
		unsigned char c = *p;

		if (c == ':' || c == ',' || c == '=') {
			p++;
			continue;
		}
		len = utf8_len(p);
		if (len == 0 || c < 0x20 || c == 0x7f || c == ' ') {
			/* Control, invalid UTF-8 or a space: at most one space. */
			if (!space && n < outlen - 1 && n < GECOS_MAX_LEN) {
				out[n++] = ' ';
				space = 1;
			}
			p++;
			continue;
		}
		if (len > outlen - 1 - n || len > GECOS_MAX_LEN - n)
			break;	/* cut at a character boundary */
		memcpy(out + n, p, len);
		n += len;
		p += len;
		space = 0;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n;
}

int
names_field_safe(const char *s)
{
	const unsigned char *p;
	size_t len, total = 0;

	if (s == NULL)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p += len) {
		if (*p == ':' || *p < 0x20 || *p == 0x7f)
			return 0;
		len = utf8_len(p);
		if (len == 0)
			return 0;
		total += len;
		if (total > PATH_FIELD_MAX_LEN)
			return 0;
	}
	return 1;
}

int
names_path_normal(const char *s)
{
	const char *p, *comp;
	size_t len;

	if (!names_field_safe(s) || s[0] != '/')
		return 0;
	if (strcmp(s, "/") == 0)
		return 1;
	p = s + 1;
	for (;;) {
		comp = p;
		while (*p != '\0' && *p != '/')
			p++;
		len = (size_t)(p - comp);
		if (len == 0)
			return 0;	/* "//" or a trailing '/' */
		if ((len == 1 && comp[0] == '.') ||
		    (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return 0;
		if (*p == '\0')
			return 1;
		p++;
	}
}

const char *
names_expand_home(const char *tmpl, const char *name, char *out, size_t outlen)
{
	const char *t;
	size_t n = 0, len, fixed = 0;
	int seen_pct = 0;

	if (tmpl == NULL || name == NULL || outlen == 0)
		return "cannot be built (no template)";
	out[0] = '\0';
	for (t = tmpl; *t != '\0'; t++) {
		const char *add = t;

		len = 1;
		if (*t == '%') {
			if (!seen_pct) {
				fixed = n;
				seen_pct = 1;
			}
			if (t[1] == 'u') {
				add = name;
				len = strlen(name);
				t++;
			} else if (t[1] == '%') {
				t++;
			} else
				return "cannot be built: the home template has an unknown %-sequence";
		}
		if (len >= outlen - n)
			return "is too long";
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
	if (!seen_pct)
		fixed = n;
	if (!names_path_normal(out))
		return "is not an absolute, normalised path";
	/*
	 * The part before the first '%' is the directory every home must lie
	 * under; a name cannot hold '/', but check anyway so that no template
	 * trick ("/home/%u/../..") escapes it.
	 */
	if (fixed > 0 && strncmp(out, tmpl, fixed) != 0)
		return "is outside the home template's directory";
	return NULL;
}

char *
names_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "(null)");
	size_t n = 0;
	char piece[5];
	size_t plen;

	if (outlen < 4) {
		if (outlen > 0)
			out[0] = '\0';
		return out;
	}
	for (; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"') {
			piece[0] = '\\';
			piece[1] = (char)*p;
			plen = 2;
		} else if (*p == '\n') {
			memcpy(piece, "\\n", 2);
			plen = 2;
		} else if (*p == '\t') {
			memcpy(piece, "\\t", 2);
			plen = 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(piece, sizeof(piece), "\\x%02x", *p);
			plen = 4;
		} else {
			piece[0] = (char)*p;
			plen = 1;
		}
		if (plen > outlen - 4 - n) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(out + n, piece, plen);
		n += plen;
	}
	out[n] = '\0';
	return out;
}

int
names_utf8_valid(const char *s)
{
	const unsigned char *p;
	size_t len;

	if (s == NULL)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p += len)
		if ((len = utf8_len(p)) == 0)
			return 0;
	return 1;
}

int
names_okta_id_valid(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= 64)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}
