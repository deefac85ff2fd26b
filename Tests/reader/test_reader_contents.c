/*
 * test_reader_contents.c - the reader's side of issue 11 (report
 * contents): a fixture report with stack memory, FP registers (XSAVE with
 * AVX, FXSAVE), windows, thread states, a memory map and attachments
 * (fixture_contents.c, values of its own construction) decoded through the
 * JSON output (parsed back by json_mini, base64 decoded here), the text
 * output, mayday_report_read_memory and mayday_report_stack; new fields
 * with bad values and a valid CRC are ECORRUPT; and a report written by
 * the previous format version (Tests/reader/fixtures/, made by main at
 * 62f681d) still loads, and its JSON keeps every key and value the old
 * reader gave it.
 *
 * Context: test program (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <sys/syscall.h>

#include "common.h"
#include "crash/core/regs.h"
#include "fixture.h"
#include "json_mini.h"
#include "mayday.pb-c.h"
#include "normal/reader/reader.h"

static mayday_report *parse_pb(const Mayday__Report *pb, int *rc)
{
    size_t len;
    unsigned char *b = fx_frame(pb, &len);
    mayday_report *r = NULL;
    *rc = mayday_report_parse(b, len, &r);
    free(b);
    return r;
}

static mayday_report *contents_report(void)
{
    fx_opts o = {.contents = 1};
    Mayday__Report *pb = fx_build(&o);
    int rc;
    mayday_report *r = parse_pb(pb, &rc);
    fx_free(pb);
    assert_int_equal(rc, 0);
    return r;
}

/* RFC 4648 base64, decoded here (not by the library). */
static size_t unbase64(const char *s, uint8_t *out, size_t cap)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *p = strchr(t, *s);
        assert_non_null(p);
        acc = (acc << 6) | (uint32_t)(p - t);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert_true(n < cap);
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static jm_node *json_of(const mayday_report *r)
{
    int rc;
    char *text = tc_format(r, MAYDAY_FORMAT_JSON, NULL, &rc);
    assert_int_equal(rc, 0);
    jm_node *j = jm_parse(text, strlen(text), NULL);
    if (!j)
        fail_msg("JSON does not parse:\n%s", text);
    free(text);
    return j;
}

static const char *str_at(const jm_node *j, const char *path)
{
    const jm_node *n = jm_path(j, path);
    if (!n || !jm_str(n))
        fail_msg("no string at %s", path);
    return jm_str(n);
}

static uint64_t hex_at(const jm_node *j, const char *path)
{
    int ok = 0;
    uint64_t v = jm_hex(jm_path(j, path), &ok);
    if (!ok)
        fail_msg("no hex string at %s", path);
    return v;
}

static int64_t int_at(const jm_node *j, const char *path)
{
    int ok = 0;
    int64_t v = jm_int(jm_path(j, path), &ok);
    if (!ok)
        fail_msg("no integer at %s", path);
    return v;
}

static void check_memory(const jm_node *j, const char *path, uint64_t addr,
                         size_t len)
{
    char p[128];
    snprintf(p, sizeof(p), "%s.address", path);
    assert_true(hex_at(j, p) == addr);
    snprintf(p, sizeof(p), "%s.size", path);
    assert_int_equal(int_at(j, p), len);
    snprintf(p, sizeof(p), "%s.data", path);
    uint8_t buf[4096];
    assert_int_equal(unbase64(str_at(j, p), buf, sizeof(buf)), len);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], fx_stack_byte(addr + i));
}

