/*
 * images_init.c - install-time half of the image list (see images.h):
 * resolves, once, everything that is not async-signal-safe to resolve at
 * crash time: the executable's program headers (AT_PHDR/AT_PHNUM), the
 * live r_debug through its DT_DEBUG entry, the vdso (AT_SYSINFO_EHDR) and
 * the path of /proc/self/exe.
 *
 * Context: normal context only (install); uses libc freely. Built into
 * the normal-context object set, not into mayday_crash.
 */
#include "crash/core/saferead.h"
#include "crash/walk/images.h"
#include "crash/walk/walk_internal.h"
#include "mayday/mayday.h"

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <unistd.h>

int md_images_init(void)
{
    mds_images_env *g = &mds_images_g;
    md_saferead_init(0); /* before any memory is read (idempotent) */
    if (g->done)
        return 0;
    g->exe_phdr = (uintptr_t)getauxval(AT_PHDR);
    g->exe_phnum = (size_t)getauxval(AT_PHNUM);
    g->vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (g->exe_phdr == 0 || g->exe_phnum == 0 || g->exe_phnum > MDS_IMAGE_MAX_PHNUM)
        return MAYDAY_ENOTSUP;

    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)g->exe_phdr;
    int have_bias = 0;
    for (size_t i = 0; i < g->exe_phnum; i++) {
        if (ph[i].p_type == PT_PHDR) {
            g->exe_bias = g->exe_phdr - ph[i].p_vaddr;
            have_bias = 1;
        }
    }
    if (!have_bias) {
        /* No PT_PHDR (some static links): assume the headers follow the
         * ELF header in the segment that maps file offset 0. */
        for (size_t i = 0; i < g->exe_phnum; i++) {
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
                g->exe_bias = g->exe_phdr - sizeof(ElfW(Ehdr)) - ph[i].p_vaddr;
                break;
            }
        }
    }
    for (size_t i = 0; i < g->exe_phnum; i++) {
        if (ph[i].p_type == PT_DYNAMIC)
            g->exe_dyn = g->exe_bias + ph[i].p_vaddr;
    }
    g->r_debug = 0;
    if (g->exe_dyn) {
        /* ld.so stores &_r_debug (its own, live one) into DT_DEBUG. */
        const ElfW(Dyn) *d = (const ElfW(Dyn) *)g->exe_dyn;
        for (int i = 0; i < 4096 && d[i].d_tag != DT_NULL; i++) {
            if (d[i].d_tag == DT_DEBUG)
                g->r_debug = (uintptr_t)d[i].d_un.d_ptr;
        }
        if (g->r_debug == 0) {
            /* Possibly a stale copy if the executable copy-relocated it;
             * only used when ld.so did not fill DT_DEBUG. */
            g->r_debug = (uintptr_t)&_r_debug;
            g->r_debug_stale = 1;
        }
    }

    ssize_t n =
        readlink("/proc/self/exe", g->exe_path, sizeof(g->exe_path) - 1);
    if (n < 0)
        n = 0;
    g->exe_path[n] = 0;
    g->done = 1;
    return 0;
}
