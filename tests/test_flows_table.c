/*
 * test_flows_table.c - the shared flow table under concurrency: exact totals
 * with many threads on overlapping keys, explicit resizes while adding,
 * batched eviction (one grace period per batch), clean teardown, the
 * per-unit reduce order whatever the seed, and the spill's memory and file
 * giving the same rows.
 *
 * Packets are built by hand (struct sx_pkt), so these tests depend on the
 * flows module only.  Run under ThreadSanitizer with
 * TSAN_OPTIONS=suppressions=tests/tsan.supp (its own runner there:
 * support/check.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "flows/flows.h"
#include "support/check.h"
#include "support/frames.h"
#include "support/tmp.h"

static void setup(void)
{
	sx_flows_thread_enter();
}

static void teardown(void)
{
	sx_flows_thread_leave();
}

TestSuite(flows_table, .init = setup, .fini = teardown, .timeout = 120);

#define TEST(name)                                                                                 \
	static void t_##name(void);                                                                \
	Test(flows_table, name)                                                                    \
	{                                                                                          \
		t_##name();                                                                        \
	}                                                                                          \
	static void t_##name(void)

/* A UDP packet between 10.<k>.x.x:1000+k and 192.0.2.1:53, one direction. */
static void mkpkt(struct sx_pkt *p, uint32_t file, uint32_t k, bool reply, int64_t sec,
		  uint32_t wire)
{
	uint8_t a[4] = {10, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
	uint8_t b[4] = {192, 0, 2, 1};

	memset(p, 0, sizeof(*p));
	p->file = file;
	p->ts_sec = sec;
	p->wire_len = wire;
	p->cap_len = wire;
	p->proto = SX_P_UDP;
	p->ip_proto = 17;
	p->src.family = p->dst.family = 4;
	memcpy(reply ? p->dst.b : p->src.b, a, 4);
	memcpy(reply ? p->src.b : p->dst.b, b, 4);
	p->sport = reply ? 53 : (uint16_t)(1000 + (k & 0x7fff));
	p->dport = reply ? (uint16_t)(1000 + (k & 0x7fff)) : 53;
}

static struct sx_flows *new_table(uint64_t seed, uint64_t est)
{
	struct sx_flows_cfg cfg = {.seed = seed,
				   .idle_ns = 3600 * SX_NS_PER_SEC,
				   .est_flows = est,
				   .min_buckets = est == 1 ? 8 : 0};
	struct sx_flows *fl;

	CHECK_EQ(sx_flows_new(&cfg, &fl), 0);
	return fl;
}

struct collect {
	uint64_t rows, pkts, bytes;
	uint32_t *per_key; /* flows seen per key index */
	uint32_t nkeys;
	uint64_t *key_pkts;
	struct sx_flow_rec prev;
	bool have_prev;
	bool ordered;
	uint32_t last_file, last_event;
	uint64_t next_index;
};

static int collect_row(void *arg, const struct sx_flow_row *row)
{
	struct collect *c = arg;
	const struct sx_flow_rec *r = &row->rec;
	uint32_t k = ((uint32_t)r->key.lo_addr[1] << 16) | ((uint32_t)r->key.lo_addr[2] << 8) |
		     r->key.lo_addr[3];

	if (c->have_prev && (c->last_file != r->key.file || c->last_event != r->key.event)) {
		c->have_prev = false;
		c->next_index = 0;
	}
	if (c->have_prev && sx_flow_rec_cmp(&c->prev, r) >= 0)
		c->ordered = false;
	if (row->index != c->next_index)
		c->ordered = false;
	c->next_index++;
	c->prev = *r;
	c->have_prev = true;
	c->last_file = r->key.file;
	c->last_event = r->key.event;
	c->rows++;
	c->pkts += r->pkts[0] + r->pkts[1];
	c->bytes += r->bytes[0] + r->bytes[1];
	if (c->per_key && k < c->nkeys) {
		c->per_key[k]++;
		c->key_pkts[k] += r->pkts[0] + r->pkts[1];
	}
	return 0;
}

/* ---- N threads, overlapping keys ---- */

#define NTHREADS 8
#define NKEYS	 20000
#define ROUNDS	 4

struct hammer {
	struct sx_flows *fl;
	pthread_barrier_t *bar;
	unsigned id;
	struct sx_flows_worker *w;
	uint64_t pkts, bytes;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	struct sx_pkt p;
	unsigned r, i;

	sx_flows_thread_enter();
	CHECK_EQ(sx_flows_worker_new(h->fl, &h->w), 0);
	for (r = 0; r < ROUNDS; r++) {
		/* Every thread walks every key, from a different start, both ways. */
		for (i = 0; i < NKEYS; i++) {
			uint32_t k = (i + h->id * (NKEYS / NTHREADS)) % NKEYS;
			uint32_t wire = 60 + (k % 7) + h->id;

			mkpkt(&p, 0, k, (i + r) & 1, 1000 + r, wire);
			CHECK_EQ(sx_flows_add(h->w, &p, SX_FLOW_NO_EVENT, INT64_MAX), 0);
			h->pkts++;
			h->bytes += wire;
		}
	}
	sx_flows_worker_release(h->w);
	/* Nobody evicts before every thread is done adding. */
	pthread_barrier_wait(h->bar);
	CHECK_EQ(sx_flows_worker_free(h->w), 0);
	sx_flows_thread_leave();
	return NULL;
}

static void run_hammer(uint64_t seed, uint64_t est, struct sx_flows_stats *st)
{
	struct sx_flows *fl = new_table(seed, est);
	struct hammer h[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t bar;
	struct collect c = {.ordered = true};
	uint64_t pkts = 0, bytes = 0;
	unsigned i;

	c.nkeys = NKEYS;
	c.per_key = calloc(NKEYS, sizeof(*c.per_key));
	c.key_pkts = calloc(NKEYS, sizeof(*c.key_pkts));
	pthread_barrier_init(&bar, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		h[i] = (struct hammer){.fl = fl, .bar = &bar, .id = i};
		CHECK_EQ(pthread_create(&th[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		pkts += h[i].pkts;
		bytes += h[i].bytes;
	}
	pthread_barrier_destroy(&bar);
	CHECK_EQ(sx_flows_error(fl), 0);
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, collect_row, &c), 0);
	CHECK_EQ(c.rows, NKEYS);
	CHECK_EQ(c.pkts, pkts);
	CHECK_EQ(c.bytes, bytes);
	for (i = 0; i < NKEYS; i++) {
		CHECK_EQ(c.per_key[i], 1);
		CHECK_EQ(c.key_pkts[i], (uint64_t)NTHREADS * ROUNDS);
	}
	CHECK(c.ordered);
	sx_flows_get_stats(fl, st);
	CHECK_EQ(st->packets, pkts);
	CHECK_EQ(st->flows, NKEYS);
	sx_flows_free(fl);
	free(c.per_key);
	free(c.key_pkts);
}

TEST(threads_on_overlapping_keys_give_exact_totals)
{
	struct sx_flows_stats st;

	run_hammer(0, 0, &st);
	/* Every worker evicted its own flows in exactly one batch. */
	CHECK(st.batches <= NTHREADS);
}

TEST(explicit_resize_under_concurrent_adds)
{
	struct sx_flows_stats st;

	/* Presized for 1 flow (8 buckets a shard): the shards must grow while
	 * the threads add. */
	run_hammer(12345, 1, &st);
	CHECK(st.resizes > 0);
}

TEST(teardown_of_a_table_never_used)
{
	struct sx_flows *fl = new_table(1, 0);
	struct sx_flows_stats st = {.left_at_teardown = 1};

	sx_flows_free_stats(fl, &st);
	CHECK_EQ(st.left_at_teardown, 0);
	CHECK_EQ(st.flows, 0);
	sx_flows_free(NULL);
}

/* ---- flow boundaries ---- */

static void tcp(struct sx_pkt *p, bool from_client, uint8_t flags, int64_t sec, uint32_t plen)
{
	uint8_t c[4] = {192, 168, 1, 10}, s[4] = {93, 184, 216, 34};

	memset(p, 0, sizeof(*p));
	p->ts_sec = sec;
	p->wire_len = 54 + plen;
	p->proto = SX_P_TCP;
	p->ip_proto = 6;
	p->src.family = p->dst.family = 4;
	memcpy(from_client ? p->src.b : p->dst.b, c, 4);
	memcpy(from_client ? p->dst.b : p->src.b, s, 4);
	p->sport = from_client ? 50000 : 443;
	p->dport = from_client ? 443 : 50000;
	p->tcp_flags = flags;
	p->payload_len = plen;
}

struct rows {
	struct sx_flow_row r[64];
	size_t n;
};

static int keep_row(void *arg, const struct sx_flow_row *row)
{
	struct rows *rs = arg;

	if (rs->n < 64)
		rs->r[rs->n++] = *row;
	return 0;
}

static void reduce_rows(struct sx_flows *fl, struct rows *rs)
{
	rs->n = 0;
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, keep_row, rs), 0);
}

TEST(tcp_fin_ends_and_new_syn_starts_a_new_flow)
{
	struct sx_flows *fl = new_table(7, 0);
	struct sx_flows_worker *w;
	struct sx_pkt p;
	struct rows rs;
	int64_t t = 100;

	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	tcp(&p, true, SX_TCP_SYN, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, false, SX_TCP_SYN | SX_TCP_ACK, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, true, SX_TCP_ACK | SX_TCP_PSH, t++, 100);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, false, SX_TCP_ACK | SX_TCP_PSH, t++, 300);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, true, SX_TCP_FIN | SX_TCP_ACK, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, false, SX_TCP_FIN | SX_TCP_ACK, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	/* the last ACK and a late RST stay in the ended flow */
	tcp(&p, true, SX_TCP_ACK, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, false, SX_TCP_RST, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	/* the same endpoints again: a new connection */
	tcp(&p, true, SX_TCP_SYN, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, false, SX_TCP_SYN | SX_TCP_ACK, t++, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	CHECK_EQ(sx_flows_worker_free(w), 0);

	reduce_rows(fl, &rs);
	CHECK_EQ(rs.n, 2);
	CHECK_EQ(rs.r[0].rec.pkts[0], 4);
	CHECK_EQ(rs.r[0].rec.pkts[1], 4);
	CHECK_EQ(rs.r[0].rec.end, SX_END_FIN);
	CHECK_EQ(rs.r[0].rec.init, SX_INIT_SYN);
	CHECK_EQ(rs.r[0].rec.nseq, 2);
	CHECK_EQ(rs.r[0].rec.seq_len[0], 154);
	CHECK_EQ(rs.r[0].rec.seq_len[1], -354);
	CHECK_EQ(rs.r[0].rec.seq_iat[0], 2 * SX_NS_PER_SEC);
	CHECK_EQ(rs.r[0].rec.seq_iat[1], 1 * SX_NS_PER_SEC);
	/* the spill keeps the entries used; the rest read back as zeros */
	for (unsigned i = 2; i < SX_FLOW_SEQ_MAX; i++) {
		CHECK_EQ(rs.r[0].rec.seq_len[i], 0);
		CHECK_EQ(rs.r[0].rec.seq_iat[i], 0);
	}
	CHECK_EQ(rs.r[0].service_side, SX_SIDE_OTHER);
	CHECK_EQ(rs.r[0].service_port, 443);
	CHECK_EQ(rs.r[0].ephemeral_port, 50000);
	CHECK_EQ(rs.r[1].rec.pkts[0] + rs.r[1].rec.pkts[1], 2);
	CHECK_EQ(rs.r[1].rec.end, SX_END_OPEN);
	CHECK_EQ(rs.r[0].index, 0);
	CHECK_EQ(rs.r[1].index, 1);
	sx_flows_free(fl);
}

TEST(initiator_is_the_syn_sender_even_if_seen_second)
{
	struct sx_flows *fl = new_table(7, 0);
	struct sx_flows_worker *w;
	struct sx_pkt p;
	struct rows rs;

	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	/* a stray packet from the server first, then the client's SYN */
	tcp(&p, false, SX_TCP_ACK, 10, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, true, SX_TCP_SYN, 11, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, true, SX_TCP_ACK, 12, 10);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	CHECK_EQ(sx_flows_worker_free(w), 0);
	reduce_rows(fl, &rs);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].rec.init, SX_INIT_SYN);
	CHECK_EQ(rs.r[0].rec.pkts[0], 2); /* device = the client */
	CHECK_EQ(rs.r[0].rec.pkts[1], 1);
	CHECK_EQ(rs.r[0].rec.seq_len[0], 64); /* positive: sent by the device */
	sx_flows_free(fl);
}

