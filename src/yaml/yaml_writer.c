/*
 * yaml_writer.c - the one YAML writer (see ydoc.h): every YAML file sigex
 * writes goes through it, in one of two layouts.
 *
 * It writes the bytes libyaml's emitter (the library sigex reads YAML with)
 * writes for the same events, without its cost: libyaml copies each scalar
 * into an event, queues it, analyses it and writes it a character at a
 * time through checked macros, about 1,100 instructions a scalar, 14 %
 * of what `sigex batch` executed.  Here a scalar is analysed once where it
 * lies and written in runs.  The events sigex emits are a subset of
 * libyaml's (one implicit document; no anchor, alias, tag or directive;
 * UTF-8 written as ASCII with escapes; indent 2; "\n" breaks), and for them
 * the rules are libyaml's, function by function: the style a scalar gets
 * (analyze_scalar and select_scalar_style: plain when safe, else single
 * quotes, else double quotes with escapes), simple keys (one line, at most
 * 128 bytes; else "? key"), sequences in a mapping written without indent,
 * empty collections in flow style, block scalars with their hints, and the
 * PyYAML layout's folding past 80 columns.  test_yaml_writer.c holds the
 * writer to libyaml's bytes on random documents of every kind.
 *
 * A collection's start waits for the next call: whether a block collection
 * is empty (then written "[]" or "{}") and whether a collection can be a
 * simple key depend on the event after it, libyaml's look-ahead.  A scalar
 * is written at once, so the caller's text is never copied.
 */
#include "yaml/ydoc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/err.h"

enum ev_type { EV_SCALAR, EV_SEQ_START, EV_SEQ_END, EV_MAP_START, EV_MAP_END, EV_DOC_END };

struct ev {
	enum ev_type type;
	enum sx_ystyle style;
	unsigned implicit; /* SX_YW_*_IMPLICIT */
	const unsigned char *v;
	size_t len;
};

/* The states of libyaml's emitter, named as its functions are. */
enum state {
	ST_DOC_CONTENT,
	ST_DOC_END,
	ST_STREAM_END,
	ST_FSEQ_FIRST,
	ST_FSEQ_ITEM,
	ST_FMAP_FIRST_KEY,
	ST_FMAP_KEY,
	ST_FMAP_SIMPLE_VALUE,
	ST_FMAP_VALUE,
	ST_BSEQ_FIRST,
	ST_BSEQ_ITEM,
	ST_BMAP_FIRST_KEY,
	ST_BMAP_KEY,
	ST_BMAP_SIMPLE_VALUE,
	ST_BMAP_VALUE,
};

/* What a scalar's text allows (analyze_scalar). */
struct scalar_info {
	bool multiline;
	bool flow_plain;
	bool block_plain;
	bool single_quoted;
	bool block;
};

#define BEST_INDENT 2

struct sx_yw_emitter {
	FILE *f;
	int best_width; /* INT_MAX: never fold */
	int indent;	/* -1 before the root collection */
	int column;
	int flow_level;
	int open_ended;	 /* 2: a block scalar kept its last breaks */
	bool whitespace; /* the last character written is a space or none */
	bool indention;	 /* only indentation since the line began */
	/* the context of the node being written (emit_node): a mapping's
	 * key or value, a simple key (libyaml's root and sequence contexts
	 * steer nothing sigex emits) */
	bool map_ctx, simple_key_ctx;
	enum state state;
	int *states, *indents; /* stacks, grown as nesting needs */
	size_t nstates, nindents, cap;
	bool pending; /* a collection start waits for the next event */
	struct ev pend;
	struct scalar_info si; /* of the scalar being written */
	size_t n;	       /* bytes in buf */
	unsigned char buf[16384];
};

static void latch(struct sx_yw *w, int err, const char *problem)
{
	if (w->err)
		return;
	w->err = err;
	snprintf(w->problem, sizeof(w->problem), "%s", problem);
}

/* ---- output ---- */

static void flush(struct sx_yw *w)
{
	struct sx_yw_emitter *e = w->em;

	if (e->n && !w->err && fwrite(e->buf, 1, e->n, e->f) != e->n)
		latch(w, -EIO, "write error");
	e->n = 0;
}

/* k bytes of text without a line break, each one column. */
static void put_n(struct sx_yw *w, const void *p, size_t k)
{
	struct sx_yw_emitter *e = w->em;

	e->column += (int)k;
	if (k > sizeof(e->buf) - e->n) {
		flush(w);
		if (k > sizeof(e->buf)) {
			if (!w->err && fwrite(p, 1, k, e->f) != k)
				latch(w, -EIO, "write error");
			return;
		}
	}
	memcpy(e->buf + e->n, p, k);
	e->n += k;
}

static inline void put(struct sx_yw *w, char c)
{
	struct sx_yw_emitter *e = w->em;

	if (e->n == sizeof(e->buf))
		flush(w);
	e->buf[e->n++] = (unsigned char)c;
	e->column++;
}

static void put_break(struct sx_yw *w)
{
	put(w, '\n');
	w->em->column = 0;
}

static void write_indent(struct sx_yw *w)
{
	struct sx_yw_emitter *e = w->em;
	int indent = e->indent >= 0 ? e->indent : 0;

	if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
		put_break(w);
	while (e->column < indent)
		put(w, ' ');
	e->whitespace = true;
	e->indention = true;
}

