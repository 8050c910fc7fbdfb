#!/usr/bin/env bash
# rootfs-fuse du and diff on archives built here with GNU cpio and the real compressors:
# totals equal the uncompressed stream and the sum of file sizes, compressed bytes per entry
# add up to the file size, a microcode-style multi-segment initramfs is read whole, --by layer
# attributes every path once, bad input gives one-line errors (and a report with --partial).
. "$(dirname "$0")/lib.sh"
CHECK="python3 $RF_SRC/tests/integration/du_check.py"

# --- fixtures: a tree with an incompressible 1 MiB file, text, a symlink, nested dirs
R=$T/root
mkdir -p "$R/bin" "$R/etc/ssl" "$R/usr/lib/deep/er"
head -c 1048576 /dev/urandom >"$R/bin/random"
seq 1 30000 >"$R/etc/seq.txt"
for i in $(seq 1 40); do echo "line $i of a config file" >"$R/etc/ssl/conf$i"; done
printf 'x%.0s' $(seq 1 5000) >"$R/usr/lib/deep/er/xs"
ln -s ../bin/random "$R/usr/lib/link"
: >"$R/etc/empty"
mkcpio() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet); }
mkcpio "$R" >"$T/a.cpio"
# sum of entry data: regular files and symlink targets (directories carry none in newc)
file_sizes=$(cd "$R" && find . -mindepth 1 ! -type d -printf '%s\n' | awk '{s+=$1} END {print s}')

checks=()
for comp in gzip zstd xz lzma bzip2 lz4; do
	case $comp in
	gzip) gzip -9 -c "$T/a.cpio" >"$T/a.$comp"; dec="gzip -dc" ;;
	zstd) zstd -q -c "$T/a.cpio" >"$T/a.$comp"; dec="zstd -dc" ;;
	xz) xz --check=crc32 -c "$T/a.cpio" >"$T/a.$comp"; dec="xz -dc" ;;
	lzma) lzma -c "$T/a.cpio" >"$T/a.$comp"; dec="lzma -dc" ;;
	bzip2) bzip2 -c "$T/a.cpio" >"$T/a.$comp"; dec="bzip2 -dc" ;;
	lz4) lz4 -q -l -c "$T/a.cpio" >"$T/a.$comp"; dec="lz4 -dc" ;;
	esac
	"$RF" du --json "$T/a.$comp" >"$T/a.$comp.json"
	stream=$($dec <"$T/a.$comp" | wc -c)
	# an incompressible 1 MiB costs about 1 MiB: within 3% (lzma1 cannot store, it expands);
	# bzip2 (900k blocks) and lz4 legacy (8 MiB blocks liblz4 decodes whole) are attributed
	# proportionally within a block, so coarser
	tol=3
	case $comp in bzip2 | lz4) tol=10 ;; esac
	checks+=(-- file "$T/a.$comp.json"
		-- totals "$stream" "$file_sizes" "$(stat -c %s "$T/a.$comp")" -- segments "$comp"
		-- sorted
		-- cost /bin/random $((1048576 * (100 - tol) / 100)) $((1048576 * (100 + tol) / 100)))
done
# one python for all six (it starts slowly on a loaded machine)
$CHECK "$T/a.gzip.json" sorted "${checks[@]}" || fail "compressed initramfs checks"
ok "gzip, zstd, xz, lzma, bzip2, lz4 initramfs: totals = zcat | wc -c and the sum of file sizes, costs add up to the file"

# text output: header, human units, the headers line, the summary; --bytes, --depth, --top
gzip -9 -c "$T/a.cpio" >"$T/a.cpio.gz"
out=$("$RF" du "$T/a.cpio.gz")
grep -Eq '^ +apparent +compressed +path$' <<<"$out" || fail "no header: $out"
grep -Eq '^ +1\.0M +1\.0M +/bin/random$' <<<"$out" || fail "random not 1.0M/1.0M: $out"
grep -q '(cpio headers and padding)' <<<"$out" || fail "no headers line"
grep -Eq "^total: $(gzip -dc "$T/a.cpio.gz" | wc -c) bytes of cpio stream" <<<"$out" ||
	fail "bad total: $out"
