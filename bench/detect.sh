#!/usr/bin/env bash
# bench/detect.sh - how well `sigex detect` recognises events (bench/README.md):
#
#   sentinel  IoT Sentinel (../shared/corpora): per device, leave-one-out over
#             its setup captures (mined from the others, detected on the one
#             left out): recall; and the device's signature (mined from all
#             its captures) over every other device's captures with that
#             device's address as --device: false detections per hour
#             of traffic, and per device-day (each signature's own
#             exposure: the hours of the captures it watched).
#   testbed   the UCLouvain testbed (eval/latency): per device, each scripted
#             event mined on two runs and detected on the third (three
#             folds), scored with the scripted times moved by the run's
#             anchor shift (bench/testbed.sh --events anchored): recall,
#             precision, false detections per hour, per event and overall.
#   pingpong  PingPong's TP-Link plug traces: ON (mined from the local and
#             remote ON traces) and OFF (the local OFF trace) told apart.
#
# Usage: bench/detect.sh [BUILD] [sentinel|testbed|pingpong]...   (default: all)
# FRACTIONS="0.75 1" (environment): the --min-fraction values measured.
# LEAD=S (environment, testbed): mine from windows opened S seconds before
#   the scripted times (default 2: the commands come up to a second before
#   them); detections are scored against the script's times.  DURATION=S:
#   the windows' length, mined and detected (default 40: reactions come up
#   to 35 s after the script's time).  DETECT_OPTS: more options of sigex
#   detect (testbed: --sure, --no-contrast, --margin F).  KEEP=DIR
#   (testbed): keep each device's events and meta.json (DIR/tb) and each
#   fold's signatures, detections and scores (DIR/tbf/<device>/<fold>) for
#   a closer look.
# Prints one line per device and a summary line per part.
set -euo pipefail
# arithmetic on decimals (awk: no bc needed)
calc() { awk "BEGIN { printf \"%.12g\\n\", $1 }"; }
build=${1:-build}
[ $# -gt 0 ] && shift
parts=${*:-sentinel testbed pingpong}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/sentinel-archive.sh" "$build"
pingpong=$here/../shared/corpora/uci-plrg+pingpong/Code/Projects/PacketLevelSignatureExtractor/pcap

# The detections (rows) of a CSV.
rows() { tail -n +2 "$1" | grep -c . || true; }

# Each device's captures, its address (summary.csv of sigex batch), and its
# leave-one-out signatures in $tmp/loo/<device>/<i>/ (mined once).
sentinel_mine() {
	"$sigex" batch "$tmp/archive" -o "$tmp/all" -q >/dev/null 2>&1 || true
	local dev ip caps i n
	while IFS=, read -r dev _ _ _ _ _ _ ip _; do
		[ "$dev" = device ] && continue
		echo "$dev ${ip// /,}" >>"$tmp/devices"
		mkdir -p "$tmp/sigs/$dev"
		cp "$tmp/all/$dev/default/signatures.yaml" "$tmp/sigs/$dev/" 2>/dev/null || true
		caps=("$tmp/archive/$dev"/*.pcap)
		n=${#caps[@]}
		for ((i = 0; i < n; i++)); do
			others=("${caps[@]:0:$i}" "${caps[@]:$((i + 1))}")
			"$sigex" "$dev" "${ip%% *}" "${others[@]}" -q -o "$tmp/loo/$dev/$i" >/dev/null 2>&1 ||
				true
		done
	done <"$tmp/all/summary.csv"
}

# Recall and false detections at one --min-fraction.
sentinel_score() {
	local f=$1 dev ip caps c i n hit tot_hit=0 tot_n=0 extra tot_extra=0 line
	echo "--min-fraction $f"
	printf '%-20s %5s %6s %7s %6s\n' device held detected recall extra
	while read -r dev ip; do
		caps=("$tmp/archive/$dev"/*.pcap)
		n=${#caps[@]}
		hit=0
		extra=0
		for ((i = 0; i < n; i++)); do
			c=${caps[$i]}
			[ -f "$tmp/loo/$dev/$i/signatures.yaml" ] || continue
			# a device whose address changed between captures (EdnetCam1):
			# detected at any of its addresses
			line=0
			for a in ${ip//,/ }; do
				"$sigex" detect "$tmp/loo/$dev/$i/signatures.yaml" "$c" --device "$a" -q \
					--min-fraction "$f" -o "$tmp/det.csv" >/dev/null 2>&1 || continue
				[ "$(rows "$tmp/det.csv")" -gt "$line" ] && line=$(rows "$tmp/det.csv")
			done
			[ "$line" -gt 0 ] && hit=$((hit + 1))
			[ "$line" -gt 1 ] && extra=$((extra + line - 1))
		done
		tot_hit=$((tot_hit + hit))
		tot_n=$((tot_n + n))
		tot_extra=$((tot_extra + extra))
		printf '%-20s %5d %6d %7.3f %6d\n' "$dev" "$n" "$hit" \
			"$(calc "$hit / $n")" "$extra"
	done <"$tmp/devices"
	printf 'sentinel leave-one-out: %d of %d setups detected, recall %.3f, %d extra detections\n' \
		"$tot_hit" "$tot_n" "$(calc "$tot_hit / $tot_n")" "$tot_extra"

	# Every signature over every other device's captures, as that device.
	local sigs=() d other oip secs false tot_false=0 tot_secs=0 who
	local -A own_secs=() fired=()
	printf '%-20s %7s %6s %9s  %s\n' "captures of" hours false false/h "signatures that fired"
	while read -r other oip; do
		sigs=()
		# (its first address: its other ones are other devices' in this lab)
		for d in "$tmp/sigs"/*/signatures.yaml; do
			[ "$(basename "$(dirname "$d")")" = "$other" ] && continue
			sigs+=("$d")
		done
		"$sigex" detect "${sigs[@]}" "$tmp/archive/$other"/*.pcap --device "${oip%%,*}" -q \
			--min-fraction "$f" -o "$tmp/x.csv" >/dev/null 2>&1 || true
		false=$(rows "$tmp/x.csv")
		who=$(tail -n +2 "$tmp/x.csv" | cut -d, -f4 | sort | uniq -c |
			awk '{printf "%s x%d ", $2, $1}')
		secs=$(for c in "$tmp/archive/$other"/*.pcap; do
			capinfos -u -T -r "$c" 2>/dev/null | awk -F'\t' '{print $2}'
		done | awk '{s += $1} END {printf "%.3f", s}')
		tot_false=$((tot_false + false))
		tot_secs=$(calc "$tot_secs + $secs")
		own_secs[$other]=$secs
		for d in $(tail -n +2 "$tmp/x.csv" | cut -d, -f4); do
			fired[$d]=$((${fired[$d]:-0} + 1))
		done
		printf '%-20s %7.3f %6d %9.2f  %s\n' "$other" "$(calc "$secs / 3600")" \
			"$false" "$(calc "$false * 3600 / $secs")" "$who"
	done <"$tmp/devices"
	printf 'sentinel other devices: %d false detections in %.2f h, %.2f per hour\n' \
		"$tot_false" "$(calc "$tot_secs / 3600")" \
		"$(calc "$tot_false * 3600 / $tot_secs")"

	# The goal's unit, a device-day: one device's signature watching a day
	# of traffic.  Each signature watched every capture but its own
	# device's, so its exposure is the hours above less its device's.
	local exp tot_exp=0 over=0
	printf '%-20s %9s %6s %16s\n' signature exposure false "per device-day"
	while read -r d _; do
		exp=$(calc "$tot_secs - ${own_secs[$d]:-0}")
		tot_exp=$(calc "$tot_exp + $exp")
		[ "$(calc "(${fired[$d]:-0} * 86400 / $exp > 1)")" = 1 ] && over=$((over + 1))
		printf '%-20s %7.2f h %6d %16.2f\n' "$d" "$(calc "$exp / 3600")" "${fired[$d]:-0}" \
			"$(calc "${fired[$d]:-0} * 86400 / $exp")"
	done <"$tmp/devices"
	printf 'sentinel other devices: %d false detections in %.2f device-days (each signature over the other devices'"'"' captures), %.2f per device-day; %d signatures above 1\n' \
		"$tot_false" "$(calc "$tot_exp / 86400")" "$(calc "$tot_false * 86400 / $tot_exp")" "$over"
}

sentinel_part() {
	local f
	sentinel_mine
	for f in ${FRACTIONS:-0.75}; do
		sentinel_score "$f"
	done
}

testbed_part() {
	local lat=$here/../shared/corpora/smart-home-network-security+smart-home-firewall/eval/latency
	local dev d ip mac caps k j fold train labels line
	"$here/bench/testbed.sh" --sigex "$sigex" --events anchored --keep "$tmp/tb" \
		-o "$tmp/tb/report.md" >/dev/null 2>&1 || true
	for d in "$tmp/tb"/*/; do
		[ -f "$d/meta.json" ] || continue
		dev=$(basename "$d")
		ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ipv4"])' "$d/meta.json")
		mac=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mac"])' "$d/meta.json")
		mapfile -t caps < <(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["runs"]: print(sys.argv[2] + "/" + r["run"] + "/" + r["capture"] + ".pcap")' \
			"$d/meta.json" "$lat/$dev")
		[ ${#caps[@]} -eq 3 ] || continue
		# mined from windows opened LEAD seconds before the scripted times
		awk -F, -v OFS=, -v lead="${LEAD:-2}" '{ $1 = sprintf("%.6f", $1 - lead); print }' \
			"$d/events.csv" >"$tmp/mine-events.csv"
		for ((k = 0; k < 3; k++)); do
			fold=$tmp/tbf/$dev/$k
			train=()
			for ((j = 0; j < 3; j++)); do [ $j -ne $k ] && train+=("${caps[$j]}"); done
			"$sigex" extract "$dev" "$ip" "${train[@]}" --events "$tmp/mine-events.csv" --no-align \
				--duration "${DURATION:-40}" --mac "$mac" -o "$fold" -q >/dev/null 2>&1 || true
			"$sigex" detect "$fold"/*/signatures.yaml "${caps[$k]}" --device "$ip" -q ${DETECT_OPTS:-} \
				--duration "${DURATION:-40}" \
				--labels "$d/events.csv" --scores "$fold/scores.csv" -o "$fold/det.csv" \
				>/dev/null 2>&1 || true
		done
		# per event over the three folds
		echo "== $dev"
		cat "$tmp/tbf/$dev"/*/scores.csv 2>/dev/null | grep -v '^label,' |
			awk -F, -v dev="$dev" -v h="$(cat "$tmp/tbf/$dev"/*/scores.csv | grep '^all,' | wc -l)" '
			{ e[$1] += $2; t[$1] += $3; f[$1] += $5; a[$1] += $11 }
			END { for (l in e) if (l != "all") printf "%-22s events %2d hits %2d ambiguous %2d false %2d\n", l, e[l], t[l], a[l], f[l] }' | sort
		line=$(cat "$tmp/tbf/$dev"/*/scores.csv | grep '^all,' |
			awk -F, '{ e += $2; t += $3; f += $5; hr += $10; a += $11 }
			END { printf "%d %d %d %.4f %d", e, t, f, hr, a }')
		read -r e t f hr a <<<"$line"
		# the device's signatures watched its own captures: per hour of
		# them, and per device-day (24 h), the goal's unit
		printf '%s: %d events, %d detected (recall %.3f), %d more with an ambiguous label (event recall %.3f), %d false (precision %.3f), %.2f h, %.2f false per hour, %.1f per device-day\n' \
			"$dev" "$e" "$t" "$(calc "$t / ($e + ($e == 0))")" "$a" \
			"$(calc "($t + $a) / ($e + ($e == 0))")" "$f" \
			"$(calc "$t / ($t + $f + ($t + $f == 0))")" "$hr" \
			"$(calc "$f / ($hr + ($hr == 0))")" "$(calc "24 * $f / ($hr + ($hr == 0))")"
		echo "$e $t $f $hr $a" >>"$tmp/tb-totals"
	done
	awk '{ e += $1; t += $2; f += $3; h += $4; a += $5 } END {
		printf "testbed 3-fold: %d events, %d detected (recall %.3f), %d more with an ambiguous label (event recall %.3f), %d false (precision %.3f), %.2f h, %.2f false per hour, %.1f per device-day\n",
		e, t, t / (e ? e : 1), a, (t + a) / (e ? e : 1), f, t / (t + f ? t + f : 1), h, f / (h ? h : 1), 24 * f / (h ? h : 1) }' "$tmp/tb-totals"
	if [ -n "${KEEP:-}" ]; then
		mkdir -p "$KEEP"
		cp -r "$tmp/tb" "$tmp/tbf" "$KEEP/"
	fi
}

pingpong_part() {
	local plug=192.168.1.159
	(cd "$pingpong" && "$sigex" tplink $plug TP_LINK_LOCAL_ON.pcap TP_LINK_REMOTE_ON.pcap \
		TP_LINK_REMOTE_CHARGING_ON.pcap -q -o "$tmp/pp/on" &&
		"$sigex" tplink $plug TP_LINK_LOCAL_OFF.pcap -q -o "$tmp/pp/off" &&
		"$sigex" detect "$tmp/pp/on/signatures.yaml" "$tmp/pp/off/signatures.yaml" \
			TP_LINK_*.pcap -q) >/dev/null 2>&1 || true
	(cd "$pingpong" && "$sigex" detect "$tmp/pp/on/signatures.yaml" \
		"$tmp/pp/off/signatures.yaml" TP_LINK_*.pcap -q) | cut -d, -f1,4,5
}

for p in $parts; do
	"${p}_part"
done
