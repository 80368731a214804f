/*
 * app_dns.c - DNS (RFC 1035), mDNS (RFC 6762) and LLMNR (RFC 4795).
 *
 * One message per packet: over UDP the whole payload, over TCP the message
 * behind the 2-byte length prefix (only the first message of a segment).
 * The header decides whether the payload is DNS at all; once it is, every
 * question and record that can be read is kept (up to SX_DNS_MAX_Q and
 * SX_DNS_MAX_RR) and anything dropped or unreadable sets dns.cut.
 *
 * Plausibility (so that random bytes on port 53 are not called DNS):
 *   - at least the 12-byte header is captured;
 *   - opcode is QUERY, IQUERY, STATUS, NOTIFY, UPDATE or DSO (not 3, 7..15);
 *   - qdcount <= 64;
 *   - the counts fit in the message's wire length: every question takes at
 *     least 5 bytes and every record at least 11;
 *   - the message says something: some count is non-zero, or it is a
 *     response with a non-zero rcode.
 * A header that passes is DNS even when its records then fail to parse.
 *
 * Names: compression pointers must point strictly below the start of the
 * label run that contains them (so every jump goes backwards and a loop is
 * impossible), at most 32 jumps, at most 255 wire bytes, label types 01 and
 * 10 are refused.  Presentation form per RFC 4343 / RFC 1035 §5.1: the
 * printable bytes 0x20..0x7e as they are (so DNS-SD instance names such as
 * "Living Room" stay readable), except "\." and "\\" for a dot or
 * backslash inside a label; every other byte as "\DDD" in decimal.  Labels
 * are joined by '.', with no trailing dot, and the root name is the empty
 * string "".  Case is kept as on the wire.  A name that does not fit its
 * buffer is cut at a whole escape and sets dns.cut.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "core/text.h"
#include "ingest/cursor.h"
#include "ingest/ingest.h"

#define DNS_HDR_LEN	  12
#define DNS_MAX_QDCOUNT	  64
#define DNS_MAX_JUMPS	  32
#define DNS_MAX_WIRE_NAME 255
#define DNS_MIN_Q_LEN	  5  /* root name + type + class */
#define DNS_MIN_RR_LEN	  11 /* root name + type + class + ttl + rdlength */

enum dns_type {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_PTR = 12,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
};

/* Output side of a name or text being built: a bounded string. */
struct strbuf {
	char *s;
	size_t sz;
	size_t len;
	bool cut;
};

static void sb_init(struct strbuf *b, char *s, size_t sz)
{
	b->s = s;
	b->sz = sz;
	b->len = 0;
	b->cut = false;
	if (sz)
		s[0] = '\0';
}

/* Append a literal (already printable) string, whole or not at all. */
static void sb_puts(struct strbuf *b, const char *t)
{
	size_t n = strlen(t);

	if (b->cut || b->sz == 0 || b->len + n >= b->sz) {
		b->cut = true;
		return;
	}
	memcpy(b->s + b->len, t, n + 1);
	b->len += n;
}

