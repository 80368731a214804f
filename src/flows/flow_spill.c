/*
 * flow_spill.c - where finished flows go, and the reduce phase.
 *
 * DESIGN
 *
 * Evicted flows leave the table: each eviction batch (flow_table.c) is
 * sorted by (unit, first timestamp, key, first packet number) and appended
 * to the spill as one sorted run per unit.  The spill's first bytes
 * (cfg.spill_mem, 8 MiB by default) are memory (one private mapping, pages
 * backed as written), the rest an unlinked temporary file (O_TMPFILE, else
 * mkstemp+unlink, in $TMPDIR or /tmp) created when the memory is full.
 * Offsets are the spill's: below mem_cap in the memory, the file's offset
 * plus mem_cap above; a batch goes where it fits whole, so no run spans
 * both.  Space is reserved with an atomic compare-and-swap on the
 * memory's end (else an add on the file's) and filled with memcpy or
 * pwrite, so workers never wait for each other; only the run list (a few
 * entries per batch) and the file's creation take a mutex.  The memory
 * spares the small runs (a `sigex batch` unit's flows, about 130 KB; the
 * 390 IoT Sentinel captures' 3 MB) a file, its writes and reads, and the
 * write-back a `sigex batch` syncfs of the same file system would give its
 * dirty pages; a large capture's flows still reach the file, so memory
 * stays flat.  A run is (unit, offset, length, count); a record is a 32-bit
 * length, the fixed head of struct sx_flow_rec as bytes (the file never
 * outlives the process), the nseq entries used of seq_len and of seq_iat,
 * then the two strings, NUL-terminated.  Most flows carry a few payload
 * packets, so the record is about a third of the whole arrays' size: the
 * eviction buffers, the file and the reduce's reads shrink with it.
 *
 * Reduce: units in order (capture index, then event window), and per unit a
 * k-way merge of its runs with a binary heap, each run read in place when in
 * the memory, else through its own buffer (a share of SPILL_READ_BUDGET, at
 * least one record), so memory stays flat however many flows or runs a
 * unit has.  The merge is done twice per unit: the first pass counts
 * endpoints for the service-port rule
 * (flow_service.c) from the records' heads, the second builds the rows
 * from whole records, out of the same buffers when they hold the whole
 * runs (most units), else read again.  Index is the position in
 * the merged order.  Names are looked up here, after the whole run was read,
 * so a connection is never named differently before and after its DNS
 * answer.
 */
#include "flows/flows.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "flows/flows_int.h"

#define REC_HEAD	  offsetof(struct sx_flow_rec, seq_len)
#define REC_SEQ		  (sizeof(int32_t) + sizeof(int64_t)) /* per seq entry */
#define REC_MIN		  (4 + REC_HEAD + 2)
#define REC_MAX		  (4 + REC_HEAD + SX_FLOW_SEQ_MAX * REC_SEQ + SX_FLOW_SPEC_MAX + SX_FLOW_ATTR_MAX)
#define SPILL_READ_BUDGET (4u << 20)
#define SPILL_READ_MAX	  (32u << 10)

SX_STATIC_ASSERT(offsetof(struct sx_flow_rec, spec) + SX_FLOW_SPEC_MAX ==
		     offsetof(struct sx_flow_rec, attrs),
		 "rec layout");
SX_STATIC_ASSERT(offsetof(struct sx_flow_rec, nseq) < REC_HEAD, "nseq in the head");

