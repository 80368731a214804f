/*
 * score.c - detections scored against labelled times (--labels).
 *
 * A labelled time t of capture c and label L is hit by a detection of
 * capture c whose event L names (sx_det_label_is(); an empty label names
 * every event) and whose [start, end] comes within the tolerance of t
 * (start <= t + tolerance and end >= t - tolerance).  Each labelled time
 * takes at most one detection and each detection hits at most one
 * labelled time: labelled times in time order take the earliest free
 * detection that fits.  A labelled time without one is missed; a detection
 * that hit none is a false detection.  A detection whose label is
 * ambiguous (match.c: not told from another event's signature) hits no
 * label: it takes, in the same way, a labelled time that no sure detection
 * took, and counts there as the event found without its label
 * (ambiguous), not as a false detection; elsewhere it is a false one.
 *
 * Per label, in its normal form (sx_det_label_is(); a detection that hit
 * nothing counts under its event's label):
 * recall = hits / events, precision = hits / (hits + false detections),
 * false detections per hour and per device-day (24 h) of the captures'
 * total length, and event recall = (hits + ambiguous) / events (that an
 * event of the device happened).  Then "all" over every label.
 */
#include "detect/detect.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

static void norm(const char *s, char *out, size_t outsz)
{
	size_t n = 0;
	bool dash = false;

	for (; *s && n + 1 < outsz; s++) {
		if (isalnum((unsigned char)*s)) {
			if (dash && n)
				out[n++] = '-';
			dash = false;
			if (n + 1 < outsz)
				out[n++] = (char)tolower((unsigned char)*s);
		} else {
			dash = true;
		}
	}
	out[n] = '\0';
}

bool sx_det_label_is(const char *label, const char *event)
{
	char a[SX_EVENT_LABEL_MAX], b[SX_EVENT_LABEL_MAX];

	if (!*label)
		return true;
	norm(label, a, sizeof(a));
	norm(event, b, sizeof(b));
	return !strcmp(a, b);
}

static int label_cmp(const void *x, const void *y)
{
	const struct sx_det_label *a = x, *b = y;

	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	return a->time_ns < b->time_ns ? -1 : a->time_ns > b->time_ns;
}

/* The line of label l (by its normal form), added when new. */
static struct sx_det_score *line_of(struct sx_det_score *s, uint32_t *n, const char *l)
{
	char key[SX_EVENT_LABEL_MAX];
	uint32_t i;

	norm(l, key, sizeof(key));
	for (i = 0; i < *n; i++)
		if (!strcmp(s[i].label, key))
			return &s[i];
	snprintf(s[*n].label, sizeof(s[*n].label), "%s", key);
	return &s[(*n)++];
}

static void finish(struct sx_det_score *s, double hours)
{
	s->missed = s->events - s->hits;
	s->recall = s->events ? (double)s->hits / s->events : 0;
	s->event_recall = s->events ? (double)(s->hits + s->ambiguous) / s->events : 0;
	s->precision = s->hits + s->false_det ? (double)s->hits / (s->hits + s->false_det) : 0;
	s->hours = hours;
	s->false_per_hour = hours > 0 ? s->false_det / hours : 0;
	s->false_per_day = s->false_per_hour * 24;
}

/* Whether detection x comes within the tolerance of labelled time l. */
static bool fits(const struct sx_det_detection *x, const struct sx_det_label *l, int64_t tol)
{
	return x->file == l->file && x->start_ns <= l->time_ns + tol &&
	       x->end_ns >= l->time_ns - tol;
}

static int score_cmp(const void *x, const void *y)
{
	return strcmp(((const struct sx_det_score *)x)->label,
		      ((const struct sx_det_score *)y)->label);
}

