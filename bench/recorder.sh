#!/bin/bash
# shellcheck disable=SC2154 # the figures are set by eval of recorder-lib.py's output
# bench/recorder.sh: what the recorder costs and how it keeps up (issue 3,
# "Speed and size"), next to its peers, in one run. It prints figures; it
# is not a test (STYLE.md): a missed target (saves lost at 1,000 a second
# included) is a FAIL in the table, not an exit status. The exit status is
# 1 only when a figure could not be measured as described: a save never
# durable, a file of the baseline missing from the vault, a tool failing;
# 2 when the benchmark could not start.
#
#	bench/recorder.sh [--quick] [--idle-seconds N] [--tree-mb N]
#	                  [--only PARTS] [--seed N] [--keep] [--no-install]
#	                  [--storage-saves N] [--storage-interval-ms N]
#
#   --quick           a smoke run of about a minute: 1,000 files, 5 s idle,
#                     5 saves for latency, 2 s of 1,000 saves/s, 150 saves
#                     for storage (not the 1.1 s apart run), a 50 MB tree;
#                     peers that are not installed are skipped (never
#                     installed)
#   --idle-seconds N  the idle measure (default 60)
#   --tree-mb N       the mixed tree of part 6 (default 1000 MB, 10^6 bytes)
#   --only PARTS      comma-separated: idle,latency,throughput,history,
#                     storage,baseline (default: all)
#   --seed N          for the generated files and saves (default 1)
#   --keep            keep the scratch folder ($TMPDIR or /tmp)
#   --no-install      do not apt-get install restic, borgbackup, git
#   --storage-saves N, --storage-interval-ms N
#                     the first storage run (default 1000 saves, 100 ms)
#   --snapshot-every N
#                     the storage runs with [files] snapshot_every = N
#                     (default: the recorder's default, 100)
#
# The labtape binary is $LABTAPE (default build/labtape), the history
# benchmark $HISTORY_BENCH (default build/bench/history).
#
# The parts, each with a fresh vault (KDF "fast") and recorder of its own,
# and the environment of tests/t (LABTAPE_VAULT, LABTAPE_SOCKET,
# LABTAPE_CACHE_DIR, XDG_* in the scratch folder):
#
#  1. Idle: 10,000 small text files in 100 folders; the recorder's first
#     baseline (timed from its start to the last index commit), then no
#     activity for 60 s: CPU from /proc/PID/stat utime+stime (and the
#     scheduler's /proc/PID/task/*/schedstat) as % of one core, VmRSS and
#     VmHWM from /proc/PID/status. Targets: < 0.1%, < 20 MiB.
#  2. Save latency: a 20 KB document saved 20 times, 0.3 to 2.5 s apart
#     (a save finds the recorder idle, or with a flush timer armed, at
#     any point of it), a few words changed each time. After the write
#     returns, the vault's index (index.db, read-only, where every reader
#     finds blocks) is polled every millisecond until a committed edit.op
#     block holds an event from after the write: then the save is durable
#     and visible to a reader. Median, p95, max; also split at the event's
#     own time (when the recorder read the save) from `labtape log`.
#     Target: within 1.1 s.
#  3. Throughput: a writer paced at 1,000 saves/s for 10 s, each save a
#     small change (a counter on the first line), round-robin over 100
#     files (each file saved every 100 ms, more than the 50 ms debounce)
#     and over 1,000 files (each saved once a second); the recorder drains,
#     stops, and every save must be a version in `labtape log`. Target: no
#     save lost.
#  4. History rebuild: build/bench/history at the issue's sizes, its
#     summary line.
#  5. Storage: a 50 KB document saved again and again, a few words
#     changed each time (1 to 4 words replaced, inserted or deleted), with
#     the recorder's default configuration: 1,000 saves 100 ms apart
#     (the 1 s flush interval batches ~10 saves a block), then 100 saves
#     1.1 s apart (each save a block of its own, as when a person saves:
#     flush_interval cannot be set under 1 s to do this faster). Bytes on
#     disk: the stream's segments and key files (the only stream of that
#     vault) against the same versions (the first and one per save) as
#     commits of one file in git (fast-import, `git gc --aggressive`),
#     .git/objects. Both are sums of file sizes (not blocks); index.db,
#     the shadow cache and .git as a whole are shown apart. Target:
#     labtape <= git.
#  6. First baseline: a mixed tree (source code, JSON and CSV, notebooks,
#     random and compressible binaries, logs over max_text_size, 2%
#     duplicated files) recorded from nothing: from `labtape record` until
#     the last index commit (the newest mtime of index.db and its WAL once
#     events stopped for 3 s), then the vault's size; against `restic
#     backup` (0.14: repository v2, compression auto; its cache left on,
#     in the scratch folder, as a user runs it) and `borg create` (repokey-
#     blake2, lz4 by default, and zstd,3), each into a new repository, all
#     from the page cache (the tree was just written). Times are wall
#     clock; CPU seconds are shown too. Targets: labtape faster and no
#     larger than each.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
LABTAPE=${LABTAPE:-$SRC/build/labtape}
HISTORY_BENCH=${HISTORY_BENCH:-$SRC/build/bench/history}
LIB=$SRC/bench/recorder-lib.py
case $LABTAPE in /*) ;; *) LABTAPE=$PWD/$LABTAPE ;; esac
case $HISTORY_BENCH in /*) ;; *) HISTORY_BENCH=$PWD/$HISTORY_BENCH ;; esac

QUICK='' KEEP='' NOINSTALL='' ONLY=all SEED=1 IDLE_S='' TREE_MB='' ST_INTERVAL='' ST_SAVES=''
SNAP_EVERY=''
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--no-install) NOINSTALL=1 ;;
	--idle-seconds) IDLE_S=${2:?}; shift ;;
	--tree-mb) TREE_MB=${2:?}; shift ;;
	--only) ONLY=${2:?}; shift ;;
	--seed) SEED=${2:?}; shift ;;
	--storage-interval-ms) ST_INTERVAL=${2:?}; shift ;;
	--storage-saves) ST_SAVES=${2:?}; shift ;;
	--snapshot-every) SNAP_EVERY=${2:?}; shift ;;
	-h|--help) sed -n '3,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "recorder.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

if [ -n "$QUICK" ]; then
	IDLE_FILES=1000 IDLE_DIRS=10 IDLE_S=${IDLE_S:-5}
	LAT_N=5 TP_S=2 ST_SAVES=${ST_SAVES:-150} ST_INTERVAL=${ST_INTERVAL:-100} ST_SAVES2=0
	TREE_MB=${TREE_MB:-50}
	HIST_ARGS="--edits 1000 --size 20000 --runs 100" STABLE=2
else
	IDLE_FILES=10000 IDLE_DIRS=100 IDLE_S=${IDLE_S:-60}
	LAT_N=20 TP_S=10 ST_SAVES=${ST_SAVES:-1000} ST_INTERVAL=${ST_INTERVAL:-100} ST_SAVES2=100
	TREE_MB=${TREE_MB:-1000}
	HIST_ARGS='' STABLE=3
fi
TP_RATE=1000

for x in "$LABTAPE" "$HISTORY_BENCH"; do
	if ! [ -x "$x" ]; then
		echo "recorder.sh: $x is not an executable (build first: cmake --build build)" >&2
		exit 2
	fi
done
# The real interpreter: HOME changes below, which a pyenv shim may need.
PY=$(python3 -c 'import sys; print(sys.executable)') || {
	echo "recorder.sh: python3 is needed" >&2
	exit 2
}
lib() { "$PY" "$LIB" "$@"; }

S=$(mktemp -d "${TMPDIR:-/tmp}/labtape-bench.XXXXXX") || exit 2
SUMMARY=$S/summary.tsv
: >"$SUMMARY"
REC_PID=''
STATUS=0

cleanup() {
	if [ -n "$REC_PID" ] && kill -0 "$REC_PID" 2>/dev/null; then
		kill "$REC_PID" 2>/dev/null
		wait "$REC_PID" 2>/dev/null
	fi
	if [ -n "$KEEP" ]; then
		echo "recorder.sh: scratch folder kept: $S" >&2
	else
		rm -rf "$S"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }			# figures
note() { printf '%s\n' "$*" >&2; }		# progress
want() { case ",$ONLY," in *,all,*|*,"$1",*) return 0 ;; esac; return 1; }
# fmt FORMAT EXPR: EXPR (numbers and arithmetic) printed with FORMAT.
fmt() { awk "BEGIN { printf \"$1\", $2 }"; }
# verdict EXPR: pass if the arithmetic condition holds.
verdict() { if awk "BEGIN { exit !($1) }"; then echo pass; else echo FAIL; fi; }
# row FIGURE LABTAPE PEER TARGET VERDICT: a line of the summary table.
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SUMMARY"; }
broken() { note "recorder.sh: $*"; STATUS=1; }
# The sum of the sizes of the regular files under the paths (bytes).
bytes_of() { find "$@" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }
mib() { fmt '%.1f MiB' "$1 / 1048576"; }
hbytes() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1e9) printf "%.2f GB", b / 1e9
		else if (b >= 1e6) printf "%.1f MB", b / 1e6
		else if (b >= 1e3) printf "%.1f KB", b / 1e3
		else printf "%d B", b }'
}
now_ns() { date +%s%N; }

# instance NAME: a fresh vault and recorder environment in $S/NAME ($I).
instance() {
	I=$S/$1
	mkdir -m 700 "$I" "$I/home" "$I/home/run"
	export LABTAPE_VAULT=$I/vault LABTAPE_CACHE_DIR=$I/cache \
		LABTAPE_SOCKET=$I/control LABTAPE_PASSPHRASE=bench LABTAPE_KDF=fast \
		HOME=$I/home XDG_CONFIG_HOME=$I/home/config \
		XDG_DATA_HOME=$I/home/share XDG_STATE_HOME=$I/home/state \
		XDG_CACHE_HOME=$I/home/cache XDG_RUNTIME_DIR=$I/home/run \
		LC_ALL=C TZ=UTC
	unset LABTAPE_FAULT_ENOSPC
	"$LABTAPE" init >/dev/null 2>"$I/init.log" || {
		cat "$I/init.log" >&2
		exit 2
	}
}

# rec_start TREE [CONFIG]: starts the recorder ($REC_PID) at $REC_T0 (ns).
rec_start() {
	REC_T0=$(now_ns)
	if [ -n "${2:-}" ]; then
		"$LABTAPE" record --config "$2" "$1" 2>>"$I/record.log" &
	else
		"$LABTAPE" record "$1" 2>>"$I/record.log" &
	fi
	REC_PID=$!
	local k=0
	until "$LABTAPE" status >/dev/null 2>&1; do
		k=$((k + 1))
		if [ $k -gt 400 ] || ! kill -0 "$REC_PID" 2>/dev/null; then
			cat "$I/record.log" >&2
			echo "recorder.sh: the recorder did not start" >&2
			exit 2
		fi
		sleep 0.025
	done
}

rec_stop() {
	"$LABTAPE" stop >/dev/null 2>>"$I/record.log"
	wait "$REC_PID" 2>/dev/null
	REC_PID=
}

# settle PREFIX MIN_EVENTS [STABLE_S] [TIMEOUT_S]: waits until the files
# source is running and its events have reached MIN_EVENTS and stopped
# moving; sets PREFIX_events, PREFIX_bytes, PREFIX_last_change_ns.
settle() {
	local out
	out=$(lib settle "$LABTAPE" "$2" "${3:-$STABLE}" "${4:-600}" "$1") || {
		tail -5 "$I/record.log" >&2
		exit 2
	}
	eval "$out"
}

# The newest mtime (ns) of the vault's index: its last commit.
index_mtime() {
	lib mtime "$LABTAPE_VAULT/index.db" "$LABTAPE_VAULT/index.db-wal"
}

# need_peer CMD PACKAGE: CMD is there, installed now if need be.
need_peer() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ -n "$QUICK" ] || [ -n "$NOINSTALL" ]; then
		note "  $1 is not installed: skipped (apt-get install $2)"
		return 1
	fi
	note "  installing $2"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "$2" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  apt-get install -y -qq "$2" >/dev/null 2>&1; }
	command -v "$1" >/dev/null 2>&1 && return 0
	note "  $2 could not be installed: $1 skipped"
	return 1
}

say "labtape recorder benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs,"
say "  $(uname -sr), $(git -C "$SRC" describe --always --dirty 2>/dev/null || echo '?')${QUICK:+, --quick}"
say "  load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
say

# ---- 1. idle ---------------------------------------------------------------

if want idle; then
	note "== idle: $IDLE_FILES files, $IDLE_S s without activity"
	instance idle
	mkdir "$I/tree"
	eval "$(lib smalltree "$I/tree" "$IDLE_FILES" "$IDLE_DIRS" "$SEED")"
	rec_start "$I/tree"
	settle b "$IDLE_FILES"
	base_s=$(fmt %.2f "($(index_mtime) - $REC_T0) / 1e9")
	eval "$(lib proc "$REC_PID" a)"
	note "  baseline done; idle for $IDLE_S s"
	sleep "$IDLE_S"
	eval "$(lib proc "$REC_PID" z)"
	settle e 0 0.1
	idle_pct=$(fmt %.4f "($z_cpu_s - $a_cpu_s) / $IDLE_S * 100")
	sched_pct=$(fmt %.4f "($z_sched_ns - $a_sched_ns) / ($z_t_ns - $a_t_ns) * 100")
	cs=$((z_vcs + z_nvcs - a_vcs - a_nvcs))
	shadow=$(bytes_of "$I/cache")
	rec_stop
	say "1. Idle cost: $IDLE_FILES small text files in $IDLE_DIRS folders ($(hbytes "$tree_bytes"))"
	say "   first baseline: $b_events events, the last at $(fmt %.2f "($b_last_change_ns - $REC_T0) / 1e9") s" \
		"(by status polls, 0.1 s apart), durable at $base_s s (the last index commit)"
	say "   then $IDLE_S s without activity ($((e_events - b_events)) events meanwhile):"
	say "   CPU     $(fmt %.3f "$z_cpu_s - $a_cpu_s") s = $idle_pct% of a core (/proc/PID/stat; scheduler: $sched_pct%)"
	say "   wakeups $cs context switches ($z_threads threads)"
	say "   memory  VmRSS $(mib "$z_rss_kb * 1024") (anon $(mib "$z_anon_kb * 1024"), file $(mib "$z_file_kb * 1024")), VmHWM $(mib "$z_hwm_kb * 1024") (the peak, in the baseline)"
	say "   shadow cache $(hbytes "$shadow") (copies of the text files)"
	v1=$(verdict "$idle_pct < 0.1")
	v2=$(verdict "$z_rss_kb < 20 * 1024")
	v3=$(verdict "$z_hwm_kb < 20 * 1024")
	say "   target: < 0.1% of a core: $v1; < 20 MiB resident: $v2 (peak: $v3)"
	say
	row "idle CPU, $IDLE_FILES files, $IDLE_S s" "$idle_pct%" "-" "< 0.1%" "$v1"
	row "idle resident (VmRSS)" "$(mib "$z_rss_kb * 1024")" "-" "< 20 MiB" "$v2"
	row "peak resident (VmHWM, with baseline)" "$(mib "$z_hwm_kb * 1024")" "-" "(< 20 MiB)" "$v3"
fi

# ---- 2. save latency -------------------------------------------------------

if want latency; then
	note "== latency: $LAT_N saves"
	instance latency
	mkdir "$I/tree"
	lib doc "$I/tree/doc.txt" 20000 "$SEED"
	rec_start "$I/tree"
	settle b 1
	eval "$(lib latency "$LABTAPE_VAULT" "$I/tree/doc.txt" "$LAT_N" 0.3 2.5 "$SEED" "$I/rows.json")"
	"$LABTAPE" log --json --kind edit.op >"$I/log.json" 2>>"$I/log.err" || broken "labtape log failed"
	rec_stop
	eval "$(lib latency-report "$I/rows.json" "$I/log.json" doc.txt)"
	if [ "$lat_ok" -gt 0 ]; then
		say "2. Save latency: a 20 KB document saved $lat_n times, 0.3-2.5 s apart; from the"
		say "   write's return until the index holds a committed block with its events"
		say "   (polled every 1 ms, $(fmt %.0f "$poll_us") us a poll)"
		say "                              median      p95      max   (ms)"
		say "   durable, visible to reader $(fmt '%7.1f  %7.1f  %7.1f' "$lat_med, $lat_p95, $lat_max")"
		say "   the recorder reads it      $(fmt '%7.1f  %7.1f  %7.1f' "$seen_med, $seen_p95, $seen_max")   (event time - write)"
		say "   then committed             $(fmt '%7.1f  %7.1f  %7.1f' "$commit_med, $commit_p95, $commit_max")   (flush interval 1 s + sync)"
		say "   peer: the design's bound, debounce 50 ms + flush interval 1000 ms"
		v=$(verdict "$lat_max <= 1100 && $lat_missing == 0")
		say "   target: every save durable within 1.1 s: max $(fmt %.0f "$lat_max") ms, $lat_missing missing: $v"
		row "save latency, $lat_n saves (med/p95/max)" \
			"$(fmt '%.0f/%.0f/%.0f ms' "$lat_med, $lat_p95, $lat_max")" "1050 ms (design)" "<= 1100 ms" "$v"
	else
		broken "latency: no save was seen durable"
		row "save latency" "none durable" "-" "<= 1100 ms" FAIL
	fi
	[ "$lat_missing" = 0 ] || broken "latency: $lat_missing saves not durable or not in the log"
	say
fi

# ---- 3. throughput ---------------------------------------------------------

tp_run() {	# NAME NFILES
	note "== throughput: $TP_RATE saves/s for $TP_S s over $2 files"
	instance "tp-$1"
	mkdir "$I/tree"
	lib throughput-tree "$I/tree" "$2" "$SEED"
	rec_start "$I/tree"
	settle b "$2"
	eval "$(lib proc "$REC_PID" a)"
	eval "$(lib writer "$I/tree" "$2" "$TP_RATE" "$TP_S" "$I/made.json")"
	wend=$(now_ns)
	settle e 0 "$STABLE" 300
	eval "$(lib proc "$REC_PID" z)"
	drain=$(fmt %.2f "($(index_mtime) - $wend) / 1e9")
	rec_stop
	"$LABTAPE" log --json --kind edit.op 2>>"$I/log.err" >"$I/log.json" || broken "labtape log failed"
	eval "$(lib count-saves "$I/made.json" <"$I/log.json")"
	rate=$(fmt %.0f "$w_rate")
	cpu=$(fmt %.0f "($z_cpu_s - $a_cpu_s) / (($z_t_ns - $a_t_ns) / 1e9) * 100")
	say "   $2 files, each saved every $(fmt %.0f "$2 * 1000 / $TP_RATE") ms: $w_made saves made at $rate/s (max lag $(fmt %.1f "$w_maxlag_ms") ms, slowest save $(fmt %.1f "$w_slowest_ms") ms);"
	say "     recorded $c_recorded / $c_made ($c_files_short files short), and $c_phantom versions that no save wrote;"
	say "     read $(fmt '%.0f/%.0f/%.0f' "$c_read_med_ms, $c_read_p99_ms, $c_read_max_ms") ms (median/p99/max) after the write;" \
		"the last committed $drain s after the last write;"
	say "     recorder CPU $cpu% of a core, VmHWM $(mib "$z_hwm_kb * 1024"); longest time without recording: $(fmt %.0f "$c_max_gap_ms") ms"
	v=$(verdict "$c_recorded == $c_made && $c_phantom == 0")
	ph=
	[ "$c_phantom" = 0 ] || ph=" +$c_phantom torn"
	row "$TP_RATE saves/s x $TP_S s, $2 files" "$c_recorded/$c_made saved$ph" "-" "no loss" "$v"
	[ "$c_recorded" = "$c_made" ] || note "  throughput: $((c_made - c_recorded)) saves lost over $2 files"
}

if want throughput; then
	say "3. Throughput: a writer paced at $TP_RATE saves/s for $TP_S s, each save a changed counter"
	tp_run 100 100
	tp_run 1000 1000
	say "   target: no save lost (each file is saved more than the 50 ms debounce apart)"
	say
fi

# ---- 4. history ------------------------------------------------------------

if want history; then
	note "== history: $HISTORY_BENCH $HIST_ARGS"
	# shellcheck disable=SC2086
	if "$HISTORY_BENCH" $HIST_ARGS >"$S/history.out" 2>&1; then
		say "4. History rebuild (build/bench/history${HIST_ARGS:+ $HIST_ARGS}):"
		sed -n '/rebuild one version/,$p' "$S/history.out" | sed 's/^ */   /'
		line=$(grep 'target:' "$S/history.out" | sed 's/^ *target: //')
		v=$(case $line in *", pass") echo pass ;; *) echo FAIL ;; esac)
		lt=$(sed -n 's/^ *labtape: snapshot + piece table (text_replay) *\([0-9.]*\) *\([0-9.]*\).*/\1\/\2/p' "$S/history.out")
		gc=$(sed -n 's/^ *git cat-file --batch, per version *\([0-9.]*\) *\([0-9.]*\).*/\1\/\2/p' "$S/history.out")
		edits=$(sed -n 's/.*, \([0-9]*\) edits in .*/\1/p' "$S/history.out")
		row "rebuild a version, $edits edits (med/p99)" "${lt:-?} us" "${gc:+git cat-file $gc us}" "p99 < 1000 us" "$v"
	else
		cat "$S/history.out" >&2
		broken "history: the benchmark failed"
		row "rebuild a version" "error" "-" "< 1000 us" FAIL
	fi
	say
