/*
 * test_capture.c - report contents (issue 11) from real crashes of
 * Tests/capture/capturer: the stack bytes in the report equal what the
 * child put there (a parked thread's pattern, the crashed function's
 * locals, a thread 200 frames deep), overflowing stacks are recorded
 * without their guard page, FP registers hold the values loaded before the
 * fault (xmm0, ymm1; a parked thread's xmm0), windows near pointers hold
 * the pointed-to bytes (and the faulting instruction's, checked against
 * the ELF file), the memory map equals /proc/PID/maps read by this test
 * while the child was stopped just before its crash (under an emulator:
 * the child's own copy of it), thread states name
 * the blocking system call, and caps and budgets are honoured and flagged
 * (attachments and the maps parser: test_capture_files.c). Each run also checks
 * how the child died. Reports are decoded here with protobuf-c (mdt.c),
 * independently of the library's reader.
 *
 * Each scenario runs $MAYDAY_REPEAT times (default 3 to 5), alternating
 * the handler mode and the stop method (capture_util.c).
 *
 * Context: test program (normal context); children crash on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash/capture/capture.h"
#include "crash/core/regs.h"
#include "mayday/mayday.h"
#include "capture_util.h"
#include "emu.h"

/* ------------------------------------------------------------ stacks */

static void test_parked(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(5); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep),
                       "CAP_STACK=65536", 0};
        run x;
        run_child(&x, "parked", env, SIGSEGV);
        /* The pattern of a parked thread, byte for byte. */
        const Mayday__Thread *t = named(x.r, "patterned");
        uint64_t at = out_val(&x, "pattern", 0, 0);
        uint64_t len = out_val(&x, "pattern", 0, 1);
        assert_non_null(t->stack);
        for (uint64_t i = 0; i < len; i++)
            if (byte_at(t->stack, at + i) != (uint8_t)(i * 13 + 7))
                fail_msg("patterned: byte %" PRIu64 " at 0x%" PRIx64 " is %d",
                         i, at + i, byte_at(t->stack, at + i));
        /* ... blocked in read(pipe, buf, 1) */
        uint64_t fd = out_val(&x, "pipe", 0, 0);
        (void)fd;
#if defined(__x86_64__) /* aarch64's stoppers do not read it (yet) */
        assert_true(t->has_syscall);
        assert_int_equal(t->syscall, SYS_read);
        assert_int_equal(t->n_syscall_args, 6);
        assert_true(t->syscall_args[0] == fd && t->syscall_args[2] == 1);
#endif
        /* 200 frames deep: each frame's pad holds its depth. */
        const Mayday__Thread *d = named(x.r, "deep");
        for (int k = 0; k < 3; k++) {
            uint64_t depth = out_val(&x, "deep", k, 0);
            uint64_t pad = out_val(&x, "deep", k, 1);
            for (int i = 0; i < 64; i++)
                if (byte_at(d->stack, pad + (uint64_t)i) != (int)depth)
                    fail_msg("deep: depth %" PRIu64 " pad byte %d is %d", depth,
                             i, byte_at(d->stack, pad + (uint64_t)i));
        }
        assert_int_equal(d->stack_limit, MAYDAY__STACK_LIMIT__STACK_LIMIT_NONE);
        /* A thread that blocks every signal: stopped by ptrace (its
         * system call from the stop); not by the signal, and then its
         * state comes from /proc. */
        const Mayday__Thread *b = named(x.r, "blocker");
        /* qemu-user has no ptrace: the stopper falls back to the signal
         * (docs/platforms.md). */
        if (mdt_emulator())
            assert_int_equal(x.r->header->stop_method,
                             MAYDAY__STOP_METHOD__STOP_METHOD_SIGNAL);
        if (stop_signal(rep) || mdt_emulator()) {
            assert_int_equal(b->state,
                             MAYDAY__THREAD_STATE__THREAD_STATE_NOT_SUSPENDED);
            assert_non_null(b->proc_state);
            assert_string_equal(b->proc_state, "S");
        } else {
            assert_int_equal(b->state,
                             MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED);
            assert_null(b->proc_state);
        }
