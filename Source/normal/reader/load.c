/*
 * load.c - the next-launch reader: list pending reports, load and validate
 * one (framing, CRC, protobuf-c unpack, every index and count), summary
 * info, free, purge.
 *
 * Context: normal (malloc, stdio, directory reads). Hostile input gives an
 * error code, never a crash: every size is checked before it is used, and
 * every index in the decoded message is checked before the formatters see
 * it. Loading never modifies or deletes a file; only mayday_report_purge()
 * deletes, and only files that are mayday reports.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash/core/framing.h"
#include "crash/core/writer.h"
#include "normal/common/le.h"
#include "normal/reader/reader.h"

static int errno_to_mayday(int e)
{
    switch (e) {
    case ENOENT:
        return MAYDAY_ENOENT;
    case ENOTDIR:
        return MAYDAY_ENOTDIR;
    case EISDIR:
        return MAYDAY_EISDIR;
    case EACCES:
    case EPERM:
        return MAYDAY_EACCES;
    case ENOMEM:
        return MAYDAY_ENOMEM;
    case ELOOP:
    case ENAMETOOLONG:
    case EINVAL:
        return MAYDAY_EINVAL;
    default:
        return MAYDAY_EIO;
    }
}

/* Checks the header of a file or buffer of `have` bytes (of which at most 16
 * are given). 0: a v1 header. Short input that is a prefix of a mayday
 * header is a report cut short (ECORRUPT), anything else EFOREIGN. */
static int check_header(const unsigned char *h, size_t have)
{
    size_t m = have < MDS_FILE_MAGIC_LEN ? have : MDS_FILE_MAGIC_LEN;
    /* m == 0: h may be NULL (parse of an empty buffer), and memcmp with a
     * null pointer is undefined even for length 0 (UBSan). */
    if (m && memcmp(h, MDS_FILE_MAGIC, m) != 0)
        return MAYDAY_EFOREIGN;
    if (have < MDS_FILE_MAGIC_LEN + 1)
        return MAYDAY_ECORRUPT;
    if (h[6] != MDS_FILE_VERSION)
        return MAYDAY_EVERSION;
    if (have < 8)
        return MAYDAY_ECORRUPT;
    /* Flags change how the message is stored: unknown ones mean a newer
     * format this reader cannot decode. */
    if (h[7] != 0)
        return MAYDAY_EVERSION;
    if (have < MDS_FILE_HEADER_LEN)
        return MAYDAY_ECORRUPT;
    return 0;
}

/* Every index and count the formatters rely on. A report cut by its size
 * cap may end before the image list that frames written earlier (the
 * crashed thread's) point into: those frames lose their image, the report
 * stays readable. The same in a report that was not cut is corruption. */
static int validate(Mayday__Report *r)
{
    if (r->header && r->header->has_uuid && r->header->uuid.len != 16)
        return MAYDAY_ECORRUPT;
    if (r->has_crashed_thread && r->crashed_thread >= r->n_threads)
        return MAYDAY_ECORRUPT;
    for (size_t i = 0; i < r->n_threads; i++) {
        const Mayday__Thread *t = r->threads[i];
        if (t->n_registers != 0 && t->n_registers != r->n_register_names)
            return MAYDAY_ECORRUPT;
        for (size_t k = 0; k < t->n_frames; k++) {
            Mayday__Frame *f = t->frames[k];
            if (f->has_image && f->image >= r->n_images) {
                if (!r->truncated)
                    return MAYDAY_ECORRUPT;
                f->has_image = 0;
            }
        }
    }
    return md_validate_contents(r); /* issue 11 */
}

