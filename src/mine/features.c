/*
 * features.c - a flow as a hashed feature vector.
 *
 * DESIGN
 *
 * Every flow becomes a bag of string tokens in eight families.  Tokens are
 * hashed with seeded XXH3 (64 bits) into a space of 2^dim_bits dimensions:
 * the low dim_bits bits give the dimension and the top bit the sign (signed
 * feature hashing, Weinberger et al. 2009, so that colliding tokens cancel
 * on average instead of adding up).  The vector is stored sparse (sorted
 * index/value pairs): a flow has at most a few hundred tokens.
 *
 * Each family's sub-vector is scaled to a fixed L2 norm, the square root of
 * its SHARE below, so the cosine of two flows is (up to collisions) the
 * share-weighted mean of the per-family cosines over the families both
 * have; a family a flow lacks (no payload) drops out of its norm instead of
 * counting as a disagreement.  Within a family, a token's raw weight says
 * how much it identifies the flow (repeated tokens, e.g. a length bigram
 * seen three times, add up).
 *
 *   family   share  tokens (raw weight)
 *   SERVICE  0.14   IP protocol (1); the server's port (2) or "no service"
 *                   (1); the client's port when it is a well-known or IoT
 *                   service port, e.g. DHCP 68 or mDNS 5353 (1); for an ARP
 *                   flow (no IP protocol, no ports) its operation (2), so
 *                   that a request and a reply between the same hosts stay
 *                   apart (their APP tokens differ as well)
 *   SERVER   0.14   the server end (host tokens, below); for a name lookup
 *                   (DNS, mDNS, LLMNR question) the names asked for as
 *                   name tokens, and the resolver at half weight: what a
 *                   lookup is about is the name, the resolver is the same
 *                   for all of them
 *   CLIENT   0.04   the client end (host tokens)
 *   APP      0.40   each identifying application attribute of the flow
 *                   stage, key=value (2), and generalised forms that let
 *                   near values agree: for a DNS question its type with the
 *                   name's registrable domain (1), with the name's shape (1),
 *                   and the type alone (0.5); for HTTP the method (0.5), the
 *                   first path segment (1) and the shape (1); CoAP type and
 *                   code (0.5) and shape (1); SSDP kind (0.5); TLS SNI domain
 *                   (1) and shape (1); MQTT type (0.5).  Secondary attributes
 *                   (dhcp.hostname, dhcp.vendor, tls.alpn, http.status,
 *                   ssdp.server, *.rcode) count 1.  A flow without any
 *                   identifying attribute (plain TCP or UDP, a TLS session
 *                   whose ClientHello was not captured) gets the server's
 *                   host tokens here instead: then what it talks to is what
 *                   identifies it
 *   SHAPE    0.04   highest protocol seen (1); which end initiated (1)
 *   VOLUME   0.11   packets and bytes sent by each end, log-binned twice on
 *                   grids shifted by half a bin (bin = factor sqrt 2), so that
 *                   close values share at least one of the two tokens (1 each)
 *   SEQ      0.10   signed payload lengths of the first 32 payload packets
 *                   (+ client to server), quantised (8-byte steps below 128
 *                   bytes, ~9 % steps above): the first one (1), and every
 *                   unigram, bigram and trigram (1 per occurrence)
 *   TIME     0.03   start offset from the occurrence start, log2-binned
 *                   from 1/8 s, on two shifted grids (1 each)
 *
 * Host tokens of an end: a resolved name (2), its registrable domain (1.5)
 * and its shape (1), plus the address (0.5); an unnamed end: the address
 * (2) and its /24 (IPv4) or /48 (IPv6) prefix (1); always the address scope
 * (0.5) and the mDNS name when there is one (1).  See domains.c.  Ephemeral
 * ports are never tokens, so a new client port changes nothing.
 *
 * Why these shares.  The match must follow the service, not the noise:
 * what a flow talks to and about (service, server, application: 0.72 of the
 * norm) decides, while sizes, sequences and timing (0.24) separate different
 * exchanges with one service (a TLS session from the tail of the previous
 * one) without splitting jittered copies of one exchange (TLS of 9415, 9416
 * and 9480 bytes share their volume bins and most length n-grams; cosine
 * 0.95-0.99).  The client weighs little: it is usually the device itself,
 * the same for every flow.  Timing weighs least: it varies between
 * occurrences (setups of variable length) and means nothing against
 * background captures.  Measured on every pair of flows of the same IP
 * protocol from different captures of one device in ../shared/corpora (IoT
 * Sentinel setups, the reference TP-Link captures, the synthetic corpora;
 * 4.2 M pairs), with "same service" taken strictly as equal service port,
 * server host and identifying attributes: 99.96 % of the 0.89 M such pairs
 * have a cosine >= 0.65, most >= 0.85.  Of the other pairs 8.5 % reach 0.6,
 * and they are nearly all one service under another spelling: Hue API
 * requests that differ only by a user token in the path (144 k pairs), NTP
 * to different servers (123 k), DNS questions that overlap or name
 * replicas (6 k), TLS to replicas such as r0801 and r0802.dch.dlink.com
 * (1.7 k).  Two DNS questions for different names to one resolver fall to
 * about 0.5 even when their packets have the same lengths; before the
 * lookup names were made the SERVER identity, bridge.meethue.com and
 * dcp.cpp.philips.com reached 0.71.  Two TLS sessions to different names on
 * port 443 without an SNI reach about 0.45.  Hence the threshold 0.6
 * (cluster.c), in the valley between the two populations.
 *
 * Determinism.  A flow's vector depends on the seed only through where its
 * entries land: values are computed from the token multiset in token order
 * and rounded to integers (scale 2^14 for a unit norm) before hashing, and
 * dot products are exact integer sums.  With 2^32 dimensions a run with V
 * distinct tokens expects V^2 / 2^33 colliding pairs (1e-3 for 3000), and a
 * collision between two tokens moves a cosine by ~1e-3 at most; so no
 * decision, and no output byte, depends on the seed in practice (tests
 * check this with several seeds).  The dimension is configurable down to
 * 2^8 for the tests that exercise collisions.
 *
 * Cost.  A device's flows repeat (the same query, the same announcement,
 * occurrence after occurrence), and most of a flow's cost is making its
 * tokens.  Families are scaled apart, so a vector is the sum of its
 * families' entries.  The scratch keeps the entries of two parts of a
 * flow apart, each under the part's key (every field its tokens read, as
 * they read it): what the flow is (SERVICE, SERVER, CLIENT, APP, SHAPE:
 * ends, ports, protocols, strings) and its numbers (VOLUME, SEQ: bins,
 * quantised lengths), up to MEMO_MAX bytes.  A flow takes the entries of a
 * part whose key was seen, makes the others, and adds its own TIME
 * entries, the one family whose tokens (its start offset) most often
 * differ between copies of a flow.  Over the 23 IoT Sentinel devices 88 %
 * of the flows find their first part, 89 % their second (78 % both, with
 * one key for the two); 59 % have the TIME bins of an earlier flow with
 * the same parts as well and take its vector whole, arrays included
 * (vectors are read-only).
 *
 * Thread-safe with one scratch per thread; no allocation per token.
 */
