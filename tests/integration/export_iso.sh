#!/usr/bin/env bash
# ISO 9660 export: a view with every file type, hard links, a setuid file and long names is
# exported as an ISO; xorriso's Rock Ridge listing and an extraction must match
# `rootfs-fuse ls --long --hash` (modes, owners, sizes, device numbers, link targets,
# content), isoinfo sees the Joliet tree. With --kernel the ISO boots under QEMU (TCG) both as
# a CD (El Torito, isolinux) and as a hard disk (isohybrid MBR), reaching the guest's /init,
# and through `rootfs-fuse boot --format iso`.
. "$(dirname "$0")/lib.sh"
cmp_py="$RF_SRC/tests/integration/listing_compare.py"

# xorriso `-exec lsdl` lines -> the bsdtar-style listing listing_compare.py reads: names
# unquoted and relative, the root dropped, a symlink's size its target's length (Rock Ridge
# stores no size for symlinks; ls --long shows the target length).
xorriso_listing() { # ISO OUT
	xorriso -indev "$1" -find / -exec lsdl 2>/dev/null | python3 -c '
import re, sys
sys.stdin.reconfigure(errors="surrogateescape")
sys.stdout.reconfigure(errors="surrogateescape")
for line in sys.stdin:
    line = line.rstrip("\n")
    m = re.match(r"^(\S{10})(\s+\d+\s+\d+\s+\d+\s+)(\S+)(\s+\S+\s+\S+\s+\S+\s)(.*)$", line)
    if not m:
        sys.exit("unparsed xorriso line: " + line)
    mode, mid, size, date, name = m.groups()
    target = None
    if mode[0] == "l":
        name, target = name.split(" -> ", 1)
        target = target[1:-1].replace("'"'"'\\'"'"''"'"'", "'"'"'")
        size = str(len(target.encode()))
    name = name[1:-1].replace("'"'"'\\'"'"''"'"'", "'"'"'").lstrip("/")
    if not name:
        continue
    print(f"{mode}{mid}{size}{date}{name}" + (f" -> {target}" if target else ""))
' > "$2"
}

# srv/a/.../j is deeper than ISO 9660's 8 levels: Rock Ridge relocates it (RE/CL/PL)
mkdir -p "$T/tree/etc" "$T/tree/usr/share/doc" "$T/tree/srv/a/b/c/d/e/f/g/h/i/j"
echo "guest" > "$T/tree/etc/hostname"
head -c 300000 /dev/urandom > "$T/tree/usr/share/doc/random.bin"
seq 1 50000 > "$T/tree/usr/share/doc/numbers.txt"
ln "$T/tree/usr/share/doc/numbers.txt" "$T/tree/usr/share/doc/numbers-link.txt"
long=$(printf 'a-rather-long-file-name-%.0s' 1 2 3 4)x.txt
echo "long" > "$T/tree/usr/share/doc/$long"
: > "$T/tree/srv/a/b/c/d/e/empty"
echo deep > "$T/tree/srv/a/b/c/d/e/f/g/h/i/j/deep.txt"
mkdir -p "$T/tree/srv/a/b/c/d/e/f/g/h2/i/j"
echo deep2 > "$T/tree/srv/a/b/c/d/e/f/g/h2/i/j/deep.txt"
ln -s ../etc/hostname "$T/tree/srv/hostname-link"
printf '#!/bin/sh\necho setuid\n' > "$T/tree/srv/su"
mkdir "$T/tree/srv/$(printf 'caf\xe9')" # not UTF-8: Rock Ridge keeps the bytes, Joliet gets '_'
ln -s ../su "$T/tree/srv/$(printf 'caf\xe9')/su-link"
chmod 4755 "$T/tree/srv/su"
cat > "$T/g.spec" <<EOS
busybox /bin/busybox
tree    ./tree
dir     /dev 0755 0 0
nod     /dev/console 0600 0 5 c 5 1
nod     /dev/vda 0660 0 6 b 254 0
pipe    /run/fifo 0620 7 8
dir     /home/user 0700 1000 1000
EOS
"$RF" ls "$T/g.spec" --hash > "$T/ls.txt"

