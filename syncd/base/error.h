/*
 * error.h - the one error enum of syncd and the CLI, passed up as curl
 * passes CURLcode: `if (rc) return rc;`.
 *
 * err_sentence() turns each value into a sentence that tells the admin what
 * went wrong and what to do.  Details (the URL, the errorSummary Okta sent)
 * go into the log next to it, never the token.
 */
#ifndef OKTA_SYNCD_ERROR_H
#define OKTA_SYNCD_ERROR_H

typedef enum {
	OK_SUCCESS = 0,
	OK_ERR_CONFIG,         /* the config file is invalid */
	OK_ERR_TOKEN_FILE,     /* token file missing, unsafe mode or owner */
	OK_ERR_DNS,            /* the Okta domain does not resolve */
	OK_ERR_CONNECT,        /* TCP connection refused or timed out */
	OK_ERR_TLS,            /* certificate verification or handshake failed */
	OK_ERR_AUTH,           /* 401: bad, expired or revoked token */
	OK_ERR_FORBIDDEN,      /* 403: the token's admin lacks rights */
	OK_ERR_NOT_FOUND,      /* 404 */
	OK_ERR_RATE_LIMIT,     /* 429 retries exhausted */
	OK_ERR_SERVER,         /* 5xx retries exhausted */
	OK_ERR_TIMEOUT,        /* the request timed out, retries exhausted */
	OK_ERR_PROTOCOL,       /* bad JSON, wrong content type, Link loop, reset */
	OK_ERR_CACHE,          /* SQLite error */
	OK_ERR_PUBLISH,        /* writing the snapshot failed */
	OK_ERR_REFUSED,        /* a safety guard refused the sync */
	OK_ERR_BUSY,           /* another sync holds the lock */
	OK_ERR_INTERRUPTED,    /* stopped by a signal; nothing applied */
	OK_ERR_INTERNAL,
	OK_ERR_MAX
} okerr;

/* A sentence for the admin.  Never NULL; static storage. */
const char *err_sentence(okerr e);

/* The process exit code for e (0 for OK_SUCCESS). */
int err_exit_code(okerr e);

#endif
