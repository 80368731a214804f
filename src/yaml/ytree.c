/*
 * ytree.c - a bounded YAML document tree (see ydoc.h).
 *
 * DESIGN.  Loading walks libyaml's event stream (never its document
 * loader, which resolves aliases into shared nodes that a recursive walk
 * would expand exponentially) and builds the tree with an explicit stack of
 * open collections, so the C stack never grows with the input.  Every limit
 * is checked as the event arrives, before anything is allocated for it.
 * Aliases, where the caller takes them (the firewall's profiles use
 * anchors), become copies of their anchored node, whose nodes count against
 * the limit as the copy is made: a document of nested aliases ("billion
 * laughs") stops at max_nodes, its work bounded by it.  An alias inside
 * the node it names is refused.  A node's local tag ("!include") is kept
 * for the caller to interpret; the writer does not write tags.
 * The writer is the mirror image: one event of the module's writer per
 * node, recursing at most SX_YTREE_DEPTH_MAX deep (trees come from the
 * loader or are built by sigex itself).  Nothing here is shared: one tree per caller.
 */
#include "yaml/ydoc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "core/err.h"
#include "core/util.h"

_Static_assert(SX_YSTYLE_ANY == (int)YAML_ANY_SCALAR_STYLE &&
		   SX_YSTYLE_PLAIN == (int)YAML_PLAIN_SCALAR_STYLE &&
		   SX_YSTYLE_SINGLE_QUOTED == (int)YAML_SINGLE_QUOTED_SCALAR_STYLE &&
		   SX_YSTYLE_DOUBLE_QUOTED == (int)YAML_DOUBLE_QUOTED_SCALAR_STYLE &&
		   SX_YSTYLE_LITERAL == (int)YAML_LITERAL_SCALAR_STYLE &&
		   SX_YSTYLE_FOLDED == (int)YAML_FOLDED_SCALAR_STYLE,
	       "scalar styles are libyaml's");
_Static_assert(SX_YSTYLE_BLOCK == (int)YAML_BLOCK_MAPPING_STYLE &&
		   SX_YSTYLE_FLOW == (int)YAML_FLOW_MAPPING_STYLE &&
		   SX_YSTYLE_BLOCK == (int)YAML_BLOCK_SEQUENCE_STYLE &&
		   SX_YSTYLE_FLOW == (int)YAML_FLOW_SEQUENCE_STYLE,
	       "collection styles are libyaml's");

static const struct sx_ytree_limits default_limits = {
    .max_depth = SX_YTREE_DEPTH_MAX,
    .max_nodes = 4u << 20,
    .max_scalar = 1u << 20,
};

struct sx_ytree *sx_ytree_new(enum sx_ytree_kind kind, const char *text, int style)
{
	struct sx_ytree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->kind = (uint8_t)kind;
	if (kind == SX_YTREE_SCALAR) {
		t->style = (uint8_t)(style ? style : YAML_ANY_SCALAR_STYLE);
		t->text = strdup(text ? text : "");
		if (!t->text) {
			free(t);
			return NULL;
		}
		t->len = strlen(t->text);
	} else {
		t->style = (uint8_t)(style ? style : 1); /* block, both kinds */
	}
	return t;
}

int sx_ytree_set_text(struct sx_ytree *t, const char *text)
{
	char *s = strdup(text);

	if (!s)
		return -ENOMEM;
	free(t->text);
	t->text = s;
	t->len = strlen(s);
	return 0;
}

void sx_ytree_free(struct sx_ytree *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		sx_ytree_free(t->kids[i]);
	free(t->kids);
	free(t->text);
	free(t->tag);
	free(t);
}

int sx_ytree_append(struct sx_ytree *t, struct sx_ytree *kid)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 8;
		struct sx_ytree **k = sx_realloc_array(t->kids, ncap, sizeof(*k));

		if (!k) {
			sx_ytree_free(kid);
			return -ENOMEM;
		}
		t->kids = k;
		t->cap = ncap;
	}
	t->kids[t->n++] = kid;
	return 0;
}

