/*
 * log.h - diagnostics on stderr.
 *
 * One fprintf per message (stdio locks the stream), so lines from several
 * threads never interleave.  The level threshold is set once by main before
 * any thread starts.
 */
#ifndef SX_CORE_LOG_H
#define SX_CORE_LOG_H

#include "core/compiler.h"

enum sx_log_level {
	SX_LOG_ERROR = 0,
	SX_LOG_WARN,
	SX_LOG_INFO,
	SX_LOG_DEBUG,
};

/* Set the threshold; messages above it are dropped.  Not thread-safe: call
 * before starting threads. */
void sx_log_set_level(enum sx_log_level level);
enum sx_log_level sx_log_get_level(void);

/* sx_log - print "sigex: <level>: <message>\n" to stderr.  Thread-safe. */
void sx_log(enum sx_log_level level, const char *fmt, ...) SX_PRINTF(2, 3);

#endif /* SX_CORE_LOG_H */
