/*
 * buf.c - growable buffer and CSV field writer (see buf.h for the contract).
 */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void sx_buf_init(struct sx_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

void sx_buf_fini(struct sx_buf *b)
{
	free(b->data);
	sx_buf_init(b);
}

int sx_buf__grow(struct sx_buf *b, size_t n)
{
	size_t want;
	char *p;

	if (b->err)
		return b->err;
	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	want = b->cap ? b->cap : 256;
	while (want - b->len < n)
		want *= 2;
	p = realloc(b->data, want);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = want;
	return 0;
}

void sx_buf_puts(struct sx_buf *b, const char *s)
{
	sx_buf_put(b, s, strlen(s));
}

/* Formatted into the room the buffer has; formatted again only when the
 * text did not fit (vsnprintf() said how long it is). */
void sx_buf_vprintf(struct sx_buf *b, const char *fmt, va_list ap)
{
	size_t room = b->err ? 0 : b->cap - b->len;
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	if (n >= 0 && (size_t)n < room) {
		b->len += (size_t)n;
	} else if (n >= 0 && !sx_buf_reserve(b, (size_t)n + 1)) {
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void sx_buf_printf(struct sx_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sx_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Two digits per division, written in place from the last (every number of
 * every CSV row and of every YAML file comes here). */
char *sx_u64_put(char *p, uint64_t v)
{
	static const char pairs[] = "00010203040506070809"
				    "10111213141516171819"
				    "20212223242526272829"
				    "30313233343536373839"
				    "40414243444546474849"
				    "50515253545556575859"
				    "60616263646566676869"
				    "70717273747576777879"
				    "80818283848586878889"
				    "90919293949596979899";
	static const uint64_t pow10[SX_U64_DIGITS_MAX] = {1u,
							  10u,
							  100u,
							  1000u,
							  10000u,
							  100000u,
							  1000000u,
							  10000000u,
							  100000000u,
							  1000000000u,
							  10000000000u,
							  100000000000u,
							  1000000000000u,
							  10000000000000u,
							  100000000000000u,
							  1000000000000000u,
							  10000000000000000u,
							  100000000000000000u,
							  1000000000000000000u,
							  10000000000000000000u};
	unsigned t;
	char *end;
	size_t n;

	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	/* the digits: log10 from the bit length (1233/4096 ~ log10(2)),
	 * one too many when v is below that power of ten */
	t = ((unsigned)(64 - __builtin_clzll(v)) * 1233u) >> 12;
	n = t + 1 - (v < pow10[t]);
	end = p + n;
	p = end;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return end;
}

void sx_buf_u64(struct sx_buf *b, uint64_t v)
{
	if (sx_buf_reserve(b, SX_U64_DIGITS_MAX))
		return;
	b->len = (size_t)(sx_u64_put(b->data + b->len, v) - b->data);
}

void sx_buf_i64(struct sx_buf *b, int64_t v)
{
	if (v < 0) {
		sx_buf_putc(b, '-');
		sx_buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		sx_buf_u64(b, (uint64_t)v);
	}
}

void sx_buf_ts(struct sx_buf *b, uint64_t sec, uint32_t nsec)
{
	char frac[10];
	int i;

	sx_buf_u64(b, sec);
	for (i = 8; i >= 0; i--) {
		frac[i + 1] = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	frac[0] = '.';
	sx_buf_put(b, frac, sizeof(frac));
}

static int needs_quotes(const char *s)
{
	return strpbrk(s, ",\"\r\n") != NULL;
}

static void put_field(struct sx_buf *b, const char *prefix, const char *s)
{
	const char *p;

	if (!needs_quotes(s)) {
		sx_buf_puts(b, prefix);
		sx_buf_puts(b, s);
		return;
	}
	sx_buf_putc(b, '"');
	sx_buf_puts(b, prefix);
	for (p = s; *p; p++) {
		if (*p == '"')
			sx_buf_putc(b, '"');
		sx_buf_putc(b, *p);
	}
	sx_buf_putc(b, '"');
}

void sx_buf_csv(struct sx_buf *b, const char *s)
{
	put_field(b, "", s);
}

static int is_formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' || c == '\'';
}

void sx_buf_csv_text(struct sx_buf *b, const char *s)
{
	/* A lone "-" (standard input's name) cannot start a formula. */
	bool neutralise = is_formula_start(s[0]) && strcmp(s, "-") != 0;

	put_field(b, neutralise ? "'" : "", s);
}

char *sx_csv_unneutralise(char *s)
{
	if (s[0] == '\'' && is_formula_start(s[1]))
		memmove(s, s + 1, strlen(s));
	return s;
}

int sx_buf_flush(struct sx_buf *b, FILE *f)
{
	int ret = b->err;

	if (!ret && b->len && fwrite(b->data, 1, b->len, f) != b->len)
		ret = errno ? -errno : -EIO;
	b->len = 0;
	return ret;
}
