#!/usr/bin/env bash
# Speed of `rootfs-fuse mount` against the native directory and fuse-overlayfs (Debian's),
# on the same lower tree in one run, each FUSE mount with a fresh upper directory:
#   read     sequential read of a 1 GiB lower file, warm page cache (MB/s, best of 5)
#   tar      tar -cf /dev/null . over ~10,000 files (ms; first run after mount, then best)
#   find     find . | wc -l (ms; first, then best)
#   append   append one line to each of 1,000 lower files: 1,000 copy-ups (ms)
#   cpu      CPU time the FUSE daemon spent over all of the above (ms): unlike wall times it
#            hardly depends on what else the machine runs
# Usage: bench/fuse.sh [WORKDIR]   (ROOTFS_FUSE=path/to/rootfs-fuse; default build/cli/)
# Needs ~1.2 GB in WORKDIR (default: a temporary directory under $TMPDIR or /var/tmp).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
RF=${ROOTFS_FUSE:-$here/build/cli/rootfs-fuse}
W=${1:-$(mktemp -d "${TMPDIR:-/var/tmp}/rf-bench.XXXXXX")}
mkdir -p "$W"
mounts=()
cleanup() {
	local m
	for m in "${mounts[@]}"; do fusermount3 -u -z "$m" 2>/dev/null || true; done
	[ -n "${1:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

ms() { # ms CMD...: run, print elapsed milliseconds (to 0.1 ms)
	local s e
	s=$(date +%s%N)
	"$@" > /dev/null 2>&1
	e=$(date +%s%N)
	awk -v d=$((e - s)) 'BEGIN {printf "%.1f\n", d / 1e6}'
}
best() { sort -g | head -n 1; }
wait_mounted() {
	local i
	for i in $(seq 1 400); do mountpoint -q "$1" && return 0; sleep 0.05; done
	echo "bench: $1 did not mount" >&2
	exit 1
}

L=$W/lower
if [ ! -e "$L/.done" ]; then
	echo "bench: making the lower tree in $L" >&2
	mkdir -p "$L/big" "$L/append"
	dd if=/dev/urandom of="$L/big/1g" bs=1M count=1024 status=none
	for d in $(seq -w 0 99); do
		mkdir -p "$L/tree/d$d"
		for f in $(seq -w 0 99); do
			head -c $((1024 + 10#$f * 30)) /dev/zero > "$L/tree/d$d/f$f"
		done
	done
	for f in $(seq -w 0 999); do echo "line" > "$L/append/a$f"; done
	touch "$L/.done"
fi
printf 'tree %s\n' "$L" > "$W/bench.spec"

read_mbs() { # FILE: sequential read MB/s with a warm cache, best of 5
	cat "$1" > /dev/null
	local i t=()
	for i in 1 2 3 4 5; do t+=("$(ms dd if="$1" of=/dev/null bs=1M)"); done
	printf '%s\n' "${t[@]}" | best | awk '{printf "%d", 1024 * 1000 / $1}'
}

twice() { # CMD...: first run, then best of 3 more
	local first rest
	first=$(ms "$@")
	rest=$( (ms "$@"; ms "$@"; ms "$@") | best)
	echo "$first/$rest"
}

append_all() { # DIR: append to every file in it
	local f
	for f in "$1"/*; do echo more >> "$f"; done
}

cpu_ms() { # PID: user+system CPU time in ms
	awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"
}

run() { # NAME ROOT DAEMON_PID
	local name=$1 root=$2 pid=$3
	local rd tr fd ap c0
	c0=$(cpu_ms "$pid")
	rd=$(read_mbs "$root/big/1g")
	tr=$(cd "$root/tree" && twice tar -cf /dev/null .)
	fd=$(cd "$root/tree" && twice sh -c 'find . | wc -l')
	ap=$(ms append_all "$root/append")
	printf '%-16s %10s %16s %16s %10s %8s\n' "$name" "$rd" "$tr" "$fd" "$ap" \
		$(($(cpu_ms "$pid") - c0))
}

printf '%-16s %10s %16s %16s %10s %8s\n' "" "read MB/s" "tar ms 1st/best" "find ms 1st/best" \
	"append ms" "cpu ms"
# native: the lower tree itself (appends go to a copy so the tree stays as it was)
rm -rf "$W/native-append"
cp -a "$L/append" "$W/native-append"
rd=$(read_mbs "$L/big/1g")
tr=$(cd "$L/tree" && twice tar -cf /dev/null .)
fd=$(cd "$L/tree" && twice sh -c 'find . | wc -l')
ap=$(ms append_all "$W/native-append")
printf '%-16s %10s %16s %16s %10s %8s\n' "native" "$rd" "$tr" "$fd" "$ap" -

# rootfs-fuse mount
rm -rf "$W/rf.state" "$W/rf.mnt"
mkdir "$W/rf.mnt"
t0=$(date +%s%N)
"$RF" mount "$W/bench.spec" "$W/rf.mnt" --state "$W/rf.state" --foreground &
pid=$!
mounts+=("$W/rf.mnt")
wait_mounted "$W/rf.mnt"
echo "bench: rootfs-fuse mounted in $((($(date +%s%N) - t0) / 1000000)) ms (view of $(find "$L" | wc -l) entries)" >&2
run rootfs-fuse "$W/rf.mnt" "$pid"
fusermount3 -u "$W/rf.mnt"
wait "$pid"

# fuse-overlayfs, same lower, fresh upper
if command -v fuse-overlayfs > /dev/null; then
	rm -rf "$W/fo.upper" "$W/fo.work" "$W/fo.mnt"
	mkdir "$W/fo.upper" "$W/fo.work" "$W/fo.mnt"
	fuse-overlayfs -f -o "lowerdir=$L,upperdir=$W/fo.upper,workdir=$W/fo.work" "$W/fo.mnt" \
		2>/dev/null &
	pid=$!
	mounts+=("$W/fo.mnt")
	wait_mounted "$W/fo.mnt"
	run fuse-overlayfs "$W/fo.mnt" "$pid"
	fusermount3 -u "$W/fo.mnt"
	wait "$pid" || true
fi
echo "bench: $(uname -r), $(nproc) CPUs; kept lower tree: rerun with bench/fuse.sh $W" >&2
trap 'cleanup keep' EXIT
