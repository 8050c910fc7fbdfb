#!/usr/bin/env bash
# Segmented cpio exports (issue 6): small segments make a multi-segment archive that GNU cpio
# and libarchive extract to the same tree as a one-piece export, in every compression; the
# output is byte-identical with 1 and 2 threads and with a cold and a warm cache; a changed
# file rebuilds about one segment; a corrupt or truncated cache entry is rebuilt, never
# served; the cache bound holds; multi-segment initramfs images boot under QEMU (gzip, zstd,
# lz4).
. "$(dirname "$0")/lib.sh"
cmp_py="$RF_SRC/tests/integration/listing_compare.py"

# a tree of ~3 MB: 30 directories of text and random files, hard links, symlinks
mk_tree() {
	python3 - "$T/tree/data" <<'EOPY'
import os, sys
root = sys.argv[1]
for d in range(30):
    dd = os.path.join(root, "d%02d" % d)
    os.makedirs(dd)
    for i in range(10):
        with open(os.path.join(dd, "t%d.txt" % i), "w") as f:
            f.write("".join("%d\n" % k for k in range(d * 1000 + i, d * 1050 + i + 2000)))
    with open(os.path.join(dd, "r.bin"), "wb") as f:
        f.write(os.urandom(20000 + d * 1000))
    os.symlink("t0.txt", os.path.join(dd, "link"))
os.link(os.path.join(root, "d03/t1.txt"), os.path.join(root, "d03/hard1"))
os.link(os.path.join(root, "d03/t1.txt"), os.path.join(root, "d17/hard2"))
EOPY
}
mk_tree
# what an extraction holds: names, types, modes, sizes, link targets, content sums
tree_sig() {
	(cd "$1" && find . -printf '%p %y %M %s %l %n\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 md5sum)
}
printf '#!/bin/sh\necho init\n' > "$T/init"
cat > "$T/g.spec" <<EOS
busybox /bin/busybox
tree    ./tree
dir     /dev 0755 0 0
nod     /dev/console 0600 0 5 c 5 1
file    /init ./init 0755 0 0
EOS
"$RF" ls "$T/g.spec" --hash > "$T/ls.txt"
SEG="--segment-size 64K"

# members of a concatenation of gzip streams
gz_members() {
	python3 - "$1" <<'EOPY'
import sys, zlib
data, n = open(sys.argv[1], "rb").read(), 0
while data:
    d = zlib.decompressobj(31)
    d.decompress(data)
    data, n = d.unused_data, n + 1
print(n)
EOPY
}

"$RF" export "$T/g.spec" --no-cache --segment-size 0 -o "$T/one.cpio"
"$RF" export "$T/g.spec" --no-cache $SEG -o "$T/multi.cpio"
cmp "$T/one.cpio" "$T/multi.cpio" || fail "uncompressed segments differ from the one-piece stream"
"$RF" export "$T/g.spec" --no-cache --segment-size 0 -o "$T/one.cpio.gz"
"$RF" export "$T/g.spec" --no-cache $SEG -o "$T/multi.cpio.gz"
[ "$(gz_members "$T/one.cpio.gz")" = 1 ] || fail "one-piece export has several gzip members"
n=$(gz_members "$T/multi.cpio.gz")
[ "$n" -ge 10 ] || fail "only $n segments"
gzip -dc "$T/multi.cpio.gz" | cmp - "$T/one.cpio" || fail "gzip segments do not concatenate to the one-piece stream"
ok "$n gzip segments concatenate to the one-piece newc stream"

mkdir "$T/x-one"
# as an ordinary user the device node cannot be made: the same in every extraction
(cd "$T/x-one" && cpio -i -d -m --quiet < "$T/one.cpio" 2>/dev/null) || [ "$(id -u)" != 0 ]
python3 "$cmp_py" "$T/ls.txt" <(cpio -t -v --numeric-uid-gid < "$T/one.cpio" 2>/dev/null) \
	> "$T/cmp.txt" || { cat "$T/cmp.txt"; fail "the one-piece export differs from ls --long"; }
tree_sig "$T/x-one" > "$T/sig-one.txt"
# every compression: the tool's decompression is the one-piece stream; libarchive (and for
# gzip GNU cpio) extracts the segments to the one-piece tree
for alg in gzip zstd xz lz4; do
	out="$T/m-$alg.bin"
	"$RF" export "$T/g.spec" --no-cache $SEG --compress "$alg" -o "$out"
	case $alg in
	gzip) dec="gzip -dc" ;; zstd) dec="zstd -q -dc" ;; xz) dec="xz -dc" ;; lz4) dec="lz4 -q -dc" ;;
	esac
	$dec < "$out" | cmp - "$T/one.cpio" || fail "$alg segments do not decompress to the one-piece stream"
	tools=bsdtar
	[ $alg = gzip ] && tools="cpio bsdtar"
	for tool in $tools; do
		x="$T/x-$alg-$tool"
		mkdir "$x"
		if [ $tool = cpio ]; then
			gzip -dc "$out" | (cd "$x" && cpio -i -d -m --quiet 2>/dev/null) || [ "$(id -u)" != 0 ]
			gzip -dc "$out" | cpio -t -v --numeric-uid-gid > "$T/tv.txt" 2>/dev/null
		else
			bsdtar -x -f "$out" -C "$x" 2>/dev/null || [ "$(id -u)" != 0 ]
			bsdtar -t -v --numeric-owner -f "$out" > "$T/tv.txt"
		fi
		# metadata against ls --long (contents are compared through the signatures)
		python3 "$cmp_py" "$T/ls.txt" "$T/tv.txt" > "$T/cmp.txt" ||
			{ cat "$T/cmp.txt"; fail "$alg segments read by $tool differ from ls --long"; }
		tree_sig "$x" | diff "$T/sig-one.txt" - || fail "$alg segments extracted by $tool differ from the one-piece export"
		[ "$(stat -c %i "$x/data/d03/t1.txt")" = "$(stat -c %i "$x/data/d17/hard2")" ] ||
			fail "$alg/$tool: hard link across segments lost"
	done
