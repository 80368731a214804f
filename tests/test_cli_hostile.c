/*
 * test_cli_hostile.c - damaged and hostile inputs, and outputs that cannot
 * be written, run as a program (SX_BINARY) through `sigex packets`, `sigex
 * flows` and the main job (`sigex DEVICE IPV4 PCAP...`), and the damages
 * through the main job in --mode upstream (see upstream_on_damaged_captures).
 *
 * Sources.  Damaged files are made from captures of three origins: the
 * test's own (a classic pcap and a pcapng written here, so these tests
 * always run), the project's generated demo corpus (build tree), and real
 * captures of the shared corpora (a big-endian microsecond pcap, a
 * little-endian nanosecond pcap, a pcapng; skipped with a message when
 * ../shared/corpora is missing).  From each, the damages of the table
 * `damages` below: cut inside a record header, inside its data, at a
 * record boundary; caplen above the link type's maximum, larger than the
 * file, larger than the snapshot length; wrong magic, version, link type;
 * flipped bits in record headers and in packet data; for pcapng, unknown
 * and local blocks, an oversized block, a block longer than the file, a bad
 * trailer or length, a packet on an undeclared interface, a second
 * interface of another link type.  Then special files (a directory, a path
 * that does not exist, a symlink loop, a FIFO with and without a writer, a
 * zero-byte file, a valid capture with no packet, a character device, EIO
 * from /proc/self/mem, EACCES as the user nobody, a cut gzip stream), random
 * bit flips, and all of them in one run.
 *
 * The oracle.  A damaged file D that breaks at record k must give exactly
 * what its clean prefix P (the first k records, cut at a record boundary)
 * gives: the packets before the damage are kept and processed, nothing
 * after it is.  P and D are written under the same name (x.pcap) in two
 * directories, each run is made from its own directory with the same good
 * captures beside (../g1.pcap ...), so the outputs must be byte-identical:
 * the packet CSV, the flow CSV, and for the main job stdout and every file
 * of the output directory (SOURCE_DATE_EPOCH fixes last-update).  An input
 * that cannot be read at all must give what the run without it gives.  And
 * every damaged run: exit 3, exactly one line on stderr, naming x.pcap and
 * the cause; no sanitizer report; done within RUN_MAX_SECS.
 *
 * Not errors, by design (exit 0): a file cut exactly at a record boundary
 * is a valid shorter capture; a record whose caplen exceeds the header's
 * snapshot length (but not the link type's maximum) is read cut to the
 * snapshot length, as libpcap does for the files of old tcpdumps; unknown
 * pcapng blocks are skipped (the pcapng specification says so); flipped
 * bits in packet data, timestamps or wire lengths are data.
 *
 * Root.  The tests run as root, for whom chmod 000 does not stop open():
 * EACCES is tested by running sigex as nobody (setpriv), skipped when that
 * fails.  EIO comes from /proc/self/mem, whose offset 0 is unmapped.  For
 * the main job, a path that does not exist, a directory and a symlink loop
 * are usage errors (exit 2, the reference tool's argument check), found
 * before anything is read or written.
 *
 * Outputs (the "nothing lost"): every command that writes (packets
 * -o, flows -o, mine -o DIR, the main job -o DIR) on a full 64 KiB tmpfs and
 * into a directory remounted read-only: a message naming the file and the
 * cause, exit 1, the earlier file intact, no temporary file left (mounts
 * need root: skipped when mount fails).  Paths that must never be replaced
 * by a rename: /dev/stdout (in a private mount namespace with its own
 * /dev), a link to /proc/self/fd/1 with stdout redirected to a file, a
 * symlink to a regular file (kept; its target replaced).  And the memory
 * ceiling (--max-flows): many concurrent flows over a small ceiling give
 * exit 0, one warning, and every IP packet still counted once.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/compiler.h"
#include "support/csv.h"
#include "support/frames.h"
#include "support/tmp.h"

#define RUN_MAX_SECS 30.0 /* a hang, not a slow machine under sanitizers */
#define SHARED	     SX_SHARED_CORPORA
#define TRACES	     SHARED "/smart-home-network-security+signature-extraction/test/traces"
#define REAL_NSEC                                                                                  \
	SHARED "/smart-home-network-security+smart-home-firewall/eval/cpu/normal/wlan5.0.pcap"
#define REAL_NG                                                                                    \
	SHARED "/smart-home-network-security+smart-home-firewall/eval/cpu/lookup/wlan5.0.pcap"
#define DEMO SX_BUILD_DIR "/corpora/demo"

/* The device of the synthetic captures, and its peers. */
#define DEV	 "192.0.2.10"
#define REAL_DEV "192.168.1.135"

static char *dir;

/*
 * Criterion 2.4.1 leaks the 48-byte timeout-watchdog entry of some tests
 * (calloc in libcriterion, from criterion_run_all_tests) when a suite with
 * .timeout runs with --jobs=2; LeakSanitizer would fail the runner for it.
 * Built-in suppression for this binary only: any leak with a frame of ours
 * is still reported, and the sigex processes run here are not concerned.
 */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libcriterion.so\n";
}

/* A note on stderr (cr_log_* allocations leak under LeakSanitizer). */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("[note] ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
static char *mounted[4];
static int nmounted;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
	/* nobody (the EACCES test) must reach the files */
	chmod(dir, 0755);
}

static void teardown(void)
{
	while (nmounted > 0) {
		char *m = mounted[--nmounted], *cmd;

		if (m && asprintf(&cmd, "umount -l '%s' 2>/dev/null", m) > 0) {
			if (system(cmd) != 0)
				note("cannot unmount %s", m);
			free(cmd);
		}
		free(m);
	}
	sx_tt_rm_tree(dir);
	free(dir);
}

TestSuite(cli_hostile, .init = setup, .fini = teardown);

/* ---- running sigex ---- */

struct result {
	int rc;
	char *out;
	char *err;
	double secs;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* No report of AddressSanitizer, LeakSanitizer or UBSan in a run's stderr. */
static void assert_no_sanitizer(const char *err, const char *what)
{
	static const char *const marks[] = {"Sanitizer", "runtime error:", "==ERROR"};
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(marks); i++)
		cr_assert_null(strstr(err, marks[i]), "%s: sanitizer report:\n%s", what, err);
}

/* Run a shell command line; a signal, a sanitizer report or a slow run fail. */
static struct result shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct result shell(const char *fmt, ...)
{
	struct result r;
	char *cmd;
	va_list ap;
	double t0;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	t0 = now();
	r.rc = sx_tt_run(cmd, &r.out, &r.err);
	r.secs = now() - t0;
	cr_assert_not_null(r.out);
	cr_assert_not_null(r.err);
	cr_assert_lt(r.rc, 124, "killed or timed out (%d): %s\n%s", r.rc, cmd, r.err);
	assert_no_sanitizer(r.err, cmd);
	cr_assert_lt(r.secs, RUN_MAX_SECS, "%.1f s: %s", r.secs, cmd);
	free(cmd);
	return r;
}

static void free_result(struct result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* Lines of text that contain every one of a and b (b may be NULL). */
static size_t lines_with(const char *text, const char *a, const char *b)
{
	size_t n = 0;
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);

		if (strstr(copy, a) && (!b || strstr(copy, b)))
			n++;
		free(copy);
		line += len + (end ? 1 : 0);
	}
	return n;
}

static char *sub(const char *name)
{
	char *p = sx_tt_path(dir, name);

	cr_assert_not_null(p);
	return p;
}

static void mkdir_in(const char *name)
{
	char *p = sub(name);

	cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p, strerror(errno));
	free(p);
}

/* ---- captures in memory ---- */

struct bytes {
	uint8_t *d;
	size_t n;
};

/* A capture parsed into its records (pcap) or packet blocks (pcapng). */
struct cap {
	struct bytes b;
	bool ng; /* pcapng */
	bool be; /* big-endian headers */
	size_t nrec;
	size_t *off; /* offset of each record / packet block */
	size_t idb;  /* pcapng: offset of the first Interface Description Block */
};

static uint32_t get32(const uint8_t *d, bool be, size_t at)
{
	if (be)
		return (uint32_t)d[at] << 24 | (uint32_t)d[at + 1] << 16 |
		       (uint32_t)d[at + 2] << 8 | d[at + 3];
	return (uint32_t)d[at + 3] << 24 | (uint32_t)d[at + 2] << 16 | (uint32_t)d[at + 1] << 8 |
	       d[at];
}

static void put32(uint8_t *d, bool be, size_t at, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		d[at + (size_t)i] = (uint8_t)(v >> (be ? 24 - 8 * i : 8 * i));
}

static void put16(uint8_t *d, bool be, size_t at, uint16_t v)
{
	d[at + (be ? 0 : 1)] = (uint8_t)(v >> 8);
	d[at + (be ? 1 : 0)] = (uint8_t)v;
}

static void push_off(struct cap *c, size_t off)
{
	c->off = realloc(c->off, (c->nrec + 1) * sizeof(*c->off));
	cr_assert_not_null(c->off);
	c->off[c->nrec++] = off;
}

static struct cap parse_cap(uint8_t *d, size_t n)
{
	static const uint8_t le_us[4] = {0xd4, 0xc3, 0xb2, 0xa1},
			     le_ns[4] = {0x4d, 0x3c, 0xb2, 0xa1};
	static const uint8_t be_us[4] = {0xa1, 0xb2, 0xc3, 0xd4},
			     be_ns[4] = {0xa1, 0xb2, 0x3c, 0x4d};
	static const uint8_t ng[4] = {0x0a, 0x0d, 0x0d, 0x0a}, bom_le[4] = {0x4d, 0x3c, 0x2b, 0x1a};
	struct cap c;
	size_t off;

