/*
 * batch_profile.c - OUT/<device>/profile.yaml: the device's firewall
 * profile with one interaction per event, made of its events' profiles.
 *
 * DESIGN.  Each unit wrote OUT/<device>/<event>/profile.yaml with the
 * library (one interaction, named after the event).  The device's profile
 * is their union, built from those files rather than from the mining
 * results so that a resumed unit (whose result is gone) counts like a fresh
 * one.  The union's rules are emit's (sx_emit_profile_merge(),
 * profile_merge.c), events in name order.
 *
 * Events whose unit failed are left out.  The file is rewritten only when
 * its bytes change, atomically (core/outfile.h).  Called by the worker that
 * finishes the device's last unit; touches only that device's directory.
 */
#include "batch/batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_int.h"
#include "core/err.h"
#include "core/outfile.h"
#include "emit/emit.h"
#include "yaml/ydoc.h"

#define PROFILE_MAX (64u << 20)

/* Whether path already holds exactly len bytes of data. */
static bool same_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t off = 0, got;
	bool same = true;

	if (!f)
		return false;
	while (same && (got = fread(buf, 1, sizeof(buf), f)) > 0) {
		same = off + got <= len && memcmp(buf, data + off, got) == 0;
		off += got;
	}
	same = same && !ferror(f) && off == len;
	fclose(f);
	return same;
}

int sx_batch__write_file(const char *path, const char *data, size_t len, bool on_stop, char *msg,
			 size_t msglen)
{
	struct sx_out o;
	int ret;

	if (same_bytes(path, data, len))
		return 0;
	ret = sx_out_open(&o, path, msg, msglen);
	if (ret)
		return ret;
	o.commit_on_stop = on_stop;
	o.deferred = false; /* summary.csv and profile.yaml stand alone */
	if (fwrite(data, 1, len, o.f) != len) {
		ret = errno ? -errno : -EIO;
		sx_batch__fmt(msg, msglen, "%s: write error: %s", path, strerror(-ret));
		sx_out_abort(&o);
		return ret;
	}
	return sx_out_commit(&o, msg, msglen);
}

/* The profiles of the device's events that were mined (events in name
 * order), parsed into docs (d->nunits entries); *n of them. */
static int load_events(struct sx_batch *b, struct sx_batch_device *d, struct sx_ytree **docs,
		       size_t *n, char *msg, size_t msglen)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < d->nunits && !ret; i++) {
		const struct sx_batch_unit *u = d->units[i];
		char path[SX_BATCH_PATH_MAX];
		struct sx_ytree *t = NULL;

		if (u->state != SX_BATCH_OK && u->state != SX_BATCH_PARTIAL)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/profile.yaml", b->out, d->name, u->event);
		ret = sx_ytree_load(path, PROFILE_MAX, NULL, &t, msg, msglen);
		if (ret) {
			char why[256];

			snprintf(why, sizeof(why), "%s", msg);
			sx_batch__fmt(msg, msglen, "%s: %s", path, why);
			break;
		}
		if (!t || t->kind != SX_YTREE_MAP) {
			sx_batch__fmt(msg, msglen, "%s: not a profile", path);
			sx_ytree_free(t);
			ret = SX_E_FORMAT;
			break;
		}
		docs[(*n)++] = t;
	}
	return ret;
}

int sx_batch__device_profile(struct sx_batch *b, struct sx_batch_device *d)
{
	char path[SX_BATCH_PATH_MAX], dir[SX_BATCH_PATH_MAX], msg[SX_BATCH_MSG_MAX] = "";
	struct sx_ytree **docs;
	size_t i, nevents = 0, len = 0;
	char *data = NULL;
	FILE *f;
	int ret;

	if (d->refused)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", b->out, d->name);
	sx_batch__fmt(path, sizeof(path), "%s/profile.yaml", dir);
	docs = calloc(d->nunits + 1, sizeof(*docs));
	if (!docs)
		return -ENOMEM;
	ret = load_events(b, d, docs, &nevents, msg, sizeof(msg));
	if (ret || !nevents)
		goto out_docs;
	f = open_memstream(&data, &len);
	if (!f) {
		ret = -ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
		goto out_docs;
	}
	ret = sx_emit_profile_merge((const struct sx_ytree *const *)docs, nevents, f, msg,
				    sizeof(msg));
	if (fclose(f) != 0 && !ret) {
		ret = -ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
	}
	if (!ret) {
		sx_batch__clean_tmp(dir);
		ret = sx_batch__write_file(path, data, len, false, msg, sizeof(msg));
	}
	free(data);
out_docs:
	for (i = 0; i < nevents; i++)
		sx_ytree_free(docs[i]);
	free(docs);
	if (ret) {
		atomic_fetch_add(&b->devices_failed, 1);
		sx_batch__log(b, SX_LOG_ERROR, "%s: profile.yaml: %s", d->name, msg);
	}
	return ret;
}
