/*
 * app_tplink.c - TP-Link Smart Home Protocol (Kasa plugs and bulbs, port
 * 9999; documented by reverse engineering, e.g. softScheck's tplink-smartplug).
 *
 * The payload is JSON "encrypted" with an autokey XOR: key starts at 171,
 * plain[i] = c[i] ^ key, then key = c[i].  Over TCP each message has a
 * 4-byte big-endian length in front (only the first message of a segment
 * is read, and a segment continuing a long reply is not recognised); over
 * UDP (discovery) the datagram is the message.  At most TPLINK_MAX bytes
 * are decrypted, into a stack buffer.
 *
 * The packet is claimed when the plaintext, after white space, starts with
 * '{'.  The command is then the list of top-level keys, each followed by
 * its first-level sub-keys as "module.method" (a key whose value is not an
 * object, or an empty object, stands alone), joined by spaces:
 *   {"system":{"get_sysinfo":{}},"emeter":{"get_realtime":{}}}
 *     -> "system.get_sysinfo emeter.get_realtime"
 * The "context" key that the Kasa app adds to requests
 * ({"context":{"source":"<uuid>"},...}) is metadata, not a command, and is
 * left out.  The scanner is tolerant: it stops quietly at the end of the
 * data, at anything that is not JSON, or at nesting deeper than
 * TPLINK_MAX_DEPTH, keeping what it had.  Keys are copied as written
 * between the quotes (JSON escapes not decoded), escaped by core/text.h; a
 * name that does not fit ends the list.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <string.h>

#include "core/compiler.h"
#include "core/text.h"
#include "ingest/cursor.h"

#define TPLINK_PORT	 9999
#define TPLINK_MAX	 4096
#define TPLINK_KEY0	 171
#define TPLINK_MAX_MSG	 (1u << 20)
#define TPLINK_MAX_DEPTH 32

/* The plaintext being scanned: bytes [0, n) of buf, position pos. */
struct scan {
	const uint8_t *buf;
	size_t n;
	size_t pos;
};

static void skip_ws(struct scan *s)
{
	while (s->pos < s->n && (s->buf[s->pos] == ' ' || s->buf[s->pos] == '\t' ||
				 s->buf[s->pos] == '\r' || s->buf[s->pos] == '\n'))
		s->pos++;
}

/* Consume c (after white space) if it is next. */
static bool eat(struct scan *s, uint8_t c)
{
	skip_ws(s);
	if (s->pos < s->n && s->buf[s->pos] == c) {
		s->pos++;
		return true;
	}
	return false;
}

/* A string at pos ('"' next): its raw contents in [*start, *start + *len). */
static bool string(struct scan *s, size_t *start, size_t *len)
{
	size_t i;

	if (!eat(s, '"'))
		return false;
	for (i = s->pos; i < s->n; i++) {
		if (s->buf[i] == '\\') {
			i++;
			continue;
		}
		if (s->buf[i] == '"') {
			*start = s->pos;
			*len = i - s->pos;
			s->pos = i + 1;
			return true;
		}
	}
	return false;
}

