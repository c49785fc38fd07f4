/* log.c - stderr and syslog logging (see log.h). */
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static const char *log_ident = "okta-sync";
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_syslog;

void
log_init(const char *ident, enum log_level level, int to_syslog)
{
	log_ident = ident;
	log_level = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

static void log_vmsg(enum log_level, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vmsg(enum log_level lv, const char *func, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[2048];

	if (lv > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (func != NULL)
		fprintf(stderr, "%s: %s%s: %s\n", log_ident, prefix[lv], func, msg);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, prefix[lv], msg);
	if (log_syslog)
		syslog(prio[lv], "%s%s", prefix[lv], msg);
}

void
log_msg(enum log_level lv, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lv, func, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, lv)                          \
	void name(const char *fmt, ...)           \
	{                                         \
		va_list ap;                       \
		va_start(ap, fmt);                \
		log_vmsg(lv, NULL, fmt, ap);      \
		va_end(ap);                       \
	}

LOG_FN(error, LOG_LEVEL_ERROR)
LOG_FN(warn, LOG_LEVEL_WARN)
LOG_FN(info, LOG_LEVEL_INFO)
LOG_FN(debug, LOG_LEVEL_DEBUG)
