/*
 * batch_parse.c - the readers of `sigex batch`'s configuration files:
 * device.yaml and the manifest, and the rule for names that become paths.
 *
 * DESIGN.  Both readers take a buffer of any bytes (they are fuzzed) and
 * either return a complete, validated structure or fail with one message
 * naming the line.  Nothing read here is trusted later: every string that
 * will become a directory under OUT goes through sx_batch_name_check(),
 * which refuses anything that could leave OUT or make a hidden or
 * unprintable entry ("..", "/", control characters, invalid UTF-8, a
 * leading dot).  device.yaml is loaded with the bounded tree of yaml/ydoc.h (no
 * aliases, bounded depth and size), then checked key by key against the
 * schema documented in batch.h; unknown and duplicate keys are errors, so a
 * typo never silently means "default".  The manifest is RFC 4180 CSV read
 * by core's record scanner (core/csv.h), with field and row limits; its names are checked when
 * units are built (batch_scan.c), so that one bad row fails one unit, not the run. Stateless;
 * thread-safe.
 */
#include "batch/batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/compiler.h"
#include "core/csv.h"
#include "core/err.h"
#include "core/util.h"
#include "ingest/ingest.h"
#include "yaml/ydoc.h"

/* ---- names ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int sx_batch_name_check(const char *name, char *why, size_t whylen)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name), i, k;

	if (n == 0) {
		sx_msgf(why, whylen, "empty name");
		return -EINVAL;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		sx_msgf(why, whylen, "\"%s\" would leave the output directory", name);
		return -EINVAL;
	}
	if (n > SX_BATCH_NAME_MAX) {
		sx_msgf(why, whylen, "longer than %d bytes", SX_BATCH_NAME_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i += k) {
		if (s[i] == '/' || s[i] == '\\') {
			sx_msgf(why, whylen, "contains a path separator ('%c')", s[i]);
			return -EINVAL;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			sx_msgf(why, whylen, "contains a control character (0x%02x)", s[i]);
			return -EINVAL;
		}
		k = utf8_seq(s + i, n - i);
		if (!k) {
			sx_msgf(why, whylen, "not valid UTF-8");
			return -EINVAL;
		}
		if (k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
			sx_msgf(why, whylen, "contains a control character (U+%04X)", s[i + 1]);
			return -EINVAL;
		}
	}
	if (name[0] == '.') {
		sx_msgf(why, whylen, "starts with '.' (names of sigex's own hidden files)");
		return -EINVAL;
	}
	if (strcmp(name, "summary.csv") == 0 || strcmp(name, "profile.yaml") == 0) {
		sx_msgf(why, whylen, "\"%s\" is the name of a file sigex batch writes", name);
		return -EINVAL;
	}
	return 0;
}

void sx_batch_opts_merge(struct sx_batch_opts *dst, const struct sx_batch_opts *src)
{
	if (src->set & SX_BATCH_OPT_WINDOW)
		dst->window = src->window;
	if (src->set & SX_BATCH_OPT_SUPPORT)
		dst->support = src->support;
	if (src->set & SX_BATCH_OPT_DURATION)
		dst->duration = src->duration;
	if (src->set & SX_BATCH_OPT_IDLE)
		dst->idle = src->idle;
	if (src->set & SX_BATCH_OPT_STATS)
		dst->stats = src->stats;
	dst->set |= src->set;
}

/* ---- device.yaml ---- */

#define TEXT_MAX 255

static const struct sx_ytree_limits device_limits = {
    .max_depth = 8,
    .max_nodes = 65536,
    .max_scalar = 4096,
};

void sx_batch_device_free(struct sx_batch_device_cfg *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nevents; i++)
		free(c->events[i].name);
	free(c->events);
	free(c->name);
	free(c->ipv4);
	free(c->ipv6);
	free(c->mac);
	free(c->gateway);
	free(c->phone);
	free(c->event);
	free(c->background);
	free(c);
}

const struct sx_batch_event_cfg *sx_batch_device_event(const struct sx_batch_device_cfg *c,
						       const char *event)
{
	size_t i;

	for (i = 0; c && i < c->nevents; i++)
		if (strcmp(c->events[i].name, event) == 0)
			return &c->events[i];
	return NULL;
}

struct dparse {
	char *msg;
	size_t msglen;
};

static int dbad(struct dparse *dp, const struct sx_ytree *at, const char *fmt, ...) SX_PRINTF(3, 4);