	memset(&c, 0, sizeof(c));
	c.b.d = d;
	c.b.n = n;
	cr_assert_geq(n, 24, "not a capture");
	if (!memcmp(d, ng, 4)) {
		c.ng = true;
		c.be = memcmp(d + 8, bom_le, 4) != 0;
		for (off = 0; off + 12 <= n;) {
			uint32_t type = get32(d, c.be, off), len = get32(d, c.be, off + 4);

			cr_assert(len >= 12 && len % 4 == 0 && off + len <= n, "bad block at %zu",
				  off);
			if (type == 1 && !c.idb)
				c.idb = off;
			if (type == 6 || type == 3 || type == 2)
				push_off(&c, off);
			off += len;
		}
		cr_assert_neq(c.idb, 0, "no interface block");
		return c;
	}
	cr_assert(!memcmp(d, le_us, 4) || !memcmp(d, le_ns, 4) || !memcmp(d, be_us, 4) ||
		      !memcmp(d, be_ns, 4),
		  "not a pcap");
	c.be = d[0] == 0xa1;
	for (off = 24; off + 16 <= n;) {
		push_off(&c, off);
		off += 16 + get32(d, c.be, off + 8);
	}
	cr_assert_eq(off, n, "a capture with a damaged end as a source");
	return c;
}

static struct cap load_cap(const char *path)
{
	size_t n;
	uint8_t *d = (uint8_t *)sx_tt_read(path, &n);

	cr_assert_not_null(d, "cannot read %s", path);
	return parse_cap(d, n);
}

static void free_cap(struct cap *c)
{
	free(c->b.d);
	free(c->off);
}

static struct bytes copy_of(const uint8_t *d, size_t n)
{
	struct bytes b = {malloc(n ? n : 1), n};

	cr_assert_not_null(b.d);
	memcpy(b.d, d, n);
	return b;
}

/* Insert ins before offset at. */
static struct bytes spliced(const struct cap *c, size_t at, const uint8_t *ins, size_t nins)
{
	struct bytes b = {malloc(c->b.n + nins), c->b.n + nins};

	cr_assert_not_null(b.d);
	memcpy(b.d, c->b.d, at);
	memcpy(b.d + at, ins, nins);
	memcpy(b.d + at + nins, c->b.d + at, c->b.n - at);
	return b;
}

static void write_bytes(const char *path, const struct bytes *b)
{
	cr_assert_eq(sx_tt_write(path, b->d, b->n), 0, "cannot write %s", path);
}

/* ---- the test's own captures ---- */

/* A small DNS query or answer for name (one A record in the answer). */
static size_t dns_msg(uint8_t *m, const char *name, bool answer, uint16_t id)
{
	size_t n = 12, i;
	const char *p = name;

	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = answer ? 0x81 : 0x01;
	m[3] = answer ? 0x80 : 0x00;
	m[5] = 1;
	m[7] = answer ? 1 : 0;
	while (*p) {
		size_t l = strcspn(p, ".");

		m[n++] = (uint8_t)l;
		memcpy(m + n, p, l);
		n += l;
		p += l + (p[l] == '.');
	}
	m[n++] = 0;
	m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
	if (answer) {
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0,   1,	0,   0,
					     0,	   60,	 0, 4, 198, 51, 100, 7};

		for (i = 0; i < sizeof(rr); i++)
			m[n++] = rr[i];
	}
	return n;
}

/*
 * An occurrence as the test imagines one: the device asks DNS for
 * api.example.com, opens TCP to it on 443 and exchanges some data, sends a
 * UDP datagram to a local peer, with an ARP frame (not IP) in between.
 * Ports and timestamps move with seq.
 */
static void write_own(const char *path, unsigned seq)
{
	static uint8_t frames[16][1600];
	struct sx_tf_rec recs[16];
	uint8_t pl[1400], dns[128];
	int64_t t0 = 1700000000 + (int64_t)seq * 600;
	uint16_t sp = (uint16_t)(40000 + seq * 7), dp = (uint16_t)(50000 + seq * 13);
	size_t n = 0, k, len;

	memset(pl, 'd', sizeof(pl));
	len = dns_msg(dns, "api.example.com", false, (uint16_t)seq);
	recs[n].caplen =
	    (uint32_t)sx_tf_udp(frames[n], sizeof(frames[n]), DEV, dp, "192.0.2.1", 53, dns, len);
	n++;
	len = dns_msg(dns, "api.example.com", true, (uint16_t)seq);
	recs[n].caplen =
	    (uint32_t)sx_tf_udp(frames[n], sizeof(frames[n]), "192.0.2.1", 53, DEV, dp, dns, len);
	n++;
	recs[n].caplen = (uint32_t)sx_tf_tcp(frames[n], sizeof(frames[n]), DEV, sp, "198.51.100.7",
					     443, 0x02, NULL, 0);
	n++;
	recs[n].caplen = (uint32_t)sx_tf_tcp(frames[n], sizeof(frames[n]), "198.51.100.7", 443, DEV,
					     sp, 0x12, NULL, 0);
	n++;
	/* ARP request: not IP */
	memset(frames[n], 0, 42);
	memset(frames[n], 0xff, 6);
	frames[n][6] = 0x02;
	frames[n][12] = 0x08;
	frames[n][13] = 0x06;
	recs[n].caplen = 42;
	n++;
	for (k = 0; k < 6; k++, n++)
		recs[n].caplen = (uint32_t)sx_tf_tcp(
		    frames[n], sizeof(frames[n]), k % 2 ? "198.51.100.7" : DEV, k % 2 ? 443 : sp,
		    k % 2 ? DEV : "198.51.100.7", k % 2 ? sp : 443, 0x18, pl, 200 + k * 150);
	recs[n].caplen = (uint32_t)sx_tf_udp(frames[n], sizeof(frames[n]), DEV, 5000, "192.0.2.50",
					     9999, pl, 64);
	n++;
	for (k = 0; k < n; k++) {
		cr_assert_gt(recs[k].caplen, 0);
		recs[k].data = frames[k];
		recs[k].wirelen = 0;
		recs[k].sec = t0 + (int64_t)(k / 4);
		recs[k].usec = (uint32_t)(k * 1000 + seq);
	}
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0);
}

static void ng_block(struct bytes *b, uint32_t type, const uint8_t *body, size_t nbody)
{
	uint32_t len = (uint32_t)(12 + ((nbody + 3) & ~(size_t)3));
	size_t at = b->n;

	b->d = realloc(b->d, b->n + len);
	cr_assert_not_null(b->d);
	memset(b->d + at, 0, len);
	put32(b->d, false, at, type);
	put32(b->d, false, at + 4, len);
	memcpy(b->d + at + 8, body, nbody);
	put32(b->d, false, at + len - 4, len);
	b->n += len;
}

/* The same records as the pcap at src, as a little-endian pcapng. */
static void write_own_ng(const char *path, const char *src)
{
	struct cap c = load_cap(src);
	struct bytes b = {NULL, 0};
	uint8_t body[2048];
	size_t i;

	memset(body, 0, 16);
	put32(body, false, 0, 0x1a2b3c4d);
	put16(body, false, 4, 1);
	memset(body + 8, 0xff, 8); /* section length unknown */
	ng_block(&b, 0x0a0d0d0a, body, 16);
	memset(body, 0, 8);
	put16(body, false, 0, 1); /* Ethernet */
	put32(body, false, 4, 262144);
	ng_block(&b, 1, body, 8);
	for (i = 0; i < c.nrec; i++) {
		size_t o = c.off[i];
		uint64_t ts = (uint64_t)get32(c.b.d, c.be, o) * 1000000 + get32(c.b.d, c.be, o + 4);
		uint32_t caplen = get32(c.b.d, c.be, o + 8);

		cr_assert_leq(caplen, sizeof(body) - 20);
		memset(body, 0, 20);
		put32(body, false, 4, (uint32_t)(ts >> 32));
		put32(body, false, 8, (uint32_t)ts);
		put32(body, false, 12, caplen);
		put32(body, false, 16, get32(c.b.d, c.be, o + 12));
		memcpy(body + 20, c.b.d + o + 16, caplen);
		ng_block(&b, 6, body, 20 + caplen);
	}
	write_bytes(path, &b);
	free(b.d);
	free_cap(&c);
}

/* ---- damages ---- */

/* What a damaged run must give (see the oracle at the top). */
enum expect {
	E_PREFIX,     /* the clean prefix's output */
	E_NONE,	      /* the output without the file */
	E_WHOLE,      /* the undamaged file's output */
	E_LINKTYPE,   /* read, nothing decoded: packets rows say UNKNOWN, no flows */
	E_READ,	      /* read whole, contents changed: as many packets */
	E_SNAPLEN,    /* read whole, every packet cut to 64 bytes (pcap) */
	E_SNAPLEN_NG, /* read up to the first packet longer than 64 bytes (pcapng) */
};

struct damage {
	const char *name;
	bool pcap, ng; /* applies to */
	enum expect expect;
	int rc;
	const char *cause; /* in the stderr line; NULL: nothing on stderr */
	/* The damaged bytes; k is the first record not to survive.  Returns
	 * false when the damage does not apply to this capture. */
	bool (*make)(const struct cap *c, size_t k, struct bytes *out);
};

static bool cut_in_header(const struct cap *c, size_t k, struct bytes *o)
{
	*o = copy_of(c->b.d, c->off[k] + 7);
	return true;
}

static bool cut_in_data(const struct cap *c, size_t k, struct bytes *o)
{
	*o = copy_of(c->b.d, c->off[k] + (c->ng ? 30 : 16 + 5));
	return true;
}

static bool cut_at_boundary(const struct cap *c, size_t k, struct bytes *o)
{
	*o = copy_of(c->b.d, c->off[k]);
	return true;
}

static bool caplen_huge(const struct cap *c, size_t k, struct bytes *o)
{
	if (c->ng && get32(c->b.d, c->be, c->off[k]) != 6)
		return false;
	*o = copy_of(c->b.d, c->b.n);
	put32(o->d, c->be, c->off[k] + (c->ng ? 20 : 8), 0x7fffff00);
	return true;
}

static bool caplen_past_end(const struct cap *c, size_t k, struct bytes *o)
{
	if (c->ng || c->b.n >= 262144)
		return false;
	*o = copy_of(c->b.d, c->b.n);
	put32(o->d, c->be, c->off[k] + 8, (uint32_t)c->b.n);
	return true;
}