/* Append n bytes, whole or not at all. */
static void sb_putn(struct strbuf *b, const char *t, size_t n)
{
	if (b->cut || b->sz == 0 || b->len + n >= b->sz) {
		b->cut = true;
		return;
	}
	memcpy(b->s + b->len, t, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Append plain bytes, as many as fit (one byte is one whole character). */
static bool sb_plain(struct strbuf *b, const uint8_t *p, size_t n)
{
	size_t room = b->sz > b->len ? b->sz - b->len - 1 : 0;

	if (b->cut || n > room) {
		n = b->cut ? 0 : room;
		b->cut = true;
	}
	if (n) {
		memcpy(b->s + b->len, p, n);
		b->len += n;
		b->s[b->len] = '\0';
	}
	return !b->cut;
}

/* A byte a label shows as it is: printable, not '.' nor '\\'. */
static inline bool label_plain(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '.' && c != '\\';
}

/* label_plain() of every byte value. */
static const uint8_t plain_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Whether a whole label shows as it is (most do): no branch per byte. */
static bool label_all_plain(const uint8_t *p, size_t n)
{
	unsigned ok = 1;
	size_t i;

	for (i = 0; i < n; i++)
		ok &= plain_tab[p[i]];
	return ok;
}

/*
 * Append a label in RFC 4343 presentation form: printable bytes as they
 * are, '.' and '\\' escaped with a backslash, others as \DDD.  Runs of
 * plain bytes are copied at once.
 */
static void sb_label(struct strbuf *b, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && !b->cut) {
		size_t run = i;
		char esc[5];
		uint8_t c;

		while (run < n && label_plain(p[run]))
			run++;
		if (run > i && !sb_plain(b, p + i, run - i))
			break;
		if (run == n)
			break;
		c = p[run];
		if (c == '.' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_putn(b, esc, 2);
		} else {
			esc[0] = '\\';
			esc[1] = (char)('0' + c / 100);
			esc[2] = (char)('0' + c / 10 % 10);
			esc[3] = (char)('0' + c % 10);
			sb_putn(b, esc, 4);
		}
		i = run + 1;
	}
}

/* Escaped untrusted bytes (core/text.h form), cutting at a whole escape. */
static void sb_text(struct strbuf *b, const uint8_t *p, size_t n)
{
	size_t before = b->len;

	if (n == 0)
		return;
	if (b->cut || b->sz == 0) {
		b->cut = true;
		return;
	}
	sx_text_append(b->s, b->sz, &b->len, p, n);
	/* sx_text_append() stops only when an escape (at most 4 bytes) does not
	 * fit: with room for one left, it wrote everything. */
	if (b->sz - 1 - b->len < 4 && b->len - before < sx_text_escaped_len(p, n))
		b->cut = true;
}

/*
 * A name at offset off of msg[0..len):
 *
 *   +--+--+--+--+--+--+--+--+
 *   | 0  0|  length (1..63) |  label of that many bytes follows
 *   | 1  1|  offset (14 bits) ... |  pointer: the rest of the name is there
 *   | 0  0  0  0  0  0  0  0|  root: end of the name
 *   +--+--+--+--+--+--+--+--+
 *
 * Returns the offset just past the name where it started (after the first
 * pointer, if any), or -1.  Writes the presentation form into out (may be
 * NULL when outsz is 0) and sets *cut when it did not fit.
 */
static long decode_name_j(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz,
			  bool *cut, unsigned *njumps)
{
	struct strbuf sb;
	size_t pos = off;
	size_t limit = off; /* a pointer must point below this */
	long end = -1;
	unsigned jumps = 0;
	size_t wire = 0;
	bool first = true;

	sb_init(&sb, out, outsz);
	for (;;) {
		struct sx_cursor c;
		struct sx_cursor lab;
		uint8_t b;

		if (pos >= len)
			return -1;
		c = sx_cur(msg + pos, len - pos);
		b = sx_cur_u8(&c);
		if ((b & 0xc0) == 0xc0) {
			size_t target = (size_t)(b & 0x3f) << 8 | sx_cur_u8(&c);

			if (c.bad)
				return -1;
			if (end < 0)
				end = (long)(pos + 2);
			if (target >= limit || ++jumps > DNS_MAX_JUMPS)
				return -1;
			limit = target;
			pos = target;
			continue;
		}
		if (b & 0xc0)
			return -1; /* extended (01) or reserved (10) label type */
		wire += (size_t)b + 1;
		if (wire > DNS_MAX_WIRE_NAME)
			return -1;
		if (b == 0) {
			if (end < 0)
				end = (long)(pos + 1);
			break;
		}
		lab = sx_cur_sub(&c, b);
		if (c.bad)
			return -1;
		if (!sb.cut && sb.len + 1 + b < sb.sz && label_all_plain(lab.p, b)) {
			/* what sb_putn() and sb_label() would write, at once */
			if (!first)
				sb.s[sb.len++] = '.';
			memcpy(sb.s + sb.len, lab.p, b);
			sb.len += b;
			sb.s[sb.len] = '\0';
		} else {
			if (!first)
				sb_putn(&sb, ".", 1);
			sb_label(&sb, lab.p, b);
		}
		first = false;
		pos += 1 + (size_t)b;
	}
	if (cut && sb.cut)
		*cut = true;
	*njumps = jumps;
	return end;
}

static long decode_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz,
			bool *cut)
{
	unsigned jumps;

	return decode_name_j(msg, len, off, out, outsz, cut, &jumps);
}

/*
 * The names of one message already decoded whole, by where they start.  A
 * name that is only a pointer to one of them (mDNS answers name their owner
 * so, over and over) is that name's text: the same bytes that decoding would
 * give, since the walk from the pointer's target is the same walk with one
 * jump more (an entry at DNS_MAX_JUMPS is not used).  Kept only for names
 * decoded whole into SX_NAME_MAX bytes, at the message's length or a
 * record's, shorter (a walk that stayed inside less stays inside more);
 * used only at the message's length.  The texts are the packet's own
 * buffers, written once per message.
 */
