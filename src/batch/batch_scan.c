/*
 * batch_scan.c - what `sigex batch` has to do: the archive (or manifest) as
 * devices, their captures and their units, and the identity of each unit's
 * inputs for --resume.
 *
 * DESIGN.  The scan runs once, before any unit starts, and builds the
 * whole model (paths, sizes and modification times only: memory grows with
 * the number of files, not with their size).  An archive's devices are
 * found on the calling thread and scanned on the run's threads, one device
 * per thread at a time; what the scan reports is logged afterwards in the
 * archive's order (sx_batch_scan_archive()).
 *
 * Layout.  Every directory under the root (the current directory) is a
 * device; hidden entries are skipped, and so is OUT when it lies inside the
 * archive.  In a device directory: device.yaml and events.csv are read;
 * each subdirectory is an event whose captures are the files directly in
 * it (*.pcap, *.pcapng, *.cap, optionally .gz or .zst), except the one
 * device.yaml names background (idle captures, added to every event of the
 * device); captures directly in the device directory form the event named
 * by device.yaml's event (default "default"), or, with events.csv, one
 * event per label (unlabelled rows: that same name), each row one
 * occurrence window in those captures.  A manifest gives the same model
 * row by row (batch.h).
 *
 * Failures are data.  A name sx_batch_name_check() refuses (the device's
 * or the event's), a bad device.yaml or events.csv, an event with no
 * capture, an event given both as a directory and as a label: each becomes
 * a unit already failed, with the reason, shown in summary.csv and on
 * stderr; a refused name is shown escaped (core/text.h) and never used as
 * a path.  The other devices and units are untouched.
 *
 * Identity.  A unit's key is XXH3-128 over everything its outputs depend
 * on: sigex's version; the device's configuration (addresses, name) and
 * the unit's effective options; the global options that change outputs
 * (filter, names file contents, all-ports); the events windows; and per
 * capture (sorted by path) its path, size, modification time (ns) and a
 * content hash.  The content hash is what --resume needs without reading
 * the capture: XXH3-128 of its first and last HASH_BLOCK bytes (the whole
 * file when it is smaller than two blocks), its size and its inode number.
 * Two preads per capture, so that a resume of an unchanged archive costs
 * about what listing it does, and a run reads each capture for its flows
 * only.  It catches a capture appended to or truncated (size, last block),
 * rewritten in place (modification time, and nearly always the first or
 * last block: a pcap's header and its last record), or replaced by another
 * file, even one given the old size and time with `touch -r` (inode, and the
 * blocks).  What it misses is an edit of the middle of a capture that keeps
 * its size and has its modification time set back by hand; delete the
 * unit's stamp (or run without --resume) after such surgery.  The names
 * file (--names) is small and hashed whole.  When the device's address is
 * inferred, the key also covers every capture of the device (the inference
 * reads them all).  Hashing runs in parallel (batch_run.c).
 *
 * Known captures.  A stamp also records, per capture whose inode settled
 * before the run began (its ctime more than SETTLED_NS before the scan's
 * first stat), its path (hashed), device, inode, size, modification and
 * change times, and the content hash.  --resume takes that hash without
 * opening the capture when all six still hold: a capture rewritten,
 * replaced, renamed over, or given its old time back with `touch` has a
 * new ctime, which only the system clock sets; and since the recorded
 * ctime is older than the scan, a change after it cannot share it, however
 * coarse the file system's clock.  A capture changed less than SETTLED_NS
 * before a run gets no record (git's "racily clean" files): every later
 * resume samples it, as it samples a capture whose record no longer holds,
 * until its unit runs again.  So a resume of an unchanged archive stats
 * each capture once and reads the stamps, about what listing it costs.
 */
#include "batch/batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "batch/batch_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/text.h"
#include "core/util.h"
#include "flows/flows.h"

#define HASH_BLOCK     4096		   /* bytes hashed at each end of a capture */
#define SETTLED_NS     (2 * SX_NS_PER_SEC) /* ctime this much before the scan: settled */
#define HASH_WHOLE_MAX (1u << 20)	   /* --names files: hashed whole up to this */
#define EVENTS_CSV_MAX (64u << 20)

/* ---- small helpers ---- */

int sx_batch__push(void *arrp, size_t *n, size_t *cap, void *p)
{
	void ***arr = arrp;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void **na = sx_realloc_array(*arr, ncap, sizeof(*na));

		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*n)++] = p;
	return 0;
}

const char *sx_batch__shown(const char *s, char *buf, size_t bufsz)
{
	sx_text_escape(buf, bufsz, (const uint8_t *)s, strlen(s), NULL);
	return buf;
}

/*
 * A device's lines while the devices are scanned in parallel
 * (sx_batch_scan_archive()): kept, then logged in the devices' order, as a
 * scan one device after the other logs them.
 */
struct scan_line {
	enum sx_log_level level;
	char *text;
};

struct scan_log {
	struct scan_line *lines;
	size_t n, cap;
};

static _Thread_local struct scan_log *scan_log; /* this thread's, while set */

