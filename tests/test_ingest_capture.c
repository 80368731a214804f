/*
 * test_ingest_capture.c - reading capture files: sx_capture_* and
 * sx_ingest_run().
 *
 * Every file is written by the test: classic pcap through libpcap's dumper
 * (sx_tf_write_pcap), and by hand the formats that dumper cannot write
 * (nanosecond pcap, big-endian pcap, pcapng), then gzip (zlib) and zstd
 * (libzstd) compressions of them under names without a suffix, since the
 * format is detected by content.  Bad inputs each come back with a clear
 * one-line message; a FIFO with no writer must not hang (the suite has a
 * timeout).  The last tests run the reader pool over many files with 1, 2
 * and 4 threads and compare what each file gave.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/err.h"
#include "ingest/ingest.h"
#include "support/frames.h"
#include "support/tmp.h"

static char *dir;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = sx_tt_path(dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

TestSuite(ingest_capture, .init = setup, .fini = teardown, .timeout = 60);

/* ---- building captures ---- */

#define NPKT 3

/* Three UDP frames of distinct lengths; frames[i] holds lens[i] bytes. */
static uint8_t frames[NPKT][256];
static size_t lens[NPKT];

static void make_frames(void)
{
	size_t i;

	for (i = 0; i < NPKT; i++) {
		uint8_t pl[64];

		memset(pl, (int)('a' + i), sizeof(pl));
		lens[i] = sx_tf_udp(frames[i], sizeof(frames[i]), "192.0.2.1",
				    (uint16_t)(40000 + i), "192.0.2.2", 40100, pl, 10 + 20 * i);
		cr_assert_gt(lens[i], 0);
	}
}

static char *path_of(const char *name)
{
	char *p = sx_tt_path(dir, name);

	cr_assert_not_null(p);
	return p;
}

/* A classic microsecond pcap of the three frames, timestamps 1000+i.(i*1111) µs. */
static char *write_us_pcap(const char *name)
{
	struct sx_tf_rec recs[NPKT];
	char *p = path_of(name);
	size_t i;

	make_frames();
	for (i = 0; i < NPKT; i++) {
		recs[i] = (struct sx_tf_rec){.data = frames[i],
					     .caplen = (uint32_t)lens[i],
					     .wirelen = 0,
					     .sec = 1000 + (int64_t)i,
					     .usec = (uint32_t)(i * 1111)};
	}
	cr_assert_eq(sx_tf_write_pcap(p, 1, recs, NPKT), 0);
	return p;
}

struct bytes {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct bytes *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2 + 64;
		o->b = realloc(o->b, o->cap);
		cr_assert_not_null(o->b);
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put32(struct bytes *o, uint32_t v, bool big)
{
	uint8_t b[4];

	if (big) {
		b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8),
		b[3] = (uint8_t)v;
	} else {
		b[3] = (uint8_t)(v >> 24), b[2] = (uint8_t)(v >> 16), b[1] = (uint8_t)(v >> 8),
		b[0] = (uint8_t)v;
	}
	put(o, b, 4);
}

static void put16(struct bytes *o, uint16_t v, bool big)
{
	uint8_t b[2];

	if (big)
		b[0] = (uint8_t)(v >> 8), b[1] = (uint8_t)v;
	else
		b[1] = (uint8_t)(v >> 8), b[0] = (uint8_t)v;
	put(o, b, 2);
}

/* Nanosecond timestamps used by the hand-written files. */
static const uint32_t nsecs[NPKT] = {123456789, 1, 999999999};

/* A classic pcap written by hand: either byte order, µs or ns. */
static void pcap_bytes(struct bytes *o, bool big, bool nano, int dlt)
{
	size_t i;

	make_frames();
	put32(o, nano ? 0xa1b23c4d : 0xa1b2c3d4, big);
	put16(o, 2, big);
	put16(o, 4, big);
	put32(o, 0, big);
	put32(o, 0, big);
	put32(o, 65535, big);
	put32(o, (uint32_t)dlt, big);
	for (i = 0; i < NPKT; i++) {
		put32(o, 1700000000u + (uint32_t)i, big);
		put32(o, nano ? nsecs[i] : nsecs[i] / 1000, big);
		put32(o, (uint32_t)lens[i], big);
		put32(o, (uint32_t)lens[i] + 100, big); /* as if snapped */
		put(o, frames[i], lens[i]);
	}
}

/* Minimal pcapng: SHB, IDB (if_tsresol 9: nanoseconds), one EPB per frame. */
static void pcapng_bytes(struct bytes *o)
{
	static const uint8_t zero[4] = {0};
	size_t i;

	make_frames();
	/* Section Header Block */
	put32(o, 0x0a0d0d0a, false);
	put32(o, 28, false);
	put32(o, 0x1a2b3c4d, false);
	put16(o, 1, false);
	put16(o, 0, false);
	put32(o, 0xffffffff, false);
	put32(o, 0xffffffff, false);
	put32(o, 28, false);
	/* Interface Description Block */
	put32(o, 1, false);
	put32(o, 32, false);
	put16(o, 1, false); /* LINKTYPE_ETHERNET */
	put16(o, 0, false);
	put32(o, 0, false); /* snaplen: no limit */
	put16(o, 9, false); /* if_tsresol */
	put16(o, 1, false);
	put(o, "\x09\0\0\0", 4);
	put32(o, 0, false); /* opt_endofopt */
	put32(o, 32, false);
	/* Enhanced Packet Blocks */
	for (i = 0; i < NPKT; i++) {
		uint64_t ts = (1700000000ull + i) * 1000000000ull + nsecs[i];
		size_t pad = (4 - lens[i] % 4) % 4;
		uint32_t tot = (uint32_t)(32 + lens[i] + pad);

		put32(o, 6, false);
		put32(o, tot, false);
		put32(o, 0, false);
		put32(o, (uint32_t)(ts >> 32), false);
		put32(o, (uint32_t)ts, false);
		put32(o, (uint32_t)lens[i], false);
		put32(o, (uint32_t)lens[i] + 100, false);
		put(o, frames[i], lens[i]);
		put(o, zero, pad);
		put32(o, tot, false);
	}
}

static char *write_bytes(const char *name, const struct bytes *o)
{
	char *p = path_of(name);

	cr_assert_eq(sx_tt_write(p, o->b, o->n), 0);
	return p;
}

static char *gzip_file(const char *src, const char *name)
{
	size_t n;
	char *data = sx_tt_read(src, &n);
	char *p = path_of(name);
	gzFile gz = gzopen(p, "wb");

	cr_assert_not_null(data);
	cr_assert_not_null(gz);
	cr_assert_eq(gzwrite(gz, data, (unsigned)n), (int)n);
	cr_assert_eq(gzclose(gz), Z_OK);
	free(data);
	return p;
}