first=$("$RF" du --bytes "$T/a.cpio.gz" | sed -n 3p)
[ "$(awk '{print $3}' <<<"$first")" = /bin/ ] || fail "largest first: $first"
[ "$(awk '{print $1}' <<<"$first")" = 1048576 ] || fail "--bytes: $first"
n=$("$RF" du --depth 1 "$T/a.cpio.gz" | grep -c '^ ')
[ "$n" -eq 6 ] || fail "--depth 1 shows $n lines"
"$RF" du --top 2 "$T/a.cpio.gz" | has -E '^ +[0-9.KM]+ +[0-9.KM]+ +\(38 more\)$' ||
	fail "--top 2 does not fold the other 38 files of /etc/ssl"
ok "text: units, largest first, --bytes, --depth, --top"

# --- microcode-style multi-segment image: uncompressed cpio + zero padding + gzip + zstd
U=$T/ucode
mkdir -p "$U/kernel/x86/microcode"
head -c 24000 /dev/urandom >"$U/kernel/x86/microcode/GenuineIntel.bin"
mkcpio "$U" >"$T/early.cpio"
mkdir -p "$T/extra/lib/firmware" && seq 1 9000 >"$T/extra/lib/firmware/fw.txt"
mkcpio "$T/extra" | zstd -q -c >"$T/extra.cpio.zst"
{ cat "$T/early.cpio"; head -c 512 /dev/zero; cat "$T/a.cpio.gz" "$T/extra.cpio.zst"; } >"$T/multi.img"
"$RF" du --json "$T/multi.img" >"$T/m.json"
stream=$(($(stat -c %s "$T/early.cpio") + $(gzip -dc "$T/a.cpio.gz" | wc -c) +
	$(zstd -dc "$T/extra.cpio.zst" | wc -c)))
# GNU cpio pads the uncompressed archive to 512 bytes after its trailer: not cpio stream
early_stream=$(python3 -c "import sys;d=open(sys.argv[1],'rb').read();print((len(d.rstrip(b'\0'))+4)&~3)" \
	"$T/early.cpio")
stream=$((stream - $(stat -c %s "$T/early.cpio") + early_stream))
ms=$(( file_sizes + 24000 + $(stat -c %s "$T/extra/lib/firmware/fw.txt") ))
$CHECK "$T/m.json" totals "$stream" "$ms" "$(stat -c %s "$T/multi.img")" \
	-- segments none gzip zstd \
	-- size /kernel/x86/microcode/GenuineIntel.bin 24000 \
	-- cost /kernel/x86/microcode/GenuineIntel.bin 24000 24000 \
	-- size /bin/random 1048576 \
	-- size /lib/firmware/fw.txt "$(stat -c %s "$T/extra/lib/firmware/fw.txt")" || fail "multi"
"$RF" du --by layer --depth 1 "$T/multi.img" | has '\[segment 3 (zstd at byte' ||
	fail "--by layer on an initramfs does not group by segment"
ok "multi-segment initramfs (cpio + zeros + gzip + zstd) read whole"

# --- --by layer on a SPEC: busybox, a host program, modules (when those layers exist)
spec=$T/s.spec
printf 'busybox /bin/busybox\ntree %s\nfile /init %s 0755 0 0\n' "$R" "$R/etc/seq.txt" >"$spec"
if "$RF" ls --host /usr/bin/xz >/dev/null 2>&1; then
	echo "host /usr/bin/xz /usr/bin/zstd" >>"$spec"
else
	echo "# skipped in --by layer: the host layer is not in this build" >&2
fi
kver=$(ls /lib/modules 2>/dev/null | sort -V | tail -n 1)
if [ -n "$kver" ] && "$RF" ls --modules "/lib/modules/$kver" virtio_blk >/dev/null 2>&1; then
	echo "modules /lib/modules/$kver virtio_blk ext4" >>"$spec"
else
	echo "# skipped in --by layer: the modules layer is not in this build" >&2
fi
# two TinyCore packages, app needing lib (.tcz.dep), packed with mksquashfs
opt=$T/tce/optional
mkdir -p "$opt" "$T/pkg/app/usr/local/bin" "$T/pkg/lib/usr/local/lib"
head -c 70000 /dev/urandom >"$T/pkg/app/usr/local/bin/app"
head -c 50000 /dev/urandom >"$T/pkg/lib/usr/local/lib/libthing.so"
for p in app lib; do
	PATH=$PATH:/usr/sbin:/sbin mksquashfs "$T/pkg/$p" "$opt/$p.tcz" -noappend -quiet -all-root >/dev/null
done
echo lib.tcz >"$opt/app.tcz.dep"
if "$RF" ls --tcz "$opt" app >/dev/null 2>&1; then
	echo "tcz $opt app" >>"$spec"