static void scan_log_keep(struct scan_log *l, enum sx_log_level level, const char *line)
{
	char *text = strdup(line);

	if (text && l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4;
		struct scan_line *nl = sx_realloc_array(l->lines, cap, sizeof(*nl));

		if (nl) {
			l->lines = nl;
			l->cap = cap;
		}
	}
	if (text && l->n < l->cap)
		l->lines[l->n++] = (struct scan_line){.level = level, .text = text};
	else
		free(text); /* without memory: the line is lost, not the scan */
}

/* Log l's lines, then forget them. */
static void scan_log_flush(struct sx_batch *b, struct scan_log *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		sx_batch__log(b, l->lines[i].level, "%s", l->lines[i].text);
		free(l->lines[i].text);
	}
	free(l->lines);
	*l = (struct scan_log){0};
}

void sx_batch__log(struct sx_batch *b, enum sx_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (scan_log) {
		scan_log_keep(scan_log, level, line);
		return;
	}
	if (b->cfg.log)
		b->cfg.log(b->cfg.log_arg, level, line);
	else
		sx_log(level, "%s", line);
}

int sx_batch__fmt(char *buf, size_t bufsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, bufsz, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= bufsz ? -ENAMETOOLONG : 0;
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

/* ---- life cycle ---- */

int sx_batch_new(const struct sx_batch_cfg *cfg, struct sx_batch **out)
{
	struct sx_batch *b;
	struct timespec now;
	struct stat st;
	bool fail = false;

	*out = NULL;
	if (!cfg->out || !cfg->out[0])
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cfg = *cfg;
	b->out = dup_or_null(cfg->out, &fail);
	b->filter = dup_or_null(cfg->filter, &fail);
	b->names = dup_or_null(cfg->names, &fail);
	b->gateway = dup_or_null(cfg->gateway, &fail);
	b->phone = dup_or_null(cfg->phone, &fail);
	b->last_update = dup_or_null(cfg->last_update, &fail);
	b->cfg.out = b->out;
	b->cfg.filter = b->filter;
	b->cfg.names = b->names;
	b->cfg.gateway = b->gateway;
	b->cfg.phone = b->phone;
	b->cfg.last_update = b->last_update;
	if (fail) {
		sx_batch_free(b);
		return -ENOMEM;
	}
	if (clock_gettime(CLOCK_REALTIME, &now) == 0)
		b->t_scan_ns = (int64_t)now.tv_sec * SX_NS_PER_SEC + now.tv_nsec;
	if (stat(b->out, &st) == 0) {
		b->have_out_id = true;
		b->out_dev = st.st_dev;
		b->out_ino = st.st_ino;
	}
	pthread_mutex_init(&b->log_lock, NULL);
	*out = b;
	return 0;
}

static void unit_free(struct sx_batch_unit *u)
{
	if (!u)
		return;
	free(u->event);
	free(u->label);
	free(u->caps);
	for (size_t i = 0; i < u->nstarts; i++)
		free(u->start_cap[i]);
	free(u->starts);
	free(u->start_rel);
	free(u->start_cap);
	free(u);
}

static void device_free(struct sx_batch_device *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nunits; i++)
		unit_free(d->units[i]);
	for (i = 0; i < d->nfiles; i++) {
		free(d->files[i]->path);
		free(d->files[i]);
	}
	free(d->units);
	free(d->files);
	free(d->bg);
	free(d->top);
	free(d->events_data);
	free(d->cap_addr);
	sx_batch__tally_free(d);
	free(d->parked);
	sx_batch_device_free(d->cfg);
	pthread_mutex_destroy(&d->lock);
	free(d->name);
	free(d);
}

void sx_batch_free(struct sx_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->ndevs; i++)
		device_free(b->devs[i]);
	free(b->devs);
	free(b->out);
	free(b->filter);
	free(b->names);
	free(b->gateway);
	free(b->phone);
	free(b->last_update);
	pthread_mutex_destroy(&b->log_lock);
	free(b);
}

/* ---- files ---- */

static bool ends_with(const char *s, size_t n, const char *suffix, size_t *rest)
{
	size_t k = strlen(suffix);

	if (n <= k || strncasecmp(s + n - k, suffix, k) != 0)
		return false;
	*rest = n - k;
	return true;
}

