/*
 * emu.h - running the test programs under an emulator: when the tests of
 * a cross build run through CTest's CMAKE_CROSSCOMPILING_EMULATOR (e.g.
 * qemu-aarch64), MAYDAY_EMULATOR names it, and the programs the tests
 * start (crasher, the examples, the CLI of that build) must be started
 * through it too: the kernel of the build machine cannot run them.
 * Host tools (gdb, unshare, readelf) are started as they are; when one of
 * them starts a target program (unshare ... crasher), the emulator goes
 * in front of that program.
 *
 * Context: tests only (header-only, normal context).
 */
#ifndef MDT_EMU_H
#define MDT_EMU_H

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__aarch64__)
#define MDT_EM_SELF EM_AARCH64
#elif defined(__x86_64__)
#define MDT_EM_SELF EM_X86_64
#endif

/* The emulator command (may hold arguments, space separated), or NULL
 * when the tests run natively. */
static inline const char *mdt_emulator(void)
{
    const char *e = getenv("MAYDAY_EMULATOR");
    return e && *e ? e : NULL;
}

/* path is an ELF program for this test's own architecture. */
static inline int mdt_is_target_program(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    Elf64_Ehdr h;
    ssize_t n = read(fd, &h, sizeof h);
    close(fd);
    return n == (ssize_t)sizeof h && memcmp(h.e_ident, ELFMAG, SELFMAG) == 0 &&
           h.e_machine == MDT_EM_SELF;
}

/* argv with the emulator's words put before its first target program,
 * in out (cap entries, NULL-terminated; the words point into a static
 * copy of MAYDAY_EMULATOR). Returns out, or argv itself when there is no
 * emulator or no target program in it. For a child about to exec. */
static inline char *const *mdt_emu_argv(char *const argv[], char **out,
                                        size_t cap)
{
    static char words[1024];
    const char *emu = mdt_emulator();
    if (!emu || strlen(emu) >= sizeof words)
        return argv;
    size_t k = 0;
    int done = 0;
    for (size_t i = 0; argv[i] && k + 1 < cap; i++) {
        if (!done && mdt_is_target_program(argv[i])) {
            strcpy(words, emu);
            for (char *w = strtok(words, " "); w && k + 1 < cap;
                 w = strtok(NULL, " "))
                out[k++] = w;
            done = 1;
        }
        if (k + 1 < cap)
            out[k++] = argv[i];
    }
    out[k] = NULL;
    return done ? out : argv;
}

/* execv through the emulator when needed (found in PATH when it is not
 * given as a path). */
static inline int mdt_execv(char *const argv[])
{
    char *buf[64];
    char *const *a = mdt_emu_argv(argv, buf, sizeof buf / sizeof buf[0]);
    return a == argv ? execv(a[0], a) : execvp(a[0], a);
}

#endif
