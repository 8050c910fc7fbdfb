# Shared helpers of the integration tests (sourced). Each test runs the real binary
# ($ROOTFS_FUSE) against real tools in its own temporary directory, removed on exit.
set -euo pipefail
: "${ROOTFS_FUSE:?ROOTFS_FUSE must point at the rootfs-fuse binary}"
: "${RF_SRC:?RF_SRC must point at the source tree}"
RF=$ROOTFS_FUSE
T=$(mktemp -d "${TMPDIR:-/tmp}/rf-it.XXXXXX")
cleanup_hooks=()
cleanup() {
	local h
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	chmod -R u+rwX "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass_count=0
ok() {
	pass_count=$((pass_count + 1))
	echo "ok - $*"
}

# has [GREP FLAGS] PATTERN: like `grep -q` at the end of a pipe, but reads its whole input, so
# the producer never gets SIGPIPE (which `set -o pipefail` would turn into a failure).
has() {
	grep "$@" > /dev/null
}

# expect_fail STATUS_VAR MSG_REGEX CMD...: the command must fail (non-zero) with a one-line
# error on stderr matching MSG_REGEX.
expect_fail() {
	local regex=$1
	shift
	local err rc=0
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure from: $* (stderr: $err)"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one line of error, got: $err"
	printf '%s\n' "$err" | has -E -- "$regex" || fail "error '$err' does not match /$regex/"
}

# the installed Debian kernel (linux-image-amd64)
kernel() {
	ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
}

finish() {
	echo "$pass_count passed, 0 failed"
}

# --- FUSE mounts (rootfs-fuse mount) ---
# wait_mounted MNT [STATE]: poll, with a bound, until MNT is a mount point (STATE=1) or no
# longer one (STATE=0).
wait_mounted() {
	local want=${2:-1} i
	for i in $(seq 1 400); do
		if mountpoint -q "$1" 2>/dev/null; then
			[ "$want" = 1 ] && return 0
		else
			[ "$want" = 0 ] && return 0
		fi
		sleep 0.05
	done
	fail "$1: mount state did not become $want"
}

# mount_view SPEC MNT [ARGS...]: rootfs-fuse mount, waiting for the mount; it is unmounted
# when the test exits, whatever happens.
mount_view() {
	local spec=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	"$RF" mount "$spec" "$mnt" "$@"
	cleanup_hooks+=("fusermount3 -u -z '$mnt' 2>/dev/null")
	wait_mounted "$mnt" 1
}

umount_view() {
	"$RF" umount "$1"
	wait_mounted "$1" 0
}
