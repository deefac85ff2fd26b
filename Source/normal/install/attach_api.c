/*
 * attach_api.c - mayday_attach_file(), mayday_attach_memory(),
 * mayday_detach(), and the files of mayday_config.attach_files: fills the
 * registry the crash path reads (Source/crash/capture/attach.c).
 *
 * Context: normal. Registrations are serialised by a mutex; an entry is
 * published to the crash path by its state turning READY (release store)
 * after everything else is set. Removing one while mayday is installed
 * takes the crash slot, like a live report, so no report is reading the
 * buffer that is unmapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash/capture/capture.h"
#include "crash/core/sys.h"
#include "crash/handler/fields.h"
#include "crash/handler/state.h"
#include "normal/install/capture_init.h"

#define MAX_BYTES (16u << 20)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int errno_to_md(int e)
{
    switch (e) {
    case ENOENT:
        return MAYDAY_ENOENT;
    case EACCES:
    case EPERM:
        return MAYDAY_EACCES;
    case ENOTDIR:
        return MAYDAY_ENOTDIR;
    case EISDIR:
        return MAYDAY_EISDIR;
    case ENOMEM:
        return MAYDAY_ENOMEM;
    case ENAMETOOLONG:
    case ELOOP:
        return MAYDAY_EINVAL;
    default:
        return MAYDAY_EIO;
    }
}

/* A FREE entry turned SETUP, or -1. Under mu. */
static int take_entry(void)
{
    for (int i = 0; i < MDS_ATTACH_MAX; i++) {
        if (mds_attachments[i].state == MDS_ATT_FREE) {
            mds_attachments[i].state = MDS_ATT_SETUP;
            return i;
        }
    }
    return -1;
}

static void drop_entry(mds_attachment *a)
{
    if (a->kind == MDS_ATTACHMENT_FILE && a->fd >= 0)
        close(a->fd);
    mds_arena_unmap(&a->arena);
    memset(a, 0, sizeof *a);
    a->fd = -1;
    __atomic_store_n(&a->state, MDS_ATT_FREE, __ATOMIC_RELEASE);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int attach_file(const char *path, uint32_t max_bytes, int from_config)
{
    if (!path || !path[0] || max_bytes < 1 || max_bytes > MAX_BYTES)
        return MAYDAY_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno_to_md(errno);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? MAYDAY_EISDIR : MAYDAY_EINVAL;
    }
    pthread_mutex_lock(&mu);
    int id = take_entry();
    if (id < 0) {
        pthread_mutex_unlock(&mu);
        close(fd);
        return MAYDAY_ETOOBIG;
    }
    mds_attachment *a = &mds_attachments[id];
    a->kind = MDS_ATTACHMENT_FILE;
    a->fd = fd;
    a->from_config = from_config;
    a->max_bytes = max_bytes;
    if (mds_arena_map(&a->arena, max_bytes) < 0) {
        drop_entry(a);
        pthread_mutex_unlock(&mu);
        return MAYDAY_ENOMEM;
    }
    const char *base = strrchr(path, '/');
    copy_str(a->name, sizeof a->name, base && base[1] ? base + 1 : path);
    copy_str(a->path, sizeof a->path, path);
    __atomic_store_n(&a->state, MDS_ATT_READY, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&mu);
    return id;
}

int mayday_attach_file(const char *path, uint32_t max_bytes)
{
    return attach_file(path, max_bytes, 0);
}

int mayday_attach_memory(const char *name, const void *data, size_t size)
{
    if (!name || !name[0] || !data || size < 1 || size > MAX_BYTES)
        return MAYDAY_EINVAL;
    pthread_mutex_lock(&mu);
    int id = take_entry();
    if (id < 0) {
        pthread_mutex_unlock(&mu);
        return MAYDAY_ETOOBIG;
    }
    mds_attachment *a = &mds_attachments[id];
    a->kind = MDS_ATTACHMENT_MEMORY;
    a->fd = -1;
    a->max_bytes = (uint32_t)size;
    a->mem = (uintptr_t)data;
    if (mds_arena_map(&a->arena, size) < 0) {
        drop_entry(a);
        pthread_mutex_unlock(&mu);
        return MAYDAY_ENOMEM;
    }
    copy_str(a->name, sizeof a->name, name);
    __atomic_store_n(&a->state, MDS_ATT_READY, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&mu);
    return id;
}

/* Takes the crash slot when mayday is installed (no report may read an
 * entry being removed). 1: taken, 0: not installed, <0: busy. */
static int hold_crash_slot(void)
{
    if (!__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE))
        return 0;
    uint32_t zero = 0, tid = (uint32_t)mds_gettid();
    if (!__atomic_compare_exchange_n(&mds_g.crash_owner, &zero, tid, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    return 1;
}

static void release_crash_slot(int held)
{
    if (held <= 0)
        return;
    __atomic_store_n(&mds_g.crash_owner, 0, __ATOMIC_RELEASE);
    mds_futex_wake(&mds_g.crash_owner, 0x7fffffff);
}

/* Removes entry id if it is READY. Under mu. */
static int detach_locked(int id, int held_by_caller)
{
    mds_attachment *a = &mds_attachments[id];
    int held = held_by_caller ? 0 : hold_crash_slot();
    if (held < 0)
        return held;
    uint32_t ready = MDS_ATT_READY;
    int r = 0;
    if (__atomic_compare_exchange_n(&a->state, &ready, MDS_ATT_SETUP, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        drop_entry(a);
    else
        r = ready == MDS_ATT_READING ? MAYDAY_EBUSY : MAYDAY_EINVAL;
    release_crash_slot(held);
    return r;
}

int mayday_detach(int id)
{
    if (id < 0 || id >= MDS_ATTACH_MAX)
        return MAYDAY_EINVAL;
    pthread_mutex_lock(&mu);
    int r = detach_locked(id, 0);
    pthread_mutex_unlock(&mu);
    return r;
}

int md_attach_config_files(const char *const *paths, uint32_t max_bytes)
{
    for (size_t i = 0; paths && paths[i]; i++) {
        int r = attach_file(paths[i], max_bytes, 1);
        if (r < 0) {
            md_attach_release_config();
            return r;
        }
    }
    return 0;
}

/* From install (failure) or uninstall, which already exclude reports. */
void md_attach_release_config(void)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < MDS_ATTACH_MAX; i++) {
        mds_attachment *a = &mds_attachments[i];
        if (a->state == MDS_ATT_READY && a->from_config)
            detach_locked(i, 1);
    }
    pthread_mutex_unlock(&mu);
}