else
	echo "# skipped in --by layer: the tcz layer is not in this build" >&2
fi
"$RF" ls --long "$spec" >"$T/ls.txt"
"$RF" du --json --by layer "$spec" >"$T/l.json"
$CHECK "$T/l.json" by-layer "$T/ls.txt" || fail "--by layer"
"$RF" du --by layer --depth 1 "$spec" | has '\[busybox /bin/busybox\]/' ||
	fail "no busybox group"
if grep -q '^host ' "$spec"; then
	# inside the host layer: each binary with its libraries, libc shared by both
	"$RF" du --by layer --bytes "$spec" >"$T/l.txt"
	grep -Eq '^ +[0-9]+ +\[host /usr/bin/xz /usr/bin/zstd\]/\[/usr/bin/zstd\]/usr/bin/zstd$' \
		"$T/l.txt" || fail "zstd not in its own sub-group: $(grep zstd "$T/l.txt" | head -3)"
	grep -Eq '\[shared by /usr/bin/xz, /usr/bin/zstd\]/.*/libc\.so\.6$' "$T/l.txt" ||
		fail "libc not shared by xz and zstd: $(grep libc "$T/l.txt")"
	grep -Eq '\[/usr/bin/zstd\]/.*/liblz4\.so' "$T/l.txt" || fail "liblz4 not zstd's"
fi
if grep -q '^tcz ' "$spec"; then
	"$RF" du --by layer --bytes "$spec" >"$T/l.txt"
	grep -Eq "^ +70000 +\[tcz $opt app\]/\[app\]/usr/local/bin/app\$" "$T/l.txt" ||
		fail "app.tcz not its own sub-group: $(grep tcz "$T/l.txt" | head -5)"
	grep -Eq "^ +50000 +\[tcz $opt app\]/\[lib\]/usr/local/lib/libthing.so\$" "$T/l.txt" ||
		fail "the dependency lib.tcz not its own sub-group"
fi
ok "--by layer on a SPEC attributes every path once, to the layer ls --long names"

# our own segmented export of the SPEC: read whole, same files and sizes as du of the SPEC
if "$RF" export "$spec" -o "$T/s.cpio.zst" --segment-size 256K --no-cache --quiet 2>"$T/x.err"; then
	"$RF" du --json "$spec" >"$T/sv.json"
	"$RF" du --json "$T/s.cpio.zst" >"$T/sc.json"
	"$RF" export "$spec" -o "$T/s.iso" --quiet
	"$RF" du --json "$T/s.iso" >"$T/si.json" || fail "du of the SPEC's ISO export"
	python3 - "$T/sv.json" "$T/sc.json" "$(stat -c %s "$T/s.cpio.zst")" "$T/si.json" <<'PY' ||
import json, sys
def files(t, out, pre=""):
    for k in t.get("children", []):
        if k["type"] == "file":
            out[k["path"]] = k["size"]
        files(k, out)
    return out
v = files(json.load(open(sys.argv[1]))["tree"], {})
c = json.load(open(sys.argv[2]))
cf = files(c["tree"], {})
cf.pop("/(cpio headers and padding)", None)
assert v == cf, "differ: %s" % sorted(set(v.items()) ^ set(cf.items()))[:5]
assert len(c["segments"]) > 1, c["segments"]
assert c["tree"]["compressed"] == int(sys.argv[3])
i = files(json.load(open(sys.argv[4]))["tree"], {})  # and our ISO export
assert v == i, "iso differs: %s" % sorted(set(v.items()) ^ set(i.items()))[:5]
PY
		fail "du of the export differs from du of the SPEC"
	ok "rootfs-fuse export (segmented zstd, $(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))['segments']))" "$T/sc.json") segments) and ISO export: the same files and sizes as the SPEC"
else
	echo "# skipped the export cross-check: $(cat "$T/x.err")" >&2
fi

# the distribution's own initramfs (Debian's initramfs-tools made it for the installed kernel)
initrd=$(ls /boot/initrd.img-* 2>/dev/null | sort -V | tail -n 1)
if [ -n "$initrd" ] && [ -r "$initrd" ] && command -v lsinitramfs >/dev/null; then
	"$RF" du --json "$initrd" >"$T/initrd.json"
	lsinitramfs "$initrd" | sed 's|^\./||; s|^\.$||' | LC_ALL=C sort -u >"$T/lsinitramfs.txt"
	python3 - "$T/initrd.json" "$T/lsinitramfs.txt" "$(stat -c %s "$initrd")" <<'PY' ||
