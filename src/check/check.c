/*
 * check.c - `sigex check`: compare two signatures pattern by pattern (see
 * check.h).
 *
 * DESIGN
 *
 * Inputs.  Two directories are compared signature by signature: every
 * signatures.yaml under each (hidden entries skipped, at most MAX_DEPTH
 * levels), matched by its directory relative to the tree, so
 * `sigex batch` trees compare <device>/<event> with <device>/<event> and
 * two `sigex extract` directories compare "." with ".".  A signature on one
 * side only is a unit added or removed.  Two files are one unit, ".".  Each
 * document is loaded with the bounded tree of yaml/ydoc.h and must say
 * "sigex: signatures", version 1.
 *
 * Matching.  Patterns are matched by id (the stable XXH3 of their identity,
 * mine.h) across the document's three lists (patterns, background,
 * periodic): an id on one side only is a pattern added or removed; a
 * pattern that moved between lists is changed ("list").  Matched patterns
 * are flattened into field paths ("statistics.bytes.client.max",
 * "attributes[dns.q=example.com].flows", "client.ports[443]") and compared
 * field by field; list elements are keyed by what identifies them
 * (attributes by key=value, ports by port, occurrences by capture file
 * name and event, scalar lists by value), so an insertion is one change,
 * not a shifted list.
 *
 * Field classes and default tolerances (--tolerance changes them):
 *
 *   exact     everything that is identity: key, transport, ends (kind,
 *             name, scope, addresses, names), fixed port, application
 *             fields, attributes present, the server end's ports, the
 *             parameters, the list a pattern is in
 *   support   support.occurrences, support.of, background-support,
 *             summary.occurrences, summary.background-units: exact
 *   order     number, order.*: exact
 *   count     support.flows, statistics.packets, statistics.bytes,
 *             attributes[].flows, ports[].flows, summary.flows,
 *             summary.clusters, occurrences[].flows: 10 %
 *   time      statistics.duration, statistics.start-offset,
 *             statistics.period, occurrences[].start: 0.5 s or 10 %
 *   ignored   in-occurrences (indices into the occurrence list, which shift
 *             when a capture is added or removed; their number is
 *             support.occurrences), the ports of the end that does not
 *             hold a pattern's fixed port (ephemeral), and the directory
 *             part of an occurrence's file (the key uses its name)
 *
 * A value agrees when equal as text, or, both being numbers, when within
 * the class's tolerance: |a - b| <= absolute, or <= relative * max(|a|, |b|).
 * A field present on one side only always differs.
 *
 * The report lists, per unit, the document changes (parameters, summary,
 * occurrences added or removed) and the patterns added, removed and changed
 * with their fields, as text for a CI log, or YAML or JSON (check_report.c).
 */
#include "check/check.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/compiler.h"
#include "core/err.h"
#include "core/util.h"

#define MAX_DEPTH 8
#define DOC_MAX	  (256u << 20)
#define PATH_BUF  4096

static const struct sx_ytree_limits doc_limits = {
    .max_depth = 32,
    .max_nodes = 16u << 20,
    .max_scalar = 1u << 20,
};

static const char *const class_names[SX_CHECK_NCLASSES] = {
    "exact", "count", "time", "support", "order", "ignored",
};

const char *sx_check_class_name(enum sx_check_class c)
{
	return (unsigned)c < SX_CHECK_NCLASSES ? class_names[c] : "?";
}

void sx_check_tol_default(struct sx_check_tol *t)
{
	memset(t, 0, sizeof(*t));
	t->rel[SX_CHECK_COUNT] = 0.10;
	t->abs[SX_CHECK_TIME] = 0.5;
	t->rel[SX_CHECK_TIME] = 0.10;
}