int mayday_report_parse(const void *data, size_t len, mayday_report **out)
{
    if (!out || (!data && len))
        return MAYDAY_EINVAL;
    *out = NULL;
    const unsigned char *p = data;
    int rc =
        check_header(p, len < MDS_FILE_HEADER_LEN ? len : MDS_FILE_HEADER_LEN);
    if (rc < 0)
        return rc;
    uint32_t n = md_le32(p + 8), crc = md_le32(p + 12);
    if (len - MDS_FILE_HEADER_LEN != n)
        return MAYDAY_ECORRUPT; /* cut short, or trailing garbage */
    if (mds_crc32(0, p + MDS_FILE_HEADER_LEN, n) != crc)
        return MAYDAY_ECORRUPT;
    mayday_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return MAYDAY_ENOMEM;
    /* The unpacked message takes about 3-4 times the encoded size (later
     * chunks double; hostile sizes do not get a huge first one). */
    size_t first = (size_t)n * 4 + 4096;
    md_pb_arena_init(&rep->arena, first < (16u << 20) ? first : (16u << 20));
    Mayday__Report *pb = mayday__report__unpack(&rep->arena.allocator, n,
                                                p + MDS_FILE_HEADER_LEN);
    rc = pb ? validate(pb) : MAYDAY_ECORRUPT;
    if (rc < 0) {
        md_pb_arena_release(&rep->arena);
        free(rep);
        return rc;
    }
    rep->pb = pb;
    rep->signal_name =
        md_report_signal_name(pb, rep->signame, sizeof(rep->signame));
    if (pb->header && pb->header->has_uuid) {
        const uint8_t *u = pb->header->uuid.data;
        snprintf(rep->uuid, sizeof(rep->uuid),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
                 u[10], u[11], u[12], u[13], u[14], u[15]);
    }
    *out = rep;
    return 0;
}

/* Reads up to n bytes (fewer only at end of file). */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* Opens a regular file for reading without blocking on FIFOs. */
static int open_regular(const char *path, int *fd_out, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno_to_mayday(errno);
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return errno_to_mayday(e);
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        return MAYDAY_EISDIR;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return MAYDAY_EFOREIGN;
    }
    *fd_out = fd;
    return 0;
}

int mayday_report_load(const char *path, mayday_report **out)
{
    if (!path || !out)
        return MAYDAY_EINVAL;
    *out = NULL;
    int fd;
    struct stat st;
    int rc = open_regular(path, &fd, &st);
    if (rc < 0)
        return rc;
    unsigned char h[MDS_FILE_HEADER_LEN];
    ssize_t k = read_full(fd, h, sizeof(h));
    if (k < 0) {
        close(fd);
        return MAYDAY_EIO;
    }
    rc = check_header(h, (size_t)k);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    size_t n = md_le32(h + 8);
    if (n > MD_READER_MAX_FILE - MDS_FILE_HEADER_LEN ||
        (uint64_t)st.st_size != MDS_FILE_HEADER_LEN + (uint64_t)n) {
        close(fd);
        return MAYDAY_ECORRUPT;
    }
    /* One byte more than announced, to see trailing data appended since
     * the fstat. */
    unsigned char *buf = malloc(MDS_FILE_HEADER_LEN + n + 1);
    if (!buf) {
        close(fd);
        return MAYDAY_ENOMEM;
    }
    memcpy(buf, h, MDS_FILE_HEADER_LEN);
    k = read_full(fd, buf + MDS_FILE_HEADER_LEN, n + 1);
    close(fd);
    if (k < 0)
        rc = MAYDAY_EIO;
    else if ((size_t)k != n)
        rc = MAYDAY_ECORRUPT;
    else
        rc = mayday_report_parse(buf, MDS_FILE_HEADER_LEN + n, out);
    free(buf);
    return rc;
}

void mayday_report_free(mayday_report *report)
{
    if (!report)
        return;
    md_pb_arena_release(&report->arena); /* report->pb lives there */
    free(report->encoded);
    free(report);
}

const struct Mayday__Report *mayday_report_message(const mayday_report *r)
{
    return r ? r->pb : NULL;
}

