/*
 * compiler.h - small portable helpers shared by every module.
 *
 * Header-only; no state.  Nothing here allocates or touches threads.
 */
#ifndef SX_CORE_COMPILER_H
#define SX_CORE_COMPILER_H

#include <stddef.h>

#define SX_LIKELY(x)		    __builtin_expect(!!(x), 1)
#define SX_UNLIKELY(x)		    __builtin_expect(!!(x), 0)
#define SX_ARRAY_SIZE(a)	    (sizeof(a) / sizeof((a)[0]))
#define SX_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define SX_CACHELINE		    64
#define SX_MIN(a, b)		    ((a) < (b) ? (a) : (b))
#define SX_MAX(a, b)		    ((a) > (b) ? (a) : (b))
#define SX_UNUSED		    __attribute__((unused))
#define SX_NOINLINE		    __attribute__((noinline))
#define SX_PRINTF(fmt, args)	    __attribute__((format(printf, fmt, args)))

#endif /* SX_CORE_COMPILER_H */
