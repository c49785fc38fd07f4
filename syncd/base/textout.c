/* textout.c - escaping untrusted text for terminals and JSON (textout.h). */
#include "names.h"
#include "textout.h"

/* Longest escaped form kept: names_escape cuts beyond it. */
#define TEXTOUT_MAX 2048

json_object *
json_text(const char *s)
{
	char esc[TEXTOUT_MAX];

	if (s == NULL)
		return NULL;
	if (!names_utf8_valid(s))
		s = names_escape(s, esc, sizeof(esc));
	return json_object_new_string(s);
}

static int
printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!names_utf8_valid(s))
		return 0;
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return 0;
	}
	return 1;
}

const char *
term_text(const char *s, char *buf, size_t len)
{
	if (s == NULL)
		return "(none)";
	return printable(s) ? s : names_escape(s, buf, len);
}
