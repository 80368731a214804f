/*
 * check_report.c - the report of `sigex check` (see check.h): per unit, the
 * document changes and the patterns added, removed and changed with their
 * fields, as text for a CI log, or as YAML (through the yaml module's
 * writer) or JSON (written here) from one structured walk, so both carry the
 * same fields in the same order.
 */
#include "check/check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "yaml/ydoc.h"

#define KEY_SHOWN 120 /* bytes of a pattern key in the text report */

static const char *tol_text(const struct sx_check_tol *t, unsigned char cls, char *buf,
			    size_t bufsz)
{
	if (cls == SX_CHECK_EXACT || cls >= SX_CHECK_IGNORED)
		snprintf(buf, bufsz, "exact");
	else if (t->abs[cls] > 0 && t->rel[cls] > 0)
		snprintf(buf, bufsz, "%s: %g or %g%%", sx_check_class_name(cls), t->abs[cls],
			 t->rel[cls] * 100);
	else if (t->rel[cls] > 0)
		snprintf(buf, bufsz, "%s: %g%%", sx_check_class_name(cls), t->rel[cls] * 100);
	else if (t->abs[cls] > 0)
		snprintf(buf, bufsz, "%s: %g", sx_check_class_name(cls), t->abs[cls]);
	else
		snprintf(buf, bufsz, "%s: exact", sx_check_class_name(cls));
	return buf;
}

static void text_change(FILE *f, const char *indent, const struct sx_check_change *c,
			const struct sx_check_tol *t)
{
	char tb[64];

	if (!c->base)
		fprintf(f, "%s+ %s%s%s (only in the output)\n", indent, c->field,
			c->out[0] ? ": " : "", c->out);
	else if (!c->out)
		fprintf(f, "%s- %s%s%s (only in the baseline)\n", indent, c->field,
			c->base[0] ? ": " : "", c->base);
	else
		fprintf(f, "%s%s: %s -> %s (%s)\n", indent, c->field, c->base, c->out,
			tol_text(t, c->cls, tb, sizeof(tb)));
}

static const char *pstate_word(int s)
{
	return s == SX_CHECK_ADDED ? "added" : s == SX_CHECK_REMOVED ? "removed" : "changed";
}

static const char *ustate_word(int s)
{
	switch (s) {
	case SX_CHECK_AGREE:
		return "agree";
	case SX_CHECK_DIFFER:
		return "differ";
	case SX_CHECK_UNIT_ADDED:
		return "added";
	default:
		return "removed";
	}
}

static void print_text(FILE *f, const struct sx_check_report *r)
{
	size_t i, k, j;

	fprintf(f, "sigex check: baseline %s, output %s\n", r->baseline, r->output);
	for (i = 0; i < r->nunits; i++) {
		const struct sx_check_unit *u = &r->units[i];

		if (u->state == SX_CHECK_UNIT_ADDED) {
			fprintf(f, "%s: only in the output (%zu patterns)\n", u->name,
				u->out_patterns);
			continue;
		}
		if (u->state == SX_CHECK_UNIT_REMOVED) {
			fprintf(f, "%s: missing from the output (%zu patterns in the baseline)\n",
				u->name, u->base_patterns);
			continue;
		}
		if (u->state == SX_CHECK_AGREE)
			continue;
		fprintf(
		    f, "%s: differ (%zu -> %zu patterns: %zu added, %zu removed, %zu changed)\n",
		    u->name, u->base_patterns, u->out_patterns, u->added, u->removed, u->changed);
		for (k = 0; k < u->nchanges; k++)
			text_change(f, "  ", &u->changes[k], &r->tol);
		for (k = 0; k < u->npatterns; k++) {
			const struct sx_check_pattern *p = &u->patterns[k];

			fprintf(f, "  %s %s (%s #%s): %.*s%s\n", pstate_word(p->state), p->id,
				p->list, p->number, KEY_SHOWN, p->key,
				strlen(p->key) > KEY_SHOWN ? "..." : "");
			for (j = 0; j < p->nchanges; j++)
				text_change(f, "      ", &p->changes[j], &r->tol);
		}
	}
	if (!r->differ)
		fprintf(f, "Result: agree: %zu signatures, %zu patterns\n", r->nunits, r->patterns);
	else
		fprintf(f,
			"Result: differ: %zu of %zu signatures (%zu only in the output, %zu "
			"missing); patterns: %zu added, %zu removed, %zu changed\n",
			r->differ, r->nunits, r->units_added, r->units_removed, r->added,
			r->removed, r->changed);
}

