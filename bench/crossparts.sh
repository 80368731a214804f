#!/bin/sh
# bench/crossparts.sh [BUILD] [KEEP] - bench/crossdevice.sh's mean split by
# what admits the other device's packets: the same runs (sigex batch over
# every IoT Sentinel device's setup captures, each profile replayed with
# sigex verify --stateless over every other device's captures, that device's
# address and MAC as self), with verify's hits per policy (--format csv)
# attributed to the kind of policy by bench/crossparts.py, and the mean
# split into same-vendor siblings, what every device on a LAN sends (DHCP,
# ARP with the gateway) and the rest.  Prints markdown; with KEEP, the
# profiles and the per-pair CSVs are copied there.
set -eu
. "$(dirname "$0")/sentinel-archive.sh"
"$sigex" batch "$tmp/archive" -o "$tmp/out" -q || [ $? -eq 3 ]
awk -F, 'NR > 1 && $NF == "ok" { split($8, ip, " "); print $1 "," ip[1] "," $9 }' \
	"$tmp/out/summary.csv" >"$tmp/ids"
while IFS=, read -r a _ _; do
	prof=$tmp/out/$a/default/profile.yaml
	[ -f "$prof" ] || continue
	mkdir -p "$tmp/cross/$a"
	while IFS=, read -r b ip mac; do
		[ "$b" = "$a" ] && continue
		"$sigex" verify "$prof" "$tmp/archive/$b/"*.pcap --stateless --ipv4 "$ip" \
			--ipv6 "$(eui64_ll "$mac")" --mac "$mac" --format csv -q >"$tmp/cross/$a/$b.csv"
	done <"$tmp/ids"
done <"$tmp/ids"
python3 "$here/bench/crossparts.py" "$tmp"
if [ $# -ge 2 ]; then
	mkdir -p "$2"
	cp -r "$tmp/out" "$tmp/cross" "$2/"
fi
