/*
 * outfile.c - atomic output files (see outfile.h).
 *
 * Open temporary names are kept in a small fixed table of path buffers so
 * that a signal handler can unlink them without allocating; slots are
 * claimed and released with atomics.
 */
#include "core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TMP 64
#define TMP_PATH_MAX 4096

static char tmp_names[MAX_TMP][TMP_PATH_MAX];
static atomic_int tmp_used[MAX_TMP];

static int register_tmp(const char *tmp)
{
	int i;

	if (strlen(tmp) >= TMP_PATH_MAX)
		return -1;
	for (i = 0; i < MAX_TMP; i++) {
		int zero = 0;

		if (atomic_compare_exchange_strong(&tmp_used[i], &zero, 2)) {
			strcpy(tmp_names[i], tmp);
			atomic_store(&tmp_used[i], 1);
			return i;
		}
	}
	return -1;
}

static void unregister_tmp(int slot)
{
	if (slot >= 0)
		atomic_store(&tmp_used[slot], 0);
}

void sx_out_cleanup_all(void)
{
	int i;

	for (i = 0; i < MAX_TMP; i++)
		if (atomic_load(&tmp_used[i]) == 1)
			unlink(tmp_names[i]);
}

int sx_out_open(struct sx_out *o, const char *path, char *msg, size_t msglen)
{
	struct stat st;
	int fd, ret;

	memset(o, 0, sizeof(*o));
	o->slot = -1;
	if (strcmp(path, "-") == 0) {
		o->is_stdout = true;
		o->f = stdout;
		return 0;
	}
	o->path = strdup(path);
	if (!o->path)
		goto out_nomem;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(msg, msglen, "%s: is a directory", path);
			ret = -EISDIR;
			goto out_free;
		}
		o->f = fopen(path, "w");
		if (!o->f) {
			ret = -errno;
			snprintf(msg, msglen, "%s: cannot open for writing: %s", path, strerror(errno));
			goto out_free;
		}
		return 0;
	}
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0) {
		o->tmp = NULL;
		goto out_nomem;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		ret = -errno;
		snprintf(msg, msglen, "%s: cannot create a file there: %s", path, strerror(errno));
		goto out_free;
	}
	o->slot = register_tmp(o->tmp);
	fchmod(fd, 0644 & ~(mode_t)0);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		ret = -errno;
		close(fd);
		unlink(o->tmp);
		snprintf(msg, msglen, "%s: %s", path, strerror(-ret));
		goto out_free;
	}
	return 0;

out_nomem:
	ret = -ENOMEM;
	snprintf(msg, msglen, "%s: out of memory", path);
out_free:
	unregister_tmp(o->slot);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->slot = -1;
	return ret;
}

static void out_release(struct sx_out *o)
{
	unregister_tmp(o->slot);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->slot = -1;
}

int sx_out_commit(struct sx_out *o, char *msg, size_t msglen)
{
	int ret = 0;

	if (o->is_stdout) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			ret = errno ? -errno : -EIO;
			snprintf(msg, msglen, "standard output: write error: %s", strerror(-ret));
		}
		out_release(o);
		return ret;
	}
	if (fflush(o->f) != 0 || ferror(o->f) || (o->tmp && fsync(fileno(o->f)) != 0)) {
		ret = errno ? -errno : -EIO;
		snprintf(msg, msglen, "%s: write error: %s", o->path, strerror(-ret));
	}
	if (fclose(o->f) != 0 && !ret) {
		ret = errno ? -errno : -EIO;
		snprintf(msg, msglen, "%s: write error: %s", o->path, strerror(-ret));
	}
	o->f = NULL;
	if (o->tmp) {
		if (!ret && rename(o->tmp, o->path) != 0) {
			ret = -errno;
			snprintf(msg, msglen, "%s: cannot rename into place: %s", o->path,
				 strerror(errno));
		}
		if (ret)
			unlink(o->tmp);
	}
	out_release(o);
	return ret;
}

void sx_out_abort(struct sx_out *o)
{
	if (o->f && !o->is_stdout)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	out_release(o);
}
