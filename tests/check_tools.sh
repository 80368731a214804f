#!/usr/bin/env bash
# The commands the tests and the project's scripts run, each provided by a
# Debian package that setup.sh installs: a fresh machine (and CI's clean
# root) must have every one.  The commands are read from the sources, not
# listed by hand:
#   - C tests (tests/*.c, tests/support): the shell lines given to
#     sx_tt_run(), system(), popen(), asprintf(&cmd, ...), snprintf(cmd, ...)
#     and to the tests' own printf-like wrappers that build a command line
#     (vasprintf(&cmd|&body, fmt, ...)), #define'd fragments included; in any
#     other string, what follows "&&", "||", " | " or "$(";
#   - shell scripts: the first word of each command.
# A command with no entry in the table below fails, as does one whose
# package the script's setup.sh mode does not install.
#   tests/check_tools.sh [ROOT] [--list]    (--list: each file and command found)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
list=${2:-}
cd "$root"

# command -> Debian package ("base": apt and dpkg, there before setup.sh).
declare -A pkg=(
	[apt-get]=base [dpkg-query]=base
	[awk]=mawk [bash]=bash [sh]=dash
	[basename]=coreutils [cat]=coreutils [chmod]=coreutils [cp]=coreutils [cut]=coreutils
	[date]=coreutils [dd]=coreutils [dirname]=coreutils [head]=coreutils [ln]=coreutils
	[ls]=coreutils [md5sum]=coreutils [mkdir]=coreutils [mkfifo]=coreutils [mktemp]=coreutils
	[mv]=coreutils [nproc]=coreutils [rm]=coreutils [sleep]=coreutils [sort]=coreutils
	[stat]=coreutils [tail]=coreutils [tee]=coreutils [timeout]=coreutils [tr]=coreutils
	[uniq]=coreutils [wc]=coreutils [env]=coreutils [seq]=coreutils [touch]=coreutils
	[find]=findutils [xargs]=findutils
	[cmp]=diffutils [diff]=diffutils
	[grep]=grep [sed]=sed
	[gzip]=gzip [zstd]=zstd
	[mount]=mount [umount]=mount
	[setpriv]=util-linux [unshare]=util-linux
	[ip]=iproute2 [nft]=nftables
	[cc]=build-essential [gcc]=build-essential [make]=build-essential [nm]=binutils
	[cmake]=cmake [ctest]=cmake [pkg-config]=pkg-config
	[clang]=clang [clang-format]=clang-format
	[tshark]=tshark [capinfos]=wireshark-common [editcap]=wireshark-common
	[mergecap]=wireshark-common
	[python3]=python3-yaml
	[sbatch]=slurm-wlm [srun]=slurm-wlm [munge]=munge [munged]=munge
	[slurmctld]=slurm-wlm [slurmd]=slurm-wlm [scontrol]=slurm-wlm [squeue]=slurm-wlm
	[scancel]=slurm-wlm [sinfo]=slurm-wlm [strace]=strace [hostname]=base [id]=coreutils
	[kill]=base
	[valgrind]=valgrind [time]=time [git]=git
	[ndpiReader]=optional # bench/run's peer, run only when present
)
# Shell words that are not commands of their own.
builtins=" cd echo printf exit true false test [ command exec set export read wait trap"
builtins+=" shift local return break continue for while until do done if then else elif fi"
builtins+=" case esac in declare mapfile unset type source pwd . : "

