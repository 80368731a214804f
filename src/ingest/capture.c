/*
 * capture.c - one capture file through libpcap.
 *
 * Opening: the first bytes decide the format, never the file name.  Input
 * is read through a stdio cookie (fopencookie) that replays the bytes read
 * ahead and decompresses a gzip (1f 8b) or zstd (28 b5 2f fd) stream on the
 * fly.  A regular file smaller than PLAIN_MIN is read ahead whole by one
 * read() that also gives the magic, and a read shorter than asked is its
 * end, so that a small capture costs open, fstat, one read and close (batch
 * reads thousands: no fcntl, no pread of the magic, no read that only finds
 * the end); for a plain (uncompressed) file that block is the FILE's
 * buffer, so its bytes are not copied twice.  A larger file, or a stream
 * (standard input, a FIFO), has its first bytes peeked instead; a larger
 * plain file is then read again from its start by a plain stdio stream
 * (its buffer the file's size, at most FILE_BUF), not the cookie: glibc's
 * cookie streams copy a short read (each record's 16-byte header) byte by
 * byte (2.6 % of the flow stage's instructions on a large capture), and
 * from PLAIN_MIN up that costs more than the four system calls the stream
 * adds (the peek, the seek back, fdopen's fcntl, the read that finds the
 * end): batch over an archive of 100 KiB captures runs 0.9 % fewer
 * instructions.
 * libpcap then detects
 * pcap (both byte orders, micro- and nanosecond) or pcapng itself, and
 * timestamps are read at nanosecond precision; the magic number libpcap saw
 * (after decompression) is kept as the capture's format, for a reader that
 * prints times as precisely as the file stores them.  The BPF check of a
 * filter expression, without a capture, lives here too.
 *
 * Errors are per file and carry a one-line cause meant for a person:
 * libpcap's own text, rephrased where it is cryptic (an empty file, an
 * unknown magic), or the decompressor's.  One capture is used by one thread.
 */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/compiler.h"
#include "core/err.h"
#include "core/util.h"
#include "ingest/app.h"

#define PEEK_LEN  4
#define IN_BUF	  (256 * 1024)
#define FILE_BUF  (1024 * 1024)
#define PLAIN_MIN (64 * 1024) /* a plain file this large is read by a plain stream */

enum src_kind { SRC_RAW, SRC_GZIP, SRC_ZSTD };

/* State behind the stdio cookie for streams and compressed files. */
struct source {
	int fd;
	enum src_kind kind;
	uint8_t peek[PEEK_LEN]; /* a stream's first bytes */
	uint8_t *first;		/* bytes read ahead, replayed first: peek, or own */
	size_t nfirst, firstpos;
	uint8_t *own; /* a compressed file's first block (malloc'd), freed once replayed;
		       * a plain file's is the FILE's buffer (sx_capture.iobuf) */
	bool regular; /* a regular file: a read shorter than asked is its end */
	bool at_end;  /* ... which was seen */
	uint8_t *in;  /* compressed input buffer */
	size_t inlen;
	size_t inpos;
	bool in_eof;
	bool z_ready;
	z_stream z;
	ZSTD_DStream *zs;
	bool stream_end;	/* the last frame/member ended cleanly */
	char msg[128];		/* decompression error, "" when none */
	uint8_t head[PEEK_LEN]; /* the first bytes handed to libpcap */
	size_t nhead;
};

/*
 * Read by the decoding thread (l2) and written by the reading thread for
 * every record (index): a piped file (reader.c) has them on two cache lines,
 * or every record moves the line between the cores (a -j2 run over one
 * large capture took longer than -j1).  Allocated cache-line aligned.
 */
struct sx_capture {
	pcap_t *p;
	struct source *src; /* behind the FILE's cookie; freed by the cookie close */
	enum sx_l2 l2;
	int dlt;
	enum sx_capture_format format;
	char *iobuf;		  /* the FILE's buffer, freed after it is closed */
	struct sx_app_memo *memo; /* the decoding thread's (borrowed), or NULL */
	char err[PCAP_ERRBUF_SIZE + 160];
	_Alignas(SX_CACHELINE) uint64_t index;
};

