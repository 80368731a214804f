/*
 * emit_int.h - PRIVATE to the emit module: what profile.c and
 * profile_merge.c share (sx_emit__*).
 */
#ifndef SX_EMIT_EMIT_INT_H
#define SX_EMIT_EMIT_INT_H

#include <stdbool.h>

/* The port ranges a peer-to-peer policy writes for each end (profile.c):
 * all dynamic ports, those below Linux's ephemeral range, those within it. */
#define SX_EMIT__NDYNAMIC 3
extern const char *const sx_emit__dynamic_range[SX_EMIT__NDYNAMIC];

/* Whether a port text is one of sx_emit__dynamic_range[]. */
bool sx_emit__is_dynamic_range(const char *v);

#endif /* SX_EMIT_EMIT_INT_H */
