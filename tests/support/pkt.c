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
