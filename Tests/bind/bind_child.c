/*
 * bind_child.c - the child program of Tests/bind (no lazy binding on the
 * crash path). Built twice: against libmayday.so and libmayday.a.
 *
 *   bind_child dump            prints every PLT slot (JUMP_SLOT) of every
 *                              loaded object and where it points
 *   bind_child install-dump    mayday_install first, then the same
 *   bind_child crash DIR       mayday_install, "MARK" on stderr, then a
 *                              crash in a frame whose CFI uses
 *                              DW_CFA_remember_state (an epilogue in the
 *                              middle of the function): walking it takes
 *                              paths of libunwind that the install-time
 *                              warm-up does not
 *
 * A dump line: "OBJ SYMBOL TARGET+0xOFFSET", OBJ and TARGET the base names
 * of the object holding the slot and of the object the slot points into,
 * OFFSET from TARGET's load bias (stable across runs despite ASLR).
 *
 * Context: a test program (normal code; crashes on purpose).
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mayday/mayday.h"

#if defined(__x86_64__)
#define JUMP_SLOT R_X86_64_JUMP_SLOT
#else
#define JUMP_SLOT R_AARCH64_JUMP_SLOT
#endif

typedef struct obj {
    uintptr_t base;
    const char *name;
    const ElfW(Phdr) * phdr;
    int phnum;
} obj;

static obj objs[512];
static int nobjs;

static int collect(struct dl_phdr_info *i, size_t size, void *data)
{
    (void)size, (void)data;
    if (nobjs < 512)
        objs[nobjs++] =
            (obj){i->dlpi_addr, i->dlpi_name, i->dlpi_phdr, i->dlpi_phnum};
    return 0;
}

static const char *base_name(const obj *o)
{
    static char exe[4096];
    const char *n = o->name;
    if (!n || !n[0]) {
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[k > 0 ? k : 0] = 0;
        n = exe;
    }
    const char *s = strrchr(n, '/');
    return s ? s + 1 : n;
}

static const obj *containing(uintptr_t a)
{
    for (int i = 0; i < nobjs; i++)
        for (int k = 0; k < objs[i].phnum; k++) {
            const ElfW(Phdr) *p = &objs[i].phdr[k];
            uintptr_t s = objs[i].base + p->p_vaddr;
            if (p->p_type == PT_LOAD && a - s < p->p_memsz)
                return &objs[i];
        }
    return 0;
}

static uintptr_t dptr(const obj *o, uintptr_t v)
{
    return (o->base && v < o->base) ? v + o->base : v;
}

static void dump_obj(const obj *o)
{
    const ElfW(Dyn) *dyn = 0;
    for (int k = 0; k < o->phnum; k++)
        if (o->phdr[k].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(o->base + o->phdr[k].p_vaddr);
    if (!dyn)
        return;
    const ElfW(Rela) *rel = 0;
    const ElfW(Sym) *sym = 0;
    const char *str = 0;
    size_t sz = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_JMPREL)
            rel = (const ElfW(Rela) *)dptr(o, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_PLTRELSZ)
            sz = dyn->d_un.d_val;
        else if (dyn->d_tag == DT_SYMTAB)
            sym = (const ElfW(Sym) *)dptr(o, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            str = (const char *)dptr(o, dyn->d_un.d_ptr);
    }
    if (!rel || !sym || !str)
        return;
    char self[256];
    snprintf(self, sizeof self, "%s", base_name(o));
    for (size_t i = 0; i < sz / sizeof(*rel); i++) {
        if (ELF64_R_TYPE(rel[i].r_info) != JUMP_SLOT)
            continue;
        uintptr_t v = *(uintptr_t *)(o->base + rel[i].r_offset);
        const obj *t = containing(v);
        printf("%s %s %s+0x%lx\n", self,
               str + sym[ELF64_R_SYM(rel[i].r_info)].st_name,
               t ? base_name(t) : "?", (unsigned long)(v - (t ? t->base : 0)));
    }
}

static void install(const char *dir)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "bind_child: mayday_install: %s\n", mayday_strerror(r));
        exit(91);
    }
}

static volatile int *volatile g_null;
static volatile int g_v;

__attribute__((noinline)) void bind_crash(void)
{
    *g_null = 1;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) int bind_helper(int x)
{
    g_v = x;
    return g_v;
}

/* -O2 with frame pointers: the early return's epilogue sits in the
 * middle, so the FDE saves and restores the CFA rule around it
 * (DW_CFA_remember_state / DW_CFA_restore_state). */
__attribute__((noinline, optimize("O2", "no-omit-frame-pointer"))) int
bind_early_return(int x)
{
    int y = bind_helper(x);
    if (y > 100)
        return y * 3;
    bind_crash();
    return bind_helper(y) + 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "crash") && argc == 3) {
        install(argv[2]);
        if (write(2, "MARK\n", 5) != 5)
            return 92;
        return bind_early_return(argc);
    }
    if (argc == 2 && !strcmp(argv[1], "install-dump")) {
        char dir[] = "/tmp/mayday-bind-XXXXXX";
        if (!mkdtemp(dir))
            return 93;
        install(dir);
        dl_iterate_phdr(collect, 0);
        for (int i = 0; i < nobjs; i++)
            dump_obj(&objs[i]);
        mayday_uninstall();
        rmdir(dir);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "dump")) {
        dl_iterate_phdr(collect, 0);
        for (int i = 0; i < nobjs; i++)
            dump_obj(&objs[i]);
        return 0;
    }
    fprintf(stderr, "usage: bind_child dump|install-dump|crash DIR\n");
    return 2;
}