/* Raw bytes from the fd, the bytes read ahead first.  Returns bytes, 0 EOF,
 * -1 error. */
static ssize_t raw_read(struct source *s, void *buf, size_t n)
{
	ssize_t r;

	if (s->firstpos < s->nfirst) {
		size_t k = SX_MIN(n, s->nfirst - s->firstpos);

		/* in place when the block is the FILE's own buffer */
		if ((uint8_t *)buf != s->first + s->firstpos)
			memmove(buf, s->first + s->firstpos, k);
		s->firstpos += k;
		if (s->firstpos == s->nfirst) {
			free(s->own); /* NULL when it is the FILE's buffer */
			s->own = NULL;
			s->first = NULL;
			s->nfirst = s->firstpos = 0;
		}
		return (ssize_t)k;
	}
	if (s->at_end)
		return 0;
	/* A signal that stops the run ends a read that waits on a pipe. */
	do {
		r = read(s->fd, buf, n);
	} while (r < 0 && errno == EINTR && !sx_stop_requested());
	if (r >= 0 && s->regular && (size_t)r < n)
		s->at_end = true;
	return r;
}

static int fill_in(struct source *s)
{
	ssize_t r;

	if (s->inpos < s->inlen || s->in_eof)
		return 0;
	r = raw_read(s, s->in, IN_BUF);
	if (r < 0) {
		snprintf(s->msg, sizeof(s->msg), "read error: %s", strerror(errno));
		return -1;
	}
	if (r == 0)
		s->in_eof = true;
	s->inlen = (size_t)r;
	s->inpos = 0;
	return 0;
}

/* gzip (RFC 1952), concatenated members allowed, through zlib's inflate. */
static ssize_t gz_read(struct source *s, char *buf, size_t n)
{
	size_t out = 0;

	while (out < n) {
		int zr;

		if (fill_in(s))
			return -1;
		if (s->inpos == s->inlen && s->in_eof) {
			if (!s->stream_end) {
				snprintf(s->msg, sizeof(s->msg),
					 "gzip stream truncated (compressed data ends early)");
				return out ? (ssize_t)out : -1;
			}
			break;
		}
		if (s->stream_end) { /* another member follows */
			if (inflateReset(&s->z) != Z_OK)
				return -1;
			s->stream_end = false;
		}
		s->z.next_in = s->in + s->inpos;
		s->z.avail_in = (uInt)(s->inlen - s->inpos);
		s->z.next_out = (Bytef *)buf + out;
		s->z.avail_out = (uInt)SX_MIN(n - out, (size_t)UINT32_MAX);
		zr = inflate(&s->z, Z_NO_FLUSH);
		s->inpos = s->inlen - s->z.avail_in;
		out = (size_t)((char *)s->z.next_out - buf);
		if (zr == Z_STREAM_END) {
			s->stream_end = true;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			snprintf(s->msg, sizeof(s->msg), "gzip data is corrupt (%s)",
				 s->z.msg ? s->z.msg : "inflate error");
			return out ? (ssize_t)out : -1;
		}
	}
	return (ssize_t)out;
}