int sx_check_tol_parse(struct sx_check_tol *t, const char *spec, char *msg, size_t msglen)
{
	static const enum sx_check_class settable[] = {SX_CHECK_COUNT, SX_CHECK_TIME,
						       SX_CHECK_SUPPORT, SX_CHECK_ORDER};
	const char *p = spec;

	if (!*p) {
		snprintf(msg, msglen, "empty tolerance");
		return -EINVAL;
	}
	while (*p) {
		const char *end = strchr(p, ','), *eq, *num;
		char item[128], *stop;
		size_t n = end ? (size_t)(end - p) : strlen(p), i;
		bool pct = false;
		int cls = -1;
		double v;

		if (n == 0 || n >= sizeof(item)) {
			snprintf(msg, msglen, "bad tolerance item in \"%s\"", spec);
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		eq = strchr(item, '=');
		num = item;
		if (eq) {
			size_t k = (size_t)(eq - item);

			for (i = 0; i < SX_ARRAY_SIZE(settable); i++)
				if (strlen(class_names[settable[i]]) == k &&
				    strncmp(item, class_names[settable[i]], k) == 0)
					cls = (int)settable[i];
			if (cls < 0) {
				snprintf(msg, msglen,
					 "unknown class in \"%s\" (count, time, "
					 "support, order)",
					 item);
				return -EINVAL;
			}
			num = eq + 1;
		}
		errno = 0;
		v = strtod(num, &stop);
		if (stop != num && *stop == '%') {
			pct = true;
			stop++;
		}
		if (errno || stop == num || *stop || !(v >= 0) || !isfinite(v)) {
			snprintf(msg, msglen, "bad tolerance \"%s\": expected [CLASS=]NUMBER[%%]",
				 item);
			return -EINVAL;
		}
		for (i = 0; i < SX_ARRAY_SIZE(settable); i++) {
			enum sx_check_class c = settable[i];

			if (cls >= 0 && (int)c != cls)
				continue;
			if (pct)
				t->rel[c] = v / 100;
			else
				t->abs[c] = v;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* ---- flattening ---- */

struct entry {
	char *path;
	const char *val; /* borrowed from the tree */
	unsigned char cls;
};

struct flat {
	struct entry *e;
	size_t n, cap;
	const char *ephemeral; /* "client.ports" / "server.ports" not compared, or NULL */
	bool doc;	       /* document level (not a pattern) */
};

static void flat_free(struct flat *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->e[i].path);
	free(f->e);
	memset(f, 0, sizeof(*f));
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Class of a field (or subtree) from its shape (list keys removed: "[]"). */
static unsigned char classify(const struct flat *f, const char *shape)
{
	if (f->doc) {
		if (starts(shape, "summary.occurrences") ||
		    starts(shape, "summary.background-units"))
			return SX_CHECK_SUPPORT;
		if (starts(shape, "summary.flows") || starts(shape, "summary.clusters"))
			return SX_CHECK_COUNT;
		if (starts(shape, "occurrences[].") || starts(shape, "background-units[].")) {
			if (ends(shape, "].file"))
				return SX_CHECK_IGNORED;
			if (ends(shape, "].start"))
				return SX_CHECK_TIME;
			if (ends(shape, "].flows"))
				return SX_CHECK_COUNT;
		}
		return SX_CHECK_EXACT;
	}
	if (starts(shape, "in-occurrences"))
		return SX_CHECK_IGNORED;
	if (f->ephemeral && starts(shape, f->ephemeral))
		return SX_CHECK_IGNORED;
	if (strcmp(shape, "support.occurrences") == 0 || strcmp(shape, "support.of") == 0 ||
	    starts(shape, "background-support") || starts(shape, "order.before-next."))
		return SX_CHECK_SUPPORT;
	if (strcmp(shape, "number") == 0 || starts(shape, "order."))
		return SX_CHECK_ORDER;
	if (strcmp(shape, "support.flows") == 0 || starts(shape, "statistics.packets.") ||
	    starts(shape, "statistics.bytes.") || ends(shape, "[].flows"))
		return SX_CHECK_COUNT;
	if (starts(shape, "statistics.duration.") || starts(shape, "statistics.start-offset.") ||
	    strcmp(shape, "statistics.period") == 0)
		return SX_CHECK_TIME;
	return SX_CHECK_EXACT;
}

static int flat_add(struct flat *f, const char *path, const char *val, unsigned char cls)
{
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64;
		struct entry *ne = sx_realloc_array(f->e, ncap, sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		f->e = ne;
		f->cap = ncap;
	}
	f->e[f->n].path = strdup(path);
	if (!f->e[f->n].path)
		return -ENOMEM;
	f->e[f->n].val = val;
	f->e[f->n].cls = cls;
	f->n++;
	return 0;
}

/* The key of element t of the list named name (written to buf). */
static void elem_key(const char *name, const struct sx_ytree *t, size_t idx, char *buf,
		     size_t bufsz)
{
	const char *k, *v;

	if (t->kind == SX_YTREE_SCALAR) {
		snprintf(buf, bufsz, "%s", t->text);
		return;
	}
	if (t->kind == SX_YTREE_MAP) {
		if (strcmp(name, "occurrences") == 0 || strcmp(name, "background-units") == 0) {
			const char *file = sx_ytree_str(sx_ytree_get(t, "file"));
			const char *ev = sx_ytree_str(sx_ytree_get(t, "event"));
			const char *base = file ? strrchr(file, '/') : NULL;

			if (file) {
				snprintf(buf, bufsz, "%s%s%s", base ? base + 1 : file,
					 ev ? "#" : "", ev ? ev : "");
				return;
			}
		}
		k = sx_ytree_str(sx_ytree_get(t, "key"));
		v = sx_ytree_str(sx_ytree_get(t, "value"));
		if (k && v) {
			snprintf(buf, bufsz, "%s=%s", k, v);
			return;
		}
		k = sx_ytree_str(sx_ytree_get(t, "port"));
		if (k) {
			snprintf(buf, bufsz, "%s", k);
			return;
		}
	}
	snprintf(buf, bufsz, "#%zu", idx);
}

/* Last path component of a path ("a.b[x].ports" -> "ports"). */
static const char *last_name(const char *shape)
{
	const char *dot = strrchr(shape, '.');

	return dot ? dot + 1 : shape;
}

static int flatten(struct flat *f, const struct sx_ytree *t, char *path, size_t plen, char *shape,
		   size_t slen, unsigned depth)
{
	unsigned char cls = classify(f, shape);
	size_t i, k;
	int ret = 0;

	if (cls == SX_CHECK_IGNORED)
		return 0;
	if (t->kind == SX_YTREE_SCALAR)
		return flat_add(f, path, t->text, cls);
	if (depth > SX_YTREE_DEPTH_MAX)
		return 0;
	if (t->kind == SX_YTREE_MAP) {
		for (i = 0; i + 1 < t->n && !ret; i += 2) {
			const char *key = t->kids[i]->text;
			int a =
			    snprintf(path + plen, PATH_BUF - plen, "%s%s", plen ? "." : "", key);
			int b =
			    snprintf(shape + slen, PATH_BUF - slen, "%s%s", slen ? "." : "", key);

			if (a < 0 || b < 0 || (size_t)a >= PATH_BUF - plen ||
			    (size_t)b >= PATH_BUF - slen)
				continue; /* absurdly long path: not compared */
			ret = flatten(f, t->kids[i + 1], path, plen + (size_t)a, shape,
				      slen + (size_t)b, depth + 1);
		}
		path[plen] = '\0';
		shape[slen] = '\0';
		return ret;
	}
	if (t->n == 0)
		return flat_add(f, path, "[]", cls);
	for (i = 0; i < t->n && !ret; i++) {
		char key[512];
		unsigned dup = 1;
		int a, b;

		path[plen] = '\0';
		shape[slen] = '\0';
		elem_key(last_name(shape), t->kids[i], i, key, sizeof(key));
		for (k = 0; k < i; k++) {
			char other[512];

			elem_key(last_name(shape), t->kids[k], k, other, sizeof(other));
			dup += strcmp(key, other) == 0;
		}
		if (dup > 1)
			snprintf(key + strlen(key), sizeof(key) - strlen(key), "~%u", dup);
		a = snprintf(path + plen, PATH_BUF - plen, "[%s]", key);
		b = snprintf(shape + slen, PATH_BUF - slen, "[]");
		if (a < 0 || b < 0 || (size_t)a >= PATH_BUF - plen || (size_t)b >= PATH_BUF - slen)
			continue;
		/* the element itself, so that one present on one side only is
		 * reported once, not field by field (see diff()) */
		ret = flat_add(f, path, "", classify(f, shape));
		if (!ret && t->kids[i]->kind != SX_YTREE_SCALAR)
			ret = flatten(f, t->kids[i], path, plen + (size_t)a, shape,
				      slen + (size_t)b, depth + 1);
	}
	path[plen] = '\0';
	shape[slen] = '\0';
	return ret;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static bool number(const char *s, double *v)
{
	char *end;

	if (!s[0])
		return false;
	errno = 0;
	*v = strtod(s, &end);
	return !errno && !*end && isfinite(*v);
}

static bool agree(const char *a, const char *b, unsigned char cls, const struct sx_check_tol *t)
{
	double x, y, d;

	if (strcmp(a, b) == 0)
		return true;
	if (!number(a, &x) || !number(b, &y))
		return false;
	if (cls == SX_CHECK_EXACT || cls >= SX_CHECK_NCLASSES)
		return x == y;
	d = fabs(x - y);
	return d <= t->abs[cls] || d <= t->rel[cls] * fmax(fabs(x), fabs(y));
}

static int add_change(struct sx_check_change **arr, size_t *n, size_t *cap, const char *field,
		      const char *base, const char *out, unsigned char cls)
{
	struct sx_check_change *c;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct sx_check_change *na = sx_realloc_array(*arr, ncap, sizeof(*na));

		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = ncap;
	}
	c = &(*arr)[*n];
	memset(c, 0, sizeof(*c));
	(*n)++;
	c->cls = cls;
	c->field = strdup(field);
	c->base = base ? strdup(base) : NULL;
	c->out = out ? strdup(out) : NULL;
	if (!c->field || (base && !c->base) || (out && !c->out))
		return -ENOMEM;
	return 0;
}

/* The index after entry i and the fields inside it (its path + "." or "["),
 * which follow it in sorted order: a list element present on one side only
 * is one change. */
static size_t skip_inside(const struct flat *f, size_t i)
{
	size_t n = strlen(f->e[i].path), k = i + 1;

	while (k < f->n && strncmp(f->e[k].path, f->e[i].path, n) == 0 &&
	       (f->e[k].path[n] == '.' || f->e[k].path[n] == '['))
		k++;
	return k;
}

/* Diff two flattened nodes into changes. */
static int diff(struct flat *a, struct flat *b, const struct sx_check_tol *t,
		struct sx_check_change **arr, size_t *n, size_t *cap)
{
	size_t i = 0, k = 0;
	int ret = 0;

	if (a->n > 1)
		qsort(a->e, a->n, sizeof(*a->e), cmp_entry);
	if (b->n > 1)
		qsort(b->e, b->n, sizeof(*b->e), cmp_entry);
	while (!ret && (i < a->n || k < b->n)) {
		int c = i == a->n ? 1 : k == b->n ? -1 : strcmp(a->e[i].path, b->e[k].path);

		if (c < 0) {
			ret = add_change(arr, n, cap, a->e[i].path, a->e[i].val, NULL, a->e[i].cls);
			i = skip_inside(a, i);
		} else if (c > 0) {
			ret = add_change(arr, n, cap, b->e[k].path, NULL, b->e[k].val, b->e[k].cls);
			k = skip_inside(b, k);
		} else {
			if (!agree(a->e[i].val, b->e[k].val, a->e[i].cls, t))
				ret = add_change(arr, n, cap, a->e[i].path, a->e[i].val,
						 b->e[k].val, a->e[i].cls);
			i++;
			k++;
		}
	}
	return ret;
}

/* Flatten t (a whole document without its pattern lists, or a pattern). */
static int flatten_node(struct flat *f, const struct sx_ytree *t, bool doc)
{
	char path[PATH_BUF] = "", shape[PATH_BUF] = "";
	const struct sx_ytree *fixed;
	const char *end;
	size_t i;
	int ret = 0;

	f->doc = doc;
	f->ephemeral = NULL;
	if (!doc) {
		fixed = sx_ytree_get(t, "fixed-port");
		end = sx_ytree_str(sx_ytree_get(fixed, "end"));
		if (end && strcmp(end, "server") == 0)
			f->ephemeral = "client.ports";
		else if (end && strcmp(end, "client") == 0)
			f->ephemeral = "server.ports";
	}
	if (t->kind != SX_YTREE_MAP)
		return flatten(f, t, path, 0, shape, 0, 0);
	for (i = 0; i + 1 < t->n && !ret; i += 2) {
		const char *key = t->kids[i]->text;
		size_t n = strlen(key);

		if (doc && (strcmp(key, "patterns") == 0 || strcmp(key, "background") == 0 ||
			    strcmp(key, "periodic") == 0 || strcmp(key, "below-support") == 0))
			continue;
		if (!doc && strcmp(key, "id") == 0)
			continue;
		if (n >= PATH_BUF)
			continue;
		memcpy(path, key, n + 1);
		memcpy(shape, key, n + 1);
		ret = flatten(f, t->kids[i + 1], path, n, shape, n, 1);
	}
	return ret;
}

/* ---- documents ---- */

struct pat {
	const char *id;
	const char *orig; /* the id as written */
	char idbuf[64];
	const char *list;
	const struct sx_ytree *node;
};

struct pats {
	struct pat *p;
	size_t n;
	size_t signature; /* in the patterns list */
};

static int cmp_pat(const void *a, const void *b)
{
	return strcmp(((const struct pat *)a)->id, ((const struct pat *)b)->id);
}

static int bad_doc(char *msg, size_t msglen, const char *side, const char *why)
{
	snprintf(msg, msglen, "%s: not a sigex signatures.yaml: %s", side, why);
	return SX_E_FORMAT;
}

static int collect(const struct sx_ytree *doc, const char *side, struct pats *ps, char *msg,
		   size_t msglen)
{
	static const char *const lists[] = {"patterns", "background", "periodic"};
	const char *sig = sx_ytree_str(sx_ytree_get(doc, "sigex"));
	const char *ver = sx_ytree_str(sx_ytree_get(doc, "version"));
	size_t total = 0, i, k;

	memset(ps, 0, sizeof(*ps));
	if (!doc || doc->kind != SX_YTREE_MAP || !sig || strcmp(sig, "signatures") != 0)
		return bad_doc(msg, msglen, side, "no \"sigex: signatures\"");
	if (!ver || strcmp(ver, "1") != 0)
		return bad_doc(msg, msglen, side, "unsupported version (expected 1)");
	for (i = 0; i < SX_ARRAY_SIZE(lists); i++) {
		const struct sx_ytree *l = sx_ytree_get(doc, lists[i]);

		if (l && l->kind == SX_YTREE_SEQ)
			total += l->n;
		else if (l && !sx_ytree_is_null(l))
			return bad_doc(msg, msglen, side, "a pattern list is not a list");
	}
	ps->p = sx_calloc_array(total + 1, sizeof(*ps->p));
	if (!ps->p)
		return -ENOMEM;
	for (i = 0; i < SX_ARRAY_SIZE(lists); i++) {
		const struct sx_ytree *l = sx_ytree_get(doc, lists[i]);

		for (k = 0; l && l->kind == SX_YTREE_SEQ && k < l->n; k++) {
			struct pat *p = &ps->p[ps->n];
			const char *id = sx_ytree_str(sx_ytree_get(l->kids[k], "id"));

			if (l->kids[k]->kind != SX_YTREE_MAP || !id)
				return bad_doc(msg, msglen, side, "a pattern without an id");
			p->id = id;
			p->orig = id;
			p->list = lists[i];
			p->node = l->kids[k];
			ps->n++;
			if (i == 0)
				ps->signature++;
		}
	}
	qsort(ps->p, ps->n, sizeof(*ps->p), cmp_pat);
	for (i = 1, k = 0; i < ps->n; i++) { /* duplicate ids: "#2", "#3"... */
		if (strcmp(ps->p[i].orig, ps->p[k].orig) != 0) {
			k = i;
			continue;
		}
		snprintf(ps->p[i].idbuf, sizeof(ps->p[i].idbuf), "%.40s#%zu", ps->p[i].orig,
			 i - k + 1);
		ps->p[i].id = ps->p[i].idbuf;
	}
	qsort(ps->p, ps->n, sizeof(*ps->p), cmp_pat);
	return 0;
}

static struct sx_check_pattern *add_pattern(struct sx_check_unit *u, const struct pat *p, int state)
{
	struct sx_check_pattern *cp;
	const char *key = sx_ytree_str(sx_ytree_get(p->node, "key"));
	const char *num = sx_ytree_str(sx_ytree_get(p->node, "number"));

	if (u->npatterns == u->pcap) {
		size_t ncap = u->pcap ? u->pcap * 2 : 8;
		struct sx_check_pattern *np = sx_realloc_array(u->patterns, ncap, sizeof(*np));

		if (!np)
			return NULL;
		u->patterns = np;
		u->pcap = ncap;
	}
	cp = &u->patterns[u->npatterns++];
	memset(cp, 0, sizeof(*cp));
	cp->state = state;
	cp->id = strdup(p->id);
	cp->list = strdup(p->list);
	cp->key = strdup(key ? key : "");
	cp->number = strdup(num ? num : "");
	if (!cp->id || !cp->list || !cp->key || !cp->number)
		return NULL;
	if (state == SX_CHECK_ADDED)
		u->added++;
	else if (state == SX_CHECK_REMOVED)
		u->removed++;
	else
		u->changed++;
	return cp;
}

static int compare_pattern(struct sx_check_unit *u, const struct pat *a, const struct pat *b,
			   const struct sx_check_tol *t)
{
	struct sx_check_change *ch = NULL;
	struct flat fa = {0}, fb = {0};
	size_t n = 0, cap = 0;
	struct sx_check_pattern *cp;
	int ret;

	if (strcmp(a->list, b->list) != 0) {
		ret = add_change(&ch, &n, &cap, "list", a->list, b->list, SX_CHECK_EXACT);
		if (ret)
			goto out_free;
	}
	ret = flatten_node(&fa, a->node, false);
	if (!ret)
		ret = flatten_node(&fb, b->node, false);
	if (!ret)
		ret = diff(&fa, &fb, t, &ch, &n, &cap);
	if (ret || !n)
		goto out_free;
	cp = add_pattern(u, b, SX_CHECK_CHANGED);
	if (!cp) {
		ret = -ENOMEM;
		goto out_free;
	}
	cp->changes = ch;
	cp->nchanges = n;
	cp->cap = cap;
	ch = NULL;
	n = 0;
out_free:
	while (n) {
		n--;
		free(ch[n].field);
		free(ch[n].base);
		free(ch[n].out);
	}
	free(ch);
	flat_free(&fa);
	flat_free(&fb);
	return ret;
}

int sx_check_compare(const struct sx_ytree *base, const struct sx_ytree *out,
		     const struct sx_check_tol *tol, struct sx_check_unit *u, char *msg,
		     size_t msglen)
{
	struct pats pa = {0}, pb = {0};
	struct flat fa = {0}, fb = {0};
	size_t i = 0, k = 0;
	int ret;

	ret = collect(base, "baseline", &pa, msg, msglen);
	if (!ret)
		ret = collect(out, "output", &pb, msg, msglen);
	if (ret)
		goto out_free;
	u->base_patterns = pa.signature;
	u->out_patterns = pb.signature;
	ret = flatten_node(&fa, base, true);
	if (!ret)
		ret = flatten_node(&fb, out, true);
	if (!ret)
		ret = diff(&fa, &fb, tol, &u->changes, &u->nchanges, &u->cap);
	while (!ret && (i < pa.n || k < pb.n)) {
		int c = i == pa.n ? 1 : k == pb.n ? -1 : strcmp(pa.p[i].id, pb.p[k].id);

		if (c < 0) {
			ret = add_pattern(u, &pa.p[i++], SX_CHECK_REMOVED) ? 0 : -ENOMEM;
		} else if (c > 0) {
			ret = add_pattern(u, &pb.p[k++], SX_CHECK_ADDED) ? 0 : -ENOMEM;
		} else {
			ret = compare_pattern(u, &pa.p[i], &pb.p[k], tol);
			i++;
			k++;
		}
	}
	if (!ret && (u->nchanges || u->npatterns))
		u->state = SX_CHECK_DIFFER;
out_free:
	if (ret == -ENOMEM)
		snprintf(msg, msglen, "out of memory");
	flat_free(&fa);
	flat_free(&fb);
	free(pa.p);
	free(pb.p);
	return ret;
}

/* ---- trees ---- */

struct names {
	char **s;
	size_t n, cap;
};

static void names_free(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->s[i]);
	free(ns->s);
	memset(ns, 0, sizeof(*ns));
}

static int names_add(struct names *ns, const char *s)
{
	char *d;

	if (ns->n == ns->cap) {
		size_t ncap = ns->cap ? ns->cap * 2 : 16;
		char **na = sx_realloc_array(ns->s, ncap, sizeof(*na));

		if (!na)
			return -ENOMEM;
		ns->s = na;
		ns->cap = ncap;
	}
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	ns->s[ns->n++] = d;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every directory under root (rel) holding a signatures.yaml. */
static int find_docs(const char *root, const char *rel, unsigned depth, struct names *ns)
{
	char dir[PATH_BUF];
	struct dirent *e;
	struct names sub = {0};
	DIR *d;
	size_t i;
	int ret = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel) >=
	    sizeof(dir))
		return 0;
	d = opendir(dir);
	if (!d)
		return depth ? 0 : -errno;
	while (!ret && (e = readdir(d)))
		if (e->d_name[0] != '.')
			ret = names_add(&sub, e->d_name);
	closedir(d);
	if (sub.n)
		qsort(sub.s, sub.n, sizeof(*sub.s), cmp_name);
	for (i = 0; i < sub.n && !ret; i++) {
		char path[PATH_BUF], nrel[PATH_BUF];
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, sub.s[i]) >= sizeof(path) ||
		    stat(path, &st) != 0)
			continue;
		if (S_ISREG(st.st_mode) && strcmp(sub.s[i], "signatures.yaml") == 0)
			ret = names_add(ns, rel[0] ? rel : ".");
		else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH &&
			 (size_t)snprintf(nrel, sizeof(nrel), "%s%s%s", rel, rel[0] ? "/" : "",
					  sub.s[i]) < sizeof(nrel))
			ret = find_docs(root, nrel, depth + 1, ns);
	}
	names_free(&sub);
	return ret;
}