static bool is_capture_name(const char *name)
{
	static const char *const comp[] = {".gz", ".zst", ".zstd"};
	static const char *const ext[] = {".pcap", ".pcapng", ".cap"};
	size_t n = strlen(name), i;

	for (i = 0; i < SX_ARRAY_SIZE(comp); i++)
		if (ends_with(name, n, comp[i], &n))
			break;
	for (i = 0; i < SX_ARRAY_SIZE(ext); i++)
		if (ends_with(name, n, ext[i], &n))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir but "." and "..", sorted (byte order); *out freed by
 * free_names().  With dfd, also a descriptor of dir to stat them by (one
 * path walk for the directory, not one per name; the caller closes it).
 * 0 or -errno. */
static int list_dir(const char *dir, char ***out, size_t *n, int *dfd)
{
	size_t cap = 0;
	struct dirent *e;
	DIR *d;
	int ret = 0;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	if (dfd) {
		*dfd = fcntl(dirfd(d), F_DUPFD_CLOEXEC, 0);
		if (*dfd < 0) {
			ret = -errno;
			closedir(d);
			return ret;
		}
	}
	for (;;) {
		char *s;

		errno = 0;
		e = readdir(d);
		if (!e) {
			ret = errno ? -errno : 0;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		s = strdup(e->d_name);
		if (!s || sx_batch__push(out, n, &cap, s)) {
			free(s);
			ret = -ENOMEM;
			break;
		}
	}
	closedir(d);
	if (!ret && *n)
		qsort(*out, *n, sizeof(**out), cmp_str);
	if (ret && dfd) {
		close(*dfd);
		*dfd = -1;
	}
	return ret;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static char *join(const char *dir, const char *name)
{
	char *p;

	if (!dir || !dir[0] || strcmp(dir, ".") == 0)
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* A capture of d at path (owned by d from now on); its size and time from
 * known when the caller has already stat'ed it, else from a stat of its own. */
static struct sx_batch_file *add_file(struct sx_batch_device *d, const char *path,
				      const struct stat *known)
{
	struct sx_batch_file *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f)
		return NULL;
	f->path = strdup(path);
	if (!f->path || sx_batch__push(&d->files, &d->nfiles, &d->filecap, f)) {
		free(f->path);
		free(f);
		return NULL;
	}
	if (known) {
		st = *known;
	} else if (stat(path, &st) != 0) {
		f->err = -errno;
		return f;
	}
	sx_batch__file_stat(f, &st);
	return f;
}

/* Read a small file whole.  0, -errno or -EFBIG (msg set). */
static int read_file(const char *path, size_t max, char **data, size_t *len, char *msg,
		     size_t msglen)
{
	struct stat st;
	size_t got = 0;
	FILE *f;
	int ret = 0;

	*data = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (!f) {
		ret = -errno;
		snprintf(msg, msglen, "cannot open: %s", strerror(errno));
		return ret;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "not a regular file");
		fclose(f);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(msg, msglen, "larger than %zu bytes", max);
		fclose(f);
		return -EFBIG;
	}
	*data = malloc((size_t)st.st_size + 1);
	if (!*data) {
		fclose(f);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	got = fread(*data, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		ret = -EIO;
		snprintf(msg, msglen, "read error");
		free(*data);
		*data = NULL;
	} else {
		(*data)[got] = '\0';
		*len = got;
	}
	fclose(f);
	return ret;
}

/* ---- devices and units ---- */

static void set_err(char *buf, const char *fmt, ...) SX_PRINTF(2, 3);

static void set_err(char *buf, const char *fmt, ...)
{
	va_list ap;

	if (buf[0])
		return; /* keep the first cause */
	va_start(ap, fmt);
	vsnprintf(buf, SX_BATCH_MSG_MAX, fmt, ap);
	va_end(ap);
}

static struct sx_batch_device *find_device(struct sx_batch *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->ndevs; i++)
		if (strcmp(b->devs[i]->name, name) == 0)
			return b->devs[i];
	return NULL;
}

/* A new device; a refused name is kept escaped, with the device failed. */
static struct sx_batch_device *add_device(struct sx_batch *b, const char *name)
{
	char why[128], shown[4 * SX_BATCH_NAME_MAX + 64];
	struct sx_batch_device *d;
	bool bad = sx_batch_name_check(name, why, sizeof(why)) != 0;

	sx_batch__shown(name, shown, sizeof(shown));
	d = find_device(b, bad ? shown : name);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->name = strdup(bad ? shown : name);
	pthread_mutex_init(&d->lock, NULL);
	atomic_init(&d->left, 0);
	if (!d->name || sx_batch__push(&b->devs, &b->ndevs, &b->devcap, d)) {
		device_free(d);
		return NULL;
	}
	if (bad) {
		d->refused = true;
		set_err(d->err, "device name \"%s\" refused: %s", shown, why);
		sx_batch__log(b, SX_LOG_ERROR, "%s", d->err);
	}
	return d;
}

static struct sx_batch_unit *find_unit(struct sx_batch_device *d, const char *event)
{
	size_t i;

	for (i = 0; i < d->nunits; i++)
		if (strcmp(d->units[i]->event, event) == 0)
			return d->units[i];
	return NULL;
}

/* The unit of event (created when new); a refused name makes a failed unit
 * under its escaped name.  NULL on -ENOMEM. */
static struct sx_batch_unit *get_unit(struct sx_batch *b, struct sx_batch_device *d,
				      const char *event)
{
	char why[128], shown[4 * SX_BATCH_NAME_MAX + 64];
	struct sx_batch_unit *u;
	bool bad = event[0] && sx_batch_name_check(event, why, sizeof(why)) != 0;

	sx_batch__shown(event, shown, sizeof(shown));
	u = find_unit(d, bad ? shown : event);
	if (u)
		return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->dev = d;
	u->event = strdup(bad ? shown : event);
	if (!u->event || sx_batch__push(&d->units, &d->nunits, &d->unitcap, u)) {
		unit_free(u);
		return NULL;
	}
	if (bad) {
		u->state = SX_BATCH_FAILED;
		sx_batch__fmt(u->msg, sizeof(u->msg), "event name \"%s\" refused: %s", shown, why);
		sx_batch__log(b, SX_LOG_ERROR, "%s/%s: %s", d->name, shown, u->msg);
	}
	return u;
}

static int unit_add_cap(struct sx_batch_unit *u, struct sx_batch_file *f)
{
	return sx_batch__push(&u->caps, &u->ncaps, &u->capcap, f);
}

static int read_config(struct sx_batch *b, struct sx_batch_device *d, const char *path)
{
	char msg[SX_BATCH_MSG_MAX - 64], shown[512];
	size_t len;
	char *data;
	int ret;

	(void)b;
	if (d->has_cfg) {
		set_err(d->err, "more than one device.yaml");
		return 0;
	}
	d->has_cfg = true;
	ret = read_file(path, SX_BATCH_DEVICE_YAML_MAX, &data, &len, msg, sizeof(msg));
	if (!ret)
		ret = sx_batch_device_parse(data, len, &d->cfg, msg, sizeof(msg));
	free(data);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		set_err(d->err, "bad device.yaml (%s): %s",
			sx_batch__shown(path, shown, sizeof(shown)), msg);
	return 0;
}

static int read_events(struct sx_batch_device *d, const char *path)
{
	char msg[SX_BATCH_MSG_MAX - 64], shown[512];
	int ret;

	if (d->events_data) {
		set_err(d->err, "more than one events.csv");
		return 0;
	}
	ret = read_file(path, EVENTS_CSV_MAX, &d->events_data, &d->events_len, msg, sizeof(msg));
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		set_err(d->err, "events.csv (%s): %s", sx_batch__shown(path, shown, sizeof(shown)),
			msg);
	return 0;
}

/* Captures directly in dir, into u (or into d's background when u is NULL). */
static int scan_captures(struct sx_batch_device *d, struct sx_batch_unit *u, const char *dir)
{
	char **names;
	size_t n, i;
	int dfd = -1, ret;

	ret = list_dir(dir, &names, &n, &dfd);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		char shown[256]; /* leaves room for the reason in u->msg */

		if (u) {
			if (!u->state) {
				u->state = SX_BATCH_FAILED;
				snprintf(u->msg, sizeof(u->msg), "cannot list %s: %s",
					 sx_batch__shown(dir, shown, sizeof(shown)),
					 strerror(-ret));
			}
		} else {
			set_err(d->err, "cannot list %s: %s",
				sx_batch__shown(dir, shown, sizeof(shown)), strerror(-ret));
		}
		return 0;
	}
	for (i = 0; i < n && !ret; i++) {
		struct sx_batch_file *f;
		struct stat st;
		bool known;
		char *path;

		if (names[i][0] == '.' || !is_capture_name(names[i]))
			continue;
		path = join(dir, names[i]);
		if (!path) {
			ret = -ENOMEM;
			break;
		}
		known = fstatat(dfd, names[i], &st, 0) == 0;
		if (known && !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		f = add_file(d, path, known ? &st : NULL);
		free(path);
		if (!f)
			ret = -ENOMEM;
		else if (u)
			ret = unit_add_cap(u, f);
		else
			ret = sx_batch__push(&d->bg, &d->nbg, &d->bgcap, f);
	}
	free_names(names, n);
	close(dfd);
	return ret;
}

static bool same_as_out(const struct sx_batch *b, const struct stat *st)
{
	return b->have_out_id && st->st_dev == b->out_dev && st->st_ino == b->out_ino;
}

static int scan_device_dir(struct sx_batch *b, struct sx_batch_device *d, const char *dir)
{
	bool bg_found = false;
	char **names;
	size_t n, i;
	int dfd = -1, ret;

	ret = list_dir(dir, &names, &n, &dfd);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		set_err(d->err, "cannot list the device directory: %s", strerror(-ret));
		return 0;
	}
	for (i = 0; i < n && !ret; i++) {
		char *path;

		if (strcmp(names[i], "device.yaml") && strcmp(names[i], "events.csv"))
			continue;
		path = join(dir, names[i]);
		if (!path)
			ret = -ENOMEM;
		else if (names[i][0] == 'd')
			ret = read_config(b, d, path);
		else
			ret = read_events(d, path);
		free(path);
	}
	for (i = 0; i < n && !ret; i++) {
		struct stat st;
		char *path;

		if (names[i][0] == '.' || strcmp(names[i], "device.yaml") == 0 ||
		    strcmp(names[i], "events.csv") == 0)
			continue;
		path = join(dir, names[i]);
		if (!path) {
			ret = -ENOMEM;
			break;
		}
		if (fstatat(dfd, names[i], &st, 0) != 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode) && !same_as_out(b, &st)) {
			if (d->cfg && d->cfg->background &&
			    strcmp(names[i], d->cfg->background) == 0) {
				bg_found = true;
				ret = scan_captures(d, NULL, path);
			} else {
				struct sx_batch_unit *u = get_unit(b, d, names[i]);

				if (!u)
					ret = -ENOMEM;
				else if (!u->state)
					ret = scan_captures(d, u, path);
				if (u)
					u->from_dir = true;
			}
		} else if (S_ISREG(st.st_mode) && is_capture_name(names[i])) {
			struct sx_batch_file *f = add_file(d, path, &st);

			ret = f ? sx_batch__push(&d->top, &d->ntop, &d->topcap, f) : -ENOMEM;
		}
		free(path);
	}
	free_names(names, n);
	close(dfd);
	if (!ret && d->cfg && d->cfg->background && !bg_found)
		set_err(d->err, "device.yaml: background: no directory \"%s\"", d->cfg->background);
	return ret;
}

