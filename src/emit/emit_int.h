/*
 * emit_int.h - PRIVATE to the emit module: what profile.c and
 * profile_merge.c share (sx_emit__*).
 */
#ifndef SX_EMIT_EMIT_INT_H
#define SX_EMIT_EMIT_INT_H

/* The port ranges a peer-to-peer policy writes for each end (profile.c):
 * all dynamic ports, those below Linux's ephemeral range, those within it;
 * each space-separated ranges, a list in the profile when more than one. */
#define SX_EMIT__NDYNAMIC 3
extern const char *const sx_emit__dynamic_range[SX_EMIT__NDYNAMIC];

#endif /* SX_EMIT_EMIT_INT_H */