static char *zstd_file(const char *src, const char *name)
{
	size_t n, bound, z;
	char *data = sx_tt_read(src, &n);
	char *p = path_of(name);
	void *out;

	cr_assert_not_null(data);
	bound = ZSTD_compressBound(n);
	out = malloc(bound);
	cr_assert_not_null(out);
	z = ZSTD_compress(out, bound, data, n, 3);
	cr_assert_not(ZSTD_isError(z));
	cr_assert_eq(sx_tt_write(p, out, z), 0);
	free(out);
	free(data);
	return p;
}

/* ---- reading back ---- */

struct readback {
	int open_rc;
	char msg[256];
	int dlt;
	int n;
	int end_rc; /* the last sx_capture_next return */
	char err[512];
	int64_t sec[8];
	uint32_t nsec[8];
	uint32_t wire[8], cap[8];
	uint64_t index[8];
	uint8_t status[8], proto[8];
	uint16_t sport[8];
};

static void read_all(const char *path, const char *filter, struct readback *r)
{
	struct sx_capture *cap = NULL;
	struct sx_pkt *pkt = calloc(1, sizeof(*pkt));
	int rc;

	cr_assert_not_null(pkt);
	memset(r, 0, sizeof(*r));
	r->open_rc = sx_capture_open(path, filter, &cap, r->msg, sizeof(r->msg));
	if (r->open_rc) {
		cr_assert_null(cap, "a failed open leaves *out NULL");
		free(pkt);
		return;
	}
	cr_assert_not_null(cap);
	r->dlt = sx_capture_dlt(cap);
	while ((rc = sx_capture_next(cap, pkt)) == 1) {
		if (r->n < 8) {
			r->sec[r->n] = pkt->ts_sec;
			r->nsec[r->n] = pkt->ts_nsec;
			r->wire[r->n] = pkt->wire_len;
			r->cap[r->n] = pkt->cap_len;
			r->index[r->n] = pkt->index;
			r->status[r->n] = pkt->status;
			r->proto[r->n] = pkt->proto;
			r->sport[r->n] = pkt->sport;
		}
		r->n++;
	}
	r->end_rc = rc;
	if (rc < 0)
		snprintf(r->err, sizeof(r->err), "%s", sx_capture_error(cap));
	sx_capture_close(cap);
	free(pkt);
}

/* The three frames came back whole, in order, decoded. */
static void assert_three(const struct readback *r, bool snapped)
{
	int i;

	cr_assert_eq(r->open_rc, 0, "open failed: %s", r->msg);
	cr_assert_eq(r->end_rc, 0, "read error: %s", r->err);
	cr_assert_eq(r->n, NPKT);
	cr_assert_eq(r->dlt, 1);
	for (i = 0; i < NPKT; i++) {
		cr_assert_eq(r->index[i], (uint64_t)i);
		cr_assert_eq(r->cap[i], lens[i]);
		cr_assert_eq(r->wire[i], lens[i] + (snapped ? 100 : 0));
		cr_assert_eq(r->proto[i], SX_P_UDP);
		cr_assert_eq(r->sport[i], 40000 + i);
	}
}

static void assert_ns_times(const struct readback *r, bool nano)
{
	int i;

	for (i = 0; i < NPKT; i++) {
		cr_assert_eq(r->sec[i], 1700000000 + i);
		cr_assert_eq(r->nsec[i], nano ? nsecs[i] : nsecs[i] / 1000 * 1000,
			     "packet %d: %u ns", i, r->nsec[i]);
	}
}

Test(ingest_capture, microsecond_pcap)
{
	char *p = write_us_pcap("us.pcap");
	struct readback r;
	int i;

	read_all(p, NULL, &r);
	assert_three(&r, false);
	for (i = 0; i < NPKT; i++) {
		cr_assert_eq(r.sec[i], 1000 + i);
		cr_assert_eq(r.nsec[i], (uint32_t)(i * 1111 * 1000), "µs scaled to ns");
	}
	free(p);
}

/* A classic pcap stores unsigned 32-bit seconds: 2065 is not 1929. */
Test(ingest_capture, seconds_after_2038)
{
	char *p = path_of("y2038.pcap");
	struct sx_tf_rec recs[2];
	struct readback r;

	make_frames();
	recs[0] = (struct sx_tf_rec){
	    .data = frames[0], .caplen = (uint32_t)lens[0], .sec = 2147483647, .usec = 1};
	recs[1] = (struct sx_tf_rec){
	    .data = frames[1], .caplen = (uint32_t)lens[1], .sec = 3000000000LL, .usec = 2};
	cr_assert_eq(sx_tf_write_pcap(p, 1, recs, 2), 0);
	read_all(p, NULL, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.sec[0], 2147483647);
	cr_assert_eq(r.sec[1], 3000000000LL, "read back as %lld", (long long)r.sec[1]);
	cr_assert_eq(r.nsec[1], 2000);
	free(p);
}

