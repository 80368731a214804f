#!/bin/sh
# bench/crossdevice.sh [BUILD] - how much of another device's traffic a
# device's profile admits: every IoT Sentinel device's profile (sigex batch
# over all its setup captures, the address and MAC inferred) replayed with
# the firewall's rules (sigex verify --stateless) over every other device's
# captures, with that device's own addresses (its IPv4, and the link-local
# IPv6 address its MAC makes) and MAC standing in for "self",
# as if the other device had taken this one's place behind the firewall.
# Prints one SUMMARY line per profile (the mean over the other devices of
# the share of their packets allowed) and a markdown table for
# bench/README.md; the last line is the mean over the profiles.
# STATELESS= (empty) replays with the interactions' states as well, as the
# firewall runs (default: the rules alone, --stateless).
set -eu
. "$(dirname "$0")/sentinel-archive.sh"
# sigex batch exits 3 when some unit fails; the profiles of the others count
"$sigex" batch "$tmp/archive" -o "$tmp/out" -q || [ $? -eq 3 ]
# device,ipv4,mac of every device whose unit succeeded
# (a device whose address changed lists them all: the first is its own;
# verify matches the device by its MAC anyway)
awk -F, 'NR > 1 && $NF == "ok" { split($8, ip, " "); print $1 "," ip[1] "," $9 }' \
	"$tmp/out/summary.csv" >"$tmp/ids"
echo "| profile of | other devices | their packets | admitted (mean over them) | most admitted |"
echo "|---|---|---|---|---|"
while IFS=, read -r a _ _; do
	prof=$tmp/out/$a/default/profile.yaml
	[ -f "$prof" ] || continue
	while IFS=, read -r b ip mac; do
		[ "$b" = "$a" ] && continue
		"$sigex" verify "$prof" "$tmp/archive/$b/"*.pcap ${STATELESS---stateless} --ipv4 "$ip" \
			--ipv6 "$(eui64_ll "$mac")" --mac "$mac" -q |
			awk -v b="$b" '/^packets / { gsub(/[,%]/, " "); print b, $2, $4; exit }'
	done <"$tmp/ids" >"$tmp/cross-$a"
	awk -v a="$a" '{ n++; pk += $2; s += $3; if ($3 > mx) { mx = $3; who = $1 } }
	END {
		printf "SUMMARY crossdevice %s others=%d packets=%d admitted=%.2f%% max=%.1f%%(%s)\n", a, n, pk, s / n, mx, who > "/dev/stderr"
		printf "| %s | %d | %d | %.2f%% | %.1f%% (%s) |\n", a, n, pk, s / n, mx, who
	}' "$tmp/cross-$a"
done <"$tmp/ids" | tee "$tmp/table"
awk -F'|' '{ gsub(/[ %]/, "", $5); s += $5; n++ } END { printf "mean over %d profiles: %.2f%% of another device'"'"'s packets admitted\n", n, s / n }' "$tmp/table"