import json, sys
d = json.load(open(sys.argv[1]))
def walk(n):
    yield n
    for k in n.get("children", []):
        yield from walk(k)
paths = sorted(set(n["path"].lstrip("/") for n in walk(d["tree"]) if n["type"] != "meta"))
ref = sorted(set(open(sys.argv[2]).read().split("\n")))
assert paths == ref, "paths differ: %s" % sorted(set(paths) ^ set(ref))[:5]
assert d["tree"]["compressed"] == int(sys.argv[3])
PY
		fail "du of $initrd disagrees with lsinitramfs"
	ok "$(basename "$initrd"): the same paths as lsinitramfs, costs add up to the file"
else
	echo "# skipped: no readable /boot/initrd.img-* or no lsinitramfs" >&2
fi

# a directory (a mount point) and an ISO made by bsdtar
"$RF" du --json "$R" >"$T/d.json"
$CHECK "$T/d.json" size /bin/random 1048576 || fail "directory"
bsdtar --format iso9660 -C "$R" -cf "$T/a.iso" .
"$RF" du --json "$T/a.iso" >"$T/i.json"
$CHECK "$T/i.json" size /bin/random 1048576 -- size /etc/seq.txt "$(stat -c %s "$R/etc/seq.txt")" ||
	fail "iso"
ok "a directory and an ISO"

