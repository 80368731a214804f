/*
 * yaml_writer.c - the one latched-error libyaml emitter wrapper (see
 * ydoc.h): every YAML file sigex writes goes through it, in one of two
 * layouts.  The emitter is allocated at open and freed at close, so that
 * callers keep a struct sx_yw on their stack without seeing libyaml.
 */
#include "yaml/ydoc.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/err.h"

_Static_assert(SX_YSTYLE_ANY == (int)YAML_ANY_SCALAR_STYLE &&
		   SX_YSTYLE_PLAIN == (int)YAML_PLAIN_SCALAR_STYLE &&
		   SX_YSTYLE_SINGLE_QUOTED == (int)YAML_SINGLE_QUOTED_SCALAR_STYLE &&
		   SX_YSTYLE_DOUBLE_QUOTED == (int)YAML_DOUBLE_QUOTED_SCALAR_STYLE &&
		   SX_YSTYLE_LITERAL == (int)YAML_LITERAL_SCALAR_STYLE &&
		   SX_YSTYLE_FOLDED == (int)YAML_FOLDED_SCALAR_STYLE,
	       "scalar styles are libyaml's");
_Static_assert(SX_YSTYLE_BLOCK == (int)YAML_BLOCK_MAPPING_STYLE &&
		   SX_YSTYLE_FLOW == (int)YAML_FLOW_MAPPING_STYLE &&
		   SX_YSTYLE_BLOCK == (int)YAML_BLOCK_SEQUENCE_STYLE &&
		   SX_YSTYLE_FLOW == (int)YAML_FLOW_SEQUENCE_STYLE,
	       "collection styles are libyaml's");

static void latch(struct sx_yw *w, int err, const char *problem)
{
	w->err = err;
	snprintf(w->problem, sizeof(w->problem), "%s", problem);
}

static void emit(struct sx_yw *w, yaml_event_t *ev, int init_ok)
{
	if (w->err) {
		if (init_ok)
			yaml_event_delete(ev);
		return;
	}
	if (!init_ok) {
		latch(w, -ENOMEM, "out of memory");
		return;
	}
	/* yaml_emitter_emit() destroys the event, even when it fails. */
	if (!yaml_emitter_emit(w->em, ev))
		latch(w, w->em->error == YAML_WRITER_ERROR ? -EIO : SX_E_YAML,
		      w->em->problem ? w->em->problem : "YAML emitter error");
}

int sx_yw_open(struct sx_yw *w, FILE *f, enum sx_yw_layout layout)
{
	yaml_event_t ev;

	memset(w, 0, sizeof(*w));
	w->em = malloc(sizeof(*w->em));
	if (!w->em || !yaml_emitter_initialize(w->em)) {
		free(w->em);
		w->em = NULL;
		latch(w, -ENOMEM, "out of memory");
		return w->err;
	}
	w->open = true;
	yaml_emitter_set_output_file(w->em, f);
	yaml_emitter_set_unicode(w->em, 0);
	yaml_emitter_set_indent(w->em, 2);
	/* PyYAML's best_width; libyaml folds long plain scalars there */
	yaml_emitter_set_width(w->em, layout == SX_YW_PYYAML ? 80 : -1);
	yaml_emitter_set_break(w->em, YAML_LN_BREAK);
	emit(w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	return w->err;
}

int sx_yw_close(struct sx_yw *w)
{
	yaml_event_t ev;

	if (!w->open)
		return w->err;
	emit(w, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(w, &ev, yaml_stream_end_event_initialize(&ev));
	if (!w->err && !yaml_emitter_flush(w->em))
		latch(w, -EIO, "write error");
	yaml_emitter_delete(w->em);
	free(w->em);
	w->em = NULL;
	w->open = false;
	return w->err;
}

void sx_yw_map_begin_style(struct sx_yw *w, enum sx_ystyle style)
{
	yaml_event_t ev;

	emit(w, &ev,
	     yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, (yaml_mapping_style_t)style));
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
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
}

void sx_yw_seq_begin_style(struct sx_yw *w, enum sx_ystyle style)
{
	yaml_event_t ev;

	emit(
	    w, &ev,
	    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, (yaml_sequence_style_t)style));
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
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
}

/* Well-formed UTF-8 as libyaml's yaml_check_utf8() accepts it (shortest
 * form, at most U+10FFFF); tells a refused text from a failed copy. */
bool sx_yw_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

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
	yaml_event_t ev;

	if (w->err)
		return;
	if (!yaml_scalar_event_initialize(
		&ev, NULL, NULL, (yaml_char_t *)s, (int)len, (implicit & SX_YW_PLAIN_IMPLICIT) != 0,
		(implicit & SX_YW_QUOTED_IMPLICIT) != 0, (yaml_scalar_style_t)style)) {
		if (sx_yw_is_utf8(s, len)) {
			latch(w, -ENOMEM, "out of memory");
		} else {
			w->err = SX_E_YAML;
			snprintf(w->problem, sizeof(w->problem),
				 "cannot write \"%.60s\": not UTF-8", s);
		}
		return;
	}
	emit(w, &ev, 1);
}

static void scalar(struct sx_yw *w, const char *s, enum sx_ystyle style, unsigned implicit)
{
	sx_yw_scalar(w, s, strlen(s), style, implicit);
}

#define BOTH (SX_YW_PLAIN_IMPLICIT | SX_YW_QUOTED_IMPLICIT)

/* A string that a YAML 1.1 reader would take for another type must be
 * quoted: libyaml does not know that "true", "null", "1.5" or "0x10" are
 * special to PyYAML, so check here. */
static bool looks_typed(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off",
					    "null", "~",     "y",   "n",  ""};
	size_t i;
	const char *p = s;

	/* a word is five bytes at most and starts with one of "tfyno~" in
	 * either case, or is empty: most strings (keys, names, addresses,
	 * numbers) need no comparison */
	if (!s[0] || (strchr("tfyno~", s[0] | 0x20) && strnlen(s, 6) <= 5))
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strcasecmp(s, words[i]) == 0)
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
