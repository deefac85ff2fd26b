/*
 * lastcrash.c - reading and clearing the last-crash marker (see
 * Source/crash/handler/marker.h for the layout the crash path writes).
 *
 * Context: normal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crash/handler/marker.h"
#include "mayday/mayday.h"
#include "normal/common/le.h"

static int open_marker(const char *dir, int flags)
{
    if (!dir || !dir[0])
        return MAYDAY_EINVAL;
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, MDS_MARKER_NAME) >=
        sizeof path)
        return MAYDAY_EINVAL;
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT    ? MAYDAY_ENOENT
               : errno == EACCES  ? MAYDAY_EACCES
               : errno == ENOTDIR ? MAYDAY_ENOTDIR
                                  : MAYDAY_EIO;
    return fd;
}

/* A NUL-terminated copy of a fixed field (the crash path terminates it,
 * a corrupt file may not). */
static void field_str(char *dst, size_t cap, const unsigned char *src, size_t n)
{
    size_t k = strnlen((const char *)src, n);
    if (k >= cap)
        k = cap - 1;
    memcpy(dst, src, k);
    dst[k] = 0;
}

int mayday_last_crash_read(const char *dir, mayday_last_crash *info)
{
    if (!info || info->size < offsetof(mayday_last_crash, reason) + 1)
        return MAYDAY_EINVAL;
    int fd = open_marker(dir, O_RDONLY);
    if (fd < 0)
        return fd;
    unsigned char rec[MDS_MARKER_SIZE];
    ssize_t n = pread(fd, rec, sizeof rec, 0);
    close(fd);
    if (n < 0)
        return MAYDAY_EIO;
    uint32_t size = info->size;
    memset(info, 0, size);
    info->size = size;
    if (n < (ssize_t)sizeof rec || memcmp(rec, MDS_MARKER_MAGIC, 8) != 0)
        return 0; /* blank (as created) or not ours: no crash recorded */
    if (md_le32(rec + 8) != 1)
        return MAYDAY_EVERSION;
    uint32_t state = md_le32(rec + 12);
    if (state < MDS_MARK_IN_PROGRESS || state > MDS_MARK_FAILED)
        return MAYDAY_ECORRUPT;
    info->state = (int)state;
    info->pid = md_le32(rec + 16);
    info->signo = (int)md_le32(rec + 20);
    info->code = (int)md_le32(rec + 24);
    info->result = (int)md_le32(rec + 28);
    info->fault_address = md_le64(rec + 32);
    info->time_unix_ns = (int64_t)md_le64(rec + 40);
    field_str(info->report_name, sizeof info->report_name, rec + 48, 208);
    field_str(info->reason, sizeof info->reason, rec + 256, 256);
    return 1;
}

int mayday_last_crash_clear(const char *dir)
{
    int fd = open_marker(dir, O_WRONLY);
    if (fd < 0)
        return fd;
    unsigned char zero[MDS_MARKER_SIZE];
    memset(zero, 0, sizeof zero);
    ssize_t n = pwrite(fd, zero, sizeof zero, 0);
    close(fd);
    return n == (ssize_t)sizeof zero ? 0 : MAYDAY_EIO;
}
