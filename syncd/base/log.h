/*
 * log.h - logging for syncd and the CLI, after OpenSSH's log.h.
 *
 * Messages go to stderr (the CLI, and the daemon under systemd where
 * stderr is the journal) and, when log_init() was asked to, to syslog.
 * The token must never be formatted into a message.
 */
#ifndef OKTA_SYNCD_LOG_H
#define OKTA_SYNCD_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* ident: program name; level: the most verbose level shown; to_syslog:
 * also send to syslog (LOG_AUTHPRIV is not used: these are daemon logs). */
void log_init(const char *ident, enum log_level level, int to_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_msg(enum log_level lv, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The _f variants prefix the function name. */
#define error_f(...) log_msg(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define warn_f(...) log_msg(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define debug_f(...) log_msg(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)

#endif
