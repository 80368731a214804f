#!/bin/sh
# libsigex.so exports exactly the functions include/sigex.h declares SX_API:
# no private symbol of a module leaks, none of the API is missing.
set -u
lib=${1:?usage: check_exports.sh LIBSIGEX.so SIGEX.h}
hdr=${2:?usage: check_exports.sh LIBSIGEX.so SIGEX.h}
want=$(sed -n 's/^SX_API .*[ *]\(sx_[a-z0-9_]*\)(.*/\1/p' "$hdr" | sort -u)
have=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
if [ -z "$want" ]; then
	echo "check_exports: no SX_API declaration found in $hdr"
	exit 1
fi
if [ "$want" != "$have" ]; then
	tmp=$(mktemp -d)
	printf '%s\n' "$want" >"$tmp/header"
	printf '%s\n' "$have" >"$tmp/library"
	echo "check_exports: libsigex.so exports differ from $hdr:"
	diff "$tmp/header" "$tmp/library"
	rm -rf "$tmp"
	exit 1
fi
echo "exports ok: $(printf '%s\n' "$have" | wc -l) symbols"