static int dbad(struct dparse *dp, const struct sx_ytree *at, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sx_msgf(dp->msg, dp->msglen, "line %u: %s", at ? at->line : 1, what);
	return SX_E_FORMAT;
}

/* A scalar value of key k (for messages), else an error. */
static int scalar(struct dparse *dp, const char *k, const struct sx_ytree *v, const char **out)
{
	if (v->kind != SX_YTREE_SCALAR)
		return dbad(dp, v, "%s: expected a single value", k);
	*out = v->text;
	return 0;
}

static int seconds(struct dparse *dp, const char *k, const struct sx_ytree *v, bool zero_ok,
		   double *out)
{
	const char *s = NULL;
	double d = 0;
	int ret = scalar(dp, k, v, &s);

	if (ret)
		return ret;
	if (sx_parse_seconds(s, &d) || !sx_seconds_ok(d, zero_ok))
		return dbad(dp, v, "%s: expected a %snumber of seconds, not \"%.64s\"", k,
			    zero_ok ? "" : "positive ", s);
	*out = d;
	return 0;
}

static int fraction(struct dparse *dp, const char *k, const struct sx_ytree *v, double *out)
{
	const char *s = NULL;
	char *end;
	double d;
	int ret = scalar(dp, k, v, &s);

	if (ret)
		return ret;
	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d > 0 && d <= 1))
		return dbad(dp, v, "%s: expected a fraction in (0, 1], not \"%.64s\"", k, s);
	*out = d;
	return 0;
}

