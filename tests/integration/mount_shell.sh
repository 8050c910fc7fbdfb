#!/usr/bin/env bash
# `rootfs-fuse shell` (docs/mount.md, "Device nodes"): under it, as an ordinary user, plain
# mknod(2) of devices works inside a mount for coreutils, static busybox, mknodat with a dirfd,
# a relative path and GNU tar -x, with the caller's umask; outside a mount it fails as before
# (EPERM); the nodes reach the cpio export and come back with cpio -i; the command's exit
# status is passed through.
. "$(dirname "$0")/lib.sh"

is_root=false
[ "$(id -u)" = 0 ] && is_root=true
cat > "$T/g.spec" <<EOS
dir /dev 0755 0 0
dir /srv 0755 0 0
EOS
M=$T/mnt
mkdir "$T/outside"
mount_view "$T/g.spec" "$M"

# without the shell an ordinary user's mknod fails: the kernel asks for CAP_MKNOD first
if $is_root; then
	echo "# skip: running as root, plain mknod works without the shell"
else
	err=$(mknod "$M/dev/plain" c 5 1 2>&1) && fail "mknod without the shell succeeded"
	printf '%s\n' "$err" | has 'Operation not permitted' || fail "mknod without the shell: $err"
	ok "mknod c 5 1 in the mount without the shell fails with EPERM"
fi

# coreutils, static busybox, a block device, umask, a relative path
"$RF" shell -- sh -c "umask 077 && mknod '$M/dev/console' c 5 1 &&
	busybox mknod '$M/dev/null2' c 1 3 && umask 022 && mknod '$M/dev/sda' b 8 0 &&
	cd '$M/srv' && mknod rel c 4 64 && mknod ' a  b ' c 4 65" || fail "mknod under the shell"
[ "$(stat -c '%F %t %T %a %u:%g' "$M/dev/console")" = "character special file 5 1 600 0:0" ] ||
	fail "console: $(stat -c '%F %t %T %a %u:%g' "$M/dev/console")"
[ "$(stat -c '%F %t %T %a' "$M/dev/null2")" = "character special file 1 3 600" ] ||
	fail "busybox null2: $(stat -c '%F %t %T %a' "$M/dev/null2")"
[ "$(stat -c '%F %t %T %a' "$M/dev/sda")" = "block special file 8 0 644" ] ||
	fail "sda: $(stat -c '%F %t %T %a' "$M/dev/sda")"
[ "$(stat -c '%F %t %T %a' "$M/srv/rel")" = "character special file 4 40 644" ] ||
	fail "relative: $(stat -c '%F %t %T %a' "$M/srv/rel")"
[ "$(stat -c '%F %t %T' "$M/srv/ a  b ")" = "character special file 4 41" ] ||
	fail "name with spaces: $(ls -la "$M/srv")"
ls -l "$M/dev" | has -E '^crw------- 1 root root 5, 1 .* console$' || fail "ls -l: $(ls -l "$M/dev")"
ok "mknod (coreutils), busybox mknod (static), b 8 0, a relative path and a name with spaces under the shell, umask applied"

# mknodat with a directory descriptor; an existing name is EEXIST; a trailing slash ENOENT
"$RF" shell -- python3 - "$M/dev" <<'EOP' || fail "python mknodat"
import errno, os, stat, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
os.umask(0o022)
os.mknod("tty1", 0o620 | stat.S_IFCHR, os.makedev(4, 1), dir_fd=fd)
for name, want in (("tty1", errno.EEXIST), ("new/", errno.ENOENT), ("console/", errno.EEXIST)):
    try:
        os.mknod(name, 0o600 | stat.S_IFCHR, os.makedev(4, 2), dir_fd=fd)
        sys.exit(f"mknodat {name} succeeded")
    except OSError as e:
        if e.errno != want:
            sys.exit(f"mknodat {name}: {e}")
# bad input never hurts the supervisor: an unreadable path, an unterminated long one
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.mknodat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_ulong]
long_path = ctypes.create_string_buffer(b"a" * 5000)  # NUL only past PATH_MAX
for arg, want in ((8, errno.EFAULT), (ctypes.addressof(long_path), errno.ENAMETOOLONG)):
    if libc.mknodat(fd, arg, stat.S_IFCHR | 0o600, 0) != -1 or ctypes.get_errno() != want:
        sys.exit(f"mknodat of a bad path: errno {ctypes.get_errno()}, not {want}")
