/*
 * info.c - facts gathered once at install (the crash path cannot gather
 * them safely), and report-directory housekeeping.
 *
 * Context: normal.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "crash/core/framing.h"
#include "crash/handler/state.h"
#include "normal/install/install.h"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void read_line(const char *path, char *out, size_t cap)
{
    out[0] = 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(out, (int)cap, f))
        out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* Process start in ns since the epoch: /proc/self/stat field 22 is the
 * start in clock ticks since boot. */
static int64_t process_start_ns(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    if (!p)
        return 0;
    unsigned long long start = 0;
    /* After ")": state(3) ... starttime is field 22. */
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(0, " ")) {
        if (++field == 22) {
            start = strtoull(tok, 0, 10);
            break;
        }
    }
    struct timespec rt, bt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    long hz = sysconf(_SC_CLK_TCK);
    int64_t boot = ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000ll +
                   (rt.tv_nsec - bt.tv_nsec);
    return boot + (int64_t)(start * (1000000000ull / (hz > 0 ? hz : 100)));
}

void md_collect_static_info(void)
{
    mds_static_info *si = &mds_g.info;
    struct utsname u;
    if (uname(&u) == 0) {
        copy(si->os, sizeof si->os, u.sysname);
        copy(si->release, sizeof si->release, u.release);
        copy(si->version, sizeof si->version, u.version);
        copy(si->machine, sizeof si->machine, u.machine);
        copy(si->hostname, sizeof si->hostname, u.nodename);
    }
    snprintf(si->libc, sizeof si->libc, "glibc %s", gnu_get_libc_version());
    read_line("/proc/sys/kernel/random/boot_id", si->boot_id,
              sizeof si->boot_id);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    si->cpu_count = n > 0 ? (uint32_t)n : 0;
    si->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    struct sysinfo sys;
    if (sysinfo(&sys) == 0)
        si->mem_total = (uint64_t)sys.totalram * sys.mem_unit;
    si->start_time_ns = process_start_ns();
    ssize_t k = readlink("/proc/self/exe", si->exe_path,
                         sizeof si->exe_path - 1);
    si->exe_path[k > 0 ? k : 0] = 0;
    /* glibc's private `struct abort_msg_s *__abort_msg`, set by assert()
     * and abort-with-message; looked up here because dlsym is not
     * async-signal-safe. */
    si->abort_msg_addr = (uintptr_t)dlsym(RTLD_DEFAULT, "__abort_msg");
    if (!si->abort_msg_addr) /* a static executable: its own .symtab */
        si->abort_msg_addr = md_exe_symbol("__abort_msg");
}

struct entry {
    char name[256];
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name,
                  ((const struct entry *)b)->name);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

int md_prune_reports(const char *dir, unsigned keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return MAYDAY_EIO;
    struct entry *v = 0;
    size_t n = 0, cap = 0;
    struct dirent *e;
    time_t now = time(0);
    while ((e = readdir(d))) {
        char path[MDS_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (has_suffix(e->d_name, MDS_FILE_TMP_SUFFIX)) {
            /* A report that was never finished (the writer died). Another
             * process may be writing one right now: only old ones go. */
            struct stat st;
            if (stat(path, &st) == 0 && now - st.st_mtime > 600)
                unlink(path);
            continue;
        }
        /* Our own names: "<epoch ms>-<uuid>.mayday", sortable by age. */
        if (!has_suffix(e->d_name, MDS_FILE_SUFFIX) ||
            strlen(e->d_name) >= sizeof v->name)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            struct entry *nv = realloc(v, nc * sizeof *v);
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        snprintf(v[n++].name, sizeof v->name, "%s", e->d_name);
    }
    closedir(d);
    if (n > keep) {
        qsort(v, n, sizeof *v, by_name);
        for (size_t i = 0; i < n - keep; i++) {
            char path[MDS_PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
            unlink(path);
        }
    }
    free(v);
    return 0;
}