"$RF" export "$T/g.spec" -o "$T/out.iso"
# listings go to files before grep -q: under pipefail, grep -q quitting early would turn the
# producer's SIGPIPE into a failure
xorriso_listing "$T/out.iso" "$T/xorriso.txt"
# extract every top-level entry but /dev and /run (device nodes need root)
mkdir "$T/x"
args=()
for top in $(xorriso -indev "$T/out.iso" -lsd '/*' 2>/dev/null | tr -d "'"); do
	case $top in /dev | /run) ;; *) args+=(-extract "$top" "$T/x$top") ;; esac
done
xorriso -osirrox on -indev "$T/out.iso" "${args[@]}" > "$T/extract.log" 2>&1 ||
	{ tail -n 5 "$T/extract.log"; fail "xorriso could not extract the ISO"; }
python3 "$cmp_py" "$T/ls.txt" "$T/xorriso.txt" "$T/x" || fail "xorriso's listing differs from ls --long"
ok "xorriso's Rock Ridge listing and the content match ls --long"

isoinfo -R -l -i "$T/out.iso" > "$T/isoinfo.txt"
grep -Eq '^crw-------   1    0    5 ' "$T/isoinfo.txt" || fail "isoinfo: /dev/console owner or mode wrong"
grep -q " $long \$" "$T/isoinfo.txt" || fail "isoinfo: Rock Ridge long name missing"
isoinfo -J -f -i "$T/out.iso" > "$T/joliet.txt"
grep -q '^/usr/share/doc/numbers.txt$' "$T/joliet.txt" || fail "no Joliet tree"
ok "isoinfo sees Rock Ridge owners, modes and long names, and the Joliet tree"

# the two names of a hard link share one extent
isoinfo -R -l -i "$T/out.iso" | awk '/numbers(-link)?\.txt *$/ {print $(NF-3)}' | sort -u > "$T/extents"
[ "$(wc -l < "$T/extents")" -eq 1 ] || fail "hard links got separate copies"
ok "hard links share their data"

SOURCE_DATE_EPOCH=1700000000 "$RF" export "$T/g.spec" -o "$T/r1.iso"
SOURCE_DATE_EPOCH=1700000000 "$RF" export "$T/g.spec" -o "$T/r2.iso"
cmp -s "$T/r1.iso" "$T/r2.iso" || fail "two exports with the same SOURCE_DATE_EPOCH differ"
xorriso -indev "$T/r1.iso" -pvd_info > "$T/pvd.txt" 2>/dev/null
grep -q "Creation Time: 2023111422132000" "$T/pvd.txt" ||
	fail "the volume creation time does not follow SOURCE_DATE_EPOCH"
ok "SOURCE_DATE_EPOCH: byte-identical images dated by the epoch"

K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"
mkdir "$T/tree/isolinux"
echo "not ours" > "$T/tree/isolinux/readme"
expect_fail "out2.iso: the view has /isolinux" "$RF" export "$T/g.spec" -o "$T/out2.iso" --kernel "$K"
[ ! -e "$T/out2.iso" ] || fail "a failed export left its output"
[ -z "$(find "$T" -maxdepth 1 -name '.out2.iso.*' -o -maxdepth 1 -name '.rootfs-fuse-initrd.*')" ] ||
	fail "a failed export left a temporary file"
expect_fail "no-such-kernel: No such file" "$RF" export "$T/g.spec" -o "$T/out2.iso" --kernel "$T/no-such-kernel"
ok "a view with /isolinux or a missing kernel is refused for a bootable ISO"

