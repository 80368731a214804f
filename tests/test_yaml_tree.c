/*
 * test_yaml_tree.c - the bounded YAML tree's loader: anchors and aliases
 * (resolved into copies only when the caller takes them, their nodes
 * counted against the limit), and local tags kept for the caller.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "yaml/ydoc.h"

TestSuite(yaml_tree, .timeout = 30);

static const struct sx_ytree_limits with_aliases = {
    .max_depth = 5, .max_nodes = 1000, .max_scalar = 1024, .aliases = true};

static int parse(const char *text, const struct sx_ytree_limits *lim, struct sx_ytree **t,
		 char *msg, size_t msglen)
{
	return sx_ytree_parse(text, strlen(text), lim, t, msg, msglen);
}

Test(yaml_tree, aliases_are_refused_unless_asked_for)
{
	struct sx_ytree *t = NULL;
	char msg[256];

	cr_assert_eq(parse("a: &x 1\nb: *x\n", NULL, &t, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert_null(t);
	cr_assert(strstr(msg, "line 2: aliases (*name) are not accepted"), "%s", msg);
}

Test(yaml_tree, an_alias_is_a_copy_of_its_anchored_node)
{
	struct sx_ytree *t = NULL;
	const struct sx_ytree *a, *b;
	char msg[256];

	cr_assert_eq(parse("a: &p {x: 1, y: [2, 3]}\nb: *p\nc: &s hello\nd: *s\n"
			   "a2: &p other\ne: *p\n",
			   &with_aliases, &t, msg, sizeof(msg)),
		     0, "%s", msg);
	a = sx_ytree_get(t, "a");
	b = sx_ytree_get(t, "b");
	cr_assert(a && b && a != b);
	cr_assert(sx_ytree_equal(a, b));
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "d")), "hello");
	/* a name defined again names its latest node */
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "e")), "other");
	sx_ytree_free(t);
}

Test(yaml_tree, bad_aliases)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"a: *nowhere\n", "an alias of no anchor"},
	    {"a: &x [1, *x]\n", "an alias inside the node it names"},
	    {"*x\n", "an alias"},
	    /* a copy keeps the depth bound: 3 + 3 levels over a limit of 5 */
	    {"a: &x {b: {c: {g: 1}}}\nd: {e: {f: *x}}\n", "nested too deeply"},
	};
	struct sx_ytree *t;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = NULL;
		cr_expect_eq(parse(bad[i].text, &with_aliases, &t, msg, sizeof(msg)), SX_E_FORMAT,
			     "%s", bad[i].text);
		cr_expect_null(t);
		cr_expect(strstr(msg, bad[i].why), "%s -> %s", bad[i].text, msg);
	}
}

/* Nested aliases multiply: each level's copies count, so the loader stops at
 * the limit instead of building 10^9 nodes. */
Test(yaml_tree, billion_laughs_stop_at_the_limit)
{
	static const char text[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
				   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
				   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
				   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
				   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
				   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
				   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
				   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
				   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct sx_ytree *t = NULL;
	char msg[256];

	cr_assert_eq(parse(text, &with_aliases, &t, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert_null(t);
	cr_assert(strstr(msg, "too many nodes"), "%s", msg);
}

Test(yaml_tree, local_tags_are_kept)
{
	struct sx_ytree *t = NULL, *c;
	const struct sx_ytree *v;
	char msg[256];

	cr_assert_eq(parse("a: !include patterns.dns x:y\nb: !!str 12\nc: !mine {k: v}\n", NULL, &t,
			   msg, sizeof(msg)),
		     0, "%s", msg);
	v = sx_ytree_get(t, "a");
	cr_assert_str_eq(v->tag, "!include");
	cr_assert_str_eq(v->text, "patterns.dns x:y");
	cr_assert_null(sx_ytree_get(t, "b")->tag, "a standard tag is YAML's, not the caller's");
	cr_assert_str_eq(sx_ytree_get(t, "c")->tag, "!mine");
	c = sx_ytree_dup(t);
	cr_assert_str_eq(sx_ytree_get(c, "c")->tag, "!mine");
	sx_ytree_free(c);
	sx_ytree_free(t);
}

Test(yaml_tree, a_scalars_text_is_replaced_its_style_kept)
{
	struct sx_ytree *t = sx_ytree_new(SX_YTREE_SCALAR, "self", SX_YSTYLE_PLAIN);

	cr_assert_not_null(t);
	cr_assert_eq(sx_ytree_set_text(t, "192.168.1.50"), 0);
	cr_assert_str_eq(t->text, "192.168.1.50");
	cr_assert_eq(t->len, strlen("192.168.1.50"));
	cr_assert_eq(t->style, SX_YSTYLE_PLAIN);
	cr_assert_eq(sx_ytree_set_text(t, ""), 0);
	cr_assert_str_eq(sx_ytree_str(t), "");
	cr_assert_eq(t->len, 0);
	sx_ytree_free(t);
}