static void test_json(void **state)
{
    (void)state;
    mayday_report *r = contents_report();
    jm_node *j = json_of(r);
    /* Stack memory, windows. */
    check_memory(j, "threads.0.stack", FX_STACK0_SP - 128, FX_STACK0_LEN);
    assert_string_equal(str_at(j, "threads.0.stack_limit"), "thread_cap");
    check_memory(j, "threads.0.memory.0", FX_WINDOW0, 64);
    check_memory(j, "threads.0.memory.1", FX_WINDOW0 + 64, 64);
    assert_string_equal(str_at(j, "threads.0.memory.0.labels.0"), "rbx");
    assert_string_equal(str_at(j, "threads.0.memory.1.labels.0"), "rip");
    check_memory(j, "threads.1.stack", FX_STACK1_ADDR, 256);
    assert_string_equal(str_at(j, "threads.1.stack_limit"), "budget");
    assert_int_equal(jm_path(j, "threads.2.stack")->type, JM_NULL);
    /* FP: xmm0 = a0..af (byte 0 least significant), ymm0's upper half
     * c0..cf, trailing zeros padded back. */
    assert_string_equal(str_at(j, "threads.0.fp.format"), "xsave");
    assert_string_equal(str_at(j, "threads.0.fp.xmm.0"),
                        "0xafaeadacabaaa9a8a7a6a5a4a3a2a1a0");
    assert_string_equal(str_at(j, "threads.0.fp.ymm.0"),
                        "0xcfcecdcccbcac9c8c7c6c5c4c3c2c1c0"
                        "afaeadacabaaa9a8a7a6a5a4a3a2a1a0");
    assert_string_equal(str_at(j, "threads.0.fp.xmm.15"),
                        "0x00000000000000000000000000000000");
    assert_true(hex_at(j, "threads.0.fp.mxcsr") == FX_MXCSR);
    assert_true(hex_at(j, "threads.0.fp.xstate_bv") == 7);
    assert_string_equal(str_at(j, "threads.1.fp.format"), "fxsave");
    assert_int_equal(jm_path(j, "threads.1.fp.ymm")->type, JM_NULL);
    /* Thread states. */
    assert_int_equal(int_at(j, "threads.1.syscall.number"), SYS_futex);
    assert_string_equal(str_at(j, "threads.1.syscall.name"), "futex");
    assert_true(hex_at(j, "threads.1.syscall.args.5") == 0x105);
    assert_string_equal(str_at(j, "threads.2.proc_state"), "D");
    assert_true(jm_path(j, "threads.2.mayday_thread")->b);
    assert_false(jm_path(j, "threads.1.mayday_thread")->b);
    assert_int_equal(jm_path(j, "threads.0.syscall")->type, JM_NULL);
    /* Registers to mappings; the map; the fault address described. */
    char spkey[64];
    snprintf(spkey, sizeof(spkey), "threads.0.register_mappings.%s",
             mds_reg_names[MDS_REG_SP]);
    assert_int_equal(int_at(j, spkey), 3);
    snprintf(spkey, sizeof(spkey), "threads.0.register_mappings.%s",
             mds_reg_names[0]);
    assert_int_equal(jm_path(j, spkey)->type, JM_NULL);
    assert_int_equal(jm_path(j, "mappings")->n, 5);
    assert_true(hex_at(j, "mappings.3.start") == FX_GUARD + 0x1000);
    assert_true(hex_at(j, "mappings.3.end") == FX_GUARD + 0x101000);
    assert_string_equal(str_at(j, "mappings.0.perms"), "r-xp");
    assert_string_equal(str_at(j, "mappings.0.path"), "/usr/lib/libdemo.so");
    assert_string_equal(str_at(j, "mappings.0.dev"), "fe:01");
    assert_int_equal(int_at(j, "mappings.0.inode"), 4242);
    assert_true(hex_at(j, "mappings.0.offset") == 0x1000);
    assert_string_equal(str_at(j, "mappings.2.perms"), "---p");
    assert_string_equal(str_at(j, "mappings.2.role"),
                        "guard page below thread 0's stack");
    assert_string_equal(str_at(j, "mappings.3.role"), "stack of thread 0");
    assert_string_equal(str_at(j, "mappings.4.role"), "stack of thread 1");
    assert_int_equal(jm_path(j, "mappings.0.role")->type, JM_NULL);
    assert_int_equal(int_at(j, "signal.address_mapping"), 2);
    assert_non_null(strstr(str_at(j, "signal.address_description"),
                           "guard page below thread 0's stack"));
    /* Attachments. */
    assert_string_equal(str_at(j, "attachments.0.name"), "app.log");
    assert_string_equal(str_at(j, "attachments.0.kind"), "file");
    assert_string_equal(str_at(j, "attachments.0.path"), "/var/log/app.log");
    size_t tl = strlen(FX_ATTACH_TAIL);
    assert_int_equal(int_at(j, "attachments.0.size"), 100000);
    assert_int_equal(int_at(j, "attachments.0.offset"), 100000 - tl);
    assert_true(jm_path(j, "attachments.0.truncated")->b);
    uint8_t buf[256];
    assert_int_equal(unbase64(str_at(j, "attachments.0.data"), buf, 256), tl);
    assert_memory_equal(buf, FX_ATTACH_TAIL, tl);
    assert_string_equal(str_at(j, "attachments.1.kind"), "memory");
    assert_false(jm_path(j, "attachments.1.truncated")->b);
    /* Flags: the budget is a setting, the report is still complete. */
    assert_true(jm_path(j, "report.stack_budget_exhausted")->b);
    assert_false(jm_path(j, "report.mappings_capped")->b);
    assert_true(jm_path(j, "report.complete")->b);
    jm_free(j);
    mayday_report_free(r);
}