static bool snaplen_small(const struct cap *c, size_t k, struct bytes *o)
{
	(void)k;
	*o = copy_of(c->b.d, c->b.n);
	if (c->ng)
		put32(o->d, c->be, c->idb + 12, 64);
	else
		put32(o->d, c->be, 16, 64);
	return true;
}

static bool bad_magic(const struct cap *c, size_t k, struct bytes *o)
{
	(void)k;
	*o = copy_of(c->b.d, c->b.n);
	o->d[0] ^= 0x10;
	return true;
}

static bool bad_version(const struct cap *c, size_t k, struct bytes *o)
{
	(void)k;
	*o = copy_of(c->b.d, c->b.n);
	put16(o->d, c->be, c->ng ? 12 : 4, 0x7f00);
	return true;
}

static bool bad_linktype(const struct cap *c, size_t k, struct bytes *o)
{
	(void)k;
	*o = copy_of(c->b.d, c->b.n);
	if (c->ng)
		put16(o->d, c->be, c->idb + 8, 147);
	else
		put32(o->d, c->be, 20, 147);
	return true;
}

/* A few bits of every record's data (or of its timestamps and wire length). */
static bool flip_records(const struct cap *c, bool in_header, struct bytes *o)
{
	size_t i;
	unsigned seed = 7;

	*o = copy_of(c->b.d, c->b.n);
	for (i = 0; i < c->nrec; i++) {
		size_t at = c->off[i], hdr = c->ng ? 28 : 16, caplen;
		int j;

		if (c->ng && get32(c->b.d, c->be, at) != 6)
			continue;
		caplen = get32(c->b.d, c->be, at + (c->ng ? 20 : 8));
		for (j = 0; j < 3; j++) {
			seed = seed * 1103515245 + 12345;
			if (in_header) /* timestamps and wire length, not caplen */
				at = c->off[i] + (c->ng ? 12 + (seed >> 8) % 8 : (seed >> 8) % 8);
			else if (caplen)
				at = c->off[i] + hdr + (seed >> 8) % caplen;
			else
				continue;
			o->d[at] ^= (uint8_t)(1u << ((seed >> 20) % 8));
		}
		if (in_header && !c->ng) /* the wire length, never below caplen */
			o->d[c->off[i] + 12 + (c->be ? 1 : 2)] ^= 0x01;
	}
	return true;
}

static bool flip_data(const struct cap *c, size_t k, struct bytes *o)
{
	(void)k;
	return flip_records(c, false, o);
}

static bool flip_record_headers(const struct cap *c, size_t k, struct bytes *o)
{
	(void)k;
	return flip_records(c, true, o);
}

static bool ng_unknown_blocks(const struct cap *c, size_t k, struct bytes *o)
{
	struct bytes ins = {NULL, 0};
	uint8_t body[96];

	memset(body, 0xa5, sizeof(body));
	ng_block(&ins, 0x0badcafe, body, sizeof(body));
	ng_block(&ins, 0x80000001, body, 8); /* local use */
	ng_block(&ins, 0x00000bad, body, 0);
	if (c->be) { /* ng_block writes little-endian */
		size_t at;

		for (at = 0; at < ins.n;) {
			uint32_t len = get32(ins.d, false, at + 4);

			put32(ins.d, true, at, get32(ins.d, false, at));
			put32(ins.d, true, at + 4, len);
			put32(ins.d, true, at + len - 4, len);
			at += len;
		}
	}
	*o = spliced(c, c->off[k], ins.d, ins.n);
	free(ins.d);
	return true;
}

static bool ng_oversized(const struct cap *c, size_t k, struct bytes *o)
{
	uint8_t hdr[64];

	memset(hdr, 0, sizeof(hdr));
	put32(hdr, c->be, 0, 0x0badcafe);
	put32(hdr, c->be, 4, 64u << 20);
	*o = spliced(c, c->off[k], hdr, sizeof(hdr));
	return true;
}

static bool ng_past_end(const struct cap *c, size_t k, struct bytes *o)
{
	*o = copy_of(c->b.d, c->b.n);
	put32(o->d, c->be, c->off[k] + 4, (uint32_t)((c->b.n + 4096) & ~(size_t)3));
	return true;
}

static bool ng_bad_trailer(const struct cap *c, size_t k, struct bytes *o)
{
	uint32_t len = get32(c->b.d, c->be, c->off[k] + 4);

	*o = copy_of(c->b.d, c->b.n);
	put32(o->d, c->be, c->off[k] + len - 4, len + 4);
	return true;
}

static bool ng_odd_length(const struct cap *c, size_t k, struct bytes *o)
{
	*o = copy_of(c->b.d, c->b.n);
	put32(o->d, c->be, c->off[k] + 4, get32(c->b.d, c->be, c->off[k] + 4) + 1);
	return true;
}

static bool ng_no_interface(const struct cap *c, size_t k, struct bytes *o)
{
	if (get32(c->b.d, c->be, c->off[k]) != 6)
		return false;
	*o = copy_of(c->b.d, c->b.n);
	put32(o->d, c->be, c->off[k] + 8, 9);
	return true;
}

static bool ng_second_interface(const struct cap *c, size_t k, struct bytes *o)
{
	struct bytes idb = {NULL, 0};
	uint8_t body[8];

	memset(body, 0, sizeof(body));
	put16(body, c->be, 0, 147);
	put32(body, c->be, 4, 65535);
	ng_block(&idb, 1, body, sizeof(body));
	if (c->be) {
		put32(idb.d, true, 0, 1);
		put32(idb.d, true, 4, (uint32_t)idb.n);
		put32(idb.d, true, idb.n - 4, (uint32_t)idb.n);
	}
	*o = spliced(c, c->off[k], idb.d, idb.n);
	free(idb.d);
	return true;
}

static const struct damage damages[] = {
    {"cut inside a record header", true, false, E_PREFIX, 3,
     "truncated dump file; tried to read 16 header bytes", cut_in_header},
    {"cut inside a block", false, true, E_PREFIX, 3, "truncated pcapng dump file", cut_in_header},
    {"cut inside a record's data", true, true, E_PREFIX, 3, "truncated", cut_in_data},
    {"cut at a record boundary", true, true, E_PREFIX, 0, NULL, cut_at_boundary},
    {"caplen above the link type's maximum", true, true, E_PREFIX, 3, "bigger than snaplen",
     caplen_huge},
    {"caplen larger than the file", true, false, E_PREFIX, 3, "truncated dump file",
     caplen_past_end},
    {"caplen larger than the snapshot length", true, false, E_SNAPLEN, 0, NULL, snaplen_small},
    {"caplen larger than the interface's snapshot length", false, true, E_SNAPLEN_NG, 3,
     "bigger than snaplen of 64", snaplen_small},
    {"wrong magic", true, true, E_NONE, 3, "unknown magic", bad_magic},
    {"unsupported version", true, true, E_NONE, 3, "version", bad_version},
    {"unsupported link type", true, true, E_LINKTYPE, 3, "unsupported link-layer type 147",
     bad_linktype},
    {"flipped bits in packet data", true, true, E_READ, 0, NULL, flip_data},
    {"flipped bits in timestamps and wire lengths", true, true, E_READ, 0, NULL,
     flip_record_headers},
    {"unknown and local-use blocks", false, true, E_WHOLE, 0, NULL, ng_unknown_blocks},
    {"oversized block", false, true, E_PREFIX, 3, "block size", ng_oversized},
    {"block longer than the file", false, true, E_PREFIX, 3, "truncated pcapng dump file",
     ng_past_end},
    {"block trailer that does not match", false, true, E_PREFIX, 3, "don't match", ng_bad_trailer},
    {"block length not a multiple of 4", false, true, E_PREFIX, 3, "multiple of 4", ng_odd_length},
    {"packet on an undeclared interface", false, true, E_PREFIX, 3,
     "no Interface Description Block", ng_no_interface},
    {"second interface of another link type", false, true, E_PREFIX, 3, "different from",
     ng_second_interface},
};

/* ---- the three commands ---- */

enum cmd { PACKETS, FLOWS, EXTRACT, UPSTREAM };

static const char *const cmd_names[] = {"packets", "flows", "extract", "upstream"};

/* Remove every line holding key (the run's clock in upstream's profile.yaml). */
static void drop_lines(char *text, const char *key)
{
	char *p;

	while ((p = strstr(text, key)) != NULL) {
		char *start = p, *end = strchr(p, '\n');

		while (start > text && start[-1] != '\n')
			start--;
		end = end ? end + 1 : p + strlen(p);
		memmove(start, end, strlen(end) + 1);
	}
}

/* A source capture and the good captures run beside it. */
struct source {
	const char *what;
	char *path;	    /* the undamaged capture */
	const char *device; /* for the main job */
	char *goods;	    /* " ../g1.pcap ..." relative to a case directory */
	const char *tag;    /* prefix of its case directories */
};

/*
 * Run cmd from dir/<sub> over "x.pcap" (when with_x) and the good captures.
 * The result's out is stdout, and for the main job also every file of the
 * output directory, in name order.
 */
