/*
 * batch_plan.c - the split of an archive into shards (`sigex batch
 * --plan N`, `--shard K/N`), for a cluster's job array.
 *
 * DESIGN.  The shard unit is the batch unit (device, event), not the
 * device: a lab's devices differ in size by orders of magnitude (one camera
 * holds most of the bytes), so units balance far better, and a unit is
 * already what a stamp vouches for, so a requeued task resumes unit by
 * unit.  What spans a device's units, its profile.yaml, and summary.csv
 * are written by the final collect step (batch_run.c), from the units'
 * files and stamps, as a resumed one-machine run writes them.
 *
 * Balance: the longest-processing-time rule on input bytes, the cost
 * measure of the reading (bench/README.md): units largest first, ties by
 * device then event name, each onto the shard with the fewest bytes so far,
 * ties to the lowest shard number.  Sizes and names are all it reads (no
 * path, inode or modification time), so every task of an array computes
 * the same plan from its own scan, and a copy of the archive elsewhere
 * gets the same plan.  n shards at most SX_BATCH_SHARDS_MAX; a shard may be
 * empty when there are fewer units than shards.
 */
#include "batch/batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_int.h"
#include "core/util.h"

/* Units (pointers) largest first, then by device and event: the order work
 * is handed out in, and the plan's. */
int sx_batch__cmp_largest(const void *a, const void *b)
{
	const struct sx_batch_unit *x = *(struct sx_batch_unit *const *)a;
	const struct sx_batch_unit *y = *(struct sx_batch_unit *const *)b;
	int c;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	c = strcmp(x->dev->name, y->dev->name);
	return c ? c : strcmp(x->event, y->event);
}

int sx_batch__assign(struct sx_batch *b, unsigned n)
{
	struct sx_batch_unit **all;
	uint64_t *load;
	size_t i, k, nu = 0;

	all = sx_calloc_array(b->units_total + 1, sizeof(*all));
	load = sx_calloc_array(n, sizeof(*load));
	if (!all || !load) {
		free(all);
		free(load);
		return -ENOMEM;
	}
	for (i = 0; i < b->ndevs; i++)
		for (k = 0; k < b->devs[i]->nunits; k++)
			all[nu++] = b->devs[i]->units[k];
	qsort(all, nu, sizeof(*all), sx_batch__cmp_largest);
	for (i = 0; i < nu; i++) {
		unsigned s, best = 0;

		for (s = 1; s < n; s++)
			if (load[s] < load[best])
				best = s;
		all[i]->shard = best;
		load[best] += all[i]->bytes;
	}
	free(load);
	free(all);
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct sx_batch_plan_row *x = a, *y = b;
	int c;

	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	c = strcmp(x->device, y->device);
	return c ? c : strcmp(x->event, y->event);
}

int sx_batch_plan(struct sx_batch *b, unsigned n, struct sx_batch_plan_row **rows, size_t *nrows)
{
	struct sx_batch_plan_row *r;
	size_t i, k, nr = 0;
	int ret;

	*rows = NULL;
	*nrows = 0;
	if (n < 1 || n > SX_BATCH_SHARDS_MAX)
		return -EINVAL;
	ret = sx_batch__assign(b, n);
	if (ret)
		return ret;
	r = sx_calloc_array(b->units_total + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < b->ndevs; i++)
		for (k = 0; k < b->devs[i]->nunits; k++) {
			const struct sx_batch_unit *u = b->devs[i]->units[k];

			r[nr++] = (struct sx_batch_plan_row){.shard = u->shard,
							     .device = b->devs[i]->name,
							     .event = u->event,
							     .captures = u->ncaps + b->devs[i]->nbg,
							     .bytes = u->bytes};
		}
	qsort(r, nr, sizeof(*r), cmp_row);
	*rows = r;
	*nrows = nr;
	return 0;
}