# The setup.sh mode whose packages a file's commands need.
mode_of() {
	case $1 in
	bench/*) echo bench ;;
	*) echo test ;;
	esac
}

# C sources: "FILE<TAB>KIND<TAB>TEXT", KIND X for a command line given to
# a sink, L for any other string.
c_lines() {
	awk -v file="$1" '
	# The file as tokens: identifiers (I), punctuation (P), string (S) and
	# character (C) literals; comments dropped.
	{
		rest = $0
		while (rest != "") {
			if (incomment) {
				j = index(rest, "*/")
				if (!j) break
				rest = substr(rest, j + 2); incomment = 0; continue
			}
			sub(/^[ \t]+/, "", rest)
			if (rest == "") break
			if (substr(rest, 1, 2) == "/*") { incomment = 1; rest = substr(rest, 3); continue }
			if (substr(rest, 1, 2) == "//") break
			if (match(rest, /^"([^"\\]|\\.)*"/)) {
				tok[++n] = "S" substr(rest, 2, RLENGTH - 2)
			} else if (match(rest, /^\047([^\047\\]|\\.)*\047/)) {
				tok[++n] = "C"
			} else if (match(rest, /^[A-Za-z_][A-Za-z0-9_]*/)) {
				tok[++n] = "I" substr(rest, 1, RLENGTH)
			} else if (match(rest, /^[0-9][A-Za-z0-9_.]*/)) {
				tok[++n] = "N"
			} else {
				RLENGTH = 1; tok[++n] = "P" substr(rest, 1, 1)
			}
			rest = substr(rest, RLENGTH + 1)
		}
	}
	END {
		# #define NAME "literal": the macro stands for the literal.
		for (k = 1; k < n; k++)
			if (tok[k] == "P#" && tok[k + 1] == "Idefine" && substr(tok[k + 3], 1, 1) == "S")
				macro[substr(tok[k + 2], 2)] = substr(tok[k + 3], 2)
		# printf-like wrappers that build a command line from their format
		depth = 0
		for (k = 1; k <= n; k++) {
			if (tok[k] == "P{") { if (depth == 0) fn = lastcall; depth++ }
			else if (tok[k] == "P}") depth--
			else if (depth == 0 && substr(tok[k], 1, 1) == "I" && tok[k + 1] == "P(")
				lastcall = substr(tok[k], 2)
			if (depth > 0 && tok[k] == "Ivasprintf" && tok[k + 2] == "P&" &&
			    (tok[k + 3] == "Icmd" || tok[k + 3] == "Ibody") && tok[k + 5] == "Ifmt")
				sink[fn] = 1
		}
		sink["sx_tt_run"] = sink["system"] = sink["popen"] = 1
		for (k = 1; k <= n; k++) {
			if (tok[k + 1] != "P(" || substr(tok[k], 1, 1) != "I") continue
			name = substr(tok[k], 2)
			if (!(name in sink) &&
			    !(name == "asprintf" && tok[k + 2] == "P&" && tok[k + 3] == "Icmd") &&
			    !(name == "snprintf" && tok[k + 2] == "Icmd"))
				continue
			# the first run of adjacent literals (and macros) in the call
			d = 0; s = ""; started = 0
			for (m = k + 1; m <= n; m++) {
				if (tok[m] == "P(") d++
				else if (tok[m] == "P)") { if (--d == 0) break }
				t1 = substr(tok[m], 1, 1); v = substr(tok[m], 2)
				if (t1 == "S") { s = s v; started = 1; used[m] = 1 }
				else if (t1 == "I" && (v in macro)) { s = s macro[v]; started = 1 }
				else if (t1 == "I" && v ~ /^[A-Z][A-Z0-9_]*$/) { s = s "\047" v "\047"; started = 1 }
				else if (started) break
			}
			if (started) print file "\tX\t" s
		}
		for (k = 1; k <= n; k++)
			if (substr(tok[k], 1, 1) == "S" && !(k in used))
				print file "\tL\t" substr(tok[k], 2)
	}' "$1"
}

# Shell scripts: "FILE<TAB>X<TAB>LINE" for each line that holds commands.
sh_lines() {
	# commands start a line (after a case pattern) or follow an operator;
	# continued lines, here-documents and quoted programs are not commands
	awk -v file="$1" '
	{
		line = $0
		if (inhere) { if (line ~ "^[ \t]*" inhere "$") inhere = ""; next }
		if (match(line, /<<-?[ \t]*\047?[A-Z]+/)) {
			inhere = substr(line, RSTART, RLENGTH); sub(/^<<-?[ \t]*\047?/, "", inhere)
		}
		sub(/(^|[ \t])#.*$/, "", line)
		if (cont) { cont = (line ~ /\\$/); next }
		cont = (line ~ /\\$/)
		# quoted multi-line programs (awk, sh -c): skipped until the quote closes
		q = gsub(/\047/, "\047", line)
		if (inq) { if (q % 2) inq = 0; next }
		if (q % 2) inq = 1
		# the lines of an array spread over several lines are words
		if (inarr) { if (line ~ /\)/) inarr = 0; next }
		if (line ~ /=\([^)]*$/) { inarr = 1; next }
		gsub(/[A-Za-z_][A-Za-z0-9_]*\+?=\([^)]*\)/, "", line)
		sub(/^[ \t]*[^() \t]+\)([ \t]|$)/, "", line)	# a case pattern
		print file "\tX\t" line
	}' "$1"
}