int sx_spill__init(struct sx_spill *s, const char *dir, uint64_t mem_cap)
{
	void *mem = MAP_FAILED;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (!dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	s->dir = strdup(dir);
	if (!s->dir)
		return -ENOMEM;
	/* Address space only: pages are backed as the runs fill them.  Without
	 * it, every run goes to the file. */
	if (mem_cap)
		mem = mmap(NULL, mem_cap, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem != MAP_FAILED) {
		s->mem = mem;
		s->mem_cap = mem_cap;
	}
	atomic_init(&s->mem_end, 0);
	atomic_init(&s->file_end, 0);
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

/* The file, created at the first run the memory cannot hold.  Under s->lock. */
static int spill_file(struct sx_spill *s)
{
	char *path;
	size_t n;
	int fd;

	if (s->fd >= 0)
		return 0;
	if (s->file_err)
		return s->file_err;
	fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		n = strlen(s->dir) + sizeof("/sigex-flows-XXXXXX");
		path = malloc(n);
		if (!path)
			return -ENOMEM;
		snprintf(path, n, "%s/sigex-flows-XXXXXX", s->dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0) {
			s->file_err = -errno;
			free(path);
			return s->file_err;
		}
		unlink(path);
		free(path);
	}
	s->fd = fd;
	return 0;
}

void sx_spill__fini(struct sx_spill *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->mem)
		munmap(s->mem, s->mem_cap);
	if (s->dir)
		pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s->runs);
	s->runs = NULL;
	s->mem = NULL;
	s->dir = NULL;
	s->fd = -1;
}

uint64_t sx_spill__bytes(const struct sx_spill *s)
{
	return atomic_load(&s->mem_end) + atomic_load(&s->file_end);
}

void sx_spill__put_rec(struct sx_buf *b, const struct sx_flow_rec *r)
{
	size_t ls = strlen(r->spec) + 1, la = strlen(r->attrs) + 1;
	size_t n = SX_MIN((size_t)r->nseq, (size_t)SX_FLOW_SEQ_MAX);
	uint32_t size = (uint32_t)(4 + REC_HEAD + n * REC_SEQ + ls + la);

	sx_buf_put(b, &size, 4);
	sx_buf_put(b, r, REC_HEAD);
	sx_buf_put(b, r->seq_len, n * sizeof(r->seq_len[0]));
	sx_buf_put(b, r->seq_iat, n * sizeof(r->seq_iat[0]));
	sx_buf_put(b, r->spec, ls);
	sx_buf_put(b, r->attrs, la);
}

static int pwrite_all(int fd, const char *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Reserve n bytes of the memory; false when they do not fit. */
static bool spill_mem_take(struct sx_spill *s, uint64_t n, uint64_t *base)
{
	uint64_t end = atomic_load_explicit(&s->mem_end, memory_order_relaxed);

	do {
		if (n > s->mem_cap - end)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
	    &s->mem_end, &end, end + n, memory_order_relaxed, memory_order_relaxed));
	*base = end;
	return true;
}