Test(ingest_capture, nanosecond_pcap_full_precision)
{
	struct bytes o = {0};
	char *p;
	struct readback r;

	pcap_bytes(&o, false, true, 1);
	cr_assert_eq(memcmp(o.b, "\x4d\x3c\xb2\xa1", 4), 0);
	p = write_bytes("ns.pcap", &o);
	read_all(p, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(o.b);
	free(p);
}

Test(ingest_capture, big_endian_pcap_us_and_ns)
{
	struct bytes o = {0};
	char *p;
	struct readback r;

	pcap_bytes(&o, true, false, 1);
	cr_assert_eq(memcmp(o.b, "\xa1\xb2\xc3\xd4", 4), 0);
	p = write_bytes("be-us.pcap", &o);
	read_all(p, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, false);
	free(p);
	free(o.b);

	memset(&o, 0, sizeof(o));
	pcap_bytes(&o, true, true, 1);
	cr_assert_eq(memcmp(o.b, "\xa1\xb2\x3c\x4d", 4), 0);
	p = write_bytes("be-ns.pcap", &o);
	read_all(p, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(p);
	free(o.b);
}

Test(ingest_capture, pcapng_and_pcapng_named_pcap)
{
	struct bytes o = {0};
	char *p, *q;
	struct readback r;

	pcapng_bytes(&o);
	p = write_bytes("cap.pcapng", &o);
	read_all(p, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);

	q = write_bytes("really-pcapng.pcap", &o);
	read_all(q, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(p);
	free(q);
	free(o.b);
}

Test(ingest_capture, gzip_detected_by_content)
{
	struct bytes o = {0};
	char *ns, *gz, *us, *gz2;
	struct readback r;

	pcap_bytes(&o, false, true, 1);
	ns = write_bytes("ns.pcap", &o);
	gz = gzip_file(ns, "plain-name");
	read_all(gz, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);

	us = write_us_pcap("us.pcap");
	gz2 = gzip_file(us, "named.pcap"); /* a misleading suffix */
	read_all(gz2, NULL, &r);
	assert_three(&r, false);
	free(ns);
	free(gz);
	free(us);
	free(gz2);
	free(o.b);
}

Test(ingest_capture, gzip_of_pcapng_and_concatenated_members)
{
	struct bytes o = {0};
	char *ng, *gz, *cat;
	size_t n;
	char *z;
	struct bytes two = {0};
	struct readback r;

	pcapng_bytes(&o);
	ng = write_bytes("cap.pcapng", &o);
	gz = gzip_file(ng, "ng-gz");
	read_all(gz, NULL, &r);
	assert_three(&r, true);

	/* The same stream split into two gzip members (as `cat a.gz b.gz`). */
	{
		char *half1, *half2, *g1, *g2;
		struct bytes a = {0}, b = {0};

		put(&a, o.b, o.n / 2);
		put(&b, o.b + o.n / 2, o.n - o.n / 2);
		half1 = write_bytes("half1", &a);
		half2 = write_bytes("half2", &b);
		g1 = gzip_file(half1, "half1.gz");
		g2 = gzip_file(half2, "half2.gz");
		z = sx_tt_read(g1, &n);
		put(&two, z, n);
		free(z);
		z = sx_tt_read(g2, &n);
		put(&two, z, n);
		free(z);
		free(half1), free(half2), free(g1), free(g2), free(a.b), free(b.b);
	}
	cat = write_bytes("two-members", &two);
	read_all(cat, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(ng);
	free(gz);
	free(cat);
	free(o.b);
	free(two.b);
}

Test(ingest_capture, zstd_detected_by_content)
{
	struct bytes o = {0};
	char *ns, *zs, *ng, *zs2;
	struct readback r;

	pcap_bytes(&o, true, true, 1);
	ns = write_bytes("be-ns.pcap", &o);
	zs = zstd_file(ns, "zstd-capture");
	read_all(zs, NULL, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(o.b);

	memset(&o, 0, sizeof(o));
	pcapng_bytes(&o);
	ng = write_bytes("cap.pcapng", &o);
	zs2 = zstd_file(ng, "cap.pcap");
	read_all(zs2, NULL, &r);
	assert_three(&r, true);
	free(ns);
	free(zs);
	free(ng);
	free(zs2);
	free(o.b);
}

Test(ingest_capture, zstd_cli_when_present)
{
	char *us = write_us_pcap("us.pcap");
	char *zs = path_of("by-cli");
	char *cmd;
	struct readback r;

	if (sx_tt_run("command -v zstd", NULL, NULL) != 0) {
		free(us);
		free(zs);
		sx_tt_skip_missing("the zstd command is not installed (libzstd is tested above)");
	}
	cr_assert_gt(asprintf(&cmd, "zstd -q -c '%s' > '%s'", us, zs), 0);
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
	read_all(zs, NULL, &r);
	assert_three(&r, false);
	free(cmd);
	free(us);
	free(zs);
}

/* A second interface with another link type: the packets before it, then a
 * per-file error (libpcap reads one link type per file). */
Test(ingest_capture, pcapng_second_link_type_is_an_error)
{
	struct bytes o = {0};
	uint8_t raw[128];
	size_t nraw = sx_tf_ip(raw, sizeof(raw), "192.0.2.1", "192.0.2.2", 1,
			       "\x08\x00\x00\x00\x00\x01\x00\x01", 8);
	size_t pad = (4 - nraw % 4) % 4;
	uint32_t tot = (uint32_t)(32 + nraw + pad);
	char *p;
	struct readback r;

	pcapng_bytes(&o);
	/* IDB for LINKTYPE_RAW, then an EPB on interface 1. */
	put32(&o, 1, false);
	put32(&o, 20, false);
	put16(&o, 101, false);
	put16(&o, 0, false);
	put32(&o, 0, false);
	put32(&o, 20, false);
	put32(&o, 6, false);
	put32(&o, tot, false);
	put32(&o, 1, false);
	put32(&o, 0, false);
	put32(&o, 0, false);
	put32(&o, (uint32_t)nraw, false);
	put32(&o, (uint32_t)nraw, false);
	put(&o, raw, nraw);
	put(&o, "\0\0\0", pad);
	put32(&o, tot, false);
	p = write_bytes("two-links.pcapng", &o);
	read_all(p, NULL, &r);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.n, NPKT, "the packets of the first interface");
	cr_assert_lt(r.end_rc, 0);
	cr_assert_gt(strlen(r.err), 0);
	free(p);
	free(o.b);
}

/* ---- end of file and errors ---- */

Test(ingest_capture, truncated_mid_record_gives_packets_then_error)
{
	char *us = write_us_pcap("us.pcap");
	size_t n;
	char *data = sx_tt_read(us, &n);
	char *cut;
	struct readback r;
	struct bytes o = {0};

	/* Cut inside the last packet's data. */
	put(&o, data, n - 10);
	cut = write_bytes("cut-data.pcap", &o);
	read_all(cut, NULL, &r);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.n, 2, "the packets before the damage are returned");
	cr_assert_lt(r.end_rc, 0, "a truncated record is an error, not EOF");
	cr_assert_gt(strlen(r.err), 0);
	cr_assert_not_null(strstr(r.err, "after 2 packets"), "message: %s", r.err);
	free(cut);

	/* Cut inside the last record's 16-byte header. */
	o.n = 0;
	put(&o, data, n - lens[2] - 8);
	cut = write_bytes("cut-hdr.pcap", &o);
	read_all(cut, NULL, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_lt(r.end_rc, 0);
	cr_assert_gt(strlen(r.err), 0);
	free(cut);

	/* Cut exactly at a record boundary: a clean end. */
	o.n = 0;
	put(&o, data, n - lens[2] - 16);
	cut = write_bytes("cut-clean.pcap", &o);
	read_all(cut, NULL, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.end_rc, 0);
	free(cut);
	free(data);
	free(us);
	free(o.b);
}

Test(ingest_capture, truncated_gzip_stream)
{
	char *us = write_us_pcap("us.pcap");
	char *gz = gzip_file(us, "gz");
	size_t n;
	char *data = sx_tt_read(gz, &n);
	struct bytes o = {0};
	char *cut;
	struct readback r;

	put(&o, data, n - 12); /* drop the trailer and some data */
	cut = write_bytes("gz-cut", &o);
	read_all(cut, NULL, &r);
	if (r.open_rc == 0) {
		cr_assert_lt(r.end_rc, 0, "a cut gzip stream is not a clean end");
		cr_assert_not_null(strstr(r.err, "gzip"), "message: %s", r.err);
		cr_assert_leq(r.n, NPKT);
	} else {
		cr_assert_gt(strlen(r.msg), 0);
	}
	free(cut);
	free(gz);
	free(us);
	free(data);
	free(o.b);
}

Test(ingest_capture, header_only_file_is_valid_and_empty)
{
	char *p = path_of("empty.pcap");
	struct readback r;

	cr_assert_eq(sx_tf_write_pcap(p, 1, NULL, 0), 0);
	read_all(p, NULL, &r);
	cr_assert_eq(r.open_rc, 0, "msg: %s", r.msg);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.end_rc, 0);
	cr_assert_eq(r.dlt, 1);
	free(p);
}

/*
 * A file under 64 KiB is read ahead whole (and one byte), a short read
 * being its end; a plain file of 64 KiB or more is read by a stdio stream
 * of its own (its buffer the file's size and one byte, at most 1 MiB), and
 * a compressed one through the decompressor after its peeked magic: files
 * around both sizes and over several blocks, plain or compressed, give
 * every record whole, in order, and a clean end.  Record k is 1000 bytes of
 * pseudo-random data (so that a compressed file is as large as the plain
 * one) framed by two bytes (k & 0xff), with timestamp k, the last one
 * `extra` bytes longer.
 */
enum squeeze { PLAIN, GZIP, ZSTD };

static void check_sized(size_t nrec, size_t extra, const char *name, enum squeeze how)
{
	enum { RECLEN = 1000, ROOM = 1100 };
	struct sx_tf_rec *recs = calloc(nrec, sizeof(*recs));
	uint8_t(*data)[ROOM] = calloc(nrec, ROOM);
	char *p = path_of(name), msg[256];
	struct sx_capture *cap;
	struct sx_raw_rec rec;
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t k, i, n = 0;
	int rc;

	cr_assert(recs && data && extra <= ROOM - RECLEN);
	for (k = 0; k < nrec; k++) {
		size_t len = RECLEN + (k + 1 == nrec ? extra : 0);

		for (i = 0; i < ROOM; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			data[k][i] = (uint8_t)x;
		}
		data[k][0] = data[k][len - 1] = (uint8_t)(k & 0xff);
		recs[k] =
		    (struct sx_tf_rec){.data = data[k], .caplen = (uint32_t)len, .sec = (int64_t)k};
	}
	cr_assert_eq(sx_tf_write_pcap(p, 1, recs, nrec), 0);
	if (how != PLAIN) {
		char *z = how == GZIP ? gzip_file(p, "squeezed") : zstd_file(p, "squeezed");

		free(p);
		p = z;
	}
	cr_assert_eq(sx_capture_open(p, NULL, &cap, msg, sizeof(msg)), 0, "%s", msg);
	while ((rc = sx_capture_next_raw(cap, &rec)) == 1) {
		cr_assert_lt(n, nrec);
		cr_assert_eq(rec.caplen, recs[n].caplen);
		cr_assert_eq(rec.ts_sec, (int64_t)n);
		cr_assert_eq(memcmp(rec.data, data[n], rec.caplen), 0, "%s: record %zu", name, n);
		n++;
	}
	cr_assert_eq(rc, 0, "%s: %s", name, sx_capture_error(cap));
	cr_assert_eq(n, nrec, "%s: %zu of %zu records", name, n, nrec);
	sx_capture_close(cap);
	free(p);
	free(data);
	free(recs);
}

Test(ingest_capture, plain_files_around_the_read_ahead_block)
{
	/* 24 + 1016 x 64 + 100 = 64 KiB - 388 bytes; x 65: 64 KiB + 528 */
	check_sized(64, 100, "below-64k.pcap", PLAIN);
	check_sized(65, 0, "above-64k.pcap", PLAIN);
	/* 24 + 1016 x 1032 = 1 MiB - 40 bytes */
	check_sized(1, 0, "one.pcap", PLAIN);
	check_sized(1032, 0, "below.pcap", PLAIN);
	check_sized(1032, 39, "block-less-one.pcap", PLAIN);
	check_sized(1032, 40, "block.pcap", PLAIN);
	check_sized(1032, 41, "block-and-one.pcap", PLAIN);
	check_sized(2600, 0, "three-blocks.pcap", PLAIN);
}

Test(ingest_capture, compressed_files_of_several_blocks)
{
	check_sized(64, 100, "below-64k.pcap", GZIP);
	check_sized(65, 0, "above-64k.pcap", ZSTD);
	check_sized(1032, 40, "block.pcap", GZIP);
	check_sized(2600, 0, "three-blocks.pcap", GZIP);
	check_sized(2600, 0, "three-blocks.pcap", ZSTD);
}

static void assert_open_fails(const char *path, const char *want_in_msg)
{
	struct readback r;

	read_all(path, NULL, &r);
	cr_assert_neq(r.open_rc, 0, "%s opened", path);
	cr_assert_lt(r.open_rc, 0);
	cr_assert_gt(strlen(r.msg), 0, "%s: no message", path);
	cr_assert_null(strchr(r.msg, '\n'), "a one-line message");
	cr_assert_not_null(strstr(r.msg, want_in_msg), "%s: message \"%s\" lacks \"%s\"", path,
			   r.msg, want_in_msg);
}

Test(ingest_capture, missing_file)
{
	char *p = path_of("no-such-file.pcap");
	struct readback r;

	assert_open_fails(p, "No such file");
	read_all(p, NULL, &r);
	cr_assert_eq(r.open_rc, -ENOENT);
	free(p);
}

Test(ingest_capture, directory)
{
	struct readback r;

	assert_open_fails(dir, "directory");
	read_all(dir, NULL, &r);
	cr_assert_eq(r.open_rc, -EISDIR);
}

Test(ingest_capture, zero_byte_file)
{
	char *p = path_of("zero.pcap");

	cr_assert_eq(sx_tt_write(p, "", 0), 0);
	assert_open_fails(p, "empty");
	free(p);
}

Test(ingest_capture, text_file)
{
	char *p = path_of("notes.pcap");
	const char *text = "this is not a capture\nat all\n";
	struct readback r;

	cr_assert_eq(sx_tt_write(p, text, strlen(text)), 0);
	assert_open_fails(p, "not a pcap or pcapng");
	read_all(p, NULL, &r);
	cr_assert_eq(r.open_rc, SX_E_FORMAT);
	free(p);
}

Test(ingest_capture, short_header)
{
	char *us = write_us_pcap("us.pcap");
	size_t n;
	char *data = sx_tt_read(us, &n);
	char *p = path_of("short.pcap");
	struct readback r;

	cr_assert_eq(sx_tt_write(p, data, 10), 0);
	read_all(p, NULL, &r);
	cr_assert_neq(r.open_rc, 0);
	cr_assert_gt(strlen(r.msg), 0);
	free(p);
	free(us);
	free(data);
}

Test(ingest_capture, gzip_of_text_and_corrupt_gzip)
{
	char *t = path_of("text");
	char *gz, *bad;
	const char *text = "hello, world: not a capture, just compressed text\n";
	static const uint8_t junk[] = {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00,
				       0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct readback r;

	cr_assert_eq(sx_tt_write(t, text, strlen(text)), 0);
	gz = gzip_file(t, "text-gz");
	/* The magic that is not a capture's is the content's, not gzip's. */
	assert_open_fails(gz, "gzip-compressed, but the content is not a pcap or pcapng");

	bad = path_of("junk-gz");
	cr_assert_eq(sx_tt_write(bad, junk, sizeof(junk)), 0);
	read_all(bad, NULL, &r);
	cr_assert_neq(r.open_rc, 0);
	cr_assert_gt(strlen(r.msg), 0);
	free(t);
	free(gz);
	free(bad);
}

Test(ingest_capture, fifo_without_writer_does_not_hang)
{
	char *p = path_of("fifo");
	struct readback r;

	cr_assert_eq(mkfifo(p, 0600), 0);
	read_all(p, NULL, &r); /* the suite's timeout catches a hang */
	cr_assert_neq(r.open_rc, 0);
	cr_assert_not_null(strstr(r.msg, "no data"), "msg: %s", r.msg);
	free(p);
}

Test(ingest_capture, fifo_with_data)
{
	char *p = path_of("fifo");
	struct bytes o = {0};
	struct readback r;
	int keep, w;

	pcap_bytes(&o, false, true, 1);
	cr_assert_lt(o.n, 4096, "fits in the pipe buffer");
	cr_assert_eq(mkfifo(p, 0600), 0);
	/* Hold a read end so that the data waits in the pipe after the writer
	 * is gone; then the capture reads it and sees end of file. */
	keep = open(p, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(keep, 0);
	w = open(p, O_WRONLY);
	cr_assert_geq(w, 0);
	cr_assert_eq(write(w, o.b, o.n), (ssize_t)o.n);
	close(w);
	read_all(p, NULL, &r);
	close(keep);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(p);
	free(o.b);
}

/* Standard input as "-": a pipe holding a (compressed) capture. */
static void read_stdin(const void *data, size_t n, struct readback *r)
{
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_lt(n, 60000);
	cr_assert_eq(write(fds[1], data, n), (ssize_t)n);
	close(fds[1]);
	cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	read_all("-", NULL, r);
}

Test(ingest_capture, standard_input)
{
	struct bytes o = {0};
	struct readback r;

	pcap_bytes(&o, false, true, 1);
	read_stdin(o.b, o.n, &r);
	assert_three(&r, true);
	assert_ns_times(&r, true);
	free(o.b);
}

Test(ingest_capture, standard_input_gzip)
{
	char *us = write_us_pcap("us.pcap");
	char *gz = gzip_file(us, "gz");
	size_t n;
	char *data = sx_tt_read(gz, &n);
	struct readback r;

	read_stdin(data, n, &r);
	assert_three(&r, false);
	free(us);
	free(gz);
	free(data);
}

Test(ingest_capture, unsupported_link_type_is_read)
{
	char *p = path_of("wifi.pcap");
	struct sx_tf_rec recs[2];
	struct readback r;

	make_frames();
	recs[0] = (struct sx_tf_rec){.data = frames[0], .caplen = (uint32_t)lens[0], .sec = 5};
	recs[1] = (struct sx_tf_rec){.data = frames[1], .caplen = (uint32_t)lens[1], .sec = 6};
	cr_assert_eq(sx_tf_write_pcap(p, 105 /* DLT_IEEE802_11 */, recs, 2), 0);
	read_all(p, NULL, &r);
	cr_assert_eq(r.open_rc, 0, "msg: %s", r.msg);
	cr_assert_eq(r.dlt, 105);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.end_rc, 0);
	cr_assert_eq(r.status[0], SX_DEC_UNSUPPORTED);
	cr_assert_eq(r.status[1], SX_DEC_UNSUPPORTED);
	cr_assert_eq(r.proto[0], SX_P_UNKNOWN);
	cr_assert_eq(r.wire[1], lens[1]);
	free(p);
}

Test(ingest_capture, other_link_types_decode)
{
	char *p = path_of("raw.pcap");
	struct sx_tf_rec rec;
	uint8_t ip[128];
	size_t n = sx_tf_ip(ip, sizeof(ip), "192.0.2.1", "192.0.2.2", 1,
			    "\x08\x00\x00\x00\x00\x01\x00\x01", 8);
	struct readback r;

	cr_assert_gt(n, 0);
	rec = (struct sx_tf_rec){.data = ip, .caplen = (uint32_t)n, .sec = 1};
	cr_assert_eq(sx_tf_write_pcap(p, 12 /* DLT_RAW: LINKTYPE_RAW 101 in the file */, &rec, 1),
		     0);
	read_all(p, NULL, &r);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.status[0], SX_DEC_OK);
	cr_assert_eq(r.proto[0], SX_P_ICMP);
	free(p);
}

Test(ingest_capture, bpf_filter)
{
	char *p = path_of("mixed.pcap");
	struct sx_tf_rec recs[3];
	uint8_t a[256], b[256], c[256];
	size_t na, nb, nc;
	struct readback r;

	na = sx_tf_udp(a, sizeof(a), "192.0.2.1", 40000, "192.0.2.2", 40001, "x", 1);
	nb = sx_tf_tcp(b, sizeof(b), "192.0.2.1", 40002, "192.0.2.2", 40003, 0x02, NULL, 0);
	nc = sx_tf_udp(c, sizeof(c), "2001:db8::1", 40004, "2001:db8::2", 40005, "y", 1);
	recs[0] = (struct sx_tf_rec){.data = a, .caplen = (uint32_t)na, .sec = 1};
	recs[1] = (struct sx_tf_rec){.data = b, .caplen = (uint32_t)nb, .sec = 2};
	recs[2] = (struct sx_tf_rec){.data = c, .caplen = (uint32_t)nc, .sec = 3};
	cr_assert_eq(sx_tf_write_pcap(p, 1, recs, 3), 0);

	read_all(p, "udp", &r);
	cr_assert_eq(r.open_rc, 0);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.sport[0], 40000);
	cr_assert_eq(r.sport[1], 40004);

	read_all(p, "tcp", &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.sport[0], 40002);

	read_all(p, "this is not bpf", &r);
	cr_assert_eq(r.open_rc, SX_E_USAGE);
	cr_assert_not_null(strstr(r.msg, "bad filter"), "msg: %s", r.msg);
	free(p);
}

/* ---- the reader pool ---- */

#define NFILES 24

struct file_acc {
	uint64_t packets;
	uint64_t sum; /* checksum of (file, index, wire_len) */
	uint64_t next_index;
	int begun, ended;
	bool order_ok;
	bool same_thread;
	pthread_t thread;
	struct sx_file_status st; /* as given to file_end */
};

struct run_ctx {
	struct file_acc acc[NFILES];
	atomic_int inits, finis;
	atomic_int bad_tid;
	unsigned nthreads;
};

struct thread_ctx {
	struct run_ctx *rc;
	pthread_t self;
	unsigned tid;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0x100000001b3ull;
}

static int t_init(void *ctx, unsigned tid, void **tctx)
{
	struct run_ctx *rc = ctx;
	struct thread_ctx *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->rc = rc;
	t->self = pthread_self();
	t->tid = tid;
	if (tid >= rc->nthreads)
		atomic_fetch_add(&rc->bad_tid, 1);
	atomic_fetch_add(&rc->inits, 1);
	*tctx = t;
	return 0;
}

static void t_begin(void *tctx, uint32_t file)
{
	struct thread_ctx *t = tctx;
	struct file_acc *a = &t->rc->acc[file];

	a->begun++;
	a->thread = t->self;
	a->order_ok = true;
	a->same_thread = pthread_equal(t->self, pthread_self());
}

static void t_packet(void *tctx, const struct sx_pkt *pkt)
{
	struct thread_ctx *t = tctx;
	struct file_acc *a = &t->rc->acc[pkt->file];

	if (pkt->index != a->next_index)
		a->order_ok = false;
	if (!pthread_equal(a->thread, pthread_self()))
		a->same_thread = false;
	a->next_index = pkt->index + 1;
	a->packets++;
	a->sum = mix(mix(mix(a->sum, pkt->file), pkt->index), pkt->wire_len);
	a->sum = mix(mix(mix(a->sum, (uint64_t)pkt->ts_sec), pkt->ts_nsec), pkt->cap_len);
	a->sum = mix(mix(mix(a->sum, pkt->status), pkt->proto), pkt->payload_cap);
	if (pkt->payload_cap)
		a->sum = mix(mix(a->sum, pkt->payload[0]), pkt->payload[pkt->payload_cap - 1]);
}

static void t_end(void *tctx, uint32_t file, const struct sx_file_status *st)
{
	struct thread_ctx *t = tctx;
	struct file_acc *a = &t->rc->acc[file];

	a->ended++;
	memcpy(&a->st, st, sizeof(*st));
	if (!pthread_equal(a->thread, pthread_self()))
		a->same_thread = false;
}

static void t_fini(void *tctx)
{
	struct thread_ctx *t = tctx;

	atomic_fetch_add(&t->rc->finis, 1);
	free(t);
}

/* NFILES inputs: good captures of many sizes and formats, and bad ones. */
static char **make_inputs(void)
{
	char **paths = calloc(NFILES, sizeof(*paths));
	int i;

	cr_assert_not_null(paths);
	make_frames();
	for (i = 0; i < NFILES; i++) {
		char name[64];

		snprintf(name, sizeof(name), "in%02d.pcap", i);
		paths[i] = path_of(name);
		switch (i) {
		case 3: /* missing */
			break;
		case 7: { /* text */
			cr_assert_eq(sx_tt_write(paths[i], "garbage\n", 8), 0);
			break;
		}
		case 11: /* header only */
			cr_assert_eq(sx_tf_write_pcap(paths[i], 1, NULL, 0), 0);
			break;
		case 13: { /* pcapng */
			struct bytes o = {0};

			pcapng_bytes(&o);
			cr_assert_eq(sx_tt_write(paths[i], o.b, o.n), 0);
			free(o.b);
			break;
		}
		case 17: { /* gzip of a big-endian ns pcap */
			struct bytes o = {0};
			char *tmp = path_of("tmp-be");
			char *gz;

			pcap_bytes(&o, true, true, 1);
			cr_assert_eq(sx_tt_write(tmp, o.b, o.n), 0);
			gz = gzip_file(tmp, "tmp-gz");
			cr_assert_eq(rename(gz, paths[i]), 0);
			unlink(tmp);
			free(tmp);
			free(gz);
			free(o.b);
			break;
		}
		case 19: /* empty */
			cr_assert_eq(sx_tt_write(paths[i], "", 0), 0);
			break;
		default: { /* i*7 packets, wire lengths varying; 21 is cut mid-record */
			size_t n = (size_t)i * 7 + 1, k;
			struct sx_tf_rec *recs = calloc(n, sizeof(*recs));

			cr_assert_not_null(recs);
			for (k = 0; k < n; k++)
				recs[k] = (struct sx_tf_rec){
				    .data = frames[k % NPKT],
				    .caplen = (uint32_t)lens[k % NPKT],
				    .wirelen =
					(uint32_t)(lens[k % NPKT] + (k * 13 + (size_t)i) % 700),
				    .sec = (int64_t)(1000 * i + k),
				    .usec = (uint32_t)k};
			cr_assert_eq(sx_tf_write_pcap(paths[i], 1, recs, n), 0);
			free(recs);
			if (i == 21) /* two whole records, then 20 bytes of the third */
				cr_assert_eq(truncate(paths[i], (off_t)(24 + 16 + lens[0] + 16 +
									lens[1] + 20)),
					     0);
			break;
		}
		}
	}
	return paths;
}

static struct run_ctx *run_with(char **paths, unsigned nthreads, struct sx_file_status *status)
{
	static const struct sx_ingest_ops ops = {.thread_init = t_init,
						 .file_begin = t_begin,
						 .packet = t_packet,
						 .file_end = t_end,
						 .thread_fini = t_fini};
	struct sx_ingest_cfg cfg = {
	    .paths = (const char *const *)paths, .npaths = NFILES, .nthreads = nthreads};
	struct run_ctx *rc = calloc(1, sizeof(*rc));
	int i, want_threads = (int)(nthreads < NFILES ? nthreads : NFILES);

	cr_assert_not_null(rc);
	rc->nthreads = nthreads;
	cr_assert_eq(sx_ingest_run(&cfg, &ops, rc, status), 0);
	cr_assert_eq(atomic_load(&rc->inits), want_threads);
	cr_assert_eq(atomic_load(&rc->finis), want_threads);
	cr_assert_eq(atomic_load(&rc->bad_tid), 0);
	for (i = 0; i < NFILES; i++) {
		struct file_acc *a = &rc->acc[i];

		cr_assert_eq(a->begun, 1, "file %d begun %d times", i, a->begun);
		cr_assert_eq(a->ended, 1, "file %d ended %d times", i, a->ended);
		cr_assert(a->order_ok, "file %d: packets out of order", i);
		cr_assert(a->same_thread, "file %d: callbacks on several threads", i);
		cr_assert_eq(a->packets, status[i].packets);
		cr_assert_eq(memcmp(&a->st, &status[i], sizeof(status[i])), 0,
			     "file_end saw the final status");
	}
	return rc;
}

Test(ingest_capture, pool_same_result_for_1_2_4_threads)
{
	char **paths = make_inputs();
	struct sx_file_status st1[NFILES], st2[NFILES], st4[NFILES];
	struct run_ctx *r1, *r2, *r4;
	struct sx_ingest_cfg cfg = {.paths = (const char *const *)paths, .npaths = NFILES};
	int i;

	memset(st1, 0, sizeof(st1));
	memset(st2, 0, sizeof(st2));
	memset(st4, 0, sizeof(st4));
	r1 = run_with(paths, 1, st1);
	r2 = run_with(paths, 2, st2);
	r4 = run_with(paths, 4, st4);
	for (i = 0; i < NFILES; i++) {
		cr_assert_eq(st1[i].err, st2[i].err, "file %d", i);
		cr_assert_eq(st1[i].err, st4[i].err, "file %d", i);
		cr_assert_str_eq(st1[i].msg, st2[i].msg);
		cr_assert_str_eq(st1[i].msg, st4[i].msg);
		/* Which files got a second thread is the only difference. */
		st2[i].piped = st4[i].piped = st1[i].piped;
		cr_assert_eq(memcmp(&st1[i], &st2[i], sizeof(st1[i])), 0, "file %d status", i);
		cr_assert_eq(memcmp(&st1[i], &st4[i], sizeof(st1[i])), 0, "file %d status", i);
		cr_assert_eq(r1->acc[i].packets, r2->acc[i].packets, "file %d", i);
		cr_assert_eq(r1->acc[i].packets, r4->acc[i].packets, "file %d", i);
		cr_assert_eq(r1->acc[i].sum, r2->acc[i].sum, "file %d checksum", i);
		cr_assert_eq(r1->acc[i].sum, r4->acc[i].sum, "file %d checksum", i);
	}

	/* What each file gave. */
	for (i = 0; i < NFILES; i++) {
		const struct sx_file_status *s = &st1[i];

		switch (i) {
		case 3:
		case 7:
		case 19:
			cr_assert_lt(s->err, 0, "file %d", i);
			cr_assert_not(s->opened);
			cr_assert_gt(strlen(s->msg), 0);
			cr_assert_eq(s->packets, 0);
			break;
		case 11:
			cr_assert_eq(s->err, 0);
			cr_assert(s->opened);
			cr_assert(s->warn_empty);
			cr_assert_eq(s->packets, 0);
			break;
		case 13:
		case 17:
			cr_assert_eq(s->err, 0, "file %d: %s", i, s->msg);
			cr_assert_eq(s->packets, NPKT);
			cr_assert_eq(s->first_sec, 1700000000);
			cr_assert_eq(s->first_nsec, nsecs[0]);
			break;
		case 21:
			cr_assert_lt(s->err, 0);
			cr_assert(s->opened);
			cr_assert_eq(s->packets, 2, "the packets before the cut");
			cr_assert_gt(strlen(s->msg), 0);
			break;
		default:
			cr_assert_eq(s->err, 0, "file %d: %s", i, s->msg);
			cr_assert(s->opened);
			cr_assert_not(s->warn_empty);
			cr_assert_eq(s->packets, (uint64_t)i * 7 + 1);
			cr_assert_eq(s->ip_packets, s->packets);
			cr_assert_eq(s->by_status[SX_DEC_OK], s->packets);
			cr_assert_eq(s->dlt, 1);
			cr_assert_eq(s->first_sec, 1000 * i);
			cr_assert_eq(s->first_nsec, 0);
			break;
		}
	}
	cr_assert_eq(sx_ingest_report(&cfg, st1), SX_EXIT_PARTIAL);
	for (i = 0; i < NFILES; i++)
		free(paths[i]);
	free(paths);
	free(r1);
	free(r2);
	free(r4);
}

/*
 * One capture, a spare thread: read on one thread, decoded on the other
 * (reader.c's pipe).  Every input of make_inputs() alone, then a capture
 * long enough to fill many batches (more records and bytes than one
 * holds), whole and cut mid-record: the same packets, checksums and status
 * as a plain single-thread read, and the pipe was used.
 */
static void piped_equals_plain(const char *path)
{
	static const struct sx_ingest_ops ops = {.thread_init = t_init,
						 .file_begin = t_begin,
						 .packet = t_packet,
						 .file_end = t_end,
						 .thread_fini = t_fini};
	const char *paths[1] = {path};
	struct sx_file_status st1[1], st2[1];
	struct sx_ingest_cfg cfg = {.paths = paths, .npaths = 1};
	struct run_ctx *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));

	cr_assert_not_null(r1);
	cr_assert_not_null(r2);
	r1->nthreads = cfg.nthreads = 1;
	cr_assert_eq(sx_ingest_run(&cfg, &ops, r1, st1), 0);
	r2->nthreads = cfg.nthreads = 2;
	cr_assert_eq(sx_ingest_run(&cfg, &ops, r2, st2), 0);
	cr_assert_eq(atomic_load(&r2->inits), 1, "one decoding thread");
	cr_assert_not(st1[0].piped);
	if (st1[0].opened)
		cr_assert(st2[0].piped, "%s: the pipe was not used", path);
	cr_assert(r2->acc[0].order_ok && r2->acc[0].same_thread);
	cr_assert_eq(r2->acc[0].begun, 1);
	cr_assert_eq(r2->acc[0].ended, 1);
	cr_assert_eq(r1->acc[0].packets, r2->acc[0].packets, "%s", path);
	cr_assert_eq(r1->acc[0].sum, r2->acc[0].sum, "%s: packets differ", path);
	cr_assert_str_eq(st1[0].msg, st2[0].msg);
	st2[0].piped = false;
	cr_assert_eq(memcmp(&st1[0], &st2[0], sizeof(st1[0])), 0, "%s: status", path);
	free(r1);
	free(r2);
}

