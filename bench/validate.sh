#!/bin/sh
# bench/validate.sh [BUILD] - the held-out allow rate (sigex batch --validate)
# of every IoT Sentinel device: the captures of each device as a batch
# archive (links in a temporary directory), leave-one-out folds, each fold's
# profile replayed over its held-out capture with the firewall's rules.
# Prints one SUMMARY line per device and a markdown table for bench/README.md.
set -eu
. "$(dirname "$0")/sentinel-archive.sh"
"$sigex" batch "$tmp/archive" -o "$tmp/out" --validate -q
echo "| device | captures | held-out packets | allowed (rules) | allowed (states) | flows | allowed (rules) | allowed (states) |"
echo "|---|---|---|---|---|---|---|---|"
for d in "$tmp/out"/*/; do
	n=$(basename "$d")
	p=$d/default/pattern.txt
	[ -f "$p" ] || continue
	awk -v n="$n" '
	/^Validation:/ { caps = $4 }
	/^  packets / { gsub(/[,%()]/, " "); pk = $2; pa = $4; ps = $9 }
	/^  flows / { gsub(/[,%()]/, " "); fl = $2; fa = $4; fs = $9
		printf "SUMMARY validate %s captures=%s packets=%s allowed=%s%% states=%s%% flows=%s allowed=%s%% states=%s%%\n", n, caps, pk, pa, ps, fl, fa, fs > "/dev/stderr"
		printf "| %s | %s | %s | %s%% | %s%% | %s | %s%% | %s%% |\n", n, caps, pk, pa, ps, fl, fa, fs }' "$p"
done
