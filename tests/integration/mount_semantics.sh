#!/usr/bin/env bash
# Semantics of `rootfs-fuse mount` over a real FUSE mount, as an ordinary user: copy-up keeps
# content and metadata, whiteouts and opaque directories (surviving a remount and seen by ls),
# renames of lower files and directories, hard links, xattrs, fakeroot owners and modes,
# fifos, sparse files, tar -x / tar -c round trip, concurrent writers, nothing of the host
# reachable through a layer's symlink, the reserved /.rootfs-fuse name.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/etc" "$T/tree/srv/data/deep" "$T/tree/opt/keep" "$T/tree/var"
echo "guest" > "$T/tree/etc/hostname"
seq 1 20000 > "$T/tree/srv/data/numbers"
echo leaf > "$T/tree/srv/data/deep/leaf"
echo keep > "$T/tree/opt/keep/file"
echo gone > "$T/tree/var/gone"
echo x > "$T/tree/var/removed-dir-file"
mkdir "$T/tree/var/rmme"
echo y > "$T/tree/var/rmme/child"
ln -s /etc/passwd "$T/tree/etc/host-passwd"
touch -d '2001-02-03 04:05:06' "$T/tree/etc/hostname"
setfattr -n user.rootfs-fuse.xattr.user.color -v blue "$T/tree/etc/hostname"
cat > "$T/g.spec" <<EOS
tree ./tree
dir  /dev 0755 0 0
nod  /dev/console 0600 0 5 c 5 1
file /etc/shadow ./tree/etc/hostname 0600 0 42
EOS
M=$T/mnt
mount_view "$T/g.spec" "$M"
[ "$(stat -c "%u:%g %a" "$M/etc/shadow")" = "0:42 600" ] || fail "shadow owner"
# the mounting user acts as root: a root-owned 0600 file is readable and writable
echo "root:*:1:::::" >> "$M/etc/shadow"
grep -q 'root:\*' "$M/etc/shadow" || fail "fakeroot write"
[ "$(stat -c "%u:%g %a" "$M/etc/shadow")" = "0:42 600" ] || fail "copy-up changed the owner"
ok "root-owned 0600 file is readable and writable by the mounting user"

# copy-up keeps content, mode, owner, mtime, xattrs
chmod 0640 "$M/etc/hostname"
[ "$(stat -c '%a %U %Y' "$M/etc/hostname")" = "640 root $(date -d '2001-02-03 04:05:06' +%s)" ] ||
	fail "copy-up metadata: $(stat -c '%a %U %Y' "$M/etc/hostname")"
[ "$(cat "$M/etc/hostname")" = guest ] || fail "copy-up content"
[ "$(getfattr --absolute-names --only-values -n user.color "$M/etc/hostname")" = blue ] || fail "copy-up xattr"
[ -f "$T/g.state/upper/etc/hostname" ] || fail "no upper file"
ok "copy-up keeps content, mode, owner, mtime and xattrs"

# fakeroot metadata: chown, setuid, fifo; nothing in the state dir needs root
touch "$M/etc/suid"
chown 0:0 "$M/etc/suid"
chmod 4755 "$M/etc/suid"
chown 7:8 "$M/etc/hostname"
mkfifo "$M/etc/fifo"
[ "$(stat -c '%A %u:%g' "$M/etc/suid")" = "-rwsr-xr-x 0:0" ] || fail "suid: $(stat -c '%A %u:%g' "$M/etc/suid")"
[ "$(stat -c '%u:%g' "$M/etc/hostname")" = "7:8" ] || fail "chown 7:8"
[ -p "$M/etc/fifo" ] || fail "fifo"
ls -l "$M/etc" | grep -q '^-rwsr-xr-x 1 root root .* suid$' || fail "ls -l of suid"
# the kernel keeps mknod(2) of devices for CAP_MKNOD; rootfs-fuse mknod is the user's way
"$RF" mknod "$M/dev/tty5" c 4 5 -m 0620
[ "$(stat -c '%F %t:%T %a %u:%g' "$M/dev/tty5")" = "character special file 4:5 620 0:0" ] ||
	fail "rootfs-fuse mknod: $(stat -c '%F %t:%T %a %u:%g' "$M/dev/tty5")"
ls -l "$M/dev" | grep -q '^crw--w---- 1 root root 4, 5 .* tty5$' || fail "ls -l of the device"
expect_fail "dev/tty5: File exists" "$RF" mknod "$M/dev/tty5" c 4 5
expect_fail "not inside a rootfs-fuse mount" "$RF" mknod "$T/tree/etc/dev0" c 1 1
if [ "$(id -u)" = 0 ]; then
	mknod "$M/dev/null2" c 1 3
	[ "$(stat -c '%F %t:%T' "$M/dev/null2")" = "character special file 1:3" ] || fail "mknod"
fi
[ -z "$(find "$T/g.state" ! -user "$(id -u)")" ] || fail "state files not owned by the user"
[ -z "$(find "$T/g.state" -perm /6000)" ] || fail "setuid/setgid bits on the host"
ok "chown 0:0, chmod u+s, mkfifo, rootfs-fuse mknod c 4 5 as $(id -un); state owned by the user"

