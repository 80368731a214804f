/*
 * test_check_compare.c - sigex check's reader and comparison on documents
 * held in memory: a document is read with check's tree limits and refused
 * when empty, not YAML, or holding a NUL byte; two documents compare
 * pattern by pattern (a count within its tolerance agrees, one beyond it
 * is a change, an id on one side only is added or removed).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "core/err.h"

TestSuite(check_compare, .timeout = 30);

static const char base_doc[] = "sigex: signatures\n"
			       "version: 1\n"
			       "patterns:\n"
			       "  - id: aaaa\n"
			       "    statistics: {packets: {client: {min: 10, max: 10}}}\n"
			       "  - id: bbbb\n"
			       "    transport: tcp\n";

static struct sx_ytree *parse(const char *text, size_t len)
{
	struct sx_ytree *t;
	char msg[256];

	cr_assert_eq(sx_check_doc_parse(text, len, "doc", &t, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_not_null(t);
	return t;
}

Test(check_compare, doc_parse_refuses_empty_nul_and_non_yaml)
{
	static const char with_nul[] = "sigex: signatures\nversion: 1\0patterns: []\n";
	struct sx_ytree *t = (struct sx_ytree *)1;
	char msg[256];

	cr_assert_eq(sx_check_doc_parse("", 0, "empty.yaml", &t, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert_null(t);
	cr_assert(strstr(msg, "empty.yaml: empty document"), "%s", msg);
	cr_assert_eq(
	    sx_check_doc_parse(with_nul, sizeof(with_nul) - 1, "nul.yaml", &t, msg, sizeof(msg)),
	    SX_E_FORMAT);
	cr_assert_null(t);
	cr_assert(strncmp(msg, "nul.yaml: ", 10) == 0, "%s", msg);
	cr_assert_eq(sx_check_doc_parse("a: [1, 2", 8, "cut.yaml", &t, msg, sizeof(msg)),
		     SX_E_FORMAT);
	cr_assert_null(t);
}

/* base_doc against out, with the default tolerances: sx_check_compare()'s
 * return, u filled (the caller finishes it), msg its message. */
static int compare_with_base(const char *out, struct sx_check_unit *u, char *msg, size_t msglen)
{
	struct sx_ytree *a = parse(base_doc, strlen(base_doc));
	struct sx_ytree *b = parse(out, strlen(out));
	struct sx_check_tol tol;
	int ret;

	sx_check_tol_default(&tol);
	ret = sx_check_compare(a, b, &tol, u, msg, msglen);
	sx_ytree_free(a);
	sx_ytree_free(b);
	return ret;
}

Test(check_compare, same_document_agrees)
{
	struct sx_check_unit u = {0};
	char msg[256];

	cr_assert_eq(compare_with_base(base_doc, &u, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(u.state, SX_CHECK_AGREE);
	cr_assert_eq(u.base_patterns, 2);
	cr_assert_eq(u.out_patterns, 2);
	cr_assert_eq(u.npatterns, 0);
	sx_check_unit_fini(&u);
}

Test(check_compare, counts_beyond_tolerance_and_ids_on_one_side)
{
	static const char out_doc[] = "sigex: signatures\n"
				      "version: 1\n"
				      "patterns:\n"
				      "  - id: aaaa\n"
				      "    statistics: {packets: {client: {min: 10, max: 20}}}\n"
				      "  - id: cccc\n"
				      "    transport: udp\n";
	struct sx_check_unit u = {0};
	char msg[256];

	cr_assert_eq(compare_with_base(out_doc, &u, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(u.state, SX_CHECK_DIFFER);
	cr_assert_eq(u.changed, 1);
	cr_assert_eq(u.added, 1);
	cr_assert_eq(u.removed, 1);
	sx_check_unit_fini(&u);
}

Test(check_compare, not_a_signatures_document)
{
	static const char other[] = "sigex: profile\nversion: 1\n";
	struct sx_check_unit u = {0};
	char msg[256];

	cr_assert_eq(compare_with_base(other, &u, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert(strstr(msg, "output: not a sigex signatures.yaml"), "%s", msg);
	sx_check_unit_fini(&u);
}
