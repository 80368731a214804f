#!/usr/bin/env bash
# sigex against the expert profiles of the UCLouvain smart-home testbed (eval/latency).
# Per device: picks the device's own capture point in each of the three runs, turns
# activity.txt into an events CSV, runs the main job, finds anchors of the scripted
# events in the traffic (the true shift per run), and compares sigex's profile.yaml with
# the expert's devices/<device>/profile.yaml. See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/testbed.sh [-o REPORT.md] [OPTIONS] [DEVICE...]

Devices (default: all present): tplink-plug philips-hue xiaomi-cam tuya-motion
smartthings-hub dlink-cam.

Options:
  -o, --output FILE   write the markdown report to FILE (default: standard output)
  --sigex PATH        the sigex binary (default: build/sigex)
  --testbed DIR       the testbed corpus (default:
                      ../shared/corpora/smart-home-network-security+smart-home-firewall)
  --events MODE       relative: "+OFFSET,LABEL" rows and sigex aligns them (needs
                      --align in sigex); absolute: "EPOCH,LABEL" rows, the offsets
                      added to each capture's first packet time; auto (default):
                      relative when `sigex extract --help` mentions --align;
                      anchored: absolute, each capture's offsets moved by the
                      shift its anchors give (what a perfect global alignment
                      would find); none: no --events, each whole capture is one
                      occurrence
  --keep DIR          keep the work files (events CSVs, sigex outputs, verify CSVs,
                      flow CSVs) in DIR instead of a removed temporary directory
  -h, --help          this help
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
sigex=$root/build/sigex
testbed=$root/../shared/corpora/smart-home-network-security+smart-home-firewall
output=-
mode=auto
keep=
devices=()
while (($#)); do
    case $1 in
        -o|--output) output=$2; shift 2 ;;
        --sigex) sigex=$2; shift 2 ;;
        --testbed) testbed=$2; shift 2 ;;
        --events) mode=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "testbed.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) devices+=("$1"); shift ;;
    esac
done
[[ -x $sigex ]] || { echo "testbed.sh: no sigex at $sigex (build it first)" >&2; exit 2; }
[[ -d $testbed/eval/latency ]] || { echo "testbed.sh: no testbed at $testbed" >&2; exit 2; }
export SX_PYYAML_LOADERS=${SX_PYYAML_LOADERS:-$(dirname "$testbed")/../firewall/pyyaml-loaders}
helper=(python3 "$here/testbed_compare.py")
case $mode in
    auto) if "$sigex" extract --help | grep -q -- '--align'; then mode=relative
          else mode=absolute; fi ;;
    relative|absolute|anchored|none) ;;
    *) echo "testbed.sh: --events is relative, absolute, anchored, none or auto" >&2
       exit 2 ;;
esac
if ((${#devices[@]} == 0)); then
    for d in tplink-plug philips-hue xiaomi-cam tuya-motion smartthings-hub dlink-cam; do
        [[ -d $testbed/eval/latency/$d ]] && devices+=("$d")
    done
fi

if [[ -n $keep ]]; then
    work=$keep; mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/sigex-testbed.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi

for dev in "${devices[@]}"; do
    lat=$testbed/eval/latency/$dev
    expert=$testbed/devices/$dev/profile.yaml
    [[ -f $lat/activity.txt && -f $expert ]] || {
        echo "testbed.sh: $dev: no activity.txt or expert profile" >&2; exit 2; }
    d=$work/$dev
    rm -rf "$d"; mkdir -p "$d"
    "${helper[@]}" expand "$expert" > "$d/expert.yaml"
    read -r ip mac < <("${helper[@]}" info "$expert")
    echo "== $dev ($ip, $mac)" >&2

    # 1. the device's own capture point per run: the capture with most of its packets
    caps=() t0s=() runs_json=()
    for run in no-firewall base-firewall my-firewall; do
        best= bestn=0 bestt0=
        for c in "$lat/$run"/*.pcap; do
            [[ -e $c ]] || continue
            read -r n t0 < <("$sigex" packets -q "$c" | "${helper[@]}" scan "$ip")
            if ((n > bestn)); then best=$c bestn=$n bestt0=$t0; fi
        done
        [[ -n $best ]] || { echo "   $run: no capture holds $ip" >&2; continue; }
        cap=$(basename "$best" .pcap)
        echo "   $run: $cap ($bestn packets of the device, first packet $bestt0)" >&2
        runs_json+=("{\"run\": \"$run\", \"capture\": \"$cap\", \"t0\": $bestt0, \"packets\": $bestn}")
        "$sigex" flows -q -o "$d/flows-$run.csv" "$best"
        caps+=("$best")
        if [[ $mode == anchored ]]; then
            shift_s=$("${helper[@]}" shift "$dev" "$ip" "$mac" "$d/flows-$run.csv" "$bestt0" \
                      "$lat/activity.txt" 2>/dev/null)
            echo "   $run: anchor shift $shift_s s" >&2
            bestt0=$(python3 -c "print(f'{$bestt0 + $shift_s:.6f}')")
        fi
        t0s+=("$bestt0")
    done
    ((${#caps[@]})) || continue

    # 2. events
    if [[ $mode == relative || $mode == none ]]; then
        "${helper[@]}" events "$lat/activity.txt" > "$d/events.csv"
    else
        "${helper[@]}" events "$lat/activity.txt" --absolute "${t0s[@]}" > "$d/events.csv"
    fi

    # 3. the main job, and the expert profile replayed over the same captures
    cmd=("$sigex" extract "$dev" "$ip" "${caps[@]}" --mac "$mac" -o "$d/sigex")
    evargs=
    if [[ $mode != none ]]; then cmd+=(--events "$d/events.csv"); evargs=" --events events.csv"; fi
    status=ok
    SOURCE_DATE_EPOCH=0 "${cmd[@]}" > "$d/sigex.out" 2> "$d/sigex.err" || status="exit $?"
    echo "   sigex: $status" >&2
    "$sigex" verify "$d/expert.yaml" "${caps[@]}" --stateless --format csv -q \
        -o "$d/verify.csv"

    {
        printf '{"ipv4": "%s", "mac": "%s", "events_mode": "%s", "sigex_status": "%s",\n' \
            "$ip" "$mac" "$mode" "$status"
        printf ' "sigex_cmd": "sigex extract %s %s <%d captures>%s --mac %s",\n' \
            "$dev" "$ip" "${#caps[@]}" "$evargs" "$mac"
        printf ' "events": %s,\n' "$("${helper[@]}" labels "$lat/activity.txt" 2>/dev/null)"
        printf ' "runs": [%s]}\n' "$(IFS=,; echo "${runs_json[*]}")"
    } > "$d/meta.json"
done

if [[ $output == - ]]; then
    "${helper[@]}" report "$work" "${devices[@]}"
else
    "${helper[@]}" report "$work" "${devices[@]}" > "$output.tmp" && mv "$output.tmp" "$output"
fi