static void write_indicator(struct sx_yw *w, const char *ind, bool need_whitespace,
			    bool is_whitespace, bool is_indention)
{
	struct sx_yw_emitter *e = w->em;

	if (need_whitespace && !e->whitespace)
		put(w, ' ');
	while (*ind)
		put(w, *ind++);
	e->whitespace = is_whitespace;
	e->indention = e->indention && is_indention;
}

/* ---- stacks ---- */

static bool grow(struct sx_yw *w)
{
	struct sx_yw_emitter *e = w->em;
	size_t cap = e->cap ? 2 * e->cap : 16;
	int *s, *i;

	s = realloc(e->states, cap * sizeof(*s));
	if (!s)
		goto fail;
	e->states = s;
	i = realloc(e->indents, cap * sizeof(*i));
	if (!i)
		goto fail;
	e->indents = i;
	e->cap = cap;
	return true;
fail:
	latch(w, -ENOMEM, "out of memory");
	return false;
}

static void push_state(struct sx_yw *w, enum state st)
{
	struct sx_yw_emitter *e = w->em;

	if (e->nstates == e->cap && !grow(w))
		return;
	e->states[e->nstates++] = (int)st;
}

static void pop_state(struct sx_yw *w)
{
	struct sx_yw_emitter *e = w->em;

	e->state = e->nstates ? (enum state)e->states[--e->nstates] : ST_STREAM_END;
}

static void increase_indent(struct sx_yw *w, bool flow, bool indentless)
{
	struct sx_yw_emitter *e = w->em;

	if (e->nindents == e->cap && !grow(w))
		return;
	e->indents[e->nindents++] = e->indent;
	if (e->indent < 0)
		e->indent = flow ? BEST_INDENT : 0;
	else if (!indentless)
		e->indent += BEST_INDENT;
}

static void pop_indent(struct sx_yw *w)
{
	struct sx_yw_emitter *e = w->em;

	if (e->nindents)
		e->indent = e->indents[--e->nindents];
}

/* ---- a scalar's text (libyaml's character classes, UTF-8) ---- */

/* The byte at i, or the NUL after the text, as libyaml's copy has it. */
static inline unsigned at(const unsigned char *s, size_t len, size_t i)
{
	return i < len ? s[i] : 0;
}

static inline size_t width(unsigned c)
{
	return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
}

/* \r, \n, NEL, LS, PS */
static inline bool is_break(const unsigned char *s, size_t len, size_t i)
{
	unsigned c = at(s, len, i);

	if (c > 0x20 && c < 0xc2) /* most characters */
		return false;
	return c == '\n' || c == '\r' || (c == 0xc2 && at(s, len, i + 1) == 0x85) ||
	       (c == 0xe2 && at(s, len, i + 1) == 0x80 &&
		(at(s, len, i + 2) == 0xa8 || at(s, len, i + 2) == 0xa9));
}

/* a blank, a break or the end (NUL) */
static inline bool is_blankz(const unsigned char *s, size_t len, size_t i)
{
	unsigned c = at(s, len, i);

	return c == ' ' || c == '\t' || c == 0 || is_break(s, len, i);
}

/* Printable and ASCII: what an emitter that does not write Unicode takes
 * as it is (IS_PRINTABLE && IS_ASCII). */
static inline bool is_plain_ascii(unsigned c)
{
	return c == '\n' || (c >= 0x20 && c <= 0x7e);
}

/* The indicators libyaml looks for in a scalar: a printable ASCII
 * character other than these and the space steers nothing after the
 * first position ("-" and "." matter only there). */
#define LO(c) ((c) < 64 ? UINT64_C(1) << ((c)&63) : 0)
#define HI(c) ((c) >= 64 ? UINT64_C(1) << ((c)&63) : 0)
#define INDICATORS(X)                                                                              \
	(X('#') | X(',') | X('[') | X(']') | X('{') | X('}') | X('&') | X('*') | X('!') | X('|') | \
	 X('>') | X('\'') | X('"') | X('%') | X('@') | X('`') | X('?') | X(':'))

static inline bool quiet(unsigned c)
{
	static const uint64_t ind[2] = {INDICATORS(LO), INDICATORS(HI)};

	return c > 0x20 && c < 0x7f && !((ind[c >> 6] >> (c & 63)) & 1);
}

