#!/usr/bin/env bash
# Durability: a file written and fsync'ed in the mount, with its owner and mode changed, is
# there after the daemon is killed with SIGKILL and the view remounted; an interrupted copy-up
# leaves nothing visible; ls and export of the SPEC still work.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/etc"
seq 1 5000 > "$T/tree/etc/lower"
printf 'tree ./tree\n' > "$T/g.spec"
M=$T/mnt
mkdir "$M"
"$RF" mount "$T/g.spec" "$M" --foreground &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null; fusermount3 -u -z '$M' 2>/dev/null")
wait_mounted "$M"

head -c 1000000 /dev/urandom > "$T/payload"
python3 - "$T/payload" "$M/etc/new" <<'PY'
import os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_CREAT | os.O_WRONLY, 0o600)
os.write(fd, data)
os.fsync(fd)
os.close(fd)
PY
chown 0:0 "$M/etc/new"
chmod 0640 "$M/etc/new"
echo appended >> "$M/etc/lower"
sync -f "$M/etc/lower"
rm "$M/etc/lower" 2>/dev/null || true
echo back > "$M/etc/lower"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
# the kernel still has the dead mount: take it down, as after any crash
"$RF" umount "$M"
wait_mounted "$M" 0
ok "daemon killed with SIGKILL, dead mount removed"

# what an interrupted copy-up leaves in work/ is cleared and never shown
echo junk > "$T/g.state/work/cu.99"
mount_view "$T/g.spec" "$M"
cmp "$M/etc/new" "$T/payload" || fail "fsync'ed data lost"
[ "$(stat -c '%u:%g %a' "$M/etc/new")" = "0:0 640" ] || fail "metadata lost: $(stat -c '%u:%g %a' "$M/etc/new")"
[ "$(cat "$M/etc/lower")" = back ] || fail "whiteout + recreate lost"
[ -z "$(ls -A "$T/g.state/work")" ] || fail "work/ not emptied"
umount_view "$M"
ok "data and metadata survive SIGKILL and a remount"

"$RF" ls "$T/g.spec" --long --hash > "$T/ls.txt"
want=$(xxhsum -H2 "$T/payload" | awk '{print $1}')
grep -q "^-rw-r----- 0 0 1000000 $want /etc/new" "$T/ls.txt" || fail "ls --hash: $(grep /etc/new "$T/ls.txt")"
"$RF" export "$T/g.spec" -o "$T/out.cpio"
mkdir "$T/x"
(cd "$T/x" && cpio -i -d --quiet < "$T/out.cpio" 2>/dev/null) || true
cmp "$T/x/etc/new" "$T/payload" || fail "export lost the data"
cpio -t -v --numeric-uid-gid < "$T/out.cpio" 2>/dev/null | grep -Eq '^-rw-r----- +1 +0 +0 .* etc/new$' ||
	fail "export lost the metadata"
ok "export after the crash"
ok "ls of the SPEC shows the upper layer's file with its owner, mode and content"
finish
