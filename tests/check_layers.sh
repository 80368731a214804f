#!/bin/sh
# The include side of the link graph (src/CMakeLists.txt draws it): every
# folder of src/ is a module, and a module may include only its own headers
# and those of the modules below it.  A folder missing from the table below
# fails the check, so a new module has to take its place in the graph.
set -u
src=${1:?usage: check_layers.sh SRCDIR}
bad=0

allowed() {	# module -> the modules it may include
	case $1 in
	core) echo core ;;
	yaml) echo core yaml ;;
	ingest) echo core ingest ;;
	flows) echo core ingest flows ;;
	mine) echo core ingest flows mine ;;
	emit) echo core yaml ingest flows mine emit ;;
	api) echo core yaml ingest flows mine emit verify detect api ;;
	upstream) echo core yaml ingest flows mine upstream ;;
	batch) echo core yaml ingest flows mine emit api batch ;;
	check) echo core yaml check ;;
	verify) echo core yaml ingest verify ;;
	detect) echo core yaml ingest flows detect ;;
	cli) echo core yaml ingest flows mine emit api upstream batch check verify detect cli ;;
	*) return 1 ;;
	esac
}

for dir in "$src"/*/; do
	mod=$(basename "$dir")
	if ! ok=$(allowed "$mod"); then
		echo "layering: $src/$mod is not a module of the graph"
		bad=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		[ -e "$f" ] || continue
		for dep in $(grep -Eo '^#include "[a-z]+/' "$f" | sed 's/#include "//; s/\///' | sort -u); do
			case " $ok " in
			*" $dep "*) ;;
			*)
				echo "layering: $f includes $dep/"
				bad=1
				;;
			esac
		done
	done
done
for f in "$src"/*.[ch]; do
	[ -e "$f" ] || continue
	echo "layering: $f is outside every module"
	bad=1
done

# A library's headers belong to the one module that wraps it.
confine() {	# pattern, module
	hits=$(grep -rlE "^#include <$1" "$src" | grep -v "^$src/$2/" || true)
	if [ -n "$hits" ]; then
		echo "layering: <$1...> included outside src/$2:" $hits
		bad=1
	fi
}
confine 'urcu' flows
confine 'yaml.h' yaml
confine 'pcap' ingest
confine 'zlib.h' ingest
confine 'zstd.h' ingest

[ $bad -eq 0 ] && echo "layering ok"
exit $bad
