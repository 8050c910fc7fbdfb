#!/usr/bin/env bash
# Speed of the cpio exporter (issues 2 and 6), all in one run on one generated tree of about
# 200 MB and 10,000 files (two thirds word-salad text, one third random bytes, sizes spread
# from 100 bytes to 1 MB over 500 directories):
#   - cold cpio.gz export with 1 and 2 threads against `find . | cpio -o -H newc | gzip -6`
#     (time ratio and both output sizes);
#   - re-export with a warm segment cache after changing one file (time, % of a cold export
#     with the cache);
#   - the size overhead of segments against a one-piece export;
#   - the same re-export through a live mount's control directory: `stat` of
#     MNT/.rootfs-fuse/initramfs.cpio.gz after an edit in the mount (the export itself: the
#     mount keeps its lower view and serves cache hits as pieces, nothing is copied), and
#     `cat` of it (the export plus reading every byte through FUSE, as qemu -initrd does).
# Outputs are in the page cache when the time stops, as the pipeline's are: rootfs-fuse fsyncs
# only with --fsync (the last run shows what that costs on this disk).
# Wall clock and CPU time (user + sys) are both printed: on a loaded machine the CPU time is
# the steadier figure.
# usage: bench/export-cpio.sh [path/to/rootfs-fuse]   (default: build/cli/rootfs-fuse)
set -euo pipefail
RF=${1:-$(dirname "$0")/../build/cli/rootfs-fuse}
RF=$(realpath "$RF")
W=$(mktemp -d "${TMPDIR:-/tmp}/rf-bench.XXXXXX")
trap 'fusermount3 -u -z "$W/mnt" 2>/dev/null; rm -rf "$W"' EXIT

python3 - "$W/tree" <<'EOPY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(42)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]
total, n = 0, 0
for d in range(500):
    dd = os.path.join(root, "usr/share/d%03d/sub%d" % (d // 5, d % 5))
    os.makedirs(dd, exist_ok=True)
    for i in range(20):
        size = int(min(1 << 20, 190 * (1.6 ** rng.uniform(0, 14))))
        p = os.path.join(dd, "f%02d%s" % (i, ".bin" if i % 3 == 0 else ".txt"))
        if i % 3 == 0:
            data = os.urandom(size)
        else:
            text = " ".join(rng.choices(words, k=size // 5 + 1))
            data = text.encode()[:size]
        with open(p, "wb") as f:
            f.write(data)
        total += size
        n += 1
print(f"tree: {n} files, {total / 1e6:.0f} MB", file=sys.stderr)
EOPY
printf 'tree ./tree\n' > "$W/b.spec"
cat $(find "$W/tree" -type f) > /dev/null # page cache warm for everyone

size() { stat -c %s "$1"; }
run() { # LABEL CMD...: time one run (wall clock, and CPU time user+sys, children included)
	local r u s
	sync # no dirty pages of an earlier run written back during this one
	TIMEFORMAT='%R %U %S'
	read -r r u s < <({ time "${@:2}" 2>&3; } 3>&2 2>&1)
	t=$r
	c=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')
	printf '%-44s %7s s wall %7s s CPU\n' "$1" "$t" "$c"
}

echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "find . | cpio -o -H newc | gzip -6" \
	sh -c "cd '$W/tree' && find . | cpio -o -H newc --quiet | gzip -6 > '$W/ref.cpio.gz'"
t_ref=$t c_ref=$c
run "rootfs-fuse export, 1 thread, no cache" \
	"$RF" export "$W/b.spec" --no-cache --threads 1 -o "$W/t1.cpio.gz"
t_1=$t c_1=$c
run "rootfs-fuse export, 2 threads, no cache" \
	"$RF" export "$W/b.spec" --no-cache --threads 2 -o "$W/t2.cpio.gz"
t_2=$t
cmp "$W/t1.cpio.gz" "$W/t2.cpio.gz" || { echo "1 and 2 threads differ" >&2; exit 1; }
rm -rf "$W/b.state"
run "rootfs-fuse export, 2 threads, cold cache" \
	"$RF" export "$W/b.spec" --threads 2 -o "$W/cold.cpio.gz"
t_cold=$t c_cold=$c
echo "one more line" >> "$W/tree/usr/share/d050/sub2/f04.txt"
run "re-export after changing one file (warm)" \
	"$RF" export "$W/b.spec" --threads 2 -o "$W/warm.cpio.gz"
t_warm=$t c_warm=$c
echo "and one more line" >> "$W/tree/usr/share/d070/sub1/f07.txt"
run "re-export after another change, --fsync" \
	"$RF" export "$W/b.spec" --threads 2 --fsync -o "$W/warm-fsync.cpio.gz"
t_wf=$t
run "rootfs-fuse export, one piece, 1 thread" \
	"$RF" export "$W/b.spec" --no-cache --segment-size 0 -o "$W/one.cpio.gz"

mkdir "$W/mnt"
"$RF" mount "$W/b.spec" "$W/mnt"
for i in $(seq 1 400); do mountpoint -q "$W/mnt" && break; sleep 0.05; done
C=$W/mnt/.rootfs-fuse/initramfs.cpio.gz
run "mount: first export (stat of the control file)" sh -c "stat '$C' > /dev/null"
echo "a line in the mount" >> "$W/mnt/usr/share/d030/sub3/f01.txt"
run "mount: re-export after one edit (stat)" sh -c "stat '$C' > /dev/null"
t_mstat=$t
echo "another line in the mount" >> "$W/mnt/usr/share/d090/sub0/f02.txt"
run "mount: re-export after one edit (cat)" sh -c "cat '$C' > /dev/null"
t_mcat=$t
"$RF" umount "$W/mnt"

echo
awk -v r="$t_ref" -v a="$t_1" -v b="$t_2" -v rc="$c_ref" -v c1="$c_1" 'BEGIN {
	printf "speed-up against find|cpio|gzip -6: %.2fx (1 thread), %.2fx (2 threads) wall; %.2fx CPU\n", r / a, r / b, rc / c1 }'
awk -v r="$(size "$W/ref.cpio.gz")" -v o="$(size "$W/t2.cpio.gz")" 'BEGIN {
	printf "sizes: find|cpio|gzip -6 %d bytes, rootfs-fuse %d bytes (%+.2f%%)\n", r, o, (o - r) * 100 / r }'
awk -v c="$t_cold" -v w="$t_warm" -v cc="$c_cold" -v cw="$c_warm" 'BEGIN {
	printf "warm re-export after one change: %.2f s = %.1f%% of a cold export with the cache (%.2f s); CPU %.1f%%\n", w, w * 100 / c, c, cw * 100 / cc }'
awk -v c="$t_cold" -v w="$t_wf" 'BEGIN {
	printf "the same with --fsync: %.2f s = %.1f%% of the cold export\n", w, w * 100 / c }'
awk -v one="$(size "$W/one.cpio.gz")" -v seg="$(size "$W/t2.cpio.gz")" 'BEGIN {
	printf "segments against one piece: %d vs %d bytes (%+.2f%%)\n", seg, one, (seg - one) * 100 / one }'
awk -v c="$t_cold" -v s="$t_mstat" -v k="$t_mcat" 'BEGIN {
	printf "re-export in a mount after one edit: %.3f s = %.1f%% of a cold export (the work is the daemon\x27s: wall clock only); with reading it all through FUSE: %.2f s = %.1f%%\n", s, s * 100 / c, k, k * 100 / c }'
