/*
 * outfile.c - atomic output files (see outfile.h for the rules).
 *
 * Open temporary names are kept in a small fixed table of path buffers so
 * that a signal handler can unlink them without allocating; slots are
 * claimed and released with atomics.  The same table holds the spooled
 * copies of standard input (cli.c), through sx_out_track().  A driver
 * writing many files that only matter together (a batch unit) defers their
 * fsyncs and makes them durable with one syncfs (sx_out_set_deferred()).
 * A command whose outputs appear together (the main job) opens a commit
 * group: its files wait, closed under their temporary names, in a queue
 * (one mutex; room for a file is reserved when it is opened, so its commit
 * cannot fail to queue it) until one syncfs, the renames and a second
 * syncfs put them all in place.
 */
#include "core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/util.h"

#define MAX_TMP	      1024
#define TMP_PATH_MAX  4096
#define NEW_FILE_MODE 0644

static char tmp_names[MAX_TMP][TMP_PATH_MAX];
static atomic_int tmp_used[MAX_TMP];
static atomic_bool deferred_sync;

/* A file of the commit group, closed under its temporary name. */
struct queued {
	char *tmp, *path;
	int slot;
};

/* The commit group: q holds the committed files in commit order; reserved
 * counts the grouped files still open (room is kept for each). */
static struct {
	pthread_mutex_t lock;
	bool on;
	unsigned suspended; /* sx_out_group_suspend() depth */
	struct queued *q;
	size_t n, reserved, cap;
} group = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A file opened while the group is on takes room in its queue: 1 when it
 * joined, 0 when no group is open, -ENOMEM. */
static int group_join(void)
{
	int ret = 0;

	pthread_mutex_lock(&group.lock);
	if (group.on && !group.suspended) {
		ret = 1;
		if (group.n + group.reserved == group.cap) {
			size_t ncap = group.cap ? 2 * group.cap : 16;
			struct queued *nq = sx_realloc_array(group.q, ncap, sizeof(*nq));

			if (nq) {
				group.q = nq;
				group.cap = ncap;
			} else {
				ret = -ENOMEM;
			}
		}
		if (ret == 1)
			group.reserved++;
	}
	pthread_mutex_unlock(&group.lock);
	return ret;
}

static void group_leave(void)
{
	pthread_mutex_lock(&group.lock);
	group.reserved--;
	pthread_mutex_unlock(&group.lock);
}

/* Move a closed grouped file into the queue (its room was reserved). */
static void group_queue(struct sx_out *o)
{
	pthread_mutex_lock(&group.lock);
	group.q[group.n++] = (struct queued){.tmp = o->tmp, .path = o->path, .slot = o->slot};
	group.reserved--;
	pthread_mutex_unlock(&group.lock);
	o->tmp = NULL;
	o->path = NULL;
	o->slot = -1;
	o->grouped = false;
}

void sx_out_set_deferred(bool on)
{
	atomic_store(&deferred_sync, on);
}

