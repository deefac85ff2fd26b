/*
 * test_export.c - the exporters on fixture reports (built with protobuf-c,
 * Tests/reader/fixture.c) and on bad input: strings with quotes, control
 * characters and invalid UTF-8 still give valid JSON and in-bounds
 * minidump strings; a live report has no exception; x86_64 and aarch64
 * reports (whichever this test runs on) get a CONTEXT_AMD64 / CONTEXT_ARM64
 * with the registers at the offsets of Microsoft's layouts, the Sentry
 * event the report's register names; a report of another architecture has
 * no minidump (ENOTSUP) but a Sentry event; Sentry's debug_id rule on
 * known build-ids (values from sentry-cli, Tests/export/test_ecosystem.c
 * checks real files); bad options and unwritable paths give clean errors
 * and leave no temporary file.
 *
 * Context: tests only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "normal/reader/reader.h"
#include "fixture.h"
#include "json_mini.h"
#include "mayday/mayday.h"
#include "normal/export/export.h"

static mayday_report *load_fixture(const fx_opts *o)
{
    Mayday__Report *m = fx_build(o);
    size_t len;
    unsigned char *buf = fx_frame(m, &len);
    mayday_report *r = NULL;
    assert_int_equal(mayday_report_parse(buf, len, &r), 0);
    free(buf);
    fx_free(m);
    return r;
}

static jm_node *event_json(const mayday_report *r, int format)
{
    void *data;
    size_t len;
    assert_int_equal(mayday_report_export(r, format, NULL, &data, &len), 0);
    jm_node *j = jm_parse(data, len, NULL);
    free(data);
    return j;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Every directory entry of a minidump lies inside it. */
static void check_bounds(const unsigned char *d, size_t len)
{
    assert_true(len >= 32);
    assert_memory_equal(d, "MDMP", 4);
    uint32_t n = le32(d + 8), dir = le32(d + 12);
    assert_true((uint64_t)dir + 12ull * n <= len);
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = d + dir + 12 * i;
        assert_true((uint64_t)le32(e + 8) + le32(e + 4) <= len);
    }
}

static void test_tricky_strings(void **state)
{
    (void)state;
    fx_opts o = {0};
    o.tricky_strings = 1;
    mayday_report *r = load_fixture(&o);
    jm_node *j = event_json(r, MAYDAY_EXPORT_SENTRY_EVENT);
    assert_non_null(j); /* valid JSON despite the bytes */
    assert_non_null(jm_get(jm_get(j, "extra"), "abort_message"));
    jm_free(j);
    void *data;
    size_t len;
    assert_int_equal(
        mayday_report_export(r, MAYDAY_EXPORT_MINIDUMP, NULL, &data, &len), 0);
    check_bounds(data, len);
    free(data);
    /* The envelope: one header line, then an event item of exact length. */
    assert_int_equal(mayday_report_export(r, MAYDAY_EXPORT_SENTRY_ENVELOPE,
                                          NULL, &data, &len),
                     0);
    char *nl = memchr(data, '\n', len);
    assert_non_null(nl);
    char *item = nl + 1,
         *nl2 = memchr(item, '\n', len - (size_t)(item - (char *)data));
    jm_node *h = jm_parse(item, (size_t)(nl2 - item), NULL);
    assert_non_null(h);
    int ok;
    int64_t ilen = jm_int(jm_get(h, "length"), &ok);
    assert_true(ok);
    assert_true(nl2 + 1 + ilen < (char *)data + len);
    assert_int_equal(nl2[1 + ilen], '\n');
    jm_node *ev = jm_parse(nl2 + 1, (size_t)ilen, NULL);
    assert_non_null(ev);
    jm_free(ev);
    jm_free(h);
    free(data);
    mayday_report_free(r);
}

static void test_live_report(void **state)
{
    (void)state;
    fx_opts o = {0};
    o.live = 1;
    mayday_report *r = load_fixture(&o);
    jm_node *j = event_json(r, MAYDAY_EXPORT_SENTRY_EVENT);
    assert_null(jm_get(j, "exception"));
    assert_string_equal(jm_str(jm_get(j, "level")), "error");
    assert_non_null(jm_get(j, "threads"));
    jm_free(j);
    void *data;
    size_t len;
    assert_int_equal(
        mayday_report_export(r, MAYDAY_EXPORT_MINIDUMP, NULL, &data, &len), 0);
    check_bounds(data, len);
    uint32_t n = le32((unsigned char *)data + 8),
             dir = le32((unsigned char *)data + 12);
    for (uint32_t i = 0; i < n; i++)
        assert_int_not_equal(le32((unsigned char *)data + dir + 12 * i), 6);
    free(data);
    mayday_report_free(r);
}