static void test_text(void **state)
{
    (void)state;
    mayday_report *r = contents_report();
    int rc;
    char *t = tc_format(r, MAYDAY_FORMAT_TEXT, NULL, &rc);
    assert_int_equal(rc, 0);
    const char *want[] = {
        "Fault address:  inside the guard page below thread 0's stack",
        "FP registers (XSAVE, AVX):",
        "ymm0  cfcecdcccbcac9c8c7c6c5c4c3c2c1c0afaeadacabaaa9a8a7a6a5a4a3a2"
        "a1a0",
        "mxcsr 0x00001f80",
        "Stack memory of thread 0: 0x00007f000017ff80 - 0x00007f0000180380, "
        "1024 bytes (cut by the per-thread cap), around sp:",
        /* fx_stack_byte(0x7f0000180000 + i) = 3 + 7i */
        "    0x00007f0000180000  03 0a 11 18 1f 26 2d 34  3b 42 49 50 57 5e "
        "65 6c  |.....&-4;BIPW^el| <- sp",
        "0x00007f0000050040, 64 bytes (rbx):",
        "\"worker\" [in futex(0x100, 0x101, 0x102, 0x103, 0x104, 0x105)]",
        "\"stuck\" [not_suspended] [mayday] [/proc state D]",
        "Stack memory of thread 1: 0x00007ffd00001080 - 0x00007ffd00001180, "
        "256 bytes (cut by the report's stack budget)",
        "Memory map (5 mappings):",
        "0x00007f0000100000-0x00007f0000101000 ---p 00000000 00:00 0        "
        "(guard page below thread 0's stack)",
        "0x00007e0000000000-0x00007e0000004000 r-xp 00001000 fe:01 4242     "
        "/usr/lib/libdemo.so",
        "last line\n",
        "state (memory, bytes 0-11 of 11):",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(t, want[i]))
            fail_msg("text lacks \"%s\":\n%s", want[i], t);
    char head[128];
    snprintf(head, sizeof(head),
             "%6s 0x00007f0000180000  in stack of thread 0 (rw-p)",
             mds_reg_names[MDS_REG_SP]);
    if (!strstr(t, head))
        fail_msg("text lacks \"%s\":\n%s", head, t);
    snprintf(head, sizeof(head),
             "app.log (file /var/log/app.log, bytes %zu-100000 of 100000):",
             100000 - strlen(FX_ATTACH_TAIL));
    if (!strstr(t, head))
        fail_msg("text lacks \"%s\":\n%s", head, t);
    /* The short window: nothing of thread 1's stack dumped. */
    assert_null(strstr(t, "0x00007ffd00001080  "));
    free(t);
    mayday_format_options o;
    mayday_format_options_init(&o);
    o.flags = MAYDAY_FORMAT_FULL_MEMORY;
    t = tc_format(r, MAYDAY_FORMAT_TEXT, &o, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(t, "    0x00007ffd00001080  "));
    assert_non_null(strstr(t, "    0x00007f000017ff80  "));
    free(t);
    mayday_report_free(r);
}

