/*
 * export.c - the public export entry points (mayday_report_export,
 * mayday_report_export_file, mayday_export_options_init): option copying
 * for callers built against an older, shorter options struct, dispatch to
 * the minidump and Sentry builders, and the atomic file write.
 *
 * Context: normal (malloc, file I/O).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "normal/export/export.h"

void mayday_export_options_init(mayday_export_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof(*opt));
    opt->size = sizeof(*opt);
}

/* Copies what an (older) caller's struct has; the rest stays zero. */
static int copy_opts(const mayday_export_options *in, mayday_export_options *o)
{
    mayday_export_options_init(o);
    if (!in)
        return 0;
    if (in->size < 2 * sizeof(uint32_t))
        return MAYDAY_EINVAL;
    size_t n = in->size < sizeof(*o) ? in->size : sizeof(*o);
    memcpy(o, in, n);
    o->size = sizeof(*o);
    return 0;
}

static int build(const mayday_report *report, int format,
                 const mayday_export_options *opt, md_buf *b)
{
    if (!report)
        return MAYDAY_EINVAL;
    mayday_export_options o;
    int rc = copy_opts(opt, &o);
    if (rc < 0)
        return rc;
    switch (format) {
    case MAYDAY_EXPORT_MINIDUMP:
        return md_minidump_build(report, &o, b);
    case MAYDAY_EXPORT_SENTRY_ENVELOPE:
        rc = md_sentry_envelope(report, &o, b);
        break;
    case MAYDAY_EXPORT_SENTRY_EVENT:
        rc = md_sentry_event(report, &o,
                             !(o.flags & MAYDAY_EXPORT_SENTRY_MINIDUMP), b);
        if (rc == 0)
            md_buf_put(b, "\n", 1);
        break;
    default:
        return MAYDAY_EINVAL;
    }
    if (rc == 0 && b->oom)
        rc = MAYDAY_ENOMEM;
    if (rc < 0)
        md_buf_free(b);
    return rc;
}

int mayday_report_export(const mayday_report *report, int format,
                         const mayday_export_options *opt, void **data,
                         size_t *len)
{
    if (!data || !len)
        return MAYDAY_EINVAL;
    *data = NULL;
    *len = 0;
    md_buf b = {0};
    int rc = build(report, format, opt, &b);
    if (rc < 0)
        return rc;
    *data = b.p;
    *len = b.len;
    return 0;
}

static int errno_code(int e)
{
    switch (e) {
    case ENOENT:
        return MAYDAY_ENOENT;
    case EACCES:
    case EPERM:
    case EROFS:
        return MAYDAY_EACCES;
    case ENOSPC:
    case EDQUOT:
        return MAYDAY_ENOSPC;
    case ENOTDIR:
        return MAYDAY_ENOTDIR;
    case EISDIR:
        return MAYDAY_EISDIR;
    default:
        return MAYDAY_EIO;
    }
}

/* Writes all of p to fd; 0 or a MAYDAY_E* code. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno_code(errno);
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int mayday_report_export_file(const mayday_report *report, int format,
                              const mayday_export_options *opt,
                              const char *path)
{
    if (!path || !path[0])
        return MAYDAY_EINVAL;
    md_buf b = {0};
    int rc = build(report, format, opt, &b);
    if (rc < 0)
        return rc;
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    if (!tmp) {
        md_buf_free(&b);
        return MAYDAY_ENOMEM;
    }
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno_code(errno);
    } else {
        rc = write_all(fd, b.p, b.len);
        if (rc == 0 && fsync(fd) != 0)
            rc = errno_code(errno);
        if (close(fd) != 0 && rc == 0)
            rc = errno_code(errno);
        if (rc == 0 && rename(tmp, path) != 0)
            rc = errno_code(errno);
        if (rc < 0)
            unlink(tmp);
    }
    free(tmp);
    md_buf_free(&b);
    return rc;
}