int sx_spill__write(struct sx_spill *s, const struct sx_buf *buf, const struct sx_run *runs,
		    size_t nruns)
{
	uint64_t base;
	size_t i;
	int ret;

	if (!buf->len)
		return 0;
	if (spill_mem_take(s, buf->len, &base)) {
		memcpy(s->mem + base, buf->data, buf->len);
	} else {
		pthread_mutex_lock(&s->lock);
		ret = spill_file(s);
		pthread_mutex_unlock(&s->lock);
		if (ret)
			return ret;
		base = atomic_fetch_add(&s->file_end, buf->len);
		ret = pwrite_all(s->fd, buf->data, buf->len, base);
		if (ret)
			return ret;
		base += s->mem_cap;
	}
	/* The run list's mutex also publishes the bytes to the reduce. */
	pthread_mutex_lock(&s->lock);
	if (s->nruns + nruns > s->cap) {
		size_t ncap = SX_MAX(s->cap * 2, s->nruns + nruns + 16);
		struct sx_run *nr = sx_realloc_array(s->runs, ncap, sizeof(*nr));

		if (!nr) {
			pthread_mutex_unlock(&s->lock);
			return -ENOMEM;
		}
		s->runs = nr;
		s->cap = ncap;
	}
	for (i = 0; i < nruns; i++) {
		s->runs[s->nruns] = runs[i];
		s->runs[s->nruns].off += base;
		s->nruns++;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* ---- reading runs back ---- */

struct cursor {
	int fd;
	uint64_t pos;	/* next file offset to read */
	bool in_mem;	/* buf is the run in the spill's memory, whole */
	uint64_t left;	/* bytes of the run not yet read */
	uint64_t count; /* records not yet returned */
	char *buf;
	size_t cap, len, at; /* buffer: valid bytes [at, len) */
	bool moved;	     /* bytes before at were dropped: buf[0] is not the run's start */
	bool head_only;	     /* load the record's head alone (the first pass) */
	struct sx_flow_rec rec;
};

static int cursor_fill(struct cursor *c, size_t need)
{
	if (c->len - c->at >= need)
		return 0;
	if (c->in_mem)
		return -EIO; /* the run ends inside a record */
	if (c->at)
		c->moved = true;
	memmove(c->buf, c->buf + c->at, c->len - c->at);
	c->len -= c->at;
	c->at = 0;
	while (c->len < need) {
		size_t want = SX_MIN((uint64_t)(c->cap - c->len), c->left);
		ssize_t k;

		if (want == 0)
			return -EIO; /* the run ends inside a record */
		k = pread(c->fd, c->buf + c->len, want, (off_t)c->pos);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		c->len += (size_t)k;
		c->pos += (uint64_t)k;
		c->left -= (uint64_t)k;
	}
	return 0;
}

/* Load the next record into c->rec.  1, 0 at the end, or -errno. */
static int cursor_next(struct cursor *c)
{
	uint32_t size;
	const char *p, *spec, *attrs;
	size_t ls, la, n, fixed;
	int ret;

	if (c->count == 0)
		return 0;
	ret = cursor_fill(c, 4);
	if (ret)
		return ret;
	memcpy(&size, c->buf + c->at, 4);
	if (size < REC_MIN || size > REC_MAX)
		return -EIO;
	ret = cursor_fill(c, size);
	if (ret)
		return ret;
	p = c->buf + c->at;
	memcpy(&c->rec, p + 4, REC_HEAD);
	n = c->rec.nseq;
	fixed = 4 + REC_HEAD + n * REC_SEQ;
	if (n > SX_FLOW_SEQ_MAX || fixed + 2 > size)
		return -EIO;
	if (c->head_only) {
		c->at += size;
		c->count--;
		return 1;
	}
	memcpy(c->rec.seq_len, p + 4 + REC_HEAD, n * sizeof(c->rec.seq_len[0]));
	memset(c->rec.seq_len + n, 0, (SX_FLOW_SEQ_MAX - n) * sizeof(c->rec.seq_len[0]));
	memcpy(c->rec.seq_iat, p + 4 + REC_HEAD + n * sizeof(c->rec.seq_len[0]),
	       n * sizeof(c->rec.seq_iat[0]));
	memset(c->rec.seq_iat + n, 0, (SX_FLOW_SEQ_MAX - n) * sizeof(c->rec.seq_iat[0]));
	spec = p + fixed;
	ls = strnlen(spec, size - fixed);
	if (ls >= SX_FLOW_SPEC_MAX || fixed + ls + 1 >= size)
		return -EIO;
	attrs = spec + ls + 1;
	la = strnlen(attrs, size - fixed - ls - 1);
	if (la >= SX_FLOW_ATTR_MAX || fixed + ls + 1 + la + 1 != size)
		return -EIO;
	memcpy(c->rec.spec, spec, ls + 1);
	memcpy(c->rec.attrs, attrs, la + 1);
	c->at += size;
	c->count--;
	return 1;
}

struct merge {
	struct cursor *cur;
	size_t ncur;
	size_t *heap;
	size_t nheap;
};

static bool heap_less(const struct merge *m, size_t a, size_t b)
{
	return sx_flow_rec_cmp(&m->cur[m->heap[a]].rec, &m->cur[m->heap[b]].rec) < 0;
}

static void heap_swap(struct merge *m, size_t a, size_t b)
{
	size_t t = m->heap[a];

	m->heap[a] = m->heap[b];
	m->heap[b] = t;
}

static void sift_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;

		if (l < m->nheap && heap_less(m, l, s))
			s = l;
		if (r < m->nheap && heap_less(m, r, s))
			s = r;
		if (s == i)
			return;
		heap_swap(m, i, s);
		i = s;
	}
}

static void merge_free(struct merge *m)
{
	size_t i;

	if (m->cur)
		for (i = 0; i < m->ncur; i++)
			if (!m->cur[i].in_mem)
				free(m->cur[i].buf);
	free(m->cur);
	free(m->heap);
	memset(m, 0, sizeof(*m));
}