/* zstd (RFC 8878), multiple frames allowed. */
static ssize_t zstd_read(struct source *s, char *buf, size_t n)
{
	ZSTD_outBuffer ob = {buf, n, 0};

	while (ob.pos < ob.size) {
		ZSTD_inBuffer ib;
		size_t zr;

		if (fill_in(s))
			return -1;
		if (s->inpos == s->inlen && s->in_eof) {
			if (!s->stream_end) {
				snprintf(s->msg, sizeof(s->msg),
					 "zstd stream truncated (compressed data ends early)");
				return ob.pos ? (ssize_t)ob.pos : -1;
			}
			break;
		}
		ib.src = s->in + s->inpos;
		ib.size = s->inlen - s->inpos;
		ib.pos = 0;
		zr = ZSTD_decompressStream(s->zs, &ob, &ib);
		s->inpos += ib.pos;
		if (ZSTD_isError(zr)) {
			snprintf(s->msg, sizeof(s->msg), "zstd data is corrupt (%s)",
				 ZSTD_getErrorName(zr));
			return ob.pos ? (ssize_t)ob.pos : -1;
		}
		s->stream_end = zr == 0;
	}
	return (ssize_t)ob.pos;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
	struct source *s = cookie;
	ssize_t r;

	switch (s->kind) {
	case SRC_GZIP:
		r = gz_read(s, buf, n);
		break;
	case SRC_ZSTD:
		r = zstd_read(s, buf, n);
		break;
	default:
		r = raw_read(s, buf, n);
		if (r < 0)
			snprintf(s->msg, sizeof(s->msg), "read error: %s", strerror(errno));
		break;
	}
	if (r < 0) {
		errno = EIO;
		return r;
	}
	if (s->nhead < PEEK_LEN) {
		size_t k = SX_MIN((size_t)r, PEEK_LEN - s->nhead);

		memcpy(s->head + s->nhead, buf, k);
		s->nhead += k;
	}
	return r;
}

static void source_free(struct source *s)
{
	if (!s)
		return;
	if (s->z_ready)
		inflateEnd(&s->z);
	ZSTD_freeDStream(s->zs);
	if (s->fd > STDIN_FILENO)
		close(s->fd);
	free(s->own);
	free(s->in);
	free(s);
}

static int cookie_close(void *cookie)
{
	source_free(cookie);
	return 0;
}

static int source_init(struct source *s, enum src_kind kind)
{
	s->kind = kind;
	if (kind == SRC_RAW)
		return 0;
	s->in = malloc(IN_BUF);
	if (!s->in)
		return -ENOMEM;
	if (kind == SRC_GZIP) {
		/* 15 + 32: a zlib or gzip header, detected automatically. */
		if (inflateInit2(&s->z, 15 + 32) != Z_OK)
			return -ENOMEM;
		s->z_ready = true;
	} else {
		s->zs = ZSTD_createDStream();
		if (!s->zs || ZSTD_isError(ZSTD_initDStream(s->zs)))
			return -ENOMEM;
	}
	return 0;
}