#include "mine/mine_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/buf.h"
#include "core/sort.h"
#include "flows/flows.h"
#include "ingest/ingest.h"

#define SCALE	 16384.0	/* value of a unit-norm vector's norm */
#define TOK_MAX	 1024		/* tokens per flow */
#define TEXT_MAX (128u * 1024u) /* token text per flow */

const double sx_mine__family_share[SX_FAM__COUNT] = {
    [SX_FAM_SERVICE] = 0.14, [SX_FAM_SERVER] = 0.14, [SX_FAM_CLIENT] = 0.04, [SX_FAM_APP] = 0.40,
    [SX_FAM_SHAPE] = 0.04,   [SX_FAM_VOLUME] = 0.11, [SX_FAM_SEQ] = 0.10,    [SX_FAM_TIME] = 0.03,
};

const char *sx_mine__family_name(unsigned fam)
{
	static const char *const names[SX_FAM__COUNT] = {"service", "server", "client", "app",
							 "shape",   "volume", "seq",	"time"};

	return fam < SX_FAM__COUNT ? names[fam] : "?";
}

struct tok {
	uint64_t h;
	double w;
	uint32_t text; /* offset in scratch text */
	uint32_t slot; /* its place in the dedupe table */
	uint16_t len;
	uint8_t fam;
};

struct ent {
	uint32_t idx;
	int32_t val;
};

/* The two parts of a flow's vector the memo keeps apart (TIME is made
 * for each flow). */
enum part {
	PART_ID,  /* SERVICE, SERVER, CLIENT, APP, SHAPE */
	PART_NUM, /* VOLUME, SEQ */
	PART__COUNT,
};

/* What the memo keeps of a part of a flow: its key, then the entries of
 * its tokens. */
struct memo_rec {
	size_t klen; /* key bytes after the record */
	size_t n;    /* struct ent after the key */
};

/* A whole vector made from the records of its parts and the TIME bins:
 * flows of equal parts and equal bins share it (its arrays too; vectors
 * are read-only). */
struct vmemo_ent {
	size_t rec[PART__COUNT]; /* the records' offsets in store */
	long time[2];
	struct sx_mine_vec vec;
};

/* Payload lengths and packet or byte counts below NUM_CACHE have their
 * numbers (a log2 each) kept by the scratch, biased to leave 0 free. */
#define NUM_CACHE 4096
#define NUM_BIAS  32768

struct sx_mine_fscratch {
	struct tok tok[TOK_MAX];
	size_t ntok;
	uint32_t slot[TOK_MAX * 4]; /* dedupe table: token number + 1, 0 empty */
	char text[TEXT_MAX];
	size_t tlen;
	struct ent ent[TOK_MAX], etmp[TOK_MAX], tent[TOK_MAX], nent[TOK_MAX];
	uint64_t seed;
	struct sx_buf key[PART__COUNT]; /* the current flow's keys */
	struct sx_map memo;  /* of size_t: a record's offset in store, under its key's hash */
	struct sx_buf store; /* struct memo_rec, key, struct ent[]; ... */
	struct sx_map vmemo; /* of struct vmemo_ent, under vmemo_hash() */
	uint16_t qcache[2 * NUM_CACHE]; /* qlen(l) + NUM_BIAS at l + NUM_CACHE; 0: not yet */
	uint16_t vcache[NUM_CACHE][2];	/* the bins of x + 1 (flow_nums()) + NUM_BIAS at x */
};

int sx_mine__fscratch_new(struct sx_mine_fscratch **out)
{
	*out = malloc(sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->ntok = 0;
	memset((*out)->slot, 0, sizeof((*out)->slot));
	memset((*out)->qcache, 0, sizeof((*out)->qcache));
	memset((*out)->vcache, 0, sizeof((*out)->vcache));
	sx_buf_init(&(*out)->key[PART_ID]);
	sx_buf_init(&(*out)->key[PART_NUM]);
	sx_map_init(&(*out)->memo, sizeof(size_t), 256, 50);
	sx_buf_init(&(*out)->store);
	sx_map_init(&(*out)->vmemo, sizeof(struct vmemo_ent), 256, 50);
	return 0;
}

void sx_mine__fscratch_free(struct sx_mine_fscratch *s)
{
	if (!s)
		return;
	sx_buf_fini(&s->key[PART_ID]);
	sx_buf_fini(&s->key[PART_NUM]);
	sx_map_fini(&s->memo);
	sx_buf_fini(&s->store);
	sx_map_fini(&s->vmemo);
	free(s);
}

/* ---- token generation ---- */

struct emit_ctx {
	sx_mine_token_fn fn;
	void *arg;
};

static void tokf(const struct emit_ctx *e, unsigned fam, double w, const char *fmt, ...)
    SX_PRINTF(4, 5);
/* Append n bytes of s to buf[*len] within size (room kept for the NUL). */
static void tok_put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
}

