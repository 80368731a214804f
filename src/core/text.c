/*
 * text.c - escaping of untrusted bytes (see text.h for the invariant), and
 * the reference tool's integer reading of a capture's name.
 */
#include "core/text.h"

#include <string.h>

#include "core/compiler.h"

static const char hexdig[] = "0123456789abcdef";

size_t sx_text_cat(char *dst, size_t dstsz, size_t len, const char *src)
{
	size_t n = strnlen(src, dstsz - 1 - len);

	memcpy(dst + len, src, n);
	dst[len + n] = '\0';
	return len + n;
}

void sx_text_append(char *dst, size_t dstsz, size_t *len, const uint8_t *src, size_t n)
{
	size_t o = *len;
	size_t i;

	if (dstsz == 0)
		return;
	for (i = 0; i < n; i++) {
		uint8_t c = src[i];
		size_t run = i, k;

		/* a run of bytes that stay as they are, copied at once */
		while (run < n && src[run] >= 0x20 && src[run] <= 0x7e && src[run] != '\\')
			run++;
		if (run > i) {
			k = SX_MIN(run - i, o + 1 < dstsz ? dstsz - 1 - o : 0);
			memcpy(dst + o, src + i, k);
			o += k;
			if (k < run - i)
				break;
			i = run - 1;
			continue;
		}
		if (c == '\\') {
			if (o + 2 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else if (c >= 0x20 && c <= 0x7e) {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hexdig[c >> 4];
			dst[o++] = hexdig[c & 15];
		}
	}
	dst[o] = '\0';
	*len = o;
}

size_t sx_text_escape(char *dst, size_t dstsz, const uint8_t *src, size_t n, bool *truncated)
{
	size_t len = 0;

	if (dstsz == 0)
		return 0;
	dst[0] = '\0';
	sx_text_append(dst, dstsz, &len, src, n);
	if (truncated)
		*truncated = sx_text_escaped_len(src, n) > len;
	return len;
}

size_t sx_text_escaped_len(const uint8_t *src, size_t n)
{
	size_t need = 0;
	size_t i;

	for (i = 0; i < n; i++)
		need += src[i] == '\\' ? 2 : (src[i] >= 0x20 && src[i] <= 0x7e) ? 1 : 4;
	return need;
}

void sx_text_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Python int(): optional blanks, a sign, digits with single underscores
 * between them, optional blanks. */
const char *sx_text_int_name(const char *path, char *buf, size_t bufsz)
{
	const char *base = strrchr(path, '/');
	const char *p, *end;
	size_t o = 0;
	bool neg = false, digit = false, nonzero = false;

	base = base ? base + 1 : path;
	end = strchr(base, '.');
	if (!end)
		end = base + strlen(base);
	p = base;
	while (p < end && strchr(" \t\n\r\v\f", *p))
		p++;
	while (end > p && strchr(" \t\n\r\v\f", end[-1]))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (bufsz < 2)
		return NULL;
	if (neg)
		buf[o++] = '-';
	for (; p < end; p++) {
		if (*p == '_' && digit && p + 1 < end && p[1] >= '0' && p[1] <= '9')
			continue;
		if (*p < '0' || *p > '9')
			return NULL;
		digit = true;
		if (*p == '0' && !nonzero)
			continue; /* leading zeros */
		nonzero = true;
		if (o + 1 >= bufsz)
			return NULL;
		buf[o++] = *p;
	}
	buf[o] = '\0';
	if (!digit || !nonzero)
		return NULL; /* not an int, or int 0: the first packet's time */
	return buf;
}
