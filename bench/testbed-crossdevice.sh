#!/usr/bin/env bash
# bench/testbed-crossdevice.sh [BUILD] - crossdevice.sh on the UCLouvain
# testbed (eval/latency): every device's profile (the main job over its three
# runs with the scripted events, as bench/testbed.sh writes it) replayed with
# the firewall's rules (sigex verify --stateless) over every other device's
# three captures, that device's IPv4 address and MAC standing in for "self";
# beside it, the experts' own profile of the device (devices/*/profile.yaml)
# over the same captures.  Prints one row per device (the mean over the other
# devices of the share of their packets admitted), then the means: how broad
# the profiles are, where the held-out rate (testbed-heldout.sh) says how
# complete.
set -euo pipefail
# shellcheck source=bench/testbed-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-common.sh"

"$here/testbed.sh" --sigex "$sigex" --events relative --keep "$tmp/tb" -o "$tmp/report.md" \
	>/dev/null 2>&1 || true

captures() {
	python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["runs"]: print(sys.argv[2] + "/" + r["run"] + "/" + r["capture"] + ".pcap")' \
		"$1" "$2"
}
# the share of packets profile $1 admits of device $2's captures
admitted() {
	local ip mac
	ip=$(meta "$tmp/tb/$2/meta.json" ipv4)
	mac=$(meta "$tmp/tb/$2/meta.json" mac)
	mapfile -t caps < <(captures "$tmp/tb/$2/meta.json" "$lat/$2")
	"$sigex" verify "$1" "${caps[@]}" --stateless --ipv4 "$ip" --mac "$mac" -q |
		awk '/^packets / { gsub(/[,%]/, " "); print $4; exit }'
}

echo "| profile of | other devices | sigex: admitted (mean over them) | experts' profile |"
echo "|---|---|---|---|"
for a in "$tmp/tb"/*/; do
	a=$(basename "$a")
	[ -f "$tmp/tb/$a/sigex/profile.yaml" ] || continue
	s=0 e=0 n=0
	for b in "$tmp/tb"/*/; do
		b=$(basename "$b")
		[ "$a" = "$b" ] && continue
		[ -f "$tmp/tb/$b/meta.json" ] || continue
		s=$(awk -v s="$s" -v x="$(admitted "$tmp/tb/$a/sigex/profile.yaml" "$b")" 'BEGIN { print s + x }')
		e=$(awk -v s="$e" -v x="$(admitted "$experts/$a/profile.yaml" "$b")" 'BEGIN { print s + x }')
		n=$((n + 1))
	done
	awk -v a="$a" -v n="$n" -v s="$s" -v e="$e" \
		'BEGIN { printf "| %s | %d | %.2f%% | %.2f%% |\n", a, n, s / n, e / n }'
done | tee "$tmp/rows"
awk -F'|' '{ gsub(/[ %]/, ""); s += $4; e += $5; n++ }
	END { if (n) printf "| **mean** (%d profiles) | | %.2f%% | %.2f%% |\n", n, s / n, e / n }' "$tmp/rows"
