/*
 * compiler.h - attributes shared by every part.  Everything is built with
 * -fvisibility=hidden; OKTA_EXPORT marks the few functions a module must
 * export (the _nss_okta_* and pam_sm_* entry points).
 */
#ifndef OKTA_COMPILER_H
#define OKTA_COMPILER_H

#define OKTA_EXPORT __attribute__((visibility("default")))
#define OKTA_UNUSED __attribute__((unused))

#endif
