/*
 * ydoc.h - PUBLIC API of the yaml module: the one YAML writer and the
 * bounded YAML tree.  The only header of sigex over libyaml, which no other
 * module includes: styles are the module's own enum, numbered as libyaml's.
 *
 * The writer (struct sx_yw, yaml_writer.c) writes what libyaml's emitter
 * writes for the same events, byte for byte (its own code, for speed; the
 * tests hold it to libyaml's bytes), with a latched error: SX_E_YAML with
 * the problem's text (events out of order, a text that is not UTF-8),
 * -ENOMEM, or -EIO for the write error; after a failure every call is a
 * no-op, and the caller checks once, in sx_yw_close().  A scalar's text is
 * written before the call returns, so stack buffers are fine.  One writer
 * per thread.  Two layouts: sigex's own files (2-space indent, ASCII
 * escapes, no line folding) and PyYAML's yaml.dump() (the same but
 * scalars folded at 80 columns), for --mode upstream's byte-for-byte
 * profile.yaml.
 *
 * Scalars: sx_yw_str() lets the writer choose the style (plain when safe,
 * quoted otherwise), so text from the network can never add a key or break
 * the document; sx_yw_quoted() forces double quotes; sx_yw_py_str() writes a
 * str as PyYAML represents it (plain only where PyYAML's resolver reads the
 * plain text back as a str); sx_yw_scalar() gives the style and the implicit
 * flags outright.
 *
 * The tree (struct sx_ytree, ytree.c) is for the documents sigex reads
 * back: device.yaml (batch), signatures.yaml (check) and profile.yaml
 * (batch's per-device profile, made of its events' profiles).  Loading is
 * bounded and refuses what sigex never writes and a hostile file could use
 * against a naive walker: aliases (exponential expansion), more than one
 * document, NUL bytes in scalars, non-scalar mapping keys, nesting deeper
 * than the limit, more nodes than the limit.  A node remembers its line and
 * its style (plain or quoted scalar, block or flow collection), so a tree
 * written back with sx_ytree_emit() looks like the file it came from.  A
 * tree owns its nodes; nodes are plain data, read by any number of threads
 * once loaded.  Stateless functions; thread-safe.
 */
#ifndef SX_YAML_YDOC_H
#define SX_YAML_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Node styles, numbered as libyaml numbers them (ytree.c checks). */
enum sx_ystyle {
	SX_YSTYLE_ANY = 0, /* the emitter's choice */
	/* scalars */
	SX_YSTYLE_PLAIN = 1,
	SX_YSTYLE_SINGLE_QUOTED = 2,
	SX_YSTYLE_DOUBLE_QUOTED = 3,
	SX_YSTYLE_LITERAL = 4,
	SX_YSTYLE_FOLDED = 5,
	/* mappings and sequences */
	SX_YSTYLE_BLOCK = 1,
	SX_YSTYLE_FLOW = 2,
};

/* ---- the writer ---- */

struct sx_yw_emitter;

struct sx_yw {
	struct sx_yw_emitter *em; /* the emitter's state, owned from open to close */
	int err;		  /* 0 or the first error */
	char problem[256];	  /* text of the first error */
	bool open;
};

enum sx_yw_layout {
	SX_YW_SIGEX = 0, /* sigex's files: no line folding */
	SX_YW_PYYAML,	 /* yaml.dump(): plain scalars folded at 80 columns */
};

/*
 * sx_yw_open - start a stream and a document on f (borrowed; must outlive
 * the writer).  Returns the latched error (0, -ENOMEM); sx_yw_close() must
 * be called in every case.
 */
int sx_yw_open(struct sx_yw *w, FILE *f, enum sx_yw_layout layout);
/* End the document, write what is buffered to f, free the emitter's state;
 * returns the latched error. */
int sx_yw_close(struct sx_yw *w);

void sx_yw_map_begin(struct sx_yw *w);
void sx_yw_map_begin_flow(struct sx_yw *w);
void sx_yw_map_begin_style(struct sx_yw *w, enum sx_ystyle style);
void sx_yw_map_end(struct sx_yw *w);
void sx_yw_seq_begin(struct sx_yw *w);
void sx_yw_seq_begin_flow(struct sx_yw *w);
void sx_yw_seq_begin_style(struct sx_yw *w, enum sx_ystyle style);
void sx_yw_seq_end(struct sx_yw *w);

/* The implicit flags of a scalar event: whether its plain (resp. quoted)
 * form needs no tag.  0: the scalar is written with its tag (!!str). */
#define SX_YW_PLAIN_IMPLICIT  1u
#define SX_YW_QUOTED_IMPLICIT 2u

/* A scalar of len bytes of s, in style, with the implicit flags. */
void sx_yw_scalar(struct sx_yw *w, const char *s, size_t len, enum sx_ystyle style,
		  unsigned implicit);
void sx_yw_str(struct sx_yw *w, const char *s);
void sx_yw_quoted(struct sx_yw *w, const char *s);
/* A str as PyYAML represents it: plain when sx_yw_plain_is_str(s), else
 * quoted (single quotes, or double when escapes are needed). */