void sx_ytree_map_remove(struct sx_ytree *map, size_t i)
{
	sx_ytree_free(map->kids[i]);
	sx_ytree_free(map->kids[i + 1]);
	memmove(&map->kids[i], &map->kids[i + 2], (map->n - i - 2) * sizeof(*map->kids));
	map->n -= 2;
}

struct sx_ytree *sx_ytree_dup(const struct sx_ytree *t)
{
	struct sx_ytree *c;
	size_t i;

	c = sx_ytree_new((enum sx_ytree_kind)t->kind, t->text, t->style);
	if (!c)
		return NULL;
	c->line = t->line;
	if (t->tag && !(c->tag = strdup(t->tag))) {
		sx_ytree_free(c);
		return NULL;
	}
	for (i = 0; i < t->n; i++) {
		struct sx_ytree *k = sx_ytree_dup(t->kids[i]);

		if (!k || sx_ytree_append(c, k)) {
			sx_ytree_free(c);
			return NULL;
		}
	}
	return c;
}

const struct sx_ytree *sx_ytree_get(const struct sx_ytree *t, const char *key)
{
	size_t i;

	if (!t || t->kind != SX_YTREE_MAP)
		return NULL;
	for (i = 0; i + 1 < t->n; i += 2)
		if (t->kids[i]->kind == SX_YTREE_SCALAR && strcmp(t->kids[i]->text, key) == 0)
			return t->kids[i + 1];
	return NULL;
}

const char *sx_ytree_str(const struct sx_ytree *t)
{
	return t && t->kind == SX_YTREE_SCALAR ? t->text : NULL;
}

bool sx_ytree_is_null(const struct sx_ytree *t)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (!t || t->kind != SX_YTREE_SCALAR || t->style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(t->text, nulls[i]) == 0)
			return true;
	return false;
}

bool sx_ytree_equal(const struct sx_ytree *a, const struct sx_ytree *b)
{
	size_t i;

	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == SX_YTREE_SCALAR)
		return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
	for (i = 0; i < a->n; i++)
		if (!sx_ytree_equal(a->kids[i], b->kids[i]))
			return false;
	return true;
}

/* ---- loading ---- */

/* An anchored node; open until its collection ends. */
struct anchor {
	char *name;
	struct sx_ytree *node;
	bool open;
};

struct loader {
	const struct sx_ytree_limits *lim;
	struct sx_ytree *root;
	struct sx_ytree *stack[SX_YTREE_DEPTH_MAX];
	long open_anchor[SX_YTREE_DEPTH_MAX]; /* the anchor of stack[i], or -1 */
	unsigned depth;
	size_t nodes;
	struct anchor *anchors;
	size_t nanchors, acap;
	char *msg;
	size_t msglen;
};

static int bad(struct loader *ld, unsigned line, const char *what)
{
	snprintf(ld->msg, ld->msglen, "line %u: %s", line, what);
	return SX_E_FORMAT;
}

/* Attach a new node under the innermost open collection (or as the root). */
static int attach(struct loader *ld, struct sx_ytree *t)
{
	struct sx_ytree *parent;

	if (ld->depth == 0) {
		if (ld->root) {
			sx_ytree_free(t);
			return bad(ld, t->line, "more than one root node");
		}
		ld->root = t;
		return 0;
	}
	parent = ld->stack[ld->depth - 1];
	if (parent->kind == SX_YTREE_MAP && parent->n % 2 == 0 && t->kind != SX_YTREE_SCALAR) {
		unsigned line = t->line;

		sx_ytree_free(t);
		return bad(ld, line, "a mapping key must be a scalar");
	}
	return sx_ytree_append(parent, t);
}

/* Nodes in t; *height, the collections on its deepest path (0: a scalar). */
static size_t count_nodes(const struct sx_ytree *t, unsigned *height)
{
	size_t i, n = 1;
	unsigned h;

	*height = 0;
	for (i = 0; i < t->n; i++) {
		n += count_nodes(t->kids[i], &h);
		if (h > *height)
			*height = h;
	}
	*height += t->kind != SX_YTREE_SCALAR;
	return n;
}

/* Remember name for node (the latest definition of a name wins).  0 or
 * -ENOMEM. */