/* Read up to PEEK_LEN bytes of a stream.  Returns the count or -errno. */
static ssize_t peek_bytes(int fd, uint8_t *buf)
{
	size_t got = 0;

	while (got < PEEK_LEN) {
		ssize_t r = read(fd, buf + got, PEEK_LEN - got);

		if (r < 0 && errno == EINTR && !sx_stop_requested())
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void explain_pcap_error(char *msg, size_t msglen, const char *errbuf, const uint8_t *peek,
			       size_t npeek, const struct source *src)
{
	/* The peeked magic of a compressed file is the compressor's own. */
	if (strstr(errbuf, "unknown file format") && src && src->kind != SRC_RAW)
		snprintf(msg, msglen,
			 "%s-compressed, but the content is not a pcap or pcapng capture",
			 src->kind == SRC_GZIP ? "gzip" : "zstd");
	else if (strstr(errbuf, "unknown file format"))
		snprintf(msg, msglen,
			 "not a pcap or pcapng capture (unknown magic %02x%02x%02x%02x)",
			 npeek > 0 ? peek[0] : 0, npeek > 1 ? peek[1] : 0, npeek > 2 ? peek[2] : 0,
			 npeek > 3 ? peek[3] : 0);
	else
		snprintf(msg, msglen, "%s", errbuf);
}

/*
 * Give fp a buffer of n bytes of its own (*bufp, freed by the caller after
 * fclose): glibc's setvbuf() ignores the size when it allocates the buffer
 * itself, and reads a capture 4 KiB at a time.  Without memory, the default
 * buffer.
 */
static void set_buffer(FILE *fp, size_t n, char **bufp)
{
	*bufp = malloc(n);
	setvbuf(fp, *bufp, _IOFBF, *bufp ? n : FILE_BUF);
}

/* A regular file's first block: one read of up to n bytes into a new
 * buffer (*out).  Returns the count or -errno. */
static ssize_t read_ahead(int fd, size_t n, uint8_t **out)
{
	ssize_t r;

	*out = malloc(n);
	if (!*out)
		return -ENOMEM;
	do {
		r = read(fd, *out, n);
	} while (r < 0 && errno == EINTR && !sx_stop_requested());
	if (r < 0) {
		r = -errno;
		free(*out);
		*out = NULL;
	}
	return r;
}

/*
 * A large uncompressed file, its magic peeked: a plain stdio stream on the
 * descriptor (read from the start again), whose reads copy with memcpy
 * (glibc's cookie streams copy short reads, a record's 16-byte header,
 * byte by byte).  Takes fd.
 */
static int open_plain(int fd, size_t bufsize, FILE **fpp, char **bufp, char *msg, size_t msglen)
{
	FILE *fp;
	int ret;

	if (lseek(fd, 0, SEEK_SET) < 0 || !(fp = fdopen(fd, "rb"))) {
		ret = -errno;
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
		close(fd);
		return ret;
	}
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
	set_buffer(fp, bufsize, bufp);
	*fpp = fp;
	return 0;
}

/* Open the file or stdin and build the FILE that libpcap will read, with
 * its buffer in *bufp. */
static int open_stream(const char *path, FILE **fpp, struct source **srcp, uint8_t *peek,
		       size_t *npeek, char **bufp, char *msg, size_t msglen)
{
	static const cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
	bool is_stdin = strcmp(path, "-") == 0;
	struct source *s = NULL;
	struct stat st;
	enum src_kind kind = SRC_RAW;
	uint8_t *own = NULL;
	size_t ahead = 0;
	bool regular, large;
	ssize_t n;
	FILE *fp;
	int fd, ret;

	*fpp = NULL;
	*srcp = NULL;
	*bufp = NULL;
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		snprintf(msg, msglen, "cannot open: %s", strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(msg, msglen, "cannot stat: %s", strerror(errno));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		snprintf(msg, msglen, "is a directory, not a capture file");
		goto out_close;
	}
	if (!is_stdin && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		ret = SX_E_FORMAT;
		snprintf(msg, msglen, "not a regular file (device or socket)");
		goto out_close;
	}
	regular = S_ISREG(st.st_mode);
	large = regular && !is_stdin && (uint64_t)st.st_size >= PLAIN_MIN;
	if (regular && !large) {
		/* O_NONBLOCK does nothing to a regular file.  One byte more
		 * than the file, so that a file read whole is known to end. */
		ahead = (size_t)st.st_size + 1;
		n = read_ahead(fd, ahead, &own);
		if (n > 0)
			memcpy(peek, own, (size_t)SX_MIN(n, PEEK_LEN));
	} else {
		/* O_NONBLOCK kept open() of a FIFO from waiting for a writer
		 * forever (with none, the first read sees end of file); block
		 * from here on. */
		if (!regular)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		n = peek_bytes(fd, peek);
	}
	if (n < 0) {
		ret = (int)n;
		snprintf(msg, msglen, n == -ENOMEM ? "out of memory" : "read error: %s",
			 strerror((int)-n));
		goto out_close;
	}
	*npeek = (size_t)SX_MIN(n, PEEK_LEN);
	if (n == 0) {
		ret = SX_E_FORMAT;
		snprintf(msg, msglen, "%s",
			 regular ? "empty file (0 bytes), not a capture"
				 : "no data: empty input, or a FIFO with no writer");
		goto out_free;
	}
	if (n >= 2 && peek[0] == 0x1f && peek[1] == 0x8b)
		kind = SRC_GZIP;
	else if (n >= 4 && peek[0] == 0x28 && peek[1] == 0xb5 && peek[2] == 0x2f && peek[3] == 0xfd)
		kind = SRC_ZSTD;

	if (large && kind == SRC_RAW)
		/* one byte more than the file: the whole file in one read */
		return open_plain(fd, (size_t)SX_MIN((uint64_t)st.st_size + 1, (uint64_t)FILE_BUF),
				  fpp, bufp, msg, msglen);

	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		snprintf(msg, msglen, "out of memory");
		goto out_free;
	}
	s->fd = fd;
	s->regular = regular;
	if (own) {
		s->own = own;
		s->first = own;
		s->at_end = (size_t)n < ahead;
	} else {
		memcpy(s->peek, peek, (size_t)n);
		s->first = s->peek;
	}
	s->nfirst = (size_t)n;
	ret = source_init(s, kind);
	if (ret) {
		snprintf(msg, msglen, "out of memory");
		source_free(s);
		return ret;
	}
	fp = fopencookie(s, "rb", io);
	if (!fp) {
		ret = -errno;
		snprintf(msg, msglen, "cannot open stream: %s", strerror(errno));
		source_free(s);
		return ret;
	}
	/* One thread at a time reads a capture (reader.c hands it over, never
	 * shares it): libpcap's two freads per record need no stream lock. */
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
	/* A plain file's first block is the FILE's buffer: stdio's first
	 * refill asks for it into that very buffer, where it already is. */
	if (own && kind == SRC_RAW) {
		setvbuf(fp, (char *)own, _IOFBF, ahead);
		s->own = NULL;
		*bufp = (char *)own;
	} else {
		set_buffer(fp, FILE_BUF, bufp);
	}
	*fpp = fp;
	*srcp = s;
	return 0;

out_free:
	free(own);
out_close:
	if (!is_stdin)
		close(fd);
	return ret;
}

/* The format from the magic number libpcap accepted (the decompressed one). */
static enum sx_capture_format magic_format(const uint8_t m[PEEK_LEN])
{
	uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];

	switch (be) {
	case 0xa1b23c4d:
	case 0x4d3cb2a1:
		return SX_CAPTURE_PCAP_NSEC;
	case 0x0a0d0d0a:
		return SX_CAPTURE_PCAPNG;
	default: /* a1b2c3d4 either way round, or an old variant of it */
		return SX_CAPTURE_PCAP_USEC;
	}
}