static struct result run_with(enum cmd cmd, const struct source *s, const char *subdir, bool with_x,
			      const char *pre, const char *runner, const char *extra)
{
	struct result r;
	char *cwd = sub(subdir);

	if (cmd == EXTRACT || cmd == UPSTREAM) {
		struct dirent **names;
		char *outdir = sx_tt_path(cwd, "out"), *all;
		size_t len;
		FILE *m;
		int i, n;

		if (cmd == UPSTREAM) /* the reference's -o names an existing directory */
			mkdir(outdir, 0755);
		r = shell("cd '%s' && %s SOURCE_DATE_EPOCH=0 timeout -k 5 60 %s '%s' %s %s %s%s "
			  "%s -o out %s",
			  cwd, pre ? pre : "", runner ? runner : "", SX_BINARY, s->device,
			  s->device, with_x ? "x.pcap" : "", s->goods,
			  cmd == UPSTREAM ? "--mode upstream" : "-j2", extra ? extra : "");
		/* the device's name is its address: a valid name, nothing to invent */
		m = open_memstream(&all, &len);
		cr_assert_not_null(m);
		fprintf(m, "== stdout\n%s", r.out);
		n = scandir(outdir, &names, NULL, alphasort);
		for (i = 0; i < n; i++) {
			if (names[i]->d_name[0] != '.') {
				char *p = sx_tt_path(outdir, names[i]->d_name);
				char *text = sx_tt_read(p, NULL);

				if (text)
					drop_lines(text, "last-update: ");
				fprintf(m, "== %s\n%s", names[i]->d_name,
					text ? text : "(unreadable)");
				free(text);
				free(p);
			}
			free(names[i]);
		}
		if (n >= 0)
			free(names);
		fclose(m);
		free(r.out);
		r.out = all;
		free(outdir);
	} else {
		r = shell("cd '%s' && %s timeout -k 5 60 %s '%s' %s -j2 %s%s %s", cwd,
			  pre ? pre : "", runner ? runner : "", SX_BINARY, cmd_names[cmd],
			  with_x ? "x.pcap" : "", s->goods, extra ? extra : "");
	}
	free(cwd);
	return r;
}

static struct result run_in(enum cmd cmd, const struct source *s, const char *subdir, bool with_x,
			    const char *extra)
{
	return run_with(cmd, s, subdir, with_x, NULL, NULL, extra);
}

/* Write bytes as dir/<subdir>/x.pcap. */
static void place(const char *subdir, const struct bytes *b)
{
	char *name;
	char *p;

	mkdir_in(subdir);
	cr_assert(asprintf(&name, "%s/x.pcap", subdir) > 0);
	p = sub(name);
	write_bytes(p, b);
	free(p);
	free(name);
}

/* Rows of a CSV whose File column is file; column col of each, joined. */
static size_t csv_rows_for(const char *text, const char *file, const char *colname, char *joined,
			   size_t joinedsz)
{
	struct sx_tcsv t;
	size_t i, n = 0, len = 0;
	int cf, cc;

	cr_assert_eq(sx_tcsv_parse(text, &t), 0, "malformed CSV");
	cr_assert_gt(t.nrows, 0);
	cf = sx_tcsv_col(&t, "File");
	cc = colname ? sx_tcsv_col(&t, colname) : -1;
	cr_assert_geq(cf, 0);
	if (joined && joinedsz)
		joined[0] = '\0';
	for (i = 1; i < t.nrows; i++) {
		if (strcmp(t.rows[i].f[cf], file) != 0)
			continue;
		n++;
		if (cc >= 0 && joined && len + strlen(t.rows[i].f[cc]) + 2 < joinedsz)
			len +=
			    (size_t)snprintf(joined + len, joinedsz - len, "%s ", t.rows[i].f[cc]);
	}
	sx_tcsv_free(&t);
	return n;
}

/* One damage on one source through one command. */
static void check_damage(enum cmd cmd, const struct source *s, const struct cap *c, size_t k,
			 const struct damage *dm, unsigned idx, const struct result *prefix,
			 const struct result *none, const struct result *whole)
{
	struct bytes b;
	struct result r;
	char subdir[32];
	char what[256];

	if ((c->ng && !dm->ng) || (!c->ng && !dm->pcap) || !dm->make(c, k, &b))
		return;
	snprintf(subdir, sizeof(subdir), "%s-d%u-%s", s->tag, idx, cmd_names[cmd]);
	snprintf(what, sizeof(what), "sigex %s, %s, %s", cmd_names[cmd], s->what, dm->name);
	place(subdir, &b);
	free(b.d);
	r = run_in(cmd, s, subdir, true, NULL);
	cr_expect_eq(r.rc, dm->rc, "%s: exit %d, expected %d\n%s", what, r.rc, dm->rc, r.err);
	if (dm->cause) {
		cr_expect_eq(sx_tt_lines(r.err), 1, "%s: one line on stderr:\n%s", what, r.err);
		cr_expect_eq(lines_with(r.err, "x.pcap: ", dm->cause), 1,
			     "%s: no line naming x.pcap with \"%s\":\n%s", what, dm->cause, r.err);
	} else {
		/* nothing, but the main job's note that a capture (a valid prefix)
		 * holds no packet of the device */
		cr_expect_eq(sx_tt_lines(r.err),
			     lines_with(r.err, "warning: the device's address ", "x.pcap"),
			     "%s: stderr:\n%s", what, r.err);
	}
	switch (dm->expect) {
	case E_PREFIX:
		cr_expect_str_eq(r.out, prefix->out, "%s: not the clean prefix's output", what);
		break;
	case E_NONE:
		cr_expect_str_eq(r.out, none->out, "%s: not the output without the file", what);
		break;
	case E_WHOLE:
		cr_expect_str_eq(r.out, whole->out, "%s: not the undamaged output", what);
		break;
	case E_LINKTYPE:
		if (cmd == PACKETS) {
			char protos[65536];
			size_t n =
			    csv_rows_for(r.out, "x.pcap", "Protocol", protos, sizeof(protos));
			const char *p = protos;

			cr_expect_eq(n, c->nrec, "%s: every packet listed", what);
			while ((p = strchr(p, ' ')) && p[1]) {
				p++;
				cr_expect_eq(strncmp(p, "UNKNOWN ", 8), 0, "%s: %s", what, protos);
			}
			cr_expect_eq(strncmp(protos, "UNKNOWN ", 8), 0, "%s: %s", what, protos);
		} else if (cmd == FLOWS) {
			cr_expect_eq(csv_rows_for(r.out, "x.pcap", NULL, NULL, 0), 0, "%s", what);
		}
		break;
	case E_READ:
		if (cmd == PACKETS)
			cr_expect_eq(csv_rows_for(r.out, "x.pcap", NULL, NULL, 0), c->nrec,
				     "%s: every packet read", what);
		break;
	case E_SNAPLEN_NG:
		if (cmd == PACKETS) {
			size_t lead = 0;

			while (lead < c->nrec && get32(c->b.d, c->be, c->off[lead] + 20) <= 64)
				lead++;
			cr_expect_eq(csv_rows_for(r.out, "x.pcap", NULL, NULL, 0), lead,
				     "%s: the packets before the first long one", what);
		}
		break;
	case E_SNAPLEN:
		if (cmd == PACKETS) {
			char caps[65536], *tok, *save = NULL;
			size_t n = csv_rows_for(r.out, "x.pcap", "CapLen", caps, sizeof(caps));

			cr_expect_eq(n, c->nrec, "%s: every packet read", what);
			for (tok = strtok_r(caps, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save))
				cr_expect_leq(atoi(tok), 64, "%s: CapLen %s", what, tok);
		}
		break;
	}
	free_result(&r);
}

/* Every damage of the table on one source, through one command. */
static void damage_source(enum cmd cmd, const struct source *s)
{
	struct cap c = load_cap(s->path);
	struct result prefix, none, whole;
	struct bytes b;
	char p[32], w[32], e[32];
	size_t i, k;

	cr_assert_geq(c.nrec, 4, "%s: too few records", s->what);
	k = 3;
	/* the oracles: clean prefix, the run without the file, the whole file */
	snprintf(p, sizeof(p), "%s-p", s->tag);
	snprintf(w, sizeof(w), "%s-w", s->tag);
	snprintf(e, sizeof(e), "%s-e", s->tag);
	b = copy_of(c.b.d, c.off[k]);
	place(p, &b);
	free(b.d);
	b = copy_of(c.b.d, c.b.n);
	place(w, &b);
	free(b.d);
	mkdir_in(e);
	prefix = run_in(cmd, s, p, true, NULL);
	whole = run_in(cmd, s, w, true, NULL);
	none = run_in(cmd, s, e, false, NULL);
	cr_assert_eq(prefix.rc, 0, "%s: the clean prefix: %s", s->what, prefix.err);
	cr_assert_eq(whole.rc, 0, "%s: the whole capture: %s", s->what, whole.err);
	cr_assert_eq(none.rc, 0, "%s: the good captures: %s", s->what, none.err);
	cr_assert_str_neq(prefix.out, whole.out, "%s: the prefix must differ from the whole",
			  s->what);
	for (i = 0; i < SX_ARRAY_SIZE(damages); i++)
		check_damage(cmd, s, &c, k, &damages[i], (unsigned)i, &prefix, &none, &whole);
	free_result(&prefix);
	free_result(&none);
	free_result(&whole);
	free_cap(&c);
}

/* The test's own captures: x (the source), g1 and g2 (good ones). */
static void own_sources(struct source *pcap, struct source *ng)
{
	char *g1 = sub("g1.pcap"), *g2 = sub("g2.pcap");

	pcap->what = "the test's pcap";
	pcap->path = sub("own.pcap");
	pcap->device = DEV;
	pcap->goods = strdup(" ../g1.pcap ../g2.pcap");
	pcap->tag = "own";
	write_own(pcap->path, 0);
	write_own(g1, 1);
	write_own(g2, 2);
	ng->what = "the test's pcapng";
	ng->path = sub("own.pcapng");
	ng->device = DEV;
	ng->goods = strdup(pcap->goods);
	ng->tag = "ownng";
	write_own_ng(ng->path, pcap->path);
	free(g1);
	free(g2);
}

static void free_source(struct source *s)
{
	free(s->path);
	free(s->goods);
}

static void own_captures(enum cmd cmd)
{
	struct source pcap, ng, demo = {"the demo corpus", NULL, "192.168.1.50", NULL, "demo"};
	struct stat st;

	own_sources(&pcap, &ng);
	damage_source(cmd, &pcap);
	damage_source(cmd, &ng);
	if (stat(DEMO "/1700000000.pcap", &st) == 0) {
		demo.path = strdup(DEMO "/1700000000.pcap");
		demo.goods = strdup(" " DEMO "/1700000600.pcap " DEMO "/1700001200.pcap");
		damage_source(cmd, &demo);
		free_source(&demo);
	} else {
		note("generated corpus missing (%s): only the test's captures", DEMO);
	}
	free_source(&pcap);
	free_source(&ng);
}