# whiteouts and opaque directories
rm "$M/var/gone"
[ ! -e "$M/var/gone" ] || fail "whiteout"
ls "$M/var" | grep -q gone && fail "whiteout in readdir"
[ -e "$T/g.state/upper/var/.wh.gone" ] || fail "no .wh.gone"
rm "$M/var/rmme/child"
rmdir "$M/var/rmme"
mkdir "$M/var/rmme"
[ -z "$(ls -A "$M/var/rmme")" ] || fail "recreated directory not empty"
[ -e "$T/g.state/upper/var/rmme/.wh..wh..opq" ] || fail "not opaque"
rmdir "$M/opt/keep" 2>/dev/null && fail "rmdir of a non-empty lower directory"
ok "unlink writes a whiteout; rmdir + mkdir gives an empty opaque directory"

# renames
mv "$M/srv/data/numbers" "$M/srv/numbers-moved"
[ ! -e "$M/srv/data/numbers" ] || fail "old name still there"
cmp "$M/srv/numbers-moved" "$T/tree/srv/data/numbers" || fail "moved file content"
mv "$M/srv/data" "$M/srv/data2"
[ "$(cat "$M/srv/data2/deep/leaf")" = leaf ] || fail "renamed directory children"
[ ! -e "$M/srv/data" ] || fail "renamed directory still at the old name"
mkdir "$M/srv/data"
[ -z "$(ls -A "$M/srv/data")" ] || fail "the old directory name shows lower children"
# a new directory moved over a lower one (emptied) must hide it, now and after a remount
rm "$M/opt/keep/file"
mkdir "$M/newdir"
echo n > "$M/newdir/n"
mv -T "$M/newdir" "$M/opt/keep"
[ "$(ls -A "$M/opt/keep")" = n ] || fail "directory moved over a lower one"
[ -e "$T/g.state/upper/opt/keep/.wh..wh..opq" ] || fail "moved directory not opaque"
python3 - "$M" <<'PY' || fail "RENAME_NOREPLACE / RENAME_EXCHANGE"
import ctypes, os, sys
m = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(a, b, flags):
    r = libc.renameat2(-100, a.encode(), -100, b.encode(), flags)
    return 0 if r == 0 else ctypes.get_errno()
open(m + "/srv/a", "w").write("A")
open(m + "/srv/b", "w").write("B")
assert renameat2(m + "/srv/a", m + "/srv/b", 1) == 17  # RENAME_NOREPLACE -> EEXIST
assert renameat2(m + "/srv/a", m + "/srv/b", 2) == 0   # RENAME_EXCHANGE
assert open(m + "/srv/a").read() == "B" and open(m + "/srv/b").read() == "A"
assert renameat2(m + "/var/removed-dir-file", m + "/etc/hostname", 2) == 0  # lower-born files
assert open(m + "/etc/hostname").read() == "x\n"
PY
ok "rename of lower files and directories, RENAME_NOREPLACE, RENAME_EXCHANGE"

# hard links in the upper layer
echo linked > "$M/etc/l1"
ln "$M/etc/l1" "$M/etc/l2"
[ "$(stat -c %h "$M/etc/l1")" = 2 ] || fail "nlink"
[ "$(stat -c %i "$M/etc/l1")" = "$(stat -c %i "$M/etc/l2")" ] || fail "link inode"
echo more >> "$M/etc/l2"
[ "$(cat "$M/etc/l1")" = "$(printf 'linked\nmore')" ] || fail "link content"
ok "hard links"

# xattrs
setfattr -n user.k -v v1 "$M/etc/l1"
setfattr -n user.other -v 2 "$M/etc/l1"
[ "$(getfattr --absolute-names --only-values -n user.k "$M/etc/l1")" = v1 ] || fail "getxattr"
getfattr --absolute-names -d "$M/etc/l1" | grep -q 'user.other="2"' || fail "listxattr"
setfattr -x user.k "$M/etc/l1"
getfattr --absolute-names -n user.k "$M/etc/l1" 2>/dev/null && fail "removexattr"
ok "xattrs"

# sparse files and SEEK_DATA/SEEK_HOLE
python3 - "$M/srv/sparse" <<'PY' || fail "sparse file holes"
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
os.pwrite(fd, b"x" * 4096, 0)
os.pwrite(fd, b"y" * 4096, 64 << 20)
assert os.lseek(fd, 0, os.SEEK_HOLE) < 64 << 20
assert os.lseek(fd, 8192, os.SEEK_DATA) >= (64 << 20) - 4096
os.close(fd)
PY
fallocate -o $((128 << 20)) -l 4096 "$M/srv/sparse" || fail "fallocate"
[ "$(stat -c %s "$M/srv/sparse")" = $(((128 << 20) + 4096)) ] || fail "fallocate size"
[ "$(du -k "$T/g.state/upper/srv/sparse" | cut -f1)" -lt 1024 ] || fail "sparse file not sparse in the upper layer"
ok "sparse files keep their holes (lseek SEEK_DATA/SEEK_HOLE, fallocate)"

