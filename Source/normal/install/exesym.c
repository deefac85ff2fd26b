/*
 * exesym.c - the address of a symbol of the executable itself, from the
 * ELF symbol table (.symtab) of /proc/self/exe. For what dlsym cannot
 * find in a statically linked program: there the executable has no
 * dynamic symbol table, so dlsym(RTLD_DEFAULT, "__abort_msg") fails and
 * glibc's assert message would be lost. A stripped executable has no
 * .symtab either: then there is nothing to find (docs/linking.md).
 *
 * Context: normal (install). Reads a file with pread; malloc.
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "normal/install/install.h"

/*
 * static-pie is refused at link time, with this message first: Debian's
 * libunwind-generic.a is not position-independent, so ld stops on one of
 * its relocations ("recompile with -fPIE"), which alone does not say what
 * to do. A .gnu.warning.SYM section makes ld print its text when SYM is
 * referenced; _dl_get_dl_main_map is referenced only by glibc's static-pie
 * self-relocation (libc.a's dl-reloc-static-pie.o, linked only into
 * static-pie programs), so the text appears in those links and no other.
 * Inert in libmayday.so (nothing links a shared object into static-pie).
 */
__asm__(".pushsection .gnu.warning._dl_get_dl_main_map,\"\",@progbits\n"
        ".string \"mayday: static-pie is not supported: Debian's "
        "libunwind-generic.a is not position-independent; link with -static "
        "(no PIE) or dynamically (see mayday's docs/linking.md)\"\n"
        ".popsection");

#define SYM_CHUNK 256 /* symbols per read */

static int main_bias(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr;
    return 1; /* the first object is the executable */
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

/* Looks name up in the symbol table section sh (its strings in str). */
static uintptr_t scan(int fd, const ElfW(Shdr) * sh, const ElfW(Shdr) * str,
                      const char *name)
{
    uintptr_t found = 0;
    if (sh->sh_entsize != sizeof(ElfW(Sym)) || str->sh_size > (64u << 20))
        return 0;
    char *strs = malloc(str->sh_size + 1);
    ElfW(Sym) *syms = malloc(SYM_CHUNK * sizeof(ElfW(Sym)));
    if (!strs || !syms || read_at(fd, strs, str->sh_size, str->sh_offset) < 0)
        goto out;
    strs[str->sh_size] = 0;
    size_t n = sh->sh_size / sizeof(ElfW(Sym));
    for (size_t i = 0; i < n && !found; i += SYM_CHUNK) {
        size_t k = n - i < SYM_CHUNK ? n - i : SYM_CHUNK;
        if (read_at(fd, syms, k * sizeof(ElfW(Sym)),
                    sh->sh_offset + i * sizeof(ElfW(Sym))) < 0)
            break;
        for (size_t j = 0; j < k; j++) {
            const ElfW(Sym) *s = &syms[j];
            if (s->st_shndx == SHN_UNDEF || s->st_name >= str->sh_size ||
                ELF64_ST_TYPE(s->st_info) == STT_FUNC ||
                strcmp(strs + s->st_name, name) != 0)
                continue;
            found = (uintptr_t)s->st_value;
            break;
        }
    }
out:
    free(strs);
    free(syms);
    return found;
}

uintptr_t md_exe_symbol(const char *name)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uintptr_t addr = 0;
    ElfW(Ehdr) eh;
    ElfW(Shdr) *sh = 0;
    if (read_at(fd, &eh, sizeof eh, 0) < 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0)
        goto out;
    sh = malloc((size_t)eh.e_shnum * sizeof(ElfW(Shdr)));
    if (!sh || read_at(fd, sh, (size_t)eh.e_shnum * sizeof(ElfW(Shdr)),
                       eh.e_shoff) < 0)
        goto out;
    for (unsigned i = 0; i < eh.e_shnum && !addr; i++) {
        if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_link < eh.e_shnum)
            addr = scan(fd, &sh[i], &sh[sh[i].sh_link], name);
    }
    if (addr) {
        uintptr_t bias = 0;
        dl_iterate_phdr(main_bias, &bias);
        addr += bias;
    }
out:
    free(sh);
    close(fd);
    return addr;
}
