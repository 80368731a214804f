/*
 * fuzz_csv.c - libFuzzer target: core's RFC 4180 record scanner.  The first
 * two bytes choose the flags and the limits, the rest is the input, scanned
 * once from memory and once through a stream; both must see the same
 * records, fields and errors, and every field must stay inside its limits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything the scanner returned, as bytes to compare. */
static void scan(struct sx_csv *s, struct sx_buf *out)
{
	size_t i;
	int ret;

	while ((ret = sx_csv_record(s)) == 1) {
		sx_buf_printf(out, "%lu %zu %d:", s->rec_line, s->nfields, s->truncated);
		for (i = 0; i < s->nfields && i < s->cfg.fields_max; i++) {
			const struct sx_csv_field *f = &s->field[i];

			if (s->cfg.field_max && f->len > s->cfg.field_max)
				abort();
			/* record_max bounds the bytes kept (csv.h: "a field byte
			 * past it is an error"); an empty field has none, and may
			 * start just past it, after the NUL of the one before */
			if (s->cfg.record_max && f->len && f->start + f->len > s->cfg.record_max)
				abort();
			if ((s->cfg.flags & SX_CSV_NO_NUL) &&
			    memchr(sx_csv_text(s, i), '\0', f->len))
				abort();
			sx_buf_printf(out, "%zu %d %d ", f->len, f->quoted, f->truncated);
			sx_buf_put(out, sx_csv_text(s, i), f->len);
		}
		sx_buf_putc(out, '\n');
	}
	sx_buf_printf(out, "= %d %d %lu %lu", ret, (int)s->why, s->rec_line, s->line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_csv_cfg cfg;
	struct sx_buf a, b;
	struct sx_csv s;
	FILE *f;

	if (size < 3)
		return 0;
	cfg.flags = data[0] & 0x2f; /* every flag but SX_CSV_BOM: memory input only */
	cfg.fields_max = 1 + (data[1] & 0x0f);
	cfg.field_max = (size_t)(data[1] >> 4) * 3;
	cfg.record_max = (data[0] & 0x40) ? 64 : 0;
	data += 2;
	size -= 2;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	sx_buf_init(&a);
	sx_buf_init(&b);
	if (sx_csv_init_mem(&s, &cfg, (const char *)data, size) == 0) {
		scan(&s, &a);
		sx_csv_fini(&s);
	}
	if (sx_csv_init_file(&s, &cfg, f) == 0) {
		scan(&s, &b);
		sx_csv_fini(&s);
	}
	if (!a.err && !b.err && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
		abort();
	sx_buf_fini(&a);
	sx_buf_fini(&b);
	fclose(f);
	return 0;
}