static int boolean(struct dparse *dp, const char *k, const struct sx_ytree *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	const char *s = NULL;
	size_t i;
	int ret = scalar(dp, k, v, &s);

	if (ret)
		return ret;
	for (i = 0; i < SX_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return dbad(dp, v, "%s: expected true or false, not \"%.64s\"", k, s);
}

static int copy_str(struct dparse *dp, const char *k, const struct sx_ytree *v, char **slot)
{
	const char *s = NULL;
	int ret = scalar(dp, k, v, &s);

	if (ret)
		return ret;
	free(*slot);
	*slot = strdup(s);
	return *slot ? 0 : -ENOMEM;
}

/* An address of the families allowed, copied to *slot. */
static int address(struct dparse *dp, const char *k, const struct sx_ytree *v, bool v4, bool v6,
		   char **slot)
{
	unsigned char b[16];
	const char *s = NULL;
	int ret = scalar(dp, k, v, &s);

	if (ret)
		return ret;
	if (!((v4 && inet_pton(AF_INET, s, b) == 1) || (v6 && inet_pton(AF_INET6, s, b) == 1)))
		return dbad(dp, v, "%s: not an %s address: \"%.64s\"", k,
			    v4 && v6 ? "IP"
			    : v4     ? "IPv4"
				     : "IPv6",
			    s);
	return copy_str(dp, k, v, slot);
}

static int mac(struct dparse *dp, const struct sx_ytree *v, char **slot)
{
	const char *s = NULL;
	uint8_t m[6];
	int ret = scalar(dp, "mac", v, &s);

	if (ret)
		return ret;
	if (sx_mac_parse(s, m))
		return dbad(dp, v, "mac: expected aa:bb:cc:dd:ee:ff, not \"%.64s\"", s);
	return copy_str(dp, "mac", v, slot);
}

static int name_value(struct dparse *dp, const char *k, const struct sx_ytree *v, char **slot)
{
	char why[128];
	const char *s = NULL;
	int ret = scalar(dp, k, v, &s);

	if (ret)
		return ret;
	if (sx_batch_name_check(s, why, sizeof(why)))
		return dbad(dp, v, "%s: \"%.64s\": %s", k, s, why);
	return copy_str(dp, k, v, slot);
}

static int display_name(struct dparse *dp, const struct sx_ytree *v, char **slot)
{
	const unsigned char *s;
	const char *t = NULL;
	size_t i;
	int ret = scalar(dp, "name", v, &t);

	if (ret)
		return ret;
	s = (const unsigned char *)t;
	if (!s[0] || v->len > TEXT_MAX)
		return dbad(dp, v, "name: expected 1 to %d bytes", TEXT_MAX);
	for (i = 0; s[i]; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return dbad(dp, v, "name: contains a control character");
	return copy_str(dp, "name", v, slot);
}

/* The five per-event options; 1 when k is not one of them. */
static int event_opt(struct dparse *dp, const char *k, const struct sx_ytree *v,
		     struct sx_batch_opts *o)
{
	unsigned bit;
	int ret;

	if (strcmp(k, "window") == 0) {
		bit = SX_BATCH_OPT_WINDOW;
		ret = seconds(dp, k, v, true, &o->window);
	} else if (strcmp(k, "support") == 0) {
		bit = SX_BATCH_OPT_SUPPORT;
		ret = fraction(dp, k, v, &o->support);
	} else if (strcmp(k, "duration") == 0) {
		bit = SX_BATCH_OPT_DURATION;
		ret = seconds(dp, k, v, false, &o->duration);
	} else if (strcmp(k, "idle-timeout") == 0) {
		bit = SX_BATCH_OPT_IDLE;
		ret = seconds(dp, k, v, false, &o->idle);
	} else if (strcmp(k, "stats") == 0) {
		bit = SX_BATCH_OPT_STATS;
		ret = boolean(dp, k, v, &o->stats);
	} else {
		return 1;
	}
	if (ret)
		return ret;
	if (o->set & bit)
		return dbad(dp, v, "%s given twice", k);
	o->set |= bit;
	return 0;
}

static int event_entry(struct dparse *dp, const struct sx_ytree *k, const struct sx_ytree *v,
		       struct sx_batch_event_cfg *e)
{
	char why[128];
	size_t i;
	int ret;

	if (sx_batch_name_check(k->text, why, sizeof(why)))
		return dbad(dp, k, "events: \"%.64s\": %s", k->text, why);
	e->name = strdup(k->text);
	if (!e->name)
		return -ENOMEM;
	if (sx_ytree_is_null(v))
		return 0;
	if (v->kind != SX_YTREE_MAP)
		return dbad(dp, v, "events: %.64s: expected a mapping of options", k->text);
	for (i = 0; i + 1 < v->n; i += 2) {
		const char *ok = v->kids[i]->text;

		ret = event_opt(dp, ok, v->kids[i + 1], &e->opts);
		if (ret == 1)
			return dbad(dp, v->kids[i],
				    "events: %.64s: unknown option \"%.64s\" (window, support, "
				    "duration, idle-timeout, stats)",
				    k->text, ok);
		if (ret)
			return ret;
	}
	return 0;
}

static int cmp_event_cfg(const void *a, const void *b)
{
	const struct sx_batch_event_cfg *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int events_map(struct dparse *dp, const struct sx_ytree *v, struct sx_batch_device_cfg *c)
{
	size_t i, n;
	int ret;

	if (sx_ytree_is_null(v))
		return 0;
	if (v->kind != SX_YTREE_MAP)
		return dbad(dp, v, "events: expected a mapping of event names");
	n = v->n / 2;
	if (n > SX_BATCH_EVENTS_MAX)
		return dbad(dp, v, "events: more than %d entries", SX_BATCH_EVENTS_MAX);
	c->events = sx_calloc_array(n + 1, sizeof(*c->events));
	if (!c->events)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ret = event_entry(dp, v->kids[2 * i], v->kids[2 * i + 1], &c->events[i]);
		c->nevents = i + 1;
		if (ret)
			return ret;
	}
	qsort(c->events, c->nevents, sizeof(*c->events), cmp_event_cfg);
	for (i = 1; i < c->nevents; i++)
		if (strcmp(c->events[i - 1].name, c->events[i].name) == 0)
			return dbad(dp, v, "events: \"%.64s\" given twice", c->events[i].name);
	return 0;
}

enum dkey {
	K_NAME,
	K_IPV4,
	K_IPV6,
	K_MAC,
	K_GATEWAY,
	K_PHONE,
	K_EVENT,
	K_BACKGROUND,
	K_EVENTS,
	K_COUNT
};

static const char *const dkeys[K_COUNT] = {
    "name", "ipv4", "ipv6", "mac", "gateway", "phone", "event", "background", "events",
};

static int device_key(struct dparse *dp, const struct sx_ytree *k, const struct sx_ytree *v,
		      struct sx_batch_device_cfg *c, unsigned *seen)
{
	unsigned i;
	int ret;

	for (i = 0; i < K_COUNT; i++)
		if (strcmp(k->text, dkeys[i]) == 0)
			break;
	if (i == K_COUNT) {
		ret = event_opt(dp, k->text, v, &c->opts);
		if (ret == 1)
			return dbad(dp, k,
				    "unknown key \"%.64s\" (name, ipv4, ipv6, mac, gateway, phone, "
				    "event, background, events, window, support, duration, "
				    "idle-timeout, stats)",
				    k->text);
		return ret;
	}
	if (*seen & (1u << i))
		return dbad(dp, k, "%s given twice", dkeys[i]);
	*seen |= 1u << i;
	switch ((enum dkey)i) {
	case K_NAME:
		return display_name(dp, v, &c->name);
	case K_IPV4:
		return address(dp, "ipv4", v, true, false, &c->ipv4);
	case K_IPV6:
		return address(dp, "ipv6", v, false, true, &c->ipv6);
	case K_MAC:
		return mac(dp, v, &c->mac);
	case K_GATEWAY:
		return address(dp, "gateway", v, true, true, &c->gateway);
	case K_PHONE:
		return address(dp, "phone", v, true, true, &c->phone);
	case K_EVENT:
		return name_value(dp, "event", v, &c->event);
	case K_BACKGROUND:
		return name_value(dp, "background", v, &c->background);
	case K_EVENTS:
		return events_map(dp, v, c);
	case K_COUNT:
		break;
	}
	return 0;
}

int sx_batch_device_parse(const char *data, size_t len, struct sx_batch_device_cfg **out, char *msg,
			  size_t msglen)
{
	struct dparse dp = {msg, msglen};
	struct sx_batch_device_cfg *c;
	struct sx_ytree *t = NULL;
	unsigned seen = 0;
	size_t i;
	int ret;

	*out = NULL;
	if (len > SX_BATCH_DEVICE_YAML_MAX) {
		sx_msgf(msg, msglen, "larger than %u bytes", SX_BATCH_DEVICE_YAML_MAX);
		return SX_E_FORMAT;
	}
	ret = sx_ytree_parse(data, len, &device_limits, &t, msg, msglen);
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out_tree;
	}
	if (t && !sx_ytree_is_null(t)) {
		if (t->kind != SX_YTREE_MAP) {
			ret = dbad(&dp, t, "expected a mapping (key: value lines)");
			goto out_cfg;
		}
		for (i = 0; i + 1 < t->n; i += 2) {
			ret = device_key(&dp, t->kids[i], t->kids[i + 1], c, &seen);
			if (ret)
				goto out_cfg;
		}
	}
	if (c->event && c->background && strcmp(c->event, c->background) == 0) {
		ret = dbad(&dp, t, "event and background name the same directory");
		goto out_cfg;
	}
	if (c->background && sx_batch_device_event(c, c->background)) {
		ret = dbad(&dp, t, "events: \"%.64s\" is the background directory", c->background);
		goto out_cfg;
	}
	sx_ytree_free(t);
	*out = c;
	return 0;

out_cfg:
	sx_batch_device_free(c);
out_tree:
	sx_ytree_free(t);
	if (ret == -ENOMEM)
		sx_msgf(msg, msglen, "out of memory");
	return ret;
}

/* ---- the manifest ---- */

#define FIELD_MAX  4096
#define MAX_FIELDS 4

/* The manifest's dialect: blanks around fields, '#' comments, a bare CR
 * ends a row, fields bounded; extra fields are counted (a usage message,
 * not a syntax error). */
static const struct sx_csv_cfg manifest_csv = {
    .flags = SX_CSV_TRIM | SX_CSV_COMMENTS | SX_CSV_BARE_CR | SX_CSV_BOM | SX_CSV_EXTRA_FIELDS,
    .fields_max = MAX_FIELDS,
    .field_max = FIELD_MAX,
};

/* The scanner's syntax error as the manifest's message. */
static void syntax_msg(const struct sx_csv *s, char *msg, size_t msglen)
{
	/* an unterminated quote is reported where its record starts, the
	 * others where they were seen */
	unsigned long line = s->why == SX_CSV_UNTERMINATED ? s->rec_line : s->line;

	sx_msgf(msg, msglen, "line %lu: %s", line, sx_csv_why_str(s->why));
}

void sx_batch_manifest_free(struct sx_batch_manifest *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->rows[i].device);
		free(m->rows[i].event);
		free(m->rows[i].path);
	}
	free(m->rows);
	free(m);
}