fi

# ---- 5. storage vs git -----------------------------------------------------

st_run() {	# NAME SAVES INTERVAL_MS
	note "== storage: $2 saves of a 50 KB document, $3 ms apart"
	instance "storage-$1"
	mkdir "$I/tree"
	lib doc "$I/tree/doc.txt" 50000 "$SEED"
	if [ -n "$SNAP_EVERY" ]; then
		printf '[files]\nsnapshot_every = %s\n' "$SNAP_EVERY" >"$I/config"
		rec_start "$I/tree" "$I/config"
	else
		rec_start "$I/tree"
	fi
	settle b 1 1
	eval "$(lib storage "$I/tree/doc.txt" "$2" "$3" "$SEED" "$I/fast-import")"
	settle e 0 1
	rec_stop
	"$LABTAPE" log --json --kind edit.op 2>>"$I/log.err" >"$I/log.json" || broken "labtape log failed"
	eval "$(lib count-groups doc.txt <"$I/log.json")"
	blocks=$(sqlite3 "$LABTAPE_VAULT/index.db" 'SELECT count(*) FROM blocks' 2>/dev/null || echo '?')
	seg=$(bytes_of "$LABTAPE_VAULT/segments")
	keys=$(bytes_of "$LABTAPE_VAULT/keys")
	idx=$(bytes_of "$LABTAPE_VAULT"/index.db*)
	shadow=$(bytes_of "$I/cache")
	lt_bytes=$((seg + keys))
	say "   $2 saves $3 ms apart: $g_versions versions, $g_ops ops ($g_snapshots snapshots) in $blocks blocks"
	say "     labtape: segments $(hbytes "$seg") + keys $(hbytes "$keys") = $(hbytes "$lt_bytes");" \
		"index.db $(hbytes "$idx"), shadow $(hbytes "$shadow")"
	[ "$g_versions" = $(($2 + 1)) ] ||
		note "  storage: $g_versions versions recorded of $(($2 + 1)) (saves coalesced: the machine is busy?)"
	if need_peer git git; then
		G=$I/git
		if ! { git init -q "$G" && git -C "$G" fast-import --quiet <"$I/fast-import" &&
		       git -C "$G" gc -q --aggressive --prune=now; }; then
			broken "storage: git failed"
		fi
		commits=$(git -C "$G" rev-list --count main)
		gobj=$(bytes_of "$G/.git/objects")
		gpack=$(bytes_of "$G"/.git/objects/pack/*.pack)
		gall=$(bytes_of "$G/.git")
		ratio=$(fmt %.2f "$lt_bytes / $gobj")
		say "     git:     $commits commits after gc --aggressive: .git/objects $(hbytes "$gobj")" \
			"(.pack $(hbytes "$gpack")), all of .git $(hbytes "$gall")"
		say "     labtape / git: $ratio (segments+keys / .git/objects);" \
			"with index.db: $(fmt %.2f "($lt_bytes + $idx) / $gobj");" \
			"segments / .pack: $(fmt %.2f "$seg / $gpack")"
		v=$(verdict "$lt_bytes <= $gobj")
		row "storage, 1 doc x $2 saves $3 ms apart" "$(hbytes "$lt_bytes")" "git $(hbytes "$gobj")" "ratio <= 1: $ratio" "$v"
	else
		row "storage, 1 doc x $2 saves $3 ms apart" "$(hbytes "$lt_bytes")" "git skipped" "<= git" "-"
	fi
}

if want storage; then
	say "5. Storage: a 50 KB document saved again and again, a few words changed each"
	say "   time, against git with one commit per save (and the first version)"
	st_run batched "$ST_SAVES" "$ST_INTERVAL"
	if [ "$ST_SAVES2" -gt 0 ]; then
		st_run apart "$ST_SAVES2" 1100
	fi
	say "   ($ST_INTERVAL ms apart, the 1 s flush interval batches about $((1000 / ST_INTERVAL)) saves a block;"
	say "   1100 ms apart, each save is a block of its own, as when a person saves)"
	say "   target: labtape <= git"
	say
fi

# ---- 6. first baseline vs restic and borg ----------------------------------

if want baseline; then
	note "== baseline: a $TREE_MB MB mixed tree"
	instance baseline
	T=$S/tree
	mkdir "$T"
	g0=$(now_ns)
	eval "$(lib mixedtree "$T" "$TREE_MB" "$SEED")"
	note "  generated $tree_files files, $(hbytes "$tree_bytes") in $(fmt %.0f "($(now_ns) - $g0) / 1e9") s"
	sync
	note "  labtape record"
	rec_start "$T"
	settle b "$tree_files" "$STABLE" 7200
	lt_end=$(index_mtime)
	eval "$(lib proc "$REC_PID" z)"
	rec_stop
	lt_s=$(fmt %.2f "($lt_end - $REC_T0) / 1e9")
	lt_cpu=$(fmt %.2f "$z_cpu_s")
	lt_size=$(bytes_of "$LABTAPE_VAULT")
	lt_shadow=$(bytes_of "$I/cache")
	{ "$LABTAPE" log --json --kind edit.op && "$LABTAPE" log --json --kind fs.blob; } 2>>"$I/log.err" |
		lib recorded-paths "$T" >"$I/paths.sh" || broken "labtape log failed"
	eval "$(cat "$I/paths.sh")"
	[ "${paths_missing:-1}" = 0 ] || broken "baseline: ${paths_missing:-?} files not recorded"
	say "6. First baseline of a mixed tree: $tree_files files, $(hbytes "$tree_bytes") (page cache warm)"
	say "                       time     CPU      size    vs labtape: time  size   cache"
	say "   labtape         $(fmt '%7.1f s %5.1f s' "$lt_s, $lt_cpu") $(printf '%9s' "$(hbytes "$lt_size")")                      $(hbytes "$lt_shadow")"
	say "     ($b_events events, $paths_got of $paths_want files recorded, the last event at" \
		"$(fmt %.1f "($b_last_change_ns - $REC_T0) / 1e9") s; VmHWM $(mib "$z_hwm_kb * 1024"))"
	say "     its shadow cache holds a plain copy of every text file: vault and cache" \
		"together $(hbytes $((lt_size + lt_shadow)))"
	peer() {	# NAME TIME CPU SIZE CACHE
		local tr sr
		tr=$(fmt %.2f "$lt_s / $2")
		sr=$(fmt %.2f "$lt_size / $4")
		say "   $(printf '%-15s' "$1") $(fmt '%7.1f s %5.1f s' "$2, $3") $(printf '%9s' "$(hbytes "$4")")          $tr  $sr   $(hbytes "$5")"
		row "baseline time vs $1" "$(fmt %.1f "$lt_s") s" "$(fmt %.1f "$2") s" "ratio < 1: $tr" "$(verdict "$tr < 1")"
		row "baseline size vs $1" "$(hbytes "$lt_size")" "$(hbytes "$4")" "ratio <= 1: $sr" "$(verdict "$lt_size <= $4")"
	}
	if need_peer restic restic; then
		note "  restic backup"
		export RESTIC_REPOSITORY=$S/restic RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$S/restic-cache
		restic init -q >/dev/null 2>"$S/restic.log" || broken "restic init failed"
		eval "$(lib timed r restic backup -q "$T")"
		[ "$r_rc" = 0 ] || broken "restic backup: exit $r_rc"
		peer "restic $(restic version | awk '{ print $2 }')" "$r_wall" "$r_cpu" \
			"$(bytes_of "$S/restic")" "$(bytes_of "$S/restic-cache")"
	fi
	if need_peer borg borgbackup; then
		export BORG_PASSPHRASE=bench BORG_BASE_DIR=$S/borg-base
		for c in lz4 zstd,3; do
			note "  borg create --compression $c"
			R=$S/borg-${c%%,*}
			borg init -e repokey-blake2 "$R" >/dev/null 2>>"$S/borg.log" || broken "borg init failed"
			before=$(bytes_of "$BORG_BASE_DIR")
			eval "$(lib timed b borg create --compression "$c" "$R::base" "$T")"
			[ "$b_rc" = 0 ] || broken "borg create: exit $b_rc"
			peer "borg $c" "$b_wall" "$b_cpu" "$(bytes_of "$R")" \
				"$(($(bytes_of "$BORG_BASE_DIR") - before))"
		done
		say "   (borg $(borg --version | awk '{ print $2 }'))"
	fi
	say "   labtape's time is from its start to the last index commit; the peers' from"
	say "   start to exit. Sizes are file bytes of the vault / repository; caches apart"
	say "   (restic's and borg's: their own caches, which they can rebuild)."
	say "   target: labtape faster and no larger than each peer"
	say
fi

say "Summary (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
lib table "$SUMMARY"
exit $STATUS
