/*
 * capture_init.c - install-time preparation for issue 11 (report
 * contents): the per-work-area capture memory (memory map table, path
 * pool, /proc read buffer, stack and window buffers), the crashed
 * thread's FP buffer sized for this CPU's XSAVE area, the XSAVE layout
 * from CPUID, and the files of mayday_config.attach_files.
 *
 * Context: normal (install/uninstall, under install's own exclusion).
 */
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "crash/capture/capture.h"
#include "crash/handler/state.h"
#include "normal/install/capture_init.h"

static mds_capture captures[2];
static mds_arena crash_fp_arena;

#define PATH_POOL (256 * 1024)
#define MAPS_MAX 65536 /* the kernel's default vm.max_map_count is 65530 */

static size_t maps_cap(void)
{
    size_t n = 512 + 6 * (size_t)mds_g.cfg.max_threads;
    return n > MAPS_MAX ? MAPS_MAX : n;
}

static int capture_map(mds_capture *c)
{
    const mayday_config *cfg = &mds_g.cfg;
    memset(c, 0, sizeof *c);
    size_t nmaps = maps_cap();
    uint32_t stack = cfg->stack_bytes > cfg->crashed_stack_bytes
                         ? cfg->stack_bytes
                         : cfg->crashed_stack_bytes;
    uint32_t win = (MDS_REG_PC + 2) * cfg->pointer_window_bytes;
    size_t total = nmaps * sizeof(mds_mapping) + PATH_POOL + MDS_MAPS_READBUF +
                   stack + win + 8 * 64;
    if (mds_arena_map(&c->arena, total) < 0)
        return MAYDAY_ENOMEM;
    c->maps = mds_arena_alloc(&c->arena, nmaps * sizeof(mds_mapping), 64);
    c->maps_cap = (uint32_t)nmaps;
    c->paths = mds_arena_alloc(&c->arena, PATH_POOL, 64);
    c->paths_cap = PATH_POOL;
    c->readbuf = mds_arena_alloc(&c->arena, MDS_MAPS_READBUF, 64);
    if (stack) {
        c->stackbuf = mds_arena_alloc(&c->arena, stack, 64);
        c->stackbuf_cap = stack;
    }
    if (win) {
        c->winbuf = mds_arena_alloc(&c->arena, win, 64);
        c->winbuf_cap = win;
    }
    return 0;
}

/* The XSAVE area's size and each component's place (CPUID leaf 0xD). */
static uint32_t xsave_layout(mds_crash_fp *f)
{
    f->ncomp = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, 0) < 0xd)
        return 512;
    __cpuid(1, a, b, c, d);
    if (!(c & bit_XSAVE) || !(c & bit_OSXSAVE))
        return 512;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = ((uint64_t)hi << 32) | lo; /* enabled by the kernel */
    __cpuid_count(0xd, 0, a, b, c, d);
    uint32_t max_size = c > 512 ? c : 512; /* all supported components */
    for (uint32_t i = 2; i < MDS_XSAVE_COMPONENTS; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        __cpuid_count(0xd, i, a, b, c, d);
        if (c & 1)
            continue; /* supervisor state: never in a signal frame */
        f->xsave_size[i] = a;
        f->xsave_off[i] = b;
        f->ncomp = i + 1;
    }
    return max_size;
#else
    return 512;
#endif
}

static int crash_fp_map(void)
{
    mds_crash_fp *f = &mds_crash_fp_g;
    memset(f, 0, sizeof *f);
    uint32_t size = xsave_layout(f);
    /* AMX state can make the area ~11 KB; a sane upper bound anyway. */
    if (size > 64 * 1024)
        size = 64 * 1024;
    size += 64;
    if (mds_arena_map(&crash_fp_arena, size) < 0)
        return MAYDAY_ENOMEM;
    f->buf = mds_arena_alloc(&crash_fp_arena, size, 64);
    f->cap = size;
    return 0;
}

int md_capture_install(void)
{
    int r;
    if ((r = capture_map(&captures[0])) < 0 ||
        (r = capture_map(&captures[1])) < 0 || (r = crash_fp_map()) < 0)
        return r;
    mds_g.work_exc.capture = &captures[0];
    mds_g.work_sig.capture = &captures[1];
    captures[0].stop = &mds_g.work_exc.stop;
    captures[1].stop = &mds_g.work_sig.stop;
    /* Warm it once, so nothing on the crash path is touched first there
     * (the /proc read and the parser). */
    mds_maps_capture(&captures[0]);
    if ((r = md_attach_config_files(mds_g.cfg.attach_files,
                                    mds_g.cfg.attach_max_bytes)) < 0)
        return r;
    mds_g.cfg.attach_files = 0; /* the caller's array is not ours to keep */
    return 0;
}

void md_capture_uninstall(void)
{
    md_attach_release_config();
    for (int i = 0; i < 2; i++)
        mds_arena_unmap(&captures[i].arena);
    memset(captures, 0, sizeof captures);
    mds_g.work_exc.capture = 0;
    mds_g.work_sig.capture = 0;
    mds_arena_unmap(&crash_fp_arena);
    memset(&mds_crash_fp_g, 0, sizeof mds_crash_fp_g);
}