static void real_captures(enum cmd cmd)
{
	static const struct {
		const char *what;
		const char *path;
		const char *tag;
	} real[] = {
	    {"a big-endian microsecond pcap", TRACES "/1724059939.pcap", "be"},
	    {"a nanosecond pcap", REAL_NSEC, "ns"},
	    {"a pcapng", REAL_NG, "ng"},
	};
	size_t i;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SHARED);
	for (i = 0; i < SX_ARRAY_SIZE(real); i++) {
		struct source s = {real[i].what, strdup(real[i].path), REAL_DEV,
				   strdup(" " TRACES "/1724060053.pcap " TRACES "/1724060140.pcap"),
				   real[i].tag};

		damage_source(cmd, &s);
		free_source(&s);
	}
}

Test(cli_hostile, packets_on_damaged_own_captures, .timeout = 300)
{
	own_captures(PACKETS);
}

Test(cli_hostile, flows_on_damaged_own_captures, .timeout = 300)
{
	own_captures(FLOWS);
}

Test(cli_hostile, main_job_on_damaged_own_captures, .timeout = 300)
{
	own_captures(EXTRACT);
}

Test(cli_hostile, packets_on_damaged_real_captures, .timeout = 300)
{
	real_captures(PACKETS);
}

Test(cli_hostile, flows_on_damaged_real_captures, .timeout = 300)
{
	real_captures(FLOWS);
}

Test(cli_hostile, main_job_on_damaged_real_captures, .timeout = 300)
{
	real_captures(EXTRACT);
}

/*
 * --mode upstream reads captures through the same reader, with the
 * reference tool's exit statuses: a capture damaged after some records keeps
 * the packets before the damage (exit 0, the cause as one warning naming
 * x.pcap, the clean prefix's outputs); a capture that cannot be opened is a
 * failure (exit 1, one line naming it, nothing written); the other damages
 * are data (exit 0).  And the same capture gzip- or zstd-compressed gives
 * the plain capture's outputs, byte for byte.
 */
static void run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void upstream_damages(const struct source *s)
{
	struct cap c = load_cap(s->path);
	struct result prefix, whole, r;
	char p[32], w[32], sd[32], what[256];
	struct bytes b;
	size_t i, k = 3;

	cr_assert_geq(c.nrec, 4, "%s: too few records", s->what);
	snprintf(p, sizeof(p), "%s-up-p", s->tag);
	snprintf(w, sizeof(w), "%s-up-w", s->tag);
	b = copy_of(c.b.d, c.off[k]);
	place(p, &b);
	free(b.d);
	b = copy_of(c.b.d, c.b.n);
	place(w, &b);
	free(b.d);
	prefix = run_in(UPSTREAM, s, p, true, NULL);
	whole = run_in(UPSTREAM, s, w, true, NULL);
	cr_assert_eq(prefix.rc, 0, "%s: the clean prefix: %s", s->what, prefix.err);
	cr_assert_eq(whole.rc, 0, "%s: the whole capture: %s", s->what, whole.err);
	cr_assert_str_neq(prefix.out, whole.out, "%s: the prefix must differ from the whole",
			  s->what);
	for (i = 0; i < SX_ARRAY_SIZE(damages); i++) {
		const struct damage *dm = &damages[i];

		if ((c.ng && !dm->ng) || (!c.ng && !dm->pcap) || !dm->make(&c, k, &b))
			continue;
		snprintf(sd, sizeof(sd), "%s-up-d%zu", s->tag, i);
		snprintf(what, sizeof(what), "sigex --mode upstream, %s, %s", s->what, dm->name);
		place(sd, &b);
		free(b.d);
		r = run_in(UPSTREAM, s, sd, true, NULL);
		if (dm->expect == E_NONE) {
			cr_expect_eq(r.rc, 1, "%s: exit %d\n%s", what, r.rc, r.err);
			cr_expect_eq(sx_tt_lines(r.err), 1, "%s: one line on stderr:\n%s", what,
				     r.err);
			cr_expect_eq(lines_with(r.err, "x.pcap: ", dm->cause), 1,
				     "%s: no line naming x.pcap with \"%s\":\n%s", what, dm->cause,
				     r.err);
			cr_expect_str_eq(r.out, "== stdout\n", "%s: something written", what);
		} else if (dm->expect == E_PREFIX) {
			cr_expect_eq(r.rc, 0, "%s: exit %d\n%s", what, r.rc, r.err);
			if (dm->cause)
				cr_expect(sx_tt_lines(r.err) == 1 &&
					      lines_with(r.err, "x.pcap: ", dm->cause) == 1,
					  "%s: not one warning naming x.pcap with \"%s\":\n%s",
					  what, dm->cause, r.err);
			else
				cr_expect_str_eq(r.err, "", "%s: stderr", what);
			cr_expect_str_eq(r.out, prefix.out, "%s: not the clean prefix's output",
					 what);
		} else {
			cr_expect_eq(r.rc, 0, "%s: exit %d\n%s", what, r.rc, r.err);
		}
		free_result(&r);
	}
	for (i = 0; i < 2; i++) {
		const char *tool = i ? "zstd -q" : "gzip";

		snprintf(sd, sizeof(sd), "%s-up-z%zu", s->tag, i);
		snprintf(what, sizeof(what), "sigex --mode upstream, %s, %s", s->what, tool);
		mkdir_in(sd);
		run_sh("%s -c '%s' > '%s/%s/x.pcap'", tool, s->path, dir, sd);
		r = run_in(UPSTREAM, s, sd, true, NULL);
		cr_expect_eq(r.rc, 0, "%s: exit %d\n%s", what, r.rc, r.err);
		cr_expect_str_eq(r.out, whole.out, "%s: not the plain capture's output", what);
		free_result(&r);
	}
	free_result(&prefix);
	free_result(&whole);
	free_cap(&c);
}

Test(cli_hostile, upstream_on_damaged_captures, .timeout = 300)
{
	struct source pcap, ng;

	own_sources(&pcap, &ng);
	upstream_damages(&pcap);
	upstream_damages(&ng);
	if (sx_tt_have_shared()) {
		struct source real = {
		    "a big-endian microsecond pcap", strdup(TRACES "/1724059939.pcap"), REAL_DEV,
		    strdup(" " TRACES "/1724060053.pcap " TRACES "/1724060140.pcap"), "upbe"};

		upstream_damages(&real);
		free_source(&real);
	} else {
		note("shared corpora missing (%s): only the test's captures", SHARED);
	}
	free_source(&pcap);
	free_source(&ng);
}

/* ---- special files ---- */

enum { X_PLAIN, X_USAGE };

struct special {
	const char *name;
	/* Make dir/<subdir>/x.pcap (cwd is dir/<subdir>); own is the test's pcap. */
	void (*make)(const char *cwd, const char *x, const char *own);
	enum expect expect; /* for packets and flows; E_READ: checks only */
	const char *cause;  /* in the stderr line */
	int extract;	    /* X_USAGE: every command refuses it (exit 2) */
	bool extract_same;  /* the main job's outputs follow expect too */
	const char *pre;    /* shell before sigex, in cwd */
	const char *runner; /* command prefix of sigex */
};

static void run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void run_sh(const char *fmt, ...)
{
	char *cmd, *err = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	rc = sx_tt_run(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err ? err : "");
	free(err);
	free(cmd);
}

static void mk_dir(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)own;
	cr_assert_eq(mkdir(x, 0755), 0);
}

static void mk_missing(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)x, (void)own;
}

static void mk_loop(const char *cwd, const char *x, const char *own)
{
	(void)own;
	run_sh("cd '%s' && ln -s y.pcap '%s' && ln -s x.pcap y.pcap", cwd, x);
}

static void mk_fifo(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)own;
	cr_assert_eq(mkfifo(x, 0644), 0);
}

/* A FIFO, and beside it the capture cut inside record 3's data. */
static void mk_fifo_cut(const char *cwd, const char *x, const char *own)
{
	struct cap c = load_cap(own);
	struct bytes b;
	char *cut = sx_tt_path(cwd, "cut.bin");

	cr_assert(cut_in_data(&c, 3, &b));
	write_bytes(cut, &b);
	free(b.d);
	free(cut);
	free_cap(&c);
	cr_assert_eq(mkfifo(x, 0644), 0);
}

static void mk_empty(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)own;
	cr_assert_eq(sx_tt_write(x, "", 0), 0);
}

static void mk_header_only(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)own;
	cr_assert_eq(sx_tf_write_pcap(x, 1, NULL, 0), 0);
}

static void mk_device(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)own;
	cr_assert_eq(symlink("/dev/zero", x), 0);
}

static void mk_eio(const char *cwd, const char *x, const char *own)
{
	(void)cwd, (void)own;
	/* sigex's own address space: offset 0 is never mapped, read() says EIO */
	cr_assert_eq(symlink("/proc/self/mem", x), 0);
}

static void mk_locked(const char *cwd, const char *x, const char *own)
{
	run_sh("cp '%s' '%s' && chmod 000 '%s' && chmod 0777 '%s'", own, x, x, cwd);
}

static void mk_gzip_cut(const char *cwd, const char *x, const char *own)
{
	size_t n;
	char *gz;
	struct bytes b;

	run_sh("gzip -c '%s' > '%s/full.gz'", own, cwd);
	gz = sx_tt_path(cwd, "full.gz");
	b.d = (uint8_t *)sx_tt_read(gz, &n);
	cr_assert_not_null(b.d);
	b.n = n / 2;
	write_bytes(x, &b);
	free(b.d);
	free(gz);
}

static void mk_zstd_flipped(const char *cwd, const char *x, const char *own)
{
	size_t n;
	char *zs;
	struct bytes b;

	run_sh("zstd -q -c '%s' > '%s/full.zst'", own, cwd);
	zs = sx_tt_path(cwd, "full.zst");
	b.d = (uint8_t *)sx_tt_read(zs, &n);
	cr_assert_not_null(b.d);
	b.n = n;
	b.d[n / 2] ^= 0x40;
	write_bytes(x, &b);
	free(b.d);
	free(zs);
}