/* A document read by load_doc() or given in memory: an empty one is refused. */
static int doc_done(int ret, const char *name, struct sx_ytree **t, const char *why, char *msg,
		    size_t msglen)
{
	if (ret)
		snprintf(msg, msglen, "%s: %s", name, why);
	else if (!*t) {
		snprintf(msg, msglen, "%s: empty document", name);
		ret = SX_E_FORMAT;
	}
	return ret;
}

static int load_doc(const char *path, struct sx_ytree **t, char *msg, size_t msglen)
{
	char why[256];
	int ret = sx_ytree_load(path, DOC_MAX, &doc_limits, t, why, sizeof(why));

	return doc_done(ret, path, t, why, msg, msglen);
}

int sx_check_doc_parse(const char *data, size_t len, const char *name, struct sx_ytree **t,
		       char *msg, size_t msglen)
{
	char why[256];
	int ret;

	*t = NULL;
	if (len > DOC_MAX) {
		snprintf(msg, msglen, "%s: larger than %u bytes", name, DOC_MAX);
		return -EFBIG;
	}
	ret = sx_ytree_parse(data, len, &doc_limits, t, why, sizeof(why));
	return doc_done(ret, name, t, why, msg, msglen);
}

void sx_check_unit_fini(struct sx_check_unit *u)
{
	size_t i, k;

	for (i = 0; i < u->nchanges; i++) {
		free(u->changes[i].field);
		free(u->changes[i].base);
		free(u->changes[i].out);
	}
	free(u->changes);
	for (i = 0; i < u->npatterns; i++) {
		struct sx_check_pattern *p = &u->patterns[i];

		for (k = 0; k < p->nchanges; k++) {
			free(p->changes[k].field);
			free(p->changes[k].base);
			free(p->changes[k].out);
		}
		free(p->changes);
		free(p->id);
		free(p->list);
		free(p->key);
		free(p->number);
	}
	free(u->patterns);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

void sx_check_report_free(struct sx_check_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nunits; i++)
		sx_check_unit_fini(&r->units[i]);
	free(r->units);
	free(r->baseline);
	free(r->output);
	free(r);
}

