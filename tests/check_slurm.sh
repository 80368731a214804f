#!/usr/bin/env bash
# check_slurm.sh SIGEX SRC [SHARED] - sigex on a real Slurm cluster: a
# one-node cluster started here (munged, slurmctld and slurmd, as root, with
# a slurm.conf naming this host at 127.0.0.1, proctrack/linuxproc,
# task/none, state and spool in a temporary folder), driven through the
# scripts of SRC/contrib/slurm:
#   - the IoT Sentinel archive (links into SHARED/corpora, as
#     bench/sentinel-archive.sh lays it out) as a job array of N = 1, 3 and
#     7 shards then the collect job: the tree of one `sigex batch` (sigex
#     check, and diff -r with summary.csv's seconds column and the stamps'
#     seconds lines left out; last-update pinned by SOURCE_DATE_EPOCH);
#   - the array of 3 cancelled (scancel, and scancel --signal=KILL as a
#     node failure) while a unit is being written (a rename held back by
#     strace), its collect never run, then resubmitted: the same tree, and
#     no temporary file left;
#   - the running tasks of the array requeued mid-unit (scontrol requeue,
#     what --requeue does after a node failure): they resume from the
#     stamps, collect runs after them, and the tree is the same;
#   - shards 0 and 2 of 3 only: collect exits 3 naming every unit of
#     shard 1 (as --plan 3 gives them);
#   - the map/reduce recipe on the firewall testbed's long captures (the
#     TP-Link plug's own capture point in its three runs, eval/latency), and
#     on IoT Sentinel's D-LinkCam (20 captures, its cloud server named
#     across them): `sigex flows --names-out` per capture as array tasks,
#     then `sigex mine --names-from ... --device`, equal the main job's
#     pattern.txt, signatures.yaml and profile.yaml (the batch unit's).
# Nothing is skipped: missing Slurm, munge, strace, root or corpora fail the
# check, naming them.  The daemons are stopped by their pid files on any
# exit, and the folder removed.  Prints one line per check and a SUMMARY.
set -u
sigex=$1
src=$2
shared=${3:-$src/../shared}
export SOURCE_DATE_EPOCH=1700000000

die() {
	echo "check_slurm: $*" >&2
	exit 1
}

[ -x "$sigex" ] || die "no sigex binary at $sigex"
[ "$(id -u)" = 0 ] || die "must run as root (it starts the cluster's daemons)"
for tool in munged slurmctld slurmd sbatch squeue scancel scontrol sinfo strace; do
	command -v "$tool" >/dev/null || die "$tool not installed (slurm-wlm, munge, strace: setup.sh test)"
done
shared=$(cd "$shared" 2>/dev/null && pwd) || die "no shared folder at ${3:-$src/../shared}"
src=$(cd "$src" && pwd)
sentinel=$shared/corpora/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel
testbed=$shared/corpora/smart-home-network-security+smart-home-firewall/eval/latency
slurm=$src/contrib/slurm
[ -d "$sentinel" ] || die "the IoT Sentinel captures are missing: $sentinel"
[ -d "$testbed/tplink-plug" ] || die "the firewall testbed captures are missing: $testbed"
sigex=$(cd "$(dirname "$sigex")" && pwd)/$(basename "$sigex")

tmp=$(mktemp -d)
chmod 755 "$tmp"

# Stop each daemon by its pid file (SIGTERM, then SIGKILL after 10 s).
stop_cluster() {
	local d pid i
	for d in slurmd slurmctld munged; do
		[ -s "$tmp/$d.pid" ] || continue
		pid=$(cat "$tmp/$d.pid")
		kill "$pid" 2>/dev/null || continue
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$pid" 2>/dev/null
	done
}
trap 'stop_cluster; rm -rf "$tmp"' EXIT

# ---- the cluster ----
host=$(hostname -s)
port=$((20000 + ($$ % 10000) * 2))
dd if=/dev/urandom of="$tmp/munge.key" bs=128 count=1 2>/dev/null
chmod 400 "$tmp/munge.key"
mkdir -p "$tmp/state" "$tmp/spool"
munged --force --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" \
	--pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" ||
	die "munged did not start: $(tail -3 "$tmp/munged.log" 2>/dev/null)"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=sigexcheck
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.sock
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MinJobAge=3600
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=sigexnode NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=check Nodes=sigexnode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -c -f "$SLURM_CONF" || die "slurmctld did not start: $(tail -3 "$tmp/slurmctld.log")"
slurmd -N sigexnode -f "$SLURM_CONF" || die "slurmd did not start: $(tail -3 "$tmp/slurmd.log")"
for i in $(seq 60); do
	[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
	sleep 0.5
done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] ||
	die "the node never became idle: $(sinfo 2>&1; tail -5 "$tmp/slurmctld.log" "$tmp/slurmd.log")"
