/*
 * run_int.h - PRIVATE: the replay's result (run.c fills it, report.c writes
 * it).  Read-only once sx_verify_run() returns.
 */
#ifndef SX_VERIFY_RUN_INT_H
#define SX_VERIFY_RUN_INT_H

#include "core/map.h"
#include "verify/verify_int.h"

/* A kind of denied traffic: transport, port, peer, application value. */
struct vx_kind {
	char *s[4];
	uint64_t hash;
	uint64_t packets, flows;
	uint32_t ex_file; /* the first packet: capture and time */
	int64_t ex_sec;
	uint32_t ex_nsec;
};

struct vx_kinds {
	struct vx_kind *v;
	size_t n, vcap;
	struct sx_map map; /* of int32_t indexes into v, under kind_hash(); zeroed: set
			    * up at the first kind */
};

/* One capture's replay. */
struct vx_file {
	bool opened;
	int err;
	char msg[256];
	bool mac_learnt;
	uint8_t mac[6];
	uint64_t packets, allowed, flows, flows_allowed;
	uint64_t by_why[5]; /* enum sx_verify_why */
	uint64_t *hits;	    /* per policy */
	struct vx_kinds kinds;
};

struct sx_verify_result {
	const struct sx_verify_profile *p;
	const char *const *paths;
	uint32_t npaths, bad;
	bool stateless;
	size_t npol;
	uint64_t packets, allowed, flows, flows_allowed;
	uint64_t by_why[5];
	uint64_t *hits;
	struct vx_kinds kinds; /* merged, most packets first */
	struct vx_file *files;
};

int sx_verify__kind_get(struct vx_kinds *t, const char *const s[4], bool *created);
void sx_verify__kinds_fini(struct vx_kinds *t);

#endif /* SX_VERIFY_RUN_INT_H */
