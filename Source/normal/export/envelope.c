/*
 * envelope.c - the Sentry envelope around a report's event: the envelope
 * header (event_id, dsn, sdk), the event item, and attachment items (the
 * minidump as "event.minidump", the raw .mayday report as
 * "event.attachment"). Each item header gives the payload's exact length,
 * so payloads may hold any bytes.
 *
 * Context: normal (malloc, file reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "normal/reader/reader.h"
#include "normal/export/export.h"

/* Largest report file attached (the loader's own limit is the same). */
#define MD_ATTACH_MAX ((size_t)(256u << 20) + 16u)

void md_sentry_item(md_buf *b, const char *type, const char *filename,
                    const char *attachment_type, const char *content_type,
                    const void *data, size_t len)
{
    md_buf_str(b, "{\"type\":");
    md_buf_json_str(b, type);
    md_buf_printf(b, ",\"length\":%zu", len);
    if (filename) {
        md_buf_str(b, ",\"filename\":");
        md_buf_json_str(b, filename);
    }
    if (attachment_type) {
        md_buf_str(b, ",\"attachment_type\":");
        md_buf_json_str(b, attachment_type);
    }
    if (content_type) {
        md_buf_str(b, ",\"content_type\":");
        md_buf_json_str(b, content_type);
    }
    md_buf_str(b, "}\n");
    md_buf_put(b, data, len);
    md_buf_put(b, "\n", 1);
}

/* Reads a whole regular file (at most MD_ATTACH_MAX bytes). */
static int slurp(const char *path, md_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? MAYDAY_ENOENT : MAYDAY_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > MD_ATTACH_MAX) {
        close(fd);
        return MAYDAY_EFOREIGN;
    }
    char tmp[65536];
    for (;;) {
        ssize_t k = read(fd, tmp, sizeof(tmp));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            close(fd);
            return MAYDAY_EIO;
        }
        if (k == 0)
            break;
        md_buf_put(out, tmp, (size_t)k);
        if (out->len > MD_ATTACH_MAX) {
            close(fd);
            return MAYDAY_EFOREIGN;
        }
    }
    close(fd);
    return out->oom ? MAYDAY_ENOMEM : 0;
}

static void header(md_buf *b, const mayday_report *rep,
                   const mayday_export_options *opt)
{
    char id[33];
    md_sentry_event_id(md_report_pb(rep), id);
    md_buf_str(b, "{");
    if (id[0])
        md_buf_printf(b, "\"event_id\":\"%s\",", id);
    if (opt->dsn) {
        md_buf_str(b, "\"dsn\":");
        md_buf_json_str(b, opt->dsn);
        md_buf_str(b, ",");
    }
    md_buf_str(b, "\"sdk\":{\"name\":\"mayday\",\"version\":");
    md_buf_json_str(b, mayday_version());
    md_buf_str(b, "}}\n");
}

int md_sentry_envelope(const mayday_report *rep,
                       const mayday_export_options *opt, md_buf *out)
{
    int with_dump = (opt->flags & MAYDAY_EXPORT_SENTRY_MINIDUMP) != 0;
    md_buf ev = {0}, dump = {0}, raw = {0};
    int rc = md_sentry_event(rep, opt, !with_dump, &ev);
    if (rc == 0 && with_dump)
        rc = md_minidump_build(rep, opt, &dump);
    if (rc == 0 && (opt->flags & MAYDAY_EXPORT_ATTACH_REPORT))
        rc = opt->report_path ? slurp(opt->report_path, &raw) : MAYDAY_EINVAL;
    if (rc == 0) {
        header(out, rep, opt);
        md_sentry_item(out, "event", NULL, NULL, "application/json", ev.p,
                       ev.len);
        if (with_dump)
            md_sentry_item(out, "attachment", "minidump.dmp", "event.minidump",
                           "application/x-dmp", dump.p, dump.len);
        if (opt->flags & MAYDAY_EXPORT_ATTACH_REPORT)
            md_sentry_item(out, "attachment", "report.mayday",
                           "event.attachment", "application/octet-stream",
                           raw.p, raw.len);
        md_sentry_attachments(out, md_report_pb(rep));
        if (out->oom)
            rc = MAYDAY_ENOMEM;
    }
    md_buf_free(&ev);
    md_buf_free(&dump);
    md_buf_free(&raw);
    return rc;
}