/* The heap of the cursors that hold a record, in order. */
static void merge_heapify(struct merge *m)
{
	size_t i;

	for (i = m->nheap / 2; i-- > 0;)
		sift_down(m, i);
}

/* Open the runs [runs, runs + n) and prime the heap; head_only: the
 * records' heads alone (what the order and the first pass read). */
static int merge_open(struct merge *m, const struct sx_spill *sp, const struct sx_run *runs,
		      size_t n, bool head_only)
{
	size_t i, share;
	int ret;

	memset(m, 0, sizeof(*m));
	m->cur = sx_calloc_array(n, sizeof(*m->cur));
	m->heap = sx_calloc_array(n, sizeof(*m->heap));
	if (!m->cur || !m->heap) {
		merge_free(m);
		return -ENOMEM;
	}
	m->ncur = n;
	share = SX_MIN(SX_MAX(SPILL_READ_BUDGET / n, (size_t)REC_MAX), (size_t)SPILL_READ_MAX);
	for (i = 0; i < n; i++) {
		struct cursor *c = &m->cur[i];

		c->count = runs[i].count;
		c->head_only = head_only;
		if (runs[i].off < sp->mem_cap) {
			if (runs[i].len > sp->mem_cap - runs[i].off) {
				merge_free(m);
				return -EIO;
			}
			c->in_mem = true;
			c->buf = sp->mem + runs[i].off;
			c->cap = c->len = (size_t)runs[i].len;
		} else {
			c->fd = sp->fd;
			c->pos = runs[i].off - sp->mem_cap;
			c->left = runs[i].len;
			c->cap =
			    (size_t)SX_MIN((uint64_t)share, SX_MAX(runs[i].len, (uint64_t)REC_MAX));
			c->buf = malloc(c->cap);
			if (!c->buf) {
				merge_free(m);
				return -ENOMEM;
			}
		}
		ret = cursor_next(c);
		if (ret < 0) {
			merge_free(m);
			return ret;
		}
		if (ret)
			m->heap[m->nheap++] = i;
	}
	merge_heapify(m);
	return 0;
}

/*
 * The runs read again from their start, whole records, without reading the
 * file again when every cursor still holds its whole run (a unit's runs
 * mostly fit their buffers): 1, 0 when one does not (the caller opens
 * them anew), or -errno.
 */
static int merge_rewind(struct merge *m, const struct sx_run *runs)
{
	size_t i;
	int ret;

	for (i = 0; i < m->ncur; i++)
		if (m->cur[i].moved || m->cur[i].left || m->cur[i].len != runs[i].len)
			return 0;
	m->nheap = 0;
	for (i = 0; i < m->ncur; i++) {
		struct cursor *c = &m->cur[i];

		c->at = 0;
		c->count = runs[i].count;
		c->head_only = false;
		ret = cursor_next(c);
		if (ret < 0)
			return ret;
		if (ret)
			m->heap[m->nheap++] = i;
	}
	merge_heapify(m);
	return 1;
}

/* The smallest record, or NULL at the end; valid until merge_pop(). */
static const struct sx_flow_rec *merge_peek(const struct merge *m)
{
	return m->nheap ? &m->cur[m->heap[0]].rec : NULL;
}

static int merge_pop(struct merge *m)
{
	int ret = cursor_next(&m->cur[m->heap[0]]);

	if (ret < 0)
		return ret;
	if (ret == 0)
		m->heap[0] = m->heap[--m->nheap];
	if (m->nheap)
		sift_down(m, 0);
	return 0;
}

static int run_cmp(const void *pa, const void *pb)
{
	const struct sx_run *a = pa, *b = pb;

	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->event != b->event)
		return a->event < b->event ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

struct reduce_ctx {
	struct sx_flows *fl;
	const char *const *files;
	uint32_t nfiles;
	const struct sx_names *names;
	struct sx_svc_map *svc;
	struct sx_flow_row row;
	char dev_addr[64], other_addr[64];
	/* unit_start()'s cache */
	bool start_valid;
	uint32_t start_file, start_event;
	int64_t start_ns;
};

/* The window start of unit (file, event); the last one is cached, as rows
 * come unit by unit. */
