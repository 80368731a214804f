/*
 * upstream_text.c - the reference's text outputs: the per-event CSVs
 * (pandas DataFrame.to_csv(index=False)), str(Pattern) with Python's repr()
 * of its tuple, list and dicts, the standard-output report and the pattern
 * file.
 *
 * Python formats used: repr(str) is quoted with ' unless the text holds a '
 * and no ", then with "; a backslash, the chosen quote and control bytes are
 * escaped (\\, \', \t, \n, \r, \xNN).  A tuple prints as ('a', 'b'), a list
 * as [x, y], a dict as {k: v} in insertion order, all with ", " and ": ".
 * The CSV quotes a field only when it holds a comma, a double quote or a line
 * break (csv.QUOTE_MINIMAL), and an empty string is an empty field.
 *
 * The reference names the pattern file patterns.txt; sigex writes the same
 * content to pattern.txt (the name of the reference's README).
 */
#include "upstream/upstream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/outfile.h"

void sx_upstream_repr_str(struct sx_buf *b, const char *s)
{
	char q = '\'';
	const char *p;

	if (strchr(s, '\'') && !strchr(s, '"'))
		q = '"';
	sx_buf_putc(b, q);
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\' || c == (unsigned char)q) {
			sx_buf_putc(b, '\\');
			sx_buf_putc(b, (char)c);
		} else if (c == '\t') {
			sx_buf_puts(b, "\\t");
		} else if (c == '\n') {
			sx_buf_puts(b, "\\n");
		} else if (c == '\r') {
			sx_buf_puts(b, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			sx_buf_printf(b, "\\x%02x", c);
		} else {
			sx_buf_putc(b, (char)c);
		}
	}
	sx_buf_putc(b, q);
}

/* ---- CSV ---- */

void sx_upstream_csv(const struct sx_up_table *t, struct sx_buf *b)
{
	size_t i;

	sx_buf_puts(b, "Index,Timestamp,DeviceHost,DevicePort,OtherHost,OtherPort,"
		       "TransportProtocol,Protocol,Length,ApplicationSpecific,nbPacket\n");
	for (i = 0; i < t->nrows; i++) {
		const struct sx_up_row *r = &t->rows[i];

		sx_buf_printf(b, "%" PRIu64 ",%s,", r->index, r->ts);
		sx_buf_csv(b, r->dev_host);
		sx_buf_printf(b, ",%u,", r->dev_port);
		sx_buf_csv(b, r->other_host);
		sx_buf_printf(b, ",%u,%s,", r->other_port, r->transport);
		sx_buf_csv(b, r->protocol);
		sx_buf_printf(b, ",%" PRIu64 ",", r->length);
		sx_buf_csv(b, r->app);
		sx_buf_printf(b, ",%" PRIu64 "\n", r->npackets);
	}
}

/* Write b's content to path through an atomic output file. */
static int write_file(const char *path, struct sx_buf *b, char *msg, size_t msglen)
{
	struct sx_out o;
	int ret;

	if (b->err) {
		snprintf(msg, msglen, "%s: out of memory", path);
		return b->err;
	}
	ret = sx_out_open(&o, path, msg, msglen);
	if (ret)
		return ret;
	ret = sx_buf_flush(b, o.f);
	if (ret) {
		snprintf(msg, msglen, "%s: write error", path);
		sx_out_abort(&o);
		return ret;
	}
	return sx_out_commit(&o, msg, msglen);
}

int sx_upstream_write_csvs(const struct sx_upstream_result *r, const char *dir, char *msg,
			   size_t msglen)
{
	struct sx_buf b;
	size_t i;
	int ret = 0;

	sx_buf_init(&b);
	for (i = 0; i < r->ntables && !ret; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, r->tables[i].csv_name);
		sx_buf_reset(&b);
		sx_upstream_csv(&r->tables[i], &b);
		ret = write_file(path, &b, msg, msglen);
	}
	sx_buf_fini(&b);
	return ret;
}

/* ---- str(Pattern) ---- */

