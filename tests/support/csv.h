/*
 * csv.h - a small RFC 4180 reader for the tests (quoted fields, doubled
 * quotes, CRLF or LF).  Test-only code.
 */
#ifndef SX_TESTS_CSV_H
#define SX_TESTS_CSV_H

#include <stddef.h>

struct sx_tcsv_row {
	char **f; /* fields, NUL-terminated copies */
	size_t n;
};

struct sx_tcsv {
	struct sx_tcsv_row *rows; /* rows[0] is the header when there is one */
	size_t nrows;
};

/* Parse a whole document.  Returns 0, or -1 on malformed quoting. */
int sx_tcsv_parse(const char *text, struct sx_tcsv *out);
void sx_tcsv_free(struct sx_tcsv *c);
/* Index of a header column, or -1. */
int sx_tcsv_col(const struct sx_tcsv *c, const char *name);

#endif /* SX_TESTS_CSV_H */