done
ok "gzip, zstd, xz, lz4 segments decompress to the one-piece stream and extract (GNU cpio, bsdtar) to its tree"

# threads and cache: byte-identical
"$RF" export "$T/g.spec" --no-cache $SEG --threads 1 -o "$T/t1.cpio.gz"
"$RF" export "$T/g.spec" --no-cache $SEG --threads 2 -o "$T/t2.cpio.gz"
cmp "$T/t1.cpio.gz" "$T/t2.cpio.gz" || fail "1 and 2 threads differ"
cmp "$T/t1.cpio.gz" "$T/multi.cpio.gz" || fail "--threads 1 differs from the default"
cache="$T/g.state/cache"
[ ! -e "$cache" ] || fail "--no-cache created a cache"
"$RF" export "$T/g.spec" $SEG -o "$T/cold.cpio.gz"
n_seg=$(ls "$cache/seg" | wc -l)
[ "$n_seg" -ge 10 ] || fail "cache holds $n_seg segments"
[ -s "$cache/hashes" ] || fail "no content-hash memo"
"$RF" export "$T/g.spec" $SEG --threads 2 -o "$T/warm.cpio.gz"
cmp "$T/cold.cpio.gz" "$T/t1.cpio.gz" || fail "cold cache export differs"
cmp "$T/warm.cpio.gz" "$T/t1.cpio.gz" || fail "warm cache export differs"
[ "$(ls "$cache/seg" | wc -l)" = "$n_seg" ] || fail "a warm export added segments"
ok "byte-identical with 1 and 2 threads, cold and warm cache"

# one changed file rebuilds about one segment, and the output is right
touch -d '2001-01-01' "$T/stamp"
find "$cache/seg" -type f -exec touch -r "$T/stamp" {} +
echo changed >> "$T/tree/data/d12/t5.txt"
"$RF" export "$T/g.spec" $SEG -o "$T/changed.cpio.gz"
"$RF" export "$T/g.spec" --no-cache $SEG -o "$T/changed-ref.cpio.gz"
cmp "$T/changed.cpio.gz" "$T/changed-ref.cpio.gz" || fail "cached export after a change differs"
new=$(find "$cache/seg" -type f -newer "$T/stamp" | wc -l)
hits=$((n_seg - $(find "$cache/seg" -type f ! -newer "$T/stamp" | wc -l)))
made=$(($(ls "$cache/seg" | wc -l) - n_seg))
[ "$made" -ge 1 ] && [ "$made" -le 2 ] || fail "one changed file made $made new segments"
[ "$new" -ge "$n_seg" ] || fail "segments used by the re-export not marked recent ($new, $hits)"
ok "one changed file: $made new segment(s), the output as without a cache"