# --- our ISO export of a tree 13 directories deep: ISO 9660 allows 8, Rock Ridge relocates the rest
# (RE/CL/PL); du and diff read it through libisofs with the right sizes, image bytes and digests
D=$T/deep
dd=lib/modules/6.1.0-test/kernel/drivers/net/ethernet/intel/e1000e/a/b/c/d
mkdir -p "$D/$dd" "$D/lib/modules/6.1.0-test/kernel/drivers/net/ethernet/intel/e1000e/x/y/z"
head -c 70001 /dev/urandom >"$D/$dd/deepest.ko"
seq 1 4000 >"$D/${dd%/d}/numbers.txt"
echo hi >"$D/lib/modules/6.1.0-test/kernel/drivers/net/ethernet/intel/e1000e/x/y/z/hi"
ln "$D/$dd/deepest.ko" "$D/$dd/hardlink.ko"
sl_target=../../../deepest-link
ln -s "$sl_target" "$D/$dd/sl"
printf 'tree %s\n' "$D" >"$T/deep.spec"
"$RF" export "$T/deep.spec" -o "$T/deep.iso" --quiet
# the tree really is deeper than ISO 9660's 8 levels (so the image relocates it)
[ "$(tr -cd / <<<"$dd" | wc -c)" -ge 12 ] || fail "fixture not deep enough: $dd"
"$RF" du --json "$T/deep.iso" >"$T/deep.json" || fail "du of a deep ISO"
$CHECK "$T/deep.json" size "/$dd/deepest.ko" 70001 -- cost "/$dd/deepest.ko" 71680 71680 \
	-- size "/$dd/hardlink.ko" 0 -- cost "/$dd/hardlink.ko" 0 0 \
	-- size "/$dd/sl" ${#sl_target} -- size "/${dd%/d}/numbers.txt" "$(stat -c %s "$D/${dd%/d}/numbers.txt")" \
	-- image-costs "$(stat -c %s "$T/deep.iso")" -- sorted || fail "du of a deep ISO"
"$RF" du --bytes "$T/deep.iso" >"$T/deep.txt"
grep -Eq "^ +70001 +71680 +/$dd/deepest\.ko\$" "$T/deep.txt" || fail "text: $(grep deepest "$T/deep.txt")"
grep -Eq "^total: [0-9]+ bytes in [0-9]+ entries, $(stat -c %s "$T/deep.iso") bytes of image" \
	"$T/deep.txt" || fail "text total: $(tail -n 1 "$T/deep.txt")"
"$RF" diff "$T/deep.spec" "$T/deep.iso" >"$T/deep.diff" || fail "diff SPEC ISO"
grep -q '^[-+~] ' "$T/deep.diff" && fail "SPEC vs its deep ISO: $(cat "$T/deep.diff")"
# the same size, other bytes: diff sees the deepest file's content (it read the deep extents)
head -c 70001 /dev/urandom >"$D/$dd/other.ko" && mv "$D/$dd/other.ko" "$D/$dd/deepest.ko"
"$RF" diff "$T/deep.spec" "$T/deep.iso" >"$T/deep.diff" || true
grep -Eq "^~ .* /$dd/deepest\.ko  \(content\)\$" "$T/deep.diff" ||
	fail "deep content change not seen: $(cat "$T/deep.diff")"
ok "ISO export of a tree 13 directories deep (Rock Ridge relocation): du sizes, image bytes add up to the file, diff against the SPEC"

# zisofs (Rock Ridge ZF, written by xorriso): the apparent size is the content's, the image
# bytes the compressed extent's, and diff hashes the decompressed content
mkdir "$T/zt"
# (15 MB: some 1900 compressed blocks, which the decompression filter reads after the import)
seq 1 2000000 >"$T/zt/seq.txt"
# owned by root as the tree layer presents a directory, whoever runs the test
xorriso -outdev "$T/z.iso" -map "$T/zt" / -chown_r 0 / -- -chgrp_r 0 / -- \
	-set_filter_r --zisofs / -- -commit >"$T/z.log" 2>&1 ||
	fail "xorriso zisofs: $(tail -n 3 "$T/z.log")"
"$RF" du --json "$T/z.iso" >"$T/z.json"
$CHECK "$T/z.json" size /seq.txt "$(stat -c %s "$T/zt/seq.txt")" -- cost /seq.txt 2048 $(($(stat -c %s "$T/zt/seq.txt") / 2)) \
	-- image-costs "$(stat -c %s "$T/z.iso")" || fail "du of a zisofs ISO"
"$RF" diff "$T/zt" "$T/z.iso" >"$T/z.diff" || fail "diff zisofs"
grep -q '^[-+~] ' "$T/z.diff" && fail "directory vs its zisofs ISO: $(cat "$T/z.diff")"
ok "zisofs ISO: content size, compressed image bytes, diff of the decompressed content"

# a truncated ISO and a damaged primary volume descriptor: one line naming the file, exit 1
cp "$T/deep.iso" "$T/half.iso"
truncate -s $(($(stat -c %s "$T/deep.iso") / 2)) "$T/half.iso"
expect_fail "half\.iso: .*past the end of the image \([0-9]+ bytes\): truncated image\$" \
	"$RF" du "$T/half.iso"
expect_fail "half\.iso: .*truncated image\$" "$RF" diff "$T/deep.spec" "$T/half.iso"
cp "$T/deep.iso" "$T/pvd.iso"
printf '\x07' | dd of="$T/pvd.iso" bs=1 seek=32774 conv=notrunc status=none # version 1 -> 7
expect_fail 'pvd\.iso: Wrong or damaged Primary Volume Descriptor$' "$RF" du "$T/pvd.iso"
cp "$T/deep.iso" "$T/root.iso"
# the root directory record's extent (ECMA-119 8.4.18, both-endian at byte 158) far outside
printf '\x00\x00\x00\x7f\x7f\x00\x00\x00' | dd of="$T/root.iso" bs=1 seek=$((32768 + 158)) \
	conv=notrunc status=none
expect_fail 'root\.iso: block [0-9]+ is past the end of the image \([0-9]+ bytes\): corrupt image$' \
	"$RF" du "$T/root.iso"
ok "truncated ISO, damaged volume descriptor, root record outside the image: one-line errors"

# ext4 raw and qcow2 images go through the image layer
PATH=$PATH:/usr/sbin:/sbin mke2fs -q -t ext4 -d "$R" "$T/a.ext4" 16M >/dev/null
if "$RF" du --json "$T/a.ext4" >"$T/e.json" 2>"$T/e.err"; then
	$CHECK "$T/e.json" size /bin/random 1048576 || fail "ext4"
	qemu-img convert -O qcow2 "$T/a.ext4" "$T/a.qcow2"
	"$RF" du --json "$T/a.qcow2" >"$T/q.json"
	$CHECK "$T/q.json" size /bin/random 1048576 || fail "qcow2"
	ok "ext4 raw and qcow2 images"
elif grep -q "needs the 'image' layer" "$T/e.err"; then
	echo "# skipped ext4/qcow2: the image layer is not in this build ($(cat "$T/e.err"))" >&2
else
	fail "ext4: $(cat "$T/e.err")"
fi

# --- bad input: one-line errors; --partial reports what could be read
B=$T/many
mkdir -p "$B"
for i in $(seq -w 1 60); do head -c 3000 /dev/urandom >"$B/f$i"; done
mkcpio "$B" | gzip -c >"$T/many.gz"
head -c $(($(stat -c %s "$T/many.gz") * 6 / 10)) "$T/many.gz" >"$T/trunc.gz"
expect_fail 'trunc\.gz: segment 1 \(gzip at byte 0\): truncated gzip data' "$RF" du "$T/trunc.gz"
[ -z "$("$RF" du "$T/trunc.gz" 2>/dev/null)" ] || fail "report without --partial"
rc=0
"$RF" du --partial --json "$T/trunc.gz" >"$T/p.json" 2>"$T/p.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$T/p.err")" -eq 1 ] || fail "--partial: rc $rc, $(cat "$T/p.err")"
$CHECK "$T/p.json" size /f01 3000 -- size /f20 3000 -- absent /f60 -- partial truncated ||
	fail "--partial on a truncated gzip"