static int64_t unit_start(struct reduce_ctx *rc, uint32_t file, uint32_t event)
{
	const struct sx_window *w;
	uint32_t n, i;

	if (rc->start_valid && rc->start_file == file && rc->start_event == event)
		return rc->start_ns;
	w = sx_flows__windows(rc->fl, file, &n);
	rc->start_ns = 0;
	for (i = 0; i < n; i++)
		if (w[i].event == event) {
			rc->start_ns = w[i].start_ns;
			break;
		}
	rc->start_valid = true;
	rc->start_file = file;
	rc->start_event = event;
	return rc->start_ns;
}

static void fill_row(struct reduce_ctx *rc, uint64_t index)
{
	struct sx_flow_row *row = &rc->row;
	const struct sx_flow_rec *r = &row->rec;
	const struct sx_events *ev = rc->fl->cfg.events;
	struct sx_addr da, oa;
	uint16_t dp, op;
	const char *n;

	row->index = index;
	row->file = r->key.file < rc->nfiles && rc->files ? rc->files[r->key.file] : "";
	row->event_label = "";
	row->event_ns = 0;
	if (r->key.event != SX_FLOW_NO_EVENT && ev && r->key.event < ev->n) {
		row->event_label = ev->ev[r->key.event].label;
		row->event_ns = unit_start(rc, r->key.file, r->key.event);
	}
	sx_flow_rec_end(r, SX_SIDE_DEVICE, &da, &dp);
	sx_flow_rec_end(r, SX_SIDE_OTHER, &oa, &op);
	sx_addr_str(&da, rc->dev_addr, sizeof(rc->dev_addr));
	sx_addr_str(&oa, rc->other_addr, sizeof(rc->other_addr));
	row->dev_addr = rc->dev_addr;
	row->other_addr = rc->other_addr;
	n = rc->names ? sx_names_lookup(rc->names, &da) : NULL;
	row->dev_host = n ? n : rc->dev_addr;
	n = rc->names ? sx_names_lookup(rc->names, &oa) : NULL;
	row->other_host = n ? n : rc->other_addr;
	n = rc->names ? sx_names_lookup_local(rc->names, &da) : NULL;
	row->dev_local = n ? n : "";
	n = rc->names ? sx_names_lookup_local(rc->names, &oa) : NULL;
	row->other_local = n ? n : "";
	row->service_side = (uint8_t)sx_flows__service(rc->svc, r);
	row->service_port = 0;
	row->ephemeral_port = 0;
	if (row->service_side == SX_SIDE_DEVICE) {
		row->service_port = dp;
		row->ephemeral_port = op;
	} else if (row->service_side == SX_SIDE_OTHER) {
		row->service_port = op;
		row->ephemeral_port = dp;
	}
}

/* The bytes of a record in use: the head and the sequences (the entries past
 * nseq are zero, cursor_next()), the texts up to their NUL. */
static void rec_copy(struct sx_flow_rec *to, const struct sx_flow_rec *from)
{
	memcpy(to, from, offsetof(struct sx_flow_rec, spec));
	memcpy(to->spec, from->spec, strlen(from->spec) + 1);
	memcpy(to->attrs, from->attrs, strlen(from->attrs) + 1);
}

/* Both passes over one unit's runs. */
static int reduce_unit(struct reduce_ctx *rc, const struct sx_run *runs, size_t n,
		       sx_flow_row_fn fn, void *arg)
{
	const struct sx_flow_rec *r;
	struct merge m;
	uint64_t index = 0;
	int ret;

	sx_svc_map_reset(rc->svc);
	ret = merge_open(&m, &rc->fl->spill, runs, n, true);
	if (ret)
		return ret;
	while ((r = merge_peek(&m)) != NULL) {
		sx_svc_map_count(rc->svc, r);
		ret = merge_pop(&m);
		if (ret)
			goto out;
	}
	ret = merge_rewind(&m, runs);
	if (ret < 0)
		goto out;
	if (ret == 0) {
		merge_free(&m);
		ret = merge_open(&m, &rc->fl->spill, runs, n, false);
		if (ret)
			return ret;
	}
	ret = 0;
	while ((r = merge_peek(&m)) != NULL) {
		rec_copy(&rc->row.rec, r);
		fill_row(rc, index++);
		ret = fn(arg, &rc->row);
		if (ret)
			goto out;
		ret = merge_pop(&m);
		if (ret)
			goto out;
	}
out:
	merge_free(&m);
	return ret;
}

