/*
 * app_ssdp.c - SSDP, HTTP over UDP (UPnP Device Architecture 1.1 §1).
 *
 * A datagram is SSDP when its first line is one of
 *   "M-SEARCH * HTTP/1.x"  (search, multicast or unicast)
 *   "NOTIFY * HTTP/1.x"    (advertisement: ssdp:alive, ssdp:byebye, ...)
 *   "HTTP/1.x 200 ..."     (search response)
 * with x a digit and the line ending there (or in SP and a reason for the
 * response).  The dispatcher calls this for UDP port 1900 and, because
 * clients also search on other ports (Plex GDM, DIAL), for any UDP payload
 * starting with 'M', 'N' or 'H'.  Header lines end in LF (CR optional);
 * names are matched case-insensitively; values are trimmed, escaped by
 * core/text.h and cut at their buffers.  ST or NT (whichever comes first)
 * goes to st, NTS to nts, USN and SERVER to usn and server.  A header line
 * cut by the end of the captured bytes is ignored.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <string.h>

#include "core/text.h"
#include "ingest/cursor.h"
#include "ingest/ingest.h"

static bool starts_with(const struct sx_cursor *t, const char *s)
{
	size_t n = strlen(s);

	return sx_cur_left(t) >= n && memcmp(t->p, s, n) == 0;
}

static bool name_is(const uint8_t *p, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (ch >= 'a' && ch <= 'z')
			ch = (uint8_t)(ch - 'a' + 'A');
		if (ch != (uint8_t)s[i])
			return false;
	}
	return true;
}

/* "HTTP/1." DIGIT at the start of t; the cursor moves past it. */
static bool take_version(struct sx_cursor *t)
{
	if (!starts_with(t, "HTTP/1.") || sx_cur_left(t) < 8 || t->p[7] < '0' || t->p[7] > '9')
		return false;
	sx_cur_skip(t, 8);
	return true;
}

/*
 * Start line (UDA 1.1 §1.2-1.3):
 *
 *   M-SEARCH * HTTP/1.1 | NOTIFY * HTTP/1.1 | HTTP/1.1 200 OK
 */
static uint8_t start_line(struct sx_cursor line)
{
	if (starts_with(&line, "M-SEARCH * ") || starts_with(&line, "NOTIFY * ")) {
		uint8_t kind = line.p[0] == 'M' ? SX_SSDP_MSEARCH : SX_SSDP_NOTIFY;

		sx_cur_skip(&line, kind == SX_SSDP_MSEARCH ? 11 : 9);
		if (!take_version(&line) || sx_cur_left(&line) != 0)
			return 0;
		return kind;
	}
	if (!take_version(&line) || !starts_with(&line, " 200"))
		return 0;
	sx_cur_skip(&line, 4);
	if (sx_cur_left(&line) > 0 && line.p[0] != ' ')
		return 0;
	return SX_SSDP_RESPONSE;
}

static void put(char *dst, size_t dstsz, struct sx_cursor v)
{
	while (v.p < v.end && (v.p[0] == ' ' || v.p[0] == '\t'))
		v.p++;
	while (v.end > v.p && (v.end[-1] == ' ' || v.end[-1] == '\t'))
		v.end--;
	sx_text_escape(dst, dstsz, v.p, sx_cur_left(&v), NULL);
}

/*
 * Header fields, as in HTTP/1.1:
 *
 *   NAME ":" OWS value OWS CRLF   ...   CRLF
 */
bool sx_app_ssdp(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_ssdp *s = &pkt->app.ssdp;
	struct sx_cursor c = sx_cur(p, n);
	struct sx_cursor line;
	bool complete;
	uint8_t kind;

	line = sx_cur_line(&c, &complete);
	kind = start_line(line);
	if (!kind || !complete)
		return false;
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	for (;;) {
		const uint8_t *colon;
		struct sx_cursor name;

		line = sx_cur_line(&c, &complete);
		if (!complete || sx_cur_left(&line) == 0)
			break;
		colon = memchr(line.p, ':', sx_cur_left(&line));
		if (!colon)
			continue;
		name = sx_cur_sub(&line, (size_t)(colon - line.p));
		sx_cur_skip(&line, 1);
		while (name.end > name.p && (name.end[-1] == ' ' || name.end[-1] == '\t'))
			name.end--;
		if ((name_is(name.p, sx_cur_left(&name), "ST") ||
		     name_is(name.p, sx_cur_left(&name), "NT")) &&
		    !s->st[0])
			put(s->st, sizeof(s->st), line);
		else if (name_is(name.p, sx_cur_left(&name), "NTS"))
			put(s->nts, sizeof(s->nts), line);
		else if (name_is(name.p, sx_cur_left(&name), "USN"))
			put(s->usn, sizeof(s->usn), line);
		else if (name_is(name.p, sx_cur_left(&name), "SERVER"))
			put(s->server, sizeof(s->server), line);
	}
	pkt->proto = SX_P_SSDP;
	return true;
}

const char *sx_ssdp_kind_name(uint8_t kind)
{
	switch (kind) {
	case SX_SSDP_MSEARCH:
		return "M-SEARCH";
	case SX_SSDP_NOTIFY:
		return "NOTIFY";
	case SX_SSDP_RESPONSE:
		return "RESPONSE";
	default:
		return "";
	}
}