Test(ingest_capture, pool_piped_read_equals_plain_read)
{
	char **paths = make_inputs();
	char *big = path_of("big.pcap");
	size_t n = 20000, k;
	struct sx_tf_rec *recs = calloc(n, sizeof(*recs));
	uint8_t(*buf)[1600] = calloc(n, sizeof(*buf));
	struct stat sb;
	int i;

	for (i = 0; i < NFILES; i++)
		piped_equals_plain(paths[i]);

	/* 20,000 records of 54..1600 bytes (about 16 MB): many batches, and
	 * records that do not fit the rest of a batch. */
	cr_assert_not_null(recs);
	cr_assert_not_null(buf);
	for (k = 0; k < n; k++) {
		size_t len = lens[k % NPKT], caplen = len + (k * 7919) % (1600 - len);
		size_t j;

		memcpy(buf[k], frames[k % NPKT], len);
		for (j = len; j < caplen; j++)
			buf[k][j] = (uint8_t)(k + j);
		recs[k] = (struct sx_tf_rec){.data = buf[k],
					     .caplen = (uint32_t)caplen,
					     .sec = 1700000000 + (int64_t)(k / 100),
					     .usec = (uint32_t)(k % 100) * 10000};
	}
	cr_assert_eq(sx_tf_write_pcap(big, 1, recs, n), 0);
	piped_equals_plain(big);
	cr_assert_eq(stat(big, &sb), 0);
	cr_assert_eq(truncate(big, sb.st_size - 100), 0, "cut inside the last record");
	piped_equals_plain(big);
	cr_assert_eq(truncate(big, sb.st_size / 2 + 3), 0, "cut in the middle");
	piped_equals_plain(big);
	for (i = 0; i < NFILES; i++)
		free(paths[i]);
	free(paths);
	free(recs);
	free(buf);
	free(big);
}

