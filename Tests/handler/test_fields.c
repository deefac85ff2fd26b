/*
 * test_fields.c - the crash-time encoder's field numbers and enum values
 * (Source/crash/handler/fields.h) against the descriptors protobuf-c
 * generated from Protobuf/mayday.proto, which are the source of truth.
 *
 * Context: test program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "crash/handler/fields.h"
#include "crash/stop/stop.h"
#include "crash/walk/unwind.h"
#include "mayday.pb-c.h"
#include "mayday/mayday.h"

typedef struct {
    const ProtobufCMessageDescriptor *d;
    const char *field;
    unsigned num;
} fcase;

#define R(f, n) {&mayday__report__descriptor, f, n}
#define H(f, n) {&mayday__header__descriptor, f, n}
#define S(f, n) {&mayday__system__descriptor, f, n}
#define P(f, n) {&mayday__process__descriptor, f, n}
#define SG(f, n) {&mayday__signal__descriptor, f, n}
#define T(f, n) {&mayday__thread__descriptor, f, n}
#define I(f, n) {&mayday__image__descriptor, f, n}

static const fcase fields[] = {
    R("header", F_REPORT_HEADER), R("system", F_REPORT_SYSTEM),
    R("process", F_REPORT_PROCESS), R("app", F_REPORT_APP),
    R("signal", F_REPORT_SIGNAL), R("cause", F_REPORT_CAUSE),
    R("abort_message", F_REPORT_ABORT_MESSAGE),
    R("crashed_thread", F_REPORT_CRASHED_THREAD),
    R("threads", F_REPORT_THREADS), R("images", F_REPORT_IMAGES),
    R("annotations", F_REPORT_ANNOTATIONS),
    R("breadcrumbs", F_REPORT_BREADCRUMBS),
    R("register_names", F_REPORT_REGISTER_NAMES),
    R("truncated", F_REPORT_TRUNCATED),
    R("threads_not_suspended", F_REPORT_THREADS_NOT_SUSPENDED),
    R("threads_capped", F_REPORT_THREADS_CAPPED),
    R("images_inconsistent", F_REPORT_IMAGES_INCONSISTENT),
    R("recursive_crash", F_REPORT_RECURSIVE_CRASH),
    R("frames_capped", F_REPORT_FRAMES_CAPPED),
    R("handoff_timed_out", F_REPORT_HANDOFF_TIMED_OUT),
    R("rlimit_fsize", F_REPORT_RLIMIT_FSIZE),
    /* issue 10 */
    R("images_capped", F_REPORT_IMAGES_CAPPED),
    R("segments_capped", F_REPORT_SEGMENTS_CAPPED),
    R("image_paths_capped", F_REPORT_IMAGE_PATHS_CAPPED),
    R("argv_truncated", F_REPORT_ARGV_TRUNCATED),
    R("crashed_threads_dropped", F_REPORT_CRASHED_THREADS_DROPPED),
    R("breadcrumbs_dropped", F_REPORT_BREADCRUMBS_DROPPED),
    R("limits_hit", F_REPORT_LIMITS_HIT),
    H("uuid", F_HEADER_UUID), H("time_unix_ns", F_HEADER_TIME),
    H("reporter_version", F_HEADER_REPORTER_VERSION),
    H("live", F_HEADER_LIVE), H("reason", F_HEADER_REASON),
    H("handler", F_HEADER_HANDLER), H("handoff_ns", F_HEADER_HANDOFF_NS),
    H("suspend_ns", F_HEADER_SUSPEND_NS),
    H("stop_method", F_HEADER_STOP_METHOD),
    H("stop_note", F_HEADER_STOP_NOTE),
    S("os", F_SYSTEM_OS), S("release", F_SYSTEM_RELEASE),
    S("version", F_SYSTEM_VERSION), S("machine", F_SYSTEM_MACHINE),
    S("hostname", F_SYSTEM_HOSTNAME), S("libc", F_SYSTEM_LIBC),
    S("boot_id", F_SYSTEM_BOOT_ID), S("uptime_ms", F_SYSTEM_UPTIME_MS),
    S("cpu_count", F_SYSTEM_CPU_COUNT),
    S("memory_total_bytes", F_SYSTEM_MEMORY_TOTAL),
    S("page_size", F_SYSTEM_PAGE_SIZE),
    P("pid", F_PROCESS_PID), P("ppid", F_PROCESS_PPID),
    P("name", F_PROCESS_NAME), P("path", F_PROCESS_PATH),
    P("argv", F_PROCESS_ARGV), P("start_time_unix_ns", F_PROCESS_START_TIME),
    P("uid", F_PROCESS_UID), P("euid", F_PROCESS_EUID),
    P("gid", F_PROCESS_GID), P("cwd", F_PROCESS_CWD),
    P("tracer_pid", F_PROCESS_TRACER_PID),
    {&mayday__app__descriptor, "id", F_APP_ID},
    {&mayday__app__descriptor, "version", F_APP_VERSION},
    SG("number", F_SIGNAL_NUMBER), SG("name", F_SIGNAL_NAME),
    SG("code", F_SIGNAL_CODE), SG("code_name", F_SIGNAL_CODE_NAME),
    SG("address", F_SIGNAL_ADDRESS), SG("sender_pid", F_SIGNAL_SENDER_PID),
    SG("sender_uid", F_SIGNAL_SENDER_UID), SG("errno_value", F_SIGNAL_ERRNO),
    SG("syscall", F_SIGNAL_SYSCALL),
    T("tid", F_THREAD_TID), T("name", F_THREAD_NAME),
    T("crashed", F_THREAD_CRASHED), T("registers", F_THREAD_REGISTERS),
    T("frames", F_THREAD_FRAMES), T("state", F_THREAD_STATE),
    T("note", F_THREAD_NOTE), T("frames_capped", F_THREAD_FRAMES_CAPPED),
    T("stop_failure", F_THREAD_STOP_FAILURE),
    T("frames_omitted", F_THREAD_FRAMES_OMITTED),
    T("frames_omitted_at", F_THREAD_FRAMES_OMITTED_AT),
    {&mayday__frame__descriptor, "pc", F_FRAME_PC},
    {&mayday__frame__descriptor, "sp", F_FRAME_SP},
    {&mayday__frame__descriptor, "trust", F_FRAME_TRUST},
    {&mayday__frame__descriptor, "image", F_FRAME_IMAGE},
    I("path", F_IMAGE_PATH), I("load_bias", F_IMAGE_LOAD_BIAS),
    I("address", F_IMAGE_ADDRESS), I("size", F_IMAGE_SIZE),
    I("build_id", F_IMAGE_BUILD_ID), I("segments", F_IMAGE_SEGMENTS),
    I("main_program", F_IMAGE_MAIN_PROGRAM), I("vdso", F_IMAGE_VDSO),
    {&mayday__segment__descriptor, "address", F_SEGMENT_ADDRESS},
    {&mayday__segment__descriptor, "size", F_SEGMENT_SIZE},
    {&mayday__segment__descriptor, "flags", F_SEGMENT_FLAGS},
    {&mayday__segment__descriptor, "file_offset", F_SEGMENT_FILE_OFFSET},
    {&mayday__annotation__descriptor, "key", F_ANNOTATION_KEY},
    {&mayday__annotation__descriptor, "value", F_ANNOTATION_VALUE},
    {&mayday__breadcrumb__descriptor, "time_unix_ns", F_BREADCRUMB_TIME},
    {&mayday__breadcrumb__descriptor, "message", F_BREADCRUMB_MESSAGE},
    /* issue 12 */
    R("failure", F_REPORT_FAILURE),
    {&mayday__failure__descriptor, "kind", F_FAILURE_KIND},
    {&mayday__failure__descriptor, "message", F_FAILURE_MESSAGE},
    {&mayday__failure__descriptor, "message_truncated",
     F_FAILURE_MESSAGE_TRUNCATED},
    {&mayday__failure__descriptor, "exception", F_FAILURE_EXCEPTION},
    {&mayday__failure__descriptor, "hang", F_FAILURE_HANG},
    {&mayday__cxx_exception__descriptor, "type", F_CXX_TYPE},
    {&mayday__cxx_exception__descriptor, "reason", F_CXX_REASON},
    {&mayday__cxx_exception__descriptor, "throw_pc", F_CXX_THROW_PC},
    {&mayday__cxx_exception__descriptor, "std_exception", F_CXX_STD_EXCEPTION},
    {&mayday__hang__descriptor, "tid", F_HANG_TID},
    {&mayday__hang__descriptor, "name", F_HANG_NAME},
    {&mayday__hang__descriptor, "silent_ns", F_HANG_SILENT_NS},
    {&mayday__hang__descriptor, "deadline_ns", F_HANG_DEADLINE_NS},
    {&mayday__hang__descriptor, "action", F_HANG_ACTION},
    {&mayday__hang__descriptor, "signal", F_HANG_SIGNAL},
    {&mayday__hang__descriptor, "watch", F_HANG_WATCH},
    /* --- issue 11: report contents --- */
    R("mappings", F_REPORT_MAPPINGS), R("attachments", F_REPORT_ATTACHMENTS),
    R("mappings_capped", F_REPORT_MAPPINGS_CAPPED),
    R("stack_budget_exhausted", F_REPORT_STACK_BUDGET_EXHAUSTED),
    T("stack", F_THREAD_STACK), T("stack_limit", F_THREAD_STACK_LIMIT),
    T("fp", F_THREAD_FP), T("syscall", F_THREAD_SYSCALL),
    T("syscall_args", F_THREAD_SYSCALL_ARGS),
    T("proc_state", F_THREAD_PROC_STATE),
    T("mayday_thread", F_THREAD_MAYDAY_THREAD), T("memory", F_THREAD_MEMORY),
    {&mayday__memory__descriptor, "address", F_MEMORY_ADDRESS},
    {&mayday__memory__descriptor, "data", F_MEMORY_DATA},
    {&mayday__memory__descriptor, "labels", F_MEMORY_LABELS},
    {&mayday__fp_state__descriptor, "format", F_FP_FORMAT},
    {&mayday__fp_state__descriptor, "data", F_FP_DATA},
    {&mayday__fp_state__descriptor, "xsave_offsets", F_FP_XSAVE_OFFSETS},
    {&mayday__fp_state__descriptor, "xsave_sizes", F_FP_XSAVE_SIZES},
    {&mayday__mapping__descriptor, "start", F_MAPPING_START},
    {&mayday__mapping__descriptor, "size", F_MAPPING_SIZE},
    {&mayday__mapping__descriptor, "flags", F_MAPPING_FLAGS},
    {&mayday__mapping__descriptor, "offset", F_MAPPING_OFFSET},
    {&mayday__mapping__descriptor, "dev_major", F_MAPPING_DEV_MAJOR},
    {&mayday__mapping__descriptor, "dev_minor", F_MAPPING_DEV_MINOR},
    {&mayday__mapping__descriptor, "inode", F_MAPPING_INODE},
    {&mayday__mapping__descriptor, "path", F_MAPPING_PATH},
    {&mayday__attachment__descriptor, "name", F_ATTACHMENT_NAME},
    {&mayday__attachment__descriptor, "kind", F_ATTACHMENT_KIND},
    {&mayday__attachment__descriptor, "path", F_ATTACHMENT_PATH},
    {&mayday__attachment__descriptor, "size", F_ATTACHMENT_SIZE},
    {&mayday__attachment__descriptor, "offset", F_ATTACHMENT_OFFSET},
    {&mayday__attachment__descriptor, "data", F_ATTACHMENT_DATA},
    {&mayday__attachment__descriptor, "error", F_ATTACHMENT_ERROR},
};