void sx_yw_py_str(struct sx_yw *w, const char *s);
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

/* Whether len bytes of s are well-formed UTF-8 (the shortest form, at most
 * U+10FFFF, no surrogates): a text that is not makes the writer fail with
 * SX_E_YAML.  (libyaml's emitter also takes surrogates and code points past
 * U+10FFFF, and writes escapes its own parser refuses.)  Stateless;
 * thread-safe. */
bool sx_yw_is_utf8(const char *s, size_t len);

/* Whether PyYAML's resolver takes s, written plain, for a string (false
 * for "123", "1.5", "true", "null", "2024-01-01", "~", ""...).  Its
 * YAML 1.1 implicit resolvers are compiled once per process; thread-safe. */
bool sx_yw_plain_is_str(const char *s);

/* ---- the bounded tree ---- */

/* libyaml's version ("0.2.5"), of the library loaded at run time. */
const char *sx_yaml_version(void);

enum sx_ytree_kind {
	SX_YTREE_SCALAR = 0,
	SX_YTREE_MAP,
	SX_YTREE_SEQ,
};

struct sx_ytree {
	uint8_t kind;		/* enum sx_ytree_kind */
	uint8_t style;		/* enum sx_ystyle: the scalar's or collection's */
	unsigned line;		/* 1-based line of the node's start */
	char *text;		/* SCALAR: the value, NUL-terminated, no NUL inside */
	size_t len;		/* SCALAR: strlen(text) */
	struct sx_ytree **kids; /* MAP: key, value, key, value...; SEQ: the items */
	size_t n;		/* kids used (twice the pairs for a MAP) */
	size_t cap;
	char *tag; /* the node's local tag as written ("!include"), NULL when none */
};

struct sx_ytree_limits {
	unsigned max_depth; /* nesting of collections, at most SX_YTREE_DEPTH_MAX */
	size_t max_nodes;
	size_t max_scalar; /* bytes of one scalar */
	/* Resolve aliases (*name) to copies of their anchored nodes, each copy's
	 * nodes counted against max_nodes; refused when false. */
	bool aliases;
};

#define SX_YTREE_DEPTH_MAX 64

/*
 * sx_ytree_parse - load the one YAML document held in data[0..len).
 * @lim:  bounds (NULL: depth 64, 4 Mi nodes, 1 MiB scalars, no aliases)
 * @out:  receives the root (caller frees with sx_ytree_free()), NULL for an
 *        empty document
 * Returns 0, SX_E_FORMAT with "line N: cause" in msg, or -ENOMEM.
 */
int sx_ytree_parse(const char *data, size_t len, const struct sx_ytree_limits *lim,
		   struct sx_ytree **out, char *msg, size_t msglen);

/* sx_ytree_load - the same from a file; -errno (msg set) when unreadable.
 * max_bytes bounds the file's size (-EFBIG beyond). */
int sx_ytree_load(const char *path, size_t max_bytes, const struct sx_ytree_limits *lim,
		  struct sx_ytree **out, char *msg, size_t msglen);

void sx_ytree_free(struct sx_ytree *t);

/* The value of key in a MAP (first match), NULL when absent or t is not a MAP. */
const struct sx_ytree *sx_ytree_get(const struct sx_ytree *t, const char *key);
/* A SCALAR's text, NULL for anything else. */
const char *sx_ytree_str(const struct sx_ytree *t);
/* A plain scalar spelled as YAML's null ("", "~", "null", "Null", "NULL"). */
bool sx_ytree_is_null(const struct sx_ytree *t);
/* Structural equality: kinds, scalar texts, kids in order (styles and tags
 * ignored). */
bool sx_ytree_equal(const struct sx_ytree *a, const struct sx_ytree *b);

/* New nodes for building a tree; NULL on -ENOMEM.  style: an enum
 * sx_ystyle, SX_YSTYLE_ANY for the writer's choice of a scalar's style and
 * block for a collection. */
struct sx_ytree *sx_ytree_new(enum sx_ytree_kind kind, const char *text, int style);
/* A deep copy, tags included; NULL on -ENOMEM. */
struct sx_ytree *sx_ytree_dup(const struct sx_ytree *t);
/* A SCALAR's text replaced by a copy of text (its style kept).  0, or
 * -ENOMEM with t unchanged. */
int sx_ytree_set_text(struct sx_ytree *t, const char *text);
/* Append kid to a MAP or SEQ.  Takes ownership of kid, also on failure.
 * 0 or -ENOMEM. */
int sx_ytree_append(struct sx_ytree *t, struct sx_ytree *kid);
/* Remove (and free) the pair whose key is kids[i] of a MAP; i even, < n. */
void sx_ytree_map_remove(struct sx_ytree *map, size_t i);

/*
 * sx_ytree_emit - write t as a YAML document to f (borrowed), in each node's
 * recorded style, through the writer below in its SX_YW_SIGEX layout.
 * Returns 0, -ENOMEM, -EIO or SX_E_YAML (msg set).
 */
int sx_ytree_emit(FILE *f, const struct sx_ytree *t, char *msg, size_t msglen);

#endif /* SX_YAML_YDOC_H */