Test(ingest_capture, pool_more_threads_than_files_and_all_good)
{
	char *a = write_us_pcap("a.pcap");
	const char *paths[2] = {a, a};
	struct sx_file_status st[2];
	struct sx_ingest_cfg cfg = {.paths = paths, .npaths = 2, .nthreads = 8};
	static const struct sx_ingest_ops none = {0};

	cr_assert_eq(sx_ingest_run(&cfg, &none, NULL, st), 0);
	cr_assert_eq(st[0].packets, NPKT);
	cr_assert_eq(st[1].packets, NPKT);
	cr_assert_eq(sx_ingest_report(&cfg, st), SX_EXIT_OK);
	free(a);
}

Test(ingest_capture, pool_all_bad_is_failure)
{
	char *m = path_of("missing");
	const char *paths[1] = {m};
	struct sx_file_status st[1];
	struct sx_ingest_cfg cfg = {.paths = paths, .npaths = 1, .nthreads = 2};
	static const struct sx_ingest_ops none = {0};

	cr_assert_eq(sx_ingest_run(&cfg, &none, NULL, st), 0);
	cr_assert_lt(st[0].err, 0);
	cr_assert_eq(sx_ingest_report(&cfg, st), SX_EXIT_FAILURE);
	free(m);
}

Test(ingest_capture, pool_unsupported_link_type_reported)
{
	char *p = path_of("wifi.pcap");
	const char *paths[1] = {p};
	struct sx_file_status st[1];
	struct sx_ingest_cfg cfg = {.paths = paths, .npaths = 1, .nthreads = 1};
	static const struct sx_ingest_ops none = {0};
	struct sx_tf_rec rec;

	make_frames();
	rec = (struct sx_tf_rec){.data = frames[0], .caplen = (uint32_t)lens[0], .sec = 5};
	cr_assert_eq(sx_tf_write_pcap(p, 105, &rec, 1), 0);
	cr_assert_eq(sx_ingest_run(&cfg, &none, NULL, st), 0);
	cr_assert_eq(st[0].err, SX_E_LINKTYPE);
	cr_assert(st[0].opened);
	cr_assert_eq(st[0].packets, 1);
	cr_assert_eq(st[0].by_status[SX_DEC_UNSUPPORTED], 1);
	cr_assert_not_null(strstr(st[0].msg, "105"), "msg: %s", st[0].msg);
	free(p);
}