TEST(synack_first_makes_its_receiver_the_initiator)
{
	struct sx_flows *fl = new_table(7, 0);
	struct sx_flows_worker *w;
	struct sx_pkt p;
	struct rows rs;

	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	tcp(&p, false, SX_TCP_SYN | SX_TCP_ACK, 10, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	tcp(&p, true, SX_TCP_ACK, 11, 0);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	CHECK_EQ(sx_flows_worker_free(w), 0);
	reduce_rows(fl, &rs);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].rec.init, SX_INIT_SYNACK);
	CHECK_EQ(rs.r[0].rec.tcp_flags[0], SX_TCP_ACK);
	CHECK_EQ(rs.r[0].rec.tcp_flags[1], SX_TCP_SYN | SX_TCP_ACK);
	sx_flows_free(fl);
}

TEST(idle_gap_splits_a_flow)
{
	struct sx_flows_cfg cfg = {.seed = 3, .idle_ns = 10 * SX_NS_PER_SEC};
	struct sx_flows *fl;
	struct sx_flows_worker *w;
	struct sx_pkt p;
	struct rows rs;

	CHECK_EQ(sx_flows_new(&cfg, &fl), 0);
	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	mkpkt(&p, 0, 1, false, 100, 80);
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	mkpkt(&p, 0, 1, true, 110, 80); /* exactly the timeout: same flow */
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	mkpkt(&p, 0, 1, true, 121, 80); /* 11 s later: a new flow, initiated by the server */
	sx_flows_add(w, &p, SX_FLOW_NO_EVENT, INT64_MAX);
	CHECK_EQ(sx_flows_worker_free(w), 0);
	reduce_rows(fl, &rs);
	CHECK_EQ(rs.n, 2);
	CHECK_EQ(rs.r[0].rec.end, SX_END_IDLE);
	CHECK_EQ(rs.r[0].rec.pkts[0] + rs.r[0].rec.pkts[1], 2);
	CHECK_EQ(rs.r[1].rec.pkts[0], 1);
	CHECK_EQ(rs.r[1].rec.end, SX_END_OPEN);
	sx_flows_free(fl);
}