#if defined(__x86_64__)
        assert_true(b->has_syscall && b->syscall == SYS_read);
        assert_true(b->syscall_args[0] == fd);
#endif
        /* The crashed thread's, from its signal frame. */
        const Mayday__Thread *ct = crashed(x.r);
        assert_non_null(ct->fp);
#if defined(__aarch64__)
        assert_int_equal(ct->fp->format,
                         MAYDAY__FP_FORMAT__FP_FORMAT_AARCH64_FPSIMD);
        assert_true(ct->fp->data.len <= 528);
#else
        assert_true(ct->fp->format == MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE ||
                    ct->fp->format == MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE);
#endif
        /* Every other thread's FP state is labelled with its layout:
         * FXSAVE (512 bytes) here, user_fpsimd_state (528) on aarch64
         * (trailing zero bytes are left out). */
        for (size_t i = 0; i < x.r->n_threads; i++) {
            const Mayday__Thread *o = x.r->threads[i];
            if (o == crashed(x.r) || !o->fp)
                continue;
#if defined(__aarch64__)
            assert_int_equal(o->fp->format,
                             MAYDAY__FP_FORMAT__FP_FORMAT_AARCH64_FPSIMD);
            assert_true(o->fp->data.len <= 528);
#else
            assert_int_equal(o->fp->format, MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE);
            assert_true(o->fp->data.len > 24 && o->fp->data.len <= 512);
#endif
        }
        /* The reporter does not list itself: no mayday thread here. */
        for (size_t i = 0; i < x.r->n_threads; i++)
            assert_false(x.r->threads[i]->mayday_thread);
        run_free(&x);
    }
}

static void test_locals(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(5); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), 0};
        run x;
        run_child(&x, "locals", env, SIGSEGV);
        const Mayday__Thread *t = crashed(x.r);
        uint64_t at = out_val(&x, "locals", 0, 0);
        assert_non_null(t->stack);
        for (int i = 0; i < 8; i++) {
            uint64_t want = 0x1122334455667700ull + (uint64_t)i;
            for (int k = 0; k < 8; k++)
                assert_int_equal(byte_at(t->stack, at + 8 * i + k),
                                 (uint8_t)(want >> (8 * k)));
        }
        /* It starts at sp - 128 (the red zone), within the default cap. */
        uint64_t sp = 0;
        assert_int_equal(reg(x.r, t, mds_reg_names[MDS_REG_SP], &sp), 0);
        assert_true(t->stack->address == sp - 128);
        assert_true(t->stack->data.len <= MAYDAY_DEFAULT_CRASHED_STACK_BYTES);
        run_free(&x);
    }
}

/* The mapping of the report that holds addr, or NULL. */
static void test_overflow_thread(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(5); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), 0};
        run x;
        run_child(&x, "overflow-thread", env, SIGSEGV);
        uint64_t lo = out_val(&x, "stack", 0, 0);
        uint64_t size = out_val(&x, "stack", 0, 1);
        uint64_t guard = out_val(&x, "stack", 0, 2);
        const Mayday__Thread *t = crashed(x.r);
        assert_string_equal(t->name, "overflower");
        assert_int_equal(x.r->cause, MAYDAY__CAUSE__CAUSE_STACK_OVERFLOW);
        /* The fault is in the guard page; the recorded stack is not. */
        assert_true(x.r->signal->address >= lo - guard &&
                    x.r->signal->address < lo);
        assert_non_null(t->stack);
        assert_true(t->stack->address >= lo);
        assert_true(t->stack->address + t->stack->data.len <= lo + size);
        assert_true(t->stack->data.len == MAYDAY_DEFAULT_CRASHED_STACK_BYTES);
        assert_int_equal(t->stack_limit,
                         MAYDAY__STACK_LIMIT__STACK_LIMIT_THREAD_CAP);
        const Mayday__Mapping *g = mapping_of(x.r, x.r->signal->address);
        assert_non_null(g);
        assert_int_equal(g->flags & 7, 0); /* ---p */
        /* The recursion's pads (0xa5) are in it. */
        size_t run_len = 0, best = 0;
        for (size_t i = 0; i < t->stack->data.len; i++) {
            run_len = t->stack->data.data[i] == 0xa5 ? run_len + 1 : 0;
            best = run_len > best ? run_len : best;
        }
        assert_true(best >= 200);
        run_free(&x);
    }
}