static int add_anchor(struct loader *ld, const unsigned char *name, struct sx_ytree *node,
		      bool open)
{
	struct anchor *a;

	if (ld->nanchors == ld->acap) {
		size_t cap = ld->acap ? ld->acap * 2 : 16;

		a = sx_realloc_array(ld->anchors, cap, sizeof(*a));
		if (!a)
			return -ENOMEM;
		ld->anchors = a;
		ld->acap = cap;
	}
	a = &ld->anchors[ld->nanchors];
	a->name = strdup((const char *)name);
	if (!a->name)
		return -ENOMEM;
	a->node = node;
	a->open = open;
	ld->nanchors++;
	return 0;
}

/* A copy of the node *name names, attached where the alias stands. */
static int on_alias(struct loader *ld, const char *name, unsigned line)
{
	struct sx_ytree *copy;
	unsigned height;
	size_t i, n;

	if (!ld->lim->aliases)
		return bad(ld, line, "aliases (*name) are not accepted");
	for (i = ld->nanchors; i-- > 0;)
		if (!strcmp(ld->anchors[i].name, name))
			break;
	if (i == (size_t)-1)
		return bad(ld, line, "an alias of no anchor");
	if (ld->anchors[i].open)
		return bad(ld, line, "an alias inside the node it names");
	n = count_nodes(ld->anchors[i].node, &height);
	if (n > ld->lim->max_nodes - ld->nodes)
		return bad(ld, line, "too many nodes");
	if (ld->depth + height > ld->lim->max_depth)
		return bad(ld, line, "nested too deeply");
	ld->nodes += n;
	copy = sx_ytree_dup(ld->anchors[i].node);
	if (!copy)
		return -ENOMEM;
	return attach(ld, copy);
}

static int on_event(struct loader *ld, const yaml_event_t *ev, unsigned *docs, bool *done)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	const yaml_char_t *tag, *anchor;
	struct sx_ytree *t;
	int ret;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return bad(ld, line, "more than one document");
		return 0;
	case YAML_ALIAS_EVENT:
		if (ld->depth == 0)
			return bad(ld, line, "an alias as the root");
		return on_alias(ld, (const char *)ev->data.alias.anchor, line);
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.length > ld->lim->max_scalar)
			return bad(ld, line, "scalar too long");
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
			return bad(ld, line, "NUL character in a scalar");
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ld->depth >= ld->lim->max_depth)
			return bad(ld, line, "nested too deeply");
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (ld->depth == 0)
			return bad(ld, line, "unbalanced collection");
		ld->depth--;
		if (ld->open_anchor[ld->depth] >= 0)
			ld->anchors[ld->open_anchor[ld->depth]].open = false;
		return 0;
	}
	if (++ld->nodes > ld->lim->max_nodes)
		return bad(ld, line, "too many nodes");
	if (ev->type == YAML_SCALAR_EVENT) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->text = malloc(ev->data.scalar.length + 1);
		if (!t->text) {
			free(t);
			return -ENOMEM;
		}
		memcpy(t->text, ev->data.scalar.value, ev->data.scalar.length);
		t->text[ev->data.scalar.length] = '\0';
		t->len = ev->data.scalar.length;
		t->kind = SX_YTREE_SCALAR;
		t->style = (uint8_t)ev->data.scalar.style;
	} else {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		if (ev->type == YAML_MAPPING_START_EVENT) {
			t->kind = SX_YTREE_MAP;
			t->style = (uint8_t)ev->data.mapping_start.style;
		} else {
			t->kind = SX_YTREE_SEQ;
			t->style = (uint8_t)ev->data.sequence_start.style;
		}
	}
	t->line = line;
	tag = ev->type == YAML_SCALAR_EVENT	     ? ev->data.scalar.tag
	      : ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.tag
						     : ev->data.sequence_start.tag;
	anchor = ev->type == YAML_SCALAR_EVENT		? ev->data.scalar.anchor
		 : ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
							: ev->data.sequence_start.anchor;
	if (tag && tag[0] == '!' && tag[1] != '!' && !(t->tag = strdup((const char *)tag))) {
		sx_ytree_free(t);
		return -ENOMEM;
	}
	ret = attach(ld, t);
	if (ret)
		return ret;
	if (anchor && ld->lim->aliases) {
		ret = add_anchor(ld, anchor, t, t->kind != SX_YTREE_SCALAR);
		if (ret)
			return ret;
	}
	if (t->kind != SX_YTREE_SCALAR) {
		ld->open_anchor[ld->depth] =
		    anchor && ld->lim->aliases ? (long)ld->nanchors - 1 : -1;
		ld->stack[ld->depth++] = t;
	}
	return 0;
}

