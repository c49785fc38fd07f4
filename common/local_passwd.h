/*
 * local_passwd.h - "is this name a local account?", answered from the
 * passwd file itself, never through NSS.
 *
 * pam_okta must tell local accounts from Okta users even when the snapshot
 * is missing or broken (DESIGN.md rule 8), and getpwnam() cannot be used
 * for that: with "passwd: files okta" it would also ask libnss_okta.  The
 * sync needs the same answer to keep Okta entries from shadowing local ones
 * (rule 2).  libc only, no logging, no allocation that aborts.
 */
#ifndef OKTA_LOCAL_PASSWD_H
#define OKTA_LOCAL_PASSWD_H

#include <stdint.h>

#define LOCAL_PASSWD_PATH "/etc/passwd"

/*
 * Look `name` up in the passwd-format file `path` (NULL: /etc/passwd),
 * reading it with fgetpwent_r.  Returns 1 and stores the UID in *uid (may
 * be NULL) when a line has exactly that name, 0 when none has, -1 with
 * errno when the file cannot be read (ENOENT, EACCES, ENOMEM...) or is not
 * trusted (EPERM: not a regular file owned by root and not writable by
 * group or others, file_trust.h; the caller must then not believe that
 * any name is local).  Lines
 * the parser rejects are skipped, as glibc's files backend does.
 * Thread-safe; allocates only a temporary buffer, freed before return.
 */
int local_passwd_lookup(const char *path, const char *name, uint32_t *uid);

#endif
