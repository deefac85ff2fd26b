/*
 * marker.c - the last-crash marker, written at crash time (see marker.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here.
 */
#include "crash/handler/marker.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <string.h>

#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void write_marker(const struct mds_request *req, uint32_t state,
                         int result, const char *name, const char *reason)
{
    int fd = mds_g.fd.marker;
    if ((fd < 0 && fd != MDS_MARKER_REOPEN) || req->live)
        return;
    uint64_t soft = ~0ull;
    if (mds_getrlimit(RLIMIT_FSIZE, &soft, 0) == 0 && soft < MDS_MARKER_SIZE)
        return; /* writing would raise SIGXFSZ */
    unsigned char rec[MDS_MARKER_SIZE];
    memset(rec, 0, sizeof rec);
    memcpy(rec, MDS_MARKER_MAGIC, 8);
    put32(rec + 8, 1);
    put32(rec + 12, state);
    put32(rec + 16, (uint32_t)mds_getpid());
    put32(rec + 20, (uint32_t)req->signo);
    put32(rec + 24, (uint32_t)req->info.si_code);
    put32(rec + 28, (uint32_t)result);
    put64(rec + 32, (uint64_t)(uintptr_t)req->info.si_addr);
    put64(rec + 40, mds_realtime_ns());
    if (name)
        mds_strlcpy((char *)rec + 48, name, 208);
    if (reason)
        mds_strlcpy((char *)rec + 256, reason, 256);
    if (fd >= 0) {
        mds_pwrite(fd, rec, sizeof rec, 0);
        return;
    }
    /* A remote file system (fds.c): opened for this write only, since a
     * descriptor still open when the process dies would block its exit
     * for ever if the server hangs. No O_CREAT: the file has its blocks
     * since install. */
    long tfd = mds_open_reserved(mds_g.fd.dir, MDS_MARKER_NAME,
                                 O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (tfd < 0)
        return;
    mds_pwrite((int)tfd, rec, sizeof rec, 0);
    mds_close((int)tfd);
}

void mds_marker_begin(const struct mds_request *req)
{
    write_marker(req, MDS_MARK_IN_PROGRESS, 0, 0,
                 "the process crashed while its report was being written");
}

void mds_marker_end(const struct mds_request *req, int result, const char *name,
                    const char *reason)
{
    write_marker(req, result == 0 ? MDS_MARK_WRITTEN : MDS_MARK_FAILED, result,
                 name, reason);
}
