#!/bin/sh
# The include side of the layering: core <- ingest <- flows <- mine <- emit.
# Each module may include only its own headers and those of modules below
# it; only src/flows may include liburcu.
set -u
src=${1:?usage: check_layers.sh SRCDIR}
bad=0
check() {	# module, allowed module list
	mod=$1
	shift
	[ -d "$src/$mod" ] || return 0
	for f in "$src/$mod"/*.[ch]; do
		[ -e "$f" ] || continue
		grep -Eo '^#include "[a-z]+/' "$f" | sed 's/#include "//; s/\///' | sort -u |
		while read -r dep; do
			case " $* " in
			*" $dep "*) ;;
			*) echo "layering: $f includes $dep/"; echo x ;;
			esac
		done
	done
}
out=$( {
	check core core
	check ingest core ingest
	check flows core ingest flows
	check mine core ingest flows mine
	check emit core ingest flows mine emit
} )
if [ -n "$out" ]; then
	echo "$out" | grep -v '^x$'
	bad=1
fi
urcu=$(grep -rl '#include <urcu' "$src" | grep -v "^$src/flows/" || true)
if [ -n "$urcu" ]; then
	echo "liburcu included outside src/flows: $urcu"
	bad=1
fi
[ $bad -eq 0 ] && echo "layering ok"
exit $bad