static void test_overflow_main(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(4); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), 0};
        run x;
        run_child(&x, "overflow-main", env, SIGSEGV);
        const Mayday__Thread *t = crashed(x.r);
        assert_int_equal(x.r->cause, MAYDAY__CAUSE__CAUSE_STACK_OVERFLOW);
        assert_non_null(t->stack);
        /* In [stack], from sp - 128 (the red zone) clipped to its bottom:
         * on x86_64 sp went below it (the frame's sub rsp); on aarch64
         * the faulting instruction is the frame's stp x29, x30,
         * [sp, #-N]!, whose write-back does not happen: sp stays in
         * [stack], and the fault is below it. */
        const Mayday__Mapping *m = mapping_of(x.r, t->stack->address);
        assert_non_null(m);
        assert_non_null(m->path);
        assert_string_equal(m->path, "[stack]");
        uint64_t sp = 0;
        assert_int_equal(reg(x.r, t, mds_reg_names[MDS_REG_SP], &sp), 0);
        uint64_t lo = sp >= m->start + 128 ? sp - 128 : m->start;
        assert_true(t->stack->address == lo);
        assert_true(x.r->signal->address < m->start);
        /* Below it, Linux leaves a gap (no mapping); qemu-user maps a
         * PROT_NONE guard page right below the guest's stack. */
        const Mayday__Mapping *g = mapping_of(x.r, x.r->signal->address);
        if (mdt_emulator() && g) {
            assert_int_equal(g->flags & 7, 0); /* ---p */
            assert_true(!g->path || !*g->path);
            assert_true(g->start + g->size == m->start);
        } else {
            assert_null(g);
        }
        run_free(&x);
    }
}

/* ------------------------------------------------------------ FP */

static const uint8_t *fx_area(const Mayday__FpState *f, uint8_t *pad, size_t n)
{
    /* Trailing zeros are left out: pad back. */
    memset(pad, 0, n);
    memcpy(pad, f->data.data, f->data.len < n ? f->data.len : n);
    return pad;
}

static void test_xmm(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip(); /* x86_64 registers loaded by inline asm */
#endif
    for (int rep = 0; rep < mdt_repeat(5); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), 0};
        run x;
        run_child(&x, "xmm", env, SIGSEGV);
        static uint8_t area[65536];
        const Mayday__Thread *t = crashed(x.r);
        assert_non_null(t->fp);
        const uint8_t *a = fx_area(t->fp, area, sizeof area);
        for (int i = 0; i < 16; i++)
            assert_int_equal(a[160 + i], 0x10 + i); /* xmm0 */
        if (out_val(&x, "avx", 0, 0)) {
            assert_int_equal(t->fp->format, MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE);
            assert_true(t->fp->n_xsave_offsets > 2);
            uint64_t bv;
            memcpy(&bv, a + 512, 8);
            assert_true(bv & 4); /* AVX state in use */
            uint32_t off = t->fp->xsave_offsets[2];
            assert_true(off >= 576 && off + 256 <= sizeof area);
            for (int i = 0; i < 16; i++) {
                assert_int_equal(a[160 + 16 + i], 0x40 + i);      /* xmm1 */
                assert_int_equal(a[off + 16 + i], 0x40 + 16 + i); /* ymm1 hi */
            }
        }
        const Mayday__Thread *p = named(x.r, "xmmparker");
        assert_non_null(p->fp);
        assert_int_equal(p->fp->format, MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE);
        a = fx_area(p->fp, area, 512);
        for (int i = 0; i < 16; i++)
            assert_int_equal(a[160 + i], 0x80 + i);
        assert_true(p->has_syscall && p->syscall == SYS_read);
        run_free(&x);
    }
}

