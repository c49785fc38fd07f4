/*
 * textout.h - untrusted text (anything Okta sent) on its way out to a
 * terminal or into a JSON document.
 *
 * Okta's values may hold control characters, terminal escapes or bytes
 * that are not UTF-8.  json-c passes such bytes through and would make the
 * document invalid; a terminal would interpret the escapes.  Both helpers
 * escape with names_escape() (common/names.h) exactly when needed.
 */
#ifndef OKTA_TEXTOUT_H
#define OKTA_TEXTOUT_H

#include <json-c/json.h>
#include <stddef.h>

/* A new JSON string for s (escaped when not valid UTF-8), or NULL (JSON
 * null) when s is NULL.  The caller owns the object. */
json_object *json_text(const char *s);

/* s as is when it is safe on a terminal (valid UTF-8, no C0/C1 control
 * character, no DEL), else escaped into buf (len bytes).  "(none)" for
 * NULL.  Can't fail. */
const char *term_text(const char *s, char *buf, size_t len);

#endif