/*
 * vsnprintf() for the conversions the tokens use (%s, %.*s, %u, %ld, %02x,
 * %%), with vsnprintf's result: the same text, truncated alike.  Every flow
 * formats a few dozen tokens, and glibc's vsnprintf was a fifth of the
 * miner's instructions.  false at any other conversion (the caller then
 * asks vsnprintf).
 */
static bool tok_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	char num[SX_U64_DIGITS_MAX + 1];
	size_t len = 0;
	const char *s;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			if (len < size - 1)
				buf[len++] = *fmt;
			continue;
		}
		fmt++;
		if (fmt[0] == 's') {
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			tok_put(buf, size, &len, s, strlen(s));
		} else if (fmt[0] == '.' && fmt[1] == '*' && fmt[2] == 's') {
			int prec = va_arg(ap, int);

			s = va_arg(ap, const char *);
			fmt += 2;
			if (!s)
				s = "(null)";
			tok_put(buf, size, &len, s,
				prec < 0 ? strlen(s) : strnlen(s, (size_t)prec));
		} else if (fmt[0] == 'u') {
			unsigned v = va_arg(ap, unsigned);

			tok_put(buf, size, &len, num, (size_t)(sx_u64_put(num, v) - num));
		} else if (fmt[0] == 'l' && fmt[1] == 'd') {
			long v = va_arg(ap, long);

			fmt++;
			if (v < 0)
				tok_put(buf, size, &len, "-", 1);
			tok_put(
			    buf, size, &len, num,
			    (size_t)(sx_u64_put(num, v < 0 ? 0 - (uint64_t)v : (uint64_t)v) - num));
		} else if (fmt[0] == '0' && fmt[1] == '2' && fmt[2] == 'x') {
			static const char hex[] = "0123456789abcdef";
			unsigned v = va_arg(ap, unsigned);
			char h[8];
			int k = 0, d;

			fmt += 2;
			for (d = 28; d >= 0; d -= 4)
				if ((v >> d) & 0xf || d < 8 || k)
					h[k++] = hex[(v >> d) & 0xf];
			tok_put(buf, size, &len, h, (size_t)k);
		} else if (fmt[0] == '%') {
			tok_put(buf, size, &len, "%", 1);
		} else {
			return false;
		}
	}
	buf[len] = '\0';
	return true;
}

static void tokf(const struct emit_ctx *e, unsigned fam, double w, const char *fmt, ...)
{
	char buf[768];
	va_list ap, again;

	va_start(ap, fmt);
	va_copy(again, ap);
	if (!tok_vfmt(buf, sizeof(buf), fmt, ap))
		vsnprintf(buf, sizeof(buf), fmt, again);
	va_end(again);
	va_end(ap);
	e->fn(e->arg, fam, buf, w);
}

/* A name: itself (2), its registrable domain (1.5), its shape (1). */
static void name_tokens(const struct emit_ctx *e, unsigned fam, const char *r, const char *name,
			double mul)
{
	char gen[SX_NAME_MAX];

	tokf(e, fam, 2.0 * mul, "%sn:%s", r, name);
	tokf(e, fam, 1.5 * mul, "%sd:%s", r, sx_mine__reg_domain(name));
	sx_mine__shape(name, gen, sizeof(gen));
	tokf(e, fam, 1.0 * mul, "%sg:%s", r, gen);
}

/* Tokens of an end's identity, raw weights times mul (see the top). */
static void host_tokens(const struct emit_ctx *e, unsigned fam, const char *r,
			const struct sx_mine_ep *ep, double mul)
{
	char addr[64];
	const uint8_t *b = ep->addr.b;

	sx_addr_str(&ep->addr, addr, sizeof(addr));
	if (ep->named) {
		name_tokens(e, fam, r, ep->host, mul);
		tokf(e, fam, 0.5 * mul, "%sa:%s", r, addr);
	} else {
		tokf(e, fam, 2.0 * mul, "%sa:%s", r, addr);
		if (ep->addr.family == 4)
			tokf(e, fam, 1.0 * mul, "%sp:%u.%u.%u", r, b[0], b[1], b[2]);
		else
			tokf(e, fam, 1.0 * mul, "%sp:%02x%02x:%02x%02x:%02x%02x", r, b[0], b[1],
			     b[2], b[3], b[4], b[5]);
	}
	tokf(e, fam, 0.5 * mul, "%ss:%s", r, sx_mine_scope_name(sx_mine__addr_scope(&ep->addr)));
	if (ep->local && ep->local[0])
		tokf(e, fam, 1.0 * mul, "%sl:%s", r, ep->local);
}

static bool key_is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

static bool is_dns_key(const char *key, size_t klen)
{
	return key_is(key, klen, "dns.q") || key_is(key, klen, "mdns.q") ||
	       key_is(key, klen, "llmnr.q") || key_is(key, klen, "dns.rr") ||
	       key_is(key, klen, "mdns.rr") || key_is(key, klen, "llmnr.rr");
}

static bool is_secondary_key(const char *key, size_t klen)
{
	return key_is(key, klen, "dhcp.hostname") || key_is(key, klen, "dhcp.vendor") ||
	       key_is(key, klen, "tls.alpn") || key_is(key, klen, "http.status") ||
	       key_is(key, klen, "ssdp.server") || key_is(key, klen, "dns.rcode") ||
	       key_is(key, klen, "mdns.rcode") || key_is(key, klen, "llmnr.rcode");
}