#define AS_NOBODY   "setpriv --reuid=65534 --regid=65534 --clear-groups"
#define FIFO_WRITER "{ (exec 3<>x.pcap; cat cut.bin >&3; sleep 1) & } ; sleep 0.3;"

static const struct special specials[] = {
    {"a directory", mk_dir, E_NONE, "s a directory", X_USAGE, false, NULL, NULL},
    {"a path that does not exist", mk_missing, E_NONE, "No such file or directory", X_USAGE, false,
     NULL, NULL},
    {"a symlink loop", mk_loop, E_NONE, "Too many levels of symbolic links", X_USAGE, false, NULL,
     NULL},
    {"a FIFO with no writer", mk_fifo, E_NONE, "empty", X_PLAIN, true, NULL, NULL},
    {"a FIFO fed a capture cut inside a record", mk_fifo_cut, E_PREFIX, "truncated", X_PLAIN, true,
     FIFO_WRITER, NULL},
    {"a zero-byte file", mk_empty, E_NONE, "empty file (0 bytes)", X_PLAIN, true, NULL, NULL},
    {"a capture with no packet", mk_header_only, E_NONE, "no packets", X_PLAIN, false, NULL, NULL},
    {"a character device", mk_device, E_NONE, "not a regular file", X_PLAIN, true, NULL, NULL},
    {"a file whose read fails with EIO", mk_eio, E_NONE, "Input/output error", X_PLAIN, true, NULL,
     NULL},
    {"a file nobody may read (EACCES)", mk_locked, E_NONE, "Permission denied", X_PLAIN, true, NULL,
     AS_NOBODY},
    {"a gzip stream cut in the middle", mk_gzip_cut, E_READ, "gzip stream truncated", X_PLAIN,
     false, NULL, NULL},
    {"a zstd stream with a flipped bit", mk_zstd_flipped, E_READ, "zstd", X_PLAIN, false, NULL,
     NULL},
};

/* Whether nobody can run sigex here (setpriv present, the build readable). */
static bool can_drop_privileges(void)
{
	char *cmd, *err = NULL;
	int rc;

	cr_assert(asprintf(&cmd, "cd '%s' && " AS_NOBODY " '%s' --version", dir, SX_BINARY) > 0);
	rc = sx_tt_run(cmd, NULL, &err);
	free(err);
	free(cmd);
	return rc == 0;
}

static void check_special(enum cmd cmd, const struct source *s, const struct special *sp,
			  unsigned idx, const struct result *prefix, const struct result *none)
{
	char subdir[32], what[256];
	char *cwd, *x, *out;
	struct result r;
	struct stat st;
	bool usage = sp->extract == X_USAGE; /* one rule for every command */
	bool compare = cmd != EXTRACT || sp->extract_same;

	if (sp->runner && !can_drop_privileges()) {
#ifdef SX_REQUIRE_CORPORA
		cr_assert_fail("required (SX_REQUIRE_CORPORA): %s: nobody cannot run %s (setpriv)",
			       sp->name, SX_BINARY);
#endif
		note("%s: skipped, nobody cannot run %s (setpriv)", sp->name, SX_BINARY);
		return;
	}
	snprintf(subdir, sizeof(subdir), "sp%u-%s", idx, cmd_names[cmd]);
	snprintf(what, sizeof(what), "sigex %s, %s", cmd_names[cmd], sp->name);
	mkdir_in(subdir);
	cwd = sub(subdir);
	x = sx_tt_path(cwd, "x.pcap");
	sp->make(cwd, x, s->path);
	r = run_with(cmd, s, subdir, true, sp->pre, sp->runner, NULL);
	if (usage) {
		cr_expect_eq(r.rc, 2, "%s: exit %d, expected a usage error\n%s", what, r.rc, r.err);
		cr_expect_eq(lines_with(r.err, "\"x.pcap\" is not an existing file", sp->cause), 1,
			     "%s: stderr:\n%s", what, r.err);
		out = sx_tt_path(cwd, "out");
		cr_expect_neq(stat(out, &st), 0, "%s: nothing written", what);
		free(out);
	} else {
		cr_expect_eq(r.rc, 3, "%s: exit %d, expected 3\n%s", what, r.rc, r.err);
		cr_expect_eq(sx_tt_lines(r.err), 1, "%s: one line on stderr:\n%s", what, r.err);
		cr_expect_eq(lines_with(r.err, "x.pcap: ", sp->cause), 1,
			     "%s: no line naming x.pcap with \"%s\":\n%s", what, sp->cause, r.err);
		if (compare && sp->expect == E_NONE)
			cr_expect_str_eq(r.out, none->out, "%s: not the output without it", what);
		if (compare && sp->expect == E_PREFIX)
			cr_expect_str_eq(r.out, prefix->out, "%s: not the clean prefix's output",
					 what);
		if (cmd == PACKETS && sp->expect == E_READ)
			cr_expect_lt(csv_rows_for(r.out, "x.pcap", NULL, NULL, 0), 12,
				     "%s: fewer packets than the capture holds", what);
	}
	free_result(&r);
	free(x);
	free(cwd);
}

static void special_files(enum cmd cmd)
{
	struct source pcap, ng;
	struct result prefix, none;
	struct cap c;
	struct bytes b;
	size_t i;

	own_sources(&pcap, &ng);
	pcap.tag = "sp";
	c = load_cap(pcap.path);
	b = copy_of(c.b.d, c.off[3]);
	place("sp-p", &b);
	free(b.d);
	free_cap(&c);
	mkdir_in("sp-e");
	prefix = run_in(cmd, &pcap, "sp-p", true, NULL);
	none = run_in(cmd, &pcap, "sp-e", false, NULL);
	cr_assert_eq(prefix.rc, 0, "%s", prefix.err);
	cr_assert_eq(none.rc, 0, "%s", none.err);
	for (i = 0; i < SX_ARRAY_SIZE(specials); i++)
		check_special(cmd, &pcap, &specials[i], (unsigned)i, &prefix, &none);
	free_result(&prefix);
	free_result(&none);
	free_source(&pcap);
	free_source(&ng);
}

Test(cli_hostile, packets_on_special_files, .timeout = 120)
{
	special_files(PACKETS);
}

Test(cli_hostile, flows_on_special_files, .timeout = 120)
{
	special_files(FLOWS);
}

Test(cli_hostile, main_job_on_special_files, .timeout = 120)
{
	special_files(EXTRACT);
}

/* ---- everything at once, and random damage ---- */

/* Rows of the packet CSV per good capture must be all there. */
static void assert_good_rows(enum cmd cmd, const char *out, const char *what)
{
	if (cmd != PACKETS)
		return;
	cr_expect_eq(csv_rows_for(out, "../g1.pcap", NULL, NULL, 0), 12, "%s: g1's rows", what);
	cr_expect_eq(csv_rows_for(out, "../g2.pcap", NULL, NULL, 0), 12, "%s: g2's rows", what);
}

static void all_at_once(enum cmd cmd)
{
	struct source pcap, ng;
	const struct source *srcs[2] = {&pcap, &ng};
	char *cwd, *args = NULL, name[32], *x;
	size_t alen = 0, i, j, nbad = 0;
	FILE *a;
	struct result r;

	own_sources(&pcap, &ng);
	mkdir_in("all");
	cwd = sub("all");
	a = open_memstream(&args, &alen);
	cr_assert_not_null(a);
	for (j = 0; j < 2; j++) {
		struct cap c = load_cap(srcs[j]->path);

		for (i = 0; i < SX_ARRAY_SIZE(damages); i++) {
			struct bytes b;

			if ((c.ng && !damages[i].ng) || (!c.ng && !damages[i].pcap) ||
			    !damages[i].make(&c, 3, &b))
				continue;
			snprintf(name, sizeof(name), "d%zu-%zu.pcap", j, i);
			x = sx_tt_path(cwd, name);
			write_bytes(x, &b);
			free(b.d);
			free(x);
			fprintf(a, " %s", name);
			nbad += damages[i].cause != NULL;
		}
		free_cap(&c);
	}
	for (i = 0; i < SX_ARRAY_SIZE(specials); i++) {
		const struct special *sp = &specials[i];

		if (sp->pre || sp->runner || sp->extract == X_USAGE)
			continue;
		snprintf(name, sizeof(name), "s%zu.pcap", i);
		x = sx_tt_path(cwd, name);
		sp->make(cwd, x, pcap.path);
		free(x);
		fprintf(a, " %s", name);
		nbad++;
	}
	fclose(a);
	free(pcap.goods);
	cr_assert(asprintf(&pcap.goods, "%s ../g1.pcap ../g2.pcap", args) > 0);
	r = run_in(cmd, &pcap, "all", false, NULL);
	cr_expect_eq(r.rc, 3, "sigex %s: exit %d\n%s", cmd_names[cmd], r.rc, r.err);
	cr_expect_eq(sx_tt_lines(r.err), nbad, "sigex %s: one line per bad file:\n%s",
		     cmd_names[cmd], r.err);
	for (i = 0; i < SX_ARRAY_SIZE(damages); i++)
		for (j = 0; j < 2; j++) {
			snprintf(name, sizeof(name), "d%zu-%zu.pcap: ", j, i);
			cr_expect_leq(lines_with(r.err, name, NULL), 1, "%s\n%s", name, r.err);
		}
	assert_good_rows(cmd, r.out, cmd_names[cmd]);
	if (cmd == EXTRACT)
		cr_expect(strstr(r.out, "== profile.yaml\ndevice-info:\n"), "no profile:\n%s",
			  r.out);
	free_result(&r);
	free(args);
	free(cwd);
	free_source(&pcap);
	free_source(&ng);
}

Test(cli_hostile, packets_on_everything_at_once, .timeout = 120)
{
	all_at_once(PACKETS);
}

Test(cli_hostile, flows_on_everything_at_once, .timeout = 120)
{
	all_at_once(FLOWS);
}

Test(cli_hostile, main_job_on_everything_at_once, .timeout = 120)
{
	all_at_once(EXTRACT);
}

#define NFLIPPED 30