# symlinks are shown, never followed by the filesystem
[ "$(readlink "$M/etc/host-passwd")" = /etc/passwd ] || fail "symlink target"
[ -L "$M/etc/host-passwd" ] || fail "not a symlink"
ln -s ../etc/hostname "$M/srv/rel-link"
[ "$(readlink "$M/srv/rel-link")" = ../etc/hostname ] || fail "new symlink"
ok "symlinks stay symlinks"

# the control directory's name is reserved
mkdir "$M/.rootfs-fuse" 2>/dev/null && fail ".rootfs-fuse could be created"
touch "$M/.wh.x" 2>/dev/null && fail ".wh. names could be created"
ok "/.rootfs-fuse and .wh. names are refused"

# tar -x of a real archive into the mount, tar -c of it, compared
mkdir -p "$T/src/a/b" "$T/src/c"
head -c 200000 /dev/urandom > "$T/src/a/b/rand"
seq 1 1000 > "$T/src/c/seq"
ln "$T/src/c/seq" "$T/src/c/seq-link"
ln -s b/rand "$T/src/a/rand-link"
chmod 0750 "$T/src/a"
# owned by 7:8 in the archive, as a distribution's tarball has its own owners
tar -C "$T/src" --numeric-owner --owner=7 --group=8 -cf "$T/in.tar" .
mkdir "$M/unpacked"
tar -C "$M/unpacked" --same-owner -xpf "$T/in.tar"
tar -C "$M/unpacked" --numeric-owner -cf "$T/out.tar" .
# symlinks included: they keep their owner too (stored as files in the upper layer)
lst() {
	tar --numeric-owner -tvf "$1" | sort
}
lst "$T/in.tar" > "$T/in.lst"
lst "$T/out.tar" > "$T/out.lst"
diff "$T/in.lst" "$T/out.lst" || fail "tar listings differ"
mkdir "$T/x"
tar -C "$T/x" -xf "$T/out.tar"
diff -r "$T/src" "$T/x" || fail "tar content differs"
ok "tar --same-owner -x into the mount, tar -c back: same listing (owners, modes, times) and content"

# two processes writing different files at once
( for i in $(seq 1 200); do echo "a$i"; done > "$M/srv/w1" ) &
p1=$!
( for i in $(seq 1 200); do echo "b$i"; done > "$M/srv/w2" ) &
p2=$!
wait $p1 $p2
[ "$(wc -l < "$M/srv/w1")" = 200 ] && [ "$(tail -n1 "$M/srv/w2")" = b200 ] || fail "concurrent writers"
ok "two concurrent writers"

# unmount; the upper layer is in ls and survives a remount
umount_view "$M"
"$RF" ls "$T/g.spec" --long > "$T/ls.txt"
grep -q ' /var/gone' "$T/ls.txt" && fail "whiteout not in ls"
grep -q '^-rwsr-xr-x 0 0 0 /etc/suid' "$T/ls.txt" || fail "suid file in ls: $(grep suid "$T/ls.txt")"
grep -q '^prw-r--r-- 0 0 0 /etc/fifo' "$T/ls.txt" || fail "fifo in ls"
grep -q '^crw--w---- 0 0 4,5 /dev/tty5' "$T/ls.txt" || fail "device in ls"
grep -q ' /srv/data2/deep/leaf' "$T/ls.txt" || fail "renamed directory in ls"
grep -q ' /srv/data/' "$T/ls.txt" && fail "opaque directory leaks lower children in ls"
"$RF" mount "$T/g.spec" "$M"
wait_mounted "$M"
[ ! -e "$M/var/gone" ] || fail "whiteout lost on remount"
[ -z "$(ls -A "$M/var/rmme")" ] || fail "opaque lost on remount"
[ "$(stat -c '%A %u:%g' "$M/etc/suid")" = "-rwsr-xr-x 0:0" ] || fail "metadata lost on remount"
[ "$(cat "$M/srv/data2/deep/leaf")" = leaf ] || fail "renamed directory lost on remount"
[ "$(ls -A "$M/opt/keep")" = n ] || fail "moved directory not opaque after remount"
umount_view "$M"
ok "unmount, ls shows the edit, remount keeps whiteouts, opaque dirs and metadata"

# -o default_permissions: the kernel checks ordinary permissions against the view's owners
mount_view "$T/g.spec" "$M" --state "$T/dp.state" -o default_permissions
if [ "$(id -u)" != 0 ]; then
	cat "$M/etc/shadow" > /dev/null 2>&1 && fail "default_permissions: root's 0600 file was readable"
	touch "$M/etc/x" 2>/dev/null && fail "default_permissions: wrote into root's 0755 directory"
fi
[ "$(cat "$M/etc/hostname")" = guest ] || fail "default_permissions: a 0644 file unreadable"
umount_view "$M"
ok "-o default_permissions: the kernel checks the view's owners and modes"

finish