/* The ports sorted by count, descending, stable: printed order. */
static void sorted_ports(const struct sx_up_pattern *p, size_t *order)
{
	size_t i, j;

	for (i = 0; i < p->nports; i++) {
		size_t k = i;

		for (j = i; j > 0 && p->ports[order[j - 1]].number < p->ports[k].number; j--)
			order[j] = order[j - 1];
		order[j] = k;
	}
}

static void repr_counts(struct sx_buf *b, const struct sx_up_count *v, size_t n)
{
	size_t i;

	sx_buf_putc(b, '{');
	for (i = 0; i < n; i++) {
		if (i)
			sx_buf_puts(b, ", ");
		if (v[i].str)
			sx_upstream_repr_str(b, v[i].str);
		else
			sx_buf_u64(b, v[i].num);
		sx_buf_printf(b, ": %" PRIu64, v[i].count);
	}
	sx_buf_putc(b, '}');
}

static const char *port_host(const struct sx_up_pattern *p, uint16_t port)
{
	size_t i;

	for (i = 0; i < p->nports; i++)
		if (p->ports[i].port == port)
			return p->ports[i].host;
	return NULL;
}

void sx_upstream_pattern_str(const struct sx_up_pattern *p, struct sx_buf *b)
{
	size_t *order = malloc((p->nports ? p->nports : 1) * sizeof(*order));
	const char *fh;
	size_t i;

	if (!order) {
		b->err = -ENOMEM;
		return;
	}

	sx_buf_puts(b, "IP Addresses: (");
	sx_upstream_repr_str(b, p->hosts[0]);
	sx_buf_puts(b, ", ");
	sx_upstream_repr_str(b, p->hosts[1]);
	sx_buf_printf(b, ")\nProtocol: %s\nPorts: [", p->transport);
	sorted_ports(p, order);
	for (i = 0; i < p->nports; i++) {
		const struct sx_up_port *pt = &p->ports[order[i]];

		if (i)
			sx_buf_puts(b, ", ");
		sx_buf_printf(b, "(%u, {'number': %" PRIu64 ", 'host': [", pt->port, pt->number);
		sx_upstream_repr_str(b, pt->host);
		sx_buf_puts(b, "]})");
	}
	free(order);
	sx_buf_printf(b, "]\nFixed port: %u -> [", p->fixed);
	fh = port_host(p, p->fixed);
	if (fh)
		sx_upstream_repr_str(b, fh);
	sx_buf_puts(b, "]\nApplication Data: {'Length': ");
	repr_counts(b, p->length, p->nlength);
	sx_buf_puts(b, ", 'ApplicationSpecific': ");
	repr_counts(b, p->app, p->napp);
	sx_buf_puts(b, ", 'nbPacket': ");
	repr_counts(b, p->npackets, p->nnpackets);
	sx_buf_putc(b, '}');
}

/* ---- report and pattern file ---- */

void sx_upstream_report(const struct sx_upstream_result *r, struct sx_buf *b)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		sx_buf_puts(b, "Flows extracted\n");
	sx_buf_printf(b, "%zu pattern(s) found\n", r->npatterns);
	for (i = 0; i < r->npatterns; i++) {
		sx_buf_printf(b, "Pattern %zu: ", i + 1);
		sx_upstream_pattern_str(&r->patterns[i], b);
		sx_buf_puts(b, "\n\n");
	}
	sx_buf_puts(b, "Patterns found!\n");
	sx_buf_puts(b, "Policies generated\n");
}

void sx_upstream_patterns_text(const struct sx_upstream_result *r, struct sx_buf *b)
{
	size_t i;

	for (i = 0; i < r->npatterns; i++) {
		sx_buf_printf(b, "Pattern %zu:\n", i + 1);
		sx_upstream_pattern_str(&r->patterns[i], b);
		sx_buf_puts(b, "\n\n");
	}
}

int sx_upstream_write_patterns(const struct sx_upstream_result *r, const char *path, char *msg,
			       size_t msglen)
{
	struct sx_buf b;
	int ret;

	sx_buf_init(&b);
	sx_upstream_patterns_text(r, &b);
	ret = write_file(path, &b, msg, msglen);
	sx_buf_fini(&b);
	return ret;
}