echo "check_slurm: one-node cluster up ($(sinfo -V), node $host at 127.0.0.1)"

# ---- helpers ----
fails=0
ok() { echo "ok   $*"; }
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# Wait until no job is pending or running (at most 600 s).
wait_idle() {
	local i
	for i in $(seq 1200); do
		[ -z "$(squeue -h 2>/dev/null)" ] && return 0
		sleep 0.5
	done
	squeue
	return 1
}

# The states of a job's tasks, one a line ("COMPLETED 0:0" ...).
states() {
	scontrol -o show job "$1" | sed -E 's/.*JobState=([A-Z_]+).* ExitCode=([0-9:]+).*/\1 \2/'
}

# Whether every task of job $1 completed with exit 0.
all_completed() {
	[ -n "$(states "$1")" ] && ! states "$1" | grep -qv '^COMPLETED 0:0$'
}

# Trees a and b hold the same files, byte for byte, but the seconds
# measured (summary.csv's column 7, the stamps' "seconds" lines) and the
# captures' identities in the stamps (recorded only for captures that had
# settled when the run began).
same_tree() {
	local a=$1 b=$2 f
	diff -r -x summary.csv -x .sigex-unit "$a" "$b" >"$tmp/diff" 2>&1 || return 1
	diff <(cut -d, -f1-6,8- "$a/summary.csv") <(cut -d, -f1-6,8- "$b/summary.csv") >"$tmp/diff" ||
		return 1
	for f in $(cd "$a" && find . -name .sigex-unit); do
		diff <(grep -v -e '^seconds ' -e '^capture ' "$a/$f") \
			<(grep -v -e '^seconds ' -e '^capture ' "$b/$f") >"$tmp/diff" || return 1
	done
	[ -z "$(cd "$b" && find . -name .sigex-unit | sort | diff - <(cd "$a" && find . -name .sigex-unit | sort))" ]
}

# Compare out with the one-machine tree, by sigex check and by diff.
compare() {
	local what=$1 out=$2
	if ! "$sigex" check "$tmp/one" "$out" >"$tmp/check" 2>&1; then
		fail "$what: sigex check: $(cat "$tmp/check")"
	elif ! same_tree "$tmp/one" "$out"; then
		fail "$what: differs from one sigex batch: $(head -20 "$tmp/diff")"
	elif [ -n "$(find "$out" -name '*.tmp.*')" ]; then
		fail "$what: temporary files left: $(find "$out" -name '*.tmp.*')"
	else
		ok "$what: the tree of one sigex batch ($(($(grep -c . "$out/summary.csv") - 1)) units)"
	fi
}

# ---- the IoT Sentinel archive, one machine ----
archive=$tmp/archive
for d in "$sentinel"/*/; do
	n=$(basename "$d")
	mkdir -p "$archive/$n"
	ln -s "$d"*.pcap "$archive/$n/"
done
"$sigex" batch "$archive" -o "$tmp/one" -q || die "sigex batch on one machine failed"
export SIGEX=$sigex

# ---- N = 1, 3, 7 shards, then collect ----
for n in 1 3 7; do
	read -r array collect < <("$slurm/submit.sh" -n "$n" -c 1 -l "$tmp/logs$n" "$archive" "$tmp/s$n")
	if [ -z "${collect:-}" ]; then
		fail "N=$n: submit.sh gave no job ids"
		continue
	fi
	wait_idle || fail "N=$n: jobs still queued"
	if ! all_completed "$array" || ! all_completed "$collect"; then
		fail "N=$n: array $array: $(states "$array" | tr '\n' ' '); collect: $(states "$collect")"
		continue
	fi
	ok "N=$n: array $array of $n tasks and collect $collect completed"
	compare "N=$n" "$tmp/s$n"
done

# ---- the array of 3 cancelled while a unit is written, then resubmitted ----
cat >"$tmp/slow-sigex" <<EOF
#!/bin/sh
# sigex with its third rename held back 20 s: a unit being written; the
# pid (strace's, then) in SIGEX_PIDS.  A requeued task runs sigex as it is.
[ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ] && exec "$sigex" "\$@"
echo \$\$ >>"\$SIGEX_PIDS"
exec strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
	-e inject=rename,renameat,renameat2:delay_enter=20000000:when=3 "$sigex" "\$@"
EOF
chmod +x "$tmp/slow-sigex"
# SIGKILL to the children of process $1, a strace of ours still running
# (from /proc: no broad match).
kill_children() {
	local st
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = strace ] || return 0
	for st in /proc/[0-9]*/status; do
		grep -qx "PPid:[[:space:]]*$1" "$st" 2>/dev/null || continue
		st=${st#/proc/}
		kill -9 "${st%/status}" 2>/dev/null
	done
}

