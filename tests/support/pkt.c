/* pkt.c - see pkt.h. */
#include "support/pkt.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

void sx_tm_put8(struct sx_tmsg *m, uint8_t v)
{
	cr_assert_lt(m->n, sizeof(m->b));
	m->b[m->n++] = v;
}

void sx_tm_put16(struct sx_tmsg *m, uint16_t v)
{
	sx_tm_put8(m, (uint8_t)(v >> 8));
	sx_tm_put8(m, (uint8_t)v);
}

void sx_tm_put24(struct sx_tmsg *m, uint32_t v)
{
	sx_tm_put8(m, (uint8_t)(v >> 16));
	sx_tm_put16(m, (uint16_t)v);
}

void sx_tm_put32(struct sx_tmsg *m, uint32_t v)
{
	sx_tm_put16(m, (uint16_t)(v >> 16));
	sx_tm_put16(m, (uint16_t)v);
}

void sx_tm_putbytes(struct sx_tmsg *m, const void *p, size_t n)
{
	cr_assert_leq(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

uint8_t *sx_tt_exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	cr_assert_not_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

void sx_tt_set_pkt(struct sx_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport,
		   const uint8_t *p, size_t cap, size_t len)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->proto = proto;
	pkt->sport = sport;
	pkt->dport = dport;
	pkt->payload = p;
	pkt->payload_cap = (uint32_t)cap;
	pkt->payload_len = (uint32_t)len;
}

void sx_tt_assert_printable(const char *s, size_t sz)
{
	size_t i;

	for (i = 0; i < sz && s[i]; i++)
		cr_assert(s[i] >= 0x20 && s[i] <= 0x7e, "byte 0x%02x at %zu in \"%s\"",
			  (unsigned char)s[i], i, s);
	cr_assert_lt(i, sz, "no NUL");
}

static void dns_name(struct sx_tmsg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		sx_tm_put8(m, (uint8_t)l);
		sx_tm_putbytes(m, name, l);
		name += l + (dot ? 1 : 0);
	}
	sx_tm_put8(m, 0);
}

void sx_tm_dns(struct sx_tmsg *m, const char *const *qnames, size_t nq, const uint8_t *a4)
{
	size_t i;

	sx_tm_put16(m, 0x1234);
	sx_tm_put16(m, a4 ? 0x8180 : 0x0100);
	sx_tm_put16(m, (uint16_t)nq);
	sx_tm_put16(m, a4 ? 1 : 0);
	sx_tm_put16(m, 0);
	sx_tm_put16(m, 0);
	for (i = 0; i < nq; i++) {
		dns_name(m, qnames[i]);
		sx_tm_put16(m, 1);
		sx_tm_put16(m, 1);
	}
	if (a4) {
		sx_tm_put16(m, 0xc00c); /* the first question's name */
		sx_tm_put16(m, 1);
		sx_tm_put16(m, 1);
		sx_tm_put32(m, 60);
		sx_tm_put16(m, 4);
		sx_tm_putbytes(m, a4, 4);
	}
}

void sx_tm_client_hello(struct sx_tmsg *m, const char *sni)
{
	uint16_t n = (uint16_t)strlen(sni);
	uint16_t ext = (uint16_t)(9 + n); /* type, len, list len, type, name len, name */
	uint16_t body = (uint16_t)(2 + 32 + 1 + 4 + 2 + 2 + 2 + ext);
	int i;

	sx_tm_put8(m, 22);
	sx_tm_put16(m, 0x0301);
	sx_tm_put16(m, (uint16_t)(4 + body));
	sx_tm_put8(m, 1);
	sx_tm_put24(m, body);
	sx_tm_put16(m, 0x0303);
	for (i = 0; i < 32; i++)
		sx_tm_put8(m, (uint8_t)i);
	sx_tm_put8(m, 0);	/* session id */
	sx_tm_put16(m, 2);	/* cipher suites */
	sx_tm_put16(m, 0x1301); /* TLS_AES_128_GCM_SHA256 */
	sx_tm_put8(m, 1);	/* compression */
	sx_tm_put8(m, 0);
	sx_tm_put16(m, ext);
	sx_tm_put16(m, 0); /* server_name */
	sx_tm_put16(m, (uint16_t)(5 + n));
	sx_tm_put16(m, (uint16_t)(3 + n));
	sx_tm_put8(m, 0);
	sx_tm_put16(m, n);
	sx_tm_putbytes(m, sni, n);
}