#define NAME_MEMO_MAX (SX_DNS_MAX_Q + 2 * SX_DNS_MAX_RR)
SX_STATIC_ASSERT(sizeof(((struct sx_dns_q *)0)->name) == SX_NAME_MAX &&
		     sizeof(((struct sx_dns_rr *)0)->name) == SX_NAME_MAX &&
		     sizeof(((struct sx_dns_rr *)0)->data) == SX_NAME_MAX,
		 "memo_name() decodes into SX_NAME_MAX bytes");

struct name_memo {
	unsigned n;
	struct {
		size_t off;
		unsigned jumps;
		const char *text;
	} e[NAME_MEMO_MAX];
};

static void memo_add(struct name_memo *m, size_t off, unsigned jumps, const char *text)
{
	if (m->n < NAME_MEMO_MAX) {
		m->e[m->n].off = off;
		m->e[m->n].jumps = jumps;
		m->e[m->n].text = text;
		m->n++;
	}
}

/* decode_name() of a name at the message's length into out[SX_NAME_MAX]. */
static long memo_name(struct name_memo *m, const uint8_t *msg, size_t len, size_t off, char *out,
		      bool *cut)
{
	struct sx_cursor c;
	bool mine = false;
	unsigned jumps;
	long end;

	if (off < len) {
		uint8_t b;
		size_t target;
		unsigned i;

		c = sx_cur(msg + off, len - off);
		b = sx_cur_u8(&c);
		target = (size_t)(b & 0x3f) << 8 | sx_cur_u8(&c);
		for (i = m->n; !c.bad && (b & 0xc0) == 0xc0 && target < off && i-- > 0;) {
			if (m->e[i].off != target)
				continue;
			if (m->e[i].jumps >= DNS_MAX_JUMPS)
				break;
			memcpy(out, m->e[i].text, strlen(m->e[i].text) + 1);
			memo_add(m, off, m->e[i].jumps + 1, out);
			return (long)(off + 2);
		}
	}
	end = decode_name_j(msg, len, off, out, SX_NAME_MAX, &mine, &jumps);
	if (mine && cut)
		*cut = true;
	if (end >= 0 && !mine)
		memo_add(m, off, jumps, out);
	return end;
}

long sx_dns_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz)
{
	return decode_name(msg, len, off, out, outsz, NULL);
}