EOP
[ "$(stat -c '%F %t %T %a' "$M/dev/tty1")" = "character special file 4 1 600" ] ||
	fail "mknodat: $(stat -c '%F %t %T %a' "$M/dev/tty1")"
[ ! -e "$M/dev/new" ] || fail "trailing slash made a node"
ok "mknodat with a dirfd; EEXIST, ENOENT (trailing slash), EFAULT, ENAMETOOLONG as the kernel answers"

# GNU tar -x of an archive holding a device, as the same user
python3 - "$T/devs.tar" <<'EOP'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    d = tarfile.TarInfo("dev/ttyS0")
    d.type, d.mode, d.devmajor, d.devminor = tarfile.CHRTYPE, 0o660, 4, 64
    t.addfile(d)
EOP
"$RF" shell -- sh -c "umask 022 && tar --no-same-permissions -xf '$T/devs.tar' -C '$M/srv'" || fail "tar -x under the shell"
[ "$(stat -c '%F %t %T %a' "$M/srv/dev/ttyS0")" = "character special file 4 40 640" ] ||
	fail "tar: $(stat -c '%F %t %T %a' "$M/srv/dev/ttyS0")"
ok "tar -xf (GNU tar, ordinary user, umask 022) of an archive with a char device under the shell"

# outside any rootfs-fuse mount the kernel decides, as without the shell
if $is_root; then
	echo "# skip: running as root, mknod outside a mount succeeds for real"
else
	err=$("$RF" shell -- mknod "$T/outside/null" c 1 3 2>&1) && fail "mknod outside succeeded"
	printf '%s\n' "$err" | has 'Operation not permitted' || fail "outside: $err"
	[ ! -e "$T/outside/null" ] || fail "a file was made outside"
	ok "mknod outside a mount under the shell still fails with EPERM"
fi

# the exit status is passed through
rc=0
"$RF" shell -- sh -c 'exit 7' || rc=$?
[ "$rc" = 7 ] || fail "exit status $rc, not 7"
rc=0
"$RF" shell -- sh -c 'kill -TERM $$' || rc=$?
[ "$rc" = 143 ] || fail "killed: status $rc, not 143"
rc=0
"$RF" shell -- /nonexistent/cmd 2>/dev/null || rc=$?
[ "$rc" = 127 ] || fail "missing command: status $rc, not 127"
expect_fail '^rootfs-fuse: /nonexistent/cmd: command not found$' "$RF" shell -- /nonexistent/cmd
ok "exit status passed through: 7, 128+SIGTERM, 127 for a missing command"

# the nodes reach the export
umount_view "$M"
"$RF" export "$T/g.spec" -o "$T/x.cpio"
list=$(cpio -itv < "$T/x.cpio" 2>/dev/null)
for want in '^crw------- .* 5, +1 .* dev/console$' '^crw------- .* 1, +3 .* dev/null2$' \
	'^brw-r--r-- .* 8, +0 .* dev/sda$' '^crw------- .* 4, +1 .* dev/tty1$' \
	'^crw-r----- .* 4, +64 .* srv/dev/ttyS0$'; do
	printf '%s\n' "$list" | has -E "$want" || fail "cpio listing lacks /$want/: $list"
done
ok "the devices are in the cpio export (cpio -itv)"

# and back: GNU cpio -i of that export into a fresh mount
cat > "$T/h.spec" <<EOS
dir /tmp 01777 0 0
EOS
mount_view "$T/h.spec" "$T/mnt2"
"$RF" shell -- sh -c "cd '$T/mnt2' && cpio -idm --quiet < '$T/x.cpio'" || fail "cpio -i under the shell"
[ "$(stat -c '%F %t %T %a' "$T/mnt2/dev/console")" = "character special file 5 1 600" ] ||
	fail "cpio -i: $(stat -c '%F %t %T %a' "$T/mnt2/dev/console")"
[ "$(stat -c '%F %t %T' "$T/mnt2/dev/sda")" = "block special file 8 0" ] || fail "cpio -i: sda"
ok "cpio -i of the export into another mount under the shell"
finish
