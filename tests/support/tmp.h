/*
 * tmp.h - temporary directories, files and child processes for the tests.
 * Returned strings are malloc'd; the caller frees them.
 */
#ifndef SX_TESTS_TMP_H
#define SX_TESTS_TMP_H

#include <stdbool.h>
#include <stddef.h>

/* A fresh directory under $TMPDIR or /tmp. */
char *sx_tt_tmpdir(void);
/* Remove a directory and everything under it (symlinks are not followed). */
void sx_tt_rm_tree(const char *path);
/* dir + "/" + name */
char *sx_tt_path(const char *dir, const char *name);
/* Run a shell command; stdout (and stderr when err != NULL, separately) are
 * captured.  Returns the exit status (128+signal when killed). */
int sx_tt_run(const char *cmd, char **out, char **err);
/* Whole file, NUL-terminated; *len without the NUL.  NULL when unreadable. */
char *sx_tt_read(const char *path, size_t *len);
int sx_tt_write(const char *path, const void *data, size_t len);
/* Whether the shared corpora are present; when not, the caller skips. */
bool sx_tt_have_shared(void);
/*
 * Skip a test (Criterion) that cannot run here for want of ../shared, the
 * generated corpus or a tool.  Built with SX_REQUIRE_CORPORA (./setup.sh
 * test, so CI) it fails instead: a missing prerequisite is never a green run.
 * The format must be a string literal.
 */
#ifdef SX_REQUIRE_CORPORA
#define sx_tt_skip_missing(...) cr_assert_fail("required (SX_REQUIRE_CORPORA): " __VA_ARGS__)
#else
#define sx_tt_skip_missing(...) cr_skip_test(__VA_ARGS__)
#endif
/* Count of lines in a string. */
size_t sx_tt_lines(const char *s);

#endif /* SX_TESTS_TMP_H */
