/*
 * test_cli_library.c - libsigex as a user gets it: `cmake --install` the
 * build tree to a temporary prefix, take the example program out of
 * README.md (the first C block of its "## Library" section), build it with
 * `cc $(pkg-config --cflags --libs sigex)` against the installed library,
 * run it on the demo corpus and check what it prints and writes.  The same
 * example also links against the static library, and the installed header
 * compiles on its own in strict C11.
 *
 * In a sanitizer build the library is instrumented, so the example is built
 * with the same -fsanitize flags (read from the build's CMakeCache.txt).
 * Skipped, saying why, when cmake, pkg-config, cc or the demo corpus is
 * missing.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/tmp.h"

#define DEMO SX_BUILD_DIR "/corpora/demo"

static char *dir;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	sx_tt_rm_tree(dir);
	free(dir);
}

TestSuite(cli_library, .init = setup, .fini = teardown, .timeout = 600);

static int sh(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int sh(char **out, char **err, const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	rc = sx_tt_run(cmd, out, err);
	free(cmd);
	return rc;
}

static void need_tools(void)
{
	struct stat st;

	if (sh(NULL, NULL, "command -v cmake && command -v pkg-config && command -v cc") != 0)
		sx_tt_skip_missing("cmake, pkg-config or cc missing");
	if (stat(DEMO "/truth.txt", &st) != 0)
		sx_tt_skip_missing("generated corpus missing: %s", DEMO);
}

/* -fsanitize flags of the build, so the example links its instrumented library. */
static const char *sanitize_flags(void)
{
	char *cache = sx_tt_read(SX_BUILD_DIR "/CMakeCache.txt", NULL);
	const char *flags = "";

	if (cache && strstr(cache, "SX_ASAN:BOOL=ON"))
		flags = "-fsanitize=address,undefined";
	else if (cache && strstr(cache, "SX_TSAN:BOOL=ON"))
		flags = "-fsanitize=thread";
	free(cache);
	return flags;
}

/* The first ```c block after "## Library" in README.md. */
static char *readme_example(void)
{
	char *readme = sx_tt_read(SX_SOURCE_DIR "/README.md", NULL);
	char *sec, *start, *end, *code;

	cr_assert_not_null(readme, "no README.md");
	sec = strstr(readme, "\n## Library\n");
	cr_assert_not_null(sec, "README.md has no \"## Library\" section");
	start = strstr(sec, "\n```c\n");
	cr_assert_not_null(start, "no C example in README's Library section");
	start += strlen("\n```c\n");
	end = strstr(start, "\n```\n");
	cr_assert_not_null(end);
	code = strndup(start, (size_t)(end - start) + 1);
	cr_assert_not_null(code);
	free(readme);
	return code;
}

/* Install the build tree under dir/prefix; returns the pkg-config path. */
static char *install(void)
{
	char *err = NULL, *pc;
	struct stat st;
	int rc;

	rc = sh(NULL, &err, "cmake --install '%s' --prefix '%s/prefix'", SX_BUILD_DIR, dir);
	cr_assert_eq(rc, 0, "cmake --install failed: %s", err);
	free(err);
	rc = sh(&pc, NULL, "dirname \"$(find '%s/prefix' -name sigex.pc | head -n1)\"", dir);
	cr_assert_eq(rc, 0);
	pc[strcspn(pc, "\n")] = '\0';
	cr_assert(strlen(pc) > 1, "sigex.pc not installed");
	{
		char *p;

		cr_assert(asprintf(&p, "%s/prefix/include/sigex.h", dir) > 0);
		cr_assert_eq(stat(p, &st), 0, "%s not installed", p);
		free(p);
		cr_assert(asprintf(&p, "%s/prefix/bin/sigex", dir) > 0);
		cr_assert_eq(stat(p, &st), 0, "%s not installed", p);
		free(p);
	}
	return pc;
}