/* One attribute "key=value" (value escaped as in AppAttributes). */
static void attr_tokens(const struct emit_ctx *e, const char *tok, size_t len)
{
	const char *eq = memchr(tok, '=', len), *val, *colon, *slash;
	char v[SX_FLOW_ATTR_MAX], gen[SX_FLOW_ATTR_MAX], seg[SX_FLOW_ATTR_MAX];
	size_t klen, vlen;
	int kl;

	if (!eq)
		return;
	klen = (size_t)(eq - tok);
	val = eq + 1;
	vlen = len - klen - 1;
	if (vlen >= sizeof(v))
		vlen = sizeof(v) - 1;
	memcpy(v, val, vlen);
	v[vlen] = '\0';
	kl = (int)klen;
	tokf(e, SX_FAM_APP, is_secondary_key(tok, klen) ? 1.0 : 2.0, "A:%.*s=%s", kl, tok, v);
	sx_mine__shape(v, gen, sizeof(gen));
	colon = strchr(v, ':');
	if (is_dns_key(tok, klen) && colon) {
		tokf(e, SX_FAM_APP, 1.0, "A:%.*s~d=%.*s:%s", kl, tok, (int)(colon - v), v,
		     sx_mine__reg_domain(colon + 1));
		tokf(e, SX_FAM_APP, 1.0, "A:%.*s~g=%s", kl, tok, gen);
		tokf(e, SX_FAM_APP, 0.5, "A:%.*s~t=%.*s", kl, tok, (int)(colon - v), v);
	} else if (key_is(tok, klen, "http.req") && colon) {
		tokf(e, SX_FAM_APP, 0.5, "A:http.req~m=%.*s", (int)(colon - v), v);
		slash = strchr(colon + 1, '/');
		if (slash) {
			size_t n = strcspn(slash + 1, "/");

			snprintf(seg, sizeof(seg), "%.*s", (int)n, slash + 1);
			tokf(e, SX_FAM_APP, 1.0, "A:http.req~p=%s", seg);
		}
		tokf(e, SX_FAM_APP, 1.0, "A:http.req~g=%s", gen);
	} else if (key_is(tok, klen, "coap") && colon) {
		const char *c2 = strchr(colon + 1, ':');

		if (c2)
			tokf(e, SX_FAM_APP, 0.5, "A:coap~m=%.*s", (int)(c2 - v), v);
		tokf(e, SX_FAM_APP, 1.0, "A:coap~g=%s", gen);
	} else if (key_is(tok, klen, "ssdp") && colon) {
		tokf(e, SX_FAM_APP, 0.5, "A:ssdp~k=%.*s", (int)(colon - v), v);
	} else if (key_is(tok, klen, "tls.sni")) {
		tokf(e, SX_FAM_APP, 1.0, "A:tls.sni~d=%s", sx_mine__reg_domain(v));
		tokf(e, SX_FAM_APP, 1.0, "A:tls.sni~g=%s", gen);
	} else if (key_is(tok, klen, "mqtt")) {
		tokf(e, SX_FAM_APP, 0.5, "A:mqtt~t=%.*s", colon ? (int)(colon - v) : (int)vlen, v);
	}
}

/*
 * The names a lookup flow asks for (dns.q, mdns.q, llmnr.q values "TYPE:name"):
 * emitted as name tokens when e is not NULL.  Returns how many there are.
 */
