/*
 * db.c - the report database of libmayday-upload: one small text state
 * file beside each report ("<stem>.upload-state" beside "<stem>.mayday"),
 * the consent and install-id files, the directory lock, deleting reports
 * with their state, cleaning orphans.
 *
 * Every change is a whole new file written to a temporary name, fsync'ed,
 * renamed over the old one and the directory fsync'ed: a kill -9 at any
 * moment leaves either the old or the new state, never a mix, and never
 * touches the report itself (docs/upload.md).
 *
 * Context: normal only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "upload/upload_internal.h"

#define STATE_MAGIC "mayday-upload-state 1\n"

int64_t md_up_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int md_up_errno(int e)
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
    case ENOMEM:
        return MAYDAY_ENOMEM;
    case EWOULDBLOCK:
        return MAYDAY_EBUSY;
    default:
        return MAYDAY_EIO;
    }
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

char *md_up_state_path(const char *report_path)
{
    size_t n = strlen(report_path);
    if (has_suffix(report_path, MD_UP_REPORT_SUFFIX))
        n -= strlen(MD_UP_REPORT_SUFFIX);
    char *p = malloc(n + sizeof(MD_UP_STATE_SUFFIX));
    if (p) {
        memcpy(p, report_path, n);
        memcpy(p + n, MD_UP_STATE_SUFFIX, sizeof(MD_UP_STATE_SUFFIX));
    }
    return p;
}

/* The directory part of path ("." if none), malloc'ed. */
static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s)
        return strdup(".");
    if (s == path)
        return strdup("/");
    return strndup(path, (size_t)(s - path));
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Writes text to path atomically: tmp (same directory), fsync, rename. */
static int write_atomic(const char *path, const char *text)
{
    size_t n = strlen(path) + 40;
    char *tmp = malloc(n);
    if (!tmp)
        return MAYDAY_ENOMEM;
    snprintf(tmp, n, "%s.%ld" MD_UP_TMP_SUFFIX, path, (long)getpid());
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = md_up_errno(errno);
        free(tmp);
        return rc;
    }
    size_t len = strlen(text), off = 0;
    while (off < len && rc == 0) {
        ssize_t k = write(fd, text + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = md_up_errno(errno);
        else
            off += (size_t)k;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = md_up_errno(errno);
    if (close(fd) != 0 && rc == 0)
        rc = md_up_errno(errno);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = md_up_errno(errno);
    if (rc < 0) {
        unlink(tmp);
    } else {
        char *d = dir_of(path);
        if (d)
            fsync_dir(d);
        free(d);
    }
    free(tmp);
    return rc;
}

int md_up_write_file(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        return MAYDAY_ENOMEM;
    snprintf(p, n, "%s/%s", dir, name);
    int rc = write_atomic(p, text);
    free(p);
    return rc;
}

static int read_path(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return md_up_errno(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return MAYDAY_EFOREIGN;
    }
    size_t got = 0;
    while (got + 1 < n) {
        ssize_t k = read(fd, buf + got, n - 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    return (int)got;
}

int md_up_read_file(const char *dir, const char *name, char *buf, size_t n)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (!p)
        return MAYDAY_ENOMEM;
    snprintf(p, len, "%s/%s", dir, name);
    int rc = read_path(p, buf, n);
    free(p);
    return rc;
}

/* ----------------------------------------------------------- state file */

/* The value after "key=" on its own line in text, or NULL. */
static const char *field(const char *text, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
            *len = e ? (size_t)(e - l - kl - 1) : strlen(l + kl + 1);
            return l + kl + 1;
        }
        l = e ? e + 1 : NULL;
    }
    return NULL;
}

static int64_t field_i64(const char *text, const char *key)
{
    size_t n;
    const char *v = field(text, key, &n);
    return v ? strtoll(v, NULL, 10) : 0;
}