/* "%u " of v at p, without printf (SRV records fill mDNS); returns the end. */
static char *put_u16_sp(char *p, uint16_t v)
{
	char t[5];
	unsigned i = 0;

	do {
		t[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		*p++ = t[--i];
	*p++ = ' ';
	return p;
}

/* Bytes the payload has on the wire when p is the packet's payload. */
static size_t wire_len(const struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	if (p == pkt->payload && pkt->payload_len > n)
		return pkt->payload_len;
	return n;
}

/*
 * Record data, rd[0..rdlen) at offset rdoff of the message (names inside it
 * may point back into the message, but must end inside the record).
 */
static void decode_rdata(struct sx_dns *d, struct name_memo *m, struct sx_dns_rr *rr,
			 const uint8_t *msg, size_t rdoff, size_t rdlen)
{
	struct sx_cursor c = sx_cur(msg + rdoff, rdlen);
	struct strbuf sb;
	size_t rdend = rdoff + rdlen;
	bool cut = false;
	char num[32];

	sb_init(&sb, rr->data, sizeof(rr->data));
	switch (rr->type) {
	case T_A:
	case T_AAAA: {
		size_t alen = rr->type == T_A ? 4 : 16;

		if (rdlen != alen)
			break;
		rr->addr.family = rr->type == T_A ? 4 : 6;
		sx_cur_copy(&c, rr->addr.b, alen);
		sx_addr_str(&rr->addr, rr->data, sizeof(rr->data));
		break;
	}
	case T_NS:
	case T_CNAME:
	case T_PTR: {
		bool ncut = false;
		unsigned jumps;

		if (decode_name_j(msg, rdend, rdoff, rr->data, sizeof(rr->data), &ncut, &jumps) < 0)
			rr->data[0] = '\0';
		else if (!ncut)
			memo_add(m, rdoff, jumps, rr->data);
		if (ncut)
			cut = true;
		break;
	}
	case T_SRV: {
		uint16_t prio = sx_cur_be16(&c);
		uint16_t weight = sx_cur_be16(&c);
		uint16_t port = sx_cur_be16(&c);
		char target[SX_NAME_MAX];

		if (c.bad)
			break;
		if (decode_name(msg, rdend, rdoff + 6, target, sizeof(target), &cut) < 0)
			break;
		*put_u16_sp(put_u16_sp(put_u16_sp(num, prio), weight), port) = '\0';
		sb_puts(&sb, num);
		sb_puts(&sb, target);
		if (sb.cut)
			cut = true;
		break;
	}
	case T_TXT: {
		bool first = true;

		/* <character-string>*: a length byte, then that many bytes */
		while (sx_cur_left(&c) > 0) {
			uint8_t l = sx_cur_u8(&c);
			struct sx_cursor s = sx_cur_sub(&c, l);

			if (c.bad)
				break;
			if (!first)
				sb_puts(&sb, " ");
			first = false;
			sb_text(&sb, s.p, sx_cur_left(&s));
		}
		if (sb.cut)
			cut = true;
		break;
	}
	default:
		break;
	}
	if (cut)
		d->cut = true;
}

/*
 * A resource record at *pos:
 *
 *   name | TYPE (16) | CLASS (16) | TTL (32) | RDLENGTH (16) | RDATA
 *
 * Fills rr; returns false when the record cannot be read (rr is then not
 * kept).  A record whose data is cut by the capture is kept, data empty.
 */
static bool decode_rr(struct sx_dns *d, struct name_memo *m, struct sx_dns_rr *rr, uint8_t section,
		      const uint8_t *msg, size_t len, size_t *pos)
{
	struct sx_cursor c;
	long end;
	uint16_t rdlen;

	end = memo_name(m, msg, len, *pos, rr->name, &d->cut);
	if (end < 0)
		return false;
	c = sx_cur(msg + end, len - (size_t)end);
	rr->section = section;
	rr->type = sx_cur_be16(&c);
	sx_cur_be16(&c); /* class (mDNS: cache-flush bit on top) */
	rr->ttl = sx_cur_be32(&c);
	rdlen = sx_cur_be16(&c);
	if (c.bad)
		return false;
	rr->data[0] = '\0';
	memset(&rr->addr, 0, sizeof(rr->addr));
	*pos = (size_t)end + 10;
	if (!sx_cur_has(&c, rdlen)) {
		d->cut = true;
		*pos = len;
		return true; /* kept, but parsing stops: the data is not here */
	}
	decode_rdata(d, m, rr, msg, *pos, rdlen);
	*pos += rdlen;
	return true;
}

static bool plausible(const struct sx_dns *d, size_t wire)
{
	uint32_t need;

	if (d->opcode == 3 || d->opcode > 6)
		return false;
	if (d->qdcount > DNS_MAX_QDCOUNT)
		return false;
	need = (uint32_t)d->qdcount * DNS_MIN_Q_LEN +
	       ((uint32_t)d->ancount + d->nscount + d->arcount) * DNS_MIN_RR_LEN;
	if (need > wire - DNS_HDR_LEN)
		return false;
	if (!d->qdcount && !d->ancount && !d->nscount && !d->arcount && !(d->qr && d->rcode))
		return false;
	return true;
}

/*
 * The question section (name QTYPE QCLASS, all walked, the first
 * SX_DNS_MAX_Q kept), then the answer, authority and additional records
 * (the first SX_DNS_MAX_RR kept).  False when parsing stopped early.
 */
static bool decode_sections(struct sx_dns *d, const uint8_t *msg, size_t len, enum sx_proto kind)
{
	const uint16_t counts[3] = {d->ancount, d->nscount, d->arcount};
	size_t pos = DNS_HDR_LEN;
	struct name_memo m;
	unsigned i;
	unsigned s;

	m.n = 0;
	for (i = 0; i < d->qdcount; i++) {
		struct sx_dns_q *q = d->nq < SX_DNS_MAX_Q ? &d->q[d->nq] : NULL;
		struct sx_cursor c;
		long end;
		uint16_t qtype;
		uint16_t qclass;

		if (q)
			end = memo_name(&m, msg, len, pos, q->name, &d->cut);
		else
			end = decode_name(msg, len, pos, NULL, 0, NULL);
		if (end < 0)
			return false;
		c = sx_cur(msg + end, len - (size_t)end);
		qtype = sx_cur_be16(&c);
		qclass = sx_cur_be16(&c);
		if (c.bad)
			return false;
		pos = (size_t)end + 4;
		if (!q) {
			d->cut = true; /* walked, not kept */
			continue;
		}
		q->qtype = qtype;
		q->qclass = kind == SX_P_MDNS ? (qclass & 0x7fff) : qclass;
		d->nq++;
	}
	for (s = SX_DNS_AN; s <= SX_DNS_AR; s++) {
		for (i = 0; i < counts[s - SX_DNS_AN]; i++) {
			if (d->nrr >= SX_DNS_MAX_RR || pos >= len)
				return false;
			if (!decode_rr(d, &m, &d->rr[d->nrr], (uint8_t)s, msg, len, &pos))
				return false;
			d->nrr++;
		}
	}
	return true;
}

/*
 * RFC 1035 §4.1.1 header, then the sections:
 *
 *   0                   1
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |              ID               |
 *  |QR| Opcode |AA|TC|RD|RA| Z|AD|CD| RCODE |
 *  |           QDCOUNT             |
 *  |           ANCOUNT             |
 *  |           NSCOUNT             |
 *  |           ARCOUNT             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | question: name QTYPE QCLASS   | x QDCOUNT
 *  | answer / authority / additional records
 *
 * Over TCP (RFC 1035 §4.2.2, RFC 7766) a 16-bit length precedes it.
 */
bool sx_app_dns(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool over_tcp, enum sx_proto kind)
{
	struct sx_dns *d = &pkt->app.dns;
	struct sx_cursor c = sx_cur(p, n);
	const uint8_t *msg;
	size_t len;
	size_t wire;

	if (over_tcp) {
		uint16_t mlen = sx_cur_be16(&c);

		if (c.bad || mlen < DNS_HDR_LEN)
			return false;
		wire = mlen;
		if (sx_cur_left(&c) > mlen)
			c.end = c.p + mlen;
	} else {
		wire = wire_len(pkt, p, n);
	}
	msg = c.p;
	len = sx_cur_left(&c);
	if (len < DNS_HDR_LEN || wire < DNS_HDR_LEN)
		return false;

	d->id = sx_cur_be16(&c);
	d->flags = sx_cur_be16(&c);
	d->qdcount = sx_cur_be16(&c);
	d->ancount = sx_cur_be16(&c);
	d->nscount = sx_cur_be16(&c);
	d->arcount = sx_cur_be16(&c);
	d->qr = d->flags >> 15;
	d->opcode = (d->flags >> 11) & 0xf;
	d->rcode = d->flags & 0xf;
	if (!plausible(d, wire))
		return false;
	d->nq = 0;
	d->nrr = 0;
	d->cut = false;
	if (!decode_sections(d, msg, len, kind))
		d->cut = true;
	pkt->proto = (uint8_t)kind;
	return true;
}

/* In ascending order of type (sx_dns_type_name() halves it). */
static const struct {
	uint16_t type;
	const char *name;
} dns_types[] = {
    {1, "A"},		{2, "NS"},	    {3, "MD"},	      {4, "MF"},      {5, "CNAME"},
    {6, "SOA"},		{7, "MB"},	    {8, "MG"},	      {9, "MR"},      {10, "NULL"},
    {11, "WKS"},	{12, "PTR"},	    {13, "HINFO"},    {14, "MINFO"},  {15, "MX"},
    {16, "TXT"},	{17, "RP"},	    {18, "AFSDB"},    {19, "X25"},    {20, "ISDN"},
    {21, "RT"},		{22, "NSAP"},	    {23, "NSAP-PTR"}, {24, "SIG"},    {25, "KEY"},
    {26, "PX"},		{27, "GPOS"},	    {28, "AAAA"},     {29, "LOC"},    {30, "NXT"},
    {33, "SRV"},	{35, "NAPTR"},	    {36, "KX"},	      {37, "CERT"},   {39, "DNAME"},
    {41, "OPT"},	{42, "APL"},	    {43, "DS"},	      {44, "SSHFP"},  {45, "IPSECKEY"},
    {46, "RRSIG"},	{47, "NSEC"},	    {48, "DNSKEY"},   {49, "DHCID"},  {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},	    {53, "SMIMEA"},   {55, "HIP"},    {59, "CDS"},
    {60, "CDNSKEY"},	{61, "OPENPGPKEY"}, {62, "CSYNC"},    {63, "ZONEMD"}, {64, "SVCB"},
    {65, "HTTPS"},	{99, "SPF"},	    {108, "EUI48"},   {109, "EUI64"}, {249, "TKEY"},
    {250, "TSIG"},	{251, "IXFR"},	    {252, "AXFR"},    {253, "MAILB"}, {254, "MAILA"},
    {255, "ANY"},	{256, "URI"},	    {257, "CAA"},     {32768, "TA"},  {32769, "DLV"},
};

/* dns_types is in ascending order of type: found by halving (every DNS
 * question and record of a flow's attributes asks). */
const char *sx_dns_type_name(uint16_t type, char *buf, size_t bufsz)
{
	size_t lo = 0, hi = SX_ARRAY_SIZE(dns_types);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dns_types[mid].type == type)
			return dns_types[mid].name;
		if (dns_types[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (bufsz)
		snprintf(buf, bufsz, "TYPE%u", type);
	return buf;
}