# "FILE<TAB>KIND<TAB>TEXT" in, "FILE<TAB>WORD" out: the first word of each
# part of a shell line (in an L string, only the parts after an operator).
shell_words() {
	awk -F'\t' '
	# Quoted text is not run: dropped, but for "$(...)" in double quotes.
	function unquote(l,    out, i, c, sq, dq, sub_) {
		out = ""
		for (i = 1; i <= length(l); i++) {
			c = substr(l, i, 1)
			if (sq) { if (c == "\047") { sq = 0; out = out c }; continue }
			if (c == "\\") { if (!dq || sub_) out = out substr(l, i, 2); i++; continue }
			if (dq && !sub_) {
				if (c == "\"") { dq = 0; out = out c }
				else if (c == "$" && substr(l, i + 1, 1) == "(") { sub_ = 1; out = out "$("; i++ }
				continue
			}
			if (sub_) {
				if (c == "(") sub_++
				else if (c == ")") sub_--
				out = out c; continue
			}
			if (c == "\047") sq = 1
			else if (c == "\"") dq = 1
			out = out c
		}
		return out
	}
	{
		f = $1; kind = $2; line = substr($0, length(f) + length(kind) + 3)
		if (kind == "L" && line !~ /&&|\|\||[ ]\|[ ]|\$\(/) next
		if (f ~ /\.[ch]$/) {
			gsub(/\\n/, "\001", line)
			gsub(/\\"/, "\"", line)
			gsub(/\\\\/, "\\", line)
		}
		line = unquote(line)
		gsub(/\$?\(\([^)]*\)\)/, " ", line)	# arithmetic
		gsub(/&&|\|\||\||;|\$\(|`|\{/, "\001", line)
		gsub(/(^|[ \t])(then|do|else)[ \t]/, "\001", line)
		nseg = split(line, seg, "\001")
		for (s = 1; s <= nseg; s++) {
			if (kind == "L" && s == 1) continue
			t = seg[s]
			sub(/^[ \t(]+/, "", t)
			sub(/^!+[ \t]*/, "", t)
			while (match(t, /^[A-Za-z_][A-Za-z0-9_]*=[^ \t]*[ \t]+/)) t = substr(t, RLENGTH + 1)
			nw = split(t, W, /[ \t]+/)
			w = W[1]; k = 1
			# what command and the wrappers run counts too
			if (w == "command" && W[2] == "-v") w = W[3]
			while (w == "timeout" || w == "xargs" || w == "exec") {
				if (w != "exec") print f "\t" w
				k++
				while (k <= nw && (W[k] ~ /^-/ || (w == "timeout" && W[k] ~ /^[0-9]/))) k++
				w = W[k]
			}
			sub(/^\/usr(\/local)?\/s?bin\//, "", w)
			sub(/[)"`]+$/, "", w)
			if (w ~ /^[a-z][A-Za-z0-9._+-]*$/) print f "\t" w
		}
	}'
}

# A script's own functions, and those of the files it sources from its own
# folder (". "$(dirname ...)/common.sh""), are not commands.
script_functions() {
	local f g
	for f in setup.sh tests/*.sh scripts/*.sh bench/run bench/*.sh fuzz/*.sh; do
		[ -f "$f" ] || continue
		for g in "$f" $(grep -E '^\. .*/[a-z0-9_-]+\.sh"?$' "$f" |
			sed -E "s|.*/([a-z0-9_-]+\.sh)\"?\$|$(dirname "$f")/\1|"); do
			[ -f "$g" ] && grep -oE '^[[:space:]]*[a-z_][a-z0-9_]*\(\)' "$g" |
				sed "s|^[[:space:]]*|$f\t|; s/()\$//"
		done
	done
}

found=$(
	{
		for f in tests/*.c tests/support/*.[ch]; do c_lines "$f"; done
		for f in setup.sh tests/*.sh scripts/*.sh bench/run bench/*.sh fuzz/*.sh; do
			if [ -f "$f" ]; then sh_lines "$f"; fi
		done
	} | shell_words | sort -u | grep -vxFf <(script_functions) || true
)
[ "$list" = --list ] && printf '%s\n' "$found"
declare -A installs
for m in test bench; do
	installs[$m]=" $(./setup.sh packages "$m" | tr '\n' ' ') "
done
bad=0
declare -A seen
while IFS=$'\t' read -r f w; do
	[ -n "$w" ] || continue
	case "$builtins" in *" $w "*) continue ;; esac
	seen[$w]=1
	p=${pkg[$w]:-}
	m=$(mode_of "$f")
	if [ -z "$p" ]; then
		echo "check_tools: $f runs '$w': add it to tests/check_tools.sh with its Debian package, and the package to setup.sh" >&2
		bad=1
	elif [ "$p" != base ] && [ "$p" != optional ] && [[ ${installs[$m]} != *" $p "* ]]; then
		echo "check_tools: $f runs '$w' ($p), which ./setup.sh $m does not install" >&2
		bad=1
	fi
done < <(printf '%s\n' "$found" | sort -u)
# The suites run dozens of commands: a scan that finds a handful is broken.
if [ "${#seen[@]}" -lt 20 ]; then
	echo "check_tools: only ${#seen[@]} commands found: the scan is broken" >&2
	exit 1
fi
[ "$bad" = 0 ] && echo "check_tools: ${#seen[@]} commands, each from a package setup.sh installs"
exit "$bad"
