/*
 * test_ingest_cursor.c - the bounds-checked reader (ingest/cursor.h).
 *
 * Every read must refuse to go past end: on a short read it returns 0 (or
 * zeroes its destination), latches c->bad and leaves p where it was.  The
 * latch stays set through later successful reads, and a sub-cursor is
 * clamped to what its parent has left.  Buffers are malloc'd at their exact
 * length so that AddressSanitizer turns any overread into a crash.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/cursor.h"

TestSuite(ingest_cursor, .timeout = 30);

static const uint8_t sample[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

/* A heap copy of the first n bytes of sample, exactly n bytes long. */
static uint8_t *exact(size_t n)
{
	uint8_t *p = malloc(n); /* for n == 0, a pointer with no usable byte */

	cr_assert_not_null(p);
	if (n)
		memcpy(p, sample, n);
	return p;
}

Test(ingest_cursor, reads_in_order_big_and_little_endian)
{
	struct sx_cursor c = sx_cur(sample, sizeof(sample));

	cr_assert_eq(sx_cur_left(&c), 8);
	cr_assert_eq(sx_cur_u8(&c), 0x01);
	cr_assert_eq(sx_cur_be16(&c), 0x0203);
	cr_assert_eq(sx_cur_le16(&c), 0x0504);
	cr_assert_eq(sx_cur_be24(&c), 0x060708);
	cr_assert_eq(sx_cur_left(&c), 0);
	cr_assert_not(c.bad);

	c = sx_cur(sample, sizeof(sample));
	cr_assert_eq(sx_cur_be32(&c), 0x01020304u);
	cr_assert_eq(sx_cur_le32(&c), 0x08070605u);
	cr_assert_not(c.bad);
	cr_assert_eq(c.p, c.end);
}

Test(ingest_cursor, empty_cursor_refuses_everything)
{
	uint8_t *buf = exact(0);
	struct sx_cursor c = sx_cur(buf, 0);
	uint8_t dst[4] = {0xaa, 0xaa, 0xaa, 0xaa};

	cr_assert(sx_cur_has(&c, 0));
	cr_assert_not(c.bad);
	cr_assert_eq(sx_cur_u8(&c), 0);
	cr_assert(c.bad);
	cr_assert_eq(c.p, buf);
	c.bad = false;
	cr_assert_eq(sx_cur_be16(&c), 0);
	cr_assert(c.bad);
	c.bad = false;
	cr_assert_not(sx_cur_copy(&c, dst, sizeof(dst)));
	cr_assert(c.bad);
	cr_assert_eq(dst[0], 0);
	cr_assert_eq(dst[3], 0);
	c.bad = false;
	cr_assert_not(sx_cur_skip(&c, 1));
	cr_assert(c.bad);
	cr_assert_eq(c.p, buf);
	free(buf);
}

/*
 * For every length 0..8 and every reader, a read that needs more than is
 * left returns 0, sets bad and does not move p; one that fits returns the
 * bytes and moves p by its width.
 */
Test(ingest_cursor, every_reader_at_every_length)
{
	size_t len;

	for (len = 0; len <= sizeof(sample); len++) {
		static const size_t width[] = {1, 2, 2, 3, 4, 4};
		size_t r;

		for (r = 0; r < 6; r++) {
			uint8_t *buf = exact(len);
			struct sx_cursor c = sx_cur(buf, len);
			uint32_t v = 0, want = 0;
			bool fits = len >= width[r];

			switch (r) {
			case 0:
				v = sx_cur_u8(&c);
				want = 0x01;
				break;
			case 1:
				v = sx_cur_be16(&c);
				want = 0x0102;
				break;
			case 2:
				v = sx_cur_le16(&c);
				want = 0x0201;
				break;
			case 3:
				v = sx_cur_be24(&c);
				want = 0x010203;
				break;
			case 4:
				v = sx_cur_be32(&c);
				want = 0x01020304;
				break;
			default:
				v = sx_cur_le32(&c);
				want = 0x04030201;
				break;
			}
			if (fits) {
				cr_assert_eq(v, want, "reader %zu, len %zu", r, len);
				cr_assert_not(c.bad, "reader %zu, len %zu", r, len);
				cr_assert_eq(c.p, buf + width[r]);
			} else {
				cr_assert_eq(v, 0, "reader %zu, len %zu", r, len);
				cr_assert(c.bad, "reader %zu, len %zu", r, len);
				cr_assert_eq(c.p, buf, "a short read moved p (reader %zu, len %zu)",
					     r, len);
			}
			free(buf);
		}
	}
}

Test(ingest_cursor, copy_and_skip_at_every_length)
{
	size_t len, n;

	for (len = 0; len <= sizeof(sample); len++) {
		for (n = 0; n <= sizeof(sample) + 1; n++) {
			uint8_t *buf = exact(len);
			struct sx_cursor c = sx_cur(buf, len);
			uint8_t dst[16];
			size_t i;

			memset(dst, 0xee, sizeof(dst));
			if (n <= len) {
				cr_assert(sx_cur_copy(&c, dst, n));
				cr_assert_not(c.bad);
				cr_assert_eq(c.p, buf + n);
				cr_assert_eq(memcmp(dst, sample, n), 0);
				cr_assert(sx_cur_skip(&c, len - n));
				cr_assert_eq(c.p, c.end);
			} else {
				cr_assert_not(sx_cur_copy(&c, dst, n));
				cr_assert(c.bad);
				cr_assert_eq(c.p, buf);
				for (i = 0; i < n; i++)
					cr_assert_eq(dst[i], 0, "short copy must zero dst");
				cr_assert_eq(dst[n], 0xee, "copy wrote past n");
				c.bad = false;
				cr_assert_not(sx_cur_skip(&c, n));
				cr_assert(c.bad);
				cr_assert_eq(c.p, buf);
			}
			free(buf);
		}
	}
}