/* Undo core/text.h's escapes ("\\xNN", "\\\\") in place. */
static void unescape(char *s)
{
	char *w = s;

	while (*s) {
		unsigned v;

		if (s[0] == '\\' && s[1] == '\\') {
			*w++ = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3] &&
			   sscanf(s + 2, "%2x", &v) == 1) {
			*w++ = (char)v;
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* One events.csv row of the unit: its time and the capture it names. */
static int add_start(struct sx_batch_unit *u, const struct sx_events *ev, const struct sx_event *e)
{
	if (u->nstarts == u->startcap) {
		size_t ncap = u->startcap ? u->startcap * 2 : 16;
		int64_t *ns2 = sx_realloc_array(u->starts, ncap, sizeof(*ns2));
		bool *rel2;
		char **cap2;

		if (!ns2)
			return -ENOMEM;
		u->starts = ns2;
		rel2 = sx_realloc_array(u->start_rel, ncap, sizeof(*rel2));
		if (!rel2)
			return -ENOMEM;
		u->start_rel = rel2;
		cap2 = sx_realloc_array(u->start_cap, ncap, sizeof(*cap2));
		if (!cap2)
			return -ENOMEM;
		u->start_cap = cap2;
		u->startcap = ncap;
	}
	u->starts[u->nstarts] = e->start_ns;
	u->start_rel[u->nstarts] = e->relative;
	u->start_cap[u->nstarts] = NULL;
	if (e->capture) {
		u->start_cap[u->nstarts] = strdup(ev->captures[e->capture - 1]);
		if (!u->start_cap[u->nstarts])
			return -ENOMEM;
		unescape(u->start_cap[u->nstarts]);
	}
	u->nstarts++;
	return 0;
}

/* Fail u before it runs (the first cause wins), logged unless quiet. */
static void fail_unit(struct sx_batch *b, struct sx_batch_unit *u, bool quiet, const char *fmt, ...)
    SX_PRINTF(4, 5);

static void fail_unit(struct sx_batch *b, struct sx_batch_unit *u, bool quiet, const char *fmt, ...)
{
	va_list ap;

	if (u->state)
		return;
	u->state = SX_BATCH_FAILED;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	if (!quiet)
		sx_batch__log(b, SX_LOG_ERROR, "%s/%s: %s", u->dev->name, u->event, u->msg);
}

/* The units of the events.csv windows over the device directory's captures. */
static int events_units(struct sx_batch *b, struct sx_batch_device *d, const char *dflt)
{
	char msg[SX_BATCH_MSG_MAX - 64];
	struct sx_events *ev = NULL;
	size_t i, k;
	int ret;

	if (!d->ntop) {
		set_err(d->err,
			"events.csv: no capture in the device directory to cut into events");
		return 0;
	}
	ret = sx_events_parse(d->events_data, d->events_len, &ev, msg, sizeof(msg));
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		set_err(d->err, "bad events.csv: %s", msg);
		return 0;
	}
	for (i = 0; i < ev->n && !ret; i++) {
		char label[SX_EVENT_LABEL_MAX];
		struct sx_batch_unit *u;
		bool fresh;

		snprintf(label, sizeof(label), "%s", ev->ev[i].label);
		unescape(label);
		fresh = !find_unit(d, label[0] ? label : dflt);
		u = get_unit(b, d, label[0] ? label : dflt);
		if (!u) {
			ret = -ENOMEM;
			break;
		}
		if (u->from_dir) {
			fail_unit(b, u, false,
				  "event \"%s\" is both a directory and an events.csv label",
				  u->event);
			continue;
		}
		if (fresh) {
			u->label = strdup(label);
			if (!u->label) {
				ret = -ENOMEM;
				break;
			}
			for (k = 0; k < d->ntop && !ret; k++)
				ret = unit_add_cap(u, d->top[k]);
		}
		if (!ret)
			ret = add_start(u, ev, &ev->ev[i]);
	}
	sx_events_free(ev);
	return ret;
}

static int cmp_file(const void *a, const void *b)
{
	const struct sx_batch_file *x = *(struct sx_batch_file *const *)a;
	const struct sx_batch_file *y = *(struct sx_batch_file *const *)b;

	return strcmp(x->path, y->path);
}

static int cmp_unit(const void *a, const void *b)
{
	const struct sx_batch_unit *x = *(struct sx_batch_unit *const *)a;
	const struct sx_batch_unit *y = *(struct sx_batch_unit *const *)b;

	return strcmp(x->event, y->event);
}

/* After the scan of a device: its default and events.csv units, options,
 * failures, sizes. */
static int finish_device(struct sx_batch *b, struct sx_batch_device *d, const char *where)
{
	const char *dflt = d->cfg && d->cfg->event ? d->cfg->event : SX_BATCH_DEFAULT_EVENT;
	size_t i, k;
	int ret = 0;

	if (d->events_data && !d->err[0]) {
		ret = events_units(b, d, dflt);
	} else if (d->ntop && !d->err[0]) {
		struct sx_batch_unit *u = get_unit(b, d, dflt);

		if (!u)
			return -ENOMEM;
		if (u->from_dir)
			fail_unit(b, u, false,
				  "event \"%s\" is both a directory and the device's own "
				  "captures (device.yaml: event)",
				  u->event);
		for (k = 0; k < d->ntop && !ret; k++)
			ret = unit_add_cap(u, d->top[k]);
	}
	if (ret)
		return ret;
	for (i = 0; d->cfg && i < d->cfg->nevents; i++)
		if (!find_unit(d, d->cfg->events[i].name))
			sx_batch__log(b, SX_LOG_WARN, "%s: device.yaml: events: no event \"%s\"",
				      d->name, d->cfg->events[i].name);
	if (!d->nunits && !get_unit(b, d, ""))
		return -ENOMEM;
	qsort(d->units, d->nunits, sizeof(*d->units), cmp_unit);
	if (d->nbg > 1)
		qsort(d->bg, d->nbg, sizeof(*d->bg), cmp_file);
	for (i = 0; i < d->nunits; i++) {
		struct sx_batch_unit *u = d->units[i];
		const struct sx_batch_event_cfg *ec = sx_batch_device_event(d->cfg, u->event);

		u->opts = b->cfg.opts;
		if (d->cfg)
			sx_batch_opts_merge(&u->opts, &d->cfg->opts);
		if (ec)
			sx_batch_opts_merge(&u->opts, &ec->opts);
		if (u->ncaps > 1)
			qsort(u->caps, u->ncaps, sizeof(*u->caps), cmp_file);
		for (k = 0; k < u->ncaps; k++)
			u->bytes += u->caps[k]->size;
		for (k = 0; k < d->nbg; k++)
			u->bytes += d->bg[k]->size;
		if (d->err[0])
			fail_unit(b, u, true, "%s", d->err);
		if (!u->ncaps)
			fail_unit(b, u, false,
				  "no capture (*.pcap, *.pcapng, *.cap, optionally .gz or .zst) "
				  "in %s%s%s",
				  where, u->event[0] ? "/" : "", u->event);
		u->captures = (unsigned)u->ncaps;
	}
	if (d->err[0] && !d->refused)
		sx_batch__log(b, SX_LOG_ERROR, "%s: %s", d->name, d->err);
	atomic_store(&d->left, d->nunits);
	return 0;
}

static int cmp_device(const void *a, const void *b)
{
	const struct sx_batch_device *x = *(struct sx_batch_device *const *)a;
	const struct sx_batch_device *y = *(struct sx_batch_device *const *)b;

	return strcmp(x->name, y->name);
}

static void totals(struct sx_batch *b)
{
	size_t i, k;

	if (b->ndevs > 1)
		qsort(b->devs, b->ndevs, sizeof(*b->devs), cmp_device);
	for (i = 0; i < b->ndevs; i++)
		for (k = 0; k < b->devs[i]->nunits; k++) {
			const struct sx_batch_unit *u = b->devs[i]->units[k];

			b->units_total++;
			if (u->state)
				continue; /* failed already: nothing to read */
			/* what the run reads: the unit's captures and the
			 * device's background captures, once per unit */
			b->files_total += u->ncaps + b->devs[i]->nbg;
			b->bytes_total += u->bytes;
		}
}

/* One entry of the archive's top directory: a device to scan, or a file
 * that only gets a warning; its log lines are kept (struct scan_log). */
struct scan_job {
	struct sx_batch *b;
	struct sx_batch_device *d; /* NULL: nothing to scan */
	const char *dir;
	struct scan_log log;
	int ret;
};

static void scan_job(void *ctx, size_t i)
{
	struct scan_job *job = (struct scan_job *)ctx + i;

	if (!job->d)
		return;
	scan_log = &job->log;
	if (!job->d->err[0])
		job->ret = scan_device_dir(job->b, job->d, job->dir);
	if (!job->ret)
		job->ret = finish_device(job->b, job->d, job->d->name);
	scan_log = NULL;
}

/*
 * The devices are found in the top directory's order, then scanned on the
 * run's threads (each device on one thread: its files, units and config
 * are its own), and their lines logged in that order afterwards, so that
 * the model and the log are those of a scan one device after the other.
 */
int sx_batch_scan_archive(struct sx_batch *b)
{
	struct scan_job *jobs;
	char **names;
	size_t n, i;
	int ret;

	ret = list_dir(".", &names, &n, NULL);
	if (ret)
		return ret;
	jobs = sx_calloc_array(n + 1, sizeof(*jobs));
	if (!jobs) {
		free_names(names, n);
		return -ENOMEM;
	}
	for (i = 0; i < n && !ret; i++) {
		struct sx_batch_device *d;
		struct stat st;
		size_t k;

		jobs[i].b = b;
		if (names[i][0] == '.')
			continue;
		if (stat(names[i], &st) != 0)
			continue;
		scan_log = &jobs[i].log;
		if (!S_ISDIR(st.st_mode)) {
			if (is_capture_name(names[i])) {
				char shown[512];

				sx_batch__log(b, SX_LOG_WARN,
					      "%s: ignored: captures belong in a device directory",
					      sx_batch__shown(names[i], shown, sizeof(shown)));
			}
			scan_log = NULL;
			continue;
		}
		scan_log = NULL;
		if (same_as_out(b, &st))
			continue;
		scan_log = &jobs[i].log;
		d = add_device(b, names[i]);
		scan_log = NULL;
		if (!d) {
			ret = -ENOMEM;
			break;
		}
		/* two refused names shown alike are one device: scanned once
		 * (a refused device has nothing to scan) */
		for (k = 0; d->refused && k < i && jobs[k].d != d; k++)
			;
		if (d->refused && k < i)
			continue;
		jobs[i].d = d;
		jobs[i].dir = names[i];
	}
	if (!ret)
		sx_pool_run(b->cfg.threads ? b->cfg.threads : sx_nproc(), n, scan_job, jobs, false);
	for (i = 0; i < n; i++) {
		scan_log_flush(b, &jobs[i].log);
		if (!ret)
			ret = jobs[i].ret;
	}
	free(jobs);
	free_names(names, n);
	if (!ret)
		totals(b);
	return ret;
}

int sx_batch_scan_manifest(struct sx_batch *b, const struct sx_batch_manifest *m)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < m->n && !ret; i++) {
		const struct sx_batch_row *r = &m->rows[i];
		struct sx_batch_device *d = add_device(b, r->device);
		struct sx_batch_file *f;
		struct sx_batch_unit *u;

		if (!d)
			return -ENOMEM;
		switch (r->role) {
		case SX_BATCH_ROLE_CONFIG:
			ret = read_config(b, d, r->path);
			break;
		case SX_BATCH_ROLE_EVENTS:
			ret = read_events(d, r->path);
			break;
		case SX_BATCH_ROLE_BACKGROUND:
			f = add_file(d, r->path, NULL);
			ret = f ? sx_batch__push(&d->bg, &d->nbg, &d->bgcap, f) : -ENOMEM;
			break;
		default:
			if (!r->event[0]) {
				f = add_file(d, r->path, NULL);
				ret =
				    f ? sx_batch__push(&d->top, &d->ntop, &d->topcap, f) : -ENOMEM;
				break;
			}
			u = get_unit(b, d, r->event);
			if (!u)
				return -ENOMEM;
			u->from_dir = true;
			if (u->state)
				break;
			f = add_file(d, r->path, NULL);
			ret = f ? unit_add_cap(u, f) : -ENOMEM;
			break;
		}
	}
	for (i = 0; i < b->ndevs && !ret; i++)
		ret = finish_device(b, b->devs[i], "the manifest");
	if (!ret)
		totals(b);
	return ret;
}