Test(cli_library, readme_example_against_the_installed_library)
{
	char *pc, *code, *src, *out = NULL, *err = NULL, *libdir = NULL, *profile;
	const char *san = sanitize_flags();
	int rc;

	need_tools();
	pc = install();
	code = readme_example();
	src = sx_tt_path(dir, "example.c");
	cr_assert_eq(sx_tt_write(src, code, strlen(code)), 0);

	rc = sh(&libdir, NULL, "PKG_CONFIG_PATH='%s' pkg-config --variable=libdir sigex", pc);
	cr_assert_eq(rc, 0);
	libdir[strcspn(libdir, "\n")] = '\0';
	/* the .pc file is relocatable: its libdir is under the temporary prefix */
	cr_assert(strstr(libdir, dir), "libdir %s not under %s", libdir, dir);

	rc = sh(NULL, &err,
		"cd '%s' && PKG_CONFIG_PATH='%s' cc -std=c11 -Wall -Wextra -Werror %s example.c "
		"-o example $(PKG_CONFIG_PATH='%s' pkg-config --cflags --libs sigex) "
		"-Wl,-rpath,'%s'",
		dir, pc, san, pc, libdir);
	cr_assert_eq(rc, 0, "the README example does not build: %s", err);
	free(err);

	{
		char *run = sx_tt_path(dir, "run");

		cr_assert_eq(mkdir(run, 0755), 0);
		free(run);
	}
	rc = sh(&out, &err, "cd '%s/run' && ../example demo-plug 192.168.1.50 '%s'/1*.pcap", dir,
		DEMO);
	cr_assert_eq(rc, 0, "example: exit %d\n%s", rc, err);
	/* the event's three flows, the mDNS chatter and the plug's ARP with
	 * the gateway, request and reply (no background here) */
	cr_assert_str_eq(out, "6 pattern(s); profile.yaml written\n", "%s", out);
	{
		char *p = NULL;

		cr_assert(asprintf(&p, "%s/run/profile.yaml", dir) > 0);
		profile = sx_tt_read(p, NULL);
		free(p);
	}
	cr_assert_not_null(profile);
	/* the MAC is the source of the plug's own frames */
	cr_assert(strstr(profile, "  name: demo-plug\n  mac: "), "%s", profile);
	cr_assert(strstr(profile, "\n  ipv4: 192.168.1.50\n"), "%s", profile);
	cr_assert(strstr(profile, "https-api-plugcloud-example:"), "%s", profile);
	cr_assert(strstr(profile, "arp-request-192-168-1-1:"), "%s", profile);
	free(profile);
	free(out);
	free(err);

	/* and against the static library, with its private dependencies (shared:
	 * `pkg-config --static` would also want libpcap's own static deps) */
	rc = sh(NULL, &err,
		"cd '%s' && export PKG_CONFIG_PATH='%s' && cc -std=c11 %s example.c "
		"-o example-static $(pkg-config --cflags sigex) '%s/libsigex.a' "
		"$(pkg-config --libs $(pkg-config --print-requires-private sigex)) -lpthread -lm",
		dir, pc, san, libdir);
	cr_assert_eq(rc, 0, "static link failed: %s", err);
	free(err);
	rc = sh(&out, &err, "cd '%s/run' && ../example-static demo-plug 192.168.1.50 '%s'/1*.pcap",
		dir, DEMO);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(out, "6 pattern(s); profile.yaml written\n");
	free(out);
	free(err);

	free(libdir);
	free(src);
	free(code);
	free(pc);
}

Test(cli_library, header_stands_alone_and_exports_only_the_api)
{
	char *pc, *err = NULL, *syms = NULL, *libdir = NULL;
	int rc;

	need_tools();
	pc = install();
	rc = sh(NULL, &err,
		"cd '%s' && printf '#include <sigex.h>\\nint main(void) { return "
		"sx_extract_version()[0] == 0; }\\n' > h.c && cc -std=c11 -pedantic -Wall -Wextra "
		"-Werror -c h.c $(PKG_CONFIG_PATH='%s' pkg-config --cflags sigex)",
		dir, pc);
	cr_assert_eq(rc, 0, "sigex.h does not compile alone: %s", err);
	free(err);
	rc = sh(&libdir, NULL, "PKG_CONFIG_PATH='%s' pkg-config --variable=libdir sigex", pc);
	cr_assert_eq(rc, 0);
	libdir[strcspn(libdir, "\n")] = '\0';
	rc = sh(&syms, &err,
		"nm -D --defined-only '%s/libsigex.so' | awk '$2 == \"T\" { print $3 }' | "
		"grep -v '^sx_extract_' || true",
		libdir);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(syms, "", "the shared library exports more than the API:\n%s", syms);
	free(syms);
	free(err);
	free(libdir);
	free(pc);
}
