/*
 * fuzz_yaml_writer.c - libFuzzer target: sigex's YAML writer held to
 * libyaml's emitter.  The input is read as a document of nested block and
 * flow collections and scalars (their styles, implicit flags and bytes
 * from the input, valid UTF-8 or not); both write it in the layout the
 * first byte picks, and both must write the same bytes or both refuse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "support/yamlref.h"

#define MAX_EVENTS 256
#define MAX_DEPTH  24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void scalar(struct input *in, struct sx_yref_ev *e)
{
	static const unsigned implicits[] = {3, 3, 3, 1, 2, 0};
	unsigned b = take(in);

	e->type = SX_YREF_SCALAR;
	e->style = (int)(b % 6);
	e->implicit = implicits[(b / 6) % 6];
	e->len = take(in) % 160;
	if (e->len > in->n)
		e->len = in->n;
	memcpy(e->text, in->p, e->len);
	in->p += e->len;
	in->n -= e->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sx_yref_ev ev[MAX_EVENTS + 2 * MAX_DEPTH + 2];
	struct input in = {data, size};
	enum sx_yref_type open[MAX_DEPTH];
	size_t items[MAX_DEPTH], depth = 0, n = 0;
	enum sx_yw_layout layout = take(&in) & 1 ? SX_YW_PYYAML : SX_YW_SIGEX;
	char *mine = NULL, *theirs = NULL;
	int my_err, their_err;

	do {
		unsigned op = take(&in) % 8;
		struct sx_yref_ev *e = &ev[n];

		if (op >= 6 && depth) {
			/* a mapping waiting for a value gets one first */
			if (open[depth - 1] == SX_YREF_MAP && items[depth - 1] % 2) {
				scalar(&in, e);
				e = &ev[++n];
			}
			depth--;
			e->type = open[depth] == SX_YREF_MAP ? SX_YREF_MAP_END : SX_YREF_SEQ_END;
		} else if (op >= 4 && depth < MAX_DEPTH) {
			e->type = op == 4 ? SX_YREF_SEQ : SX_YREF_MAP;
			e->style = (int)(take(&in) % 3); /* any, block, flow */
			if (depth)
				items[depth - 1]++;
			open[depth] = e->type;
			items[depth++] = 0;
		} else {
			scalar(&in, e);
			if (depth)
				items[depth - 1]++;
		}
		n++;
	} while (depth && in.n && n < MAX_EVENTS);
	while (depth) {
		if (open[depth - 1] == SX_YREF_MAP && items[depth - 1] % 2)
			scalar(&in, &ev[n++]);
		depth--;
		ev[n++].type = open[depth] == SX_YREF_MAP ? SX_YREF_MAP_END : SX_YREF_SEQ_END;
	}
	my_err = sx_yref_writer(ev, n, layout, &mine);
	their_err = sx_yref_libyaml(ev, n, layout, &theirs);
	if ((my_err != 0) != (their_err != 0) ||
	    (!my_err && strcmp(mine ? mine : "", theirs ? theirs : "") != 0))
		abort();
	free(mine);
	free(theirs);
	return 0;
}
