/*
 * csv.h - the one RFC 4180 record scanner: fields separated by commas,
 * records by LF or CR LF, a field in double quotes may hold commas, CR, LF
 * and doubled quotes ("" for one ").
 *
 * The readers of sigex's CSV inputs (the events file, the flow CSV, the
 * batch manifest) differ only where their formats really differ, and say so
 * with the SX_CSV_* flags and the limits of struct sx_csv_cfg; everything
 * else (quoting, line counting, what a syntax error is) is the same code.
 *
 * Input is a memory buffer of any bytes or a stream read one byte at a
 * time; fields are copied, unquoted, into a record buffer owned by the
 * scanner, each NUL-terminated (a field may hold NUL bytes unless
 * SX_CSV_NO_NUL: use its len).  Line numbers are physical lines, 1-based,
 * counting the LFs inside quoted fields.  Nothing is trusted: every field
 * and record can be bounded.  One scanner belongs to one thread; no state
 * is shared, so scanners are thread-safe with respect to each other.
 *
 * Use: sx_csv_init_mem() or sx_csv_init_file(), then sx_csv_record() per
 * record (or sx_csv_begin() and sx_csv_field() per field, for a reader that
 * decides field by field), sx_csv_fini() at the end.
 */
#ifndef SX_CORE_CSV_H
#define SX_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

enum sx_csv_flag {
	/* Blanks (space, tab) around a field are not part of it: skipped
	 * before it, trimmed from the end of an unquoted field, allowed between
	 * a closing quote and the separator; a line of blanks is empty. */
	SX_CSV_TRIM = 1u << 0,
	/* A line whose first byte (first non-blank with SX_CSV_TRIM) is '#' is
	 * a comment, skipped up to and including its LF. */
	SX_CSV_COMMENTS = 1u << 1,
	/* A CR not followed by LF ends a record, and a line that starts with
	 * CR is skipped up to and including its LF.  Without it such a CR is an
	 * error (SX_CSV_BARE_CR_ERR); CR LF and a CR at the end of the input
	 * always end a record. */
	SX_CSV_BARE_CR = 1u << 2,
	/* A NUL byte in a field is an error (SX_CSV_NUL). */
	SX_CSV_NO_NUL = 1u << 3,
	/* A UTF-8 byte order mark at the start of a memory input is skipped. */
	SX_CSV_BOM = 1u << 4,
	/* Fields past fields_max are scanned (their syntax checked), counted
	 * in nfields and dropped; without it one more field is an error
	 * (SX_CSV_FIELDS). */
	SX_CSV_EXTRA_FIELDS = 1u << 5,
};

/* Why the last call failed with SX_E_FORMAT. */
enum sx_csv_why {
	SX_CSV_OK = 0,
	SX_CSV_UNTERMINATED, /* input ends inside a quoted field */
	SX_CSV_AFTER_QUOTE,  /* text between a closing quote and the separator */
	SX_CSV_QUOTE,	     /* a quote inside an unquoted field */
	SX_CSV_BARE_CR_ERR,  /* CR not followed by LF (without SX_CSV_BARE_CR) */
	SX_CSV_NUL,	     /* a NUL byte (SX_CSV_NO_NUL) */
	SX_CSV_LONG,	     /* the record passed record_max */
	SX_CSV_FIELDS,	     /* more than fields_max fields */
};

struct sx_csv_cfg {
	unsigned flags;	   /* SX_CSV_* */
	size_t fields_max; /* fields kept per record, >= 1 */
	/* Bytes kept of one field, 0 for no limit: the rest is scanned and
	 * dropped and the field marked truncated.  May be changed between two
	 * calls of sx_csv_field(), for formats whose columns differ. */
	size_t field_max;
	/* Bytes one record may take in the record buffer (its fields' bytes
	 * and the NULs between them), 0 for no limit: a field byte past it is
	 * an error (SX_CSV_LONG), and scanning stops there. */
	size_t record_max;
};

struct sx_csv_field {
	size_t start;	/* offset in rec */
	size_t len;	/* bytes kept, without the NUL */
	bool quoted;	/* it was a quoted field */
	bool truncated; /* longer than field_max: only the first field_max bytes kept */
};

struct sx_csv {
	struct sx_csv_cfg cfg;
	/* the current record, valid until the next sx_csv_begin() */
	struct sx_buf rec;	    /* fields, each NUL-terminated */
	struct sx_csv_field *field; /* the first min(nfields, fields_max) fields */
	size_t nfields;		    /* fields scanned so far, extra ones included */
	bool truncated;		    /* some field of the record was truncated */
	unsigned long line;	    /* the physical line the scanner is on */
	unsigned long rec_line;	    /* the line the current record started on */
	enum sx_csv_why why;	    /* after SX_E_FORMAT */
	const char *p, *end;	    /* memory input */
	FILE *f;		    /* stream input (borrowed), or NULL */
	int peeked;		    /* the stream's next byte once peeked, else -2 */
};

/*
 * sx_csv_init_mem - scan the len bytes at data (borrowed; must outlive the
 * scanner).  sx_csv_init_file - scan the stream f (borrowed), one byte at a
 * time: a record is read up to and including its terminator, nothing more.
 * 0 or -ENOMEM (nothing to free then).  Caller frees with sx_csv_fini().
 */
int sx_csv_init_mem(struct sx_csv *s, const struct sx_csv_cfg *cfg, const char *data, size_t len);
int sx_csv_init_file(struct sx_csv *s, const struct sx_csv_cfg *cfg, FILE *f);
void sx_csv_fini(struct sx_csv *s);

/*
 * sx_csv_record - scan the next record, skipping empty lines (and comment
 * and blank lines as the flags say).  Returns 1 with the record's fields in
 * s->field / s->nfields, 0 at the end of the input, SX_E_FORMAT with s->why
 * set (s->rec_line is where the record started, s->line where the error
 * was seen), -ENOMEM, or -EIO when the stream failed.
 */
int sx_csv_record(struct sx_csv *s);

/*
 * sx_csv_begin - skip to the next record without scanning it: 1 when one
 * starts (s->rec_line set, no field yet), 0 at the end, or an error as for
 * sx_csv_record().  sx_csv_field - scan the record's next field: 1 when
 * another field follows, 0 when this one ended the record (its terminator
 * consumed), or an error as above.  Calling sx_csv_field() again after it
 * returned 0 starts on the next line as if it were the same record.
 */
int sx_csv_begin(struct sx_csv *s);
int sx_csv_field(struct sx_csv *s);

/* Skip the rest of the physical line, up to and including its LF. */
void sx_csv_skip_line(struct sx_csv *s);

/* Field i (< fields_max) of the current record, NUL-terminated; "" when the
 * record has no such field. */
const char *sx_csv_text(const struct sx_csv *s, size_t i);

/* The words for s->why ("unterminated quoted field", "bare CR", ...). */
const char *sx_csv_why_str(enum sx_csv_why why);

#endif /* SX_CORE_CSV_H */
