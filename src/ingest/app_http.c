/*
 * app_http.c - HTTP/1.x start line and Host header (RFC 9112).
 *
 * TCP only (sx_app_http() refuses a UDP packet: HTTPU is SSDP's business).
 * A payload is HTTP when it starts with either
 *   - a request line: a known method (GET HEAD POST PUT DELETE CONNECT
 *     OPTIONS TRACE PATCH, and NOTIFY M-SEARCH SUBSCRIBE UNSUBSCRIBE for
 *     UPnP/GENA over TCP), SP, a non-empty request-target, SP, "HTTP/1."
 *     and a digit, then the end of the line; or
 *   - a status line: "HTTP/1." digit SP three digits (100..599), then SP or
 *     the end of the line.
 * A request line cut by the end of the captured bytes is accepted once the
 * method and SP were seen (some clients send "POST " in a segment of its
 * own) and whatever follows the target is the start of "HTTP/1.x";
 * http.cut is set when the target itself is cut.
 * A status line must be seen up to the SP or line end after its code.  Header lines
 * end in LF (CR before it optional); the first Host header (name matched
 * case-insensitively) is kept, trimmed, escaped and lower-cased.  The
 * request-target is split at the first '?' into path and query, both
 * escaped; any value cut at its buffer sets http.cut.
 *
 * Continuation segments: a client may send its header section in several
 * segments (a Fitbit scale sends "Host: ..." alone after the request line).
 * Without reassembly, a TCP payload whose first line is a complete header
 * field with one of the common request header names below is taken as the
 * continuation of a request: http.continuation is set, the method is empty,
 * and a Host field in it is kept as usual.  Binary data never starts with
 * such a line, so this does not misfire on bodies.
 *
 * sx_http_fw_read() is the other reading of a payload: the smart-home
 * firewall's (ingest.h), by first letters, which the profile's http
 * policies must match and sigex verify replays.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <string.h>

#include "core/compiler.h"
#include "core/text.h"
#include "ingest/cursor.h"
#include "ingest/ingest.h"

/* Request header names that can open a continuation segment. */
static const char *const request_headers[] = {
    "host",	     "user-agent",	 "accept",	   "accept-encoding", "accept-language",
    "connection",    "content-type",	 "content-length", "cookie",	      "authorization",
    "cache-control", "x-requested-with", "referer",	   "origin",	      "upgrade",
};

static const char *const methods[] = {
    "GET",   "HEAD",  "POST",	"PUT",	    "DELETE",	 "CONNECT",	"OPTIONS",
    "TRACE", "PATCH", "NOTIFY", "M-SEARCH", "SUBSCRIBE", "UNSUBSCRIBE",
};

/* Split off the bytes of line up to the first byte sep (not included). */
static struct sx_cursor take_until(struct sx_cursor *line, uint8_t sep, bool *found)
{
	size_t left = sx_cur_left(line);
	const uint8_t *q = left ? memchr(line->p, sep, left) : NULL;
	struct sx_cursor tok;

	*found = q != NULL;
	tok = sx_cur_sub(line, q ? (size_t)(q - line->p) : left);
	if (q)
		sx_cur_skip(line, 1);
	return tok;
}

static bool tok_is(const struct sx_cursor *t, const char *s)
{
	size_t n = strlen(s);

	return sx_cur_left(t) == n && memcmp(t->p, s, n) == 0;
}

static bool tok_is_nocase(const struct sx_cursor *t, const char *s)
{
	size_t n = strlen(s);
	size_t i;

	if (sx_cur_left(t) != n)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t ch = t->p[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch - 'A' + 'a');
		if (ch != (uint8_t)s[i])
			return false;
	}
	return true;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/1." DIGIT, exactly. */
static bool is_version(const struct sx_cursor *t)
{
	return sx_cur_left(t) == 8 && memcmp(t->p, "HTTP/1.", 7) == 0 && is_digit(t->p[7]);
}

/* The start of "HTTP/1." DIGIT, for a line cut by the end of the data. */
static bool is_version_prefix(const struct sx_cursor *t)
{
	size_t n = sx_cur_left(t);

	if (n >= 8)
		return is_version(t);
	return n == 0 || memcmp(t->p, "HTTP/1.", n) == 0;
}

static void trim(struct sx_cursor *t)
{
	while (t->p < t->end && (t->p[0] == ' ' || t->p[0] == '\t'))
		t->p++;
	while (t->end > t->p && (t->end[-1] == ' ' || t->end[-1] == '\t'))
		t->end--;
}

static void put(char *dst, size_t dstsz, const struct sx_cursor *v, bool *cut)
{
	bool trunc = false;

	sx_text_escape(dst, dstsz, v->p, sx_cur_left(v), &trunc);
	if (trunc)
		*cut = true;
}

/*
 * Request line and status line (RFC 9112 §3, §4):
 *
 *   method SP request-target SP HTTP-version CRLF
 *   HTTP-version SP status-code SP [ reason-phrase ] CRLF
 */
