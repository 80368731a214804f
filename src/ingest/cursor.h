/*
 * cursor.h - bounds-checked reading of untrusted bytes (private to ingest).
 *
 * The tcpdump discipline without longjmp: a cursor holds [p, end); every
 * read checks the remaining length first and, on a short read, latches
 * c->bad, returns 0 and leaves p unchanged, so a decoder can read a whole
 * header and test c->bad once.  Nothing here ever reads past end, whatever
 * the lengths claimed inside the packet.
 */
#ifndef SX_INGEST_CURSOR_H
#define SX_INGEST_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sx_cursor {
	const uint8_t *p;
	const uint8_t *end;
	bool bad; /* a read went past end */
};

static inline struct sx_cursor sx_cur(const uint8_t *p, size_t len)
{
	struct sx_cursor c = {p, p + len, false};

	return c;
}

static inline size_t sx_cur_left(const struct sx_cursor *c)
{
	return (size_t)(c->end - c->p);
}

static inline bool sx_cur_has(struct sx_cursor *c, size_t n)
{
	if (sx_cur_left(c) < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static inline uint8_t sx_cur_u8(struct sx_cursor *c)
{
	if (!sx_cur_has(c, 1))
		return 0;
	return *c->p++;
}

static inline uint16_t sx_cur_be16(struct sx_cursor *c)
{
	uint16_t v;

	if (!sx_cur_has(c, 2))
		return 0;
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	return v;
}

static inline uint16_t sx_cur_le16(struct sx_cursor *c)
{
	uint16_t v;

	if (!sx_cur_has(c, 2))
		return 0;
	v = (uint16_t)(c->p[1] << 8 | c->p[0]);
	c->p += 2;
	return v;
}

static inline uint32_t sx_cur_be24(struct sx_cursor *c)
{
	uint32_t v;

	if (!sx_cur_has(c, 3))
		return 0;
	v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	return v;
}

static inline uint32_t sx_cur_be32(struct sx_cursor *c)
{
	uint32_t v;

	if (!sx_cur_has(c, 4))
		return 0;
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	return v;
}

static inline uint32_t sx_cur_le32(struct sx_cursor *c)
{
	uint32_t v;

	if (!sx_cur_has(c, 4))
		return 0;
	v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
	c->p += 4;
	return v;
}

/* Copy n bytes out; on a short read dst is zeroed and c->bad set. */
static inline bool sx_cur_copy(struct sx_cursor *c, void *dst, size_t n)
{
	if (!sx_cur_has(c, n)) {
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, c->p, n);
	c->p += n;
	return true;
}

/* Skip n bytes; a short skip sets c->bad and leaves p unchanged. */
static inline bool sx_cur_skip(struct sx_cursor *c, size_t n)
{
	if (!sx_cur_has(c, n))
		return false;
	c->p += n;
	return true;
}

/* A sub-cursor over the next n bytes (clamped to what is left; clamping
 * sets c->bad), advancing c past them. */
static inline struct sx_cursor sx_cur_sub(struct sx_cursor *c, size_t n)
{
	struct sx_cursor s;
	size_t left = sx_cur_left(c);

	if (n > left) {
		c->bad = true;
		n = left;
	}
	s = sx_cur(c->p, n);
	c->p += n;
	return s;
}

/*
 * The next text line of c (HTTP, SSDP), without its LF and a CR before it;
 * c moves past the LF.  *complete says whether an LF ended it (else the
 * data did).
 */
static inline struct sx_cursor sx_cur_line(struct sx_cursor *c, bool *complete)
{
	size_t left = sx_cur_left(c);
	const uint8_t *lf = left ? (const uint8_t *)memchr(c->p, '\n', left) : NULL;
	struct sx_cursor line;

	*complete = lf != NULL;
	line = sx_cur_sub(c, lf ? (size_t)(lf - c->p) : left);
	if (lf)
		sx_cur_skip(c, 1);
	if (sx_cur_left(&line) > 0 && line.end[-1] == '\r')
		line.end--;
	return line;
}

#endif /* SX_INGEST_CURSOR_H */