int mayday_report_get_info(const mayday_report *report,
                           mayday_report_info *info)
{
    if (!report || !info || info->size < 2 * sizeof(uint64_t))
        return MAYDAY_EINVAL;
    const Mayday__Report *r = report->pb;
    mayday_report_info x;
    memset(&x, 0, sizeof(x));
    x.size = info->size;
    x.uuid = report->uuid;
    if (r->header) {
        x.time_unix_ns = r->header->time_unix_ns;
        x.live = r->header->live ? 1 : 0;
    }
    char reasons[8];
    x.complete = md_incomplete_reasons(r, reasons, sizeof(reasons)) == 0;
    x.signal_name = report->signal_name;
    if (r->signal) {
        x.signo = (int)r->signal->number;
        x.fault_address = r->signal->address;
    }
    const char *cause = r->has_cause ? md_cause_text(r->cause) : NULL;
    x.cause = cause ? cause : "";
    x.app_id = r->app && r->app->id ? r->app->id : "";
    x.app_version = r->app && r->app->version ? r->app->version : "";
    x.pid = r->process ? r->process->pid : 0;
    x.process_name = r->process && r->process->name ? r->process->name : "";
    x.thread_count = (uint32_t)r->n_threads;
    x.image_count = (uint32_t)r->n_images;
    x.crashed_thread = r->has_crashed_thread ? (int32_t)r->crashed_thread : -1;
    size_t n = info->size < sizeof(x) ? info->size : sizeof(x);
    memcpy(info, &x, n);
    return 0;
}

/* ------------------------------------------------------------- list, purge */

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* 1 if the file at path starts with the mayday magic, or is shorter and a
 * prefix of it (a report cut short while its header was written). */
static int looks_like_report(const char *path)
{
    int fd;
    struct stat st;
    if (open_regular(path, &fd, &st) < 0)
        return 0;
    unsigned char h[MDS_FILE_MAGIC_LEN];
    ssize_t k = read_full(fd, h, sizeof(h));
    close(fd);
    return k >= 0 && memcmp(h, MDS_FILE_MAGIC, (size_t)k) == 0;
}

typedef struct md_entry {
    char *path;
    int64_t key; /* report time, else mtime, in ns */
} md_entry;

static int entry_cmp(const void *a, const void *b)
{
    const md_entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int64_t sort_key(const char *path)
{
    mayday_report *r = NULL;
    int64_t key = INT64_MIN;
    if (mayday_report_load(path, &r) == 0) {
        if (r->pb->header && r->pb->header->has_time_unix_ns)
            key = r->pb->header->time_unix_ns;
        mayday_report_free(r);
        if (key != INT64_MIN)
            return key;
    }
    struct stat st;
    if (stat(path, &st) == 0)
        key = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return key;
}

int mayday_reports_list(const char *dir, char ***paths, size_t *count)
{
    if (!dir || !paths || !count)
        return MAYDAY_EINVAL;
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno_to_mayday(errno);
    md_entry *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_suffix(de->d_name, MDS_FILE_SUFFIX))
            continue;
        size_t plen = dlen + 1 + strlen(de->d_name) + 1;
        char *p = malloc(plen);
        if (!p) {
            rc = MAYDAY_ENOMEM;
            break;
        }
        snprintf(p, plen, "%s%s%s", dir, slash ? "" : "/", de->d_name);
        if (!looks_like_report(p)) {
            free(p);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            md_entry *nv = realloc(v, nc * sizeof(*v));
            if (!nv) {
                free(p);
                rc = MAYDAY_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].path = p;
        v[n].key = sort_key(p);
        n++;
    }
    closedir(d);
    if (rc == 0 && n > 0) {
        qsort(v, n, sizeof(*v), entry_cmp);
        char **out = malloc(n * sizeof(*out));
        if (!out) {
            rc = MAYDAY_ENOMEM;
        } else {
            for (size_t i = 0; i < n; i++)
                out[i] = v[i].path;
            *paths = out;
            *count = n;
            free(v);
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    return rc;
}

void mayday_reports_list_free(char **paths, size_t count)
{
    if (!paths)
        return;
    for (size_t i = 0; i < count; i++)
        free(paths[i]);
    free(paths);
}

int mayday_report_purge(const char *path)
{
    if (!path || !path[0])
        return MAYDAY_EINVAL;
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno_to_mayday(errno);
    if (S_ISDIR(st.st_mode))
        return MAYDAY_EISDIR;
    /* Only a regular "*.mayday" file that starts with the magic (or is a
     * prefix of it); a symlink is never followed nor removed. */
    if (!S_ISREG(st.st_mode) || !has_suffix(path, MDS_FILE_SUFFIX) ||
        !looks_like_report(path))
        return MAYDAY_EFOREIGN;
    if (unlink(path) != 0)
        return errno_to_mayday(errno);
    return 0;
}