ok "truncated gzip: one-line error; --partial reports the entries before the cut"

mkcpio "$B" >"$T/bad.cpio"
python3 - "$T/bad.cpio" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
at = d.rfind(b"070701", 0, d.find(b"f11\0"))
d[at:at + 6] = b"070799"
open(p, "wb").write(d)
PY
expect_fail 'bad\.cpio: segment 1 \(cpio at byte 0\): bad cpio magic at stream offset [0-9]+' \
	"$RF" du "$T/bad.cpio"
"$RF" du --partial --json "$T/bad.cpio" >"$T/b.json" 2>/dev/null && fail "--partial exit 0"
$CHECK "$T/b.json" size /f10 3000 -- absent /f11 || fail "bad magic --partial"
ok "bad cpio magic in the middle: one-line error; --partial reports the entries before it"

head -c 8192 /dev/urandom | tr -d '\000\037\213\050\375\135\102\002\211' >"$T/junk.bin"
expect_fail 'junk\.bin: not an initramfs \(cpio\), ISO, ext4/qcow2 image nor a SPEC' \
	"$RF" du "$T/junk.bin"
expect_fail 'junk\.bin: not an initramfs' "$RF" du --partial "$T/junk.bin"
expect_fail 'nope: No such file or directory' "$RF" du "$T/nope"
ok "not an image: one-line error"

# --- diff: added, removed, changed, largest first
R2=$T/root2
cp -a "$R" "$R2"
rm "$R2/etc/seq.txt"
head -c 200000 /dev/urandom >"$R2/bin/new"
seq 1 100 >>"$R2/etc/ssl/conf1"
mkcpio "$R2" | gzip -9 -c >"$T/b.cpio.gz"
"$RF" diff "$T/a.cpio.gz" "$T/b.cpio.gz" >"$T/diff.txt"
sed -n 1p "$T/diff.txt" | has -E '^\+ +\+195K +\+[0-9.]+K +/bin/new$' || fail "diff first: $(cat "$T/diff.txt")"
grep -Eq '^- +-[0-9.]+K +-[0-9.]+K +/etc/seq.txt$' "$T/diff.txt" || fail "diff removed"
grep -Eq '^~ .* /etc/ssl/conf1  \(size(,content)?\)$' "$T/diff.txt" || fail "diff changed"
grep -q '/bin/random' "$T/diff.txt" && fail "unchanged file in diff"
grep -Eq '^total: ' "$T/diff.txt" || fail "diff total"
"$RF" diff --json "$T/a.cpio.gz" "$T/b.cpio.gz" | python3 -c '
import json, sys
d = json.load(sys.stdin)
k = {c["path"]: c for c in d["changes"]}
assert k["/bin/new"]["kind"] == "added" and k["/bin/new"]["new_size"] == 200000
assert k["/etc/seq.txt"]["kind"] == "removed" and k["/etc/seq.txt"]["new_size"] == 0
assert k["/etc/ssl/conf1"]["kind"] == "changed"
m = [abs(c["new_compressed"] - c["old_compressed"]) for c in d["changes"]]
assert m == sorted(m, reverse=True), m
' || fail "diff --json"
"$RF" diff "$R" "$T/b.cpio.gz" | has -E '^\+ +\+195K +/bin/new$' || fail "diff dir vs archive"
expect_fail 'diff: give two targets' "$RF" diff "$T/a.cpio.gz"
ok "diff: added, removed, changed, largest first (text and JSON), across kinds"
finish
