/*
 * emit_upstream.h - profile.yaml of `--mode upstream`, as the reference tool
 * writes it with PyYAML's yaml.dump() (UPSTREAM.md §4.5, §4.6).
 *
 * Layout: block style, two-space indent, keys sorted, no "---"; scalars plain
 * unless PyYAML's resolver would read the plain text as something other than
 * a string (a number, a bool, null, a date...), then single-quoted, or
 * double-quoted when they need escapes; lines of plain text folded at 80
 * columns.  Written with libyaml's emitter (PyYAML's emitter is a port of
 * it and chooses scalar styles the same way); the resolver check is here.
 */
#ifndef SX_EMIT_EMIT_UPSTREAM_H
#define SX_EMIT_EMIT_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "mine/upstream.h"

/*
 * sx_emit_upstream_profile - write profile.yaml to f (borrowed).
 * @device:      the DEVICE argument (device-info.name)
 * @last_update: device-info.last-update, or NULL for the local time now in
 *               the reference's format
 * Returns 0, -EIO, -ENOMEM or SX_E_YAML (e.g. a device name that is not
 * UTF-8) with msg set.
 */
int sx_emit_upstream_profile(const struct sx_upstream_result *r, const char *device,
			     const char *last_update, FILE *f, char *msg, size_t msglen);

/* The same, into path through an atomic output file. */
int sx_emit_upstream_profile_file(const struct sx_upstream_result *r, const char *device,
				  const char *last_update, const char *path, char *msg,
				  size_t msglen);

/* t as the reference's last-update: "%a %d %b %Y, %I:%M%p", local time,
 * English names ("Thu 28 Nov 2024, 07:40AM"). */
void sx_emit_upstream_last_update(char *buf, size_t bufsz, time_t t);

/* Whether PyYAML's resolver takes s, written plain, for a string (false
 * for "123", "1.5", "true", "null", "2024-01-01", "~", ""...). */
bool sx_emit_pyyaml_plain_is_str(const char *s);

#endif /* SX_EMIT_EMIT_UPSTREAM_H */
