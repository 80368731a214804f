/*
 * app_memo.c - a reader's memo of the DNS-family messages it decoded.
 *
 * IoT traffic repeats its name messages byte for byte: the same mDNS
 * announcements every few seconds, the same queries to the same resolver.
 * In the merged test corpus 73 % of the DNS and mDNS payloads are copies
 * of an earlier one, and decoding their names is most of the dissectors'
 * cost.  A decoded message is a function of what app_dns.c reads: the
 * payload's captured bytes, the length its headers announce, whether it
 * came over TCP and which of the ports 53, 5353 and 5355 it uses (the
 * order of the tries, app.c).  The memo keeps, for MEMO_SLOTS such keys
 * (direct-mapped by an XXH3 hash of them, compared whole on a hit: never a
 * false match), the outcome: not a DNS-family message, or its struct
 * sx_dns (the header and the nq questions and nrr records kept, which are
 * all that packet.h defines) and the proto set.  A hit copies those into
 * the packet instead of decoding; the packet is then what decoding would
 * have made of it.  64 slots hit 67 % of the corpus's messages (256: 70 %).
 *
 * One memo per reader thread (reader.c), set in the thread's struct sx_pkt;
 * payloads over MEMO_BYTES_MAX are decoded every time.
 *
 * Each DNS-family message a slot takes in gets a number no other slot of
 * any memo of the process ever had, given as the packet's app_id on the
 * fill and on every hit: later stages (the flows' attribute tokens, the
 * names learner's counts) make what depends on the message alone once per
 * number.  A memo takes its numbers in blocks of 2^20 from a process-wide
 * count (one atomic add a million fills), which cannot wrap.
 */
#include "ingest/app.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MEMO_SLOTS     64
#define MEMO_BYTES_MAX 1024
#define MEMO_ID_BLOCK  20 /* bits: 2^20 numbers a block */

/* What a lookup compares: a slot's key. */
struct memo_key {
	uint64_t hash;
	uint64_t id;   /* the message's app_id (see the top) */
	uint32_t n;    /* payload bytes compared */
	uint32_t wire; /* the length the headers announce, at least n */
	uint8_t ports; /* SX_APP_PORT_* of the packet */
	bool tcp;      /* a 2-byte length prefix */
	bool used;     /* holds a message */
	uint8_t proto; /* the proto set, 0: not a DNS-family message */
};

/* What a hit copies (15 KiB): read only after a fill wrote it. */
struct memo_slot {
	struct sx_dns dns; /* with proto: the header, q[0..nq), rr[0..nrr) */
	uint8_t bytes[MEMO_BYTES_MAX];
};

struct sx_app_memo {
	uint64_t next_id, end_id; /* the numbers left of the memo's block */
	struct memo_key key[MEMO_SLOTS];
	struct memo_slot slot[MEMO_SLOTS];
};

int sx_app_memo_new(struct sx_app_memo **out)
{
	/*
	 * calloc: the slots' pages are mapped as a fill first writes them.
	 * The keys are written now, not only read by the first lookups: a
	 * page read first maps the shared zero page, and the write that
	 * follows replaces it with a TLB flush on every CPU the process runs
	 * on, an interrupt each (about 1.5 ms of kernel time in a 55 ms run
	 * of `flows -j2` over the 390 small captures).
	 */
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -1;
	memset(*out, 0, offsetof(struct sx_app_memo, slot));
	return 0;
}

/* A number for a message, never 0 and never given before. */
static uint64_t new_id(struct sx_app_memo *m)
{
	static atomic_uint_fast64_t blocks;

	if (m->next_id == m->end_id) {
		uint64_t b = atomic_fetch_add_explicit(&blocks, 1, memory_order_relaxed) + 1;

		m->next_id = b << MEMO_ID_BLOCK;
		m->end_id = (b + 1) << MEMO_ID_BLOCK;
	}
	return m->next_id++;
}

void sx_app_memo_free(struct sx_app_memo *m)
{
	free(m);
}

/* The parts of a decoded message that packet.h defines. */
static void dns_copy(struct sx_dns *to, const struct sx_dns *from)
{
	memcpy(to, from, offsetof(struct sx_dns, q));
	memcpy(to->q, from->q, from->nq * sizeof(from->q[0]));
	memcpy(to->rr, from->rr, from->nrr * sizeof(from->rr[0]));
}

bool sx_app_memo_dns(struct sx_app_memo *m, struct sx_pkt *pkt, const uint8_t *p, size_t n,
		     bool tcp, unsigned ports)
{
	uint32_t wire =
	    (uint32_t)(p == pkt->payload && pkt->payload_len > n ? pkt->payload_len : n);
	uint64_t h;
	struct memo_key *k;
	struct memo_slot *s;
	bool ok;

	if (n > MEMO_BYTES_MAX)
		return sx_app_dns_by_port(pkt, p, n, tcp, ports);
	h = XXH3_64bits_withSeed(p, n, (uint64_t)wire << 8 | ports << 1 | tcp);
	k = &m->key[h % MEMO_SLOTS];
	s = &m->slot[h % MEMO_SLOTS];
	if (k->used && k->hash == h && k->n == n && k->wire == wire && k->ports == ports &&
	    k->tcp == tcp && memcmp(s->bytes, p, n) == 0) {
		if (!k->proto)
			return false;
		dns_copy(&pkt->app.dns, &s->dns);
		pkt->proto = k->proto;
		pkt->app_id = k->id;
		return true;
	}
	ok = sx_app_dns_by_port(pkt, p, n, tcp, ports);
	k->hash = h;
	if (ok)
		pkt->app_id = k->id = new_id(m);
	k->n = (uint32_t)n;
	k->wire = wire;
	k->ports = (uint8_t)ports;
	k->tcp = tcp;
	k->used = true;
	k->proto = ok ? pkt->proto : 0;
	memcpy(s->bytes, p, n);
	if (ok)
		dns_copy(&s->dns, &pkt->app.dns);
	return ok;
}
