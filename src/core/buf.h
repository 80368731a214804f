/*
 * buf.h - a growable byte buffer with a latched error, and the CSV writer.
 *
 * Owned by one thread at a time; no locking.  Every append after a failed
 * allocation is a no-op and the buffer's err field keeps -ENOMEM, so callers
 * check once, when they flush.
 *
 * CSV follows RFC 4180: a field is quoted when it contains a comma, a double
 * quote, CR or LF, and inner quotes are doubled.  Text that came from the
 * network goes through sx_buf_csv_text(), which also neutralises spreadsheet
 * formula prefixes (= + - @ TAB CR, and a leading apostrophe so that the
 * transformation can be undone): such a field is written with a leading
 * apostrophe (a lone "-", the name of standard input, is left alone).  sx_csv_unneutralise() undoes
 * it for readers of our CSVs.
 */
#ifndef SX_CORE_BUF_H
#define SX_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"

struct sx_buf {
	char *data;
	size_t len;
	size_t cap;
	int err; /* 0, or -ENOMEM latched */
};

void sx_buf_init(struct sx_buf *b);
void sx_buf_fini(struct sx_buf *b);
static inline void sx_buf_reset(struct sx_buf *b)
{
	b->len = 0;
}

/* The slow path of sx_buf_reserve(): grow.  0 or -ENOMEM (latched). */
int sx_buf__grow(struct sx_buf *b, size_t n);

/* Make room for n more bytes; returns 0 or -ENOMEM (also latched). */
static inline int sx_buf_reserve(struct sx_buf *b, size_t n)
{
	if (SX_LIKELY(!b->err && n <= b->cap - b->len))
		return 0;
	return sx_buf__grow(b, n);
}

static inline void sx_buf_put(struct sx_buf *b, const void *p, size_t n)
{
	if (n == 0 || sx_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void sx_buf_putc(struct sx_buf *b, char c)
{
	if (sx_buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

void sx_buf_puts(struct sx_buf *b, const char *s);
void sx_buf_printf(struct sx_buf *b, const char *fmt, ...) SX_PRINTF(2, 3);
void sx_buf_vprintf(struct sx_buf *b, const char *fmt, va_list ap) SX_PRINTF(2, 0);
void sx_buf_u64(struct sx_buf *b, uint64_t v);
/* The decimal digits of v written at p, which has room for
 * SX_U64_DIGITS_MAX bytes (no NUL); returns the end.  What sx_buf_u64()
 * appends, for writers that fill a reserved run of a buffer at once. */
#define SX_U64_DIGITS_MAX 20
char *sx_u64_put(char *p, uint64_t v);
void sx_buf_i64(struct sx_buf *b, int64_t v);
/* "sec.nnnnnnnnn": a timestamp at full nanosecond precision. */
void sx_buf_ts(struct sx_buf *b, uint64_t sec, uint32_t nsec);

/* One CSV field, quoted only when needed (no formula neutralisation). */
void sx_buf_csv(struct sx_buf *b, const char *s);
/* One CSV field of untrusted text: quoted when needed and neutralised. */
void sx_buf_csv_text(struct sx_buf *b, const char *s);

/*
 * sx_csv_unneutralise - undo sx_buf_csv_text's apostrophe, in place.
 * Returns s.
 */
char *sx_csv_unneutralise(char *s);

/*
 * sx_buf_flush - write the buffer to f and empty it.
 * Returns 0, the latched error, or -errno of the failed write.
 */
int sx_buf_flush(struct sx_buf *b, FILE *f);

#endif /* SX_CORE_BUF_H */
