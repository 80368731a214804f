/*
 * batch_profile.c - OUT/<device>/profile.yaml: the device's firewall
 * profile with one interaction per event, made of its events' profiles.
 *
 * DESIGN.  Each unit wrote OUT/<device>/<event>/profile.yaml with the
 * library (one interaction, named after the event).  The device's profile
 * is their union, built from those files rather than from the mining
 * results so that a resumed unit (whose result is gone) counts like a fresh
 * one:
 *
 *   device-info       the first event's (events in name order; they agree),
 *                     last-update the latest of the events'
 *   single-policies   every event's, once: a policy id seen again with the
 *                     same content is the same policy (the device's chatter
 *                     is found by every event); with other content it gets
 *                     "-2", "-3"... as profile.c does within one profile
 *   interactions      every event's interaction, in event name order
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
#include "yaml/ydoc.h"

#define PROFILE_MAX (64u << 20)

/* The value of key in map (mutable), or NULL. */
static struct sx_ytree *get_mut(struct sx_ytree *map, const char *key)
{
	return (struct sx_ytree *)sx_ytree_get(map, key);
}

static int add_pair(struct sx_ytree *map, const char *key, const struct sx_ytree *v)
{
	struct sx_ytree *k = sx_ytree_new(SX_YTREE_SCALAR, key, 0);
	struct sx_ytree *c;

	if (!k)
		return -ENOMEM;
	if (sx_ytree_append(map, k))
		return -ENOMEM;
	c = sx_ytree_dup(v);
	if (!c)
		return -ENOMEM;
	return sx_ytree_append(map, c);
}

/* Add key: v to map; an equal entry is kept once, a clash gets a suffix. */
static int add_policy(struct sx_ytree *map, const char *key, const struct sx_ytree *v, bool merge)
{
	char id[512];
	unsigned k;

	for (k = 1; k < 100000; k++) {
		const struct sx_ytree *have;

		if (k == 1)
			snprintf(id, sizeof(id), "%s", key);
		else
			snprintf(id, sizeof(id), "%s-%u", key, k);
		have = sx_ytree_get(map, id);
		if (!have)
			return add_pair(map, id, v);
		if (merge && sx_ytree_equal(have, v))
			return 0;
	}
	return -EEXIST;
}

static int merge_map(struct sx_ytree *dst, const struct sx_ytree *src, bool merge)
{
	size_t i;
	int ret = 0;

	if (!src || src->kind != SX_YTREE_MAP)
		return 0;
	for (i = 0; i + 1 < src->n && !ret; i += 2)
		ret = add_policy(dst, src->kids[i]->text, src->kids[i + 1], merge);
	return ret;
}

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

static int build(struct sx_batch *b, struct sx_batch_device *d, struct sx_ytree *root,
		 size_t *nevents, char *msg, size_t msglen)
{
	struct sx_ytree *info = NULL, *single, *inter;
	char last[128] = "";
	size_t i;
	int ret = 0;

	single = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	inter = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	if (!single || !inter) {
		sx_ytree_free(single);
		sx_ytree_free(inter);
		return -ENOMEM;
	}
	for (i = 0; i < d->nunits && !ret; i++) {
		const struct sx_batch_unit *u = d->units[i];
		char path[SX_BATCH_PATH_MAX];
		struct sx_ytree *t = NULL;
		const struct sx_ytree *lu;

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
		if (!info && sx_ytree_get(t, "device-info")) {
			info = sx_ytree_dup(sx_ytree_get(t, "device-info"));
			if (!info)
				ret = -ENOMEM;
		}
		lu = sx_ytree_get(sx_ytree_get(t, "device-info"), "last-update");
		if (sx_ytree_str(lu) && strcmp(lu->text, last) > 0)
			snprintf(last, sizeof(last), "%s", lu->text);
		if (!ret)
			ret = merge_map(single, sx_ytree_get(t, "single-policies"), true);
		if (!ret)
			ret = merge_map(inter, sx_ytree_get(t, "interactions"), false);
		sx_ytree_free(t);
		++*nevents;
	}
	if (!ret && info) {
		struct sx_ytree *lu = get_mut(info, "last-update");

		if (lu && lu->kind == SX_YTREE_SCALAR && last[0]) {
			char *s = strdup(last);

			if (!s) {
				ret = -ENOMEM;
			} else {
				free(lu->text);
				lu->text = s;
				lu->len = strlen(s);
			}
		}
	}
	if (!single->n)
		single->style = SX_YSTYLE_FLOW;
	if (!inter->n)
		inter->style = SX_YSTYLE_FLOW;
	if (!ret && info)
		ret = add_pair(root, "device-info", info);
	if (!ret)
		ret = add_pair(root, "single-policies", single);
	if (!ret)
		ret = add_pair(root, "interactions", inter);
	sx_ytree_free(info);
	sx_ytree_free(single);
	sx_ytree_free(inter);
	if (ret == -ENOMEM)
		snprintf(msg, msglen, "out of memory");
	return ret;
}

int sx_batch__device_profile(struct sx_batch *b, struct sx_batch_device *d)
{
	char path[SX_BATCH_PATH_MAX], dir[SX_BATCH_PATH_MAX], msg[SX_BATCH_MSG_MAX] = "";
	struct sx_ytree *root;
	size_t nevents = 0, len = 0;
	char *data = NULL;
	FILE *f;
	int ret;

	if (d->refused)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", b->out, d->name);
	sx_batch__fmt(path, sizeof(path), "%s/profile.yaml", dir);
	root = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	if (!root)
		return -ENOMEM;
	ret = build(b, d, root, &nevents, msg, sizeof(msg));
	if (ret || !nevents)
		goto out_root;
	f = open_memstream(&data, &len);
	if (!f) {
		ret = -ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
		goto out_root;
	}
	ret = sx_ytree_emit(f, root, msg, sizeof(msg));
	if (fclose(f) != 0 && !ret) {
		ret = -ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
	}
	if (!ret) {
		sx_batch__clean_tmp(dir);
		ret = sx_batch__write_file(path, data, len, false, msg, sizeof(msg));
	}
	free(data);
out_root:
	sx_ytree_free(root);
	if (ret) {
		atomic_fetch_add(&b->devices_failed, 1);
		sx_batch__log(b, SX_LOG_ERROR, "%s: profile.yaml: %s", d->name, msg);
	}
	return ret;
}
