/*
 * file_trust.h - may a file be believed?  The one check that every reader
 * of a root-published file applies before reading it: the snapshot (the
 * reader in common/, so libnss_okta and pam_okta) and the passwd file
 * pam_okta consults (its default /etc/passwd, or passwd=).
 *
 * A file is trusted when it is a regular file owned by root and not
 * writable by group or others (OpenSSH's StrictModes, DESIGN.md rule 6):
 * whoever could write it otherwise could hand out users, groups and IDs
 * to every process on the host.  The check is made on the descriptor
 * that is then read (fstat), never on the path before opening it, so a
 * file swapped in between cannot slip through.
 *
 * libc only; no allocation, no logging.
 */
#ifndef OKTA_FILE_TRUST_H
#define OKTA_FILE_TRUST_H

#include <sys/stat.h>

/*
 * Check st (from fstat of the descriptor about to be read).  Returns 0
 * when trusted; else -1 with errno EPERM, and *why (when why is not NULL)
 * pointing at a static sentence fragment: "is not a regular file", "is
 * not owned by root", "is writable by its group or by others".
 */
int file_trust_check(const struct stat *st, const char **why);

/*
 * Open path for reading as a file to trust: O_RDONLY | O_CLOEXEC |
 * O_NOCTTY | O_NONBLOCK (a FIFO planted at the path never blocks the
 * caller, which may be sshd), then file_trust_check on the descriptor.
 * Returns the descriptor, or -1 with errno (from open or fstat; EPERM and
 * *why when the file is not trusted).  *st (may be NULL) receives the
 * file's fstat also when it is refused, so the caller can tell one refused
 * file from the next.  On a refusal *why is set; on other errors it is
 * NULL.
 */
int file_trust_open(const char *path, struct stat *st, const char **why);

#endif
