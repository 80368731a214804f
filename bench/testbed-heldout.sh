#!/usr/bin/env bash
# bench/testbed-heldout.sh [BUILD] - the held-out allow rate on the UCLouvain
# testbed (eval/latency): per device, the device's profile of two of its
# three runs (the main job with the scripted events, as bench/testbed.sh runs
# it: one interaction per event, merged) replayed with sigex verify over the
# third run's capture, with the firewall's rules alone and with the
# interactions' states, as the firewall runs them; beside it, the experts'
# own profile of the device (devices/<device>/profile.yaml) replayed over
# the same run.  Prints one row per fold and device, then the means over the
# folds (a markdown table).
set -euo pipefail
# shellcheck source=bench/testbed-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-common.sh"

# the capture points, addresses and anchored events testbed.sh picks
"$here/testbed.sh" --sigex "$sigex" --events anchored --keep "$tmp/tb" -o "$tmp/report.md" \
	>/dev/null 2>&1 || true

# "packets-pct flows-pct" of one replay
rates() {
	"$sigex" verify "$@" -q | awk '/^packets / { gsub(/[,%]/, " "); p = $4 }
		/^flows / { gsub(/[,%]/, " "); f = $4 } END { print p, f }'
}

echo "| device | held out | packets: rules | with states | flows: rules | with states | experts' profile: packets, flows (with states) |"
echo "|---|---|---|---|---|---|---|"
for d in "$tmp/tb"/*/; do
	[ -f "$d/meta.json" ] || continue
	dev=$(basename "$d")
	ip=$(meta "$d/meta.json" ipv4)
	mac=$(meta "$d/meta.json" mac)
	mapfile -t runs < <(python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["runs"]: print(r["run"] + "/" + r["capture"])' "$d/meta.json")
	[ ${#runs[@]} -eq 3 ] || continue
	for k in 0 1 2; do
		train=()
		for j in 0 1 2; do [ $j -ne $k ] && train+=("$lat/$dev/${runs[$j]}.pcap"); done
		out=$tmp/fold-$dev-$k
		"$sigex" "$dev" "$ip" "${train[@]}" --events "$d/events.csv" --mac "$mac" -o "$out" \
			-q >/dev/null 2>&1 || true
		[ -f "$out/profile.yaml" ] || continue
		held=$lat/$dev/${runs[$k]}.pcap
		read -r rp rf <<<"$(rates "$out/profile.yaml" "$held" --stateless --mac "$mac" --ipv4 "$ip")"
		read -r sp sf <<<"$(rates "$out/profile.yaml" "$held" --mac "$mac" --ipv4 "$ip")"
		read -r ep ef <<<"$(rates "$experts/$dev/profile.yaml" "$held")"
		echo "| $dev | ${runs[$k]} | $rp% | $sp% | $rf% | $sf% | $ep%, $ef% |"
	done
done | tee "$tmp/rows"
awk -F'|' '{ gsub(/[ %]/, ""); split($8, e, ","); rp += $4; sp += $5; rf += $6; sf += $7; ep += e[1]; ef += e[2]; n++ }
	END { if (n) printf "| **mean** (%d folds) | | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %.2f%%, %.2f%% |\n",
		n, rp / n, sp / n, rf / n, sf / n, ep / n, ef / n }' "$tmp/rows"
