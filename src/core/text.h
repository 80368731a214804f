/*
 * text.h - turning untrusted bytes into safe, printable text.
 *
 * Invariant for every string sigex derives from a packet: printable ASCII
 * (0x20..0x7e) only, NUL-terminated, bounded by its buffer.  Bytes outside
 * that range become "\xNN" and a backslash becomes "\\", so the original is
 * recoverable and no output format (CSV, YAML, a report line) can be broken
 * by a newline, a control byte or invalid UTF-8.  Stateless; thread-safe.
 */
#ifndef SX_CORE_TEXT_H
#define SX_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * sx_text_escape - escape n bytes of src into dst (size dstsz >= 1).
 * Stops at a whole escape sequence when dst is full.  Returns the length
 * written (excluding the NUL); *truncated (may be NULL) says whether input
 * was left over.
 */
size_t sx_text_escape(char *dst, size_t dstsz, const uint8_t *src, size_t n, bool *truncated);

/* Length of n bytes once escaped (the size a value needs, without the NUL). */
size_t sx_text_escaped_len(const uint8_t *src, size_t n);

/* Append-escape: like sx_text_escape but writing at dst+*len, updating *len. */
void sx_text_append(char *dst, size_t dstsz, size_t *len, const uint8_t *src, size_t n);

/*
 * sx_text_cat - append the string src at dst[len] as snprintf() would: as
 * much of it as fits before the NUL at dst[dstsz - 1] (dstsz >= 1, len <
 * dstsz).  Returns the new length.  snprintf(dst, dstsz, "%s%s", a, b) is
 * sx_text_cat(dst, dstsz, sx_text_cat(dst, dstsz, 0, a), b), without the
 * format parsing (a name on every DNS packet goes through one).
 */
size_t sx_text_cat(char *dst, size_t dstsz, size_t len, const char *src);

/* ASCII lower-case in place. */
void sx_text_lower(char *s);

/*
 * sx_text_int_name - the event name of a capture (the reference tool's rule): Python's int() of the
 * basename up to the first "." ("1724059939.pcap" -> "1724059939"), or NULL when that is not an
 * integer or is zero (the reference then names the CSV after the first packet's timestamp).  Writes
 * into buf.
 */
const char *sx_text_int_name(const char *path, char *buf, size_t bufsz);

#endif /* SX_CORE_TEXT_H */
