#!/usr/bin/env bash
# Sequences that broke fuse-overlayfs (issues 192, 399, 400, 428, PR 352), replayed on our
# mount as an ordinary user: cp (copy_file_range) of a read-only lower file, chown -R keeping
# directory mtimes, a lower file opened for writing, st_nlink of hard-linked lower files,
# copy-up of a file carrying security.capability.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/usr/bin" "$T/tree/srv/a/b/c" "$T/tree/data"
head -c 3000000 /dev/urandom > "$T/tree/usr/bin/ro"
chmod 0444 "$T/tree/usr/bin/ro"
for d in srv srv/a srv/a/b srv/a/b/c; do
	echo "$d" > "$T/tree/$d/file"
done
touch -d '2010-01-01 00:00:00' "$T/tree/srv" "$T/tree/srv/a" "$T/tree/srv/a/b" "$T/tree/srv/a/b/c"
seq 1 1000 > "$T/tree/data/rw"
echo one > "$T/tree/data/h1"
ln "$T/tree/data/h1" "$T/tree/data/h2"
ln "$T/tree/data/h1" "$T/tree/data/h3"
cp /bin/true "$T/tree/usr/bin/ping"
# a file capability as the tree layer stores it (the mapped form of security.capability)
printf '\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' > "$T/cap.bin"
setfattr -n user.rootfs-fuse.xattr.security.capability -v "0x$(od -An -tx1 "$T/cap.bin" | tr -d ' \n')" \
	"$T/tree/usr/bin/ping"
printf 'tree ./tree\n' > "$T/g.spec"
M=$T/mnt
mount_view "$T/g.spec" "$M"

# fuse-overlayfs#192: cp of a read-only lower file (copy_file_range between two FUSE files)
cp "$M/usr/bin/ro" "$M/usr/bin/ro-copy"
cmp "$M/usr/bin/ro-copy" "$T/tree/usr/bin/ro" || fail "cp of a read-only lower file"
python3 - "$M/usr/bin/ro" "$M/srv/cfr" <<'PY' || fail "copy_file_range"
import os, sys
i = os.open(sys.argv[1], os.O_RDONLY)
o = os.open(sys.argv[2], os.O_CREAT | os.O_WRONLY, 0o644)
left = os.fstat(i).st_size
while left:
    n = os.copy_file_range(i, o, left)
    assert n > 0
    left -= n
PY
cmp "$M/srv/cfr" "$T/tree/usr/bin/ro" || fail "copy_file_range content"
[ "$(stat -c %a "$M/usr/bin/ro")" = 444 ] || fail "mode of the source changed"
ok "cp and copy_file_range of a read-only lower file"

# fuse-overlayfs#399: chown -R must not change directory mtimes (copy-up is invisible)
stat -c '%n %Y' "$M/srv" "$M/srv/a" "$M/srv/a/b" "$M/srv/a/b/c" > "$T/before"
chown -R 5:6 "$M/srv"
stat -c '%n %Y' "$M/srv" "$M/srv/a" "$M/srv/a/b" "$M/srv/a/b/c" > "$T/after"
diff "$T/before" "$T/after" || fail "chown -R changed directory mtimes"
[ "$(stat -c %u:%g "$M/srv/a/b/c/file")" = 5:6 ] || fail "chown -R"
ok "chown -R keeps directory mtimes"

# fuse-overlayfs#400: a lower file opened for writing (no O_TRUNC) keeps the rest of it
python3 - "$M/data/rw" <<'PY' || fail "write into a lower file"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"X", 0)
os.close(fd)
PY
[ "$(head -n 1 "$M/data/rw")" = X ] && [ "$(tail -n 1 "$M/data/rw")" = 1000 ] ||
	fail "content after writing into a lower file"
[ "$(wc -l < "$M/data/rw")" = 1000 ] || fail "length after writing into a lower file"
ok "opening a lower file for writing copies it up whole"

# fuse-overlayfs#428: st_nlink and st_ino of hard-linked lower files
[ "$(stat -c %h "$M/data/h1")" = 3 ] || fail "st_nlink of a hard-linked lower file: $(stat -c %h "$M/data/h1")"
[ "$(stat -c %i "$M/data/h1")" = "$(stat -c %i "$M/data/h3")" ] || fail "hard links differ in st_ino"
ok "st_nlink and st_ino of hard-linked lower files"

# PR 352: copy-up of a file carrying security.capability keeps it
cap=$(getfattr --absolute-names -e hex -n security.capability "$M/usr/bin/ping" | grep =)
[ -n "$cap" ] || fail "security.capability not shown"
# a metadata change copies it up (a write would drop the capability, as on any Linux fs)
touch -m -d '2020-01-01' "$M/usr/bin/ping"
[ -e "$T/g.state/upper/usr/bin/ping" ] || fail "no copy-up"
cap2=$(getfattr --absolute-names -e hex -n security.capability "$M/usr/bin/ping" | grep =)
[ "$cap" = "$cap2" ] || fail "security.capability lost in copy-up"
getfattr --absolute-names -n user.rootfs-fuse.xattr.security.capability "$T/g.state/upper/usr/bin/ping" \
	>/dev/null 2>&1 || fail "security.capability not stored in the upper layer"
ok "copy-up keeps security.capability"

umount_view "$M"

# a relative SPEC and relative host paths still resolve after the daemon detached
echo relative > "$T/init-src"
printf 'file /init ./init-src 0755 0 0\n' > "$T/rel.spec"
mkdir "$T/relmnt"
(cd "$T" && "$RF" mount rel.spec relmnt --file /flag ./init-src 0644 0 0)
cleanup_hooks+=("fusermount3 -u -z '$T/relmnt' 2>/dev/null")
wait_mounted "$T/relmnt"
[ "$(cat "$T/relmnt/init")" = relative ] && [ "$(cat "$T/relmnt/flag")" = relative ] ||
	fail "relative host paths after detaching"
[ -d "$T/rel.state/upper" ] || fail "default state directory of a relative SPEC"
umount_view "$T/relmnt"
ok "relative SPEC and host paths"
finish
