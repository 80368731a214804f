/*
 * domains.c - domain-aware normalisation of host names and address scopes.
 *
 * DESIGN.  A remote end is matched across occurrences by its name when the
 * flow stage resolved one (DNS answer, TLS SNI, HTTP Host), so that another
 * address behind the same name is the same end.  Names that differ are
 * compared at three levels, each a token of the feature vectors
 * (features.c):
 *   - the name itself (lower-case already, no trailing dot);
 *   - its registrable domain, by the Public Suffix List (libpsl, with the
 *     list built into it, so that a result never depends on a file of the
 *     machine): one label below the longest public suffix, "a.b.co.uk"
 *     gives "b.co.uk", "0.pool.ntp.org" gives "ntp.org".  Both sections of
 *     the list count: below a shared platform's suffix (the list's private
 *     section: "x.s3.amazonaws.com", "y.cloudfront.net") each customer is a
 *     domain of its own, so a profile never generalises across customers
 *     of one cloud.  A name that is itself a public suffix, or that the
 *     list cannot judge, is its own registrable domain;
 *   - its shape: every alphanumeric run of 12 or more characters that holds
 *     a digit (a key, a session or user token) replaced by '*', and every
 *     other run of digits by '#', so that numbered replicas
 *     (0.pool.ntp.org, 1.pool.ntp.org, a23-e7.cdn.example) and URIs that
 *     carry tokens (/api/59df4532a5f9c15ff500b552b69bbc/lights) agree.
 * A pattern whose names vary is named by their longest common label suffix
 * ("*.tplinkra.com") when that suffix contains the registrable domain
 * (patterns.c); never by a bare public suffix ("*.com").
 *
 * Thread-safe: libpsl's built-in context is read-only, and the cache of
 * registrable domains is per thread.
 */
#include "mine/mine_int.h"

#include <libpsl.h>
#include <stddef.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ingest/ingest.h"

/*
 * The registrable domain is asked for the same few names over and over
 * (each flow's server name, its DNS questions, its SNI), and libpsl walks
 * the Public Suffix List label by label each time: a small direct-mapped
 * cache per thread keeps, for a name, where its registrable domain starts
 * (libpsl returns a pointer into the name).  Names longer than a slot are
 * not cached.
 */
#define DOMAIN_SLOTS 64
#define DOMAIN_NAME  112

struct domain_slot {
	uint64_t h;
	uint16_t len; /* 0: empty */
	uint16_t off; /* of the registrable domain, len: none */
	char name[DOMAIN_NAME];
};

static _Thread_local struct domain_slot domain_cache[DOMAIN_SLOTS];

const char *sx_mine__reg_domain(const char *name)
{
	size_t len = strlen(name);
	struct domain_slot *c;
	const char *d;
	uint64_t h;

	if (len == 0 || len >= DOMAIN_NAME) {
		d = psl_registrable_domain(psl_builtin(), name);
		return d ? d : name;
	}
	h = XXH3_64bits(name, len);
	c = &domain_cache[h % DOMAIN_SLOTS];
	if (c->len == len && c->h == h && memcmp(c->name, name, len) == 0)
		return c->off < len ? name + c->off : name;
	d = psl_registrable_domain(psl_builtin(), name);
	c->h = h;
	c->len = (uint16_t)len;
	c->off = (uint16_t)(d ? d - name : (ptrdiff_t)len);
	memcpy(c->name, name, len);
	return d ? d : name;
}

const char *sx_mine_registrable_domain(const char *name)
{
	return sx_mine__reg_domain(name);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#define TOKEN_RUN 12 /* an alphanumeric run this long with a digit is a token */

void sx_mine__shape(const char *s, char *out, size_t outsz)
{
	size_t n = 0, run, i;
	bool digit;

	if (!outsz)
		return;
	while (*s && n + 1 < outsz) {
		if (!is_alnum(*s)) {
			out[n++] = *s++;
			continue;
		}
		for (run = 0, digit = false; is_alnum(s[run]); run++)
			digit |= is_digit(s[run]);
		if (run >= TOKEN_RUN && digit) {
			out[n++] = '*';
			s += run;
			continue;
		}
		for (i = 0; i < run && n + 1 < outsz;) {
			if (is_digit(s[i])) {
				out[n++] = '#';
				while (i < run && is_digit(s[i]))
					i++;
			} else {
				out[n++] = s[i++];
			}
		}
		s += run;
	}
	out[n] = '\0';
}

const char *sx_mine__common_suffix(const char *a, const char *b)
{
	const char *pa = a + strlen(a), *pb = b + strlen(b);
	const char *best = pa;

	while (pa > a && pb > b && pa[-1] == pb[-1]) {
		pa--;
		pb--;
		if (pa[0] == '.')
			best = pa + 1;
	}
	/* whole labels only: both strings must be at a label start here */
	if ((pa == a || pa[-1] == '.') && (pb == b || pb[-1] == '.'))
		best = pa;
	return best;
}

enum sx_mine_scope sx_mine__addr_scope(const struct sx_addr *a)
{
	const uint8_t *b = a->b;
	static const uint8_t zero[16];

	if (a->family == 4) {
		if (!b[0] && !b[1] && !b[2] && !b[3])
			return SX_MINE_SCOPE_UNSPECIFIED;
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return SX_MINE_SCOPE_BROADCAST;
		if (b[0] == 127)
			return SX_MINE_SCOPE_LOOPBACK;
		if ((b[0] & 0xf0) == 224)
			return SX_MINE_SCOPE_MULTICAST;
		if (b[0] == 169 && b[1] == 254)
			return SX_MINE_SCOPE_LINKLOCAL;
		if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		    (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64))
			return SX_MINE_SCOPE_PRIVATE;
		return SX_MINE_SCOPE_PUBLIC;
	}
	if (a->family == 6) {
		if (memcmp(b, zero, 16) == 0)
			return SX_MINE_SCOPE_UNSPECIFIED;
		if (memcmp(b, zero, 15) == 0 && b[15] == 1)
			return SX_MINE_SCOPE_LOOPBACK;
		if (b[0] == 0xff)
			return SX_MINE_SCOPE_MULTICAST;
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return SX_MINE_SCOPE_LINKLOCAL;
		if ((b[0] & 0xfe) == 0xfc)
			return SX_MINE_SCOPE_PRIVATE;
		return SX_MINE_SCOPE_PUBLIC;
	}
	return SX_MINE_SCOPE_UNSPECIFIED;
}

bool sx_mine__is_name(const char *host, const struct sx_addr *addr)
{
	char text[64];

	if (!host || !host[0])
		return false;
	return strcmp(host, sx_addr_str(addr, text, sizeof(text))) != 0;
}
