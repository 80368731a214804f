#!/bin/bash
# submit.sh - `sigex batch` over a lab archive as one Slurm job array and a
# collect job that depends on it.
#
#   contrib/slurm/submit.sh -n N [-c CPUS] [-t TIME] [-m MEM] [-p PARTITION]
#                           [-l LOGDIR] ARCHIVE OUT [-- BATCH OPTIONS...]
#
# Submits sigex-shard.sbatch as `sbatch --array=0-(N-1)` (task K runs shard
# K of N) and sigex-collect.sbatch with --dependency=afterok on the array,
# and prints the two job ids ("ARRAY COLLECT").  ARCHIVE and OUT must be on
# the cluster's shared filesystem; they are made absolute here.  -c, -t and
# -m are each task's --cpus-per-task, --time and --mem (see README: about
# the memory of -c units in flight, from `sigex batch --plan N` and the
# per-unit figure).  SIGEX names the binary on the nodes (default: sigex).
# `sigex batch ARCHIVE --plan N` shows the split first.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
n= cpus=1 time= mem= partition= logdir=
usage() {
	sed -n '4,5p' "$0" | sed 's/^# *//' >&2
	exit 2
}
while getopts n:c:t:m:p:l:h opt; do
	case $opt in
	n) n=$OPTARG ;;
	c) cpus=$OPTARG ;;
	t) time=$OPTARG ;;
	m) mem=$OPTARG ;;
	p) partition=$OPTARG ;;
	l) logdir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] && [ -n "$n" ] || usage
archive=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
[ "${1:-}" = -- ] && shift
logdir=${logdir:-$out.logs}
mkdir -p "$logdir"
opts=(--parsable --cpus-per-task="$cpus")
[ -n "$time" ] && opts+=(--time="$time")
[ -n "$mem" ] && opts+=(--mem="$mem")
[ -n "$partition" ] && opts+=(--partition="$partition")
array=$(sbatch "${opts[@]}" --array="0-$((n - 1))" -o "$logdir/shard-%a.log" \
	"$here/sigex-shard.sbatch" "$archive" "$out" "$n" "$@")
array=${array%%;*}
collect=$(sbatch "${opts[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
	-o "$logdir/collect.log" "$here/sigex-collect.sbatch" "$archive" "$out" "$@")
echo "${array} ${collect%%;*}"
