/*
 * yamlref.c - the same YAML events through sigex's writer and through
 * libyaml's emitter (see yamlref.h).
 */
#include "support/yamlref.h"

#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

int sx_yref_writer(const struct sx_yref_ev *ev, size_t n, enum sx_yw_layout layout, char **text)
{
	size_t len, i;
	FILE *f = open_memstream(text, &len);
	struct sx_yw w;
	int ret;

	if (!f)
		return -1;
	sx_yw_open(&w, f, layout);
	for (i = 0; i < n; i++) {
		const struct sx_yref_ev *e = &ev[i];

		switch (e->type) {
		case SX_YREF_SCALAR:
			sx_yw_scalar(&w, e->text, e->len, (enum sx_ystyle)e->style, e->implicit);
			break;
		case SX_YREF_SEQ:
			sx_yw_seq_begin_style(&w, (enum sx_ystyle)e->style);
			break;
		case SX_YREF_SEQ_END:
			sx_yw_seq_end(&w);
			break;
		case SX_YREF_MAP:
			sx_yw_map_begin_style(&w, (enum sx_ystyle)e->style);
			break;
		case SX_YREF_MAP_END:
			sx_yw_map_end(&w);
			break;
		}
	}
	ret = sx_yw_close(&w);
	fclose(f);
	return ret;
}

/* One event of ev initialised as libyaml's. */
static int init(yaml_event_t *y, const struct sx_yref_ev *e)
{
	switch (e->type) {
	case SX_YREF_SCALAR:
		return yaml_scalar_event_initialize(
		    y, NULL, NULL, (yaml_char_t *)e->text, (int)e->len,
		    (e->implicit & SX_YW_PLAIN_IMPLICIT) != 0,
		    (e->implicit & SX_YW_QUOTED_IMPLICIT) != 0, (yaml_scalar_style_t)e->style);
	case SX_YREF_SEQ:
		return yaml_sequence_start_event_initialize(y, NULL, NULL, 1,
							    (yaml_sequence_style_t)e->style);
	case SX_YREF_SEQ_END:
		return yaml_sequence_end_event_initialize(y);
	case SX_YREF_MAP:
		return yaml_mapping_start_event_initialize(y, NULL, NULL, 1,
							   (yaml_mapping_style_t)e->style);
	case SX_YREF_MAP_END:
		return yaml_mapping_end_event_initialize(y);
	}
	return 0;
}

int sx_yref_libyaml(const struct sx_yref_ev *ev, size_t n, enum sx_yw_layout layout, char **text)
{
	yaml_emitter_t em;
	yaml_event_t y;
	size_t len, i;
	FILE *f;
	int ok;

	/* libyaml's emitter takes a surrogate or a code point past U+10FFFF
	 * and writes its escape, which its own parser refuses ("found invalid
	 * Unicode character escape code"); the writer refuses such a text as
	 * not UTF-8, and so does the reference */
	for (i = 0; i < n; i++)
		if (ev[i].type == SX_YREF_SCALAR && !sx_yw_is_utf8(ev[i].text, ev[i].len))
			return -1;
	f = open_memstream(text, &len);
	if (!f)
		return -1;
	if (!yaml_emitter_initialize(&em)) {
		fclose(f);
		return -1;
	}
	/* as the writer's layouts are described in ydoc.h */
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 0);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_width(&em, layout == SX_YW_PYYAML ? 80 : -1);
	yaml_emitter_set_break(&em, YAML_LN_BREAK);
	ok = yaml_stream_start_event_initialize(&y, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&em, &y);
	ok = ok && yaml_document_start_event_initialize(&y, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&em, &y);
	for (i = 0; ok && i < n; i++)
		ok = init(&y, &ev[i]) && yaml_emitter_emit(&em, &y);
	ok = ok && yaml_document_end_event_initialize(&y, 1) && yaml_emitter_emit(&em, &y);
	ok = ok && yaml_stream_end_event_initialize(&y) && yaml_emitter_emit(&em, &y);
	ok = ok && yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
	fclose(f);
	return ok ? 0 : -1;
}