static void test_read_memory(void **state)
{
    (void)state;
    mayday_report *r = contents_report();
    uint8_t buf[1024];
    /* Across the two adjacent windows. */
    assert_int_equal(mayday_report_read_memory(r, FX_WINDOW0, buf, 128), 0);
    for (int i = 0; i < 128; i++)
        assert_int_equal(buf[i], fx_stack_byte(FX_WINDOW0 + (uint64_t)i));
    uint64_t lo = FX_STACK0_SP - 128;
    assert_int_equal(mayday_report_read_memory(r, lo + 100, buf, 900), 0);
    for (int i = 0; i < 900; i++)
        assert_int_equal(buf[i], fx_stack_byte(lo + 100 + (uint64_t)i));
    /* One byte past the stack, one before, nothing recorded. */
    assert_int_equal(mayday_report_read_memory(r, lo + 1000, buf, 25),
                     MAYDAY_ENOTFOUND);
    assert_int_equal(mayday_report_read_memory(r, lo - 1, buf, 2),
                     MAYDAY_ENOTFOUND);
    assert_int_equal(mayday_report_read_memory(r, 0x1000, buf, 1),
                     MAYDAY_ENOTFOUND);
    assert_int_equal(mayday_report_read_memory(r, lo, buf, 0), 0);
    assert_int_equal(mayday_report_read_memory(NULL, lo, buf, 1),
                     MAYDAY_EINVAL);
    uint64_t a;
    const uint8_t *d;
    size_t n;
    assert_int_equal(mayday_report_stack(r, 1, &a, &d, &n), 0);
    assert_true(a == FX_STACK1_ADDR);
    assert_int_equal(n, 256);
    assert_int_equal(d[5], fx_stack_byte(FX_STACK1_ADDR + 5));
    assert_int_equal(mayday_report_stack(r, 2, &a, &d, &n), MAYDAY_ENOTFOUND);
    assert_int_equal(mayday_report_stack(r, 3, &a, &d, &n), MAYDAY_EINVAL);
    mayday_report_free(r);
}

/* Each broken variant of a good contents report: a valid frame and CRC,
 * yet ECORRUPT from the loader, and never a crash in the formatters. */
static void test_corrupt_fields(void **state)
{
    (void)state;
    for (int k = 0; k < 8; k++) {
        fx_opts o = {.contents = 1};
        Mayday__Report *pb = fx_build(&o);
        Mayday__Thread *t0 = pb->threads[0];
        switch (k) {
        case 0: /* a region that wraps around the address space */
            t0->stack->address = UINT64_MAX - 8;
            break;
        case 1: /* a window without an address */
            t0->memory[1]->has_address = 0;
            break;
        case 2: /* mappings out of order (overlapping) */
            pb->mappings[2]->start = pb->mappings[1]->start;
            break;
        case 3: /* a mapping that wraps */
            pb->mappings[4]->size = UINT64_MAX;
            break;
        case 4: /* seven syscall arguments */
            pb->threads[1]->n_syscall_args = 7;
            pb->threads[1]->syscall_args =
                realloc(pb->threads[1]->syscall_args, 7 * sizeof(uint64_t));
            pb->threads[1]->syscall_args[6] = 0;
            break;
        case 5: /* attachment data past its size */
            pb->attachments[0]->size = 10;
            break;
        case 6: /* XSAVE offsets without sizes */
            t0->fp->n_xsave_sizes = 1;
            break;
        case 7: /* a mapping without start */
            pb->mappings[0]->has_start = 0;
            break;
        }
        int rc;
        mayday_report *r = parse_pb(pb, &rc);
        if (rc != MAYDAY_ECORRUPT)
            fail_msg("variant %d gave %d", k, rc);
        assert_null(r);
        fx_free(pb);
    }
    /* XSAVE offsets pointing far outside the area: loads (offsets are the
     * writer's business), and the formatters do not read outside it. */
    fx_opts o = {.contents = 1};
    Mayday__Report *pb = fx_build(&o);
    pb->threads[0]->fp->xsave_offsets[2] = 0xfffffff0u;
    int rc;
    mayday_report *r = parse_pb(pb, &rc);
    assert_int_equal(rc, 0);
    jm_node *j = json_of(r);
    assert_int_equal(jm_path(j, "threads.0.fp.ymm")->type, JM_NULL);
    jm_free(j);
    char *t = tc_format(r, MAYDAY_FORMAT_TEXT, NULL, &rc);
    assert_int_equal(rc, 0);
    free(t);
    mayday_report_free(r);
    fx_free(pb);
}

