/*
 * sort.h - a stable merge sort, specialised per element type.
 *
 * SX_SORT_DEFINE(name, type, before) defines
 *
 *	static void name(type *a, size_t n, type *tmp);
 *
 * which sorts a[0..n) so that no element is followed by one that comes
 * before it, before(const type *x, const type *y) being true when x comes
 * first (a strict weak order; equal elements keep their order).  tmp is
 * scratch room for n elements, owned by the caller, so that sorting never
 * allocates.  Runs of SX_SORT_RUN elements are sorted by insertion, then
 * merged bottom-up.
 *
 * Why not qsort(3): the comparison is a call through a pointer for every
 * pair, which in the miner's inner loops (a vector's entries, a search's
 * anchors, sorted for every flow and every search) cost more than the work
 * around it; here before() is inlined.  Outputs are the same as with any
 * correct sort when the order is total.
 */
#ifndef SX_CORE_SORT_H
#define SX_CORE_SORT_H

#include <stddef.h>
#include <string.h>

#define SX_SORT_RUN 16

#define SX_SORT_DEFINE(name, type, before)                                                         \
	static void name(type *a, size_t n, type *tmp)                                             \
	{                                                                                          \
		type *src = a, *dst = tmp, *t;                                                     \
		size_t lo, i, j, w;                                                                \
                                                                                                   \
		for (lo = 0; lo < n; lo += SX_SORT_RUN) {                                          \
			size_t hi = lo + SX_SORT_RUN < n ? lo + SX_SORT_RUN : n;                   \
                                                                                                   \
			for (i = lo + 1; i < hi; i++) {                                            \
				type x = a[i];                                                     \
                                                                                                   \
				for (j = i; j > lo && before(&x, &a[j - 1]); j--)                  \
					a[j] = a[j - 1];                                           \
				a[j] = x;                                                          \
			}                                                                          \
		}                                                                                  \
		for (w = SX_SORT_RUN; w < n; w *= 2) {                                             \
			for (lo = 0; lo < n; lo += 2 * w) {                                        \
				size_t mid = lo + w < n ? lo + w : n;                              \
				size_t hi = lo + 2 * w < n ? lo + 2 * w : n;                       \
				size_t p = lo, q = mid, k = lo;                                    \
                                                                                                   \
				while (p < mid && q < hi)                                          \
					dst[k++] = before(&src[q], &src[p]) ? src[q++] : src[p++]; \
				while (p < mid)                                                    \
					dst[k++] = src[p++];                                       \
				while (q < hi)                                                     \
					dst[k++] = src[q++];                                       \
			}                                                                          \
			t = src;                                                                   \
			src = dst;                                                                 \
			dst = t;                                                                   \
		}                                                                                  \
		if (src != a)                                                                      \
			memcpy(a, src, n * sizeof(*a));                                            \
	}

#endif /* SX_CORE_SORT_H */
