/*
 * csv.c - see csv.h.  Test-only code.
 */
#include "support/csv.h"

#include <stdlib.h>
#include <string.h>

static void push_field(struct sx_tcsv_row *r, const char *s, size_t len)
{
	char *f = malloc(len + 1);

	memcpy(f, s, len);
	f[len] = '\0';
	r->f = realloc(r->f, (r->n + 1) * sizeof(*r->f));
	r->f[r->n++] = f;
}

int sx_tcsv_parse(const char *text, struct sx_tcsv *out)
{
	const char *p = text;
	char *field = malloc(strlen(text) + 1);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	while (*p) {
		struct sx_tcsv_row row = {NULL, 0};

		for (;;) {
			size_t len = 0;

			if (*p == '"') {
				p++;
				for (;;) {
					if (!*p) {
						free(field);
						return -1;
					}
					if (*p == '"' && p[1] == '"') {
						field[len++] = '"';
						p += 2;
					} else if (*p == '"') {
						p++;
						break;
					} else {
						field[len++] = *p++;
					}
				}
			} else {
				while (*p && *p != ',' && *p != '\n' && *p != '\r')
					field[len++] = *p++;
			}
			push_field(&row, field, len);
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == '\r')
				p++;
			if (*p == '\n')
				p++;
			break;
		}
		if (out->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			out->rows = realloc(out->rows, cap * sizeof(*out->rows));
		}
		out->rows[out->nrows++] = row;
	}
	free(field);
	return 0;
}

void sx_tcsv_free(struct sx_tcsv *c)
{
	size_t i, j;

	for (i = 0; i < c->nrows; i++) {
		for (j = 0; j < c->rows[i].n; j++)
			free(c->rows[i].f[j]);
		free(c->rows[i].f);
	}
	free(c->rows);
	memset(c, 0, sizeof(*c));
}

int sx_tcsv_col(const struct sx_tcsv *c, const char *name)
{
	size_t j;

	if (!c->nrows)
		return -1;
	for (j = 0; j < c->rows[0].n; j++)
		if (strcmp(c->rows[0].f[j], name) == 0)
			return (int)j;
	return -1;
}
