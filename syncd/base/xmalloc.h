/*
 * xmalloc.h - allocation that aborts on failure (syncd and CLI only, never
 * in nss/ or pam/), as OpenSSH's xmalloc keeps error paths short.
 */
#ifndef OKTA_XMALLOC_H
#define OKTA_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/*
 * Append p[0..n) to the buffer *buf of *len bytes and *cap allocated,
 * kept NUL-terminated, growing it by doubling (from 64 KB); aborts on
 * failure.  Bounding the total is the caller's (an HTTP body's limit).
 */
void xbuf_append(char **buf, size_t *len, size_t *cap, const void *p,
    size_t n);
/* asprintf that aborts on failure; returns the new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
