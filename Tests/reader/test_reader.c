/*
 * test_reader.c - round trip of every field: a report built with protobuf-c
 * (fixture.c) is framed into a file, loaded with mayday_report_load, and
 * compared field by field with mayday_report_get_info and with the JSON
 * output parsed back by an independent strict parser (json_mini.c). Also
 * checks the text output and formatting through a symbolicator callback.
 *
 * Context: test program (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <elf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "common.h"
#include "crash/core/framing.h"
#include "fixture.h"
#include "json_mini.h"
#include "schema_check.h"
#include "mayday.pb-c.h"

#define FFFD "\xef\xbf\xbd"

/* Loads a fixture through a real file. */
static mayday_report *load_fixture(const Mayday__Report *pb, char **dir_out)
{
    char *dir = tc_mkdtemp("reader");
    char path[4200];
    snprintf(path, sizeof(path), "%s/r.mayday", dir);
    assert_int_equal(fx_write_report(pb, path), 0);
    mayday_report *r = NULL;
    assert_int_equal(mayday_report_load(path, &r), 0);
    assert_non_null(r);
    assert_true(tc_exists(path));
    *dir_out = dir;
    return r;
}

static void test_info(void **state)
{
    (void)state;
    Mayday__Report *pb = fx_build(NULL);
    char *dir;
    mayday_report *r = load_fixture(pb, &dir);
    mayday_report_info info;
    memset(&info, 0xAA, sizeof(info));
    info.size = sizeof(info);
    assert_int_equal(mayday_report_get_info(r, &info), 0);
    char uuid[40];
    const uint8_t *u = pb->header->uuid.data;
    snprintf(uuid, sizeof(uuid),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
    assert_string_equal(info.uuid, uuid);
    assert_true(info.time_unix_ns == pb->header->time_unix_ns);
    assert_int_equal(info.live, 0);
    assert_int_equal(info.complete, 1);
    assert_int_equal(info.signo, SIGSEGV);
    assert_string_equal(info.signal_name, "SIGSEGV");
    assert_string_equal(info.cause, "null dereference");
    assert_true(info.fault_address == pb->signal->address);
    assert_string_equal(info.app_id, pb->app->id);
    assert_string_equal(info.app_version, pb->app->version);
    assert_int_equal(info.pid, getpid());
    assert_string_equal(info.process_name, pb->process->name);
    assert_int_equal(info.thread_count, pb->n_threads);
    assert_int_equal(info.image_count, pb->n_images);
    assert_int_equal(info.crashed_thread, 0);

    /* An older caller's smaller struct: nothing written past its size. */
    unsigned char buf[sizeof(mayday_report_info) + 16];
    memset(buf, 0x5c, sizeof(buf));
    mayday_report_info *old = (mayday_report_info *)buf;
    old->size = offsetof(mayday_report_info, signo);
    assert_int_equal(mayday_report_get_info(r, old), 0);
    assert_string_equal(old->uuid, uuid);
    for (size_t i = offsetof(mayday_report_info, signo); i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0x5c);
    info.size = 4;
    assert_int_equal(mayday_report_get_info(r, &info), MAYDAY_EINVAL);

    /* The underlying message is reachable and equal (deprecated, still
     * working: functions are never removed). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    const Mayday__Report *m = mayday_report_message(r);
#pragma GCC diagnostic pop
    assert_non_null(m);
    assert_int_equal(m->n_images, pb->n_images);

    /* The accessors that replace it, against the fixture's message. */
    for (uint32_t i = 0; i < pb->n_images; i++) {
        mayday_image_info ii = {.size = sizeof(ii)};
        assert_int_equal(mayday_report_get_image(r, i, &ii), 0);
        assert_string_equal(ii.path,
                            pb->images[i]->path ? pb->images[i]->path : "");
        assert_true(ii.base == pb->images[i]->address);
        assert_int_equal(ii.build_id_len, pb->images[i]->has_build_id
                                              ? pb->images[i]->build_id.len
                                              : 0);
    }
    mayday_image_info bad = {.size = sizeof(bad)};
    assert_int_equal(mayday_report_get_image(r, (uint32_t)pb->n_images, &bad),
                     MAYDAY_EINVAL);
    mayday_thread_info ti = {.size = sizeof(ti)};
    assert_int_equal(mayday_report_get_thread(r, 0, &ti), 0);
    assert_int_equal(ti.frame_count, pb->threads[0]->n_frames);
    assert_int_equal(ti.tid, pb->threads[0]->tid);
    mayday_frame_info fi = {.size = sizeof(fi)};
    assert_int_equal(mayday_report_get_frame(r, 0, 0, &fi), 0);
    assert_true(fi.pc == pb->threads[0]->frames[0]->pc);
    assert_int_equal(mayday_report_get_frame(r, 0, ti.frame_count, &fi),
                     MAYDAY_EINVAL);
    /* A caller with an older, shorter struct gets only its fields. */
    mayday_frame_info small;
    memset(&small, 0x5a, sizeof(small));
    small.size = offsetof(mayday_frame_info, sp);
    assert_int_equal(mayday_report_get_frame(r, 0, 0, &small), 0);
    assert_true(small.pc == fi.pc);
    assert_true(small.sp == 0x5a5a5a5a5a5a5a5aull);
    /* The encoded message decodes (protobuf-c) to the same report. */
    const void *enc;
    size_t enc_len;
    assert_int_equal(mayday_report_encoded(r, &enc, &enc_len), 0);
    Mayday__Report *back = mayday__report__unpack(NULL, enc_len, enc);
    assert_non_null(back);
    assert_int_equal(back->n_threads, pb->n_threads);
    assert_true(back->threads[0]->frames[0]->pc ==
                pb->threads[0]->frames[0]->pc);
    mayday__report__free_unpacked(back, NULL);

    mayday_report_free(r);
    fx_free(pb);

    /* Incomplete report. */
    fx_opts o = {.incomplete = 1};
    pb = fx_build(&o);
    tc_rmtree(dir);
    free(dir);
    r = load_fixture(pb, &dir);
    info.size = sizeof(info);
    assert_int_equal(mayday_report_get_info(r, &info), 0);
    assert_int_equal(info.complete, 0);
    mayday_report_free(r);
    fx_free(pb);
    tc_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------- JSON */

static void expect_str(const jm_node *root, const char *path, const char *v)
{
    const jm_node *n = jm_path(root, path);
    if (!v) {
        if (!n || n->type != JM_NULL)
            fail_msg("%s: expected null", path);
        return;
    }
    const char *s = jm_str(n);
    if (!s || strcmp(s, v) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"", path, v, s ? s : "(none)");
}

static void expect_int(const jm_node *root, const char *path, int64_t v)
{
    int ok;
    int64_t got = jm_int(jm_path(root, path), &ok);
    if (!ok || got != v)
        fail_msg("%s: expected %" PRId64 ", got %" PRId64, path, v, got);
}

static void expect_hex(const jm_node *root, const char *path, uint64_t v)
{
    int ok;
    uint64_t got = jm_hex(jm_path(root, path), &ok);
    if (!ok || got != v)
        fail_msg("%s: expected 0x%" PRIx64 ", got 0x%" PRIx64, path, v, got);
}

static void expect_bool(const jm_node *root, const char *path, int v)
{
    const jm_node *n = jm_path(root, path);
    if (!n || n->type != JM_BOOL || n->b != !!v)
        fail_msg("%s: expected %s", path, v ? "true" : "false");
}

/* An ISO-8601 time string equal to ns (seconds part from gmtime/strftime,
 * nanoseconds from printf: independent of the formatter). */
static void expect_time(const jm_node *root, const char *path, int64_t ns)
{
    time_t sec = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char want[80], date[40];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(want, sizeof(want), "%s.%09dZ", date, (int)(ns % 1000000000));
    expect_str(root, path, want);
}

static size_t count(const jm_node *root, const char *path)
{
    const jm_node *n = jm_path(root, path);
    assert_non_null(n);
    assert_true(n->type == JM_ARR || n->type == JM_OBJ);
    return n->n;
}

static jm_node *json_of(const mayday_report *r, const mayday_format_options *o)
{
    int rc;
    char *s = tc_format(r, MAYDAY_FORMAT_JSON, o, &rc);
    if (s)
        jm_schema_collect(s, strlen(s));
    assert_int_equal(rc, 0);
    size_t err = 0;
    jm_node *root = jm_parse(s, strlen(s), &err);
    if (!root)
        fail_msg("JSON does not parse at offset %zu: ...%.60s", err,
                 s + (err > 20 ? err - 20 : 0));
    free(s);
    return root;
}

static void check_json(const Mayday__Report *pb, const jm_node *j, int tricky)
{
    char p[256], hex[200];
    expect_str(j, "format", "mayday-report");
    expect_int(j, "format_version", 1);
    snprintf(p, sizeof(p), "%" PRId64, pb->header->time_unix_ns);
    expect_str(j, "report.time_unix_ns", p);
    expect_bool(j, "report.live", 0);
    expect_bool(j, "report.complete", 1);
    assert_int_equal(count(j, "report.incomplete"), 0);
    expect_str(j, "report.reporter_version", pb->header->reporter_version);
    expect_str(j, "report.handler", "exception_thread");
    expect_int(j, "report.handoff_ns", (int64_t)pb->header->handoff_ns);
    expect_str(j, "app.id", pb->app->id);
    expect_str(j, "app.version", pb->app->version);
    expect_int(j, "process.pid", pb->process->pid);
    expect_int(j, "process.ppid", pb->process->ppid);
    expect_str(j, "process.name", pb->process->name);
    expect_str(j, "process.path", pb->process->path);
    assert_int_equal(count(j, "process.argv"), pb->process->n_argv);
    for (size_t i = 0; i < pb->process->n_argv; i++) {
        snprintf(p, sizeof(p), "process.argv.%zu", i);
        expect_str(j, p, pb->process->argv[i]);
    }
    expect_int(j, "process.uid", pb->process->uid);
    expect_int(j, "process.euid", pb->process->euid);
    expect_int(j, "process.gid", pb->process->gid);
    expect_str(j, "process.cwd", pb->process->cwd);
    expect_int(j, "process.tracer_pid", 0);
    expect_time(j, "process.start_time", pb->process->start_time_unix_ns);
    expect_str(j, "system.os", pb->system->os);
    expect_str(j, "system.release", pb->system->release);
    expect_str(j, "system.version", pb->system->version);
    expect_str(j, "system.machine", pb->system->machine);
    expect_str(j, "system.hostname", pb->system->hostname);
    expect_str(j, "system.libc", pb->system->libc);
    expect_str(j, "system.boot_id", pb->system->boot_id);
    expect_int(j, "system.uptime_ms", (int64_t)pb->system->uptime_ms);
    expect_int(j, "system.cpu_count", pb->system->cpu_count);
    expect_int(j, "system.memory_total_bytes",
               (int64_t)pb->system->memory_total_bytes);
    expect_int(j, "system.page_size", pb->system->page_size);
    expect_int(j, "signal.number", SIGSEGV);
    expect_str(j, "signal.name", "SIGSEGV");
    expect_int(j, "signal.code", pb->signal->code);
    expect_str(j, "signal.code_name", "SEGV_MAPERR");
    expect_hex(j, "signal.address", pb->signal->address);
    if (tricky) {
        expect_int(j, "signal.errno", -7);
        expect_int(j, "signal.sender_pid", 4242);
        expect_int(j, "signal.sender_uid", 1000);
        expect_int(j, "signal.syscall", 59);
    } else {
        expect_int(j, "signal.errno", 0);
        expect_str(j, "signal.sender_pid", NULL);
        expect_str(j, "signal.syscall", NULL);
    }
    expect_str(j, "cause", "null_dereference");
    expect_int(j, "crashed_thread", pb->crashed_thread);
    if (tricky)
        expect_str(
            j, "abort_message",
            "assert \"x != NULL\" failed\n\tat \\path\x01\x1f end " FFFD FFFD
            " bad \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5 " FFFD FFFD
                FFFD " \x7f");
    else
        expect_str(j, "abort_message", pb->abort_message);

    assert_int_equal(count(j, "threads"), pb->n_threads);
    for (size_t ti = 0; ti < pb->n_threads; ti++) {
        const Mayday__Thread *t = pb->threads[ti];
        snprintf(p, sizeof(p), "threads.%zu.tid", ti);
        expect_int(j, p, t->tid);
        snprintf(p, sizeof(p), "threads.%zu.name", ti);
        expect_str(j, p, tricky && ti == 1 ? "w" FFFD "rk\ter" : t->name);
        snprintf(p, sizeof(p), "threads.%zu.crashed", ti);
        expect_bool(j, p, t->crashed);
        snprintf(p, sizeof(p), "threads.%zu.state", ti);
        expect_str(j, p,
                   ti == 0   ? "crashed"
                   : ti == 1 ? "suspended"
                             : "not_suspended");
        snprintf(p, sizeof(p), "threads.%zu.note", ti);
        expect_str(j, p, t->note);
        snprintf(p, sizeof(p), "threads.%zu.registers", ti);
        assert_int_equal(count(j, p), t->n_registers);
        for (size_t i = 0; i < t->n_registers; i++) {
            snprintf(p, sizeof(p), "threads.%zu.registers.%s", ti,
                     pb->register_names[i]);
            expect_hex(j, p, t->registers[i]);
        }
        snprintf(p, sizeof(p), "threads.%zu.frames", ti);
        assert_int_equal(count(j, p), t->n_frames);
        for (size_t fi = 0; fi < t->n_frames; fi++) {
            const Mayday__Frame *f = t->frames[fi];
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.pc", ti, fi);
            expect_hex(j, p, f->pc);
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.sp", ti, fi);
            expect_hex(j, p, f->sp);
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.index", ti, fi);
            expect_int(j, p, (int64_t)fi);
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.trust", ti, fi);
            static const char *const tn[] = {"unknown",       "context",
                                             "cfi",           "frame_pointer",
                                             "stack_pointer", "scan"};
            expect_str(j, p, tn[f->trust]);
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.image", ti, fi);
            if (f->has_image)
                expect_int(j, p, f->image);
            else
                expect_str(j, p, NULL);
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.symbol", ti, fi);
            expect_str(j, p, NULL);
            snprintf(p, sizeof(p), "threads.%zu.frames.%zu.inlined", ti, fi);
            expect_bool(j, p, 0);
        }
    }
    assert_int_equal(count(j, "images"), pb->n_images);
    for (size_t i = 0; i < pb->n_images; i++) {
        const Mayday__Image *m = pb->images[i];
        snprintf(p, sizeof(p), "images.%zu.path", i);
        expect_str(j, p, m->path);
        snprintf(p, sizeof(p), "images.%zu.base", i);
        expect_hex(j, p, m->address);
        snprintf(p, sizeof(p), "images.%zu.size", i);
        expect_hex(j, p, m->size);
        snprintf(p, sizeof(p), "images.%zu.load_bias", i);
        expect_hex(j, p, m->load_bias);
        snprintf(p, sizeof(p), "images.%zu.main_program", i);
        expect_bool(j, p, m->main_program);
        snprintf(p, sizeof(p), "images.%zu.vdso", i);
        expect_bool(j, p, m->vdso);
        snprintf(p, sizeof(p), "images.%zu.build_id", i);
        if (m->has_build_id) {
            for (size_t k = 0; k < m->build_id.len; k++)
                sprintf(hex + 2 * k, "%02x", m->build_id.data[k]);
            expect_str(j, p, hex);
        } else {
            expect_str(j, p, NULL);
        }
        snprintf(p, sizeof(p), "images.%zu.segments", i);
        assert_int_equal(count(j, p), m->n_segments);
        for (size_t s = 0; s < m->n_segments; s++) {
            snprintf(p, sizeof(p), "images.%zu.segments.%zu.address", i, s);
            expect_hex(j, p, m->segments[s]->address);
            snprintf(p, sizeof(p), "images.%zu.segments.%zu.file_offset", i, s);
            expect_hex(j, p, m->segments[s]->file_offset);
            snprintf(p, sizeof(p), "images.%zu.segments.%zu.size", i, s);
            expect_hex(j, p, m->segments[s]->size);
            uint32_t fl = m->segments[s]->flags;
            char want[4] = {fl & PF_R ? 'r' : '-', fl & PF_W ? 'w' : '-',
                            fl & PF_X ? 'x' : '-', 0};
            snprintf(p, sizeof(p), "images.%zu.segments.%zu.flags", i, s);
            expect_str(j, p, want);
        }
    }
    const jm_node *an = jm_get(j, "annotations");
    assert_non_null(an);
    assert_int_equal(an->n, pb->n_annotations);
    for (size_t i = 0; i < pb->n_annotations; i++) {
        assert_string_equal(an->keys[i], pb->annotations[i]->key);
        const char *v = pb->annotations[i]->value;
        if (tricky && strcmp(v, fx_tricky_value) == 0)
            v = "value with \\ and " FFFD "( and \x1b[31m";
        assert_string_equal(jm_str(an->kids[i]), v);
    }
    assert_int_equal(count(j, "breadcrumbs"), pb->n_breadcrumbs);
    for (size_t i = 0; i < pb->n_breadcrumbs; i++) {
        snprintf(p, sizeof(p), "breadcrumbs.%zu.message", i);
        expect_str(j, p, pb->breadcrumbs[i]->message);
        snprintf(p, sizeof(p), "breadcrumbs.%zu.time", i);
        expect_time(j, p, pb->breadcrumbs[i]->time_unix_ns);
    }
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    for (int tricky = 0; tricky < 2; tricky++) {
        fx_opts o = {.tricky_strings = tricky};
        Mayday__Report *pb = fx_build(&o);
        char *dir;
        mayday_report *r = load_fixture(pb, &dir);
        jm_node *j = json_of(r, NULL);
        check_json(pb, j, tricky);
        /* uuid and time, from independent formatting (gmtime, printf). */
        const uint8_t *u = pb->header->uuid.data;
        char uuid[40];
        snprintf(uuid, sizeof(uuid),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
                 u[10], u[11], u[12], u[13], u[14], u[15]);
        expect_str(j, "report.uuid", uuid);
        expect_time(j, "report.time", pb->header->time_unix_ns);
        jm_free(j);
        mayday_report_free(r);
        fx_free(pb);
        tc_rmtree(dir);
        free(dir);
    }
    /* Incomplete: every reason listed. */
    fx_opts o = {.incomplete = 1};
    Mayday__Report *pb = fx_build(&o);
    char *dir;
    mayday_report *r = load_fixture(pb, &dir);
    jm_node *j = json_of(r, NULL);
    expect_bool(j, "report.complete", 0);
    assert_int_equal(count(j, "report.incomplete"), 6);
    expect_str(j, "report.incomplete.0", "truncated");
    expect_str(j, "report.incomplete.5", "frames_capped");
    jm_free(j);
    mayday_report_free(r);
    fx_free(pb);
    tc_rmtree(dir);
    free(dir);
}

/* The crash-time writer puts the header in two messages, the stop's part
 * last (report_put.c): a reader must merge them. The second part is
 * packed as a report of its own and appended (protobuf concatenation). */
static void test_header_parts(void **state)
{
    (void)state;
    Mayday__Report *pb = fx_build(NULL);
    pb->header->has_handoff_ns = 0;
    Mayday__Header tail = MAYDAY__HEADER__INIT;
    tail.has_handoff_ns = 1;
    tail.handoff_ns = 777;
    tail.has_suspend_ns = 1;
    tail.suspend_ns = 4242;
    tail.has_stop_method = 1;
    tail.stop_method = MAYDAY__STOP_METHOD__STOP_METHOD_SIGNAL;
    tail.stop_note = "ptrace unavailable (errno 1)";
    Mayday__Report second = MAYDAY__REPORT__INIT;
    second.header = &tail;
    size_t n1, n2 = mayday__report__get_packed_size(&second);
    unsigned char *first = fx_frame(pb, &n1);
    unsigned char *buf = malloc(n1 + n2);
    assert_non_null(buf);
    memcpy(buf, first, n1);
    mayday__report__pack(&second, buf + n1);
    size_t n = n1 - MDS_FILE_HEADER_LEN + n2;
    uint32_t crc = (uint32_t)crc32(0L, buf + MDS_FILE_HEADER_LEN, (uInt)n);
    for (int i = 0; i < 4; i++) {
        buf[8 + i] = (unsigned char)(n >> (8 * i));
        buf[12 + i] = (unsigned char)(crc >> (8 * i));
    }
    char *dir = tc_mkdtemp("reader");
    char path[4200];
    snprintf(path, sizeof(path), "%s/r.mayday", dir);
    assert_int_equal(fx_write_file(path, buf, n1 + n2), 0);
    mayday_report *r = NULL;
    assert_int_equal(mayday_report_load(path, &r), 0);
    jm_node *j = json_of(r, NULL);
    char t[32];
    snprintf(t, sizeof(t), "%" PRId64, pb->header->time_unix_ns);
    expect_str(j, "report.time_unix_ns", t); /* from the first part */
    expect_str(j, "report.reporter_version", pb->header->reporter_version);
    expect_str(j, "report.handler", "exception_thread");
    expect_int(j, "report.handoff_ns", 777); /* from the second */
    expect_int(j, "report.suspend_ns", 4242);
    expect_str(j, "report.stop_method", "signal");
    expect_str(j, "report.stop_note", "ptrace unavailable (errno 1)");
    expect_str(j, "app.id", pb->app->id); /* the rest is untouched */
    jm_free(j);
    mayday_report_free(r);
    free(buf);
    free(first);
    fx_free(pb);
    tc_rmtree(dir);
    free(dir);
}

static void test_live(void **state)
{
    (void)state;
    fx_opts o = {.live = 1};
    Mayday__Report *pb = fx_build(&o);
    char *dir;
    mayday_report *r = load_fixture(pb, &dir);
    mayday_report_info info;
    info.size = sizeof(info);
    assert_int_equal(mayday_report_get_info(r, &info), 0);
    assert_int_equal(info.live, 1);
    assert_int_equal(info.signo, 0);
    assert_string_equal(info.signal_name, "");
    assert_string_equal(info.cause, "");
    assert_int_equal(info.crashed_thread, -1);
    jm_node *j = json_of(r, NULL);
    expect_bool(j, "report.live", 1);
    expect_str(j, "report.reason", "user asked for it");
    expect_str(j, "report.handler", "live");
    assert_int_equal(jm_get(j, "signal")->type, JM_NULL);
    assert_int_equal(jm_get(j, "crashed_thread")->type, JM_NULL);
    assert_int_equal(jm_get(j, "cause")->type, JM_NULL);
    expect_str(j, "threads.0.state", "current");
    jm_free(j);
    int rc;
    char *s = tc_format(r, MAYDAY_FORMAT_TEXT, NULL, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(s, "Live report:    user asked for it"));
    assert_null(strstr(s, "Signal:"));
    assert_null(strstr(s, "Crashed:"));
    free(s);
    mayday_report_free(r);
    fx_free(pb);
    tc_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------- text */

static void test_text(void **state)
{
    (void)state;
    fx_opts o = {.tricky_strings = 1};
    Mayday__Report *pb = fx_build(&o);
    char *dir;
    mayday_report *r = load_fixture(pb, &dir);
    int rc;
    char *s = tc_format(r, MAYDAY_FORMAT_TEXT, NULL, &rc);
    assert_int_equal(rc, 0);
    char want[512];
    assert_non_null(strstr(s, "SIGSEGV (SEGV_MAPERR) at 0x0000000000000010"));
    assert_non_null(strstr(s, "null dereference"));
    assert_non_null(strstr(s, "com.example.demo 1.2.3"));
    snprintf(want, sizeof(want), "reader_test [%d]", getpid());
    assert_non_null(strstr(s, want));
    assert_non_null(strstr(s, "Crashed: Thread 0"));
    /* The crashed thread comes before the others, with registers. */
    char *crashed = strstr(s, "Crashed: Thread 0");
    char *t1 = strstr(s, "\nThread 1");
    assert_non_null(t1);
    assert_true(crashed < t1);
    assert_non_null(strstr(s, "Registers of thread 0"));
    for (size_t fi = 0; fi < pb->threads[0]->n_frames; fi++) {
        snprintf(want, sizeof(want), "#%02zu 0x%016" PRIx64, fi,
                 pb->threads[0]->frames[fi]->pc);
        assert_non_null(strstr(s, want));
    }
    for (size_t i = 0; i < pb->n_images; i++) {
        if (!pb->images[i]->has_build_id)
            continue;
        char hex[200];
        for (size_t k = 0; k < pb->images[i]->build_id.len; k++)
            sprintf(hex + 2 * k, "%02x", pb->images[i]->build_id.data[k]);
        assert_non_null(strstr(s, hex));
    }
    /* No raw control characters besides newlines reach the terminal. */
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\n')
            fail_msg("raw control byte 0x%02x in text output", *c);
    assert_non_null(strstr(s, "\\x1b[31m"));
    free(s);
    mayday_report_free(r);
    fx_free(pb);
    tc_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------- symbolicator hook */

static int fake_symbolize(void *ud, const mayday_report *r, uint32_t image,
                          uint64_t pc, int context, mayday_symbol *out,
                          size_t max)
{
    (void)r;
    (void)image;
    int *calls = ud;
    (*calls)++;
    assert_true(max >= 2);
    assert_int_equal(out[0].size, sizeof(mayday_symbol));
    if (!context)
        return 0;
    out[0].function = "inner_inlined";
    out[0].file = "/src/inner.h";
    out[0].line = 7;
    out[1].function = "outer_fn";
    out[1].offset = pc & 0xff;
    out[1].file = "/src/outer.c";
    out[1].line = 42;
    return 2;
}

static const char *fake_note(void *ud, const mayday_report *r, uint32_t i)
{
    (void)ud;
    (void)r;
    return i == 0 ? "symbols from test" : NULL;
}

static void test_symbolicator_hook(void **state)
{
    (void)state;
    Mayday__Report *pb = fx_build(NULL);
    char *dir;
    mayday_report *r = load_fixture(pb, &dir);
    int calls = 0;
    mayday_format_options o;
    mayday_format_options_init(&o);
    assert_int_equal(o.size, sizeof(o));
    o.symbolize = fake_symbolize;
    o.image_note = fake_note;
    o.user_data = &calls;
    jm_node *j = json_of(r, &o);
    assert_true(calls > 0);
    /* Frame 0 of thread 0 (a context frame) became two entries. */
    size_t nf = pb->threads[0]->n_frames;
    assert_int_equal(count(j, "threads.0.frames"), nf + 1);
    expect_str(j, "threads.0.frames.0.symbol", "inner_inlined");
    expect_bool(j, "threads.0.frames.0.inlined", 1);
    expect_int(j, "threads.0.frames.0.line", 7);
    expect_str(j, "threads.0.frames.1.symbol", "outer_fn");
    expect_bool(j, "threads.0.frames.1.inlined", 0);
    expect_int(j, "threads.0.frames.1.index", 0);
    expect_hex(j, "threads.0.frames.1.offset",
               pb->threads[0]->frames[0]->pc & 0xff);
    expect_str(j, "threads.0.frames.1.file", "/src/outer.c");
    expect_int(j, "threads.0.frames.2.index", 1);
    expect_str(j, "threads.0.frames.2.symbol", NULL);
    expect_str(j, "images.0.symbols_note", "symbols from test");
    jm_free(j);
    int rc;
    char *s = tc_format(r, MAYDAY_FORMAT_TEXT, &o, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(s, "inner_inlined (inner.h:7) [inlined]"));
    char want[128];
    snprintf(want, sizeof(want), "outer_fn+0x%" PRIx64 " (outer.c:42)",
             pb->threads[0]->frames[0]->pc & 0xff);
    assert_non_null(strstr(s, want));
    assert_non_null(strstr(s, "(symbols from test)"));
    free(s);
    /* A caller with an older, smaller options struct: no callbacks. */
    o.size = offsetof(mayday_format_options, symbolize);
    calls = 0;
    s = tc_format(r, MAYDAY_FORMAT_TEXT, &o, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(calls, 0);
    free(s);
    s = tc_format(r, (mayday_format)7, NULL, &rc);
    assert_int_equal(rc, MAYDAY_EINVAL);
    free(s);
    mayday_report_free(r);
    fx_free(pb);
    tc_rmtree(dir);
    free(dir);
}

/* Every JSON output of this program against docs/report.schema.json. */
static void test_json_schema(void **state)
{
    (void)state;
    assert_int_equal(jm_schema_validate(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_header_parts),
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_symbolicator_hook),
        cmocka_unit_test(test_json_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