static void field_numbers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(fields[i].d,
                                                            fields[i].field);
        if (!f)
            fail_msg("%s.%s missing from the schema", fields[i].d->name,
                     fields[i].field);
        if (f->id != fields[i].num)
            fail_msg("%s.%s is %u in the schema, %u in fields.h",
                     fields[i].d->name, fields[i].field, f->id,
                     fields[i].num);
    }
}

/* Every field of the schema that the encoder writes is listed above: a
 * new field without a constant here is caught. */
static void schema_fully_covered(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *ds[] = {
        &mayday__report__descriptor, &mayday__header__descriptor,
        &mayday__system__descriptor, &mayday__process__descriptor,
        &mayday__signal__descriptor, &mayday__thread__descriptor,
        &mayday__image__descriptor, &mayday__frame__descriptor,
        &mayday__failure__descriptor, &mayday__cxx_exception__descriptor,
        &mayday__hang__descriptor,
        /* issue 11 */
        &mayday__memory__descriptor, &mayday__fp_state__descriptor,
        &mayday__mapping__descriptor, &mayday__attachment__descriptor};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        for (unsigned j = 0; j < ds[k]->n_fields; j++) {
            int found = 0;
            for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
                found |= fields[i].d == ds[k] &&
                         !strcmp(fields[i].field, ds[k]->fields[j].name);
            if (!found)
                fail_msg("%s.%s has no constant in fields.h", ds[k]->name,
                         ds[k]->fields[j].name);
        }
    }
}