int sx_capture_open(const char *path, const char *filter, struct sx_capture **out, char *msg,
		    size_t msglen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct sx_capture *cap;
	uint8_t peek[PEEK_LEN] = {0};
	size_t npeek = 0;
	struct source *src;
	char *iobuf;
	FILE *fp;
	int ret;

	*out = NULL;
	msg[0] = '\0';
	ret = open_stream(path, &fp, &src, peek, &npeek, &iobuf, msg, msglen);
	if (ret)
		return ret;
	cap = aligned_alloc(SX_CACHELINE, sizeof(*cap));
	if (cap)
		memset(cap, 0, sizeof(*cap));
	if (!cap) {
		fclose(fp);
		free(iobuf);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	cap->iobuf = iobuf;
	errbuf[0] = '\0';
	cap->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!cap->p) {
		if (src && src->msg[0])
			snprintf(msg, msglen, "%s", src->msg);
		else
			explain_pcap_error(msg, msglen, errbuf, peek, npeek, src);
		fclose(fp); /* libpcap leaves the FILE to us on failure */
		free(cap->iobuf);
		free(cap);
		return SX_E_FORMAT;
	}
	cap->src = src;
	cap->format = magic_format(src && src->kind != SRC_RAW ? src->head : peek);
	cap->dlt = pcap_datalink(cap->p);
	cap->l2 = sx_l2_from_dlt(cap->dlt);
	if (filter && *filter) {
		struct bpf_program prog;

		if (pcap_compile(cap->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(msg, msglen, "bad filter \"%s\": %s", filter, pcap_geterr(cap->p));
			sx_capture_close(cap);
			return SX_E_USAGE;
		}
		ret = pcap_setfilter(cap->p, &prog);
		pcap_freecode(&prog);
		if (ret < 0) {
			snprintf(msg, msglen, "cannot set filter: %s", pcap_geterr(cap->p));
			sx_capture_close(cap);
			return SX_E_PCAP;
		}
	}
	*out = cap;
	return 0;
}

int sx_capture_next_raw(struct sx_capture *cap, struct sx_raw_rec *rec)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	for (;;) {
		rc = pcap_next_ex(cap->p, &h, &data);
		if (rc == 1)
			break;
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc == 0) /* live-capture timeout; not for files */
			continue;
		if (cap->src && cap->src->msg[0])
			snprintf(cap->err, sizeof(cap->err), "%s (after %llu packets)",
				 cap->src->msg, (unsigned long long)cap->index);
		else
			snprintf(cap->err, sizeof(cap->err),
				 "damaged record after %llu packets: %s",
				 (unsigned long long)cap->index, pcap_geterr(cap->p));
		return SX_E_PCAP;
	}
	rec->data = data;
	rec->caplen = h->caplen;
	rec->wire_len = h->len;
	rec->ts_sec = h->ts.tv_sec;
	/* libpcap 1.10 reads a classic pcap's unsigned 32-bit seconds as signed:
	 * times after 2038-01-19 arrive negative.  No capture format stores
	 * times before 1970, so such values are taken back as unsigned. */
	if (rec->ts_sec < 0 && rec->ts_sec >= INT32_MIN)
		rec->ts_sec += (int64_t)1 << 32;
	rec->ts_nsec = (uint32_t)h->ts.tv_usec; /* nanoseconds: opened with NANO precision */
	rec->index = cap->index++;
	return 1;
}