/* ---- identity ---- */

/* Hash bytes [off, stop) of fd, at most HASH_BLOCK at a time.  0 or -errno. */
static int hash_range(int fd, XXH3_state_t *st, uint8_t *buf, uint64_t off, uint64_t stop)
{
	while (off < stop) {
		size_t want = (size_t)SX_MIN((uint64_t)HASH_BLOCK, stop - off);
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break; /* shrank meanwhile: the size hashed with it tells */
		XXH3_128bits_update(st, buf, (size_t)got);
		off += (uint64_t)got;
	}
	return 0;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void sx_batch__hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int sx_batch__unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < 2 * n; i++) {
		int c = s[i], v = c >= '0' && c <= '9'	 ? c - '0'
				  : c >= 'a' && c <= 'f' ? c - 'a' + 10
							 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

void sx_batch__file_stat(struct sx_batch_file *f, const struct stat *st)
{
	f->size = (uint64_t)st->st_size;
	f->mtime_ns = (int64_t)st->st_mtim.tv_sec * SX_NS_PER_SEC + st->st_mtim.tv_nsec;
	f->ctime_ns = (int64_t)st->st_ctim.tv_sec * SX_NS_PER_SEC + st->st_ctim.tv_nsec;
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
}

bool sx_batch__file_settled(const struct sx_batch *b, const struct sx_batch_file *f)
{
	return !f->err && b->t_scan_ns > 0 && f->ctime_ns < b->t_scan_ns - SETTLED_NS;
}

void sx_batch__hash_file(struct sx_batch_file *f, bool whole)
{
	XXH3_state_t *st;
	uint8_t buf[HASH_BLOCK], le[16];
	struct stat sb;
	uint64_t size;
	XXH128_canonical_t c;
	int fd, ret;

	st = XXH3_createState();
	if (!st) {
		f->err = -ENOMEM;
		return;
	}
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		f->err = -errno;
		goto out_state;
	}
	if (fstat(fd, &sb) != 0) {
		f->err = -errno;
		goto out_close;
	}
	sx_batch__file_stat(f, &sb);
	size = f->size;
	XXH3_128bits_reset(st);
	if (whole && size <= HASH_WHOLE_MAX) {
		ret = hash_range(fd, st, buf, 0, size);
	} else if (size <= 2 * HASH_BLOCK) {
		ret = hash_range(fd, st, buf, 0, size);
	} else {
		ret = hash_range(fd, st, buf, 0, HASH_BLOCK);
		if (!ret)
			ret = hash_range(fd, st, buf, size - HASH_BLOCK, size);
	}
	if (ret) {
		f->err = ret;
		goto out_close;
	}
	put_le64(le, size);
	put_le64(le + 8, whole ? 0 : (uint64_t)sb.st_ino);
	XXH3_128bits_update(st, le, sizeof(le));
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	memcpy(f->hash, c.digest, sizeof(f->hash));
	f->err = 0;
out_close:
	close(fd);
out_state:
	XXH3_freeState(st);
}