static int parse_state(const char *text, mayday_upload_status *st)
{
    if (strncmp(text, STATE_MAGIC, strlen(STATE_MAGIC)) != 0)
        return -1;
    size_t n;
    const char *s = field(text, "state", &n);
    if (!s)
        return -1;
    static const char *const names[] = {"pending", "uploading", "uploaded",
                                        "failed"};
    st->state = -1;
    for (int i = 0; i < 4; i++)
        if (n == strlen(names[i]) && strncmp(s, names[i], n) == 0)
            st->state = i;
    if (st->state < 0)
        return -1;
    st->attempts = (uint32_t)field_i64(text, "attempts");
    st->interrupted = (uint32_t)field_i64(text, "interrupted");
    st->gave_up = field_i64(text, "gave_up") != 0;
    st->http_status = (int)field_i64(text, "http_status");
    st->changed_unix_ns = field_i64(text, "changed_ns");
    st->next_try_unix_ns = field_i64(text, "next_try_ns");
    st->uploaded_unix_ns = field_i64(text, "uploaded_ns");
    const char *e = field(text, "error", &n);
    if (e)
        snprintf(st->error, sizeof(st->error), "%.*s", (int)n, e);
    return 0;
}

void md_up_read_state(const char *report_path, mayday_upload_status *st)
{
    uint32_t size = st->size;
    memset(st, 0, sizeof(*st));
    st->size = size;
    st->state = MAYDAY_UPLOAD_PENDING;
    char *p = md_up_state_path(report_path);
    if (!p)
        return;
    char text[1024];
    int rc = read_path(p, text, sizeof(text));
    free(p);
    if (rc == MAYDAY_ENOENT)
        return;
    mayday_upload_status tmp = *st;
    if (rc < 0 || parse_state(text, &tmp) != 0) {
        /* Never lose a report over a damaged state file: it is pending
         * again (and may be sent once more, which the next attempt's
         * "interrupted" count says). */
        st->interrupted = 1;
        snprintf(st->error, sizeof(st->error), "state file unreadable");
        return;
    }
    *st = tmp;
}

static const char *state_word(int s)
{
    const char *n = mayday_upload_state_name(s);
    return strcmp(n, "unknown") == 0 ? "pending" : n;
}