/* ------------------------------------------------------------ windows */

static const Mayday__Memory *window(const Mayday__Thread *t, const char *lbl)
{
    for (size_t i = 0; i < t->n_memory; i++)
        for (size_t k = 0; k < t->memory[i]->n_labels; k++)
            if (!strcmp(t->memory[i]->labels[k], lbl))
                return t->memory[i];
    fail_msg("no window labelled %s", lbl);
    return 0;
}

/* The bytes at rip, read from the ELF file through the mapping. */
static void check_code_window(const Mayday__Report *r, const Mayday__Thread *t)
{
    uint64_t rip = 0;
    assert_int_equal(reg(r, t, "rip", &rip), 0);
    const Mayday__Memory *w = window(t, "rip");
    const Mayday__Mapping *m = mapping_of(r, rip);
    assert_non_null(m);
    assert_non_null(m->path);
    int fd = open(m->path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t file[16];
    assert_int_equal(pread(fd, file, 16, (off_t)(rip - m->start + m->offset)),
                     16);
    close(fd);
    for (int i = 0; i < 16; i++)
        assert_int_equal(byte_at(w, rip + (uint64_t)i), file[i]);
}

static void test_pointers(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    for (int rep = 0; rep < mdt_repeat(5); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), 0};
        run x;
        run_child(&x, "pointers", env, SIGSEGV);
        const Mayday__Thread *t = crashed(x.r);
        uint64_t heap = out_val(&x, "rbx", 0, 0);
        uint64_t stat = out_val(&x, "r12", 0, 0);
        uint64_t rbx = 0, r12 = 0;
        assert_int_equal(reg(x.r, t, "rbx", &rbx), 0);
        assert_int_equal(reg(x.r, t, "r12", &r12), 0);
        assert_true(rbx == heap + 512 && r12 == stat + 256);
        const Mayday__Memory *w = window(t, "rbx");
        assert_true(w->address <= rbx && w->address + w->data.len > rbx);
        assert_true(w->data.len >= MAYDAY_DEFAULT_POINTER_WINDOW_BYTES);
        for (uint64_t a = w->address; a < w->address + w->data.len; a++)
            if (a >= heap && a < heap + 1024)
                assert_int_equal(byte_at(w, a), (uint8_t)((a - heap) ^ 0x5a));
        w = window(t, "r12");
        for (uint64_t a = stat; a < stat + 512; a++)
            if (byte_at(w, a) >= 0)
                assert_int_equal(byte_at(w, a), (uint8_t)((a - stat) * 3));
        assert_true(byte_at(w, r12) >= 0);
        check_code_window(x.r, t);
        run_free(&x);
    }
}

static void test_readonly_fault(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(4); rep++) {
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), 0};
        run x;
        run_child(&x, "readonly", env, SIGSEGV);
        const Mayday__Thread *t = crashed(x.r);
        uint64_t page = out_val(&x, "page", 0, 0);
        assert_true(x.r->signal->address == page + 100);
        const Mayday__Memory *w = window(t, "fault_address");
        assert_true(byte_at(w, page + 100) >= 0);
        for (uint64_t a = w->address; a < w->address + w->data.len; a++)
            assert_int_equal(byte_at(w, a), (uint8_t)((a - page) ^ 0x33));
        /* Never outside the page (the window stays in its mapping). */
        assert_true(w->address >= page &&
                    w->address + w->data.len <= page + 4096);
        run_free(&x);
    }
}

/* ------------------------------------------------------------ maps */