static void feed(XXH3_state_t *st, const void *p, size_t n)
{
	XXH3_128bits_update(st, p, n);
}

static void feed_str(XXH3_state_t *st, const char *s)
{
	feed(st, s ? s : "", s ? strlen(s) + 1 : 1);
}

static void feed_u64(XXH3_state_t *st, uint64_t v)
{
	uint8_t le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	feed(st, le, sizeof(le));
}

static void feed_double(XXH3_state_t *st, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.17g", v);
	feed_str(st, buf);
}

static void feed_file(XXH3_state_t *st, const struct sx_batch_file *f)
{
	feed_str(st, f->path);
	feed_u64(st, f->size);
	feed_u64(st, (uint64_t)f->mtime_ns);
	feed(st, f->hash, sizeof(f->hash));
	feed_u64(st, (uint64_t)(int64_t)f->err);
}

static void digest_out(XXH3_state_t *st, uint8_t out[16])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	memcpy(out, c.digest, 16);
}

void sx_batch__device_digest(struct sx_batch_device *d)
{
	struct sx_batch_file **sorted;
	XXH3_state_t *st = XXH3_createState();
	size_t i;

	memset(d->digest, 0, sizeof(d->digest));
	sorted = sx_calloc_array(d->nfiles + 1, sizeof(*sorted));
	if (!st || !sorted) {
		/* an all-zero digest never matches a stamp: the units re-run */
		free(sorted);
		XXH3_freeState(st);
		return;
	}
	if (d->nfiles) {
		memcpy(sorted, d->files, d->nfiles * sizeof(*sorted));
		qsort(sorted, d->nfiles, sizeof(*sorted), cmp_file);
	}
	XXH3_128bits_reset(st);
	feed_str(st, "device-captures");
	for (i = 0; i < d->nfiles; i++)
		feed_file(st, sorted[i]);
	digest_out(st, d->digest);
	free(sorted);
	XXH3_freeState(st);
}