/* Frames outermost first; the crashed thread has registers, under the
 * report's names (Sentry's for both: rip .. on x86_64; x0..x28, fp, lr,
 * sp, pc on aarch64). */
static void test_sentry_order(void **state)
{
    (void)state;
    fx_opts o = {0};
    mayday_report *r = load_fixture(&o);
    const Mayday__Report *m = md_report_pb(r);
    jm_node *j = event_json(r, MAYDAY_EXPORT_SENTRY_EVENT);
    const Mayday__Thread *t = m->threads[m->crashed_thread];
    jm_node *fr = jm_path(j, "exception.values.0.stacktrace.frames");
    assert_int_equal(fr->n, t->n_frames);
    int ok;
    for (size_t i = 0; i < fr->n; i++)
        assert_int_equal(jm_hex(jm_get(fr->kids[i], "instruction_addr"), &ok),
                         t->frames[t->n_frames - 1 - i]->pc);
    jm_node *regs = jm_path(j, "exception.values.0.stacktrace.registers");
    for (size_t i = 0; i < m->n_register_names; i++) {
        assert_int_equal(jm_hex(jm_get(regs, m->register_names[i]), &ok),
                         t->registers[i]);
        assert_true(ok);
    }
#if defined(__aarch64__)
    assert_non_null(jm_get(regs, "pc"));
    assert_non_null(jm_get(regs, "lr"));
#else
    assert_non_null(jm_get(regs, "rip"));
#endif
    assert_string_equal(jm_str(jm_path(j, "exception.values.0.mechanism.type")),
                        "signalhandler");
    jm_free(j);
    mayday_report_free(r);
}

/* The fixture with the register set `names` (n of them) and machine:
 * every thread with registers gets value 0x1000 * (i + 1) + tid for
 * register i. */
static mayday_report *load_arch(const char *const *names, size_t n,
                                const char *machine, Mayday__Report **pm,
                                unsigned char **buf)
{
    fx_opts o = {0};
    Mayday__Report *m = fx_build(&o);
    for (size_t i = 0; i < m->n_register_names; i++)
        free(m->register_names[i]);
    free(m->register_names);
    m->register_names = calloc(n, sizeof(char *));
    m->n_register_names = n;
    for (size_t i = 0; i < n; i++)
        m->register_names[i] = strdup(names[i]);
    for (size_t k = 0; k < m->n_threads; k++) {
        Mayday__Thread *t = m->threads[k];
        if (t->n_registers == 0)
            continue;
        free(t->registers);
        t->registers = calloc(n, sizeof(uint64_t));
        t->n_registers = n;
        for (size_t i = 0; i < n; i++)
            t->registers[i] = 0x1000ull * (i + 1) + t->tid;
    }
    free(m->system->machine);
    m->system->machine = strdup(machine);
    size_t len;
    *buf = fx_frame(m, &len);
    mayday_report *r;
    assert_int_equal(mayday_report_parse(*buf, len, &r), 0);
    *pm = m;
    return r;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The crashed thread's context in minidump d: checks the exception stream
 * points at it with size csize, returns it. */
static const unsigned char *crashed_context(const unsigned char *d, size_t len,
                                            uint32_t csize, uint16_t arch)
{
    check_bounds(d, len);
    uint32_t n = le32(d + 8), dir = le32(d + 12);
    const unsigned char *ctx = NULL;
    int sys = 0;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = d + dir + 12 * i;
        const unsigned char *s = d + le32(e + 8);
        if (le32(e) == 7) { /* SystemInfo: ProcessorArchitecture */
            assert_int_equal(s[0] | s[1] << 8, arch);
            sys = 1;
        } else if (le32(e) == 6) { /* Exception: ThreadContext */
            assert_int_equal(le32(s + 160), csize);
            assert_true((uint64_t)le32(s + 164) + csize <= len);
            ctx = d + le32(s + 164);
        } else if (le32(e) == 3) { /* every thread's context size */
            for (uint32_t k = 0; k < le32(s); k++)
                assert_int_equal(le32(s + 4 + 48 * k + 40), csize);
        }
    }
    assert_true(sys);
    assert_non_null(ctx);
    return ctx;
}

/* x86_64's names (Source/crash/core/regs.c): CONTEXT_AMD64, 1232 bytes,
 * minidumpapiset.h's offsets (Rax, Rcx, Rdx, Rbx, Rsp, ... at 0x78). */
