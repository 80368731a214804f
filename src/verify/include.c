/*
 * include.c - the firewall's `!include` in a profile: sx_verify__includes().
 *
 * DESIGN
 *
 * The firewall's translator loads a profile with pyyaml-loaders'
 * IncludeLoader (pyyaml-loaders/pyyaml_loaders/IncludeLoader.py), which the
 * hand-written profiles use to reuse a pattern under another name
 * (`!include patterns.dns-a protocols.dns.domain-name:cam.example`) and to
 * name another device's address (`!include ../amazon-echo/profile.yaml#
 * device-info.ipv4`).  Its construct_include(), redone here on the tree:
 *
 *   - the scalar is split on spaces: the first word is [FILE#]MEMBER, each
 *     other word that holds exactly one ':' is KEY:VALUE (others ignored);
 *   - FILE is relative to the profile's directory ("self", or no '#': the
 *     profile itself), read with IgnoreLoader: every tag in it, includes
 *     too, loads as null, so an include never nests;
 *   - MEMBER is a dotted path of keys from that document's root, whose
 *     node is copied; each KEY (dotted, its parents present) is set to
 *     VALUE, a string;
 *   - in a copied mapping, "self" becomes the included document's own
 *     addresses where replace_self_addrs() puts them: an `arp` section's
 *     sha and tha (its mac), an `ipv4` or `ipv6` section's src and dst (its
 *     ipv4, ipv6), when its device-info has them; lists are left as they
 *     are.
 * Another local tag is refused, as the translator's loader refuses it.
 * YAML anchors and aliases are resolved by the tree's loader (aliases on).
 */
#include "verify/verify_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/err.h"
#include "yaml/ydoc.h"

#define INCLUDE_MAX_BYTES (16u << 20)
#define SPEC_MAX	  4096

static const struct sx_ytree_limits alias_limits = {
    .max_depth = SX_YTREE_DEPTH_MAX,
    .max_nodes = 4u << 20,
    .max_scalar = 1u << 20,
    .aliases = true,
};

const struct sx_ytree_limits *sx_verify__profile_limits(void)
{
	return &alias_limits;
}

struct inc {
	const char *dir;	     /* the profile's directory, NULL: none */
	const struct sx_ytree *self; /* the profile as IgnoreLoader reads it */
	char *msg;
	size_t msglen;
};

static int fail(struct inc *ic, const char *fmt, ...) SX_PRINTF(2, 3);

static int fail(struct inc *ic, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ic->msg, ic->msglen, fmt, ap);
	va_end(ap);
	return SX_E_FORMAT;
}

/* Every tagged node of t a null (IgnoreLoader). */
static int ignore_tags(struct sx_ytree *t)
{
	size_t i;

	if (t->tag) {
		struct sx_ytree *null = sx_ytree_new(SX_YTREE_SCALAR, "", SX_YSTYLE_PLAIN);

		if (!null)
			return -ENOMEM;
		for (i = 0; i < t->n; i++)
			sx_ytree_free(t->kids[i]);
		free(t->kids);
		free(t->text);
		free(t->tag);
		null->line = t->line;
		*t = *null;
		free(null);
		return 0;
	}
	for (i = 0; i < t->n; i++)
		if (ignore_tags(t->kids[i]))
			return -ENOMEM;
	return 0;
}

/* The text of scalar key in map, "" when absent or not a scalar. */
static const char *text_of(const struct sx_ytree *map, const char *key)
{
	const char *s = sx_ytree_str(sx_ytree_get(map, key));

	return s ? s : "";
}

/* replace_self_addrs() on t, a mapping whose key is parent. */
static int replace_self(struct sx_ytree *t, const char *parent, const struct sx_ytree *info)
{
	size_t i;

	for (i = 0; i + 1 < t->n; i += 2) {
		const char *k = t->kids[i]->text;
		struct sx_ytree *v = t->kids[i + 1];
		const char *with = "";

		if (!k)
			continue;
		if (v->kind == SX_YTREE_MAP) {
			if (replace_self(v, k, info))
				return -ENOMEM;
			continue;
		}
		if (v->kind != SX_YTREE_SCALAR || strcmp(v->text, "self") || !parent)
			continue;
		if ((!strcmp(k, "sha") || !strcmp(k, "tha")) && !strcmp(parent, "arp"))
			with = text_of(info, "mac");
		else if ((!strcmp(k, "src") || !strcmp(k, "dst")) && !strcmp(parent, "ipv4"))
			with = text_of(info, "ipv4");
		else if ((!strcmp(k, "src") || !strcmp(k, "dst")) && !strcmp(parent, "ipv6"))
			with = text_of(info, "ipv6");
		if (with[0] && sx_ytree_set_text(v, with))
			return -ENOMEM;
	}
	return 0;
}

/* map[key] = value (a string), replacing a value there. */
static int set_value(struct sx_ytree *map, const char *key, const char *value)
{
	struct sx_ytree *k = NULL, *v = sx_ytree_new(SX_YTREE_SCALAR, value, SX_YSTYLE_PLAIN);
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->text && !strcmp(map->kids[i]->text, key)) {
			sx_ytree_free(map->kids[i + 1]);
			map->kids[i + 1] = v;
			return 0;
		}
	k = sx_ytree_new(SX_YTREE_SCALAR, key, SX_YSTYLE_PLAIN);
	if (!k || sx_ytree_append(map, k)) {
		sx_ytree_free(v);
		return -ENOMEM;
	}
	return sx_ytree_append(map, v);
}

/* The node at the dotted path of keys in t, NULL when a key is missing. */
static struct sx_ytree *at_path(struct sx_ytree *t, char *path, bool parent_only, char **last)
{
	char *save = NULL, *key = strtok_r(path, ".", &save), *next;