static int enum_value(const ProtobufCEnumDescriptor *d, const char *name)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    return v ? v->value : -1;
}

/* issue 12: FailureKind, TerminateReason (also the public
 * MAYDAY_TERMINATE_* values), HangAction. */
static void failure_enum_values(void)
{
    static const struct {
        const char *name;
        int v;
    } fk[] = {{"FAILURE_ABORT", MDS_FAIL_ABORT},
              {"FAILURE_ASSERT", MDS_FAIL_ASSERT},
              {"FAILURE_MALLOC_CHECK", MDS_FAIL_MALLOC_CHECK},
              {"FAILURE_FORTIFY", MDS_FAIL_FORTIFY},
              {"FAILURE_STACK_PROTECTOR", MDS_FAIL_STACK_PROTECTOR},
              {"FAILURE_LIBC_FATAL", MDS_FAIL_LIBC_FATAL},
              {"FAILURE_TRAP", MDS_FAIL_TRAP},
              {"FAILURE_CXX_TERMINATE", MDS_FAIL_CXX_TERMINATE},
              {"FAILURE_FATAL", MDS_FAIL_FATAL},
              {"FAILURE_HANG", MDS_FAIL_HANG}},
      tr[] = {{"TERMINATE_UNCAUGHT", MDS_TERM_UNCAUGHT},
              {"TERMINATE_UNCAUGHT_RETHROW", MDS_TERM_UNCAUGHT_RETHROW},
              {"TERMINATE_NOEXCEPT", MDS_TERM_NOEXCEPT},
              {"TERMINATE_DURING_UNWINDING", MDS_TERM_DURING_UNWINDING},
              {"TERMINATE_RETHROW_NO_EXCEPTION",
               MDS_TERM_RETHROW_NO_EXCEPTION},
              {"TERMINATE_PURE_VIRTUAL", MDS_TERM_PURE_VIRTUAL},
              {"TERMINATE_CALLED", MDS_TERM_CALLED}};
    for (size_t i = 0; i < sizeof fk / sizeof fk[0]; i++)
        assert_int_equal(enum_value(&mayday__failure_kind__descriptor,
                                    fk[i].name),
                         fk[i].v);
    for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++)
        assert_int_equal(enum_value(&mayday__terminate_reason__descriptor,
                                    tr[i].name),
                         tr[i].v);
    assert_int_equal(MDS_FAIL_ABORT, MAYDAY__FAILURE_KIND__FAILURE_ABORT);
    assert_int_equal(MAYDAY_TERMINATE_UNCAUGHT, MDS_TERM_UNCAUGHT);
    assert_int_equal(MAYDAY_TERMINATE_UNCAUGHT_RETHROW,
                     MDS_TERM_UNCAUGHT_RETHROW);
    assert_int_equal(MAYDAY_TERMINATE_NOEXCEPT, MDS_TERM_NOEXCEPT);
    assert_int_equal(MAYDAY_TERMINATE_DURING_UNWINDING,
                     MDS_TERM_DURING_UNWINDING);
    assert_int_equal(MAYDAY_TERMINATE_RETHROW_NO_EXCEPTION,
                     MDS_TERM_RETHROW_NO_EXCEPTION);
    assert_int_equal(MAYDAY_TERMINATE_PURE_VIRTUAL, MDS_TERM_PURE_VIRTUAL);
    assert_int_equal(MAYDAY_TERMINATE_CALLED, MDS_TERM_CALLED);
    const ProtobufCEnumDescriptor *ha = &mayday__hang_action__descriptor;
    assert_int_equal(enum_value(ha, "HANG_ACTION_CONTINUE"), MDS_HANG_CONTINUE);
    assert_int_equal(enum_value(ha, "HANG_ACTION_END"), MDS_HANG_END);
}

