/*
 * yaml_writer.h - a thin wrapper over libyaml's emitter with a latched
 * error.
 *
 * libyaml returns 1/0 and destroys an event even when emitting it fails;
 * this wrapper turns that into one latched error (SX_E_YAML with the
 * emitter's problem text, or the write error): after a failure every call
 * is a no-op, and the caller checks once, in sx_yw_close().  Strings are
 * copied by libyaml, so stack buffers are fine.  One writer per thread.
 *
 * Scalars: sx_yw_str() lets libyaml choose the style (plain when safe,
 * quoted otherwise), so text from the network can never add a key or break
 * the document; sx_yw_quoted() forces double quotes.
 */
#ifndef SX_YAML_YAML_WRITER_H
#define SX_YAML_YAML_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

struct sx_yw {
	yaml_emitter_t em;
	int err;	   /* 0 or the first error */
	char problem[256]; /* text of the first error */
	bool open;
};

/* Start a document on f (borrowed).  flow: inline style for collections. */
int sx_yw_open(struct sx_yw *w, FILE *f);
/* End the document and stream, flush; returns the latched error. */
int sx_yw_close(struct sx_yw *w);

void sx_yw_map_begin(struct sx_yw *w);
void sx_yw_map_begin_flow(struct sx_yw *w);
void sx_yw_map_end(struct sx_yw *w);
void sx_yw_seq_begin(struct sx_yw *w);
void sx_yw_seq_begin_flow(struct sx_yw *w);
void sx_yw_seq_end(struct sx_yw *w);
void sx_yw_str(struct sx_yw *w, const char *s);
void sx_yw_quoted(struct sx_yw *w, const char *s);
void sx_yw_u64(struct sx_yw *w, uint64_t v);
void sx_yw_i64(struct sx_yw *w, int64_t v);
void sx_yw_double(struct sx_yw *w, double v);
void sx_yw_bool(struct sx_yw *w, bool v);
/* A number already formatted by the caller (digits, '-', '.'), plain. */
void sx_yw_number(struct sx_yw *w, const char *text);
/* null, plain. */
void sx_yw_null(struct sx_yw *w);
/* key: value helpers for maps */
void sx_yw_kv_str(struct sx_yw *w, const char *k, const char *v);
void sx_yw_kv_u64(struct sx_yw *w, const char *k, uint64_t v);
void sx_yw_kv_i64(struct sx_yw *w, const char *k, int64_t v);
void sx_yw_kv_double(struct sx_yw *w, const char *k, double v);
void sx_yw_kv_bool(struct sx_yw *w, const char *k, bool v);

/* Whether PyYAML's resolver takes s, written plain, for a string (false
 * for "123", "1.5", "true", "null", "2024-01-01", "~", ""...).  Its
 * YAML 1.1 implicit resolvers are compiled once per process; thread-safe. */
bool sx_yw_plain_is_str(const char *s);

#endif /* SX_YAML_YAML_WRITER_H */
