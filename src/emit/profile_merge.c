/*
 * profile_merge.c - a device's profile.yaml made of its events' profiles,
 * one interaction per event: what `sigex batch` writes per device and the
 * main job writes for an events file with several labels.
 *
 * DESIGN.  The input is the events' own profile.yaml documents, parsed
 * (each has one interaction, named after its event), so that a caller can
 * build it from files written earlier (a resumed batch unit) or from
 * documents made now, and get the same bytes:
 *
 *   device-info       the first document's, last-update the latest of all
 *                     (the documents agree on the rest)
 *   single-policies   every document's, once: a policy whose content
 *                     (everything but its id) is already there is the same
 *                     policy (the device's chatter is found by every
 *                     event); another one whose id is taken gets "-2",
 *                     "-3"... as profile.c does within one profile.  Then
 *                     the interactions' policies that are not one event's
 *                     own: a policy whose content is in two interactions
 *                     or more, or is a single policy already, is a single
 *                     policy (once), not a step of each interaction (the
 *                     TP-Link plug's cloud lookup, found by all of its 13
 *                     events, is one policy, not 13)
 *   interactions      every document's, in the order given, with the
 *                     policies left; one left with none is not written
 */
#include "emit/emit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "yaml/ydoc.h"

#define SUFFIX_MAX 100000

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

/* Whether map holds a value equal to v. */
static bool has_value(const struct sx_ytree *map, const struct sx_ytree *v)
{
	size_t i;

	for (i = 0; i + 1 < map->n; i += 2)
		if (sx_ytree_equal(map->kids[i + 1], v))
			return true;
	return false;
}

/* Add key: v to map; an entry with v's content is kept once (merge), a
 * clash gets a suffix. */
static int add_policy(struct sx_ytree *map, const char *key, const struct sx_ytree *v, bool merge)
{
	char id[512];
	unsigned k;

	if (merge && has_value(map, v))
		return 0;
	for (k = 1; k < SUFFIX_MAX; k++) {
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

/* How many of the documents' interactions hold a policy with v's content. */
static size_t interactions_with(const struct sx_ytree *const *docs, size_t n,
				const struct sx_ytree *v)
{
	size_t i, j, count = 0;

	for (i = 0; i < n; i++) {
		const struct sx_ytree *inter = sx_ytree_get(docs[i], "interactions");

		for (j = 0; inter && inter->kind == SX_YTREE_MAP && j + 1 < inter->n; j += 2)
			count += inter->kids[j + 1]->kind == SX_YTREE_MAP &&
				 has_value(inter->kids[j + 1], v);
	}
	return count;
}

/*
 * The interactions of docs[0, n) into inter, each with its own policies
 * only; the shared ones (see DESIGN) into single.
 */
static int merge_interactions(struct sx_ytree *single, struct sx_ytree *inter,
			      const struct sx_ytree *const *docs, size_t n)
{
	size_t i, j, k;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		const struct sx_ytree *src = sx_ytree_get(docs[i], "interactions");

		for (j = 0; src && src->kind == SX_YTREE_MAP && j + 1 < src->n && !ret; j += 2) {
			const struct sx_ytree *pols = src->kids[j + 1];
			struct sx_ytree *own = sx_ytree_new(SX_YTREE_MAP, NULL, 0);

			if (!own)
				return -ENOMEM;
			for (k = 0; pols->kind == SX_YTREE_MAP && k + 1 < pols->n && !ret; k += 2) {
				const struct sx_ytree *v = pols->kids[k + 1];
				bool shared =
				    has_value(single, v) || interactions_with(docs, n, v) > 1;

				ret = add_policy(shared ? single : own, pols->kids[k]->text, v,
						 shared);
			}
			if (!ret && own->n)
				ret = add_policy(inter, src->kids[j]->text, own, false);
			sx_ytree_free(own);
		}
	}
	return ret;
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

/* info's last-update set to text. */
static int set_last_update(struct sx_ytree *info, const char *text)
{
	struct sx_ytree *lu = (struct sx_ytree *)sx_ytree_get(info, "last-update");
	char *s;

	if (!lu || lu->kind != SX_YTREE_SCALAR || !text[0])
		return 0;
	s = strdup(text);
	if (!s)
		return -ENOMEM;
	free(lu->text);
	lu->text = s;
	lu->len = strlen(s);
	return 0;
}

static int build(const struct sx_ytree *const *docs, size_t n, struct sx_ytree *root)
{
	struct sx_ytree *info = NULL, *single, *inter;
	char last[128] = "";
	size_t i;
	int ret = 0;

	single = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	inter = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	if (!single || !inter) {
		ret = -ENOMEM;
		goto out_maps;
	}
	for (i = 0; i < n && !ret; i++) {
		const struct sx_ytree *di = sx_ytree_get(docs[i], "device-info");
		const char *lu = sx_ytree_str(sx_ytree_get(di, "last-update"));

		if (!info && di) {
			info = sx_ytree_dup(di);
			if (!info) {
				ret = -ENOMEM;
				break;
			}
		}
		if (lu && strcmp(lu, last) > 0)
			snprintf(last, sizeof(last), "%s", lu);
		ret = merge_map(single, sx_ytree_get(docs[i], "single-policies"), true);
	}
	if (!ret)
		ret = merge_interactions(single, inter, docs, n);
	if (!ret && info)
		ret = set_last_update(info, last);
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
out_maps:
	sx_ytree_free(single);
	sx_ytree_free(inter);
	return ret;
}

int sx_emit_profile_merge(const struct sx_ytree *const *docs, size_t n, FILE *f, char *msg,
			  size_t msglen)
{
	struct sx_ytree *root;
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		if (!docs[i] || docs[i]->kind != SX_YTREE_MAP) {
			snprintf(msg, msglen, "event %zu: not a profile", i + 1);
			return SX_E_FORMAT;
		}
	root = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	if (!root) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	ret = build(docs, n, root);
	if (ret == -EEXIST)
		snprintf(msg, msglen, "too many policies with one id");
	else if (ret)
		snprintf(msg, msglen, "out of memory");
	else
		ret = sx_ytree_emit(f, root, msg, msglen);
	sx_ytree_free(root);
	return ret;
}
