/*
 * yamlref.h - a sequence of YAML events written two ways, for the tests and
 * the fuzz target that hold sigex's YAML writer (yaml/ydoc.h) to libyaml's
 * emitter: through sx_yw, and through libyaml set up as the writer's
 * layouts say.  Events are plain data; the functions are stateless.
 */
#ifndef SX_TESTS_YAMLREF_H
#define SX_TESTS_YAMLREF_H

#include <stddef.h>

#include "yaml/ydoc.h"

enum sx_yref_type { SX_YREF_SCALAR, SX_YREF_SEQ, SX_YREF_SEQ_END, SX_YREF_MAP, SX_YREF_MAP_END };

struct sx_yref_ev {
	enum sx_yref_type type;
	int style;	   /* enum sx_ystyle */
	unsigned implicit; /* SX_YW_*_IMPLICIT, scalars */
	size_t len;	   /* of text, scalars */
	char text[400];
};

/*
 * The n events of ev written into *text (malloc'd, NUL-terminated: the
 * caller frees it) through sx_yw (sx_yref_writer) or libyaml
 * (sx_yref_libyaml), in layout.  Returns 0, or nonzero when the writer or
 * libyaml refused the events (*text then holds what was written, if
 * anything, or is NULL).  libyaml refuses here too the texts the writer
 * takes for not UTF-8 (sx_yw_is_utf8), surrogates and code points past
 * U+10FFFF included, whose escapes libyaml's emitter writes and its
 * parser refuses.
 */
int sx_yref_writer(const struct sx_yref_ev *ev, size_t n, enum sx_yw_layout layout, char **text);
int sx_yref_libyaml(const struct sx_yref_ev *ev, size_t n, enum sx_yw_layout layout, char **text);

#endif /* SX_TESTS_YAMLREF_H */