int sx_ytree_parse(const char *data, size_t len, const struct sx_ytree_limits *lim,
		   struct sx_ytree **out, char *msg, size_t msglen)
{
	struct loader ld = {.lim = lim ? lim : &default_limits, .msg = msg, .msglen = msglen};
	struct sx_ytree_limits clamp;
	yaml_parser_t p;
	yaml_event_t ev;
	unsigned docs = 0;
	bool done = false;
	int ret = 0;

	*out = NULL;
	if (ld.lim->max_depth > SX_YTREE_DEPTH_MAX) {
		clamp = *ld.lim;
		clamp.max_depth = SX_YTREE_DEPTH_MAX;
		ld.lim = &clamp;
	}
	if (!yaml_parser_initialize(&p)) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done && !ret) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				snprintf(msg, msglen, "out of memory");
				ret = -ENOMEM;
			} else {
				snprintf(msg, msglen, "line %lu: %s%s%s",
					 (unsigned long)p.problem_mark.line + 1,
					 p.problem ? p.problem : "not YAML", p.context ? " " : "",
					 p.context ? p.context : "");
				ret = SX_E_FORMAT;
			}
			break;
		}
		ret = on_event(&ld, &ev, &docs, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (size_t i = 0; i < ld.nanchors; i++)
		free(ld.anchors[i].name);
	free(ld.anchors);
	if (ret == -ENOMEM)
		snprintf(msg, msglen, "out of memory");
	if (ret) {
		sx_ytree_free(ld.root);
		return ret;
	}
	*out = ld.root;
	return 0;
}

int sx_ytree_load(const char *path, size_t max_bytes, const struct sx_ytree_limits *lim,
		  struct sx_ytree **out, char *msg, size_t msglen)
{
	struct stat st;
	char *data;
	size_t got;
	FILE *f;
	int ret;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		ret = -errno;
		snprintf(msg, msglen, "cannot open: %s", strerror(errno));
		return ret;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		snprintf(msg, msglen, "not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		fclose(f);
		snprintf(msg, msglen, "larger than %zu bytes", max_bytes);
		return -EFBIG;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		fclose(f);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	got = fread(data, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		snprintf(msg, msglen, "read error: %s", strerror(-ret));
		goto out_free;
	}
	ret = sx_ytree_parse(data, got, lim, out, msg, msglen);
out_free:
	free(data);
	fclose(f);
	return ret;
}

/* ---- writing ---- */

static void emit_node(struct sx_yw *w, const struct sx_ytree *t)
{
	size_t i;

	if (t->kind == SX_YTREE_SCALAR) {
		sx_yw_scalar(w, t->text, t->len, (enum sx_ystyle)t->style,
			     SX_YW_PLAIN_IMPLICIT | SX_YW_QUOTED_IMPLICIT);
		return;
	}
	if (t->kind == SX_YTREE_MAP)
		sx_yw_map_begin_style(w, (enum sx_ystyle)t->style);
	else
		sx_yw_seq_begin_style(w, (enum sx_ystyle)t->style);
	for (i = 0; !w->err && i < t->n; i++)
		emit_node(w, t->kids[i]);
	if (t->kind == SX_YTREE_MAP)
		sx_yw_map_end(w);
	else
		sx_yw_seq_end(w);
}

int sx_ytree_emit(FILE *f, const struct sx_ytree *t, char *msg, size_t msglen)
{
	struct sx_yw w;
	int ret;

	sx_yw_open(&w, f, SX_YW_SIGEX);
	emit_node(&w, t);
	ret = sx_yw_close(&w);
	if (ret)
		snprintf(msg, msglen, "%s", w.problem);
	return ret;
}

const char *sx_yaml_version(void)
{
	return yaml_get_version_string();
}