/* The spill's runs, sorted by unit (a copy: the list may not grow now). */
static int sorted_runs(struct sx_flows *fl, struct sx_run **out, size_t *nout)
{
	struct sx_spill *s = &fl->spill;
	struct sx_run *runs;
	size_t nruns;

	pthread_mutex_lock(&s->lock);
	nruns = s->nruns;
	runs = sx_calloc_array(nruns + 1, sizeof(*runs));
	if (runs && nruns)
		memcpy(runs, s->runs, nruns * sizeof(*runs));
	pthread_mutex_unlock(&s->lock);
	if (!runs)
		return -ENOMEM;
	qsort(runs, nruns, sizeof(*runs), run_cmp);
	*out = runs;
	*nout = nruns;
	return 0;
}

/* The end of the unit whose runs start at runs[i]. */
static size_t unit_end(const struct sx_run *runs, size_t nruns, size_t i)
{
	size_t j;

	for (j = i + 1; j < nruns; j++)
		if (runs[j].file != runs[i].file || runs[j].event != runs[i].event)
			break;
	return j;
}

static int reduce_ctx_new(struct sx_flows *fl, const char *const *files, uint32_t nfiles,
			  const struct sx_names *names, struct reduce_ctx **out)
{
	struct reduce_ctx *rc = calloc(1, sizeof(*rc));

	if (!rc || sx_svc_map_new(&rc->svc)) {
		free(rc);
		return -ENOMEM;
	}
	rc->fl = fl;
	rc->files = files;
	rc->nfiles = nfiles;
	rc->names = names;
	*out = rc;
	return 0;
}

static void reduce_ctx_free(struct reduce_ctx *rc)
{
	if (!rc)
		return;
	sx_svc_map_free(rc->svc);
	free(rc);
}

int sx_flows_reduce(struct sx_flows *fl, const char *const *files, uint32_t nfiles,
		    const struct sx_names *names, sx_flow_row_fn fn, void *arg)
{
	struct reduce_ctx *rc = NULL;
	struct sx_run *runs = NULL;
	size_t nruns, i, j;
	int ret;

	ret = sorted_runs(fl, &runs, &nruns);
	if (!ret)
		ret = reduce_ctx_new(fl, files, nfiles, names, &rc);
	for (i = 0; i < nruns && !ret; i = j) {
		j = unit_end(runs, nruns, i);
		ret = reduce_unit(rc, runs + i, j - i, fn, arg);
	}
	reduce_ctx_free(rc);
	free(runs);
	return ret;
}

/*
 * Text reduce on several threads.  Units are independent, so threads take
 * them in order from an atomic index and format their rows into their own
 * buffer; the text must still leave in unit order.  The unit whose turn it
 * is (next) streams straight to out as its buffer fills; any other waits
 * for its turn once its buffer holds TEXT_AHEAD_MAX bytes.  A unit done
 * before its turn is parked (its buffer handed to the run, the thread goes
 * on to the next unit) while the parked text stays under TEXT_AHEAD_MAX,
 * else it waits for its turn; the thread that finishes the unit whose turn
 * it is writes it and then every parked unit that follows it.  Without the
 * parking, many small units (one per capture) kept the threads waiting on
 * each other at every unit's end: over the 390 IoT Sentinel captures,
 * 867 futex calls at -j2 against 1 at -j1.  The lowest unit in progress is
 * always the one whose turn it is, so nobody waits forever, and memory
 * stays bounded by (threads + 1) x TEXT_AHEAD_MAX whatever the units'
 * sizes.  A parked buffer, once written, is kept as a spare (up to
 * TEXT_SPARES of at most TEXT_SPARE_MAX bytes each) for the next thread
 * that parks: a thread that hands its buffer over takes a spare, already
 * grown and its pages mapped, instead of growing a new one from nothing by
 * reallocs and page faults (at -j2 over many small captures almost every
 * unit done off turn is parked); the spares add at most 4 MiB to the bound
 * above.
 */
