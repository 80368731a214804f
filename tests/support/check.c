/*
 * check.c - see check.h.  Test-only code.
 */
#include <criterion/criterion.h> /* check.h's macros; the runner itself does not use it */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/check.h"

static void run_one(const struct sx_tc_test *t, void (*setup)(void), void (*teardown)(void))
{
	if (setup)
		setup();
	t->fn(); /* exits non-zero on a failed check */
	if (teardown)
		teardown();
}

int sx_tc_run_standalone(const char *suite, const struct sx_tc_test *tests, size_t n,
			 void (*setup)(void), void (*teardown)(void), bool fork_each, int argc,
			 char **argv)
{
	const char *json = NULL;
	size_t i, failed = 0;
	int a;

	for (a = 1; a < argc; a++)
		if (strncmp(argv[a], "--json=", 7) == 0)
			json = argv[a] + 7;
	for (i = 0; i < n; i++) {
		bool ok = true;

		if (fork_each) {
			int st = 0;
			pid_t pid;

			fflush(stdout); /* the child must not print the buffer again */
			pid = fork();
			if (pid == 0) {
				run_one(&tests[i], setup, teardown);
				_exit(0);
			}
			ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
			     WEXITSTATUS(st) == 0;
		} else {
			run_one(&tests[i], setup, teardown);
		}
		printf("[%s] %s::%s\n", ok ? "PASS" : "FAIL", suite, tests[i].name);
		failed += !ok;
	}
	printf("[====] Synthesis: Tested: %zu | Passing: %zu | Failing: %zu | Crashing: 0\n", n,
	       n - failed, failed);
	if (json) {
		FILE *f = fopen(json, "w");

		if (f) {
			fprintf(f, "{\"passed\": %zu, \"failed\": %zu, \"errored\": 0}\n",
				n - failed, failed);
			fclose(f);
		}
	}
	return failed != 0;
}