/* ---- bounded memory: flows leave in batches ---- */

TEST(long_capture_keeps_only_active_flows)
{
	struct sx_flows_cfg cfg = {.seed = 9, .idle_ns = 5 * SX_NS_PER_SEC, .sweep_min_live = 64};
	struct sx_flows *fl;
	struct sx_flows_worker *w;
	struct sx_flows_stats st;
	struct collect c = {.ordered = true};
	struct sx_pkt p;
	uint64_t sent = 0;
	uint32_t i;

	CHECK_EQ(sx_flows_new(&cfg, &fl), 0);
	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	sx_flows_file_begin(w, 0);
	/* 200 000 one-packet flows, 100 new ones per second of capture time. */
	for (i = 0; i < 200000; i++) {
		mkpkt(&p, 0, i, false, 1000 + i / 100, 100);
		sx_flows_packet(w, &p);
		sent++;
		CHECK(sx_flows_worker_live(w) <= 4000);
	}
	sx_flows_file_end(w, 0);
	CHECK_EQ(sx_flows_worker_live(w), 0);
	CHECK_EQ(sx_flows_worker_free(w), 0);
	sx_flows_get_stats(fl, &st);
	CHECK(st.batches < 2000); /* one grace period per batch, not per flow */
	CHECK(st.batches > 10);
	CHECK(st.peak_live <= 4000);
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, collect_row, &c), 0);
	CHECK_EQ(c.rows, 200000);
	CHECK_EQ(c.pkts, sent);
	CHECK(c.ordered); /* runs merged into one sorted unit */
	sx_flows_free(fl);
}

