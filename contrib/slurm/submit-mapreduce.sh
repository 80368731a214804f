#!/bin/bash
# submit-mapreduce.sh - one event too large for one node: `sigex flows` per
# capture as a job array (the map), then one `sigex mine` over the flow CSVs
# (the reduce), which writes the main job's three files.
#
#   contrib/slurm/submit-mapreduce.sh [-c CPUS] [-t TIME] [-m MEM] [-p PARTITION]
#       [-F 'FLOWS OPTIONS'] [-l LOGDIR] ROOT LIST OUT -- --device NAME --ipv4 IP [MINE OPTIONS...]
#
# LIST: one capture a line relative to ROOT ("background PATH" for an idle
# capture).  The flow CSVs go to OUT.flows.  -F: the flow stage's options
# (--idle-timeout, --names, -f...), as the main job would be given them.
# Prints the two job ids ("MAP REDUCE").  SIGEX names the binary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cpus=1 time= mem= partition= logdir= fopts=
usage() {
	sed -n '5,6p' "$0" | sed 's/^# *//' >&2
	exit 2
}
while getopts c:t:m:p:F:l:h opt; do
	case $opt in
	c) cpus=$OPTARG ;;
	t) time=$OPTARG ;;
	m) mem=$OPTARG ;;
	p) partition=$OPTARG ;;
	F) fopts=$OPTARG ;;
	l) logdir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || usage
root=$(cd "$1" && pwd)
list=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
mkdir -p "$3"
out=$(cd "$3" && pwd)
shift 3
[ "${1:-}" = -- ] && shift
n=$(grep -c . "$list")
[ "$n" -gt 0 ] || { echo "submit-mapreduce.sh: $list lists no capture" >&2; exit 2; }
logdir=${logdir:-$out.logs}
mkdir -p "$logdir" "$out.flows"
opts=(--parsable --cpus-per-task="$cpus")
[ -n "$time" ] && opts+=(--time="$time")
[ -n "$mem" ] && opts+=(--mem="$mem")
[ -n "$partition" ] && opts+=(--partition="$partition")
# shellcheck disable=SC2086 # -F is a list of words
map=$(sbatch "${opts[@]}" --array="0-$((n - 1))" -o "$logdir/flows-%a.log" \
	"$here/sigex-flows.sbatch" "$root" "$list" "$out.flows" $fopts)
map=${map%%;*}
reduce=$(sbatch "${opts[@]}" --dependency="afterok:$map" --kill-on-invalid-dep=yes \
	-o "$logdir/mine.log" "$here/sigex-mine.sbatch" "$out.flows" "$out" "$@")
echo "$map ${reduce%%;*}"