/* A structured writer with two back ends: YAML (libyaml) and JSON. */
struct sw {
	FILE *f;
	bool json;
	struct sx_yw yw;
	unsigned depth;
	bool first[SX_YTREE_DEPTH_MAX];
	bool is_map[SX_YTREE_DEPTH_MAX];
	bool after_key;
};

static void j_sep(struct sw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth) {
		fputs(w->first[w->depth - 1] ? "\n" : ",\n", w->f);
		w->first[w->depth - 1] = false;
		fprintf(w->f, "%*s", (int)(2 * w->depth), "");
	}
}

static void j_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void sw_begin(struct sw *w, bool map)
{
	if (w->json) {
		j_sep(w);
		fputc(map ? '{' : '[', w->f);
	} else if (map) {
		sx_yw_map_begin(&w->yw);
	} else {
		sx_yw_seq_begin(&w->yw);
	}
	if (w->depth < SX_YTREE_DEPTH_MAX) {
		w->first[w->depth] = true;
		w->is_map[w->depth] = map;
	}
	w->depth++;
}

static void sw_end(struct sw *w)
{
	bool map = w->is_map[w->depth - 1], empty = w->first[w->depth - 1];

	w->depth--;
	if (w->json) {
		if (!empty)
			fprintf(w->f, "\n%*s", (int)(2 * w->depth), "");
		fputc(map ? '}' : ']', w->f);
	} else if (map) {
		sx_yw_map_end(&w->yw);
	} else {
		sx_yw_seq_end(&w->yw);
	}
}

static void sw_scalar(struct sw *w, const char *s, bool plain_ok)
{
	if (w->json) {
		j_sep(w);
		if (plain_ok)
			fputs(s, w->f);
		else
			j_str(w->f, s);
		return;
	}
	sx_yw_scalar(&w->yw, s, strlen(s), plain_ok ? SX_YSTYLE_PLAIN : SX_YSTYLE_ANY,
		     SX_YW_PLAIN_IMPLICIT | SX_YW_QUOTED_IMPLICIT);
}

static void sw_key(struct sw *w, const char *k)
{
	sw_scalar(w, k, false);
	if (w->json) {
		fputs(": ", w->f);
		w->after_key = true;
	}
}

static void sw_kv(struct sw *w, const char *k, const char *v)
{
	sw_key(w, k);
	if (v)
		sw_scalar(w, v, false);
	else
		sw_scalar(w, "null", true);
}

static void sw_kn(struct sw *w, const char *k, double v)
{
	char b[64];

	snprintf(b, sizeof(b), "%.10g", v);
	sw_key(w, k);
	sw_scalar(w, b, true);
}

static void sw_changes(struct sw *w, const char *k, const struct sx_check_change *c, size_t n)
{
	size_t i;

	sw_key(w, k);
	sw_begin(w, false);
	for (i = 0; i < n; i++) {
		sw_begin(w, true);
		sw_kv(w, "field", c[i].field);
		sw_kv(w, "baseline", c[i].base);
		sw_kv(w, "output", c[i].out);
		sw_kv(w, "class", sx_check_class_name(c[i].cls < SX_CHECK_NCLASSES ? c[i].cls : 0));
		sw_end(w);
	}
	sw_end(w);
}

