/*
 * util.c - see util.h.
 */
#include "core/util.h"

#include <errno.h>
#include <stdatomic.h>
#include <math.h>
#include <stdlib.h>
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