static void analyze(const unsigned char *s, size_t len, struct scalar_info *a)
{
	bool block_ind = false, flow_ind = false, line_breaks = false, special = false;
	bool leading_space = false, leading_break = false, trailing_space = false;
	bool trailing_break = false, break_space = false, space_break = false;
	bool preceded_ws = true, followed_ws, prev_space = false, prev_break = false;
	size_t i, wd;

	if (!len) {
		*a = (struct scalar_info){.block_plain = true, .single_quoted = true};
		return;
	}
	if ((s[0] == '-' && at(s, len, 1) == '-' && at(s, len, 2) == '-') ||
	    (s[0] == '.' && at(s, len, 1) == '.' && at(s, len, 2) == '.'))
		block_ind = flow_ind = true;
	for (i = 0; i < len; i += wd) {
		unsigned c = s[i];
		bool brk;

		wd = 1;
		if (i && quiet(c)) {
			preceded_ws = prev_space = prev_break = false;
			continue;
		}
		wd = width(c);
		brk = is_break(s, len, i);
		followed_ws = is_blankz(s, len, i + wd);
		if (i == 0) {
			switch (c) {
			case '#':
			case ',':
			case '[':
			case ']':
			case '{':
			case '}':
			case '&':
			case '*':
			case '!':
			case '|':
			case '>':
			case '\'':
			case '"':
			case '%':
			case '@':
			case '`':
				flow_ind = block_ind = true;
				break;
			case '?':
			case ':':
				flow_ind = true;
				block_ind = block_ind || followed_ws;
				break;
			case '-':
				if (followed_ws)
					flow_ind = block_ind = true;
				break;
			default:
				break;
			}
		} else {
			switch (c) {
			case ',':
			case '?':
			case '[':
			case ']':
			case '{':
			case '}':
				flow_ind = true;
				break;
			case ':':
				flow_ind = true;
				block_ind = block_ind || followed_ws;
				break;
			case '#':
				if (preceded_ws)
					flow_ind = block_ind = true;
				break;
			default:
				break;
			}
		}
		if (!is_plain_ascii(c))
			special = true;
		if (brk)
			line_breaks = true;
		if (c == ' ') {
			leading_space = leading_space || i == 0;
			trailing_space = trailing_space || i + wd == len;
			break_space = break_space || prev_break;
			prev_space = true;
			prev_break = false;
		} else if (brk) {
			leading_break = leading_break || i == 0;
			trailing_break = trailing_break || i + wd == len;
			space_break = space_break || prev_space;
			prev_space = false;
			prev_break = true;
		} else {
			prev_space = prev_break = false;
		}
		preceded_ws = is_blankz(s, len, i);
	}
	*a = (struct scalar_info){.multiline = line_breaks,
				  .flow_plain = true,
				  .block_plain = true,
				  .single_quoted = true,
				  .block = true};
	if (leading_space || leading_break || trailing_space || trailing_break)
		a->flow_plain = a->block_plain = false;
	if (trailing_space)
		a->block = false;
	if (break_space)
		a->flow_plain = a->block_plain = a->single_quoted = false;
	if (space_break || special)
		a->flow_plain = a->block_plain = a->single_quoted = a->block = false;
	if (line_breaks)
		a->flow_plain = a->block_plain = false;
	if (flow_ind)
		a->flow_plain = false;
	if (block_ind)
		a->block_plain = false;
}

/* ---- scalars (libyaml's writers; breaks are "\n", columns are bytes
 * since only printable ASCII is ever written as it is) ---- */

/* The character at *i as it is: its bytes, one column. */
static void put_char(struct sx_yw *w, const unsigned char *s, size_t len, size_t *i)
{
	size_t wd = width(s[*i]);

	if (wd > len - *i)
		wd = len - *i;
	put_n(w, s + *i, wd);
	w->em->column -= (int)wd - 1;
	*i += wd;
}

/* The break at *i: "\n" as the emitter's break, another as it is. */
static void write_break(struct sx_yw *w, const unsigned char *s, size_t len, size_t *i)
{
	if (s[*i] == '\n') {
		put_break(w);
		(*i)++;
		return;
	}
	put_char(w, s, len, i);
	w->em->column = 0;
}

/*
 * The text of a plain or a single-quoted scalar, libyaml's two writers in
 * one loop: a space past the width folds the line (a quoted text's first
 * and last never), a line break is written twice (a single one would read
 * back as a space), a quote is doubled in a quoted text.
 */
static void write_text(struct sx_yw *w, const unsigned char *s, size_t len, bool allow_breaks,
		       bool quoted)
{
	struct sx_yw_emitter *e = w->em;
	bool spaces = false, breaks = false;
	size_t i = 0;

	while (i < len) {
		if (s[i] == ' ') {
			if (allow_breaks && !spaces && e->column > e->best_width &&
			    (!quoted || (i != 0 && i != len - 1)) && at(s, len, i + 1) != ' ')
				write_indent(w);
			else
				put(w, ' ');
			i++;
			spaces = true;
		} else if (is_break(s, len, i)) {
			if (!breaks && s[i] == '\n')
				put_break(w);
			write_break(w, s, len, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks)
				write_indent(w);
			if (quoted && s[i] == '\'')
				put(w, '\'');
			put_char(w, s, len, &i);
			e->indention = false;
			spaces = breaks = false;
		}
	}
	if (quoted && breaks)
		write_indent(w);
}

static void write_plain(struct sx_yw *w, const unsigned char *s, size_t len, bool allow_breaks)
{
	struct sx_yw_emitter *e = w->em;

	if (!e->whitespace && (len || e->flow_level))
		put(w, ' ');
	if (e->best_width == INT_MAX && !e->si.multiline)
		put_n(w, s, len); /* nothing to fold, no break: the text as it is */
	else
		write_text(w, s, len, allow_breaks, false);
	e->whitespace = false;
	e->indention = false;
}