int sx_out_sync_dir(const char *dir, char *msg, size_t msglen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0 || syncfs(fd) != 0) {
		ret = -errno;
		snprintf(msg, msglen, "%s: cannot make the files durable: %s", dir,
			 strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

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

int sx_out_track(const char *path)
{
	return register_tmp(path);
}

void sx_out_untrack(int slot)
{
	unregister_tmp(slot);
}

void sx_out_cleanup_all(void)
{
	int i;

	for (i = 0; i < MAX_TMP; i++)
		if (atomic_load(&tmp_used[i]) == 1)
			unlink(tmp_names[i]);
}

/* Whether st is the file open on fd. */
static bool same_file(const struct stat *st, int fd)
{
	struct stat fst;

	return fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino;
}

static bool in_dev_or_proc(const char *path)
{
	return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

enum out_how {
	OUT_RENAME,   /* temporary file + rename */
	OUT_STDOUT,   /* the stdout stream */
	OUT_STDERR,   /* a duplicate of fd 2 */
	OUT_IN_PLACE, /* fopen(path, "w") */
};

/*
 * How to write path (see outfile.h); for OUT_RENAME, *target is the file to
 * replace (malloc'd: path itself, or what a symbolic link points to) and
 * *mode its permission bits.
 */
static int choose(const char *path, enum out_how *how, char **target, mode_t *mode, char *msg,
		  size_t msglen)
{
	struct stat st, lst;
	char link[PATH_MAX];
	ssize_t n;

	*how = OUT_RENAME;
	*target = NULL;
	*mode = NEW_FILE_MODE;
	if (stat(path, &st) != 0) {
		/* Missing: a new file; a dangling or looping link: through it. */
		if (lstat(path, &lst) == 0)
			*how = OUT_IN_PLACE;
		goto out_target;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(msg, msglen, "%s: is a directory", path);
		return -EISDIR;
	}
	if (same_file(&st, STDOUT_FILENO)) {
		*how = OUT_STDOUT;
		return 0;
	}
	if (same_file(&st, STDERR_FILENO)) {
		*how = OUT_STDERR;
		return 0;
	}
	if (!S_ISREG(st.st_mode) || in_dev_or_proc(path)) {
		*how = OUT_IN_PLACE;
		return 0;
	}
	*mode = st.st_mode & 07777;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (in_dev_or_proc(link)) {
				*how = OUT_IN_PLACE;
				return 0;
			}
		}
		*target = realpath(path, NULL);
		if (!*target) {
			int err = errno;

			snprintf(msg, msglen, "%s: cannot resolve the link: %s", path,
				 strerror(err));
			return -err;
		}
		return 0;
	}
out_target:
	*target = strdup(path);
	if (!*target) {
		snprintf(msg, msglen, "%s: out of memory", path);
		return -ENOMEM;
	}
	return 0;
}

int sx_out_open(struct sx_out *o, const char *path, char *msg, size_t msglen)
{
	enum out_how how;
	char *target = NULL;
	mode_t mode;
	int fd, ret;

	memset(o, 0, sizeof(*o));
	o->slot = -1;
	o->deferred = atomic_load(&deferred_sync);
	if (strcmp(path, "-") == 0) {
		o->is_stdout = true;
		o->f = stdout;
		return 0;
	}
	ret = choose(path, &how, &target, &mode, msg, msglen);
	if (ret)
		return ret;
	o->path = strdup(path);
	if (!o->path)
		goto out_nomem;
	switch (how) {
	case OUT_STDOUT:
		o->is_stdout = true;
		o->f = stdout;
		return 0;
	case OUT_STDERR:
		fd = dup(STDERR_FILENO);
		o->f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!o->f) {
			ret = -errno;
			if (fd >= 0)
				close(fd);
			snprintf(msg, msglen, "%s: cannot open for writing: %s", path,
				 strerror(-ret));
			goto out_free;
		}
		return 0;
	case OUT_IN_PLACE:
		o->f = fopen(path, "w");
		if (!o->f) {
			ret = -errno;
			snprintf(msg, msglen, "%s: cannot open for writing: %s", path,
				 strerror(-ret));
			goto out_free;
		}
		return 0;
	case OUT_RENAME:
		break;
	}
	/* o->path becomes the file to replace (a link's target). */
	free(o->path);
	o->path = target;
	target = NULL;
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", o->path) < 0) {
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
	fchmod(fd, mode);
	o->f = fdopen(fd, "w");
	ret = o->f ? group_join() : -errno;
	if (ret < 0) {
		if (o->f)
			fclose(o->f);
		else
			close(fd);
		unlink(o->tmp);
		snprintf(msg, msglen, "%s: %s", path, strerror(-ret));
		goto out_free;
	}
	o->grouped = ret == 1;
	o->deferred = o->deferred || o->grouped;
	return 0;

out_nomem:
	ret = -ENOMEM;
	snprintf(msg, msglen, "%s: out of memory", path);
out_free:
	unregister_tmp(o->slot);
	free(target);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->slot = -1;
	return ret;
}

static void out_release(struct sx_out *o)
{
	if (o->grouped)
		group_leave();
	unregister_tmp(o->slot);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->slot = -1;
}

/* Make a rename durable: fsync the directory holding path (best effort). */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Flush, sync and close o->f; 0 or -errno with msg set. */
static int out_close(struct sx_out *o, char *msg, size_t msglen)
{
	int ret = 0;

	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f) ||
	    (o->tmp && !o->deferred && fsync(fileno(o->f)) != 0)) {
		ret = errno ? -errno : -EIO;
		snprintf(msg, msglen, "%s: write error: %s", o->path, strerror(-ret));
	}
	if (fclose(o->f) != 0 && !ret) {
		ret = errno ? -errno : -EIO;
		snprintf(msg, msglen, "%s: write error: %s", o->path, strerror(-ret));
	}
	o->f = NULL;
	return ret;
}

int sx_out_close(struct sx_out *o, char *msg, size_t msglen)
{
	int ret;

	if (o->is_stdout || !o->tmp)
		return 0; /* written in place: sx_out_commit() finishes it */
	ret = out_close(o, msg, msglen);
	if (ret) {
		unlink(o->tmp);
		out_release(o);
	}
	return ret;
}

