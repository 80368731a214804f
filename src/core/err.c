/*
 * err.c - error code to text, and the formatter of one-line causes
 * (sx_msgf).  Stateless; thread-safe.
 */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

const char *sx_strerror(int err)
{
	switch (err) {
	case SX_OK:
		return "success";
	case SX_E_PCAP:
		return "capture read error";
	case SX_E_LINKTYPE:
		return "unsupported link-layer type";
	case SX_E_FORMAT:
		return "not a capture file or damaged";
	case SX_E_YAML:
		return "YAML error";
	case SX_E_USAGE:
		return "usage error";
	case SX_E_STOPPED:
		return "interrupted";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerrordesc_np(-err) ? strerrordesc_np(-err) : "unknown error";
	return "unknown error";
}

void sx_vmsgf(char *msg, size_t msglen, const char *fmt, va_list ap)
{
	if (msg && msglen)
		vsnprintf(msg, msglen, fmt, ap);
}

void sx_msgf(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sx_vmsgf(msg, msglen, fmt, ap);
	va_end(ap);
}