#define TEXT_FLUSH     (256u * 1024u)
#define TEXT_AHEAD_MAX (16u << 20)
#define TEXT_SPARES    8u
#define TEXT_SPARE_MAX (2 * TEXT_FLUSH)

struct text_run {
	struct sx_flows *fl;
	const char *const *files;
	uint32_t nfiles;
	const struct sx_names *names;
	sx_flow_text_fn fmt;
	FILE *out;
	const struct sx_run *runs;
	size_t nruns;
	size_t *unit_at; /* index in runs of each unit's first run */
	size_t nunits;
	atomic_size_t take; /* next unit to take */
	pthread_mutex_t lock;
	pthread_cond_t turn;
	size_t next;			  /* unit whose text is due (under lock) */
	int err;			  /* first error (under lock) */
	struct text_park *park;		  /* by unit (under lock) */
	size_t parked;			  /* bytes parked (under lock) */
	struct sx_buf spare[TEXT_SPARES]; /* written parked buffers, empty (under lock) */
	unsigned nspare;
};

/* A unit's text, done before its turn. */
struct text_park {
	struct sx_buf b;
	bool ready;
};

struct text_thread {
	struct text_run *tr;
	pthread_t thread;
	struct reduce_ctx *rc;
	struct sx_buf b;
	size_t unit;
};

/* Wait for this unit's turn; false when the run failed meanwhile. */
static bool wait_turn(struct text_thread *t)
{
	struct text_run *tr = t->tr;
	bool ok;

	pthread_mutex_lock(&tr->lock);
	while (tr->next != t->unit && !tr->err)
		pthread_cond_wait(&tr->turn, &tr->lock);
	ok = !tr->err;
	pthread_mutex_unlock(&tr->lock);
	return ok;
}

static bool my_turn(struct text_thread *t)
{
	bool mine;

	pthread_mutex_lock(&t->tr->lock);
	mine = t->tr->next == t->unit;
	pthread_mutex_unlock(&t->tr->lock);
	return mine;
}

static void text_fail(struct text_run *tr, int err)
{
	pthread_mutex_lock(&tr->lock);
	if (!tr->err)
		tr->err = err;
	pthread_cond_broadcast(&tr->turn);
	pthread_mutex_unlock(&tr->lock);
}

/*
 * This thread's unit is formatted: park it, or wait for its turn, then
 * write it and the parked units that follow.  0, 1 when the run failed
 * meanwhile (its error is kept), or a negative error.
 */
static int unit_done(struct text_thread *t)
{
	struct text_run *tr = t->tr;
	int ret = 0;

	pthread_mutex_lock(&tr->lock);
	if (!tr->err && tr->next != t->unit && tr->parked + t->b.len <= TEXT_AHEAD_MAX) {
		tr->park[t->unit].b = t->b;
		tr->park[t->unit].ready = true;
		tr->parked += t->b.len;
		if (tr->nspare)
			t->b = tr->spare[--tr->nspare];
		else
			sx_buf_init(&t->b);
		pthread_mutex_unlock(&tr->lock);
		return 0;
	}
	while (tr->next != t->unit && !tr->err)
		pthread_cond_wait(&tr->turn, &tr->lock);
	if (tr->err) {
		pthread_mutex_unlock(&tr->lock);
		return 1;
	}
	ret = sx_buf_flush(&t->b, tr->out);
	tr->next++;
	while (!ret && tr->next < tr->nunits && tr->park[tr->next].ready) {
		struct text_park *pk = &tr->park[tr->next];

		tr->parked -= pk->b.len;
		ret = sx_buf_flush(&pk->b, tr->out);
		if (tr->nspare < TEXT_SPARES && !pk->b.err && pk->b.cap <= TEXT_SPARE_MAX)
			tr->spare[tr->nspare++] = pk->b; /* emptied by the flush */
		else
			sx_buf_fini(&pk->b);
		pk->ready = false;
		tr->next++;
	}
	pthread_cond_broadcast(&tr->turn);
	pthread_mutex_unlock(&tr->lock);
	return ret;
}

