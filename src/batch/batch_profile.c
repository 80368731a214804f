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
 *
 * The device's stamp.  OUT/<device>/.sigex-device, written after the
 * profile, holds XXH3-128 of what the profile was made from (sigex's
 * version, each event's name and outcome, the bytes of each mined event's
 * profile.yaml) and of the profile's own bytes.  When both still hold, as
 * after a --resume of an unchanged archive, the profile is left as it is
 * without parsing, merging and writing it again: the stamp costs reading
 * the events' small profiles, the union costs a YAML parse of each, the
 * merge and the emitter.  Any other state (no stamp, another version, an
 * event run again or failed, a profile edited or removed) builds it anew.
 */
#include "batch/batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "batch/batch_int.h"
#include "core/err.h"
#include "core/outfile.h"
#include "emit/emit.h"
#include "yaml/ydoc.h"

#define PROFILE_MAX  (64u << 20)
#define DEVICE_STAMP ".sigex-device"

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

int sx_batch__write_file(const char *path, const char *data, size_t len, unsigned how, char *msg,
			 size_t msglen)
{
	struct sx_out o;
	int ret;

	if (same_bytes(path, data, len))
		return 0;
	ret = sx_out_open(&o, path, msg, msglen);
	if (ret)
		return ret;
	o.commit_on_stop = (how & SX_BATCH_WRITE_ON_STOP) != 0;
	/* summary.csv and profile.yaml stand alone */
	o.deferred = (how & SX_BATCH_WRITE_UNSYNCED) != 0;
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

static bool mined(const struct sx_batch_unit *u)
{
	return u->state == SX_BATCH_OK || u->state == SX_BATCH_PARTIAL;
}

/* Hash the bytes of the file at path (at most PROFILE_MAX) into st.
 * 0, or -1 when it cannot be read whole. */
static int hash_contents(XXH3_state_t *st, const char *path)
{
	char buf[16384];
	size_t got, total = 0;
	FILE *f = fopen(path, "rb");
	int ret = 0;

	if (!f)
		return -1;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0 && total <= PROFILE_MAX) {
		XXH3_128bits_update(st, buf, got);
		total += got;
	}
	if (ferror(f) || total > PROFILE_MAX)
		ret = -1;
	fclose(f);
	return ret;
}

static void digest_hex(XXH3_state_t *st, char out[33])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	sx_batch__hex(c.digest, sizeof(c.digest), out);
}

/* The stamp's two lines for the device's events as they are now, and the
 * profile at path (its bytes, or data when given): 0, or -1 when a file
 * could not be read. */
static int device_stamp_text(struct sx_batch *b, struct sx_batch_device *d, const char *path,
			     const char *data, size_t len, char *out, size_t outsz)
{
	char inputs[33], profile[33];
	XXH3_state_t *st = XXH3_createState();
	size_t i;
	int ret = 0;

	if (!st)
		return -1;
	XXH3_128bits_reset(st);
	XXH3_128bits_update(st, SX_VERSION, sizeof(SX_VERSION));
	for (i = 0; i < d->nunits && !ret; i++) {
		const struct sx_batch_unit *u = d->units[i];
		char upath[SX_BATCH_PATH_MAX];
		uint8_t state = (uint8_t)u->state;

		XXH3_128bits_update(st, u->event, strlen(u->event) + 1);
		XXH3_128bits_update(st, &state, 1);
		if (!mined(u))
			continue;
		if (sx_batch__fmt(upath, sizeof(upath), "%s/%s/%s/profile.yaml", b->out, d->name,
				  u->event))
			ret = -1;
		else
			ret = hash_contents(st, upath);
	}
	if (!ret)
		digest_hex(st, inputs);
	XXH3_128bits_reset(st);
	if (!ret && data)
		XXH3_128bits_update(st, data, len);
	else if (!ret)
		ret = hash_contents(st, path);
	if (!ret) {
		digest_hex(st, profile);
		snprintf(out, outsz, "sigex-device 1\ninputs %s\nprofile %s\n", inputs, profile);
	}
	XXH3_freeState(st);
	return ret;
}

/* Whether the device's stamp vouches for its profile as it is. */
static bool device_stamp_holds(struct sx_batch *b, struct sx_batch_device *d, const char *dir,
			       const char *path)
{
	char spath[SX_BATCH_PATH_MAX], want[128], have[128];
	size_t got;
	FILE *f;

	if (sx_batch__fmt(spath, sizeof(spath), "%s/%s", dir, DEVICE_STAMP))
		return false;
	f = fopen(spath, "rb");
	if (!f)
		return false;
	got = fread(have, 1, sizeof(have) - 1, f);
	fclose(f);
	have[got] = '\0';
	return device_stamp_text(b, d, path, NULL, 0, want, sizeof(want)) == 0 &&
	       strcmp(want, have) == 0;
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
	for (i = 0; i < d->nunits && !mined(d->units[i]); i++)
		;
	if (i < d->nunits && device_stamp_holds(b, d, dir, path))
		return 0;
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
		char stamp[SX_BATCH_PATH_MAX], text[128];

		sx_batch__clean_tmp(dir);
		ret = sx_batch__write_file(path, data, len, 0, msg, sizeof(msg));
		/* after the profile; it holds the profile's hash, so it needs
		 * no sync: lost or ahead of the profile, the next run only
		 * builds the profile again */
		if (!ret && !sx_batch__fmt(stamp, sizeof(stamp), "%s/%s", dir, DEVICE_STAMP) &&
		    device_stamp_text(b, d, path, data, len, text, sizeof(text)) == 0)
			ret = sx_batch__write_file(stamp, text, strlen(text),
						   SX_BATCH_WRITE_UNSYNCED, msg, sizeof(msg));
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