# --- bootable ---
# the marker goes through /dev/kmsg: printk reaches the serial console synchronously, where an
# echo's bytes can still sit in the UART when poweroff -f cuts the machine
printf '#!/bin/sh\necho "<2>rootfs-fuse-iso: /init reached" > /dev/kmsg\npoweroff -f\n' > "$T/boot.init"
cat > "$T/boot.spec" <<EOS
busybox /bin/busybox
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
nod  /dev/kmsg 0600 0 0 c 1 11
file /init ./boot.init 0755 0 0
EOS
probe=$("$RF" export "$T/boot.spec" -o "$T/probe.cpio.gz" 2>&1) || true
if grep -q "not built yet" <<<"$probe"; then
	echo "skip - bootable ISO: the cpio exporter is not built yet"
	finish
	exit 0
fi
"$RF" export "$T/boot.spec" -o "$T/boot.iso" --kernel "$K" --append "panic=-1"
xorriso -indev "$T/boot.iso" -report_el_torito plain 2>/dev/null > "$T/eltorito.txt"
grep -q "El Torito boot img :   1  BIOS  y   none" "$T/eltorito.txt" || { cat "$T/eltorito.txt"; fail "no El Torito no-emulation boot image"; }
[ "$(od -An -tx1 -j510 -N2 "$T/boot.iso" | tr -d ' ')" = 55aa ] || fail "no MBR signature"
[ "$(od -An -tx1 -j446 -N1 "$T/boot.iso" | tr -d ' ')" = 80 ] || fail "partition 1 is not active"
[ "$(od -An -tx1 -j450 -N1 "$T/boot.iso" | tr -d ' ')" = 17 ] || fail "partition 1 is not type 0x17"
[ $(( $(stat -c %s "$T/boot.iso") % 1048576 )) -eq 0 ] || fail "not padded to a whole cylinder"
isoinfo -R -f -i "$T/boot.iso" > "$T/boot-files.txt"
grep -q '^/isolinux/vmlinuz$' "$T/boot-files.txt" || fail "kernel not in /isolinux"
isoinfo -R -x /isolinux/isolinux.cfg -i "$T/boot.iso" > "$T/isolinux.cfg"
grep -q "append console=ttyS0 panic=-1" "$T/isolinux.cfg" ||
	fail "isolinux.cfg lacks the command line"
ok "bootable ISO: El Torito image, isohybrid MBR, boot files under /isolinux"

boot() { # NAME QEMU-DRIVE-ARGS...
	local name=$1 rc=0
	shift
	timeout 200 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot "$@" \
		< /dev/null > "$T/$name.txt" 2>&1 || rc=$?
	grep -q "rootfs-fuse-iso: /init reached" "$T/$name.txt" ||
		{ tail -n 20 "$T/$name.txt"; fail "$name: the guest's /init was not reached (qemu $rc)"; }
}
boot cdrom -cdrom "$T/boot.iso"
grep -q "ISOLINUX" "$T/cdrom.txt" || fail "cdrom: isolinux did not run"
ok "boots as a CD (-cdrom) through isolinux to the guest's /init"
boot disk -drive "file=$T/boot.iso,format=raw,if=ide"
grep -q "ISOLINUX.*EHDD" <(tr -d '\r' < "$T/disk.txt") || fail "disk: not booted through the isohybrid MBR"
ok "boots as a hard disk (isohybrid MBR) to the guest's /init"

rc=0
"$RF" boot "$T/boot.spec" --format iso --kernel "$K" --timeout 200 > "$T/boot-cmd.txt" 2>&1 < /dev/null || rc=$?
grep -q "rootfs-fuse-iso: /init reached" "$T/boot-cmd.txt" || { tail -n 20 "$T/boot-cmd.txt"; fail "boot --format iso did not reach /init"; }
[ $rc -eq 0 ] || fail "boot --format iso: exit status $rc after the guest powered off"
grep -q ISOLINUX "$T/boot-cmd.txt" || fail "boot --format iso did not go through isolinux"
expect_fail "boot: --format takes cpio, iso, ext4 or qcow2, not 'vfat'" "$RF" boot "$T/boot.spec" --format vfat --kernel "$K"
ok "rootfs-fuse boot --format iso boots the ISO on -cdrom to /init"

finish