# $1: scancel's way (TERM: as scancel and a time limit do, the task stops
# itself; KILL: as a node failure, nothing stops cleanly)
cancel_mid_unit() {
	local sig=$1 out=$tmp/k3$1 array collect mid left stamped i pids
	read -r array collect < <(SIGEX=$tmp/slow-sigex SIGEX_PIDS=$out.pids "$slurm/submit.sh" -n 3 -c 1 \
		-l "$out.logs1" "$archive" "$out")
	for i in $(seq 600); do
		[ -n "$(find "$out" -name '*.tmp.*' 2>/dev/null)" ] && break
		sleep 0.1
	done
	mid=$(find "$out" -name '*.tmp.*' | head -1)
	if [ "$sig" = KILL ]; then
		# the running tasks' sigex, with SIGKILL (their pids: the children
		# of the strace each task became), then the array cancelled
		for i in $(cat "$out.pids"); do
			kill_children "$i"
		done
		scancel "$array"
	else
		scancel "$array"
	fi
	wait_idle
	left=$(find "$out" -name '*.tmp.*' | wc -l)
	stamped=$(find "$out" -name .sigex-unit | wc -l)
	if [ -z "$mid" ]; then
		fail "scancel ($sig): no unit was being written when the array was cancelled"
		return
	fi
	if all_completed "$array" || states "$collect" | grep -q COMPLETED ||
		[ -e "$out/summary.csv" ]; then
		fail "scancel ($sig): array $(states "$array" | tr '\n' ' '); collect $(states "$collect")"
		return
	fi
	ok "scancel ($sig): array $array stopped while writing ${mid#"$tmp"/} ($stamped of 23 units stamped, $left temporary files left), collect $collect never ran"
	read -r array collect < <("$slurm/submit.sh" -n 3 -c 1 -l "$out.logs2" "$archive" "$out")
	wait_idle
	if all_completed "$array" && all_completed "$collect"; then
		compare "scancel ($sig), then resubmitted" "$out"
	else
		fail "scancel ($sig), resubmitted: array $(states "$array" | tr '\n' ' '); collect $(states "$collect")"
	fi
}
cancel_mid_unit TERM
cancel_mid_unit KILL

# ---- the running tasks requeued mid-unit (scontrol requeue, as Slurm does
# after a node failure with --requeue): they resume, and collect follows ----
out=$tmp/q3
read -r array collect < <(SIGEX=$tmp/slow-sigex SIGEX_PIDS=$out.pids "$slurm/submit.sh" -n 3 -c 1 \
	-l "$out.logs" "$archive" "$out")
for i in $(seq 600); do
	[ -n "$(find "$out" -name '*.tmp.*' 2>/dev/null)" ] && break
	sleep 0.1
done
running=$(squeue -h -t R -j "$array" -o %i | tr '\n' ',')
scontrol requeue "${running%,}"
wait_idle
restarts=$(scontrol -o show job "$array" | grep -c 'Restarts=[1-9]')
if [ -z "$running" ] || ! all_completed "$array" || ! all_completed "$collect"; then
	fail "requeue: ${running%,} requeued; array $(states "$array" | tr '\n' ' '); collect $(states "$collect")"
elif ! scontrol -o show job "$array" | grep -q 'Restarts=[1-9]'; then
	fail "requeue: no task of $array was restarted"
else
	ok "requeue: ${running%,} requeued mid-unit, $restarts of 3 tasks restarted, collect $collect ran"
	compare "requeued" "$out"
fi