static struct sx_check_unit *new_unit(struct sx_check_report *r, const char *name)
{
	struct sx_check_unit *u;

	if (r->nunits == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		struct sx_check_unit *nu = sx_realloc_array(r->units, ncap, sizeof(*nu));

		if (!nu)
			return NULL;
		r->units = nu;
		r->cap = ncap;
	}
	u = &r->units[r->nunits++];
	memset(u, 0, sizeof(*u));
	u->name = strdup(name);
	return u->name ? u : NULL;
}

static size_t signature_size(const struct sx_ytree *doc)
{
	const struct sx_ytree *l = sx_ytree_get(doc, "patterns");

	return l && l->kind == SX_YTREE_SEQ ? l->n : 0;
}

/* Compare the unit at rel; a side may be missing (NULL root). */
static int compare_unit(struct sx_check_report *r, const char *name, const char *bpath,
			const char *opath, char *msg, size_t msglen)
{
	struct sx_ytree *a = NULL, *b = NULL;
	struct sx_check_unit *u = new_unit(r, name);
	int ret = 0;

	if (!u)
		return -ENOMEM;
	if (bpath)
		ret = load_doc(bpath, &a, msg, msglen);
	if (!ret && opath)
		ret = load_doc(opath, &b, msg, msglen);
	if (ret)
		goto out_free;
	if (a && b) {
		char why[256];

		ret = sx_check_compare(a, b, &r->tol, u, why, sizeof(why));
		if (ret)
			snprintf(msg, msglen, "%s: %s", name, why);
	} else if (a) {
		u->state = SX_CHECK_UNIT_REMOVED;
		u->base_patterns = signature_size(a);
	} else {
		u->state = SX_CHECK_UNIT_ADDED;
		u->out_patterns = signature_size(b);
	}
	if (!ret) {
		r->patterns += u->base_patterns;
		r->differ += u->state != SX_CHECK_AGREE;
		r->units_added += u->state == SX_CHECK_UNIT_ADDED;
		r->units_removed += u->state == SX_CHECK_UNIT_REMOVED;
		r->added += u->added;
		r->removed += u->removed;
		r->changed += u->changed;
	}
out_free:
	sx_ytree_free(a);
	sx_ytree_free(b);
	return ret;
}