static void test_amd64_context(void **state)
{
    (void)state;
    static const char *const names[] = {
        "rax", "rbx", "rcx", "rdx", "rsi",    "rdi",    "rbp", "rsp",
        "r8",  "r9",  "r10", "r11", "r12",    "r13",    "r14", "r15",
        "rip", "eflags", "csgsfs", "err", "trapno", "cr2"};
    Mayday__Report *m;
    unsigned char *buf;
    mayday_report *r =
        load_arch(names, sizeof(names) / sizeof(names[0]), "x86_64", &m, &buf);
    const Mayday__Thread *t = m->threads[m->crashed_thread];
    void *data;
    size_t dl;
    assert_int_equal(
        mayday_report_export(r, MAYDAY_EXPORT_MINIDUMP, NULL, &data, &dl), 0);
    const unsigned char *c = crashed_context(data, dl, 1232, 9);
    uint64_t base = t->tid;
    assert_int_equal(le32(c + 0x30) & 0x00100003u, 0x00100003u);
    assert_int_equal(le64(c + 0x78), 0x1000ull * 1 + base);           /* rax */
    assert_int_equal(le64(c + 0x78 + 8 * 1), 0x1000ull * 3 + base);   /* rcx */
    assert_int_equal(le64(c + 0x78 + 8 * 4), 0x1000ull * 8 + base);   /* rsp */
    assert_int_equal(le64(c + 0x78 + 8 * 15), 0x1000ull * 16 + base); /* r15 */
    assert_int_equal(le64(c + 0xf8), 0x1000ull * 17 + base);          /* rip */
    free(data);
    mayday_report_free(r);
    free(buf);
    fx_free(m);
}

/* aarch64's names (Source/crash/core/regs_aarch64.c): CONTEXT_ARM64, 912
 * bytes (ARM64_NT_CONTEXT: ContextFlags, Cpsr, X0..X28, Fp, Lr, Sp, Pc,
 * V0..V31, Fpcr, Fpsr, debug registers). */
static void test_arm64_context(void **state)
{
    (void)state;
    static const char *names[36];
    static char xn[29][4];
    for (int i = 0; i < 29; i++) {
        snprintf(xn[i], sizeof(xn[i]), "x%d", i);
        names[i] = xn[i];
    }
    static const char *const rest[] = {"fp",     "lr",  "sp", "pc",
                                       "pstate", "far", "esr"};
    for (int i = 0; i < 7; i++)
        names[29 + i] = rest[i];
    Mayday__Report *m;
    unsigned char *buf;
    mayday_report *r = load_arch(names, 36, "aarch64", &m, &buf);
    const Mayday__Thread *t = m->threads[m->crashed_thread];
    void *data;
    size_t dl;
    assert_int_equal(
        mayday_report_export(r, MAYDAY_EXPORT_MINIDUMP, NULL, &data, &dl), 0);
    const unsigned char *c = crashed_context(data, dl, 912, 12);
    uint64_t base = t->tid;
    /* CONTEXT_ARM64 | CONTROL | INTEGER; no FP state in the fixture. */
    assert_int_equal(le32(c), 0x00400003u);
    assert_int_equal(le32(c + 4), (uint32_t)(0x1000ull * 34 + base)); /* cpsr */
    for (int i = 0; i < 31; i++) /* x0..x28, fp, lr */
        assert_int_equal(le64(c + 8 + 8 * i), 0x1000ull * (i + 1) + base);
    assert_int_equal(le64(c + 0x100), 0x1000ull * 32 + base); /* sp */
    assert_int_equal(le64(c + 0x108), 0x1000ull * 33 + base); /* pc */
    free(data);
    /* Sentry: the same names and values. */
    jm_node *j = event_json(r, MAYDAY_EXPORT_SENTRY_EVENT);
    jm_node *regs = jm_path(j, "exception.values.0.stacktrace.registers");
    int ok;
    assert_int_equal(jm_hex(jm_get(regs, "x28"), &ok), 0x1000ull * 29 + base);
    assert_int_equal(jm_hex(jm_get(regs, "fp"), &ok), 0x1000ull * 30 + base);
    assert_int_equal(jm_hex(jm_get(regs, "lr"), &ok), 0x1000ull * 31 + base);
    assert_int_equal(jm_hex(jm_get(regs, "sp"), &ok), 0x1000ull * 32 + base);
    assert_int_equal(jm_hex(jm_get(regs, "pc"), &ok), 0x1000ull * 33 + base);
    jm_free(j);
    mayday_report_free(r);
    free(buf);
    fx_free(m);
}

