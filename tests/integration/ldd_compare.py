#!/usr/bin/env python3
"""Compare `rootfs-fuse ldd` with the dynamic loader over every dynamically linked ELF file
(one with a PT_INTERP) in the given directories or files: the sets of libraries (canonical real
paths, linux-vdso aside) must be equal. The reference is what ldd(1) prints, obtained the way
Debian's ldd script obtains it (the loader run with LD_TRACE_LOADED_OBJECTS=1), six times
faster than the script; a sample is checked against ldd itself.
Usage: ldd_compare.py ROOTFS_FUSE DIR|FILE...  Prints every mismatch; exit 1 when there is one."""
import concurrent.futures
import os
import struct
import subprocess
import sys

BATCH = 200
PT_INTERP, PT_DYNAMIC = 3, 2


def elf_interp(path):
    """PT_INTERP of an ELF file, read here with struct so the reference does not depend on the
    code under test; None for a file without one (static, static-pie, not ELF)."""
    with open(path, 'rb') as f:
        h = f.read(64)
        if len(h) < 52 or h[:4] != b'\x7fELF':
            return None
        is64 = h[4] == 2
        end = '<' if h[5] == 1 else '>'
        if is64:
            phoff, = struct.unpack(end + 'Q', h[32:40])
            phentsize, phnum = struct.unpack(end + 'HH', h[54:58])
        else:
            phoff, = struct.unpack(end + 'I', h[28:32])
            phentsize, phnum = struct.unpack(end + 'HH', h[42:46])
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            ph = f.read(phentsize)
            if len(ph) < phentsize:
                return None
            ptype, = struct.unpack(end + 'I', ph[:4])
            if ptype != PT_INTERP:
                continue
            if is64:
                off, = struct.unpack(end + 'Q', ph[8:16])
                size, = struct.unpack(end + 'Q', ph[32:40])
            else:
                off, = struct.unpack(end + 'I', ph[4:8])
                size, = struct.unpack(end + 'I', ph[16:20])
            f.seek(off)
            return f.read(size).split(b'\0')[0].decode()
    return None


def elf_files(args):
    out = []
    for a in args:
        names = [os.path.join(a, n) for n in sorted(os.listdir(a))] if os.path.isdir(a) else [a]
        for p in names:
            if os.path.islink(p) or not os.path.isfile(p) or not os.access(p, os.R_OK):
                continue
            interp = elf_interp(p)
            if interp:
                out.append((p, interp))
    return out


def libs_of(lines):
    """The canonical paths of ldd-style lines; 'NOT FOUND name' for a missing library."""
    libs = set()
    for line in lines:
        s = line.strip()
        if '=>' in s:
            name, _, rest = s.partition('=>')
            rest = rest.strip()
            if rest.startswith('not found'):
                libs.add('NOT FOUND ' + name.strip())
                continue
            path = rest.split(' (')[0].strip()
        else:
            path = s.split(' (')[0].strip()
        if path.startswith('/'):
            libs.add(os.path.realpath(path))
    return libs


def trace(item):
    """What ldd(1) prints, obtained as Debian's ldd script obtains it: the binary's loader run
    with LD_TRACE_LOADED_OBJECTS=1 (the loader maps the libraries, runs nothing of them)."""
    path, interp = item
    env = {'LD_TRACE_LOADED_OBJECTS': '1', 'PATH': '/usr/bin:/bin'}
    try:
        p = subprocess.run([interp, path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, env=env)
    except OSError:
        return path, None  # a loader this machine cannot run (no ia32 support, say)
    return path, (libs_of(p.stdout.splitlines()) if p.returncode == 0 or p.stdout else None)


def ours(rf, files):
    res = {}
    for i in range(0, len(files), BATCH):
        chunk = files[i:i + BATCH]
        p = subprocess.run([rf, 'ldd', '--'] + chunk, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        for line in p.stderr.splitlines():
            print('rootfs-fuse ldd stderr: ' + line)
        cur, lines = None, []
        for line in p.stdout.splitlines() + ['END:']:
            if not line.startswith('\t'):
                if cur:
                    res[cur] = libs_of(lines)
                cur, lines = line[:-1], []
            else:
                lines.append(line)
    return res


def ldd_itself(path):
    p = subprocess.run(['ldd', path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return libs_of(p.stdout.splitlines())


def main():
    rf = sys.argv[1]
    items = elf_files(sys.argv[2:])
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        ref = dict(ex.map(trace, items))
    files = [p for p, _ in items if ref[p] is not None]
    got = ours(rf, files)
    bad = 0
    for f in files:
        if ref[f] != got.get(f):
            bad += 1
            b = got.get(f, set())
            print(f'MISMATCH {f}: only ldd: {sorted(ref[f] - b)} only ours: {sorted(b - ref[f])}')
    # the loader trace is what the ldd script prints; check that on a sample of files
    for f in files[::50]:
        if ldd_itself(f) != ref[f]:
            bad += 1
            print(f'REFERENCE {f}: ldd itself differs from the loader trace')
    print(f'{len(files)} dynamically linked ELF files compared, {bad} mismatches')
    if len(files) < len(items):
        print(f'{len(items) - len(files)} files skipped, their loader cannot run here: '
              + ' '.join(p for p, _ in items if ref[p] is None))
    if not files:
        print('no dynamically linked ELF file compared: not a test')
        return 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