static int doc_path(char *buf, size_t bufsz, const char *root, const char *rel)
{
	if (strcmp(rel, ".") == 0)
		return (size_t)snprintf(buf, bufsz, "%s/signatures.yaml", root) < bufsz
			   ? 0
			   : -ENAMETOOLONG;
	return (size_t)snprintf(buf, bufsz, "%s/%s/signatures.yaml", root, rel) < bufsz
		   ? 0
		   : -ENAMETOOLONG;
}

static int compare_trees(struct sx_check_report *r, const char *base, const char *out, char *msg,
			 size_t msglen)
{
	struct names na = {0}, nb = {0};
	size_t i = 0, k = 0;
	int ret;

	ret = find_docs(base, "", 0, &na);
	if (ret) {
		snprintf(msg, msglen, "%s: %s", base, strerror(-ret));
		goto out_free;
	}
	ret = find_docs(out, "", 0, &nb);
	if (ret) {
		snprintf(msg, msglen, "%s: %s", out, strerror(-ret));
		goto out_free;
	}
	if (!na.n && !nb.n) {
		snprintf(msg, msglen, "no signatures.yaml under %s or %s", base, out);
		ret = -EINVAL;
		goto out_free;
	}
	if (na.n > 1)
		qsort(na.s, na.n, sizeof(*na.s), cmp_name);
	if (nb.n > 1)
		qsort(nb.s, nb.n, sizeof(*nb.s), cmp_name);
	while (!ret && (i < na.n || k < nb.n)) {
		int c = i == na.n ? 1 : k == nb.n ? -1 : strcmp(na.s[i], nb.s[k]);
		char pa[PATH_BUF], pb[PATH_BUF];
		const char *name = c <= 0 ? na.s[i] : nb.s[k];

		if ((c <= 0 && doc_path(pa, sizeof(pa), base, na.s[i])) ||
		    (c >= 0 && doc_path(pb, sizeof(pb), out, nb.s[k]))) {
			snprintf(msg, msglen, "%s: path too long", name);
			ret = -ENAMETOOLONG;
			break;
		}
		ret = compare_unit(r, name, c <= 0 ? pa : NULL, c >= 0 ? pb : NULL, msg, msglen);
		i += c <= 0;
		k += c >= 0;
	}
out_free:
	names_free(&na);
	names_free(&nb);
	return ret;
}

