/*
 * err.h - the project's error convention.
 *
 * Every function that can fail returns an int: 0 on success, a negative
 * errno value (-ENOMEM, -EINVAL, -EIO, ...) or one of the SX_E_* codes below
 * for what errno cannot say.  Bad packets and bad files are data (counters,
 * per-file status), never an error return that stops the run.
 */
#ifndef SX_CORE_ERR_H
#define SX_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "core/compiler.h"

enum sx_err {
	SX_OK = 0,
	SX_E_PCAP = -1000, /* libpcap could not open or read; text in the file status */
	SX_E_LINKTYPE,	   /* unsupported link-layer type */
	SX_E_FORMAT,	   /* not a capture, or a damaged one */
	SX_E_YAML,	   /* libyaml emitter or parser error */
	SX_E_USAGE,	   /* bad option or argument */
	SX_E_STOPPED,	   /* the run was interrupted (SIGINT, SIGTERM) */
};

/*
 * sx_strerror - text for an error code of either range.
 * Returns a static string; thread-safe.
 */
const char *sx_strerror(int err);

/*
 * sx_msgf - format the one-line cause of a failure into msg (msglen bytes,
 * always terminated); nothing when msg is NULL or msglen is 0, so a caller
 * may pass no buffer.  sx_vmsgf() takes a va_list.  Thread-safe.
 */
void sx_msgf(char *msg, size_t msglen, const char *fmt, ...) SX_PRINTF(3, 4);
void sx_vmsgf(char *msg, size_t msglen, const char *fmt, va_list ap) SX_PRINTF(3, 0);

/* Process exit codes, used by every command. */
enum sx_exit {
	SX_EXIT_OK = 0,
	SX_EXIT_FAILURE = 1, /* no usable output */
	SX_EXIT_USAGE = 2,   /* bad option or missing argument */
	SX_EXIT_PARTIAL = 3, /* some inputs unreadable; the rest processed and written */
};

#endif /* SX_CORE_ERR_H */