/* Another architecture: no minidump context for it, a Sentry event still. */
static void test_other_arch(void **state)
{
    (void)state;
    static const char *const names[] = {"ra", "sp", "gp", "tp", "t0", "pc"};
    Mayday__Report *m;
    unsigned char *buf;
    mayday_report *r = load_arch(names, 6, "riscv64", &m, &buf);
    void *data;
    size_t dl;
    assert_int_equal(
        mayday_report_export(r, MAYDAY_EXPORT_MINIDUMP, NULL, &data, &dl),
        MAYDAY_ENOTSUP);
    assert_null(data);
    jm_node *j = event_json(r, MAYDAY_EXPORT_SENTRY_EVENT);
    assert_non_null(j);
    jm_free(j);
    mayday_report_free(r);
    free(buf);
    fx_free(m);
}

/* Build-ids and the debug ids sentry-cli printed for them. */
static void test_debug_id(void **state)
{
    (void)state;
    /* /bin/ls here: build-id 15dfff32...; sentry-cli debug-files check. */
    const uint8_t ls[20] = {0x15, 0xdf, 0xff, 0x32, 0x39, 0xaa, 0x7c,
                            0x3b, 0x16, 0xa7, 0x1e, 0x6b, 0x2e, 0x3b,
                            0x6e, 0x40, 0x09, 0xda, 0xb9, 0x98};
    char id[37];
    md_sentry_debug_id(ls, sizeof(ls), id);
    assert_string_equal(id, "32ffdf15-aa39-3b7c-16a7-1e6b2e3b6e40");
    /* 8 bytes (libeco_short.so): zero padded. */
    const uint8_t s8[8] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    md_sentry_debug_id(s8, sizeof(s8), id);
    assert_string_equal(id, "33221100-5544-7766-0000-000000000000");
}

static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)) != NULL)
        n += strstr(de->d_name, ".tmp") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void test_bad_input(void **state)
{
    (void)state;
    fx_opts o = {0};
    mayday_report *r = load_fixture(&o);
    void *data;
    size_t len;
    assert_int_equal(mayday_report_export(NULL, 1, NULL, &data, &len),
                     MAYDAY_EINVAL);
    assert_int_equal(mayday_report_export(r, 99, NULL, &data, &len),
                     MAYDAY_EINVAL);
    mayday_export_options eo;
    mayday_export_options_init(&eo);
    eo.size = 4;
    assert_int_equal(mayday_report_export(r, 1, &eo, &data, &len),
                     MAYDAY_EINVAL);
    /* Attaching a report file that does not exist. */
    mayday_export_options_init(&eo);
    eo.flags = MAYDAY_EXPORT_ATTACH_REPORT;
    eo.report_path = "/nonexistent/x.mayday";
    assert_int_equal(mayday_report_export(r, MAYDAY_EXPORT_SENTRY_ENVELOPE, &eo,
                                          &data, &len),
                     MAYDAY_ENOENT);
    /* Files: missing directory, read-only directory; no temp left. */
    assert_int_equal(mayday_report_export_file(r, MAYDAY_EXPORT_MINIDUMP, NULL,
                                               "/nonexistent/dir/x.dmp"),
                     MAYDAY_ENOENT);
    char dir[] = "/tmp/mayday-export-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/out.dmp", dir);
    assert_int_equal(
        mayday_report_export_file(r, MAYDAY_EXPORT_MINIDUMP, NULL, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    if (geteuid() != 0) { /* root writes into a 0500 directory anyway */
        chmod(dir, 0500);
        assert_int_equal(
            mayday_report_export_file(r, MAYDAY_EXPORT_MINIDUMP, NULL, path),
            MAYDAY_EACCES);
        chmod(dir, 0700);
    }
    assert_int_equal(count_tmp(dir), 0);
    unlink(path);
    rmdir(dir);
    mayday_report_free(r);
}

#ifdef MD_TEST_HAVE_CONTENTS
static Mayday__Memory *memory(uint64_t addr, size_t n, uint8_t seed)
{
    Mayday__Memory *m = calloc(1, sizeof(*m));
    mayday__memory__init(m);
    m->has_address = 1;
    m->address = addr;
    m->has_data = 1;
    m->data.len = n;
    m->data.data = malloc(n);
    for (size_t i = 0; i < n; i++)
        m->data.data[i] = (uint8_t)(seed + i * 7);
    return m;
}

/* Finds the memory-list range starting at addr; its bytes or NULL. */
static const unsigned char *mem_range(const unsigned char *d, uint64_t addr,
                                      uint32_t *len)
{
    uint32_t n = le32(d + 8), dir = le32(d + 12);
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = d + dir + 12 * i;
        if (le32(e) != 5)
            continue;
        const unsigned char *l = d + le32(e + 8);
        for (uint32_t k = 0; k < le32(l); k++) {
            const unsigned char *md = l + 4 + 16 * k;
            uint64_t start = le32(md) | (uint64_t)le32(md + 4) << 32;
            if (start == addr) {
                *len = le32(md + 8);
                return d + le32(md + 12);
            }
        }
    }
    return NULL;
}

