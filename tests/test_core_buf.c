/*
 * test_core_buf.c - the growable buffer's formatted appends: what
 * sx_buf_printf() adds is what snprintf() makes, whether it fits the room
 * the buffer has, fills it to the last byte, or needs it to grow; and a
 * buffer whose allocation failed stays as it was.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

TestSuite(core_buf, .timeout = 30);

/* The buffer's text, as a string (the buffer keeps no NUL of its own). */
static char *text(const struct sx_buf *b)
{
	char *s = malloc(b->len + 1);

	cr_assert_not_null(s);
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return s;
}

Test(core_buf, printf_appends_what_snprintf_makes)
{
	struct sx_buf b;
	char *s;

	sx_buf_init(&b);
	sx_buf_printf(&b, "%s %d", "first", 1);
	sx_buf_printf(&b, "|%05u|%x", 42u, 255u);
	sx_buf_printf(&b, "%s", "");
	s = text(&b);
	cr_assert_str_eq(s, "first 1|00042|ff");
	cr_assert_eq(b.err, 0);
	free(s);
	sx_buf_fini(&b);
}

Test(core_buf, printf_at_the_edges_of_the_room)
{
	char want[1024] = "", piece[600];
	struct sx_buf b;
	size_t len, k;
	char *s;

	/* texts that leave the room a byte short, fill it but for the NUL,
	 * fill it whole, and need it doubled more than once */
	for (k = 0; k < 40; k++) {
		sx_buf_init(&b);
		sx_buf_put(&b, "x", 1); /* a 256-byte buffer, 255 bytes of room */
		len = 253 + k % 4 + (k >= 36 ? 300 : 0);
		memset(piece, 'a' + (int)(k % 26), len);
		piece[len] = '\0';
		sx_buf_printf(&b, "%s", piece);
		sx_buf_printf(&b, "%zu", len);
		snprintf(want, sizeof(want), "x%s%zu", piece, len);
		s = text(&b);
		cr_assert_str_eq(s, want, "length %zu", len);
		free(s);
		sx_buf_fini(&b);
	}
}

Test(core_buf, printf_after_a_failed_allocation_adds_nothing)
{
	struct sx_buf b;

	sx_buf_init(&b);
	sx_buf_puts(&b, "kept");
	b.err = -ENOMEM;
	sx_buf_printf(&b, "%s", "dropped");
	cr_assert_eq(b.len, 4);
	cr_assert_eq(memcmp(b.data, "kept", 4), 0);
	sx_buf_fini(&b);
}