/* NFLIPPED copies of each own capture with 8 random bits flipped (half in
 * the file and record headers), read in one run: no crash, no hang, exit 0
 * or 3, one line at most per file, the good captures whole. */
static void random_flips(enum cmd cmd)
{
	struct source pcap, ng;
	const struct source *srcs[2] = {&pcap, &ng};
	char *cwd, *args = NULL, name[32], *x;
	size_t alen = 0, i, j;
	uint32_t seed = 12345;
	FILE *a;
	struct result r;

	own_sources(&pcap, &ng);
	mkdir_in("flips");
	cwd = sub("flips");
	a = open_memstream(&args, &alen);
	cr_assert_not_null(a);
	for (j = 0; j < 2; j++) {
		struct cap c = load_cap(srcs[j]->path);

		for (i = 0; i < NFLIPPED; i++) {
			struct bytes b = copy_of(c.b.d, c.b.n);
			int f;

			/* half anywhere, half in the file header and record headers */
			for (f = 0; f < 8; f++) {
				size_t at, hdr = c.ng ? 28 : 16;

				seed = seed * 1664525 + 1013904223;
				if (f % 2)
					at = (seed >> 4) % b.n;
				else if (f == 0)
					at = (seed >> 4) % (c.ng ? c.off[0] : 24);
				else
					at = c.off[(seed >> 4) % c.nrec] + (seed >> 12) % hdr;
				b.d[at] ^= (uint8_t)(1u << (seed >> 29));
			}
			snprintf(name, sizeof(name), "r%zu-%zu.pcap", j, i);
			x = sx_tt_path(cwd, name);
			write_bytes(x, &b);
			free(b.d);
			free(x);
			fprintf(a, " %s", name);
		}
		free_cap(&c);
	}
	fclose(a);
	free(pcap.goods);
	cr_assert(asprintf(&pcap.goods, "%s ../g1.pcap ../g2.pcap", args) > 0);
	r = run_in(cmd, &pcap, "flips", false, NULL);
	cr_expect(r.rc == 0 || r.rc == 3, "sigex %s: exit %d\n%s", cmd_names[cmd], r.rc, r.err);
	cr_expect_leq(sx_tt_lines(r.err), 2 * NFLIPPED, "%s", r.err);
	cr_expect_eq(lines_with(r.err, ".pcap: ", NULL), sx_tt_lines(r.err),
		     "every line names a file:\n%s", r.err);
	assert_good_rows(cmd, r.out, cmd_names[cmd]);
	free_result(&r);
	free(args);
	free(cwd);
	free_source(&pcap);
	free_source(&ng);
}

Test(cli_hostile, packets_on_random_bit_flips, .timeout = 120)
{
	random_flips(PACKETS);
}

Test(cli_hostile, flows_on_random_bit_flips, .timeout = 120)
{
	random_flips(FLOWS);
}

Test(cli_hostile, main_job_on_random_bit_flips, .timeout = 120)
{
	random_flips(EXTRACT);
}

/* ---- outputs that cannot be written, and paths never replaced ---- */

/* Mount (mount(8) options and source) on dir/name, or skip the test. */
static char *mount_or_skip(const char *how, const char *name)
{
	char *path = sub(name), *cmd, *err = NULL;
	int rc;

	mkdir(path, 0755);
	cr_assert(asprintf(&cmd, "mount %s '%s'", how, path) > 0);
	rc = sx_tt_run(cmd, NULL, &err);
	free(cmd);
	if (rc != 0) {
		note("mount %s failed: %s", how, err ? err : "");
		free(err);
		free(path);
		cr_skip_test("cannot mount (%s): needs root", how);
	}
	free(err);
	mounted[nmounted++] = strdup(path);
	return path;
}

static void write_text(const char *path, const char *text)
{
	cr_assert_eq(sx_tt_write(path, text, strlen(text)), 0, "cannot write %s", path);
}

static void assert_text(const char *path, const char *text, const char *what)
{
	char *got = sx_tt_read(path, NULL);

	cr_assert_not_null(got, "%s: %s is gone", what, path);
	cr_assert_str_eq(got, text, "%s: %s changed", what, path);
	free(got);
}

/* No temporary file (ours: NAME.tmp.XXXXXX) left in dir. */
static void assert_no_temporaries(const char *d, const char *what)
{
	DIR *dd = opendir(d);
	struct dirent *e;

	cr_assert_not_null(dd);
	while ((e = readdir(dd)))
		cr_assert_null(strstr(e->d_name, ".tmp."), "%s: left behind: %s/%s", what, d,
			       e->d_name);
	closedir(dd);
}

/* The own captures g1, g2 and their flow CSVs (for `sigex mine`). */
static void own_inputs(void)
{
	char *g1 = sub("g1.pcap"), *g2 = sub("g2.pcap"), *g3 = sub("g3.pcap");
	struct result r;

	write_own(g1, 1);
	write_own(g2, 2);
	write_own(g3, 3);
	r = shell("cd '%s' && for g in g1 g2 g3; do '%s' flows -q $g.pcap -o $g.csv || exit 1; "
		  "done",
		  dir, SX_BINARY);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	free_result(&r);
	free(g1);
	free(g2);
	free(g3);
}

/* Each command that writes, aimed at directory d: its old outputs. */
static void run_writers_into(const char *d, const char *cause, const char *what)
{
	static const char *const olds[] = {"p.csv", "f.csv", "m/pattern.txt", "m/signatures.yaml"};
	struct result r;
	size_t i;

	for (i = 0; i < 3; i++) {
		static const char *const cmds[][2] = {
		    {"packets g1.pcap g2.pcap -o", "p.csv"},
		    {"flows g1.pcap g2.pcap -o", "f.csv"},
		    {"mine g1.csv g2.csv g3.csv -o", "m"},
		};
		static const char *const names[] = {"p.csv", "f.csv", "m/pattern.txt"};
		char *args;

		cr_assert(asprintf(&args, "%s '%s/%s'", cmds[i][0], d, cmds[i][1]) > 0);
		r = shell("cd '%s' && '%s' %s", dir, SX_BINARY, args);
		cr_expect_eq(r.rc, 1, "%s: sigex %s: exit %d\n%s", what, args, r.rc, r.err);
		cr_expect_eq(lines_with(r.err, names[i], cause), 1,
			     "%s: sigex %s: no line naming %s with \"%s\":\n%s", what, args,
			     names[i], cause, r.err);
		free_result(&r);
		free(args);
	}
	for (i = 0; i < SX_ARRAY_SIZE(olds); i++) {
		char *p = sx_tt_path(d, olds[i]);

		assert_text(p, "old\n", what);
		free(p);
	}
	assert_no_temporaries(d, what);
	{
		char *m = sx_tt_path(d, "m");

		assert_no_temporaries(m, what);
		free(m);
	}
}

static void write_olds(const char *d)
{
	static const char *const olds[] = {"p.csv", "f.csv", "m/pattern.txt", "m/signatures.yaml"};
	char *m = sx_tt_path(d, "m");
	size_t i;

	mkdir(m, 0755);
	free(m);
	for (i = 0; i < SX_ARRAY_SIZE(olds); i++) {
		char *p = sx_tt_path(d, olds[i]);

		write_text(p, "old\n");
		free(p);
	}
}

Test(cli_hostile, full_disk_keeps_every_earlier_output, .timeout = 60)
{
	char *small, *fill;
	struct result r;

	own_inputs();
	small = mount_or_skip("-t tmpfs -o size=64k tmpfs", "small");
	write_olds(small);
	fill = sx_tt_path(small, "fill");
	r = shell("dd if=/dev/zero of='%s' bs=1k count=1024 2>/dev/null; true", fill);
	free_result(&r);
	run_writers_into(small, "No space left on device", "full disk");
	unlink(fill);
	free(fill);
	free(small);
}

Test(cli_hostile, read_only_directory_keeps_every_earlier_output, .timeout = 60)
{
	char *ro;
	struct result r;

	own_inputs();
	ro = mount_or_skip("-t tmpfs -o size=1m tmpfs", "ro");
	write_olds(ro);
	r = shell("mount -o remount,ro '%s'", ro);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	free_result(&r);
	run_writers_into(ro, "Read-only file system", "read-only directory");
	free(ro);
}

Test(cli_hostile, dev_stdout_is_written_never_replaced, .timeout = 60)
{
	struct result r, ref;
	char *got, *log = sub("log.csv");

	own_inputs();
	ref = shell("cd '%s' && '%s' packets g1.pcap", dir, SX_BINARY);
	cr_assert_eq(ref.rc, 0);
	/* /dev/stdout itself, in a mount namespace of our own with a /dev of its
	 * own: were it renamed over, only that copy would be lost. */
	r = shell("unshare -m sh -c 'mount -t tmpfs tmpfs /dev' && echo ok");
	if (strcmp(r.out, "ok\n") != 0) {
		note("no private mount namespace (%s): /dev/stdout itself not tried", r.err);
	} else {
		free_result(&r);
		r = shell("cd '%s' && unshare -m sh -c 'mount -t tmpfs tmpfs /dev && "
			  "ln -s /proc/self/fd/1 /dev/stdout && echo keep > log.csv && "
			  "\"$0\" packets g1.pcap -o /dev/stdout >> log.csv && "
			  "\"$0\" flows g1.pcap -o /dev/stdout > flows.csv && "
			  "test -L /dev/stdout && echo still-a-link' '%s'",
			  dir, SX_BINARY);
		cr_expect_str_eq(r.out, "still-a-link\n", "/dev/stdout replaced: %s", r.err);
		got = sx_tt_read(log, NULL);
		cr_assert_not_null(got);
		cr_expect_eq(strncmp(got, "keep\n", 5), 0, "appended, not truncated");
		cr_expect_str_eq(got + 5, ref.out, "the CSV through stdout");
		free(got);
	}
	free_result(&r);
	/* A link of ours to /proc/self/fd/1, stdout a regular file. */
	r = shell("cd '%s' && ln -s /proc/self/fd/1 out-link && echo keep > log.csv && "
		  "'%s' packets g1.pcap -o out-link >> log.csv && test -L out-link && "
		  "'%s' flows g1.pcap -o /dev/fd/1 > /dev/null && echo ok",
		  dir, SX_BINARY, SX_BINARY);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	got = sx_tt_read(log, NULL);
	cr_assert_not_null(got);
	cr_expect_eq(strncmp(got, "keep\n", 5), 0);
	cr_expect_str_eq(got + 5, ref.out);
	free(got);
	free_result(&r);
	free_result(&ref);
	free(log);
}