Test(ingest_capture, pool_with_no_files)
{
	struct sx_ingest_cfg cfg = {.paths = NULL, .npaths = 0, .nthreads = 4};
	static const struct sx_ingest_ops none = {0};
	struct sx_file_status st[1];

	cr_assert_eq(sx_ingest_run(&cfg, &none, NULL, st), 0);
	cr_assert_eq(sx_ingest_report(&cfg, st), SX_EXIT_OK);
}

/* ---- the order captures are taken in ---- */

struct taken {
	uint32_t file[4];
	unsigned n;
};

static void note_begin(void *tctx, uint32_t file)
{
	struct taken *t = tctx;

	if (t->n < 4)
		t->file[t->n++] = file;
}

static int note_init(void *ctx, unsigned tid, void **tctx)
{
	(void)tid;
	*tctx = ctx;
	return 0;
}

/* One reader takes the files largest first: by a stat of each, or by the
 * sizes the caller found (not stat'ed again: given sizes that contradict
 * the files' decide). */
Test(ingest_capture, pool_takes_the_largest_first_by_the_sizes_given)
{
	static const struct sx_ingest_ops ops = {.thread_init = note_init,
						 .file_begin = note_begin};
	char *p[3] = {path_of("one.pcap"), path_of("three.pcap"), path_of("two.pcap")};
	const char *paths[3] = {p[0], p[1], p[2]};
	static const size_t npkt[3] = {1, 3, 2};
	const uint64_t sizes[3] = {300, UINT64_MAX, 100}; /* not a regular file first */
	struct sx_ingest_cfg cfg = {.paths = paths, .npaths = 3, .nthreads = 1};
	struct sx_file_status st[3];
	struct sx_tf_rec rec[3];
	struct taken t = {0};
	unsigned i, k;

	make_frames();
	for (i = 0; i < 3; i++) {
		for (k = 0; k < npkt[i]; k++)
			rec[k] = (struct sx_tf_rec){
			    .data = frames[k], .caplen = (uint32_t)lens[k], .sec = 5 + k};
		cr_assert_eq(sx_tf_write_pcap(p[i], 1, rec, npkt[i]), 0);
	}
	cr_assert_eq(sx_ingest_run(&cfg, &ops, &t, st), 0);
	cr_assert_eq(t.n, 3);
	cr_assert(t.file[0] == 1 && t.file[1] == 2 && t.file[2] == 0, "stat'ed: %u %u %u",
		  t.file[0], t.file[1], t.file[2]);
	memset(&t, 0, sizeof(t));
	cfg.sizes = sizes;
	cr_assert_eq(sx_ingest_run(&cfg, &ops, &t, st), 0);
	cr_assert_eq(t.n, 3);
	cr_assert(t.file[0] == 1 && t.file[1] == 0 && t.file[2] == 2, "given: %u %u %u", t.file[0],
		  t.file[1], t.file[2]);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(st[i].packets, npkt[i]);
		free(p[i]);
	}
}
