/*
 * csv.c - the RFC 4180 record scanner (contract in csv.h).
 *
 * DESIGN.  A one-byte look-ahead (peek/advance) over either input, so the
 * memory and the stream cases share every rule: a stream is read with
 * getc() and never past the terminator of the record returned.  A field is
 * scanned in one pass, its bytes appended to the record buffer as they come
 * (a field longer than field_max keeps its first bytes and goes on being
 * scanned, so that the syntax of the rest of the record is still checked;
 * a record longer than record_max stops at once).  The syntax errors are
 * the three of RFC 4180 (an unterminated quote, text after a closing quote,
 * a quote in an unquoted field) and the ones the flags ask for; what a
 * reader makes of them (one message or several) is the reader's choice.
 */
#include "core/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"

#define NOT_PEEKED (-2)

static int init(struct sx_csv *s, const struct sx_csv_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (s->cfg.fields_max == 0)
		s->cfg.fields_max = 1;
	s->field = sx_calloc_array(s->cfg.fields_max, sizeof(*s->field));
	if (!s->field)
		return -ENOMEM;
	sx_buf_init(&s->rec);
	s->line = 1;
	s->rec_line = 1;
	s->peeked = NOT_PEEKED;
	return 0;
}

int sx_csv_init_mem(struct sx_csv *s, const struct sx_csv_cfg *cfg, const char *data, size_t len)
{
	int ret = init(s, cfg);

	if (ret)
		return ret;
	s->p = data;
	s->end = data + len;
	if ((cfg->flags & SX_CSV_BOM) && len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		s->p += 3;
	return 0;
}

int sx_csv_init_file(struct sx_csv *s, const struct sx_csv_cfg *cfg, FILE *f)
{
	int ret = init(s, cfg);

	if (ret)
		return ret;
	s->f = f;
	return 0;
}

void sx_csv_fini(struct sx_csv *s)
{
	if (!s)
		return;
	free(s->field);
	s->field = NULL;
	sx_buf_fini(&s->rec);
}

/* The next byte (0..255) without taking it, or EOF. */
static int peek(struct sx_csv *s)
{
	if (!s->f)
		return s->p < s->end ? (unsigned char)*s->p : EOF;
	if (s->peeked == NOT_PEEKED)
		s->peeked = getc(s->f);
	return s->peeked;
}

/* Take the byte peek() returned (not EOF). */
static void advance(struct sx_csv *s)
{
	if (!s->f)
		s->p++;
	else
		s->peeked = NOT_PEEKED;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(struct sx_csv *s)
{
	while (is_blank(peek(s)))
		advance(s);
}

static int fail(struct sx_csv *s, enum sx_csv_why why)
{
	s->why = why;
	return SX_E_FORMAT;
}

void sx_csv_skip_line(struct sx_csv *s)
{
	int c;

	while ((c = peek(s)) != EOF) {
		advance(s);
		if (c == '\n') {
			s->line++;
			return;
		}
	}
}

int sx_csv_begin(struct sx_csv *s)
{
	unsigned flags = s->cfg.flags;
	int c;

	for (;;) {
		sx_buf_reset(&s->rec);
		s->nfields = 0;
		s->truncated = false;
		s->why = SX_CSV_OK;
		s->rec_line = s->line;
		if (flags & SX_CSV_TRIM)
			skip_blanks(s);
		c = peek(s);
		if (c == EOF)
			return s->f && ferror(s->f) ? -EIO : 0;
		if (c == '\n' || (c == '#' && (flags & SX_CSV_COMMENTS)) ||
		    (c == '\r' && (flags & SX_CSV_BARE_CR))) {
			sx_csv_skip_line(s);
			continue;
		}
		if (c != '\r')
			return 1;
		advance(s); /* an empty line ended by CR LF, or the input by CR */
		c = peek(s);
		if (c == '\n') {
			advance(s);
			s->line++;
			continue;
		}
		if (c != EOF)
			return fail(s, SX_CSV_BARE_CR_ERR);
	}
}

/* Keep byte c of field f (NULL: a dropped field). */
static int keep(struct sx_csv *s, struct sx_csv_field *f, char c)
{
	if (!f)
		return 0;
	if (s->cfg.field_max && f->len >= s->cfg.field_max) {
		f->truncated = true;
		s->truncated = true;
		return 0;
	}
	sx_buf_putc(&s->rec, c);
	if (s->rec.err)
		return s->rec.err;
	f->len++;
	if (s->cfg.record_max && s->rec.len > s->cfg.record_max)
		return fail(s, SX_CSV_LONG);
	return 0;
}

static bool ends_field(int c)
{
	return c == ',' || c == '\n' || c == '\r' || c == EOF;
}

/* The content of a quoted field, from its opening quote to the closing one. */
static int quoted(struct sx_csv *s, struct sx_csv_field *f)
{
	int c, ret;

	advance(s);
	for (;;) {
		c = peek(s);
		if (c == EOF)
			return fail(s, SX_CSV_UNTERMINATED);
		advance(s);
		if (c == '"') {
			if (peek(s) != '"')
				break;
			advance(s);
		}
		if (c == '\n')
			s->line++;
		if (c == '\0' && (s->cfg.flags & SX_CSV_NO_NUL))
			return fail(s, SX_CSV_NUL);
		ret = keep(s, f, (char)c);
		if (ret)
			return ret;
	}
	if (s->cfg.flags & SX_CSV_TRIM)
		skip_blanks(s);
	if (!ends_field(peek(s)))
		return fail(s, SX_CSV_AFTER_QUOTE);
	return 0;
}

static int unquoted(struct sx_csv *s, struct sx_csv_field *f)
{
	int c, ret;

	while (!ends_field(c = peek(s))) {
		if (c == '"')
			return fail(s, SX_CSV_QUOTE);
		if (c == '\0' && (s->cfg.flags & SX_CSV_NO_NUL))
			return fail(s, SX_CSV_NUL);
		ret = keep(s, f, (char)c);
		if (ret)
			return ret;
		advance(s);
	}
	if (f && (s->cfg.flags & SX_CSV_TRIM)) {
		while (f->len && is_blank(s->rec.data[f->start + f->len - 1])) {
			f->len--;
			s->rec.len--;
		}
	}
	return 0;
}

int sx_csv_field(struct sx_csv *s)
{
	struct sx_csv_field *f = NULL;
	int c, ret;

	if (s->nfields >= s->cfg.fields_max) {
		if (!(s->cfg.flags & SX_CSV_EXTRA_FIELDS))
			return fail(s, SX_CSV_FIELDS);
	} else {
		f = &s->field[s->nfields];
		memset(f, 0, sizeof(*f));
		f->start = s->rec.len;
	}
	s->nfields++;
	if (s->cfg.flags & SX_CSV_TRIM)
		skip_blanks(s);
	if (peek(s) == '"') {
		if (f)
			f->quoted = true;
		ret = quoted(s, f);
	} else {
		ret = unquoted(s, f);
	}
	if (ret)
		return ret;
	if (f)
		sx_buf_putc(&s->rec, '\0');
	if (s->rec.err)
		return s->rec.err;
	c = peek(s);
	if (c == ',') {
		advance(s);
		return 1;
	}
	if (c == '\r') {
		advance(s);
		c = peek(s);
		if (c != '\n' && c != EOF && !(s->cfg.flags & SX_CSV_BARE_CR))
			return fail(s, SX_CSV_BARE_CR_ERR);
	}
	if (c == '\n') {
		advance(s);
		s->line++;
	}
	return 0;
}

int sx_csv_record(struct sx_csv *s)
{
	int ret = sx_csv_begin(s);

	if (ret <= 0)
		return ret;
	do
		ret = sx_csv_field(s);
	while (ret == 1);
	return ret < 0 ? ret : 1;
}

const char *sx_csv_text(const struct sx_csv *s, size_t i)
{
	if (i >= s->nfields || i >= s->cfg.fields_max)
		return "";
	return s->rec.data + s->field[i].start;
}

const char *sx_csv_why_str(enum sx_csv_why why)
{
	switch (why) {
	case SX_CSV_OK:
		break;
	case SX_CSV_UNTERMINATED:
		return "unterminated quoted field";
	case SX_CSV_AFTER_QUOTE:
		return "text after a closing quote";
	case SX_CSV_QUOTE:
		return "quote inside an unquoted field";
	case SX_CSV_BARE_CR_ERR:
		return "bare CR";
	case SX_CSV_NUL:
		return "NUL byte";
	case SX_CSV_LONG:
		return "record too long";
	case SX_CSV_FIELDS:
		return "too many fields";
	}
	return "no error";
}