TEST(memory_cap_holds_when_time_stands_still)
{
	struct sx_flows_cfg cfg = {.seed = 9, .idle_ns = 5 * SX_NS_PER_SEC, .max_live = 1000};
	struct sx_flows *fl;
	struct sx_flows_worker *w;
	struct sx_flows_stats st;
	struct collect c = {.ordered = true};
	struct sx_pkt p;
	uint32_t i;

	CHECK_EQ(sx_flows_new(&cfg, &fl), 0);
	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	sx_flows_file_begin(w, 0);
	/* every packet at the same instant: idleness never frees anything */
	for (i = 0; i < 20000; i++) {
		mkpkt(&p, 0, i % 15000, false, 1000, 100);
		p.index = i;
		sx_flows_packet(w, &p);
		CHECK(sx_flows_worker_live(w) <= 1001);
	}
	sx_flows_file_end(w, 0);
	CHECK_EQ(sx_flows_worker_free(w), 0);
	sx_flows_get_stats(fl, &st);
	CHECK(st.capped > 0);
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, collect_row, &c), 0);
	CHECK_EQ(c.pkts, 20000);
	CHECK(c.ordered);
	sx_flows_free(fl);
}

/* ---- the whole pipeline: reader threads, flows, names, reduce ---- */

static char *pipeline_csv(const char *const *paths, uint32_t n, unsigned j, uint64_t seed)
{
	struct sx_flows_job job;
	struct sx_file_status st[8];
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(&job, 0, sizeof(job));
	job.paths = paths;
	job.npaths = n;
	job.nthreads = j;
	job.cfg.seed = seed;
	job.cfg.idle_ns = 30 * SX_NS_PER_SEC;
	job.cfg.sweep_min_live = 4;
	CHECK_EQ(sx_names_new(&job.names), 0);
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	CHECK_EQ(sx_flows_write_csv(&job, f, st, NULL), 0);
	fclose(f);
	sx_names_free(job.names);
	return text;
}