# ---- a missing shard: collect exits 3 naming its units ----
array=$(sbatch --parsable --array=0,2 -o "$tmp/miss-%a.log" "$slurm/sigex-shard.sbatch" \
	"$archive" "$tmp/m3" 3 -q)
collect=$(sbatch --parsable --dependency="afterok:$array" -o "$tmp/miss-collect.log" \
	"$slurm/sigex-collect.sbatch" "$archive" "$tmp/m3" -q)
wait_idle
"$sigex" batch "$archive" --plan 3 | awk -F, 'NR > 1 && $1 == 1 { print $2 "/" $3 }' >"$tmp/want"
named=$(grep -c 'missing: no stamp' "$tmp/miss-collect.log")
unnamed=$(while read -r u; do grep -qF "$u: missing" "$tmp/miss-collect.log" || echo "$u"; done <"$tmp/want")
if [ "$(states "$collect")" != "FAILED 3:0" ]; then
	fail "missing shard: collect $(states "$collect"), not exit 3: $(cat "$tmp/miss-collect.log")"
elif [ -n "$unnamed" ] || [ "$named" != "$(grep -c . "$tmp/want")" ]; then
	fail "missing shard: collect named $named units, not those of shard 1 ($unnamed)"
elif [ -e "$tmp/m3/summary.csv" ]; then
	fail "missing shard: collect wrote summary.csv"
else
	ok "missing shard: collect $collect exits 3 naming the $named units of shard 1"
fi

# ---- map/reduce: sigex flows per capture, then sigex mine --device ----
# $1 what, $2 ROOT, $3 the list, $4 the reference's directory, then mine's
# options: the reduce's three files must be the reference's
mapreduce() {
	local what=$1 root=$2 list=$3 ref=$4 out=$tmp/mr-$1 map reduce bad= f
	shift 4
	read -r map reduce < <("$slurm/submit-mapreduce.sh" -c 1 -l "$out.logs" "$root" "$list" \
		"$out" -- "$@")
	wait_idle
	if ! all_completed "$map" || ! all_completed "$reduce"; then
		fail "map/reduce ($what): map $(states "$map" | tr '\n' ' '); reduce $(states "$reduce")"
		return
	fi
	for f in pattern.txt signatures.yaml profile.yaml; do
		cmp -s "$ref/$f" "$out/$f" || bad="$bad $f"
	done
	if [ -n "$bad" ]; then
		fail "map/reduce ($what): differs from the main job:$bad"
	else
		ok "map/reduce ($what): $(ls "$out.flows"/*.csv | wc -l) flows tasks then mine ($map, $reduce): the main job's three files"
	fi
}
# the firewall testbed's TP-Link plug: its own capture point in its three runs
caps="no-firewall/wlan2.4.pcap base-firewall/wlan2.4.pcap my-firewall/wlan2.4.pcap"
printf '%s\n' $caps >"$tmp/testbed.txt"
(cd "$testbed/tplink-plug" && "$sigex" extract tplink-plug 192.168.1.135 $caps \
	--mac 50:c7:bf:ed:0a:54 -q -o "$tmp/main") || die "the main job on the testbed failed"
mapreduce testbed "$testbed/tplink-plug" "$tmp/testbed.txt" "$tmp/main" --device tplink-plug \
	--ipv4 192.168.1.135 --mac 50:c7:bf:ed:0a:54
# IoT Sentinel's D-LinkCam, whose cloud server is named across its captures:
# the batch unit is the reference
(cd "$archive" && ls D-LinkCam/*.pcap) >"$tmp/dlinkcam.txt"
mapreduce D-LinkCam "$archive" "$tmp/dlinkcam.txt" "$tmp/one/D-LinkCam/default" \
	--device D-LinkCam --event default \
	--ipv4 "$(awk -F, '$1 == "D-LinkCam" { print $8 }' "$tmp/one/summary.csv")" \
	--mac "$(awk -F, '$1 == "D-LinkCam" { print $9 }' "$tmp/one/summary.csv")"

if [ "$fails" = 0 ]; then
	echo "SUMMARY: check_slurm: every check passed"
else
	echo "SUMMARY: check_slurm: $fails checks failed (logs: $tmp, removed)"
	for f in "$tmp"/logs*/* "$tmp"/miss-*.log; do
		[ -f "$f" ] && echo "== $f" && tail -5 "$f"
	done
fi
[ "$fails" = 0 ]