static void sw_patterns(struct sw *w, const struct sx_check_unit *u, int state)
{
	size_t i;

	sw_key(w, pstate_word(state));
	sw_begin(w, false);
	for (i = 0; i < u->npatterns; i++) {
		const struct sx_check_pattern *p = &u->patterns[i];

		if (p->state != state)
			continue;
		sw_begin(w, true);
		sw_kv(w, "id", p->id);
		sw_kv(w, "list", p->list);
		sw_kv(w, "number", p->number);
		sw_kv(w, "key", p->key);
		if (state == SX_CHECK_CHANGED)
			sw_changes(w, "fields", p->changes, p->nchanges);
		sw_end(w);
	}
	sw_end(w);
}

static void print_struct(struct sw *w, const struct sx_check_report *r)
{
	static const enum sx_check_class cls[] = {SX_CHECK_COUNT, SX_CHECK_TIME, SX_CHECK_SUPPORT,
						  SX_CHECK_ORDER};
	size_t i;

	sw_begin(w, true);
	sw_kv(w, "sigex", "check");
	sw_kn(w, "version", 1);
	sw_kv(w, "baseline", r->baseline);
	sw_kv(w, "output", r->output);
	sw_kv(w, "result", r->differ ? "differ" : "agree");
	sw_key(w, "tolerance");
	sw_begin(w, true);
	for (i = 0; i < SX_ARRAY_SIZE(cls); i++) {
		sw_key(w, sx_check_class_name(cls[i]));
		sw_begin(w, true);
		sw_kn(w, "absolute", r->tol.abs[cls[i]]);
		sw_kn(w, "relative", r->tol.rel[cls[i]]);
		sw_end(w);
	}
	sw_end(w);
	sw_key(w, "summary");
	sw_begin(w, true);
	sw_kn(w, "signatures", (double)r->nunits);
	sw_kn(w, "differ", (double)r->differ);
	sw_kn(w, "only-in-output", (double)r->units_added);
	sw_kn(w, "missing", (double)r->units_removed);
	sw_kn(w, "patterns", (double)r->patterns);
	sw_kn(w, "patterns-added", (double)r->added);
	sw_kn(w, "patterns-removed", (double)r->removed);
	sw_kn(w, "patterns-changed", (double)r->changed);
	sw_end(w);
	sw_key(w, "units");
	sw_begin(w, false);
	for (i = 0; i < r->nunits; i++) {
		const struct sx_check_unit *u = &r->units[i];

		sw_begin(w, true);
		sw_kv(w, "unit", u->name);
		sw_kv(w, "status", ustate_word(u->state));
		sw_key(w, "patterns");
		sw_begin(w, true);
		sw_kn(w, "baseline", (double)u->base_patterns);
		sw_kn(w, "output", (double)u->out_patterns);
		sw_end(w);
		if (u->state == SX_CHECK_DIFFER) {
			sw_changes(w, "changes", u->changes, u->nchanges);
			sw_patterns(w, u, SX_CHECK_ADDED);
			sw_patterns(w, u, SX_CHECK_REMOVED);
			sw_patterns(w, u, SX_CHECK_CHANGED);
		}
		sw_end(w);
	}
	sw_end(w);
	sw_end(w);
}

int sx_check_print(FILE *f, const struct sx_check_report *r, enum sx_check_format fmt)
{
	struct sw w = {.f = f, .json = fmt == SX_CHECK_JSON};
	int err = 0;

	if (fmt == SX_CHECK_TEXT) {
		print_text(f, r);
		return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
	}
	if (!w.json)
		sx_yw_open(&w.yw, f, SX_YW_SIGEX);
	print_struct(&w, r);
	if (w.json)
		fputc('\n', f);
	else
		err = sx_yw_close(&w.yw);
	if (!err && (fflush(f) != 0 || ferror(f)))
		err = -EIO;
	return err;
}
