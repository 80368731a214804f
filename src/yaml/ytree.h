/*
 * ytree.h - a small YAML document tree, for the documents sigex reads back:
 * device.yaml (batch), signatures.yaml (check) and profile.yaml (batch's
 * per-device profile, made of its events' profiles).
 *
 * Loading is bounded and refuses what sigex never writes and a hostile file
 * could use against a naive walker: aliases (exponential expansion), more
 * than one document, NUL bytes in scalars, non-scalar mapping keys, nesting
 * deeper than the limit, more nodes than the limit.  A node remembers its
 * line and its style (plain or quoted scalar, block or flow collection), so
 * a tree written back with sx_ytree_emit() looks like the file it came from.
 *
 * A tree owns its nodes; nodes are plain data, read by any number of threads
 * once loaded.  Stateless functions; thread-safe.
 */
#ifndef SX_YTREE_H
#define SX_YTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sx_ytree_kind {
	SX_YTREE_SCALAR = 0,
	SX_YTREE_MAP,
	SX_YTREE_SEQ,
};

/* libyaml's version ("0.2.5"), of the library loaded at run time. */
const char *sx_yaml_version(void);

struct sx_ytree {
	uint8_t kind;		/* enum sx_ytree_kind */
	uint8_t style;		/* libyaml's scalar, mapping or sequence style */
	unsigned line;		/* 1-based line of the node's start */
	char *text;		/* SCALAR: the value, NUL-terminated, no NUL inside */
	size_t len;		/* SCALAR: strlen(text) */
	struct sx_ytree **kids; /* MAP: key, value, key, value...; SEQ: the items */
	size_t n;		/* kids used (twice the pairs for a MAP) */
	size_t cap;
};

struct sx_ytree_limits {
	unsigned max_depth; /* nesting of collections, at most SX_YTREE_DEPTH_MAX */
	size_t max_nodes;
	size_t max_scalar; /* bytes of one scalar */
};

#define SX_YTREE_DEPTH_MAX 64

/*
 * sx_ytree_parse - load the one YAML document held in data[0..len).
 * @lim:  bounds (NULL: depth 64, 4 Mi nodes, 1 MiB scalars)
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
/* Structural equality: kinds, scalar texts, kids in order (styles ignored). */
bool sx_ytree_equal(const struct sx_ytree *a, const struct sx_ytree *b);

/* New nodes for building a tree; NULL on -ENOMEM.  style 0: libyaml's
 * choice for a scalar, block for a collection. */
struct sx_ytree *sx_ytree_new(enum sx_ytree_kind kind, const char *text, int style);
/* A deep copy; NULL on -ENOMEM. */
struct sx_ytree *sx_ytree_dup(const struct sx_ytree *t);
/* Append kid to a MAP or SEQ.  Takes ownership of kid, also on failure.
 * 0 or -ENOMEM. */
int sx_ytree_append(struct sx_ytree *t, struct sx_ytree *kid);

/*
 * sx_ytree_emit - write t as a YAML document to f (borrowed), in each node's
 * recorded style, with sigex's emitter settings (2-space indent, no line
 * width, ASCII escapes).  Returns 0, -EIO or SX_E_YAML (msg set).
 */
int sx_ytree_emit(FILE *f, const struct sx_ytree *t, char *msg, size_t msglen);

#endif /* SX_YTREE_H */