static void write_single_quoted(struct sx_yw *w, const unsigned char *s, size_t len,
				bool allow_breaks)
{
	struct sx_yw_emitter *e = w->em;

	write_indicator(w, "'", true, false, false);
	write_text(w, s, len, allow_breaks, true);
	write_indicator(w, "'", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

/* The escape of the character at *i (its code point decoded), after "\". */
static void write_escape(struct sx_yw *w, const unsigned char *s, size_t len, size_t *i)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t wd = width(s[*i]), k;
	uint32_t v = wd == 1   ? s[*i]
		     : wd == 2 ? s[*i] & 0x1f
		     : wd == 3 ? s[*i] & 0x0f
			       : s[*i] & 0x07;
	int digits;

	for (k = 1; k < wd; k++)
		v = (v << 6) | (at(s, len, *i + k) & 0x3f);
	*i += wd;
	put(w, '\\');
	switch (v) {
	case 0x00:
		put(w, '0');
		return;
	case 0x07:
		put(w, 'a');
		return;
	case 0x08:
		put(w, 'b');
		return;
	case 0x09:
		put(w, 't');
		return;
	case 0x0a:
		put(w, 'n');
		return;
	case 0x0b:
		put(w, 'v');
		return;
	case 0x0c:
		put(w, 'f');
		return;
	case 0x0d:
		put(w, 'r');
		return;
	case 0x1b:
		put(w, 'e');
		return;
	case 0x22:
		put(w, '"');
		return;
	case 0x5c:
		put(w, '\\');
		return;
	case 0x85:
		put(w, 'N');
		return;
	case 0xa0:
		put(w, '_');
		return;
	case 0x2028:
		put(w, 'L');
		return;
	case 0x2029:
		put(w, 'P');
		return;
	default:
		break;
	}
	if (v <= 0xff) {
		put(w, 'x');
		digits = 2;
	} else if (v <= 0xffff) {
		put(w, 'u');
		digits = 4;
	} else {
		put(w, 'U');
		digits = 8;
	}
	while (digits--)
		put(w, hex[(v >> (4 * digits)) & 0xf]);
}

static void write_double_quoted(struct sx_yw *w, const unsigned char *s, size_t len,
				bool allow_breaks)
{
	struct sx_yw_emitter *e = w->em;
	bool spaces = false;
	size_t i = 0;

	write_indicator(w, "\"", true, false, false);
	while (i < len) {
		unsigned c = s[i];

		if (!is_plain_ascii(c) || c == '\n' || c == '"' || c == '\\') {
			write_escape(w, s, len, &i);
			spaces = false;
		} else if (c == ' ') {
			if (allow_breaks && !spaces && e->column > e->best_width && i != 0 &&
			    i != len - 1) {
				write_indent(w);
				if (at(s, len, i + 1) == ' ')
					put(w, '\\');
			} else {
				put(w, ' ');
			}
			i++;
			spaces = true;
		} else {
			put(w, (char)c);
			i++;
			spaces = false;
		}
	}
	write_indicator(w, "\"", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

/* The indentation and chomping indicators of a block scalar. */
static void write_block_hints(struct sx_yw *w, const unsigned char *s, size_t len)
{
	struct sx_yw_emitter *e = w->em;
	const char *chomp = NULL;
	size_t p = len;

	if (at(s, len, 0) == ' ' || is_break(s, len, 0))
		write_indicator(w, (const char[]){'0' + BEST_INDENT, '\0'}, false, false, false);
	e->open_ended = 0;
	if (!len) {
		chomp = "-";
	} else {
		do
			p--;
		while (p && (s[p] & 0xc0) == 0x80);
		if (!is_break(s, len, p)) {
			chomp = "-";
		} else if (p == 0) {
			chomp = "+";
			e->open_ended = 2;
		} else {
			do
				p--;
			while (p && (s[p] & 0xc0) == 0x80);
			if (is_break(s, len, p)) {
				chomp = "+";
				e->open_ended = 2;
			}
		}
	}
	if (chomp)
		write_indicator(w, chomp, false, false, false);
}

/*
 * A literal ("|") or folded (">") block scalar, libyaml's two writers in
 * one loop: the hints, then the lines at the indent.  A folded one also
 * breaks a line past the width at a space, and writes a line break twice
 * between two lines of text (once, it would read back as a space).
 */
static void write_block(struct sx_yw *w, const unsigned char *s, size_t len, bool folded)
{
	struct sx_yw_emitter *e = w->em;
	bool breaks = true, leading_spaces = true;
	size_t i = 0;

	write_indicator(w, folded ? ">" : "|", true, false, false);
	write_block_hints(w, s, len);
	put_break(w);
	e->indention = true;
	e->whitespace = true;
	while (i < len) {
		if (is_break(s, len, i)) {
			if (folded && !breaks && !leading_spaces && s[i] == '\n') {
				size_t k = i;

				while (is_break(s, len, k))
					k += width(s[k]);
				if (!is_blankz(s, len, k))
					put_break(w);
			}
			write_break(w, s, len, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks) {
				write_indent(w);
				leading_spaces = s[i] == ' ' || s[i] == '\t';
			}
			if (folded && !breaks && s[i] == ' ' && at(s, len, i + 1) != ' ' &&
			    e->column > e->best_width) {
				write_indent(w);
				i++;
			} else {
				put_char(w, s, len, &i);
			}
			e->indention = false;
			breaks = false;
		}
	}
}

/* select_scalar_style: the style a scalar is written in; *tag: written
 * with the non-specific tag "!" (quoted, and not implicitly a string). */
static enum sx_ystyle select_style(struct sx_yw *w, const struct ev *ev, bool *tag)
{
	struct sx_yw_emitter *e = w->em;
	const struct scalar_info *a = &e->si;
	enum sx_ystyle style = ev->style;

	*tag = false;
	if (!(ev->implicit & (SX_YW_PLAIN_IMPLICIT | SX_YW_QUOTED_IMPLICIT))) {
		latch(w, SX_E_YAML, "neither tag nor implicit flags are specified");
		return style;
	}
	if (style == SX_YSTYLE_ANY)
		style = SX_YSTYLE_PLAIN;
	if (e->simple_key_ctx && a->multiline)
		style = SX_YSTYLE_DOUBLE_QUOTED;
	if (style == SX_YSTYLE_PLAIN) {
		if ((e->flow_level && !a->flow_plain) || (!e->flow_level && !a->block_plain))
			style = SX_YSTYLE_SINGLE_QUOTED;
		if (!ev->len && (e->flow_level || e->simple_key_ctx))
			style = SX_YSTYLE_SINGLE_QUOTED;
		if (!(ev->implicit & SX_YW_PLAIN_IMPLICIT))
			style = SX_YSTYLE_SINGLE_QUOTED;
	}
	if (style == SX_YSTYLE_SINGLE_QUOTED && !a->single_quoted)
		style = SX_YSTYLE_DOUBLE_QUOTED;
	if ((style == SX_YSTYLE_LITERAL || style == SX_YSTYLE_FOLDED) &&
	    (!a->block || e->flow_level || e->simple_key_ctx))
		style = SX_YSTYLE_DOUBLE_QUOTED;
	*tag = !(ev->implicit & SX_YW_QUOTED_IMPLICIT) && style != SX_YSTYLE_PLAIN;
	return style;
}

static void emit_scalar(struct sx_yw *w, const struct ev *ev)
{
	struct sx_yw_emitter *e = w->em;
	bool tag, allow_breaks = !e->simple_key_ctx;
	enum sx_ystyle style = select_style(w, ev, &tag);

	if (w->err)
		return;
	if (tag) {
		if (!e->whitespace)
			put(w, ' ');
		put(w, '!');
		e->whitespace = false;
		e->indention = false;
	}
	increase_indent(w, true, false);
	switch (style) {
	case SX_YSTYLE_SINGLE_QUOTED:
		write_single_quoted(w, ev->v, ev->len, allow_breaks);
		break;
	case SX_YSTYLE_DOUBLE_QUOTED:
		write_double_quoted(w, ev->v, ev->len, allow_breaks);
		break;
	case SX_YSTYLE_LITERAL:
	case SX_YSTYLE_FOLDED:
		write_block(w, ev->v, ev->len, style == SX_YSTYLE_FOLDED);
		break;
	default:
		write_plain(w, ev->v, ev->len, allow_breaks);
		break;
	}
	pop_indent(w);
	pop_state(w);
}

/* ---- the state machine (libyaml's emit_* functions) ---- */

/* Whether ev, a collection's start followed by next, is empty. */
static bool empty_collection(const struct ev *ev, const struct ev *next)
{
	return next && ((ev->type == EV_SEQ_START && next->type == EV_SEQ_END) ||
			(ev->type == EV_MAP_START && next->type == EV_MAP_END));
}

static bool simple_key(struct sx_yw *w, const struct ev *ev, const struct ev *next)
{
	switch (ev->type) {
	case EV_SCALAR:
		return !w->em->si.multiline && ev->len <= 128;
	case EV_SEQ_START:
	case EV_MAP_START:
		return empty_collection(ev, next);
	default:
		return false;
	}
}

static void node(struct sx_yw *w, const struct ev *ev, const struct ev *next, bool map, bool key)
{
	struct sx_yw_emitter *e = w->em;
	bool flow;

	e->map_ctx = map;
	e->simple_key_ctx = key;
	switch (ev->type) {
	case EV_SCALAR:
		emit_scalar(w, ev);
		return;
	case EV_SEQ_START:
	case EV_MAP_START:
		flow = e->flow_level || ev->style == SX_YSTYLE_FLOW || empty_collection(ev, next);
		if (ev->type == EV_SEQ_START)
			e->state = flow ? ST_FSEQ_FIRST : ST_BSEQ_FIRST;
		else
			e->state = flow ? ST_FMAP_FIRST_KEY : ST_BMAP_FIRST_KEY;
		return;
	default:
		latch(w, SX_E_YAML, "expected SCALAR, SEQUENCE-START, MAPPING-START, or ALIAS");
		return;
	}
}

/* What a flow sequence's item and a flow mapping's key share: the opening
 * bracket before the first, the closing one at the end (true: ev ended the
 * collection), the comma between items and the fold past the width. */
static bool flow_item(struct sx_yw *w, const struct ev *ev, bool first, const char *open,
		      const char *close, enum ev_type end)
{
	struct sx_yw_emitter *e = w->em;

	if (first) {
		write_indicator(w, open, true, true, false);
		increase_indent(w, true, false);
		e->flow_level++;
	}
	if (ev->type == end) {
		e->flow_level--;
		pop_indent(w);
		write_indicator(w, close, false, false, false);
		pop_state(w);
		return true;
	}
	if (!first)
		write_indicator(w, ",", false, false, false);
	if (e->column > e->best_width)
		write_indent(w);
	return false;
}

/* A mapping's key: simple ("key: value") when it can be, else complex
 * ("? key", then ": value"). */
static void key_node(struct sx_yw *w, const struct ev *ev, const struct ev *next, bool block)
{
	if (simple_key(w, ev, next)) {
		push_state(w, block ? ST_BMAP_SIMPLE_VALUE : ST_FMAP_SIMPLE_VALUE);
		node(w, ev, next, true, true);
	} else {
		write_indicator(w, "?", true, false, block);
		push_state(w, block ? ST_BMAP_VALUE : ST_FMAP_VALUE);
		node(w, ev, next, true, false);
	}
}

static void flow_sequence_item(struct sx_yw *w, const struct ev *ev, const struct ev *next,
			       bool first)
{
	if (flow_item(w, ev, first, "[", "]", EV_SEQ_END))
		return;
	push_state(w, ST_FSEQ_ITEM);
	node(w, ev, next, false, false);
}

static void flow_mapping_key(struct sx_yw *w, const struct ev *ev, const struct ev *next,
			     bool first)
{
	if (flow_item(w, ev, first, "{", "}", EV_MAP_END))
		return;
	key_node(w, ev, next, false);
}

static void flow_mapping_value(struct sx_yw *w, const struct ev *ev, const struct ev *next,
			       bool simple)
{
	struct sx_yw_emitter *e = w->em;

	if (simple) {
		write_indicator(w, ":", false, false, false);
	} else {
		if (e->column > e->best_width)
			write_indent(w);
		write_indicator(w, ":", true, false, false);
	}
	push_state(w, ST_FMAP_KEY);
	node(w, ev, next, true, false);
}

static void block_sequence_item(struct sx_yw *w, const struct ev *ev, const struct ev *next,
				bool first)
{
	struct sx_yw_emitter *e = w->em;

	if (first)
		increase_indent(w, false, e->map_ctx && !e->indention);
	if (ev->type == EV_SEQ_END) {
		pop_indent(w);
		pop_state(w);
		return;
	}
	write_indent(w);
	write_indicator(w, "-", true, false, true);
	push_state(w, ST_BSEQ_ITEM);
	node(w, ev, next, false, false);
}

static void block_mapping_key(struct sx_yw *w, const struct ev *ev, const struct ev *next,
			      bool first)
{
	if (first)
		increase_indent(w, false, false);
	if (ev->type == EV_MAP_END) {
		pop_indent(w);
		pop_state(w);
		return;
	}
	write_indent(w);
	key_node(w, ev, next, true);
}

static void block_mapping_value(struct sx_yw *w, const struct ev *ev, const struct ev *next,
				bool simple)
{
	if (simple) {
		write_indicator(w, ":", false, false, false);
	} else {
		write_indent(w);
		write_indicator(w, ":", true, false, true);
	}
	push_state(w, ST_BMAP_KEY);
	node(w, ev, next, true, false);
}

/* The collections' states: the function that takes the next event in
 * each, and whether it is the collection's first (resp. a simple key's
 * value).  The document's own states are process()'s. */
typedef void (*state_fn)(struct sx_yw *, const struct ev *, const struct ev *, bool);

static const struct {
	state_fn fn;
	bool first;
} in_collection[] = {
    [ST_FSEQ_FIRST] = {flow_sequence_item, true},
    [ST_FSEQ_ITEM] = {flow_sequence_item, false},
    [ST_FMAP_FIRST_KEY] = {flow_mapping_key, true},
    [ST_FMAP_KEY] = {flow_mapping_key, false},
    [ST_FMAP_SIMPLE_VALUE] = {flow_mapping_value, true},
    [ST_FMAP_VALUE] = {flow_mapping_value, false},
    [ST_BSEQ_FIRST] = {block_sequence_item, true},
    [ST_BSEQ_ITEM] = {block_sequence_item, false},
    [ST_BMAP_FIRST_KEY] = {block_mapping_key, true},
    [ST_BMAP_KEY] = {block_mapping_key, false},
    [ST_BMAP_SIMPLE_VALUE] = {block_mapping_value, true},
    [ST_BMAP_VALUE] = {block_mapping_value, false},
};

/* ev, with next the event after it (NULL: not known, for a scalar or an
 * end, which need none). */
static void process(struct sx_yw *w, const struct ev *ev, const struct ev *next)
{
	struct sx_yw_emitter *e = w->em;

	if (ev->type == EV_SCALAR)
		analyze(ev->v, ev->len, &e->si);
	switch (e->state) {
	case ST_DOC_CONTENT:
		push_state(w, ST_DOC_END);
		node(w, ev, next, false, false);
		return;
	case ST_DOC_END:
		if (ev->type != EV_DOC_END) {
			latch(w, SX_E_YAML, "expected DOCUMENT-END");
			return;
		}
		write_indent(w);
		if (!e->open_ended)
			e->open_ended = 1;
		e->state = ST_STREAM_END;
		return;
	case ST_STREAM_END:
		latch(w, SX_E_YAML, "expected nothing after the document");
		return;
	default:
		in_collection[e->state].fn(w, ev, next, in_collection[e->state].first);
		return;
	}
}

/* One event from the caller: a collection's start waits for the next. */
static void event(struct sx_yw *w, const struct ev *ev)
{
	struct sx_yw_emitter *e = w->em;

	if (w->err)
		return;
	if (e->pending) {
		struct ev start = e->pend;

		e->pending = false;
		process(w, &start, ev);
		if (w->err)
			return;
	}
	if (ev->type == EV_SEQ_START || ev->type == EV_MAP_START) {
		e->pend = *ev;
		e->pending = true;
		return;
	}
	process(w, ev, NULL);
}

/* ---- the API ---- */

int sx_yw_open(struct sx_yw *w, FILE *f, enum sx_yw_layout layout)
{
	struct sx_yw_emitter *e;

	memset(w, 0, sizeof(*w));
	e = malloc(sizeof(*e));
	if (!e) {
		latch(w, -ENOMEM, "out of memory");
		return w->err;
	}
	memset(e, 0, offsetof(struct sx_yw_emitter, buf));
	e->f = f;
	/* PyYAML's best_width; sigex's files never fold */
	e->best_width = layout == SX_YW_PYYAML ? 80 : INT_MAX;
	e->indent = -1;
	e->whitespace = true;
	e->indention = true;
	e->state = ST_DOC_CONTENT;
	w->em = e;
	w->open = true;
	return 0;
}

int sx_yw_close(struct sx_yw *w)
{
	struct sx_yw_emitter *e = w->em;

	if (!w->open)
		return w->err;
	event(w, &(struct ev){.type = EV_DOC_END});
	/* a block scalar that kept its last breaks ends the stream with "..." */
	if (!w->err && e->open_ended == 2) {
		write_indicator(w, "...", true, false, false);
		e->open_ended = 0;
		write_indent(w);
	}
	flush(w);
	free(e->states);
	free(e->indents);
	free(e);
	w->em = NULL;
	w->open = false;
	return w->err;
}

static void collection(struct sx_yw *w, enum ev_type type, enum sx_ystyle style)
{
	event(w, &(struct ev){.type = type, .style = style});
}

void sx_yw_map_begin_style(struct sx_yw *w, enum sx_ystyle style)
{
	collection(w, EV_MAP_START, style);
}

void sx_yw_map_begin(struct sx_yw *w)
{
	sx_yw_map_begin_style(w, SX_YSTYLE_BLOCK);
}

void sx_yw_map_begin_flow(struct sx_yw *w)
{
	sx_yw_map_begin_style(w, SX_YSTYLE_FLOW);
}

void sx_yw_map_end(struct sx_yw *w)
{
	collection(w, EV_MAP_END, SX_YSTYLE_ANY);
}

void sx_yw_seq_begin_style(struct sx_yw *w, enum sx_ystyle style)
{
	collection(w, EV_SEQ_START, style);
}

void sx_yw_seq_begin(struct sx_yw *w)
{
	sx_yw_seq_begin_style(w, SX_YSTYLE_BLOCK);
}

void sx_yw_seq_begin_flow(struct sx_yw *w)
{
	sx_yw_seq_begin_style(w, SX_YSTYLE_FLOW);
}

void sx_yw_seq_end(struct sx_yw *w)
{
	collection(w, EV_SEQ_END, SX_YSTYLE_ANY);
}

/* Well-formed UTF-8: the shortest form, at most U+10FFFF, no surrogates
 * (stricter than libyaml's yaml_check_utf8(), see ydoc.h). */
bool sx_yw_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n && p[i] < 0x80) /* most texts are ASCII */
		i++;
	while (i < n) {
		unsigned c = p[i], width, k;
		uint32_t v;

		width = c < 0x80	     ? 1
			: (c & 0xe0) == 0xc0 ? 2
			: (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4
					     : 0;
		if (!width || i + width > n)
			return false;
		v = width == 1 ? c : width == 2 ? c & 0x1f : width == 3 ? c & 0x0f : c & 0x07;
		for (k = 1; k < width; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			v = (v << 6) | (p[i + k] & 0x3f);
		}
		if (!(width == 1 || (width == 2 && v >= 0x80) || (width == 3 && v >= 0x800) ||
		      (width == 4 && v >= 0x10000)) ||
		    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return false;
		i += width;
	}
	return true;
}

void sx_yw_scalar(struct sx_yw *w, const char *s, size_t len, enum sx_ystyle style,
		  unsigned implicit)
{
	if (w->err)
		return;
	if (!sx_yw_is_utf8(s, len)) {
		w->err = SX_E_YAML;
		snprintf(w->problem, sizeof(w->problem), "cannot write \"%.*s\": not UTF-8",
			 (int)SX_MIN(len, (size_t)60), s);
		return;
	}
	event(w, &(struct ev){.type = EV_SCALAR,
			      .style = style,
			      .implicit = implicit,
			      .v = (const unsigned char *)s,
			      .len = len});
}

static void scalar(struct sx_yw *w, const char *s, enum sx_ystyle style, unsigned implicit)
{
	sx_yw_scalar(w, s, strlen(s), style, implicit);
}

#define BOTH (SX_YW_PLAIN_IMPLICIT | SX_YW_QUOTED_IMPLICIT)

/* A string that a YAML 1.1 reader would take for another type must be
 * quoted: libyaml's rules, which the writer follows, do not know that
 * "true", "null", "1.5" or "0x10" are special to PyYAML, so check here. */
static bool looks_typed(const char *s)
{
	/* the words YAML 1.1 reads as booleans or null, by length */
	static const char *const words[6][2] = {
	    {"", ""},	    {"y", "n"},	      {"no", "on"},
	    {"yes", "off"}, {"true", "null"}, {"false", "false"},
	};
	size_t n = strnlen(s, 6), k;
	const char *p = s;

	if (n == 1 && s[0] == '~')
		return true;
	for (k = 0; n < 6 && k < 2; k++)
		if ((s[0] | 0x20) == (words[n][k][0] | 0x20) && strcasecmp(s, words[n][k]) == 0)
			return true;
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '.' || (*p >= '0' && *p <= '9')) {
		for (; *p; p++)
			if (!strchr("0123456789._:eExXabcdefABCDEF+-", *p))
				return false;
		return true;
	}
	return false;
}

void sx_yw_str(struct sx_yw *w, const char *s)
{
	scalar(w, s, looks_typed(s) ? SX_YSTYLE_SINGLE_QUOTED : SX_YSTYLE_ANY, BOTH);
}

void sx_yw_quoted(struct sx_yw *w, const char *s)
{
	scalar(w, s, SX_YSTYLE_DOUBLE_QUOTED, SX_YW_QUOTED_IMPLICIT);
}

void sx_yw_py_str(struct sx_yw *w, const char *s)
{
	scalar(w, s, SX_YSTYLE_ANY,
	       (sx_yw_plain_is_str(s) ? SX_YW_PLAIN_IMPLICIT : 0) | SX_YW_QUOTED_IMPLICIT);
}

/* Integers in decimal by core/buf.h's digits: what "%" PRIu64 and
 * "%" PRId64 print, without snprintf's 670 instructions a number. */
void sx_yw_u64(struct sx_yw *w, uint64_t v)
{
	char b[SX_U64_DIGITS_MAX + 1];

	*sx_u64_put(b, v) = '\0';
	scalar(w, b, SX_YSTYLE_PLAIN, BOTH);
}

void sx_yw_i64(struct sx_yw *w, int64_t v)
{
	char b[SX_U64_DIGITS_MAX + 2], *p = b;

	if (v < 0)
		*p++ = '-';
	*sx_u64_put(p, v < 0 ? 0 - (uint64_t)v : (uint64_t)v) = '\0';
	scalar(w, b, SX_YSTYLE_PLAIN, BOTH);
}

void sx_yw_double(struct sx_yw *w, double v)
{
	char b[64];

	/* %.17g round-trips; trim to a short exact form when one exists. */
	snprintf(b, sizeof(b), "%.6f", v);
	if (strtod(b, NULL) != v)
		snprintf(b, sizeof(b), "%.17g", v);
	scalar(w, b, SX_YSTYLE_PLAIN, BOTH);
}

void sx_yw_bool(struct sx_yw *w, bool v)
{
	scalar(w, v ? "true" : "false", SX_YSTYLE_PLAIN, BOTH);
}

void sx_yw_number(struct sx_yw *w, const char *text)
{
	scalar(w, text, SX_YSTYLE_PLAIN, BOTH);
}

void sx_yw_null(struct sx_yw *w)
{
	scalar(w, "null", SX_YSTYLE_PLAIN, BOTH);
}

void sx_yw_kv_str(struct sx_yw *w, const char *k, const char *v)
{
	sx_yw_str(w, k);
	sx_yw_str(w, v);
}

void sx_yw_kv_u64(struct sx_yw *w, const char *k, uint64_t v)
{
	sx_yw_str(w, k);
	sx_yw_u64(w, v);
}

void sx_yw_kv_i64(struct sx_yw *w, const char *k, int64_t v)
{
	sx_yw_str(w, k);
	sx_yw_i64(w, v);
}

void sx_yw_kv_double(struct sx_yw *w, const char *k, double v)
{
	sx_yw_str(w, k);
	sx_yw_double(w, v);
}

void sx_yw_kv_bool(struct sx_yw *w, const char *k, bool v)
{
	sx_yw_str(w, k);
	sx_yw_bool(w, v);
}

/* ---- PyYAML's implicit resolvers (yaml/resolver.py, YAML 1.1) ---- */

static const char *const resolvers[] = {
    /* bool */
    "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    /* float */
    "^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9][0-9_]*([eE][-+][0-9]+)?"
    "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
    /* int */
    "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
    "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
    /* merge */
    "^<<$",
    /* null */
    "^(~|null|Null|NULL|)$",
    /* timestamp */
    "^([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
    "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
    "(\\.[0-9]*)?([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)$",
    /* value */
    "^=$",
    /* yaml */
    "^(!|&|\\*)$",
};

#define NRESOLVERS (sizeof(resolvers) / sizeof(resolvers[0]))

/* Compiled once per process (every scalar of every profile is checked);
 * regexec() on a compiled pattern is thread-safe. */
static regex_t compiled[NRESOLVERS];
static bool compiled_ok[NRESOLVERS];
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;

static void compile_resolvers(void)
{
	size_t i;

	for (i = 0; i < NRESOLVERS; i++)
		compiled_ok[i] = regcomp(&compiled[i], resolvers[i], REG_EXTENDED | REG_NOSUB) == 0;
}

static bool resolves(const char *s)
{
	size_t i;

	pthread_once(&compile_once, compile_resolvers);
	for (i = 0; i < NRESOLVERS; i++)
		if (compiled_ok[i] && regexec(&compiled[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

/* The first characters of what the resolvers above match, as PyYAML keys
 * them (add_implicit_resolver's "first" lists): a text that starts with
 * none of them is a string without running a pattern. */
static const char resolver_firsts[] = "yYnNtTfFoO-+0123456789.<~=!&*";

bool sx_yw_plain_is_str(const char *s)
{
	size_t n;
	bool is_str;
	char *cut;

	if (s[0] && !strchr(resolver_firsts, s[0]))
		return true;
	n = strlen(s);
	if (resolves(s))
		return false;
	if (n == 0 || s[n - 1] != '\n')
		return true;
	/* Python's "$" also matches before a final newline. */
	cut = strndup(s, n - 1);
	if (!cut)
		return false; /* quoting is always safe */
	is_str = !resolves(cut);
	free(cut);
	return is_str;
}