Test(ingest_cursor, huge_lengths_do_not_wrap)
{
	uint8_t *buf = exact(4);
	struct sx_cursor c = sx_cur(buf, 4);
	struct sx_cursor s;

	cr_assert_not(sx_cur_has(&c, SIZE_MAX));
	cr_assert_not(sx_cur_skip(&c, SIZE_MAX));
	cr_assert_not(sx_cur_skip(&c, (size_t)-3));
	cr_assert_eq(c.p, buf);
	cr_assert(c.bad);
	c.bad = false;
	s = sx_cur_sub(&c, SIZE_MAX);
	cr_assert(c.bad);
	cr_assert_eq(sx_cur_left(&s), 4);
	cr_assert_eq(c.p, c.end);
	free(buf);
}

Test(ingest_cursor, bad_latches_through_later_good_reads)
{
	struct sx_cursor c = sx_cur(sample, 3);

	cr_assert_eq(sx_cur_be32(&c), 0);
	cr_assert(c.bad);
	/* p did not move, so these reads still succeed... */
	cr_assert_eq(sx_cur_be16(&c), 0x0102);
	cr_assert_eq(sx_cur_u8(&c), 0x03);
	/* ...but the latch stays set, so one test at the end sees the failure. */
	cr_assert(c.bad);
	cr_assert_eq(sx_cur_left(&c), 0);
	cr_assert_eq(sx_cur_u8(&c), 0);
	cr_assert(c.bad);
}

Test(ingest_cursor, a_whole_header_read_is_checked_once)
{
	size_t len;

	/* The decoder idiom: read every field, test bad once. */
	for (len = 0; len <= sizeof(sample); len++) {
		uint8_t *buf = exact(len);
		struct sx_cursor c = sx_cur(buf, len);
		uint16_t a = sx_cur_be16(&c);
		uint32_t b = sx_cur_be32(&c);
		uint8_t d = sx_cur_u8(&c);

		(void)a, (void)b, (void)d;
		cr_assert_eq(c.bad, len < 7, "len %zu", len);
		free(buf);
	}
}

Test(ingest_cursor, sub_cursor_within_range)
{
	struct sx_cursor c = sx_cur(sample, sizeof(sample));
	struct sx_cursor s;

	sx_cur_skip(&c, 2);
	s = sx_cur_sub(&c, 3);
	cr_assert_not(c.bad);
	cr_assert_eq(sx_cur_left(&s), 3);
	cr_assert_eq(c.p, sample + 5, "the parent moves past the sub-range");
	cr_assert_eq(sx_cur_be24(&s), 0x030405);
	cr_assert_not(s.bad);
	/* The sub-cursor ends where it was told to, not at the parent's end. */
	cr_assert_eq(sx_cur_u8(&s), 0);
	cr_assert(s.bad);
	cr_assert_not(c.bad, "a bad sub-cursor does not taint its parent");
	cr_assert_eq(sx_cur_u8(&c), 0x06);
}

Test(ingest_cursor, sub_cursor_clamps_to_what_is_left)
{
	size_t len, n;

	for (len = 0; len <= sizeof(sample); len++) {
		for (n = 0; n <= sizeof(sample) + 4; n++) {
			uint8_t *buf = exact(len);
			struct sx_cursor c = sx_cur(buf, len);
			struct sx_cursor s = sx_cur_sub(&c, n);
			size_t want = n < len ? n : len;
			size_t i;

			cr_assert_eq(sx_cur_left(&s), want, "len %zu n %zu", len, n);
			cr_assert_eq(c.bad, n > len,
				     "clamping sets the parent's bad (len %zu n %zu)", len, n);
			cr_assert_not(s.bad);
			cr_assert_eq(s.p, buf);
			cr_assert_eq(c.p, buf + want);
			cr_assert(s.end <= buf + len, "sub-cursor reaches past the buffer");
			/* Drain it byte by byte: exactly want reads succeed. */
			for (i = 0; i < want; i++)
				cr_assert_eq(sx_cur_u8(&s), sample[i]);
			cr_assert_not(s.bad);
			cr_assert_eq(sx_cur_u8(&s), 0);
			cr_assert(s.bad);
			free(buf);
		}
	}
}

Test(ingest_cursor, nested_sub_cursors)
{
	struct sx_cursor c = sx_cur(sample, sizeof(sample));
	struct sx_cursor outer = sx_cur_sub(&c, 6);
	struct sx_cursor inner;

	sx_cur_skip(&outer, 4);
	inner = sx_cur_sub(&outer, 10); /* asks for more than outer has */
	cr_assert(outer.bad);
	cr_assert_not(c.bad);
	cr_assert_eq(sx_cur_left(&inner), 2);
	cr_assert_eq(sx_cur_be16(&inner), 0x0506);
	cr_assert_eq(sx_cur_u8(&inner), 0);
	cr_assert(inner.bad);
	cr_assert_eq(sx_cur_be16(&c), 0x0708);
}