static void test_maps(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(4); rep++) {
        char *dir = mdt_mkdtemp("capmaps");
        char rdir[4200], out[4200];
        snprintf(rdir, sizeof rdir, "%s/reports", dir);
        snprintf(out, sizeof out, "%s/out.txt", dir);
        /* Under an emulator (qemu-user) /proc/PID/maps read from here is
         * the emulator's host map (its own x86_64 binary, libraries and
         * stack, the guest's memory unlabelled); only the guest itself
         * sees its map, at /proc/self/maps: the child copies it just
         * before it stops. */
        char copy[4300], copy_env[4400];
        snprintf(copy, sizeof copy, "%s/maps.txt", dir);
        snprintf(copy_env, sizeof copy_env, "CAP_MAPS_COPY=%s", copy);
        pid_t pid = fork();
        if (pid == 0) {
            putenv((char *)mode_env(rep));
            putenv((char *)stop_env(rep));
            if (mdt_emulator())
                putenv(copy_env);
            char *argv[] = {capturer, rdir, "maps", out, 0};
            mdt_execv(argv);
            _exit(127);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
        assert_true(WIFSTOPPED(st));
        char path[4400];
        snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
        if (mdt_emulator())
            snprintf(path, sizeof path, "%s", copy);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        static char lines[2048][4400];
        int n = 0;
        while (n < 2048 && fgets(lines[n], sizeof lines[n], f))
            n++;
        fclose(f);
        kill(pid, SIGCONT);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        char rpath[4200];
        assert_int_equal(mdt_count_reports(rdir, rpath, sizeof rpath), 1);
        Mayday__Report *r = mdt_load_report(rpath);
        assert_non_null(r);
        if ((int)r->n_mappings != n)
            fail_msg("%zu mappings in the report, %d in /proc", r->n_mappings,
                     n);
        for (int i = 0; i < n; i++) {
            const Mayday__Mapping *m = r->mappings[i];
            unsigned long long s, e, off, ino;
            unsigned maj, min;
            char perms[8], p[4096] = "";
            int k = sscanf(lines[i], "%llx-%llx %7s %llx %x:%x %llu %4095[^\n]",
                           &s, &e, perms, &off, &maj, &min, &ino, p);
            assert_true(k >= 7);
            char want[5] = {m->flags & 4 ? 'r' : '-', m->flags & 2 ? 'w' : '-',
                            m->flags & 1 ? 'x' : '-', m->flags & 8 ? 's' : 'p',
                            0};
            if (m->start != s || m->start + m->size != e ||
                strcmp(want, perms) || m->offset != off ||
                m->dev_major != maj || m->dev_minor != min || m->inode != ino ||
                strcmp(m->path ? m->path : "", p))
                fail_msg("mapping %d differs: /proc: %s", i, lines[i]);
        }
        mayday__report__free_unpacked(r, 0);
        mdt_rmtree(dir);
        free(dir);
    }
}

/* The crash path's parser of one maps line, on lines made here. */
/* ------------------------------------------------------------ caps */

static uint64_t stack_total(const Mayday__Report *r, int *budget_limited)
{
    uint64_t n = 0;
    *budget_limited = 0;
    for (size_t i = 0; i < r->n_threads; i++) {
        const Mayday__Thread *t = r->threads[i];
        n += t->stack ? t->stack->data.len : 0;
        *budget_limited +=
            t->stack_limit == MAYDAY__STACK_LIMIT__STACK_LIMIT_BUDGET;
    }
    return n;
}