# corrupt and truncated entries are rebuilt, never served
# two entries the current view uses (the stale one of the changed segment is never read)
victims=$(find "$cache/seg" -type f -newer "$T/stamp" -printf '%f\n' | sort | head -n 2)
set -- $victims
cp "$cache/seg/$1" "$T/good1"
cp "$cache/seg/$2" "$T/good2"
sz=$(stat -c %s "$cache/seg/$1")
printf 'X' | dd of="$cache/seg/$1" bs=1 seek=$((sz / 2)) conv=notrunc status=none
truncate -s $(($(stat -c %s "$cache/seg/$2") - 7)) "$cache/seg/$2"
"$RF" export "$T/g.spec" $SEG -o "$T/repaired.cpio.gz"
cmp "$T/repaired.cpio.gz" "$T/changed-ref.cpio.gz" || fail "a corrupt cache entry was served"
cmp "$cache/seg/$1" "$T/good1" || fail "corrupt entry not rebuilt"
cmp "$cache/seg/$2" "$T/good2" || fail "truncated entry not rebuilt"
# an entry checked last time is trusted by its stamp (inode, size, mtime, ctime), recorded in
# cache/verified; a corruption that even puts the mtime back still changes the ctime
[ -s "$cache/verified" ] || fail "no cache/verified after an export"
touch -r "$cache/seg/$1" "$T/mtime1"
printf 'Y' | dd of="$cache/seg/$1" bs=1 seek=$((sz / 3)) conv=notrunc status=none
touch -r "$T/mtime1" "$cache/seg/$1"
"$RF" export "$T/g.spec" $SEG -o "$T/repaired2.cpio.gz"
cmp "$T/repaired2.cpio.gz" "$T/changed-ref.cpio.gz" || fail "a corrupt entry with its old mtime was served"
cmp "$cache/seg/$1" "$T/good1" || fail "corrupt entry with its old mtime not rebuilt"
printf 'garbage' > "$cache/verified"
"$RF" export "$T/g.spec" $SEG -o "$T/verified.cpio.gz"
cmp "$T/verified.cpio.gz" "$T/changed-ref.cpio.gz" || fail "a damaged cache/verified changed the output"
printf 'garbage' > "$cache/hashes"
"$RF" export "$T/g.spec" $SEG -o "$T/memo.cpio.gz"
cmp "$T/memo.cpio.gz" "$T/changed-ref.cpio.gz" || fail "a corrupt hash memo changed the output"
ok "corrupt and truncated cache entries, memo and verified stamps are detected and rebuilt"

# the bound: a small cache keeps under it, the output stays right
"$RF" export "$T/g.spec" $SEG --cache-size 200K -o "$T/bounded.cpio.gz"
cmp "$T/bounded.cpio.gz" "$T/changed-ref.cpio.gz" || fail "bounded cache export differs"
total=$(du -b -s "$cache/seg" | cut -f1)
total=$(find "$cache/seg" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
[ "$total" -le $((200 * 1024)) ] || fail "cache holds $total bytes over a 200K bound"
[ "$total" -gt 0 ] || { ls -la --time-style=full-iso "$cache" "$cache/seg" >&2; fail "bounded cache emptied"; }
ok "--cache-size 200K holds ($total bytes)"

# a state directory that cannot be created costs the cache, not the export
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro"
	sed "s|\./tree|$T/tree|; s|\./init|$T/init|" "$T/g.spec" > "$T/ro/g.spec"
	chmod 555 "$T/ro"
	"$RF" export "$T/ro/g.spec" $SEG -o "$T/ro-out.cpio.gz" || fail "export failed without a writable state directory"
	cmp "$T/ro-out.cpio.gz" "$T/changed-ref.cpio.gz" || fail "export without a cache differs"
	[ ! -e "$T/ro/g.state" ] || fail "state directory created in a read-only directory"
	chmod 755 "$T/ro"
	ok "a read-only SPEC directory: no cache, same output"
fi

# multi-segment initramfs images boot: busybox, the tree, an /init that checks it
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-*"
want=$(cd "$T/tree" && find data -type f | LC_ALL=C sort | xargs cat | md5sum | cut -d' ' -f1)
cat > "$T/boot.init" <<'EOS'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
sum=$(cd / && find data -type f | sort | xargs cat | md5sum | cut -d' ' -f1)
n=$(ls -i /data/d03/t1.txt /data/d17/hard2 | awk '{print $1}' | uniq | wc -l)
echo "rf-segments $sum links $n"
poweroff -f
EOS
cat > "$T/boot.spec" <<EOS
busybox /bin/busybox
tree    ./tree
dir     /dev 0755 0 0
nod     /dev/console 0600 0 5 c 5 1
file    /init ./boot.init 0755 0 0
EOS
for alg in gzip zstd lz4; do
	rc=0
	"$RF" boot "$T/boot.spec" --kernel "$K" --timeout 180 --append quiet --compress "$alg" \
		$SEG > "$T/boot-$alg.txt" 2>&1 < /dev/null || rc=$?
	[ "$rc" -eq 0 ] || { tail -n 20 "$T/boot-$alg.txt"; fail "$alg boot exit status $rc"; }
	tr -d '\r' < "$T/boot-$alg.txt" | grep -q "rf-segments $want links 1$" ||
		{ tail -n 20 "$T/boot-$alg.txt"; fail "$alg: the guest does not see the whole tree"; }
done
[ -d "$T/boot.state/cache/seg" ] || fail "boot did not use the segment cache"
ok "multi-segment gzip, zstd and lz4 initramfs images boot with the whole tree"

finish
