/*
 * saferead_init.c - the install-time half of the safe read (see
 * saferead.h): opens the pipes and chooses the method by a self-test, so
 * that the crash path never has to find out what works.
 *
 * Context: normal context only (install, uninstall, tests); uses libc.
 * Built into the normal-context object set, not into mayday_crash.
 *
 * The self-test, per method: a readable page followed by a PROT_NONE one;
 * bytes of the readable page must come back exactly (also unaligned, and
 * a whole page), and a read of the PROT_NONE page, of one that crosses
 * into it and of NULL must each fail with -EFAULT
 * without faulting; a good read after the failures must still be exact
 * (nothing left over in a pipe).
 */
#include "saferead.h"
#include "saferead_state.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*sr_fn)(void *, uintptr_t, size_t);

static int selftest(sr_fn read_fn)
{
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0)
        pg = 4096;
    size_t psz = (size_t)pg;
    unsigned char *m = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    int ok = 0;
    unsigned char *buf = malloc(psz);
    if (!buf || mprotect(m + psz, psz, PROT_NONE) != 0)
        goto out;
    for (size_t i = 0; i < psz; i++)
        m[i] = (unsigned char)(i * 131 + 7);
    const uintptr_t good = (uintptr_t)m, none = good + psz;
    ok = read_fn(buf, good + 3, 61) == 0 && memcmp(buf, m + 3, 61) == 0 &&
         read_fn(buf, good, psz) == 0 && memcmp(buf, m, psz) == 0 &&
         read_fn(buf, none, 8) == -EFAULT &&
         read_fn(buf, none - 16, 32) == -EFAULT &&
         read_fn(buf, 0, 8) == -EFAULT && read_fn(buf, good + 100, 200) == 0 &&
         memcmp(buf, m + 100, 200) == 0;
out:
    free(buf);
    munmap(m, 2 * psz);
    return ok ? 0 : -1;
}

static int try_vm(void) { return selftest(mds_sr_vm_read); }

static int try_pipe(void)
{
    mds_sr_close_pipes();
    if (mds_sr_open_pipes((uint32_t)getpid()) < 0)
        return -1;
    /* Chunks no larger than the smallest pipe (a system short of pipe
     * pages hands out one-page pipes). */
    uint32_t chunk = MDS_SR_CHUNK;
    for (int i = 0; i < MDS_SR_PIPES; i++) {
        int sz = mds_sr.p[i].wr >= 0 ? fcntl(mds_sr.p[i].wr, F_GETPIPE_SZ) : -1;
        if (sz > 0 && (uint32_t)sz < chunk)
            chunk = (uint32_t)sz;
    }
    mds_sr.chunk = chunk;
    if (selftest(mds_sr_pipe_read) == 0)
        return 0;
    mds_sr_close_pipes();
    return -1;
}

static int env_choice(void)
{
    const char *e = getenv("MAYDAY_SAFE_READ");
    if (e && !strcmp(e, "pipe"))
        return MDS_SAFEREAD_PIPE;
    if (e && !strcmp(e, "vm"))
        return MDS_SAFEREAD_VM;
    return 0;
}

int md_saferead_init(int want)
{
    if (!want)
        want = env_choice();
    if (mds_sr.initialised && (!want || want == mds_sr.method))
        return mds_sr.method;
    int order[2] = {MDS_SAFEREAD_VM, MDS_SAFEREAD_PIPE};
    if (want == MDS_SAFEREAD_PIPE) {
        order[0] = MDS_SAFEREAD_PIPE;
        order[1] = MDS_SAFEREAD_VM;
    }
    int chosen = MDS_SAFEREAD_NONE;
    for (int i = 0; i < 2 && chosen == MDS_SAFEREAD_NONE; i++) {
        if (order[i] == MDS_SAFEREAD_VM ? try_vm() == 0 : try_pipe() == 0)
            chosen = order[i];
    }
    if (chosen != MDS_SAFEREAD_PIPE)
        mds_sr_close_pipes();
    __atomic_store_n(&mds_sr.method, chosen, __ATOMIC_RELEASE);
    mds_sr.initialised = 1;
    return chosen;
}

void md_saferead_fini(void)
{
    __atomic_store_n(&mds_sr.method, MDS_SAFEREAD_VM, __ATOMIC_RELEASE);
    mds_sr_close_pipes();
    mds_sr.chunk = MDS_SR_CHUNK;
    mds_sr.initialised = 0;
}