TEST(pipeline_threads_give_identical_csv)
{
	static uint8_t frames[400][256];
	struct sx_tf_rec recs[400];
	char *dir = sx_tt_tmpdir(), *paths[6], *a, *b;
	unsigned i, k;

	for (i = 0; i < 6; i++) {
		char name[32], src[32], dst[32];

		for (k = 0; k < 400; k++) {
			size_t len;

			snprintf(src, sizeof(src), "10.%u.0.%u", i, 1 + k % 40);
			snprintf(dst, sizeof(dst), "192.0.2.%u", 1 + (k * 7) % 13);
			if (k % 3)
				len = sx_tf_udp(frames[k], sizeof(frames[k]), src,
						(uint16_t)(40000 + k % 40), dst, 53, "abcd", 4);
			else
				len = sx_tf_tcp(frames[k], sizeof(frames[k]), dst, 443, src,
						(uint16_t)(50000 + k % 40), 0x18, "xyz", 3);
			CHECK(len > 0);
			recs[k] = (struct sx_tf_rec){frames[k], (uint32_t)len, 0,
						     1700000000 + (int64_t)(k / 5) * (1 + i), k};
		}
		snprintf(name, sizeof(name), "c%u.pcap", i);
		paths[i] = sx_tt_path(dir, name);
		CHECK_EQ(sx_tf_write_pcap(paths[i], 1, recs, 400), 0);
	}
	a = pipeline_csv((const char *const *)paths, 6, 1, 0);
	b = pipeline_csv((const char *const *)paths, 6, 4, 0xfeedull);
	CHECK(strlen(a) > 1000);
	CHECK(strcmp(a, b) == 0);
	free(b);
	b = pipeline_csv((const char *const *)paths, 6, 3, 7);
	CHECK(strcmp(a, b) == 0);
	free(a);
	free(b);
	for (i = 0; i < 6; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	rmdir(dir);
	free(dir);
}

/* ---- reduce order does not depend on the seed or the thread layout ---- */

struct unit_feed {
	struct sx_flows *fl;
	uint32_t file;
	/* false: 1,000 flows, several sharing a first timestamp (the key breaks
	 * the tie), all live to the capture's end; true: 1,000 flows over 100 s,
	 * which a 1 s idle timeout and a low sweep threshold evict in many
	 * batches (the capture's unit has many runs), and a failed spill is
	 * the table's error (sx_flows_error()), not the worker's */
	bool spread;
};

static void *feed_file(void *arg)
{
	struct unit_feed *u = arg;
	struct sx_flows_worker *w;
	struct sx_pkt p;
	uint32_t i;
	int ret;

	sx_flows_thread_enter();
	CHECK_EQ(sx_flows_worker_new(u->fl, &w), 0);
	sx_flows_file_begin(w, u->file);
	for (i = 0; i < 3000; i++) {
		if (u->spread)
			mkpkt(&p, u->file, i / 3, i & 1, 100 + i / 30, 60 + (i % 7));
		else
			mkpkt(&p, u->file, (i * 7919) % 1000, i & 1, 50 + i / 300, 70);
		p.index = i;
		sx_flows_packet(w, &p);
	}
	sx_flows_file_end(w, u->file);
	ret = sx_flows_worker_free(w);
	if (!u->spread)
		CHECK_EQ(ret, 0);
	sx_flows_thread_leave();
	return NULL;
}

struct digest {
	uint64_t h;
	uint64_t n;
};

static int digest_row(void *arg, const struct sx_flow_row *row)
{
	struct digest *d = arg;
	const unsigned char *p = (const unsigned char *)&row->rec.key;
	size_t i;

	for (i = 0; i < sizeof(row->rec.key); i++)
		d->h = (d->h ^ p[i]) * 1099511628211ull;
	d->h = (d->h ^ (uint64_t)row->rec.first_ns) * 1099511628211ull;
	d->h = (d->h ^ row->index) * 1099511628211ull;
	d->n++;
	return 0;
}

static struct digest reduce_digest(uint64_t seed)
{
	struct sx_flows *fl = new_table(seed, 0);
	struct unit_feed u[4];
	pthread_t th[4];
	struct digest d = {14695981039346656037ull, 0};
	unsigned i;

	for (i = 0; i < 4; i++) {
		u[i] = (struct unit_feed){fl, 3 - i, false};
		CHECK_EQ(pthread_create(&th[i], NULL, feed_file, &u[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, digest_row, &d), 0);
	sx_flows_free(fl);
	return d;
}

TEST(reduce_order_is_independent_of_seed_and_threads)
{
	struct digest a = reduce_digest(1), b = reduce_digest(0xdeadbeefcafef00dull),
		      c = reduce_digest(42);

	CHECK_EQ(a.n, 4000);
	CHECK_EQ(a.h, b.h);
	CHECK_EQ(a.h, c.h);
}

/* ---- the text reduce on several threads gives the serial bytes ---- */

/* One line per row; the rows of captures 1 and 2 carry 20 KiB each, so
 * those units' text (about 20 MiB) passes the 16 MiB a thread may buffer
 * ahead of the writing one. */
static void text_fmt(struct sx_buf *b, const struct sx_flow_row *row)
{
	static char pad[20480];
	char line[128];
	int n;

	n = snprintf(line, sizeof(line), "%u,%llu,%lld,%u\n", row->rec.key.file,
		     (unsigned long long)row->index, (long long)row->rec.first_ns,
		     (unsigned)row->rec.key.lo_addr[3]);
	sx_buf_put(b, line, (size_t)n);
	if (row->rec.key.file == 1 || row->rec.key.file == 2) {
		if (!pad[0])
			memset(pad, 'x', sizeof(pad) - 1);
		sx_buf_put(b, pad, sizeof(pad) - 1);
		sx_buf_put(b, "\n", 1);
	}
}

struct text_serial {
	struct sx_buf b;
};

static int text_serial_row(void *arg, const struct sx_flow_row *row)
{
	text_fmt(&((struct text_serial *)arg)->b, row);
	return 0;
}

static char *text_reduce(struct sx_flows *fl, unsigned nthreads, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	CHECK(f != NULL);
	CHECK_EQ(sx_flows_reduce_text(fl, NULL, 0, NULL, nthreads, text_fmt, f), 0);
	CHECK_EQ(fclose(f), 0);
	return text;
}

TEST(parallel_text_reduce_gives_the_serial_bytes)
{
	struct sx_flows *fl = new_table(3, 0);
	struct unit_feed u[12];
	pthread_t th[12];
	struct text_serial ser;
	static const unsigned nthreads[] = {1, 2, 3, 8};
	unsigned i;
	FILE *full;

	for (i = 0; i < 12; i++) {
		u[i] = (struct unit_feed){fl, i, false};
		CHECK_EQ(pthread_create(&th[i], NULL, feed_file, &u[i]), 0);
	}
	for (i = 0; i < 12; i++)
		pthread_join(th[i], NULL);
	sx_buf_init(&ser.b);
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, text_serial_row, &ser), 0);
	CHECK(ser.b.len > 2 * (16u << 20));
	for (i = 0; i < SX_ARRAY_SIZE(nthreads); i++) {
		size_t len;
		char *text = text_reduce(fl, nthreads[i], &len);

		CHECK_EQ(len, ser.b.len);
		CHECK(memcmp(text, ser.b.data, len) == 0);
		free(text);
	}
	sx_buf_fini(&ser.b);
	/* A failed write stops every thread and is returned, without a hang. */
	full = fopen("/dev/full", "w");
	if (full) {
		CHECK(sx_flows_reduce_text(fl, NULL, 0, NULL, 4, text_fmt, full) < 0);
		fclose(full);
	}
	sx_flows_free(fl);
}

/*
 * Many small units, done off turn and parked, their buffers then kept as
 * spares and handed to the next unit parked: a unit's text of 4 to 40
 * rows, every 37th unit's past what a spare may keep (600 KiB).
 */
#define MANY_UNITS 300

static void many_fmt(struct sx_buf *b, const struct sx_flow_row *row)
{
	static char pad[20480];
	char line[128];
	int n;

	n = snprintf(line, sizeof(line), "%u,%llu,%lld\n", row->rec.key.file,
		     (unsigned long long)row->index, (long long)row->rec.first_ns);
	sx_buf_put(b, line, (size_t)n);
	if (row->rec.key.file % 37 == 5) {
		if (!pad[0])
			memset(pad, 'y', sizeof(pad) - 1);
		sx_buf_put(b, pad, sizeof(pad) - 1);
	}
}

static int many_serial_row(void *arg, const struct sx_flow_row *row)
{
	many_fmt(&((struct text_serial *)arg)->b, row);
	return 0;
}

TEST(parked_buffers_reused_give_the_serial_bytes)
{
	struct sx_flows *fl = new_table(5, 0);
	struct sx_flows_worker *w;
	struct text_serial ser;
	static const unsigned nthreads[] = {2, 3, 8};
	struct sx_pkt p;
	uint32_t f, i;

	sx_flows_thread_enter();
	CHECK_EQ(sx_flows_worker_new(fl, &w), 0);
	for (f = 0; f < MANY_UNITS; f++) {
		uint32_t rows = f % 37 == 5 ? 30 : 4 + (f * 13) % 37;

		sx_flows_file_begin(w, f);
		for (i = 0; i < rows; i++) {
			mkpkt(&p, f, i, false, 10 + i, 70);
			p.index = i;
			sx_flows_packet(w, &p);
		}
		sx_flows_file_end(w, f);
	}
	CHECK_EQ(sx_flows_worker_free(w), 0);
	sx_flows_thread_leave();
	sx_buf_init(&ser.b);
	CHECK_EQ(sx_flows_reduce(fl, NULL, 0, NULL, many_serial_row, &ser), 0);
	CHECK(ser.b.len > 8 * 600 * 1024);
	for (i = 0; i < SX_ARRAY_SIZE(nthreads); i++) {
		char *text = NULL;
		size_t len;
		FILE *out = open_memstream(&text, &len);

		CHECK(out != NULL);
		CHECK_EQ(sx_flows_reduce_text(fl, NULL, 0, NULL, nthreads[i], many_fmt, out), 0);
		CHECK_EQ(fclose(out), 0);
		CHECK_EQ(len, ser.b.len);
		CHECK(memcmp(text, ser.b.data, len) == 0);
		free(text);
	}
	sx_buf_fini(&ser.b);
	sx_flows_free(fl);
}

/* ---- the spill: memory first, then the file ---- */

static int spill_row(void *arg, const struct sx_flow_row *row)
{
	sx_flows_csv_row(arg, row);
	return 0;
}

/* Two captures on two threads; the rows as CSV text, or the run's error. */
static int spill_run(uint64_t mem, const char *tmpdir, struct sx_buf *text,
		     struct sx_flows_stats *st)
{
	struct sx_flows_cfg cfg = {.seed = 5,
				   .idle_ns = SX_NS_PER_SEC,
				   .sweep_min_live = 8,
				   .spill_mem = mem,
				   .tmpdir = tmpdir};
	struct unit_feed f[2];
	pthread_t th[2];
	struct sx_flows *fl;
	unsigned i;
	int ret;

	CHECK_EQ(sx_flows_new(&cfg, &fl), 0);
	for (i = 0; i < 2; i++) {
		f[i] = (struct unit_feed){fl, i, true};
		CHECK_EQ(pthread_create(&th[i], NULL, feed_file, &f[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ret = sx_flows_error(fl);
	if (!ret)
		ret = sx_flows_reduce(fl, NULL, 0, NULL, spill_row, text);
	sx_flows_get_stats(fl, st);
	sx_flows_free(fl);
	return ret;
}

TEST(spill_memory_and_file_give_the_same_rows)
{
	/* 0: all in memory; 1: all in the file; the others: the first runs in
	 * memory, a batch that does not fit whole in the file, then the rest
	 * there, so units read runs from both. */
	static const uint64_t mems[] = {0, 1, 4096, 40000, 150000};
	struct sx_flows_stats st0, st;
	struct sx_buf ref, b;
	unsigned i;

	sx_buf_init(&ref);
	CHECK_EQ(spill_run(0, NULL, &ref, &st0), 0);
	CHECK_EQ(st0.flows, 2000);
	CHECK(st0.runs > 20);			/* many batches per unit */
	CHECK(st0.spill_bytes > 150000 + 4096); /* past the smaller memories */
	for (i = 1; i < SX_ARRAY_SIZE(mems); i++) {
		sx_buf_init(&b);
		CHECK_EQ(spill_run(mems[i], NULL, &b, &st), 0);
		CHECK_EQ(st.flows, st0.flows);
		CHECK_EQ(st.runs, st0.runs);
		CHECK_EQ(st.spill_bytes, st0.spill_bytes);
		CHECK_EQ(b.len, ref.len);
		CHECK(memcmp(b.data, ref.data, ref.len) == 0);
		sx_buf_fini(&b);
	}
	sx_buf_fini(&ref);
}

TEST(spill_file_made_only_when_the_memory_is_full)
{
	char *dir = sx_tt_tmpdir(), *gone = sx_tt_path(dir, "gone");
	struct sx_flows_stats st;
	struct sx_buf b;

	/* The file's directory does not exist: a run that fits in memory never
	 * needs it; one that does not fails with the error of its creation. */
	sx_buf_init(&b);
	CHECK_EQ(spill_run(0, gone, &b, &st), 0);
	CHECK(b.len > 0);
	sx_buf_reset(&b);
	CHECK_EQ(spill_run(1, gone, &b, &st), -ENOENT);
	CHECK_EQ(b.len, 0);
	sx_buf_fini(&b);
	rmdir(dir);
	free(gone);
	free(dir);
}

/* The presize from the sizes the caller found equals the one from a stat
 * of each file; a size unknown (UINT64_MAX) counts as empty. */
TEST(estimate_from_given_sizes_equals_the_stat_one)
{
	char *dir = sx_tt_tmpdir(), *p[2] = {sx_tt_path(dir, "a"), sx_tt_path(dir, "b")};
	const char *paths[2] = {p[0], p[1]};
	size_t len = 3u << 20;
	char *data = calloc(1, len);
	uint64_t sizes[2] = {len, len / 3}, est;
	unsigned i;

	CHECK(data != NULL);
	CHECK_EQ(sx_tt_write(p[0], data, sizes[0]), 0);
	CHECK_EQ(sx_tt_write(p[1], data, sizes[1]), 0);
	est = sx_flows_estimate(paths, NULL, 2);
	CHECK(est > 1024); /* the files count */
	CHECK_EQ(sx_flows_estimate(paths, sizes, 2), est);
	sizes[0] = sizes[1] = UINT64_MAX;
	CHECK_EQ(sx_flows_estimate(paths, sizes, 2), 1024);
	for (i = 0; i < 2; i++) {
		unlink(p[i]);
		free(p[i]);
	}
	rmdir(dir);
	free(dir);
	free(data);
}

#ifdef SX_TC_STANDALONE
/* The TSan build's runner (support/check.h). */
int main(int argc, char **argv)
{
	static const struct sx_tc_test tests[] = {
#define T(n) {#n, t_##n}
	    T(threads_on_overlapping_keys_give_exact_totals),
	    T(explicit_resize_under_concurrent_adds),
	    T(teardown_of_a_table_never_used),
	    T(tcp_fin_ends_and_new_syn_starts_a_new_flow),
	    T(initiator_is_the_syn_sender_even_if_seen_second),
	    T(synack_first_makes_its_receiver_the_initiator),
	    T(idle_gap_splits_a_flow),
	    T(long_capture_keeps_only_active_flows),
	    T(memory_cap_holds_when_time_stands_still),
	    T(pipeline_threads_give_identical_csv),
	    T(reduce_order_is_independent_of_seed_and_threads),
	    T(parallel_text_reduce_gives_the_serial_bytes),
	    T(parked_buffers_reused_give_the_serial_bytes),
	    T(spill_memory_and_file_give_the_same_rows),
	    T(spill_file_made_only_when_the_memory_is_full),
	    T(estimate_from_given_sizes_equals_the_stat_one),
#undef T
	};

	return sx_tc_run_standalone("flows_table", tests, SX_ARRAY_SIZE(tests), setup, teardown,
				    false, argc, argv);
}
#endif