int sx_out_commit(struct sx_out *o, char *msg, size_t msglen)
{
	int ret = 0;

	errno = 0;
	if (o->is_stdout) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			ret = errno ? -errno : -EIO;
			snprintf(msg, msglen, "standard output: write error: %s", strerror(-ret));
		}
		out_release(o);
		return ret;
	}
	if (o->f)
		ret = out_close(o, msg, msglen);
	if (o->tmp) {
		/* Interrupted: the signal handler may already have removed the
		 * temporary file; either way the old target stays. */
		if (!ret && !o->commit_on_stop && sx_stop_requested()) {
			ret = SX_E_STOPPED;
			snprintf(msg, msglen, "%s: interrupted, left as it was", o->path);
		}
		if (!ret && o->grouped) {
			group_queue(o); /* renamed by sx_out_group_end() */
			out_release(o);
			return 0;
		}
		if (!ret && rename(o->tmp, o->path) != 0) {
			ret = -errno;
			snprintf(msg, msglen, "%s: cannot rename into place: %s", o->path,
				 strerror(errno));
			/* the signal handler removed it after the check above */
			if (ret == -ENOENT && sx_stop_requested()) {
				ret = SX_E_STOPPED;
				snprintf(msg, msglen, "%s: interrupted, left as it was", o->path);
			}
		}
		if (ret)
			unlink(o->tmp);
		else if (!o->deferred)
			sync_dir(o->path);
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

void sx_out_group_suspend(void)
{
	pthread_mutex_lock(&group.lock);
	group.suspended++;
	pthread_mutex_unlock(&group.lock);
}

void sx_out_group_resume(void)
{
	pthread_mutex_lock(&group.lock);
	if (group.suspended)
		group.suspended--;
	pthread_mutex_unlock(&group.lock);
}

int sx_out_group_begin(void)
{
	int ret = 0;

	pthread_mutex_lock(&group.lock);
	if (group.on)
		ret = -EBUSY;
	group.on = true;
	pthread_mutex_unlock(&group.lock);
	return ret;
}

/*
 * syncfs() once per file system holding the first n queued files (their
 * temporary names and their targets share a directory).  0 or -errno with
 * msg set.
 */
static int sync_queued(size_t n, char *msg, size_t msglen)
{
	dev_t done[8];
	size_t i, k, ndone = 0;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		const char *name = group.q[i].tmp ? group.q[i].tmp : group.q[i].path;
		int fd = open(name, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) != 0) {
			ret = -errno;
		} else {
			for (k = 0; k < ndone && done[k] != st.st_dev; k++)
				;
			if (k == ndone && syncfs(fd) != 0)
				ret = -errno;
			else if (k == ndone && ndone < sizeof(done) / sizeof(done[0]))
				done[ndone++] = st.st_dev;
		}
		if (fd >= 0)
			close(fd);
		if (ret)
			snprintf(msg, msglen, "%s: cannot make the files durable: %s",
				 group.q[i].path, strerror(-ret));
	}
	return ret;
}

int sx_out_group_end(bool commit, char *msg, size_t msglen)
{
	size_t i, renamed = 0;
	int ret = 0;

	pthread_mutex_lock(&group.lock);
	if (commit && group.n && sx_stop_requested()) {
		ret = SX_E_STOPPED;
		snprintf(msg, msglen, "interrupted: every output left as it was");
	}
	if (commit && !ret)
		ret = sync_queued(group.n, msg, msglen);
	for (i = 0; commit && !ret && i < group.n; i++) {
		if (rename(group.q[i].tmp, group.q[i].path) != 0) {
			ret = -errno;
			snprintf(msg, msglen, "%s: cannot rename into place: %s", group.q[i].path,
				 strerror(errno));
			/* the signal handler removed it after the check above */
			if (ret == -ENOENT && sx_stop_requested()) {
				ret = SX_E_STOPPED;
				snprintf(msg, msglen, "interrupted: every output left as it was");
			}
			break;
		}
		free(group.q[i].tmp);
		group.q[i].tmp = NULL; /* in place: the target names it now */
		renamed++;
	}
	/* The renames made durable (best effort once one failed). */
	if (renamed) {
		char why[64];
		int sret = sync_queued(renamed, ret ? why : msg, ret ? sizeof(why) : msglen);

		if (!ret)
			ret = sret;
	}
	for (i = 0; i < group.n; i++) {
		if (group.q[i].tmp)
			unlink(group.q[i].tmp);
		unregister_tmp(group.q[i].slot);
		free(group.q[i].tmp);
		free(group.q[i].path);
	}
	group.n = 0;
	group.on = false;
	pthread_mutex_unlock(&group.lock);
	return ret;
}