static bool is_header(const struct sx_csv *s)
{
	return s->nfields >= 3 && strcasecmp(sx_csv_text(s, 0), "device") == 0 &&
	       strcasecmp(sx_csv_text(s, 1), "event") == 0 &&
	       strcasecmp(sx_csv_text(s, 2), "path") == 0 &&
	       (s->nfields == 3 || strcasecmp(sx_csv_text(s, 3), "role") == 0);
}

static int role_of(const char *s, uint8_t *role)
{
	static const char *const roles[] = {"capture", "background", "config", "events"};
	uint8_t i;

	if (!s[0]) {
		*role = SX_BATCH_ROLE_CAPTURE;
		return 0;
	}
	for (i = 0; i < SX_ARRAY_SIZE(roles); i++)
		if (strcasecmp(s, roles[i]) == 0) {
			*role = i;
			return 0;
		}
	return -EINVAL;
}

static int add_row(struct sx_batch_manifest *m, size_t *cap, const struct sx_csv *s, char *msg,
		   size_t msglen)
{
	const char *device = sx_csv_text(s, 0), *event = sx_csv_text(s, 1);
	const char *path = sx_csv_text(s, 2), *rolename = sx_csv_text(s, 3);
	unsigned line = (unsigned)s->rec_line;
	struct sx_batch_row *r;
	uint8_t role;

	if (role_of(rolename, &role)) {
		sx_msgf(msg, msglen,
			"line %u: unknown role \"%.64s\" (capture, background, config, events)",
			line, rolename);
		return SX_E_FORMAT;
	}
	if (!device[0]) {
		sx_msgf(msg, msglen, "line %u: empty device", line);
		return SX_E_FORMAT;
	}
	if (!path[0]) {
		sx_msgf(msg, msglen, "line %u: empty path", line);
		return SX_E_FORMAT;
	}
	if (role != SX_BATCH_ROLE_CAPTURE && event[0]) {
		sx_msgf(msg, msglen, "line %u: a %s row names no event", line,
			role == SX_BATCH_ROLE_BACKGROUND ? "background"
			: role == SX_BATCH_ROLE_CONFIG	 ? "config"
							 : "events");
		return SX_E_FORMAT;
	}
	if (m->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct sx_batch_row *nr = sx_realloc_array(m->rows, ncap, sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		m->rows = nr;
		*cap = ncap;
	}
	r = &m->rows[m->n];
	memset(r, 0, sizeof(*r));
	r->device = strdup(device);
	r->event = strdup(event);
	r->path = strdup(path);
	r->role = role;
	r->line = line;
	m->n++;
	if (!r->device || !r->event || !r->path)
		return -ENOMEM;
	return 0;
}

int sx_batch_manifest_parse(const char *data, size_t len, struct sx_batch_manifest **out, char *msg,
			    size_t msglen)
{
	struct sx_batch_manifest *m;
	struct sx_csv s;
	bool first = true;
	size_t cap = 0;
	int ret;

	*out = NULL;
	if (len > SX_BATCH_MANIFEST_MAX) {
		sx_msgf(msg, msglen, "larger than %u bytes", SX_BATCH_MANIFEST_MAX);
		return SX_E_FORMAT;
	}
	if (memchr(data, '\0', len)) {
		sx_msgf(msg, msglen, "contains a NUL byte: not a text file");
		return SX_E_FORMAT;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = sx_csv_init_mem(&s, &manifest_csv, data, len);
	if (ret)
		goto out_free;
	while ((ret = sx_csv_record(&s)) == 1) {
		if (first && is_header(&s)) {
			first = false;
			continue;
		}
		first = false;
		if (s.nfields < 3 || s.nfields > MAX_FIELDS) {
			sx_msgf(msg, msglen, "line %lu: expected device,event,path[,role]",
				s.rec_line);
			ret = SX_E_FORMAT;
			break;
		}
		if (s.truncated) {
			sx_msgf(msg, msglen, "line %lu: field longer than %d bytes", s.rec_line,
				FIELD_MAX);
			ret = SX_E_FORMAT;
			break;
		}
		ret = add_row(m, &cap, &s, msg, msglen);
		if (ret)
			break;
	}
	if (ret == SX_E_FORMAT && s.why != SX_CSV_OK)
		syntax_msg(&s, msg, msglen);
	if (!ret && m->n == 0) {
		sx_msgf(msg, msglen, "no capture listed");
		ret = SX_E_FORMAT;
	}
	sx_csv_fini(&s);
out_free:
	if (ret) {
		if (ret == -ENOMEM)
			sx_msgf(msg, msglen, "out of memory");
		sx_batch_manifest_free(m);
		return ret;
	}
	*out = m;
	return 0;
}