static void capture_decode(const struct sx_capture *cap, const struct sx_raw_rec *rec,
			   struct sx_pkt *pkt, bool app)
{
	if (app)
		sx_decode_memo(pkt, cap->memo, cap->l2, rec->data, rec->caplen, rec->wire_len);
	else
		sx_decode_headers(pkt, cap->l2, rec->data, rec->caplen, rec->wire_len);
	pkt->ts_sec = rec->ts_sec;
	pkt->ts_nsec = rec->ts_nsec;
	pkt->index = rec->index;
}

void sx_capture_decode(const struct sx_capture *cap, const struct sx_raw_rec *rec,
		       struct sx_pkt *pkt)
{
	capture_decode(cap, rec, pkt, true);
}

void sx_capture_set_memo(struct sx_capture *cap, struct sx_app_memo *memo)
{
	cap->memo = memo;
}

int sx_capture_next(struct sx_capture *cap, struct sx_pkt *pkt)
{
	struct sx_raw_rec rec;
	int rc = sx_capture_next_raw(cap, &rec);

	if (rc == 1)
		capture_decode(cap, &rec, pkt, true);
	return rc;
}

int sx_capture_next_headers(struct sx_capture *cap, struct sx_pkt *pkt)
{
	struct sx_raw_rec rec;
	int rc = sx_capture_next_raw(cap, &rec);

	if (rc == 1)
		capture_decode(cap, &rec, pkt, false);
	return rc;
}

const char *sx_capture_error(const struct sx_capture *cap)
{
	return cap->err;
}

int sx_capture_dlt(const struct sx_capture *cap)
{
	return cap->dlt;
}

enum sx_capture_format sx_capture_format(const struct sx_capture *cap)
{
	return cap->format;
}

int sx_ingest_bpf_check(const char *filter, char *msg, size_t msglen)
{
	struct bpf_program prog;
	pcap_t *p;
	int ret = 0;

	if (!filter || !*filter)
		return 0;
	p = pcap_open_dead(DLT_EN10MB, 262144);
	if (!p)
		return -ENOMEM;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(msg, msglen, "%s", pcap_geterr(p));
		ret = SX_E_USAGE;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return ret;
}

void sx_capture_close(struct sx_capture *cap)
{
	if (!cap)
		return;
	pcap_close(cap->p); /* closes the FILE, hence the cookie and its source */
	free(cap->iobuf);
	free(cap);
}

const char *sx_ingest_pcap_version(void)
{
	return pcap_lib_version();
}
