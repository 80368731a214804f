/*
 * upstream_profile.c - profile.yaml of `--mode upstream` (see upstream.h).
 *
 * The document is the reference's dict, keys sorted as yaml.dump() sorts
 * them (code point order, i.e. strcmp on UTF-8):
 *
 *   device-info:            {ipv4, last-update, name}
 *   single-policies:        {<id>: {bidirectional: true,
 *                                   protocols: {dns: {domain-name, qtype},
 *                                               ipv4: {dst, src},
 *                                               tcp|udp: {dst-port|src-port: N}}}}
 *
 * An empty policy set is "single-policies: {}", as PyYAML writes an empty
 * dict.  Events go to libyaml's emitter directly, not through
 * yaml/yaml_writer.h, because PyYAML's layout needs libyaml's defaults that
 * the shared writer changes (80-column folding of plain scalars) and a
 * plain_implicit flag per scalar (PyYAML's resolver decides it; see
 * sx_yw_plain_is_str(), yaml/yaml_writer.h).  Errors latch as in yaml_writer.c.
 */
#include "upstream/upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/err.h"
#include "core/outfile.h"
#include "yaml/yaml_writer.h"

/* ---- emitter ---- */

struct em {
	yaml_emitter_t e;
	int err;
	char problem[256];
};

static void emit(struct em *w, yaml_event_t *ev, int init_ok)
{
	if (w->err) {
		if (init_ok)
			yaml_event_delete(ev);
		return;
	}
	if (!init_ok) {
		w->err = -ENOMEM;
		snprintf(w->problem, sizeof(w->problem), "out of memory");
		return;
	}
	if (!yaml_emitter_emit(&w->e, ev)) { /* destroys ev even on failure */
		w->err = w->e.error == YAML_WRITER_ERROR ? -EIO : SX_E_YAML;
		snprintf(w->problem, sizeof(w->problem), "%s",
			 w->e.problem ? w->e.problem : "YAML emitter error");
	}
}

static void map_begin(struct em *w)
{
	yaml_event_t ev;

	emit(w, &ev,
	     yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE));
}

static void map_end(struct em *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
}

/* A str, as PyYAML represents it. */
static void str(struct em *w, const char *s)
{
	yaml_event_t ev;

	emit(w, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
					  sx_yw_plain_is_str(s), 1, YAML_ANY_SCALAR_STYLE));
}

/* An int or a bool: plain, implicitly typed. */
static void typed(struct em *w, const char *s)
{
	yaml_event_t ev;

	emit(w, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 0,
					  YAML_ANY_SCALAR_STYLE));
}

static void kv(struct em *w, const char *k, const char *v)
{
	str(w, k);
	str(w, v);
}

void sx_upstream_last_update(char *buf, size_t bufsz, time_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	int h12;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, bufsz, "?");
		return;
	}
	h12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
	snprintf(buf, bufsz, "%s %02d %s %d, %02d:%02d%s", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, h12, tm.tm_min,
		 tm.tm_hour < 12 ? "AM" : "PM");
}

static void policy(struct em *w, const struct sx_up_policy *p)
{
	char num[16];

	str(w, p->id);
	map_begin(w);
	str(w, "bidirectional");
	typed(w, "true");
	str(w, "protocols");
	map_begin(w);
	if (p->dns) {
		str(w, "dns");
		map_begin(w);
		kv(w, "domain-name", p->domain);
		kv(w, "qtype", p->qtype);
		map_end(w);
	}
	str(w, "ipv4");
	map_begin(w);
	kv(w, "dst", p->dst);
	kv(w, "src", p->src);
	map_end(w);
	if (p->l4) {
		str(w, p->l4);
		map_begin(w);
		str(w, p->port_key);
		snprintf(num, sizeof(num), "%u", p->port);
		typed(w, num);
		map_end(w);
	}
	map_end(w);
	map_end(w);
}

int sx_upstream_profile(const struct sx_upstream_result *r, const char *device,
			const char *last_update, FILE *f, char *msg, size_t msglen)
{
	const struct sx_up_policy **order;
	char now[64];
	struct em w;
	yaml_event_t ev;
	size_t i, j;

	order = calloc(r->npolicies ? r->npolicies : 1, sizeof(*order));
	if (!order) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	/* insertion sort by id (strcmp = code point order for UTF-8) */
	for (i = 0; i < r->npolicies; i++) {
		for (j = i; j > 0 && strcmp(order[j - 1]->id, r->policies[i].id) > 0; j--)
			order[j] = order[j - 1];
		order[j] = &r->policies[i];
	}
	if (!last_update) {
		sx_upstream_last_update(now, sizeof(now), time(NULL));
		last_update = now;
	}
	memset(&w, 0, sizeof(w));
	if (!yaml_emitter_initialize(&w.e)) {
		free(order);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	yaml_emitter_set_output_file(&w.e, f);
	yaml_emitter_set_unicode(&w.e, 0);
	yaml_emitter_set_indent(&w.e, 2);
	yaml_emitter_set_width(&w.e, 80);
	yaml_emitter_set_break(&w.e, YAML_LN_BREAK);
	emit(&w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	map_begin(&w);
	str(&w, "device-info");
	map_begin(&w);
	kv(&w, "ipv4", r->ipv4);
	kv(&w, "last-update", last_update);
	kv(&w, "name", device);
	map_end(&w);
	str(&w, "single-policies");
	map_begin(&w);
	for (i = 0; i < r->npolicies; i++)
		policy(&w, order[i]);
	map_end(&w);
	map_end(&w);
	emit(&w, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&w, &ev, yaml_stream_end_event_initialize(&ev));
	if (!w.err && !yaml_emitter_flush(&w.e)) {
		w.err = -EIO;
		snprintf(w.problem, sizeof(w.problem), "write error");
	}
	yaml_emitter_delete(&w.e);
	free(order);
	if (w.err)
		snprintf(msg, msglen, "profile.yaml: %s", w.problem);
	return w.err;
}

int sx_upstream_profile_file(const struct sx_upstream_result *r, const char *device,
			     const char *last_update, const char *path, char *msg, size_t msglen)
{
	struct sx_out o;
	int ret;

	ret = sx_out_open(&o, path, msg, msglen);
	if (ret)
		return ret;
	ret = sx_upstream_profile(r, device, last_update, o.f, msg, msglen);
	if (ret) {
		sx_out_abort(&o);
		return ret;
	}
	return sx_out_commit(&o, msg, msglen);
}
