/*
 * util.c - see util.h.
 */
#include "core/util.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sx_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return errno ? -errno : -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int sx_parse_seconds(const char *s, double *out)
{
	bool digit = false, dot = false;
	const char *p;
	char *end;
	double v;

	/* Digits and at most one '.': strtod alone would also take an
	 * exponent, hexadecimal, "inf" and leading blanks. */
	if (!s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.' && !dot)
			dot = true;
		else
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

bool sx_seconds_ok(double s, bool zero_ok)
{
	return s >= 0 && s <= SX_SECONDS_MAX && (zero_ok || s > 0);
}

unsigned sx_nproc(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

unsigned sx_cpu_slot(void)
{
	cpu_set_t mask;
	int cpu = sched_getcpu(), i;
	unsigned slot = 0;

	if (cpu < 0 || sched_getaffinity(0, sizeof(mask), &mask) != 0)
		return 0;
	for (i = 0; i < cpu && i < CPU_SETSIZE; i++)
		slot += CPU_ISSET(i, &mask) != 0;
	return slot;
}

struct spawn {
	void *(*fn)(void *);
	void *arg;
	cpu_set_t mask; /* the creator's */
};

static void *spawn_main(void *p)
{
	struct spawn sp = *(struct spawn *)p;

	free(p);
	/* never left bound: the creator's CPUs, else any (the creator's set
	 * may have changed since) */
	if (pthread_setaffinity_np(pthread_self(), sizeof(sp.mask), &sp.mask) != 0) {
		cpu_set_t any;
		int i;

		CPU_ZERO(&any);
		for (i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &any);
		pthread_setaffinity_np(pthread_self(), sizeof(any), &any);
	}
	return sp.fn(sp.arg);
}

int sx_thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg, unsigned slot)
{
	struct spawn *sp = malloc(sizeof(*sp));
	pthread_attr_t attr;
	cpu_set_t one;
	int n, cpu, ret;

	if (!sp || sched_getaffinity(0, sizeof(sp->mask), &sp->mask) != 0 ||
	    (n = CPU_COUNT(&sp->mask)) < 2) {
		free(sp);
		return -pthread_create(t, NULL, fn, arg);
	}
	slot %= (unsigned)n;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &sp->mask) && slot-- == 0)
			break;
	sp->fn = fn;
	sp->arg = arg;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ret = pthread_attr_init(&attr);
	if (!ret) {
		ret = pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		if (!ret)
			ret = pthread_create(t, &attr, spawn_main, sp);
		pthread_attr_destroy(&attr);
	}
	if (ret) {
		free(sp);
		return -pthread_create(t, NULL, fn, arg);
	}
	return 0;
}

/* The state of sx_pool_run(): threads take the next index. */
struct pool {
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	size_t n;
	bool stoppable;
	atomic_size_t next;
};

static void *pool_main(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while (!p->stoppable || !sx_stop_requested()) {
		i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		p->fn(p->ctx, i);
	}
	return NULL;
}

void sx_pool_run(unsigned nthreads, size_t n, void (*fn)(void *, size_t), void *ctx, bool stoppable)
{
	struct pool p = {.fn = fn, .ctx = ctx, .n = n, .stoppable = stoppable};
	pthread_t *tids;
	unsigned i, started = 0, me;

	atomic_init(&p.next, 0);
	if (nthreads > n)
		nthreads = (unsigned)n;
	tids = nthreads > 1 ? sx_calloc_array(nthreads, sizeof(*tids)) : NULL;
	me = tids ? sx_cpu_slot() : 0; /* the others start on the next CPUs */
	for (i = 0; tids && i + 1 < nthreads; i++) {
		if (sx_thread_spawn(&tids[i], pool_main, &p, me + 1 + i))
			break; /* fewer threads: the others take the rest */
		started++;
	}
	pool_main(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
}

int sx_str_qcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void *sx_calloc_array(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *sx_realloc_array(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, (n * size) != 0 ? n * size : 1);
}

static atomic_bool stop_flag;

void sx_request_stop(void)
{
	atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
}

bool sx_stop_requested(void)
{
	return atomic_load_explicit(&stop_flag, memory_order_relaxed);
}