int sx_check_run(const char *baseline, const char *output, const struct sx_check_tol *tol,
		 struct sx_check_report **out, char *msg, size_t msglen)
{
	struct sx_check_report *r;
	struct stat sa, sb;
	int ret;

	*out = NULL;
	if (stat(baseline, &sa) != 0) {
		ret = -errno;
		snprintf(msg, msglen, "%s: %s", baseline, strerror(errno));
		return ret;
	}
	if (stat(output, &sb) != 0) {
		ret = -errno;
		snprintf(msg, msglen, "%s: %s", output, strerror(errno));
		return ret;
	}
	if (S_ISDIR(sa.st_mode) != S_ISDIR(sb.st_mode)) {
		snprintf(msg, msglen,
			 "compare a directory with a directory, or a file with a file");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->tol = *tol;
	r->baseline = strdup(baseline);
	r->output = strdup(output);
	if (!r->baseline || !r->output) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (S_ISDIR(sa.st_mode))
		ret = compare_trees(r, baseline, output, msg, msglen);
	else
		ret = compare_unit(r, ".", baseline, output, msg, msglen);
	if (ret)
		goto out_free;
	*out = r;
	return 0;
out_free:
	if (ret == -ENOMEM)
		snprintf(msg, msglen, "out of memory");
	sx_check_report_free(r);
	return ret;
}
