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

#endif