/* Issue 11's contents: stacks and windows in the memory list, FXSAVE in
 * the context, the maps stream, attachments in the envelope. */
static void test_contents(void **state)
{
    (void)state;
    fx_opts o = {0};
    Mayday__Report *m = fx_build(&o);
    Mayday__Thread *t = m->threads[m->crashed_thread];
    t->stack = memory(0x7ffd00001000, 4096, 3);
    t->n_memory = 1;
    t->memory = calloc(1, sizeof(*t->memory));
    t->memory[0] = memory(0x5500000000, 256, 9);
    t->fp = calloc(1, sizeof(*t->fp));
    mayday__fp_state__init(t->fp);
    t->fp->has_format = 1;
    t->fp->format = MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE;
    Mayday__Memory *fpm = memory(0, 512, 1);
    t->fp->has_data = 1;
    t->fp->data = fpm->data;
    free(fpm);
    m->n_mappings = 1;
    m->mappings = calloc(1, sizeof(*m->mappings));
    m->mappings[0] = calloc(1, sizeof(Mayday__Mapping));
    mayday__mapping__init(m->mappings[0]);
    Mayday__Mapping *mp = m->mappings[0];
    mp->has_start = mp->has_size = mp->has_flags = 1;
    mp->start = 0x7ffd00000000;
    mp->size = 0x21000;
    mp->flags = 6;
    mp->path = strdup("[stack]");
    m->n_attachments = 1;
    m->attachments = calloc(1, sizeof(*m->attachments));
    m->attachments[0] = calloc(1, sizeof(Mayday__Attachment));
    mayday__attachment__init(m->attachments[0]);
    m->attachments[0]->name = strdup("app.log");
    m->attachments[0]->has_data = 1;
    m->attachments[0]->data.len = 5;
    m->attachments[0]->data.data = (uint8_t *)strdup("hello");
    size_t len;
    unsigned char *buf = fx_frame(m, &len);
    mayday_report *r;
    assert_int_equal(mayday_report_parse(buf, len, &r), 0);
    void *data;
    size_t dl;
    assert_int_equal(
        mayday_report_export(r, MAYDAY_EXPORT_MINIDUMP, NULL, &data, &dl), 0);
    check_bounds(data, dl);
    uint32_t n;
    const unsigned char *p = mem_range(data, t->stack->address, &n);
    assert_non_null(p);
    assert_int_equal(n, 4096);
    assert_memory_equal(p, t->stack->data.data, 4096);
    p = mem_range(data, 0x5500000000, &n);
    assert_non_null(p);
    assert_memory_equal(p, t->memory[0]->data.data, 256);
    const char *maps = memmem(data, dl, "7ffd00000000-7ffd00021000 rw-p", 30);
    assert_non_null(maps);
    assert_non_null(memmem(maps, 120, "[stack]\n", 8));
    free(data);
    assert_int_equal(mayday_report_export(r, MAYDAY_EXPORT_SENTRY_ENVELOPE,
                                          NULL, &data, &dl),
                     0);
    assert_non_null(memmem(data, dl,
                           "{\"type\":\"attachment\",\"length\":5,"
                           "\"filename\":\"app.log\"",
                           43));
    assert_non_null(memmem(data, dl, "\nhello\n", 7));
    free(data);
    mayday_report_free(r);
    free(buf);
    fx_free(m);
}
#else
static void test_contents(void **state)
{
    (void)state;
    fprintf(stderr, "SKIP: the schema has no issue 11 contents yet\n");
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tricky_strings),
        cmocka_unit_test(test_live_report),
        cmocka_unit_test(test_sentry_order),
        cmocka_unit_test(test_amd64_context),
        cmocka_unit_test(test_arm64_context),
        cmocka_unit_test(test_other_arch),
        cmocka_unit_test(test_debug_id),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