static bool is_delim(uint8_t c)
{
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip one value: a string, a container nested up to the limit, a literal. */
static bool skip_value(struct scan *s)
{
	unsigned depth = 0;
	size_t a;
	size_t b;
	size_t start;

	skip_ws(s);
	if (s->pos >= s->n)
		return false;
	if (s->buf[s->pos] == '"')
		return string(s, &a, &b);
	if (s->buf[s->pos] != '{' && s->buf[s->pos] != '[') {
		start = s->pos;
		while (s->pos < s->n && !is_delim(s->buf[s->pos]))
			s->pos++;
		return s->pos > start && s->pos < s->n;
	}
	while (s->pos < s->n) {
		uint8_t c = s->buf[s->pos];

		if (c == '"') {
			if (!string(s, &a, &b))
				return false;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > TPLINK_MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']') {
			if (--depth == 0) {
				s->pos++;
				return true;
			}
		}
		s->pos++;
	}
	return false;
}

/*
 * Append "a", or "a<mid>b" when b is given, after sep unless dst is empty,
 * whole or not at all (the names of the command list: ' ' and '.'; the
 * arguments: ',' and '=').
 */
static bool add_item(char *dst, size_t dstsz, size_t *len, char sep, const uint8_t *a, size_t al,
		     char mid, const uint8_t *b, size_t bl)
{
	size_t need =
	    (*len > 0) + sx_text_escaped_len(a, al) + (b ? 1 + sx_text_escaped_len(b, bl) : 0);

	if (*len + need >= dstsz)
		return false;
	if (*len > 0)
		dst[(*len)++] = sep;
	dst[*len] = '\0';
	sx_text_append(dst, dstsz, len, a, al);
	if (b) {
		dst[(*len)++] = mid;
		dst[*len] = '\0';
		sx_text_append(dst, dstsz, len, b, bl);
	}
	return true;
}

/* " key" or " key.sub" in the command list. */
static bool add_name(char *dst, size_t dstsz, size_t *len, const uint8_t *k, size_t kl,
		     const uint8_t *sub, size_t sl)
{
	return add_item(dst, dstsz, len, ' ', k, kl, '.', sub, sl);
}

/*
 * A method's value: an object's scalar members (numbers, literals,
 * strings) go to t->args as "name=value"; containers inside it are
 * skipped; anything else is skipped whole.  false when the JSON ends or
 * breaks (the scan then stops, as skip_value()).
 */
static bool scan_args(struct sx_tplink *t, struct scan *s, size_t *alen)
{
	bool any = false, room = true;

	skip_ws(s);
	if (s->pos >= s->n || s->buf[s->pos] != '{')
		return skip_value(s);
	s->pos++;
	while (!eat(s, '}')) {
		size_t ka, kl, va, vl;

		if (any && !eat(s, ','))
			return false;
		if (!string(s, &ka, &kl) || !eat(s, ':'))
			return false;
		any = true;
		skip_ws(s);
		if (s->pos >= s->n)
			return false;
		if (s->buf[s->pos] == '{' || s->buf[s->pos] == '[') {
			if (!skip_value(s))
				return false;
			continue;
		}
		if (s->buf[s->pos] == '"') {
			if (!string(s, &va, &vl))
				return false;
		} else {
			va = s->pos;
			if (!skip_value(s))
				return false;
			vl = s->pos - va;
		}
		/* once one does not fit, the rest is left out: a prefix of
		 * the arguments, never a gap */
		if (room && !t->response)
			room = add_item(t->args, sizeof(t->args), alen, ',', s->buf + ka, kl, '=',
					s->buf + va, vl);
	}
	return true;
}

/*
 * The command list of a JSON object:
 *
 *   { "module" : { "method" : value , ... } , "key" : value , ... }
 *
 * A name is added as soon as its key and ':' are read, so a reply cut in
 * the middle of its value still names its method.
 */
static void scan_command(struct sx_tplink *t, struct scan *s)
{
	size_t len = 0, alen = 0;

	t->cmd[0] = '\0';
	t->args[0] = '\0';
	if (!eat(s, '{') || eat(s, '}'))
		return;
	for (;;) {
		const uint8_t *key;
		size_t ka;
		size_t kl;
		bool context;

		if (!string(s, &ka, &kl) || !eat(s, ':'))
			return;
		key = s->buf + ka;
		context = kl == 7 && memcmp(key, "context", 7) == 0;
		if (eat(s, '{')) {
			bool any = false;

			while (!eat(s, '}')) {
				size_t sa;
				size_t sl;

				if (any && !eat(s, ','))
					return;
				if (!string(s, &sa, &sl) || !eat(s, ':'))
					return;
				any = true;
				if (!context && !add_name(t->cmd, sizeof(t->cmd), &len, key, kl,
							  s->buf + sa, sl))
					return;
				if (context ? !skip_value(s) : !scan_args(t, s, &alen))
					return;
			}
			if (!any && !context &&
			    !add_name(t->cmd, sizeof(t->cmd), &len, key, kl, NULL, 0))
				return;
		} else {
			if (!context && !add_name(t->cmd, sizeof(t->cmd), &len, key, kl, NULL, 0))
				return;
			if (!skip_value(s))
				return;
		}
		if (!eat(s, ','))
			return;
	}
}

/*
 * Framing:
 *
 *   TCP: | length (32, big-endian) | XOR-autokey payload of that length |
 *   UDP: | XOR-autokey payload                                          |
 */
bool sx_app_tplink(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool over_tcp)
{
	struct sx_tplink *t = &pkt->app.tplink;
	struct sx_cursor c = sx_cur(p, n);
	uint8_t plain[TPLINK_MAX];
	struct scan s = {plain, 0, 0};
	uint8_t key = TPLINK_KEY0;
	size_t i, m;

	if (over_tcp) {
		uint32_t len = sx_cur_be32(&c);

		if (c.bad || len == 0 || len > TPLINK_MAX_MSG)
			return false;
		if (sx_cur_left(&c) > len)
			c.end = c.p + len;
	}
	/* the bytes the cursor bounds, at most the plain text's room */
	m = SX_MIN(sx_cur_left(&c), sizeof(plain));
	for (i = 0; i < m; i++) {
		uint8_t ch = c.p[i];

		plain[i] = ch ^ key;
		key = ch;
	}
	s.n = m;
	skip_ws(&s);
	if (s.pos >= s.n || plain[s.pos] != '{')
		return false;
	t->response = pkt->sport == TPLINK_PORT;
	scan_command(t, &s);
	pkt->proto = SX_P_TPLINK;
	return true;
}
