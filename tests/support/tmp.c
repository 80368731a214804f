/*
 * tmp.c - see tmp.h.  Test-only code.
 */
#include "support/tmp.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *sx_tt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&path, "%s/sigex-test-XXXXXX", base) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

char *sx_tt_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

char *sx_tt_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap + 65536 + 1);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int sx_tt_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		ret = -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

int sx_tt_run(const char *cmd, char **out, char **err)
{
	char *dir = sx_tt_tmpdir();
	char *o = sx_tt_path(dir, "out");
	char *e = sx_tt_path(dir, "err");
	char *full;
	int st, ret;

	if (asprintf(&full, "( %s ) >'%s' 2>'%s' </dev/null", cmd, o, e) < 0)
		abort();
	st = system(full);
	if (WIFEXITED(st))
		ret = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		ret = 128 + WTERMSIG(st);
	else
		ret = -1;
	if (out)
		*out = sx_tt_read(o, NULL);
	if (err)
		*err = sx_tt_read(e, NULL);
	unlink(o);
	unlink(e);
	rmdir(dir);
	free(full);
	free(o);
	free(e);
	free(dir);
	return ret;
}

bool sx_tt_have_shared(void)
{
	struct stat st;

	return stat(SX_SHARED_CORPORA "/MANIFEST.md", &st) == 0;
}

size_t sx_tt_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

void sx_tt_rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = sx_tt_path(path, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			sx_tt_rm_tree(p);
		else
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(path);
}
