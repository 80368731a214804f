/*
 * sigex_int.h - PRIVATE to the api module (sigex.c, batch_run.c): the
 * stages of sx_extract_mine(), for a driver that reads the captures of many
 * extractions with one pool of reader threads (`sigex batch`,
 * flows/flows.h: sx_flows_collect_multi).
 *
 *   sx_extract__begin(ex, dir, &io)    checks, events, names, the flow table
 *   ... the driver reads io.paths into io.fl, learning names into
 *       io.names (then sx_names_finish) and filling io.status ...
 *   sx_extract__finish(ex, err, n)     reduce (CSVs, miner), mining
 *
 * sx_extract_mine() is exactly begin, sx_flows_collect() over io, finish,
 * so an extraction driven in stages writes the same bytes as one run whole,
 * provided the driver reads every capture i into the table as capture i
 * (flows.h: the capture given to sx_flows_file_begin()).
 */
#ifndef SX_SIGEX_INT_H
#define SX_SIGEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flows/flows.h"
#include "sigex.h"

/* What begin sets up; every pointer is ex's, valid until finish or
 * sx_extract_free(). */
struct sx_extract_io {
	struct sx_flows *fl;	       /* the captures' flows go here */
	struct sx_names *names;	       /* learned into, then finished by the driver */
	struct sx_file_status *status; /* ncaps entries, filled by the driver */
	const char *const *paths;      /* the captures (and background), in the order added */
	uint32_t ncaps;
	unsigned nthreads;  /* sx_extract_set_threads(), 0: CPUs */
	const char *filter; /* BPF, or NULL */
};

/*
 * sx_extract__begin - sx_extract_mine()'s checks and set-up, up to an empty
 * flow table.  @csv_dir: as for sx_extract_mine(); borrowed, must outlive
 * finish.  Returns 0 with *io filled, or the error sx_extract_mine() would
 * return, with the message set (nothing is then left to free but ex).
 * Context: the extraction's thread.
 */
int sx_extract__begin(struct sx_extract *ex, const char *csv_dir, struct sx_extract_io *io);

/*
 * sx_extract__finish - after the captures were read (read_err: the
 * reading's error, 0 when every capture was read, bad captures being in
 * status): reduce into the CSVs and the miner, then mine with mine_threads
 * threads (0: sx_extract_set_threads()'s number).  Frees the flow table,
 * the names and the events whatever happens.  Returns as sx_extract_mine().
 * Context: any one thread at a time, registered with liburcu or not.
 */
int sx_extract__finish(struct sx_extract *ex, int read_err, unsigned mine_threads);

/*
 * sx_extract__set_est_flows - the flows expected live at once, to presize
 * the flow table begin makes (flows.h: est_flows), down to small tables
 * for small inputs; the table grows past it by itself.  Changes nothing in
 * the outputs.  0: the default size.  Before begin.
 */
void sx_extract__set_est_flows(struct sx_extract *ex, uint64_t n);

/*
 * sx_extract__capture_flows - after finish, the flows of capture i (the
 * rows of its CSV, written or not) and their packets, both directions.
 * 0 for a bad i.
 */
void sx_extract__capture_flows(const struct sx_extract *ex, size_t i, uint64_t *flows,
			       uint64_t *packets);

/*
 * sx_extract__new_unaddressed - as sx_extract_new() without the device's
 * address, for a driver that infers it from the packets it reads for the
 * flows (`sigex batch`): the reading does not use it, so it may be set by
 * sx_extract__set_address() up to sx_extract__finish(), which fails with
 * -EINVAL when it was never set.  An events file cannot be used (its
 * windows are placed by the address, at begin).  0, -EINVAL, -ENOMEM.
 */
int sx_extract__new_unaddressed(const char *device, struct sx_extract **out);
/*
 * sx_extract__set_address - the device's IPv4 address and, unless NULL, its
 * MAC (as sx_extract_set_mac()).  Before begin, or until finish for an
 * extraction made by sx_extract__new_unaddressed().  Returns 0, -EINVAL,
 * -EBUSY or -ENOMEM, with a message.
 */
int sx_extract__set_address(struct sx_extract *ex, const char *ipv4, const char *mac);
/*
 * sx_extract__set_capture_ipv4 - the device's IPv4 address in capture i
 * (in the order added), when its DHCP lease gave it another address there
 * than the extraction's (sx_extract_new()).  The captures' rows reach the
 * miner with that address written as the extraction's, so the profile names
 * the device self in every capture (sigex.c, "The device's address"); NULL,
 * or the extraction's address, clears it.  After the extraction's own
 * address, when sx_extract__set_address() may be called.  Returns 0,
 * -EINVAL (bad i or address) or -EBUSY, with a message.
 */
int sx_extract__set_capture_ipv4(struct sx_extract *ex, size_t i, const char *ipv4);

/* The address set for capture i into buf (INET_ADDRSTRLEN bytes), or NULL
 * when the device has the extraction's address there. */
const char *sx_extract__capture_ipv4(const struct sx_extract *ex, size_t i, char *buf,
				     size_t bufsz);

/* ---- held-out validation (validate.c) ---- */

struct sx_buf;
struct sx_validation;
struct sx_yw;

/*
 * sx_extract__fold - a new extraction with ex's settings, its background
 * captures and the event captures i with keep[i] (ncaptures entries), each
 * with its device address.
 * Caller frees with sx_extract_free().  0, -ENOMEM or -EINVAL.
 */
int sx_extract__fold(const struct sx_extract *ex, const bool *keep, struct sx_extract **out);
bool sx_extract__is_background(const struct sx_extract *ex, size_t i);
void sx_extract__ids(const struct sx_extract *ex, const char **mac, const char **gateway,
		     const char **phone);
unsigned sx_extract__threads(const struct sx_extract *ex);
const char *sx_extract__filter(const struct sx_extract *ex);
/* The length of an --events window (the default when none was set). */
int64_t sx_extract__duration_ns(const struct sx_extract *ex);
bool sx_extract__mined(const struct sx_extract *ex);
const struct sx_validation *sx_extract__validation(const struct sx_extract *ex);
/* Takes ownership of v (replacing an earlier one). */
void sx_extract__set_validation(struct sx_extract *ex, struct sx_validation *v);

void sx_validation_free(struct sx_validation *v);
/* The validation's section of pattern.txt, and its top-level key
 * "validation" of signatures.yaml, written through w (errors latch in w). */
void sx_validation_text(const struct sx_validation *v, struct sx_buf *b);
void sx_validation_yaml(struct sx_yw *w, const struct sx_validation *v);

#endif /* SX_SIGEX_INT_H */