static bool start_line(struct sx_http *h, struct sx_cursor line, bool complete)
{
	struct sx_cursor tok;
	struct sx_cursor target;
	bool found;
	size_t i;

	tok = take_until(&line, ' ', &found);
	if (!found)
		return false;
	if (is_version(&tok)) {
		struct sx_cursor code = take_until(&line, ' ', &found);

		if (sx_cur_left(&code) != 3 || code.p[0] < '1' || code.p[0] > '5' ||
		    !is_digit(code.p[1]) || !is_digit(code.p[2]))
			return false;
		if (!found && !complete)
			return false; /* "HTTP/1.1 2000..." cut: cannot tell */
		h->response = true;
		h->status = (uint16_t)((code.p[0] - '0') * 100 + (code.p[1] - '0') * 10 +
				       (code.p[2] - '0'));
		return true;
	}
	for (i = 0; i < SX_ARRAY_SIZE(methods); i++)
		if (tok_is(&tok, methods[i]))
			break;
	if (i == SX_ARRAY_SIZE(methods))
		return false;
	target = take_until(&line, ' ', &found);
	if (sx_cur_left(&target) == 0 && (found || complete))
		return false;
	if (found) {
		if (!is_version(&line) && (complete || !is_version_prefix(&line)))
			return false;
	} else if (complete) {
		return false; /* no HTTP-version: HTTP/0.9 or not HTTP */
	} else {
		h->cut = true; /* the line goes on past the captured bytes */
	}
	memcpy(h->method, methods[i], strlen(methods[i]) + 1);
	tok = take_until(&target, '?', &found);
	put(h->path, sizeof(h->path), &tok, &h->cut);
	if (found)
		put(h->query, sizeof(h->query), &target, &h->cut);
	return true;
}

/* A complete "name: value" line whose name is a common request header. */
static bool continuation_line(struct sx_cursor line, bool complete)
{
	struct sx_cursor name;
	bool found;
	size_t i;

	if (!complete)
		return false;
	name = take_until(&line, ':', &found);
	if (!found || sx_cur_left(&name) == 0 || name.p[0] == ' ' || name.end[-1] == ' ')
		return false;
	for (i = 0; i < SX_ARRAY_SIZE(request_headers); i++)
		if (tok_is_nocase(&name, request_headers[i]))
			return true;
	return false;
}

/*
 * Header fields (RFC 9112 §5):
 *
 *   field-name ":" OWS field-value OWS CRLF   ...   CRLF
 */
bool sx_app_http(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_http *h = &pkt->app.http;
	struct sx_cursor c = sx_cur(p, n);
	struct sx_cursor line;
	bool complete;

	if (pkt->proto == SX_P_UDP)
		return false;
	memset(h, 0, sizeof(*h));
	line = sx_cur_line(&c, &complete);
	if (continuation_line(line, complete)) {
		h->continuation = true;
		c = sx_cur(p, n); /* parse the first line as a field too */
	} else if (!start_line(h, line, complete)) {
		return false;
	}
	while (complete && !h->response) {
		struct sx_cursor name;
		bool found;

		line = sx_cur_line(&c, &complete);
		if (sx_cur_left(&line) == 0)
			break; /* end of the header section */
		if (!complete)
			break; /* a field cut by the capture: not trusted */
		name = take_until(&line, ':', &found);
		trim(&name);
		if (!found || !tok_is_nocase(&name, "host"))
			continue;
		trim(&line);
		put(h->host, sizeof(h->host), &line, &h->cut);
		sx_text_lower(h->host);
		break;
	}
	pkt->proto = SX_P_HTTP;
	return true;
}

/* The firewall's methods by their first letters (parsers/src/http.c:
 * http_parse_method()), in its order: the letters it reads, and the bytes
 * it skips before the URI. */
static const struct {
	char c, c2; /* c2: 0 when the first letter decides */
	uint8_t skip;
	const char *name;
} fw_methods[] = {
    {'G', 0, 4, "GET"},	   {'H', 0, 5, "HEAD"},	   {'P', 'O', 5, "POST"},  {'P', 'U', 4, "PUT"},
    {'D', 0, 7, "DELETE"}, {'C', 0, 8, "CONNECT"}, {'O', 0, 8, "OPTIONS"}, {'T', 0, 6, "TRACE"},
};

/* HTTP_MESSAGE_MIN_LEN of the firewall's callback. */
#define FW_HTTP_MIN_LEN 16u

int sx_http_fw_read(const uint8_t *d, size_t cap, uint32_t len, char *uri, size_t urisz)
{
	size_t i, k = 0, at;

	if (urisz)
		uri[0] = '\0';
	if (len < FW_HTTP_MIN_LEN || cap < 1)
		return 0;
	for (i = 0; i < SX_ARRAY_SIZE(fw_methods); i++) {
		if (d[0] != fw_methods[i].c)
			continue;
		if (fw_methods[i].c2 && (cap < 2 || d[1] != fw_methods[i].c2))
			continue;
		break;
	}
	if (i == SX_ARRAY_SIZE(fw_methods))
		return 0;
	for (at = fw_methods[i].skip; at < cap && d[at] != ' ' && k + 1 < urisz; at++)
		uri[k++] = (char)d[at];
	if (urisz)
		uri[k] = '\0';
	return (int)i + 1;
}

const char *sx_http_fw_method_name(int method)
{
	return method >= 1 && (size_t)method <= SX_ARRAY_SIZE(fw_methods)
		   ? fw_methods[method - 1].name
		   : "";
}
