/*
 * paths.h - default locations shared by syncd, nss and pam.
 *
 * The NSS and PAM modules have no configuration file of their own to read
 * on every lookup, so the snapshot path is fixed at build time; tests move
 * it by bind-mounting a directory over OKTA_CACHE_DIR in a private mount
 * namespace.
 */
#ifndef OKTA_PATHS_H
#define OKTA_PATHS_H

#ifndef OKTA_SYSCONFDIR
#define OKTA_SYSCONFDIR "/etc"
#endif
#ifndef OKTA_CACHE_DIR
#define OKTA_CACHE_DIR "/var/lib/okta-sync"
#endif

#define OKTA_CONFIG_PATH OKTA_SYSCONFDIR "/okta-sync/okta-sync.conf"
#define OKTA_SNAPSHOT_NAME "snapshot.cdb"
#define OKTA_CACHE_DB_NAME "cache.db"
#define OKTA_SNAPSHOT_PATH OKTA_CACHE_DIR "/" OKTA_SNAPSHOT_NAME

/* okta-syncd's auth broker (issue 11), which pam_okta's auth phase talks
 * to.  Tests bind-mount a directory over OKTA_RUN_DIR, as over the cache
 * directory.  The daemon makes the directory (0755) and the socket. */
#ifndef OKTA_RUN_DIR
#define OKTA_RUN_DIR "/run/okta-sync"
#endif
#define OKTA_AUTH_SOCKET_NAME "auth.sock"
#define OKTA_AUTH_SOCKET_PATH OKTA_RUN_DIR "/" OKTA_AUTH_SOCKET_NAME

#endif
