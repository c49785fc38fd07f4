/* error.c - sentences and exit codes for okerr (see error.h). */
#include <stddef.h>

#include "error.h"

static const char *const sentences[OK_ERR_MAX] = {
	[OK_SUCCESS] = "success",
	[OK_ERR_CONFIG] = "the configuration is invalid; run 'okta-sync check-config'",
	[OK_ERR_TOKEN_FILE] = "the API token file (or the OAuth private key file) cannot be used; it must exist, be owned by root and be readable by root only (chmod 600)",
	[OK_ERR_DNS] = "the Okta domain does not resolve; check [okta] domain for a misspelling",
	[OK_ERR_CONNECT] = "cannot connect to the Okta domain; check the network, proxy and firewall",
	[OK_ERR_TLS] = "the TLS connection to Okta failed; check the system CA store or [okta] ca_file",
	[OK_ERR_AUTH] = "Okta refused the API token (401): it is invalid, expired (unused for 30 days) or revoked; create a new token (with auth = oauth: Okta refused the app's client_id or key)",
	[OK_ERR_FORBIDDEN] = "Okta refused the request (403): the token's administrator lacks read rights on users or groups (with auth = oauth: the app lacks a scope)",
	[OK_ERR_NOT_FOUND] = "Okta answered 404 Not Found; check [okta] domain",
	[OK_ERR_RATE_LIMIT] = "Okta kept answering 429 Too Many Requests; try again later or lower the request rate",
	[OK_ERR_SERVER] = "Okta kept answering with server errors; try again later",
	[OK_ERR_TIMEOUT] = "requests to Okta kept timing out; check the network and try again",
	[OK_ERR_PROTOCOL] = "Okta's answer could not be understood (broken JSON, wrong content type, reset connection or looping pages); nothing was changed",
	[OK_ERR_CACHE] = "the local cache database failed; see the log for the SQLite error",
	[OK_ERR_PUBLISH] = "writing the snapshot failed; check free space and permissions of the cache directory",
	[OK_ERR_REFUSED] = "the sync was refused by a safety guard; review the plan with 'okta-sync sync --dry-run' and use --force if it is right",
	[OK_ERR_BUSY] = "another sync is running; wait for it to finish",
	[OK_ERR_INTERRUPTED] = "the sync was interrupted; nothing was changed",
	[OK_ERR_INTERNAL] = "internal error; please report it",
};

const char *
err_sentence(okerr e)
{
	if ((int)e < 0 || e >= OK_ERR_MAX || sentences[e] == NULL)
		return "unknown error";
	return sentences[e];
}

int
err_exit_code(okerr e)
{
	switch (e) {
	case OK_SUCCESS:
		return 0;
	case OK_ERR_CONFIG:
	case OK_ERR_TOKEN_FILE:
		return 78;	/* EX_CONFIG */
	case OK_ERR_BUSY:
		return 75;	/* EX_TEMPFAIL */
	case OK_ERR_REFUSED:
		return 3;
	default:
		return 1;
	}
}