static int text_row(void *arg, const struct sx_flow_row *row)
{
	struct text_thread *t = arg;

	t->tr->fmt(&t->b, row);
	if (t->b.len < TEXT_FLUSH)
		return 0;
	if (t->b.len < TEXT_AHEAD_MAX && !my_turn(t))
		return 0;
	if (!wait_turn(t))
		return SX_E_STOPPED; /* another thread failed: its error is kept */
	return sx_buf_flush(&t->b, t->tr->out);
}

static void *text_main(void *arg)
{
	struct text_thread *t = arg;
	struct text_run *tr = t->tr;
	int ret;

	for (;;) {
		size_t u = atomic_fetch_add(&tr->take, 1), first, end;

		if (u >= tr->nunits)
			break;
		t->unit = u;
		first = tr->unit_at[u];
		end = unit_end(tr->runs, tr->nruns, first);
		ret = reduce_unit(t->rc, tr->runs + first, end - first, text_row, t);
		if (!ret)
			ret = unit_done(t);
		if (ret > 0)
			break;
		if (ret) {
			text_fail(tr, ret);
			break;
		}
	}
	return NULL;
}

int sx_flows_reduce_text(struct sx_flows *fl, const char *const *files, uint32_t nfiles,
			 const struct sx_names *names, unsigned nthreads, sx_flow_text_fn fmt,
			 FILE *out)
{
	struct text_run tr = {
	    .fl = fl, .files = files, .nfiles = nfiles, .names = names, .fmt = fmt, .out = out};
	struct text_thread *th = NULL;
	struct sx_run *runs = NULL;
	unsigned n, i, started = 0, me;
	size_t nruns, k;
	int ret;

	ret = sorted_runs(fl, &runs, &nruns);
	if (ret)
		return ret;
	tr.runs = runs;
	tr.nruns = nruns;
	tr.unit_at = sx_calloc_array(nruns + 1, sizeof(*tr.unit_at));
	if (!tr.unit_at) {
		ret = -ENOMEM;
		goto out_runs;
	}
	for (k = 0; k < nruns; k = unit_end(runs, nruns, k))
		tr.unit_at[tr.nunits++] = k;
	tr.park = sx_calloc_array(tr.nunits + 1, sizeof(*tr.park));
	if (!tr.park) {
		ret = -ENOMEM;
		goto out_units;
	}
	n = nthreads ? nthreads : 1;
	if (n > tr.nunits)
		n = tr.nunits ? (unsigned)tr.nunits : 1;
	th = sx_calloc_array(n, sizeof(*th));
	if (!th) {
		ret = -ENOMEM;
		goto out_units;
	}
	atomic_init(&tr.take, 0);
	pthread_mutex_init(&tr.lock, NULL);
	pthread_cond_init(&tr.turn, NULL);
	for (i = 0; i < n && !ret; i++) {
		th[i].tr = &tr;
		sx_buf_init(&th[i].b);
		ret = reduce_ctx_new(fl, files, nfiles, names, &th[i].rc);
	}
	/* The calling thread is the first worker: one thread needs no other.
	 * The others start on the next CPUs (core/util.h): made right after
	 * the reading, left to the kernel they often queued behind this one
	 * on its CPU, the whole reduce on one CPU. */
	me = sx_cpu_slot();
	for (i = 1; i < n && !ret; i++) {
		if (sx_thread_spawn(&th[i].thread, text_main, &th[i], me + i))
			break; /* fewer threads: the others take its units */
		started++;
	}
	if (!ret)
		text_main(&th[0]);
	else
		text_fail(&tr, ret);
	for (i = 1; i <= started; i++)
		pthread_join(th[i].thread, NULL);
	if (!ret)
		ret = tr.err;
	for (i = 0; i < n; i++) {
		sx_buf_fini(&th[i].b);
		reduce_ctx_free(th[i].rc);
	}
	for (k = 0; k < tr.nunits; k++)
		if (tr.park[k].ready) /* left by a failed run */
			sx_buf_fini(&tr.park[k].b);
	while (tr.nspare)
		sx_buf_fini(&tr.spare[--tr.nspare]);
	pthread_cond_destroy(&tr.turn);
	pthread_mutex_destroy(&tr.lock);
	free(th);
out_units:
	free(tr.park);
	free(tr.unit_at);
out_runs:
	free(runs);
	return ret;
}
