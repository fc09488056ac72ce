#!/bin/sh
# End-to-end benchmark of `sail listen`'s interactive view: the real binary
# in a pseudo-terminal (tmux, 120x35) under deliveries from bench/cmd/loadgen,
# against `sail listen --json` (stdout to a file) in the same run, rounds
# alternating. Prints one line per round and a summary; numbers go into
# BENCHMARKS.md by hand ("Interactive view").
#
#   bench/tui.sh                 # 20,000 deliveries, 2 rounds, then 100,000 for RSS
#   N=5000 ROUNDS=1 bench/tui.sh # quicker
#
# Needs tmux and Linux (/proc for the peak RSS).
set -eu
cd "$(dirname "$0")/.."

N=${N:-20000}        # deliveries per round
BIG=${BIG:-100000}   # deliveries of the memory run (0: skip)
C=${C:-20}           # concurrent senders
SIZE=${SIZE:-2048}   # payload bytes
ROUNDS=${ROUNDS:-2}
TOKEN=bench-token

tmp=$(mktemp -d)
sock="sailbench-$$"
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	if [ -s "$tmp/pid" ]; then kill "$(cat "$tmp/pid")" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

go build -o "$tmp/sail" ./cmd/sail
go build -o "$tmp/loadgen" ./bench/cmd/loadgen

now() { date +%s.%N; }
hwm() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$(cat "$tmp/pid")/status"; }
# cpu: user+system CPU seconds of sail so far (clock ticks of /proc/PID/stat).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$(cat "$tmp/pid")/stat"; }

# start MODE [extra flags]: sail listen in a fresh tmux session, fresh
# history; waits for its URL.
start() {
	mode=$1
	shift
	rm -rf "$tmp/state" "$tmp/url" "$tmp/out.ndjson" "$tmp/pid"
	out=""
	if [ "$mode" = json ]; then out="--json > $tmp/out.ndjson"; fi
	tmux -L "$sock" new-session -d -x 120 -y 35 \
		"echo \$\$ > $tmp/pid; XDG_STATE_HOME=$tmp/state XDG_CONFIG_HOME=$tmp/cfg exec $tmp/sail listen --token $TOKEN --addr 127.0.0.1:0 --path /sail --url-file $tmp/url $* $out"
	i=0
	until [ -s "$tmp/url" ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || { echo "listen did not start" >&2; exit 1; }
		sleep 0.02
	done
}

stop() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	if [ -s "$tmp/pid" ]; then
		pid=$(cat "$tmp/pid")
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	fi
}

# load N: sends N deliveries; prints req/s.
load() {
	"$tmp/loadgen" -url "$(cat "$tmp/url")" -token "$TOKEN" -size "$SIZE" -c "$C" -n "$1" -d 120s >"$tmp/load.txt"
	grep -q " 0 failed" "$tmp/load.txt" || { cat "$tmp/load.txt" >&2; exit 1; }
	sed -n 's/.*: \([0-9]*\) req\/s.*/\1/p' "$tmp/load.txt"
}

# caught_up MODE N: seconds from now until the output shows N deliveries.
caught_up() {
	t0=$(now)
	i=0
	while :; do
		if [ "$1" = json ]; then
			[ "$(grep -c '"type":"delivery"' "$tmp/out.ndjson" || true)" -ge "$2" ] && break
		else
			tmux -L "$sock" capture-pane -p | grep -q "^$2 deliveries" && break
		fi
		i=$((i + 1))
		[ $i -lt 3000 ] || { echo "never caught up" >&2; tmux -L "$sock" capture-pane -p >&2; exit 1; }
		sleep 0.01
	done
	echo "$(now) - $t0" | bc
}

echo "sail listen under $N deliveries of $SIZE B from $C senders; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-5s %10s %14s %12s %16s\n' round mode "req/s" "caught up s" "peak RSS MB" "sail CPU µs/req"
for r in $(seq 1 "$ROUNDS"); do
	for mode in json tui; do
		start "$mode"
		c0=$(cpu)
		rate=$(load "$N")
		lag=$(caught_up "$mode" "$N")
		c1=$(cpu)
		printf '%-6s %-5s %10s %14.3f %12s %16.0f\n' "$r" "$mode" "$rate" "$lag" "$(hwm)" "$(echo "($c1 - $c0) * 1000000 / $N" | bc -l)"
		if [ "$mode" = tui ] && [ "$r" = 1 ]; then
			# The first delivery, from the history: G selects the oldest row.
			tmux -L "$sock" send-keys G
			sleep 0.3
			tmux -L "$sock" capture-pane -p >"$tmp/first.txt"
			if grep -q "## Summary" "$tmp/first.txt"; then echo "       tui: oldest row selected with G shows its payload"; else echo "       tui: oldest row shows NO payload" && cat "$tmp/first.txt"; fi
		fi
		stop
	done
done

if [ "$BIG" -gt 0 ]; then
	start tui
	load "$N" >/dev/null
	caught_up tui "$N" >/dev/null
	at_n=$(hwm)
	rate=$(load $((BIG - N)))
	lag=$(caught_up tui "$BIG")
	echo "memory run (view rows = --history-keep default): peak RSS ${at_n} MB after $N, $(hwm) MB after $BIG; last $((BIG - N)) at $rate req/s, caught up in ${lag} s"
	stop
fi