static unsigned lookup_names(const char *attrs, const struct emit_ctx *e, const char *r)
{
	char name[SX_FLOW_ATTR_MAX];
	const char *p = attrs, *eq, *colon;
	unsigned n = 0;

	while (*p) {
		size_t len = strcspn(p, " ");

		eq = memchr(p, '=', len);
		if (eq && is_dns_key(p, (size_t)(eq - p)) && (eq - p) >= 2 && eq[-1] == 'q') {
			colon = memchr(eq, ':', len - (size_t)(eq - p));
			if (colon && (size_t)(p + len - colon - 1) < sizeof(name)) {
				memcpy(name, colon + 1, (size_t)(p + len - colon - 1));
				name[p + len - colon - 1] = '\0';
				if (e)
					name_tokens(e, SX_FAM_SERVER, r, name, 1.0);
				n++;
			}
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return n;
}

/*
 * A token of numbers: pre (under 16 bytes), then v[0..n) (n <= 3) in
 * decimal joined by ',', the text tokf(e, fam, w, "%s%ld,%ld...", pre, ...)
 * would give.  Built in place for the most numerous tokens (volume and time
 * bins, payload-length n-grams), which formatting dominated.
 */
static void tok_nums(const struct emit_ctx *e, unsigned fam, double w, const char *pre,
		     const long *v, unsigned n)
{
	char buf[16 + 3 * (SX_U64_DIGITS_MAX + 2)], *p = buf;
	unsigned i;

	for (; *pre; pre++)
		*p++ = *pre;
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		if (v[i] < 0) {
			*p++ = '-';
			p = sx_u64_put(p, 0 - (uint64_t)v[i]);
		} else {
			p = sx_u64_put(p, (uint64_t)v[i]);
		}
	}
	*p = '\0';
	e->fn(e->arg, fam, buf, w);
}

/* x's bins on two shifted log2 grids of resolution 1/res. */
static void log_bins(double x, double res, long bin[2])
{
	double l = log2(x) * res;

	bin[0] = (long)floor(l);
	bin[1] = (long)floor(l + 0.5);
}

/* The tokens "<name>a:<bin[0]>" and "<name>b:<bin[1]>" (name of two
 * letters at most). */
static void bin_tokens(const struct emit_ctx *e, unsigned fam, const char *name, const long bin[2])
{
	char pre[8];
	size_t n = strlen(name);

	memcpy(pre, name, n);
	pre[n + 1] = ':';
	pre[n + 2] = '\0';
	pre[n] = 'a';
	tok_nums(e, fam, 1.0, pre, &bin[0], 1);
	pre[n] = 'b';
	tok_nums(e, fam, 1.0, pre, &bin[1], 1);
}

/* Quantised signed length: 8-byte steps below 128, ~9 % steps above. */
static long qlen(int32_t l)
{
	long a = l < 0 ? -(long)l : l, q;

	q = a < 128 ? a / 8 : 16 + (long)floor(8.0 * log2((double)a / 128.0));
	return l < 0 ? -q - 1 : q;
}

/* A flow's numbers as its tokens read them: volume and time bins,
 * quantised payload lengths. */
struct flow_nums {
	long vol[4][2]; /* packets by the client, by the server; bytes likewise */
	long time[2];
	long q[SX_FLOW_SEQ_MAX];
};

/* qlen(l), from the scratch's cache when there is one. */
static long qlen_of(struct sx_mine_fscratch *s, int32_t l)
{
	uint16_t *c;

	if (!s || l <= -NUM_CACHE || l >= NUM_CACHE)
		return qlen(l);
	c = &s->qcache[l + NUM_CACHE];
	if (!*c)
		*c = (uint16_t)(qlen(l) + NUM_BIAS);
	return (long)*c - NUM_BIAS;
}

/* The volume bins of a count x, from the scratch's cache when there is
 * one. */
static void vol_bins(struct sx_mine_fscratch *s, uint64_t x, long bin[2])
{
	uint16_t *c;

	if (!s || x >= NUM_CACHE) {
		log_bins((double)x + 1, 2.0, bin);
		return;
	}
	c = s->vcache[x];
	if (!c[0]) {
		log_bins((double)x + 1, 2.0, bin);
		c[0] = (uint16_t)(bin[0] + NUM_BIAS);
		c[1] = (uint16_t)(bin[1] + NUM_BIAS);
	}
	bin[0] = (long)c[0] - NUM_BIAS;
	bin[1] = (long)c[1] - NUM_BIAS;
}

/* The flow's numbers; s (may be NULL) caches those of small values. */
static void flow_nums(const struct sx_mine_flow *f, struct flow_nums *nm,
		      struct sx_mine_fscratch *s)
{
	unsigned i;

	vol_bins(s, f->pkts[0], nm->vol[0]);
	vol_bins(s, f->pkts[1], nm->vol[1]);
	vol_bins(s, f->bytes[0], nm->vol[2]);
	vol_bins(s, f->bytes[1], nm->vol[3]);
	log_bins((double)(f->offset_ns > 0 ? f->offset_ns : 0) / 1e9 + 0.125, 1.0, nm->time);
	for (i = 0; i < f->nseq; i++)
		nm->q[i] = qlen_of(s, f->seq_len[i]);
}

/* The TIME family's tokens. */
static void time_tokens(const struct emit_ctx *e, const struct flow_nums *nm)
{
	bin_tokens(e, SX_FAM_TIME, "o", nm->time);
}

/* The tokens of what the flow is: SERVICE, SERVER, CLIENT, APP, SHAPE. */
static void id_tokens(const struct emit_ctx *e, const struct sx_mine_flow *f)
{
	const struct sx_mine_ep *c = &f->ep[SX_MINE_CLIENT], *s = &f->ep[SX_MINE_SERVER];
	const char *p;
	unsigned napp;

	/* SERVICE */
	tokf(e, SX_FAM_SERVICE, 1.0, "t:%u", f->ip_proto);
	if (f->family == SX_FLOW_FAMILY_ARP)
		tokf(e, SX_FAM_SERVICE, 2.0, "arp:%s", f->spec);
	if (f->has_ports) {
		if (f->has_service)
			tokf(e, SX_FAM_SERVICE, 2.0, "sp:%u", s->port);
		else
			tokf(e, SX_FAM_SERVICE, 1.0, "sp:none");
		if (sx_flow_port_is_known(f->ip_proto, c->port))
			tokf(e, SX_FAM_SERVICE, 1.0, "cp:%u", c->port);
	}

	/* SERVER: for a name lookup, the names asked for, the resolver at half
	 * weight; CLIENT */
	if (lookup_names(f->attrs, NULL, NULL)) {
		host_tokens(e, SX_FAM_SERVER, "S", s, 0.5);
		lookup_names(f->attrs, e, "S");
	} else {
		host_tokens(e, SX_FAM_SERVER, "S", s, 1.0);
	}
	host_tokens(e, SX_FAM_CLIENT, "C", c, 1.0);

	/* APP; the server's identity again when the flow carries no
	 * identifying attribute (only secondary ones, or none).  The
	 * firewall's reading of a split request (http.fw) is how the segments
	 * fell on the wire, not what the flow is: no token. */
	napp = 0;
	for (p = f->attrs; *p;) {
		size_t n = strcspn(p, " ");
		const char *eq = n ? memchr(p, '=', n) : NULL;
		size_t klen = eq ? (size_t)(eq - p) : 0;

		if (eq && !key_is(p, klen, "http.fw")) {
			attr_tokens(e, p, n);
			napp += !is_secondary_key(p, klen);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	if (!napp)
		host_tokens(e, SX_FAM_APP, "Ah", s, 1.0);

	/* SHAPE */
	tokf(e, SX_FAM_SHAPE, 1.0, "tp:%s", sx_proto_name((enum sx_proto)f->top_proto));
	tokf(e, SX_FAM_SHAPE, 1.0, "init:%s", sx_mine_role_name(f->initiator));
}

/* The tokens of its numbers: VOLUME, SEQ. */
static void num_tokens(const struct emit_ctx *e, const struct sx_mine_flow *f,
		       const struct flow_nums *nm)
{
	const long *q = nm->q;
	unsigned i;

	/* VOLUME */
	bin_tokens(e, SX_FAM_VOLUME, "pc", nm->vol[0]);
	bin_tokens(e, SX_FAM_VOLUME, "ps", nm->vol[1]);
	bin_tokens(e, SX_FAM_VOLUME, "bc", nm->vol[2]);
	bin_tokens(e, SX_FAM_VOLUME, "bs", nm->vol[3]);

	/* SEQ */
	if (f->nseq)
		tok_nums(e, SX_FAM_SEQ, 1.0, "p0:", q, 1);
	for (i = 0; i < f->nseq; i++) {
		tok_nums(e, SX_FAM_SEQ, 1.0, "u:", q + i, 1);
		if (i + 1 < f->nseq)
			tok_nums(e, SX_FAM_SEQ, 1.0, "b:", q + i, 2);
		if (i + 2 < f->nseq)
			tok_nums(e, SX_FAM_SEQ, 1.0, "g:", q + i, 3);
	}
}

static void flow_tokens(const struct sx_mine_flow *f, const struct flow_nums *nm,
			sx_mine_token_fn fn, void *arg)
{
	const struct emit_ctx e = {fn, arg};

	id_tokens(&e, f);
	num_tokens(&e, f, nm);
	time_tokens(&e, nm);
}

void sx_mine__flow_tokens(const struct sx_mine_flow *f, sx_mine_token_fn fn, void *arg)
{
	struct flow_nums nm;

	flow_nums(f, &nm, NULL);
	flow_tokens(f, &nm, fn, arg);
}

/* ---- hashing into the vector ---- */

static void scratch_reset(struct sx_mine_fscratch *s, uint64_t seed)
{
	size_t i;

	/* empty the slots the previous flow took, not the whole table */
	for (i = 0; i < s->ntok; i++)
		s->slot[s->tok[i].slot] = 0;
	s->ntok = 0;
	s->tlen = 0;
	s->seed = seed;
}

/* Add a token, merging it with an equal one already there. */
static void scratch_add(void *arg, unsigned fam, const char *tok, double w)
{
	struct sx_mine_fscratch *s = arg;
	size_t len = strlen(tok), mask = SX_ARRAY_SIZE(s->slot) - 1, j;
	uint64_t h;
	struct tok *t;

	if (fam >= SX_FAM__COUNT || w <= 0 || len > UINT16_MAX)
		return;
	h = XXH3_64bits_withSeed(tok, len, s->seed ^ (0x9e3779b97f4a7c15ull * (fam + 1)));
	for (j = h & mask; s->slot[j]; j = (j + 1) & mask) {
		t = &s->tok[s->slot[j] - 1];
		if (t->h == h && t->fam == fam && t->len == len &&
		    memcmp(s->text + t->text, tok, len) == 0) {
			t->w += w;
			return;
		}
	}
	if (s->ntok >= TOK_MAX || s->tlen + len > TEXT_MAX)
		return; /* bounded by construction; never reached */
	t = &s->tok[s->ntok];
	t->h = h;
	t->w = w;
	t->fam = (uint8_t)fam;
	t->len = (uint16_t)len;
	t->text = (uint32_t)s->tlen;
	t->slot = (uint32_t)j;
	memcpy(s->text + s->tlen, tok, len);
	s->tlen += len;
	s->slot[j] = (uint32_t)++s->ntok;
}

static inline bool ent_before(const struct ent *x, const struct ent *y)
{
	return x->idx < y->idx;
}

SX_SORT_DEFINE(ent_sort, struct ent, ent_before)

/* The bit of each family in a set of families. */
#define FAM_BIT(fam) (1u << (fam))
#define FAMS_ALL     ((1u << SX_FAM__COUNT) - 1)

/*
 * The entries of the scratch's tokens of the families in fams, into
 * e[0..n): each token's weight times its family's factor, rounded and
 * signed by its hash, at its hash's index; sorted by index, the values of
 * one index summed, zero sums dropped.  Returns n.  A family's factor
 * comes from its own tokens (its norm), and equal tokens never span two
 * families, so the entries of all families are the sums, index by index,
 * of each family's: the vector of a flow can be summed from parts.
 */
static size_t scratch_entries(struct sx_mine_fscratch *s, unsigned dim_bits, unsigned fams,
			      struct ent *e)
{
	double norm[SX_FAM__COUNT] = {0}, mul[SX_FAM__COUNT];
	uint64_t mask = dim_bits >= 32 ? 0xffffffffull : (1ull << dim_bits) - 1;
	size_t i, n = 0, k;

	/* in token order: the same sums whatever the seed */
	for (i = 0; i < s->ntok; i++)
		if (fams & FAM_BIT(s->tok[i].fam))
			norm[s->tok[i].fam] += s->tok[i].w * s->tok[i].w;
	for (i = 0; i < SX_FAM__COUNT; i++)
		mul[i] = norm[i] > 0 ? SCALE * sqrt(sx_mine__family_share[i] / norm[i]) : 0;
	for (i = 0; i < s->ntok; i++) {
		const struct tok *t = &s->tok[i];
		long v;

		if (!(fams & FAM_BIT(t->fam)))
			continue;
		v = lround(t->w * mul[t->fam]);
		if (!v)
			continue;
		e[n].idx = (uint32_t)(t->h & mask);
		e[n].val = (int32_t)((t->h >> 63) ? -v : v);
		n++;
	}
	ent_sort(e, n, s->etmp);
	for (i = 0, k = 0; i < n; i++) {
		if (k && e[k - 1].idx == e[i].idx)
			e[k - 1].val += e[i].val;
		else
			e[k++] = e[i];
	}
	for (i = 0, n = 0; i < k; i++)
		if (e[i].val)
			e[n++] = e[i];
	return n;
}

/* out = x[0..nx) + y[0..ny) + z[0..nz) (sorted entries), the values of
 * one index summed, zero sums dropped, from the arena.  0 or -ENOMEM. */
static int ents_to_vec(const struct ent *x, size_t nx, const struct ent *y, size_t ny,
		       const struct ent *z, size_t nz, struct sx_mine_vec *out,
		       struct sx_mine_arena *a)
{
	size_t i = 0, j = 0, l = 0, cap = nx + ny + nz;
	int64_t n2 = 0;

	out->idx = sx_mine__alloc_array(a, cap ? cap : 1, sizeof(*out->idx));
	out->val = sx_mine__alloc_array(a, cap ? cap : 1, sizeof(*out->val));
	if (!out->idx || !out->val)
		return -ENOMEM;
	out->n = 0;
	while (i < nx || j < ny || l < nz) {
		uint32_t idx = UINT32_MAX;
		int32_t val = 0;

		if (i < nx)
			idx = x[i].idx;
		if (j < ny && y[j].idx < idx)
			idx = y[j].idx;
		if (l < nz && z[l].idx < idx)
			idx = z[l].idx;
		if (i < nx && x[i].idx == idx)
			val += x[i++].val;
		if (j < ny && y[j].idx == idx)
			val += y[j++].val;
		if (l < nz && z[l].idx == idx)
			val += z[l++].val;
		if (!val)
			continue;
		out->idx[out->n] = idx;
		out->val[out->n] = val;
		n2 += (int64_t)val * val;
		out->n++;
	}
	out->norm2 = n2;
	return 0;
}

/* The vector of the scratch's tokens into out. */
static int scratch_vector(struct sx_mine_fscratch *s, unsigned dim_bits, struct sx_mine_vec *out,
			  struct sx_mine_arena *a)
{
	return ents_to_vec(s->ent, scratch_entries(s, dim_bits, FAMS_ALL, s->ent), NULL, 0, NULL, 0,
			   out, a);
}

/* ---- the memo: flows made of the same inputs share one vector ---- */

/* Bytes of records the memo keeps at most; flows past it are vectorised
 * without it. */
#define MEMO_MAX (16u << 20)

static const unsigned part_fams[PART__COUNT] = {
    [PART_ID] = FAM_BIT(SX_FAM_SERVICE) | FAM_BIT(SX_FAM_SERVER) | FAM_BIT(SX_FAM_CLIENT) |
		FAM_BIT(SX_FAM_APP) | FAM_BIT(SX_FAM_SHAPE),
    [PART_NUM] = FAM_BIT(SX_FAM_VOLUME) | FAM_BIT(SX_FAM_SEQ),
};

/*
 * The key of a part of the flow: the part, the seed and dimension of the
 * vector, and every field its tokens read, as they read it.  PART_ID: the
 * ends, ports (the client's only when it makes a token), protocols,
 * initiator and strings; PART_NUM: the volume as its bins and the payload
 * lengths quantised.  Flows with equal keys have the same tokens in the
 * part's families, hence the same entries there.  Strings are keyed by
 * their address: the miner's are interned (equal text, one address), so
 * equal addresses mean equal text while the scratch lives, and unequal
 * addresses with equal text only miss the memo.
 */
static void part_key(const struct sx_mine_flow *f, const struct flow_nums *nm, uint64_t seed,
		     unsigned dim_bits, enum part part, struct sx_buf *k)
{
	const struct sx_mine_ep *c = &f->ep[SX_MINE_CLIENT], *sv = &f->ep[SX_MINE_SERVER];
	struct {
		uint64_t seed;
		uint32_t dim_bits;
		uint8_t part;
	} hd;
	struct {
		uint16_t sport, cport;
		uint8_t ip_proto, family, has_ports, has_service, top_proto, initiator;
		uint8_t named[2];
		struct sx_addr addr[2];
		const char *str[6];
	} id;
	struct {
		long vol[4][2];
		uint8_t nseq;
	} num;
	unsigned i;

	memset(&hd, 0, sizeof(hd)); /* the padding too */
	hd.seed = seed;
	hd.dim_bits = dim_bits;
	hd.part = (uint8_t)part;
	sx_buf_reset(k);
	sx_buf_put(k, &hd, sizeof(hd));
	if (part == PART_NUM) {
		memset(&num, 0, sizeof(num));
		memcpy(num.vol, nm->vol, sizeof(num.vol));
		num.nseq = f->nseq;
		sx_buf_put(k, &num, sizeof(num));
		sx_buf_put(k, nm->q, f->nseq * sizeof(nm->q[0]));
		return;
	}
	memset(&id, 0, sizeof(id));
	id.sport = sv->port;
	id.cport = sx_flow_port_is_known(f->ip_proto, c->port) ? c->port : 0;
	id.ip_proto = f->ip_proto;
	id.family = f->family;
	id.has_ports = f->has_ports;
	id.has_service = f->has_service;
	id.top_proto = f->top_proto;
	id.initiator = f->initiator;
	for (i = 0; i < 2; i++) {
		id.named[i] = f->ep[i].named;
		id.addr[i] = f->ep[i].addr;
		id.str[2 + 2 * i] = f->ep[i].host;
		id.str[3 + 2 * i] = f->ep[i].local;
	}
	id.str[0] = f->spec;
	id.str[1] = f->attrs;
	sx_buf_put(k, &id, sizeof(id));
}

/* Keep e[0..n) under the key k (hash h).  The record's offset, or
 * SIZE_MAX when the store is full; room for one more is reserved. */
static size_t memo_keep(struct sx_mine_fscratch *s, const struct sx_buf *k, uint64_t h,
			const struct ent *e, size_t n)
{
	struct memo_rec r = {.klen = k->len, .n = n};
	size_t off = s->store.len, pos = SX_MAP_START;

	while (sx_map_next(&s->memo, h, &pos))
		;
	sx_buf_put(&s->store, &r, sizeof(r));
	sx_buf_put(&s->store, k->data, k->len);
	sx_buf_put(&s->store, e, n * sizeof(*e));
	if (s->store.err)
		return SIZE_MAX; /* latched: the memo takes no more */
	*(size_t *)sx_map_add(&s->memo, h, pos) = off;
	return off;
}

static uint64_t vmemo_hash(const size_t rec[PART__COUNT], const long time[2])
{
	uint64_t k[4] = {rec[PART_ID], rec[PART_NUM], (uint64_t)time[0], (uint64_t)time[1]};

	return XXH3_64bits(k, sizeof(k));
}

/* The vector kept for the records rec and the TIME bins time, or NULL;
 * *pos is then the empty slot where the search stopped. */
static const struct sx_mine_vec *vmemo_find(const struct sx_mine_fscratch *s, uint64_t h,
					    const size_t rec[PART__COUNT], const long time[2],
					    size_t *pos)
{
	const struct vmemo_ent *e;

	while ((e = sx_map_next(&s->vmemo, h, pos)))
		if (e->rec[PART_ID] == rec[PART_ID] && e->rec[PART_NUM] == rec[PART_NUM] &&
		    e->time[0] == time[0] && e->time[1] == time[1])
			return &e->vec;
	return NULL;
}

/* Keep v for the records rec and the TIME bins time (hash h), room
 * reserved. */
static void vmemo_keep(struct sx_mine_fscratch *s, uint64_t h, const size_t rec[PART__COUNT],
		       const long time[2], const struct sx_mine_vec *v)
{
	size_t pos = SX_MAP_START;
	struct vmemo_ent *e;

	while (sx_map_next(&s->vmemo, h, &pos))
		;
	e = sx_map_add(&s->vmemo, h, pos);
	e->rec[PART_ID] = rec[PART_ID];
	e->rec[PART_NUM] = rec[PART_NUM];
	e->time[0] = time[0];
	e->time[1] = time[1];
	e->vec = *v;
}

/* The record kept under the key k (hash h; records are not aligned: read
 * them with memcpy): its offset in the store, or SIZE_MAX. */
static size_t memo_find(const struct sx_mine_fscratch *s, const struct sx_buf *k, uint64_t h)
{
	size_t pos = SX_MAP_START;
	const size_t *off;

	while ((off = sx_map_next(&s->memo, h, &pos))) {
		const char *p = s->store.data + *off;
		struct memo_rec r;

		memcpy(&r, p, sizeof(r));
		if (r.klen == k->len && memcmp(p + sizeof(r), k->data, r.klen) == 0)
			return *off;
	}
	return SIZE_MAX;
}

/* The entries of a part, into e: from the record at off when there is
 * one, else made from the part's tokens.  Returns their number. */
static size_t part_entries(struct sx_mine_fscratch *s, const struct sx_mine_flow *f,
			   const struct flow_nums *nm, unsigned dim_bits, enum part part,
			   size_t off, struct ent *e)
{
	const struct emit_ctx ec = {scratch_add, s};
	struct memo_rec r;

	if (off != SIZE_MAX) {
		memcpy(&r, s->store.data + off, sizeof(r));
		memcpy(e, s->store.data + off + sizeof(r) + r.klen, r.n * sizeof(*e));
		return r.n;
	}
	scratch_reset(s, s->seed);
	if (part == PART_ID)
		id_tokens(&ec, f);
	else
		num_tokens(&ec, f, nm);
	return scratch_entries(s, dim_bits, part_fams[part], e);
}

/*
 * A device's flows repeat (the same query, the same announcement,
 * occurrence after occurrence).  The memo keeps the entries of each part
 * (enum part) of a flow under the part's key (part_key()): a flow takes
 * the entries of a part whose key was seen, makes those of the others
 * from their tokens (scratch_entries()), and adds its TIME entries;
 * instead of formatting, hashing and sorting all its tokens again.  When
 * its parts and its TIME bins are an earlier flow's, it takes that flow's
 * vector whole.  The vector is the same by construction.
 */
int sx_mine__flow_vector(struct sx_mine_flow *f, uint64_t seed, unsigned dim_bits,
			 struct sx_mine_fscratch *s, struct sx_mine_arena *a)
{
	const struct emit_ctx e = {scratch_add, s};
	const struct sx_mine_vec *kept;
	size_t off[PART__COUNT], n[PART__COUNT], nt;
	uint64_t h[PART__COUNT], vh = 0;
	struct flow_nums nm;
	unsigned p;
	bool memo, all = true;
	int ret;

	flow_nums(f, &nm, s);
	s->seed = seed;
	memo = s->store.len < MEMO_MAX && !s->store.err &&
	       !sx_map_reserve(&s->memo, s->memo.n + PART__COUNT) &&
	       !sx_map_reserve(&s->vmemo, s->vmemo.n + 1);
	for (p = 0; p < PART__COUNT; p++) {
		off[p] = SIZE_MAX;
		if (memo) {
			part_key(f, &nm, seed, dim_bits, (enum part)p, &s->key[p]);
			memo = !s->key[p].err;
		}
		if (memo) {
			h[p] = XXH3_64bits(s->key[p].data, s->key[p].len);
			off[p] = memo_find(s, &s->key[p], h[p]);
		}
		all = all && off[p] != SIZE_MAX;
	}
	if (all) {
		size_t pos = SX_MAP_START;

		vh = vmemo_hash(off, nm.time);
		kept = vmemo_find(s, vh, off, nm.time, &pos);
		if (kept) {
			f->vec = *kept;
			return 0;
		}
	}
	n[PART_ID] = part_entries(s, f, &nm, dim_bits, PART_ID, off[PART_ID], s->ent);
	if (memo && off[PART_ID] == SIZE_MAX)
		off[PART_ID] = memo_keep(s, &s->key[PART_ID], h[PART_ID], s->ent, n[PART_ID]);
	n[PART_NUM] = part_entries(s, f, &nm, dim_bits, PART_NUM, off[PART_NUM], s->nent);
	if (memo && off[PART_NUM] == SIZE_MAX)
		off[PART_NUM] = memo_keep(s, &s->key[PART_NUM], h[PART_NUM], s->nent, n[PART_NUM]);
	scratch_reset(s, seed);
	time_tokens(&e, &nm);
	nt = scratch_entries(s, dim_bits, FAM_BIT(SX_FAM_TIME), s->tent);
	ret = ents_to_vec(s->ent, n[PART_ID], s->nent, n[PART_NUM], s->tent, nt, &f->vec, a);
	if (!ret && memo && off[PART_ID] != SIZE_MAX && off[PART_NUM] != SIZE_MAX) {
		vh = vmemo_hash(off, nm.time);
		vmemo_keep(s, vh, off, nm.time, &f->vec);
	}
	return ret;
}

int sx_mine__vec_from_tokens(const char *const *tokens, const unsigned *fam, const double *w,
			     size_t n, uint64_t seed, unsigned dim_bits, struct sx_mine_vec *out,
			     struct sx_mine_arena *a)
{
	struct sx_mine_fscratch *s;
	size_t i;
	int ret;

	ret = sx_mine__fscratch_new(&s);
	if (ret)
		return ret;
	scratch_reset(s, seed);
	for (i = 0; i < n; i++)
		scratch_add(s, fam[i], tokens[i], w[i]);
	ret = scratch_vector(s, dim_bits, out, a);
	sx_mine__fscratch_free(s);
	return ret;
}

double sx_mine__cosine(const struct sx_mine_vec *a, const struct sx_mine_vec *b)
{
	uint32_t i = 0, j = 0;
	int64_t dot = 0;

	if (!a->norm2 || !b->norm2)
		return 0;
	while (i < a->n && j < b->n) {
		if (a->idx[i] < b->idx[j]) {
			i++;
		} else if (a->idx[i] > b->idx[j]) {
			j++;
		} else {
			dot += (int64_t)a->val[i] * b->val[j];
			i++;
			j++;
		}
	}
	return (double)dot / sqrt((double)a->norm2 * (double)b->norm2);
}
