/*
 * check.h - `sigex check BASELINE OUT`: compare two signatures (two output
 * trees of sigex batch or sigex extract, or two signatures.yaml files)
 * pattern by pattern, for regression checks in CI.
 *
 *   struct sx_check_tol tol;
 *   struct sx_check_report *r;
 *
 *   sx_check_tol_default(&tol);
 *   sx_check_tol_parse(&tol, "count=5%,time=1", msg, sizeof(msg));   --tolerance
 *   sx_check_run("expected", "out", &tol, &r, msg, sizeof(msg));
 *   sx_check_print(stdout, r, SX_CHECK_TEXT);
 *   exit = r->differ ? 1 : 0;
 *   sx_check_report_free(r);
 *
 * Matching rules, field classes and defaults are documented at the top of
 * check.c.  Stateless; thread-safe (one report per caller).
 */
#ifndef SX_CHECK_H
#define SX_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "yaml/ydoc.h"

/* How a field is compared. */
enum sx_check_class {
	SX_CHECK_EXACT = 0, /* identity: equal text (or equal numbers) */
	SX_CHECK_COUNT,	    /* packets, bytes, flows */
	SX_CHECK_TIME,	    /* durations, offsets, periods, start times (seconds) */
	SX_CHECK_SUPPORT,   /* occurrences holding a pattern, of how many */
	SX_CHECK_ORDER,	    /* position in the typical order */
	SX_CHECK_IGNORED,   /* not compared (see check.c) */
	SX_CHECK_NCLASSES
};

/* A value of a class agrees when |a - b| <= abs or <= rel * max(|a|, |b|). */
struct sx_check_tol {
	double abs[SX_CHECK_NCLASSES];
	double rel[SX_CHECK_NCLASSES];
};

/* Defaults: count 10 %; time 0.5 s or 10 %; support, order and identities exact. */
void sx_check_tol_default(struct sx_check_tol *t);

/*
 * sx_check_tol_parse - apply a --tolerance spec: comma-separated items
 * "[CLASS=]VALUE[%]", CLASS one of count, time, support, order (none: all
 * four), VALUE a non-negative number: relative with '%', else absolute (in
 * seconds for time).  Returns 0 or -EINVAL with msg set.
 */
int sx_check_tol_parse(struct sx_check_tol *t, const char *spec, char *msg, size_t msglen);

/* Name of a class ("count", ...). */
const char *sx_check_class_name(enum sx_check_class c);

/* One field that differs. */
struct sx_check_change {
	char *field;	   /* path: "statistics.bytes.client.max", "client.ports[443]" */
	char *base;	   /* text in the baseline, NULL when absent there */
	char *out;	   /* text in the output, NULL when absent there */
	unsigned char cls; /* enum sx_check_class */
};

enum sx_check_pstate {
	SX_CHECK_ADDED = 0, /* only in the output */
	SX_CHECK_REMOVED,   /* only in the baseline */
	SX_CHECK_CHANGED,
};

struct sx_check_pattern {
	char *id;
	char *list;   /* patterns, background or periodic (the output's when both) */
	char *number; /* position in its list */
	char *key;    /* identity text */
	int state;    /* enum sx_check_pstate */
	struct sx_check_change *changes;
	size_t nchanges, cap;
};

enum sx_check_ustate {
	SX_CHECK_AGREE = 0,
	SX_CHECK_DIFFER,
	SX_CHECK_UNIT_ADDED,   /* a signature only in the output */
	SX_CHECK_UNIT_REMOVED, /* a signature only in the baseline */
};

struct sx_check_unit {
	char *name;			    /* directory relative to the tree ("." for the top) */
	int state;			    /* enum sx_check_ustate */
	size_t base_patterns, out_patterns; /* signature patterns on each side */
	struct sx_check_change *changes;    /* parameters, summary, occurrences */
	size_t nchanges, cap;
	struct sx_check_pattern *patterns; /* added, removed, changed */
	size_t npatterns, pcap;
	size_t added, removed, changed;
};

struct sx_check_report {
	char *baseline, *output;
	struct sx_check_tol tol;
	struct sx_check_unit *units; /* sorted by name */
	size_t nunits, cap;
	size_t differ; /* units that do not agree */
	size_t units_added, units_removed;
	size_t added, removed, changed; /* patterns, over every unit */
	size_t patterns;		/* patterns compared (baseline's) */
};

/*
 * sx_check_compare - compare two signatures.yaml documents into u (whose
 * name the caller sets).  Returns 0, SX_E_FORMAT (not a sigex signatures
 * document; msg says which side and why) or -ENOMEM.
 */
int sx_check_compare(const struct sx_ytree *base, const struct sx_ytree *out,
		     const struct sx_check_tol *tol, struct sx_check_unit *u, char *msg,
		     size_t msglen);

/*
 * sx_check_doc_parse - one signatures.yaml held in memory, read as
 * sx_check_run() reads its files (the bounded YAML tree with check's
 * limits); name is shown in msg.  Returns 0 with *t set (free with
 * sx_ytree_free()), SX_E_FORMAT (not YAML within the limits, or empty),
 * -EFBIG or -ENOMEM.
 */
int sx_check_doc_parse(const char *data, size_t len, const char *name, struct sx_ytree **t,
		       char *msg, size_t msglen);

/*
 * sx_check_run - compare baseline and output: two directories (every
 * signatures.yaml under each, matched by relative directory) or two files.
 * Returns 0 with *out set (caller frees with sx_check_report_free()),
 * -EINVAL (a file against a directory, nothing to compare), -errno or
 * SX_E_FORMAT for an input that cannot be read (msg names it), -ENOMEM.
 */
int sx_check_run(const char *baseline, const char *output, const struct sx_check_tol *tol,
		 struct sx_check_report **out, char *msg, size_t msglen);

void sx_check_report_free(struct sx_check_report *r);
void sx_check_unit_fini(struct sx_check_unit *u);

enum sx_check_format {
	SX_CHECK_TEXT = 0, /* for people (a CI log) */
	SX_CHECK_YAML,
	SX_CHECK_JSON,
};

/* Write the report to f (borrowed).  0 or -EIO / SX_E_YAML. */
int sx_check_print(FILE *f, const struct sx_check_report *r, enum sx_check_format fmt);

#endif /* SX_CHECK_H */