Test(cli_hostile, links_fifos_and_devices_are_kept, .timeout = 60)
{
	struct result r, ref;
	char *target = sub("target.csv"), *link = sub("link.csv"), *got;
	struct stat st;

	own_inputs();
	ref = shell("cd '%s' && '%s' flows g1.pcap", dir, SX_BINARY);
	cr_assert_eq(ref.rc, 0);
	/* a symbolic link to a regular file: the link stays, the file is
	 * replaced and keeps its permission bits */
	write_text(target, "old\n");
	cr_assert_eq(chmod(target, 0640), 0);
	cr_assert_eq(symlink("target.csv", link), 0);
	r = shell("cd '%s' && '%s' flows g1.pcap -o link.csv", dir, SX_BINARY);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	cr_assert_eq(lstat(link, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the link was replaced");
	cr_assert_eq(stat(target, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	got = sx_tt_read(target, NULL);
	cr_expect_str_eq(got, ref.out);
	free(got);
	assert_no_temporaries(dir, "link");
	free_result(&r);
	/* a FIFO with a reader: written in place, still a FIFO */
	r = shell("cd '%s' && mkfifo out.fifo && { cat out.fifo > from-fifo.csv & } && "
		  "'%s' flows g1.pcap -o out.fifo && wait && test -p out.fifo",
		  dir, SX_BINARY);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	free_result(&r);
	{
		char *p = sub("from-fifo.csv");

		got = sx_tt_read(p, NULL);
		cr_expect_str_eq(got, ref.out);
		free(got);
		free(p);
	}
	/* /dev/null */
	r = shell("cd '%s' && '%s' flows g1.pcap -o /dev/null && test -c /dev/null && "
		  "'%s' packets g1.pcap -o /dev/null && test -c /dev/null",
		  dir, SX_BINARY, SX_BINARY);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	free_result(&r);
	free_result(&ref);
	free(target);
	free(link);
}

/* ---- the memory ceiling (--max-flows) ---- */

#define WEEK_SECS (7 * 24 * 3600)

/*
 * A week-long capture whose flows never end: nflows UDP flows from DEV
 * to a server (distinct port pairs), each sending one packet per round; rounds
 * spread over a week.  Every flow is live from its first packet to the end
 * when the idle timeout is longer than a week.
 */
static void write_week(const char *path, unsigned nflows, unsigned rounds)
{
	uint8_t frame[128], hdr[24] = {0}, rec[16];
	size_t len;
	unsigned r, i;
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	put32(hdr, false, 0, 0xa1b2c3d4);
	put16(hdr, false, 4, 2);
	put16(hdr, false, 6, 4);
	put32(hdr, false, 16, 65535);
	put32(hdr, false, 20, 1);
	cr_assert_eq(fwrite(hdr, 1, 24, f), 24);
	len = sx_tf_udp(frame, sizeof(frame), DEV, 1024, "203.0.113.9", 7000, "ping", 4);
	cr_assert_gt(len, 0);
	for (r = 0; r < rounds; r++) {
		uint64_t t0 =
		    1700000000ull * 1000000 + (uint64_t)r * (WEEK_SECS / rounds) * 1000000;

		for (i = 0; i < nflows; i++) {
			uint64_t us = t0 + i;
			uint16_t sport = (uint16_t)(1024 + i % 60000);
			uint16_t dport = (uint16_t)(7000 + i / 60000);

			frame[34] = (uint8_t)(sport >> 8);
			frame[35] = (uint8_t)sport;
			frame[36] = (uint8_t)(dport >> 8);
			frame[37] = (uint8_t)dport;
			put32(rec, false, 0, (uint32_t)(us / 1000000));
			put32(rec, false, 4, (uint32_t)(us % 1000000));
			put32(rec, false, 8, (uint32_t)len);
			put32(rec, false, 12, (uint32_t)len);
			cr_assert_eq(fwrite(rec, 1, 16, f), 16);
			cr_assert_eq(fwrite(frame, 1, len, f), len);
		}
	}
	cr_assert_eq(fclose(f), 0);
}

/* Sum of nbPacket over a flow CSV's rows, and the number of rows. */
static uint64_t csv_packets(const char *text, size_t *nrows)
{
	struct sx_tcsv t;
	uint64_t sum = 0;
	size_t i;
	int c;

	cr_assert_eq(sx_tcsv_parse(text, &t), 0);
	c = sx_tcsv_col(&t, "nbPacket");
	cr_assert_geq(c, 0);
	for (i = 1; i < t.nrows; i++)
		sum += strtoull(t.rows[i].f[c], NULL, 10);
	*nrows = t.nrows ? t.nrows - 1 : 0;
	sx_tcsv_free(&t);
	return sum;
}

Test(cli_hostile, max_flows_evicts_with_one_warning, .timeout = 120)
{
	char *a = sub("a.pcap"), *b = sub("b.pcap"), *c = sub("c.pcap");
	static const char idle[] = "--idle-timeout 700000";
	struct result r;
	size_t rows, i;
	uint64_t pkts;

	write_week(a, 3000, 3);
	write_own(b, 1);
	cr_assert_eq(link(a, c), 0);
	/* no ceiling reached: one flow per port, nothing said */
	r = shell("cd '%s' && '%s' flows -j2 %s a.pcap", dir, SX_BINARY, idle);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect_str_eq(r.err, "");
	pkts = csv_packets(r.out, &rows);
	cr_expect_eq(rows, 3000);
	cr_expect_eq(pkts, 9000);
	free_result(&r);
	/* a ceiling of 100 over two reader threads: evictions, one warning, every
	 * packet still counted once (the flows are split, not lost) */
	r = shell("cd '%s' && '%s' flows -j2 %s --max-flows 100 a.pcap b.pcap", dir, SX_BINARY,
		  idle);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect_eq(sx_tt_lines(r.err), 1, "one warning:\n%s", r.err);
	cr_expect_eq(lines_with(r.err, "warning: ", "--max-flows"), 1, "%s", r.err);
	pkts = csv_packets(r.out, &rows);
	cr_expect_eq(pkts, 9000 + 11, "IP packets conserved"); /* b: 12 frames, one ARP */
	cr_expect_gt(rows, 3000, "flows were ended early");
	free_result(&r);
	/* usage errors */
	r = shell("cd '%s' && '%s' flows --max-flows 0 a.pcap", dir, SX_BINARY);
	cr_expect_eq(r.rc, 2);
	cr_expect(strstr(r.err, "--max-flows"), "%s", r.err);
	free_result(&r);
	r = shell("cd '%s' && '%s' " DEV " " DEV " a.pcap --max-flows lots", dir, SX_BINARY);
	cr_expect_eq(r.rc, 2);
	cr_expect(strstr(r.err, "--max-flows"), "%s", r.err);
	free_result(&r);
	/* the main job: one warning, each capture's CSV conserves its packets */
	r = shell("cd '%s' && '%s' " DEV " " DEV " a.pcap c.pcap b.pcap -j2 %s --max-flows 64 "
		  "-o out",
		  dir, SX_BINARY, idle);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect_eq(sx_tt_lines(r.err), 1, "one warning:\n%s", r.err);
	cr_expect_eq(lines_with(r.err, "warning: ", "--max-flows"), 1, "%s", r.err);
	free_result(&r);
	for (i = 0; i < 3; i++) {
		static const char *const csvs[] = {"out/a.csv", "out/c.csv", "out/b.csv"};
		char *p = sub(csvs[i]), *text = sx_tt_read(p, NULL);

		cr_assert_not_null(text, "no %s", p);
		pkts = csv_packets(text, &rows);
		cr_expect_eq(pkts, i < 2 ? 9000u : 11u, "%s: IP packets conserved", csvs[i]);
		free(text);
		free(p);
	}
	free(a);
	free(b);
	free(c);
}

/* The largest resident set of the children waited for so far, in KiB. */
static long children_maxrss(void)
{
	struct rusage ru;

	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	return ru.ru_maxrss;
}

Test(cli_hostile, a_week_of_live_flows_runs_in_bounded_memory, .timeout = 300)
{
	char *a = sub("week.pcap");
	struct result r;
	long capped, whole;
	size_t rows;

	write_week(a, 120000, 2);
	/* the ceiling first: maxrss is a maximum over every child */
	r = shell("cd '%s' && '%s' flows -q -j1 --idle-timeout 700000 --max-flows 2000 "
		  "week.pcap | tail -n +2 | wc -l",
		  dir, SX_BINARY);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect_gt(strtoul(r.out, NULL, 10), 120000);
	free_result(&r);
	capped = children_maxrss();
	r = shell("cd '%s' && '%s' flows -q -j1 --idle-timeout 700000 week.pcap > week.csv", dir,
		  SX_BINARY);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	free_result(&r);
	whole = children_maxrss();
	{
		char *p = sub("week.csv"), *text = sx_tt_read(p, NULL);

		cr_assert_not_null(text);
		cr_expect_eq(csv_packets(text, &rows), 240000u);
		cr_expect_eq(rows, 120000u);
		free(text);
		free(p);
	}
	note("max RSS: %ld KiB with --max-flows 2000, %ld KiB without (120000 live flows)", capped,
	     whole);
#if defined(__SANITIZE_ADDRESS__)
	note("AddressSanitizer build: its quarantine hides the difference; not compared");
#else
	cr_expect_lt(capped, whole / 2, "the ceiling did not bound memory: %ld vs %ld KiB", capped,
		     whole);
	cr_expect_lt(capped, 64 * 1024, "%ld KiB with a ceiling of 2000 flows", capped);
#endif
	free(a);
}