int md_up_write_state(const char *report_path, const mayday_upload_status *st)
{
    char err[sizeof(st->error)];
    snprintf(err, sizeof(err), "%s", st->error);
    for (char *c = err; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    char text[1024];
    snprintf(text, sizeof(text),
             STATE_MAGIC "state=%s\nattempts=%u\ninterrupted=%u\n"
                         "gave_up=%d\nhttp_status=%d\nchanged_ns=%" PRId64
                         "\nnext_try_ns=%" PRId64 "\nuploaded_ns=%" PRId64
                         "\nerror=%s\n",
             state_word(st->state), st->attempts, st->interrupted,
             st->gave_up ? 1 : 0, st->http_status, st->changed_unix_ns,
             st->next_try_unix_ns, st->uploaded_unix_ns, err);
    char *p = md_up_state_path(report_path);
    if (!p)
        return MAYDAY_ENOMEM;
    int rc = write_atomic(p, text);
    free(p);
    return rc;
}

const char *mayday_upload_state_name(int state)
{
    switch (state) {
    case MAYDAY_UPLOAD_PENDING:
        return "pending";
    case MAYDAY_UPLOAD_UPLOADING:
        return "uploading";
    case MAYDAY_UPLOAD_UPLOADED:
        return "uploaded";
    case MAYDAY_UPLOAD_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

int mayday_upload_get_status(const char *report_path, mayday_upload_status *st)
{
    if (!report_path || !st || st->size < 2 * sizeof(uint32_t))
        return MAYDAY_EINVAL;
    struct stat sb;
    if (stat(report_path, &sb) != 0)
        return md_up_errno(errno);
    mayday_upload_status full;
    full.size = sizeof(full);
    md_up_read_state(report_path, &full);
    size_t n = st->size < sizeof(full) ? st->size : sizeof(full);
    uint32_t size = st->size;
    memcpy(st, &full, n);
    st->size = size;
    return 0;
}

/* -------------------------------------------------------------- consent */

int mayday_upload_set_consent(const char *dir, int consent)
{
    if (!dir ||
        (consent != MAYDAY_CONSENT_GRANTED &&
         consent != MAYDAY_CONSENT_DENIED && consent != MAYDAY_CONSENT_UNKNOWN))
        return MAYDAY_EINVAL;
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return md_up_errno(errno);
    if (!S_ISDIR(sb.st_mode))
        return MAYDAY_ENOTDIR;
    if (consent == MAYDAY_CONSENT_UNKNOWN) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, MD_UP_CONSENT_FILE);
        if (unlink(p) != 0 && errno != ENOENT)
            return md_up_errno(errno);
        return 0;
    }
    return md_up_write_file(dir, MD_UP_CONSENT_FILE,
                            consent == MAYDAY_CONSENT_GRANTED ? "granted\n"
                                                              : "denied\n");
}

int mayday_upload_get_consent(const char *dir)
{
    if (!dir)
        return MAYDAY_EINVAL;
    char buf[64];
    int rc = md_up_read_file(dir, MD_UP_CONSENT_FILE, buf, sizeof(buf));
    if (rc == MAYDAY_ENOENT)
        return MAYDAY_CONSENT_UNKNOWN;
    if (rc < 0)
        return rc;
    if (strcmp(buf, "granted\n") == 0)
        return MAYDAY_CONSENT_GRANTED;
    /* Anything else, including a damaged file, is not a yes. */
    return strcmp(buf, "denied\n") == 0 ? MAYDAY_CONSENT_DENIED
                                        : MAYDAY_CONSENT_UNKNOWN;
}

/* ---------------------------------------------------------- lock, ids */

int md_up_lock(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, MD_UP_LOCK_FILE);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return md_up_errno(errno);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? MAYDAY_EBUSY : md_up_errno(e);
    }
    return fd;
}

void md_up_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

int md_up_install_id(const char *dir, uint8_t id[16])
{
    char buf[64];
    int rc = md_up_read_file(dir, MD_UP_INSTALL_ID_FILE, buf, sizeof(buf));
    if (rc >= 32 && unhex(buf, id, 16) == 0)
        return 0;
    if (getrandom(id, 16, 0) != 16)
        return MAYDAY_EIO;
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* v4 UUID */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++)
        snprintf(buf + 2 * i, 3, "%02x", id[i]);
    buf[32] = '\n';
    buf[33] = '\0';
    return md_up_write_file(dir, MD_UP_INSTALL_ID_FILE, buf);
}

/* ------------------------------------------------------------ deleting */

int md_up_delete_report(const char *report_path)
{
    int rc = mayday_report_purge(report_path);
    if (rc < 0 && rc != MAYDAY_ENOENT)
        return rc;
    char *p = md_up_state_path(report_path);
    if (!p)
        return MAYDAY_ENOMEM;
    if (unlink(p) != 0 && errno != ENOENT)
        rc = md_up_errno(errno);
    else
        rc = 0;
    free(p);
    return rc;
}

void md_up_clean_orphans(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, n);
        if (has_suffix(n, MD_UP_TMP_SUFFIX)) {
            unlink(p); /* a write that was cut short; we hold the lock */
            continue;
        }
        if (!has_suffix(n, MD_UP_STATE_SUFFIX))
            continue;
        size_t stem = strlen(p) - strlen(MD_UP_STATE_SUFFIX);
        char r[4096 + 16];
        snprintf(r, sizeof(r), "%.*s%s", (int)stem, p, MD_UP_REPORT_SUFFIX);
        struct stat sb;
        if (lstat(r, &sb) != 0 && errno == ENOENT)
            unlink(p);
    }
    closedir(d);
}