static void enum_values(void **state)
{
    (void)state;
    const ProtobufCEnumDescriptor *c = &mayday__cause__descriptor;
    assert_int_equal(enum_value(c, "CAUSE_NULL_DEREFERENCE"), MDS_CAUSE_NULL_DEREFERENCE);
    assert_int_equal(enum_value(c, "CAUSE_STACK_OVERFLOW"), MDS_CAUSE_STACK_OVERFLOW);
    assert_int_equal(enum_value(c, "CAUSE_EXEC_NON_EXECUTABLE"), MDS_CAUSE_EXEC_NON_EXECUTABLE);
    assert_int_equal(enum_value(c, "CAUSE_CALL_THROUGH_NULL"), MDS_CAUSE_CALL_THROUGH_NULL);
    assert_int_equal(enum_value(c, "CAUSE_BAD_ACCESS"), MDS_CAUSE_BAD_ACCESS);
    assert_int_equal(enum_value(c, "CAUSE_ABORT"), MDS_CAUSE_ABORT);
    assert_int_equal(enum_value(c, "CAUSE_ASSERT"), MDS_CAUSE_ASSERT);
    assert_int_equal(enum_value(c, "CAUSE_ILLEGAL_INSTRUCTION"), MDS_CAUSE_ILLEGAL_INSTRUCTION);
    assert_int_equal(enum_value(c, "CAUSE_DIVIDE_BY_ZERO"), MDS_CAUSE_DIVIDE_BY_ZERO);
    assert_int_equal(enum_value(c, "CAUSE_ARITHMETIC"), MDS_CAUSE_ARITHMETIC);
    assert_int_equal(enum_value(c, "CAUSE_BREAKPOINT"), MDS_CAUSE_BREAKPOINT);
    assert_int_equal(enum_value(c, "CAUSE_BAD_SYSCALL"), MDS_CAUSE_BAD_SYSCALL);
    assert_int_equal(enum_value(c, "CAUSE_BUS_ERROR"), MDS_CAUSE_BUS_ERROR);
    assert_int_equal(enum_value(c, "CAUSE_SENT_BY_PROCESS"), MDS_CAUSE_SENT_BY_PROCESS);
    const ProtobufCEnumDescriptor *t = &mayday__thread_state__descriptor;
    assert_int_equal(enum_value(t, "THREAD_STATE_SUSPENDED"), MDS_TS_SUSPENDED);
    assert_int_equal(enum_value(t, "THREAD_STATE_CRASHED"), MDS_TS_CRASHED);
    assert_int_equal(enum_value(t, "THREAD_STATE_NOT_SUSPENDED"), MDS_TS_NOT_SUSPENDED);
    assert_int_equal(enum_value(t, "THREAD_STATE_REPORTER"), MDS_TS_REPORTER);
    assert_int_equal(enum_value(t, "THREAD_STATE_CURRENT"), MDS_TS_CURRENT);
    const ProtobufCEnumDescriptor *h = &mayday__handler__descriptor;
    assert_int_equal(enum_value(h, "HANDLER_EXCEPTION_THREAD"), MDS_HANDLER_EXCEPTION_THREAD);
    assert_int_equal(enum_value(h, "HANDLER_SIGNAL"), MDS_HANDLER_SIGNAL);
    assert_int_equal(enum_value(h, "HANDLER_LIVE"), MDS_HANDLER_LIVE);
    const ProtobufCEnumDescriptor *sm = &mayday__stop_method__descriptor;
    assert_int_equal(enum_value(sm, "STOP_METHOD_PTRACE"), MDS_STOP_PTRACE);
    assert_int_equal(enum_value(sm, "STOP_METHOD_SIGNAL"), MDS_STOP_SIGNAL);
    assert_int_equal(enum_value(sm, "STOP_METHOD_NONE"), MDS_STOP_PROC);
    const ProtobufCEnumDescriptor *sf = &mayday__stop_failure__descriptor;
    assert_int_equal(enum_value(sf, "STOP_FAILURE_TIMEOUT"), MDS_WHY_TIMEOUT);
    assert_int_equal(enum_value(sf, "STOP_FAILURE_TRACED"), MDS_WHY_TRACED);
    assert_int_equal(enum_value(sf, "STOP_FAILURE_SIGNAL_BLOCKED"), MDS_WHY_BLOCKED);
    assert_int_equal(enum_value(sf, "STOP_FAILURE_NO_METHOD"), MDS_WHY_NO_METHOD);
    assert_int_equal(enum_value(sf, "STOP_FAILURE_EXITED"), MDS_WHY_EXITED);
    const ProtobufCEnumDescriptor *tr = &mayday__trust__descriptor;
    assert_int_equal(enum_value(tr, "TRUST_CONTEXT"), MDS_TRUST_CONTEXT);
    assert_int_equal(enum_value(tr, "TRUST_CFI"), MDS_TRUST_CFI);
    assert_int_equal(enum_value(tr, "TRUST_FRAME_POINTER"), MDS_TRUST_FRAME_POINTER);
    assert_int_equal(enum_value(tr, "TRUST_STACK_POINTER"), MDS_TRUST_STACK_POINTER);
    assert_int_equal(enum_value(tr, "TRUST_SCAN"), MDS_TRUST_SCAN);
    failure_enum_values();
    assert_int_equal(enum_value(tr, "TRUST_LINK_REGISTER"), MDS_TRUST_LINK_REGISTER);
    /* issue 11 */
    const ProtobufCEnumDescriptor *sl = &mayday__stack_limit__descriptor;
    assert_int_equal(enum_value(sl, "STACK_LIMIT_NONE"), MDS_STACK_LIMIT_NONE);
    assert_int_equal(enum_value(sl, "STACK_LIMIT_THREAD_CAP"), MDS_STACK_LIMIT_THREAD_CAP);
    assert_int_equal(enum_value(sl, "STACK_LIMIT_BUDGET"), MDS_STACK_LIMIT_BUDGET);
    assert_int_equal(enum_value(sl, "STACK_LIMIT_REPORT_SIZE"), MDS_STACK_LIMIT_REPORT_SIZE);
    assert_int_equal(enum_value(sl, "STACK_LIMIT_UNREADABLE"), MDS_STACK_LIMIT_UNREADABLE);
    const ProtobufCEnumDescriptor *ff = &mayday__fp_format__descriptor;
    assert_int_equal(enum_value(ff, "FP_FORMAT_FXSAVE"), MDS_FP_FORMAT_FXSAVE);
    assert_int_equal(enum_value(ff, "FP_FORMAT_XSAVE"), MDS_FP_FORMAT_XSAVE);
    assert_int_equal(enum_value(ff, "FP_FORMAT_AARCH64_FPSIMD"), MDS_FP_FORMAT_AARCH64_FPSIMD);
    const ProtobufCEnumDescriptor *ak = &mayday__attachment_kind__descriptor;
    assert_int_equal(enum_value(ak, "ATTACHMENT_KIND_FILE"), MDS_ATTACHMENT_FILE);
    assert_int_equal(enum_value(ak, "ATTACHMENT_KIND_MEMORY"), MDS_ATTACHMENT_MEMORY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(field_numbers),
        cmocka_unit_test(schema_fully_covered),
        cmocka_unit_test(enum_values),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
