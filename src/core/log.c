/*
 * log.c - stderr diagnostics.  The threshold is written once by main before
 * threads start and only read afterwards.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum sx_log_level threshold = SX_LOG_WARN;

void sx_log_set_level(enum sx_log_level level)
{
	threshold = level;
}

enum sx_log_level sx_log_get_level(void)
{
	return threshold;
}

void sx_log(enum sx_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char line[1024];
	va_list ap;

	if (level > threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sigex: %s: %s\n", names[level], line);
}