int sx_det_score(const struct sx_det_detection *det, uint32_t ndet,
		 const struct sx_det_sig *const *sigs, const struct sx_det_label *labels,
		 uint32_t nlabels, int64_t tolerance_ns, double hours, struct sx_det_score **out,
		 uint32_t *n)
{
	struct sx_det_label *l = NULL;
	struct sx_det_score *s = NULL, all = {.label = "all"};
	bool *used = NULL, *hit = NULL;
	uint32_t i, j, ns = 0;

	*out = NULL;
	*n = 0;
	l = sx_calloc_array(nlabels ? nlabels : 1, sizeof(*l));
	used = sx_calloc_array(ndet ? ndet : 1, sizeof(*used));
	hit = sx_calloc_array(nlabels ? nlabels : 1, sizeof(*hit));
	s = sx_calloc_array((size_t)nlabels + ndet + 1, sizeof(*s));
	if (!l || !used || !hit || !s)
		goto out_nomem;
	if (nlabels)
		memcpy(l, labels, nlabels * sizeof(*l));
	qsort(l, nlabels, sizeof(*l), label_cmp);
	for (i = 0; i < nlabels; i++) {
		struct sx_det_score *line = line_of(s, &ns, l[i].label);

		line->events++;
		for (j = 0; j < ndet; j++) {
			const struct sx_det_detection *x = &det[j];

			if (used[j] || x->ambiguous || !fits(x, &l[i], tolerance_ns) ||
			    !sx_det_label_is(l[i].label, sigs[x->sig]->label))
				continue;
			used[j] = hit[i] = true;
			line->hits++;
			break;
		}
	}
	/* an event no detection named, found by one of an ambiguous label */
	for (i = 0; i < nlabels; i++)
		for (j = 0; j < ndet && !hit[i]; j++)
			if (!used[j] && det[j].ambiguous && fits(&det[j], &l[i], tolerance_ns)) {
				used[j] = hit[i] = true;
				line_of(s, &ns, l[i].label)->ambiguous++;
			}
	for (j = 0; j < ndet; j++) {
		if (!used[j])
			line_of(s, &ns, sigs[det[j].sig]->label)->false_det++;
	}
	qsort(s, ns, sizeof(*s), score_cmp);
	for (i = 0; i < ns; i++) {
		finish(&s[i], hours);
		all.events += s[i].events;
		all.hits += s[i].hits;
		all.false_det += s[i].false_det;
		all.ambiguous += s[i].ambiguous;
	}
	finish(&all, hours);
	s[ns++] = all;
	free(l);
	free(used);
	free(hit);
	*out = s;
	*n = ns;
	return 0;
out_nomem:
	free(l);
	free(used);
	free(hit);
	free(s);
	return -ENOMEM;
}

int sx_det_score_csv(const struct sx_det_score *s, uint32_t n, FILE *f)
{
	struct sx_buf b;
	uint32_t i;
	int ret;

	sx_buf_init(&b);
	sx_buf_puts(&b, "label,events,hits,missed,false,recall,precision,false_per_hour,"
			"false_per_device_day,hours,ambiguous,event_recall\n");
	for (i = 0; i < n; i++) {
		sx_buf_csv_text(&b, s[i].label);
		sx_buf_printf(&b, ",%u,%u,%u,%u,%.4f,%.4f,%.4f,%.4f,%.4f,%u,%.4f\n", s[i].events,
			      s[i].hits, s[i].missed, s[i].false_det, s[i].recall, s[i].precision,
			      s[i].false_per_hour, s[i].false_per_day, s[i].hours, s[i].ambiguous,
			      s[i].event_recall);
	}
	ret = sx_buf_flush(&b, f);
	sx_buf_fini(&b);
	return ret;
}

void sx_det_score_table(const struct sx_det_score *s, uint32_t n, FILE *f)
{
	uint32_t i;

	fprintf(f, "%-24s %7s %5s %6s %6s %7s %9s %8s %8s %9s\n", "label", "events", "hits",
		"missed", "false", "recall", "precision", "false/h", "false/d", "ambiguous");
	for (i = 0; i < n; i++)
		fprintf(f, "%-24.24s %7u %5u %6u %6u %7.3f %9.3f %8.3f %8.3f %9u\n", s[i].label,
			s[i].events, s[i].hits, s[i].missed, s[i].false_det, s[i].recall,
			s[i].precision, s[i].false_per_hour, s[i].false_per_day, s[i].ambiguous);
}
