/*
 * check.h - checks that work with and without Criterion, for the tests that
 * also run under ThreadSanitizer.
 *
 * Criterion cannot start under ThreadSanitizer (its BoxFort arena wants a
 * fixed mapping that TSan's shadow memory holds: Snaipe/Criterion#274), so
 * a TSan build of such a test file has its own main() (SX_TC_STANDALONE is
 * then defined) that runs the same test bodies through
 * sx_tc_run_standalone() and writes the JSON summary ctest's hook reads.
 * The bodies check with CHECK*, which maps to cr_assert under Criterion.
 * Include after <criterion/criterion.h>.
 */
#ifndef SX_TESTS_CHECK_H
#define SX_TESTS_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_THREAD__)
#define SX_TC_STANDALONE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SX_TC_STANDALONE 1
#endif
#endif

static inline void sx_tc_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void sx_tc_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
#ifdef SX_TC_STANDALONE
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, msg);
	exit(1);
#else
	cr_assert(0, "%s:%d: %s", file, line, msg);
#endif
}

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			sx_tc_fail(__FILE__, __LINE__, "%s", #c);                                  \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);     \
		if (a_ != b_)                                                                      \
			sx_tc_fail(__FILE__, __LINE__, "%s == %s (%llu != %llu)", #a, #b, a_, b_); \
	} while (0)

struct sx_tc_test {
	const char *name;
	void (*fn)(void);
};

/*
 * sx_tc_run_standalone - run tests[0..n) as suite (each between setup and
 * teardown, either may be NULL), each in a child process when fork_each
 * (for tests that change process-wide state, such as the stop flag);
 * print Criterion's lines and write --json=FILE from argv.  A failed
 * CHECK exits, so without fork_each the first failure ends the run.
 * Returns main()'s status.
 */
int sx_tc_run_standalone(const char *suite, const struct sx_tc_test *tests, size_t n,
			 void (*setup)(void), void (*teardown)(void), bool fork_each, int argc,
			 char **argv);

#endif /* SX_TESTS_CHECK_H */
