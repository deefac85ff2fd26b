/*
 * fds.c - the descriptors the crash path needs, opened at install
 * (mds_g.fd, see Source/crash/handler/state.h): the report directory, the
 * process's /proc directory, the last-crash marker file (created here at
 * its full size, so that the crash-time update needs no free block), and
 * two spare descriptors that the crash path closes to make room when the
 * process has used up its descriptor limit.
 *
 * Context: normal (install, uninstall, and the child side of fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "crash/handler/marker.h"
#include "crash/handler/state.h"
#include "normal/install/install.h"

/* A file system whose close() waits for a server: on FUSE, closing a
 * file sends a FLUSH that not even SIGKILL interrupts, so a descriptor
 * held for the process's life would keep a crashed process from ever
 * ending when that server hangs (scenario hung-fs). NFS, SMB and the
 * like flush to their server on close as well. */
static int remote_fs(int dirfd)
{
    static const long types[] = {
        0x65735546, /* FUSE */
        0x6969,     /* NFS */
        0xff534d42, /* CIFS */
        0xfe534d42, /* SMB2 */
        0x517b,     /* SMB */
        0x01021997, /* 9P */
        0x00c36400, /* Ceph */
        0x5346414f, /* AFS */
    };
    struct statfs fs;
    if (fstatfs(dirfd, &fs) != 0)
        return 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if ((long)fs.f_type == types[i])
            return 1;
    }
    return 0;
}

/* Creates the marker at its full size. Returns its descriptor, kept open
 * so that the crash path can write it even after the process lost the
 * right to open it (a daemon that drops privileges after install); on a
 * remote file system (remote_fs), MDS_MARKER_REOPEN: the crash path opens
 * it for each of its two writes. -1 if it cannot be made. */
static int make_marker(int dirfd)
{
    int fd = openat(dirfd, MDS_MARKER_NAME,
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size < MDS_MARKER_SIZE) {
        /* Fresh (or cut short): give it its blocks now. A record that is
         * already there stays: it is the previous run's crash. */
        unsigned char zero[MDS_MARKER_SIZE];
        memset(zero, 0, sizeof zero);
        if (pwrite(fd, zero + st.st_size, MDS_MARKER_SIZE - st.st_size,
                   st.st_size) != (ssize_t)(MDS_MARKER_SIZE - st.st_size) ||
            fsync(fd) < 0) {
            close(fd);
            return -1;
        }
    }
    if (remote_fs(dirfd)) {
        close(fd);
        return MDS_MARKER_REOPEN;
    }
    return fd;
}

static void open_proc(void)
{
    mds_g.fd.proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
    mds_g.fd.proc_pid = (uint32_t)getpid();
}

int md_fds_open(const char *dir)
{
    mds_fds *f = &mds_g.fd;
    f->dir = f->proc = f->marker = f->spare[0] = f->spare[1] = -1;
    f->dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dir < 0)
        return errno == EACCES ? MAYDAY_EACCES : MAYDAY_ENOENT;
    struct stat st;
    if (fstat(f->dir, &st) == 0) {
        f->dir_dev = (uint64_t)st.st_dev;
        f->dir_ino = (uint64_t)st.st_ino;
    }
    open_proc();
    /* A read-only directory still gets no report, but install works as
     * before (the crash path reports the reason in nothing but the exit
     * status then). */
    f->marker = make_marker(f->dir);
    for (int i = 0; i < 2; i++)
        f->spare[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < 2; i++) {
        if (f->spare[i] < 0)
            f->spare[i] = fcntl(f->dir, F_DUPFD_CLOEXEC, 0);
    }
    return 0;
}

void md_fds_close(void)
{
    mds_fds *f = &mds_g.fd;
    int *all[] = {&f->dir, &f->proc, &f->marker, &f->spare[0], &f->spare[1]};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i] >= 0)
            close(*all[i]);
        *all[i] = -1;
    }
}

void md_fds_after_fork(void)
{
    /* The child inherited descriptors that name its parent's /proc. */
    if (mds_g.fd.proc >= 0)
        close(mds_g.fd.proc);
    open_proc();
}
