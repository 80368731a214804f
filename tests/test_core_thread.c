/*
 * test_core_thread.c - sx_thread_spawn(), sx_cpu_slot() and sx_pool_run()
 * (core/util.h):
 * the thread runs its function with its argument whatever the slot, is
 * free to move once it runs (its affinity is its creator's), and a
 * creator bound to one CPU still gets its thread.  Where the thread
 * starts is a matter of speed, measured by bench/run, not asserted here.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "core/util.h"

struct seen {
	cpu_set_t mask; /* the thread's affinity, read as fn begins */
	int got;
	int arg;
};

static void *note(void *p)
{
	struct seen *s = p;

	s->got = sched_getaffinity(0, sizeof(s->mask), &s->mask) == 0 ? s->arg : -1;
	return s;
}

/* Spawn note() at slot and join it: 0 when the thread ran note() with its
 * argument, returned its value and had the affinity want; else which check
 * failed.  No assertion here: the creator may be a thread of the test's. */
static int spawn_and_check(unsigned slot, const cpu_set_t *want)
{
	struct seen s = {.arg = 7 + (int)(slot % 100)};
	pthread_t t;
	void *ret = NULL;

	if (sx_thread_spawn(&t, note, &s, slot) != 0)
		return 1;
	if (pthread_join(t, &ret) != 0 || ret != &s)
		return 2;
	if (s.got != s.arg)
		return 3;
	return CPU_EQUAL(&s.mask, want) ? 0 : 4;
}

/* Binding a thread of the test's to one CPU leaves Criterion's runner as
 * it was. */
struct job {
	int bound;  /* whether the creator got itself bound */
	int spawn0; /* spawn_and_check() at slot 0, 5 */
	int spawn5;
	unsigned slot;
};

static void *one_cpu_creator(void *p)
{
	struct job *j = p;
	cpu_set_t all, one;
	int cpu;

	if (sched_getaffinity(0, sizeof(all), &all) != 0)
		return NULL;
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &all); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	j->bound = sched_setaffinity(0, sizeof(one), &one) == 0;
	if (!j->bound)
		return j;
	/* one CPU to choose from: a plain thread, bound as its creator is */
	j->spawn0 = spawn_and_check(0, &one);
	j->spawn5 = spawn_and_check(5, &one);
	j->slot = sx_cpu_slot();
	return j;
}

Test(core_thread, runs_fn_and_leaves_the_creators_affinity)
{
	cpu_set_t mask;
	unsigned s;

	cr_assert_eq(sched_getaffinity(0, sizeof(mask), &mask), 0);
	/* every slot, past the CPUs' count too (taken modulo it) */
	for (s = 0; s < 2 * (unsigned)CPU_COUNT(&mask) + 2; s++)
		cr_assert_eq(spawn_and_check(s, &mask), 0, "slot %u", s);
	cr_assert_eq(spawn_and_check(UINT_MAX, &mask), 0);
	cr_assert_eq(spawn_and_check(sx_cpu_slot() + 1, &mask), 0);
}

Test(core_thread, a_creator_bound_to_one_cpu_still_gets_its_thread)
{
	struct job j = {0};
	pthread_t t;
	void *ret = NULL;

	cr_assert_eq(pthread_create(&t, NULL, one_cpu_creator, &j), 0);
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_assert_eq(ret, &j, "the creator could read its affinity");
	cr_assert(j.bound, "the creator could bind itself to one CPU");
	cr_assert_eq(j.spawn0, 0, "slot 0: check %d failed", j.spawn0);
	cr_assert_eq(j.spawn5, 0, "slot 5: check %d failed", j.spawn5);
	cr_assert_eq(j.slot, 0, "bound to one CPU, the creator's slot is 0");
}

Test(core_thread, the_slot_is_below_the_cpus_count)
{
	cpu_set_t mask;
	int i;

	cr_assert_eq(sched_getaffinity(0, sizeof(mask), &mask), 0);
	for (i = 0; i < 100; i++)
		cr_assert_lt(sx_cpu_slot(), (unsigned)CPU_COUNT(&mask));
}

/* sx_pool_run(): every index once, whatever the threads. */
struct counts {
	atomic_uint hits[1000];
};

static void hit(void *ctx, size_t i)
{
	struct counts *c = ctx;

	atomic_fetch_add(&c->hits[i], 1);
}

Test(core_thread, the_pool_calls_each_index_once)
{
	static struct counts c;
	unsigned threads, i;

	for (threads = 0; threads <= 5; threads++) {
		for (i = 0; i < 1000; i++)
			atomic_init(&c.hits[i], 0);
		sx_pool_run(threads, 1000, hit, &c, false);
		for (i = 0; i < 1000; i++)
			cr_assert_eq(atomic_load(&c.hits[i]), 1, "%u threads: index %u", threads,
				     i);
	}
	sx_pool_run(4, 0, hit, &c, true); /* nothing to do */
}
