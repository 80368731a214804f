/*
 * inflate.c - the length a deflate or gzip body inflates to, as Python's
 * zlib.decompress() and gzip.decompress() see it: a zlib stream ends at its
 * end (what follows is ignored); gzip members may follow one another,
 * separated by zero padding.  Only counts: the output goes to a stack
 * buffer and is thrown away.  zlib stays inside the ingest module.
 */
#include "ingest/ingest.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

long long sx_inflated_len(const uint8_t *in, size_t n, bool gzip)
{
	uint8_t out[16384];
	long long total = 0;
	z_stream z;
	int ret;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	for (;;) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		ret = inflate(&z, Z_NO_FLUSH);
		total += (long long)(sizeof(out) - z.avail_out);
		if (ret == Z_STREAM_END) {
			if (!gzip)
				break; /* zlib.decompress ignores what follows */
			/* gzip: zero padding, then end or another member */
			while (z.avail_in && *z.next_in == 0) {
				z.next_in++;
				z.avail_in--;
			}
			if (!z.avail_in)
				break;
			if (inflateReset(&z) != Z_OK) {
				total = -1;
				break;
			}
			continue;
		}
		if (ret != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
			total = -1; /* error, or the input ended inside the stream */
			break;
		}
	}
	inflateEnd(&z);
	return total;
}
