#!/usr/bin/python3
# blockfs.py - a FUSE file system for the hung-file-system crash scenario:
# an in-memory directory where everything works, except that creating a
# file whose name ends in ".tmp" never answers, like a hung NFS server or
# a stuck FUSE daemon. The daemon serves one request at a time: once it
# is stuck, every later request of any process waits for it in the
# kernel. (A request the daemon has taken cannot even be interrupted by
# SIGKILL; one still queued can: that is what the scenario relies on, see
# crasher_states.c "hung-fs".)
#
#   blockfs.py MOUNTPOINT     (foreground; the test kills it and unmounts)
#
# When it takes the first ".tmp" creation (and from then on answers
# nothing), it creates MOUNTPOINT.jammed beside the mount point.
#
# Context: test helper (Debian's python3-fusepy: module "fusepy").
import errno
import stat
import sys
import threading
import time

import fusepy


class BlockFS(fusepy.Operations):
    def __init__(self, jammed):
        self.jammed = jammed  # created once a request is held
        self.files = {}  # name -> bytearray
        self.mu = threading.Lock()
        self.now = time.time()

    def getattr(self, path, fh=None):
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o700, st_nlink=2,
                        st_ctime=self.now, st_mtime=self.now,
                        st_atime=self.now)
        with self.mu:
            data = self.files.get(path[1:])
        if data is None:
            raise fusepy.FuseOSError(errno.ENOENT)
        return dict(st_mode=stat.S_IFREG | 0o600, st_nlink=1,
                    st_size=len(data), st_ctime=self.now,
                    st_mtime=self.now, st_atime=self.now)

    def readdir(self, path, fh):
        with self.mu:
            return [".", ".."] + list(self.files)

    def create(self, path, mode, fi=None):
        if path.endswith(".tmp"):
            # Tell the test (outside the mount) that a request is now
            # held: every later one stays queued, where SIGKILL ends it.
            with open(self.jammed, "w"):
                pass
            while True:  # never answers
                time.sleep(3600)
        with self.mu:
            self.files[path[1:]] = bytearray()
        return 0

    def open(self, path, flags):
        with self.mu:
            if path[1:] not in self.files:
                raise fusepy.FuseOSError(errno.ENOENT)
        return 0

    def read(self, path, size, offset, fh):
        with self.mu:
            return bytes(self.files[path[1:]][offset:offset + size])

    def write(self, path, data, offset, fh):
        with self.mu:
            f = self.files[path[1:]]
            if len(f) < offset:
                f.extend(b"\0" * (offset - len(f)))
            f[offset:offset + len(data)] = data
        return len(data)

    def truncate(self, path, length, fh=None):
        with self.mu:
            f = self.files[path[1:]]
            del f[length:]

    def fsync(self, path, datasync, fh):
        return 0

    def unlink(self, path):
        with self.mu:
            self.files.pop(path[1:], None)


if __name__ == "__main__":
    mountpoint = sys.argv[1].rstrip("/")
    fusepy.FUSE(BlockFS(mountpoint + ".jammed"), mountpoint,
                foreground=True, nothreads=True)