/* Every member of `old` has an equal value in `neu` (which may have more
 * members): old readers' keys and values are unchanged. */
static void same_or_more(const jm_node *old, const jm_node *neu,
                         const char *path)
{
    if (!neu)
        fail_msg("%s: missing in the new JSON", path);
    if (old->type != neu->type)
        fail_msg("%s: type %d, was %d", path, neu->type, old->type);
    char p[512];
    switch (old->type) {
    case JM_OBJ:
        for (size_t i = 0; i < old->n; i++) {
            snprintf(p, sizeof(p), "%s.%s", path, old->keys[i]);
            same_or_more(old->kids[i], jm_get(neu, old->keys[i]), p);
        }
        break;
    case JM_ARR:
        if (old->n != neu->n)
            fail_msg("%s: %zu elements, was %zu", path, neu->n, old->n);
        for (size_t i = 0; i < old->n; i++) {
            snprintf(p, sizeof(p), "%s.%zu", path, i);
            same_or_more(old->kids[i], neu->kids[i], p);
        }
        break;
    case JM_STR:
        if (old->slen != neu->slen || memcmp(old->s, neu->s, old->slen))
            fail_msg("%s: \"%s\", was \"%s\"", path, neu->s, old->s);
        break;
    case JM_NUM:
        if (strcmp(old->numtext, neu->numtext) != 0)
            fail_msg("%s: %s, was %s", path, neu->numtext, old->numtext);
        break;
    case JM_BOOL:
        if (old->b != neu->b)
            fail_msg("%s: %d, was %d", path, neu->b, old->b);
        break;
    case JM_NULL:
        break;
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *b = malloc(1 << 20);
    *len = fread(b, 1, (1 << 20) - 1, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

static void test_previous_version(void **state)
{
    (void)state;
    const char *src = getenv("MAYDAY_SOURCE_DIR");
    assert_non_null(src);
    char path[4200];
    snprintf(path, sizeof(path),
             "%s/Tests/reader/fixtures/v1-62f681d-deep-worker.mayday", src);
    mayday_report *r = NULL;
    assert_int_equal(mayday_report_load(path, &r), 0);
    const Mayday__Report *m = md_report_pb(r);
    assert_int_equal(m->n_mappings, 0);
    assert_int_equal(m->n_attachments, 0);
    for (size_t i = 0; i < m->n_threads; i++) {
        assert_null(m->threads[i]->stack);
        assert_null(m->threads[i]->fp);
        assert_false(m->threads[i]->has_syscall);
    }
    jm_node *neu = json_of(r);
    snprintf(path, sizeof(path),
             "%s/Tests/reader/fixtures/v1-62f681d-deep-worker.json", src);
    size_t len;
    char *text = slurp(path, &len);
    jm_node *old = jm_parse(text, len, NULL);
    assert_non_null(old);
    same_or_more(old, neu, "$");
    /* The new keys are there, empty. */
    assert_int_equal(jm_path(neu, "mappings")->n, 0);
    assert_int_equal(jm_path(neu, "attachments")->n, 0);
    assert_int_equal(jm_path(neu, "threads.0.stack")->type, JM_NULL);
    assert_int_equal(jm_path(neu, "threads.0.fp")->type, JM_NULL);
    int rc;
    char *t = tc_format(r, MAYDAY_FORMAT_TEXT, NULL, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(t, "Memory map"));
    assert_null(strstr(t, "Stack memory"));
    free(t);
    jm_free(old);
    jm_free(neu);
    free(text);
    mayday_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_read_memory),
        cmocka_unit_test(test_corrupt_fields),
        cmocka_unit_test(test_previous_version),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