	while (key && t) {
		next = strtok_r(NULL, ".", &save);
		if (!next && parent_only) {
			*last = key;
			return t->kind == SX_YTREE_MAP ? t : NULL;
		}
		t = (struct sx_ytree *)sx_ytree_get(t, key);
		key = next;
	}
	return key ? NULL : t;
}

/* The node the include spec names, with its values set, *out. */
static int include_one(struct inc *ic, const char *spec, struct sx_ytree **out)
{
	char buf[SPEC_MAX], path[SPEC_MAX + 4096], *save = NULL, *word, *member, *hash;
	const struct sx_ytree *doc = ic->self;
	struct sx_ytree *other = NULL, *copy = NULL, *node;
	int ret = SX_E_FORMAT;

	*out = NULL;
	if (strlen(spec) >= sizeof(buf))
		return fail(ic, "!include: longer than %d bytes", SPEC_MAX - 1);
	snprintf(buf, sizeof(buf), "%s", spec);
	member = strtok_r(buf, " ", &save);
	if (!member)
		return fail(ic, "!include with nothing to include");
	hash = strchr(member, '#');
	if (hash && strchr(hash + 1, '#'))
		return fail(ic, "!include %s: more than one '#'", member);
	if (hash) {
		*hash = '\0';
		if (strcmp(member, "self")) {
			if (!ic->dir)
				return fail(ic,
					    "!include %s: another file, and the profile's own "
					    "directory is unknown",
					    member);
			snprintf(path, sizeof(path), "%s/%s", ic->dir, member);
			ret = sx_ytree_load(path, INCLUDE_MAX_BYTES, &alias_limits, &other, ic->msg,
					    ic->msglen);
			if (ret) {
				char why[256];

				snprintf(why, sizeof(why), "%s", ic->msg);
				snprintf(ic->msg, ic->msglen, "!include %s: %s", member, why);
				return ret;
			}
			if (!other || ignore_tags(other)) {
				sx_ytree_free(other);
				return other ? -ENOMEM
					     : fail(ic, "!include %s: an empty file", path);
			}
			doc = other;
		}
		member = hash + 1;
	}
	snprintf(path, sizeof(path), "%s", member); /* at_path() cuts member */
	node = at_path((struct sx_ytree *)doc, member, false, NULL);
	if (!node) {
		ret = fail(ic, "!include: no member %s", path);
		goto out;
	}
	copy = sx_ytree_dup(node);
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	while ((word = strtok_r(NULL, " ", &save))) {
		char *colon = strchr(word, ':'), *last = NULL, key[SPEC_MAX];
		struct sx_ytree *map;

		if (!colon || strchr(colon + 1, ':'))
			continue; /* not "key:value": ignored, as the loader does */
		*colon = '\0';
		snprintf(key, sizeof(key), "%s", word);
		map = at_path(copy, word, true, &last);
		if (!map) {
			ret = fail(ic, "!include: no key %s to set", key);
			goto out;
		}
		ret = set_value(map, last, colon + 1);
		if (ret)
			goto out;
	}
	if (copy->kind == SX_YTREE_MAP &&
	    replace_self(copy, NULL, sx_ytree_get(doc, "device-info"))) {
		ret = -ENOMEM;
		goto out;
	}
	*out = copy;
	copy = NULL;
	ret = 0;
out:
	sx_ytree_free(copy);
	sx_ytree_free(other);
	return ret;
}

/* The collections on t's deepest path (0: a scalar). */
static unsigned height(const struct sx_ytree *t)
{
	unsigned h = 0, k;
	size_t i;

	for (i = 0; i < t->n; i++)
		if ((k = height(t->kids[i])) > h)
			h = k;
	return h + (t->kind != SX_YTREE_SCALAR);
}

/* The includes under t, whose collections depth (t's own included) nest. */
static int expand(struct inc *ic, struct sx_ytree *t, unsigned depth)
{
	size_t i;
	int ret;

	for (i = 0; i < t->n; i++) {
		struct sx_ytree *k = t->kids[i], *with;

		if (!k->tag) {
			ret = expand(ic, k, depth + 1);
			if (ret)
				return ret;
			continue;
		}
		if (strcmp(k->tag, "!include") || k->kind != SX_YTREE_SCALAR) {
			snprintf(ic->msg, ic->msglen, "line %u: tag %s: not one the firewall reads",
				 k->line, k->tag);
			return SX_E_FORMAT;
		}
		ret = include_one(ic, k->text, &with);
		if (ret) {
			if (ret != -ENOMEM) {
				char why[256];

				snprintf(why, sizeof(why), "%s", ic->msg);
				snprintf(ic->msg, ic->msglen, "line %u: %s", k->line, why);
			}
			return ret;
		}
		if (depth + height(with) > SX_YTREE_DEPTH_MAX) {
			snprintf(ic->msg, ic->msglen, "line %u: !include: nested too deeply",
				 k->line);
			sx_ytree_free(with);
			return SX_E_FORMAT;
		}
		sx_ytree_free(k);
		t->kids[i] = with;
	}
	return 0;
}

int sx_verify__includes(struct sx_ytree *root, const char *dir, char *msg, size_t msglen)
{
	struct sx_ytree *self;
	struct inc ic = {.dir = dir, .msg = msg, .msglen = msglen};
	int ret;

	self = sx_ytree_dup(root);
	if (!self || ignore_tags(self)) {
		sx_ytree_free(self);
		return -ENOMEM;
	}
	ic.self = self;
	ret = expand(&ic, root, 1);
	sx_ytree_free(self);
	return ret;
}