static void test_caps(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(4); rep++) {
        /* Caps and a budget: crashed 3000 + 1000 + 1000, then none. */
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep),
                       "CAP_STACK=1000",      "CAP_CRASHED_STACK=3000",
                       "CAP_BUDGET=5000",     0};
        run x;
        run_child(&x, "threads", env, SIGSEGV);
        int by_budget;
        assert_true(stack_total(x.r, &by_budget) == 5000);
        assert_true(by_budget >= 4);
        assert_true(x.r->stack_budget_exhausted);
        const Mayday__Thread *c = crashed(x.r);
        assert_int_equal(c->stack->data.len, 3000);
        assert_int_equal(c->stack_limit,
                         MAYDAY__STACK_LIMIT__STACK_LIMIT_THREAD_CAP);
        for (size_t i = 0; i < x.r->n_threads; i++) {
            const Mayday__Thread *t = x.r->threads[i];
            if (t != c && t->stack)
                assert_true(t->stack->data.len <= 1000);
        }
        run_free(&x);

        /* Stack memory off: none, and no stack_limit either. */
        char *off[] = {(char *)mode_env(rep), (char *)stop_env(rep),
                       "CAP_STACK=0", "CAP_CRASHED_STACK=0", 0};
        run_child(&x, "threads", off, SIGSEGV);
        for (size_t i = 0; i < x.r->n_threads; i++) {
            assert_null(x.r->threads[i]->stack);
            assert_false(x.r->threads[i]->has_stack_limit);
        }
        assert_true(x.r->n_mappings > 0);
        run_free(&x);

        /* Everything off: the report of before issue 11. */
        char *none[] = {(char *)mode_env(rep),
                        (char *)stop_env(rep),
                        "CAP_STACK=0",
                        "CAP_CRASHED_STACK=0",
                        "CAP_WINDOW=0",
                        "CAP_FLAGS=7",
                        0};
        run_child(&x, "threads", none, SIGSEGV);
        assert_int_equal(x.r->n_mappings, 0);
        for (size_t i = 0; i < x.r->n_threads; i++) {
            const Mayday__Thread *t = x.r->threads[i];
            assert_null(t->stack);
            assert_null(t->fp);
            assert_int_equal(t->n_memory, 0);
            assert_null(t->proc_state);
        }
        run_free(&x);

        /* A small size cap: stacks shrink to fit and the report stays
         * under it; every thread stays unless the memory map itself
         * does not fit (sanitizer builds map much more). */
        char *small[] = {(char *)mode_env(rep), (char *)stop_env(rep),
                         "CAP_MAX_BYTES=16384", "CAP_CRASHED_STACK=65536",
                         "CAP_STACK=65536",     0};
        run_child(&x, "threads", small, SIGSEGV);
        struct stat sb;
        assert_int_equal(stat(x.path, &sb), 0);
        assert_true(sb.st_size <= 16384);
        assert_int_equal(crashed(x.r)->stack_limit,
                         MAYDAY__STACK_LIMIT__STACK_LIMIT_REPORT_SIZE);
        /* Under qemu-user its own RCU thread is a task of the process
         * too (docs/platforms.md). */
        if (!x.r->truncated)
            assert_int_equal(x.r->n_threads, mdt_emulator() ? 8 : 7);
        else
            assert_true(x.r->n_mappings > 100);
        run_free(&x);
    }
}

/* ------------------------------------------------------------ live */

static void test_live(void **state)
{
    (void)state;
    run x;
    char *env[] = {"CAP_MODE=thread", 0};
    run_child(&x, "live", env, 0); /* ptrace (the signal is crash-only) */
    assert_int_equal(out_val(&x, "live", 0, 0), 0);
    const Mayday__Thread *t = x.r->threads[0];
    assert_int_equal(t->state, MAYDAY__THREAD_STATE__THREAD_STATE_CURRENT);
    assert_non_null(t->stack);
    /* The caller's FP registers inside a function call mean nothing (all
     * of them are caller-saved): none. */
    assert_null(t->fp);
    assert_true(x.r->n_mappings > 0);
    assert_int_equal(t->n_memory, 0); /* windows: crashes only */
    /* The exception thread is listed, as mayday's own, without stack. */
    int own = 0;
    for (size_t i = 0; i < x.r->n_threads; i++) {
        const Mayday__Thread *o = x.r->threads[i];
        if (o->mayday_thread) {
            own++;
            assert_string_equal(o->name, "mayday-exc");
            assert_null(o->stack);
        }
    }
    assert_int_equal(own, 1);
    run_free(&x);
}

int main(void)
{
    capturer = mdt_build_path("Tests/capture/capturer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parked),
        cmocka_unit_test(test_locals),
        cmocka_unit_test(test_overflow_thread),
        cmocka_unit_test(test_overflow_main),
        cmocka_unit_test(test_xmm),
        cmocka_unit_test(test_pointers),
        cmocka_unit_test(test_readonly_fault),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