void sx_batch__unit_key(const struct sx_batch *b, struct sx_batch_unit *u)
{
	const struct sx_batch_device *d = u->dev;
	const struct sx_batch_device_cfg *c = d->cfg;
	XXH3_state_t *st = XXH3_createState();
	size_t i;

	memset(u->key, 0, sizeof(u->key));
	if (!st)
		return;
	XXH3_128bits_reset(st);
	feed_str(st, "sigex-batch-unit 2");
	feed_str(st, SX_VERSION);
	feed_str(st, d->name);
	feed_str(st, u->event);
	feed_str(st, c && c->name ? c->name : d->name);
	feed_str(st, c ? c->ipv4 : NULL);
	feed_str(st, c ? c->ipv6 : NULL);
	feed_str(st, c ? c->mac : NULL);
	feed_str(st, c && c->gateway ? c->gateway : b->cfg.gateway);
	feed_str(st, c && c->phone ? c->phone : b->cfg.phone);
	if (!c || !c->ipv4)
		feed(st, d->digest, sizeof(d->digest));
	feed_u64(st, u->opts.set);
	feed_double(st, u->opts.window);
	feed_double(st, u->opts.support);
	feed_double(st, u->opts.duration);
	feed_double(st, u->opts.idle);
	feed_u64(st, u->opts.stats);
	feed_str(st, b->cfg.filter);
	feed_u64(st, b->cfg.all_ports);
	if (b->cfg.validate) /* older stamps stay valid without it */
		feed_u64(st, 1);
	if (b->cfg.no_csv) /* likewise */
		feed_u64(st, 2);
	feed(st, b->names_hash, sizeof(b->names_hash));
	feed_u64(st, (uint64_t)b->names_err);
	feed_str(st, u->label);
	feed_u64(st, u->nstarts);
	for (i = 0; i < u->nstarts; i++) {
		feed_u64(st, (uint64_t)u->starts[i]);
		if (u->start_rel[i]) /* absolute rows keep older stamps valid */
			feed_str(st, "+");
		if (u->start_cap[i])
			feed_str(st, u->start_cap[i]);
	}
	feed_u64(st, u->ncaps);
	for (i = 0; i < u->ncaps; i++)
		feed_file(st, u->caps[i]);
	feed_u64(st, d->nbg);
	for (i = 0; i < d->nbg; i++)
		feed_file(st, d->bg[i]);
	digest_out(st, u->key);
	XXH3_freeState(st);
}
