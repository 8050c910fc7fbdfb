#!/usr/bin/env bash
# Speed of the ext4 and qcow2 exporters against the reference tools, on the same ~200 MB tree
# in one run (issue 5): ext4 export vs `mke2fs -t ext4 -d`, qcow2 export vs `mke2fs -d` then
# `qemu-img convert -O qcow2`. Each is run RUNS times (default 3), the best time is reported,
# page cache warm for all. The reference gets the same filesystem size as our export chose.
# usage: bench/export-images.sh [ROOTFS_FUSE_BINARY]  (env: TREE_MB=200, RUNS=3, TMPDIR)
set -euo pipefail
RF=${1:-${ROOTFS_FUSE:-$(dirname "$0")/../build/cli/rootfs-fuse}}
TREE_MB=${TREE_MB:-200}
RUNS=${RUNS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/rf-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

# A tree of ~TREE_MB MB copied from the host's /usr (libraries, programs, data: a mix of large
# and small files, symlinks and deep directories), in a stable order.
python3 - "$W/tree" "$TREE_MB" <<'EOF'
import os, shutil, sys
dst, limit = sys.argv[1], int(sys.argv[2]) << 20
def copy(top, limit):
    total = 0
    for root, dirs, files in os.walk(top):
        dirs.sort()
        rel = os.path.relpath(root, "/")
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in sorted(files):
            s = os.path.join(root, f)
            d = os.path.join(dst, rel, f)
            try:
                if os.path.islink(s):
                    os.symlink(os.readlink(s), d)
                elif os.path.isfile(s) and os.access(s, os.R_OK):
                    shutil.copy2(s, d)
                    total += os.path.getsize(d)
            except OSError:
                pass
            if total >= limit:
                return

for top in ("/usr/share", "/usr/lib/x86_64-linux-gnu", "/usr/bin"):
    copy(top, limit // 3)
EOF
files=$(find "$W/tree" | wc -l)
echo "tree: $(du -sm "$W/tree" | cut -f1) MB, $files entries"

best() { # best wall time in seconds of RUNS runs of "$@"
	local b="" t s e
	for _ in $(seq 1 "$RUNS"); do
		s=$(date +%s.%N)
		"$@" > /dev/null 2>&1
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

export SOURCE_DATE_EPOCH=1700000000
rf_ext4() { rm -f "$W/rf.ext4"; "$RF" export --tree "$W/tree" -o "$W/rf.ext4" --quiet; }
rf_qcow2() { rm -f "$W/rf.qcow2"; "$RF" export --tree "$W/tree" -o "$W/rf.qcow2" --quiet; }
rf_ext4 # warm the page cache and learn the size
size_k=$(( $(stat -c %s "$W/rf.ext4") / 1024 ))
# 4 KiB blocks and 256-byte inodes as ours: mke2fs.conf's "small" type (under 512 MiB) would
# otherwise pick 1 KiB blocks and 128-byte inodes, another filesystem
mkfs_ext4() {
	rm -f "$W/ref.ext4"
	mke2fs -q -F -t ext4 -b 4096 -I 256 -d "$W/tree" "$W/ref.ext4" "${size_k}k"
}
mkfs_qcow2() { mkfs_ext4 && rm -f "$W/ref.qcow2" && qemu-img convert -O qcow2 "$W/ref.ext4" "$W/ref.qcow2"; }
mkfs_ext4 > /dev/null 2>&1

t_rf4=$(best rf_ext4)
t_mk4=$(best mkfs_ext4)
t_rfq=$(best rf_qcow2)
t_mkq=$(best mkfs_qcow2)
e2fsck -fn "$W/rf.ext4" > /dev/null 2>&1 || echo "WARNING: e2fsck found problems in our export"
printf '%-34s %8s s\n' "rootfs-fuse export .ext4" "$t_rf4" "mke2fs -t ext4 -d" "$t_mk4" \
	"rootfs-fuse export .qcow2" "$t_rfq" "mke2fs -d + qemu-img convert" "$t_mkq"
printf 'ext4:  reference/ours = %.2f (>= 1 means ours is at least as fast)\n' \
	"$(echo "$t_mk4 / $t_rf4" | bc -l)"
printf 'qcow2: reference/ours = %.2f\n' "$(echo "$t_mkq / $t_rfq" | bc -l)"
printf 'sizes: ours %s / %s, reference %s / %s (ext4 / qcow2 bytes)\n' \
	"$(stat -c %s "$W/rf.ext4")" "$(stat -c %s "$W/rf.qcow2")" \
	"$(stat -c %s "$W/ref.ext4")" "$(stat -c %s "$W/ref.qcow2")"
