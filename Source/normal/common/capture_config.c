/*
 * capture_config.c - defaults and validation of the issue 11 config
 * fields (stack memory, pointer windows, capture flags, attachments).
 *
 * Context: normal.
 */
#include "mayday/mayday.h"
#include "normal/common/config.h"

#define MD_MAX_STACK_BYTES (16u << 20)
#define MD_MAX_STACK_BUDGET (256u << 20)
#define MD_MAX_WINDOW_BYTES 4096u
#define MD_MAX_ATTACH_BYTES (16u << 20)
#define MD_KNOWN_CAPTURE_FLAGS                                                 \
    (MAYDAY_CAPTURE_NO_FP | MAYDAY_CAPTURE_NO_MAPS |                           \
     MAYDAY_CAPTURE_NO_PROC_STATE)

void md_capture_config_init(mayday_config *c)
{
    c->stack_bytes = MAYDAY_DEFAULT_STACK_BYTES;
    c->crashed_stack_bytes = MAYDAY_DEFAULT_CRASHED_STACK_BYTES;
    c->stack_budget_bytes = MAYDAY_DEFAULT_STACK_BUDGET_BYTES;
    c->pointer_window_bytes = MAYDAY_DEFAULT_POINTER_WINDOW_BYTES;
    c->capture_flags = 0;
    c->attach_files = 0;
    c->attach_max_bytes = MAYDAY_DEFAULT_ATTACH_MAX_BYTES;
}

int md_capture_config_validate(const mayday_config *c)
{
    if (c->stack_bytes > MD_MAX_STACK_BYTES ||
        c->crashed_stack_bytes > MD_MAX_STACK_BYTES ||
        c->stack_budget_bytes > MD_MAX_STACK_BUDGET ||
        c->pointer_window_bytes > MD_MAX_WINDOW_BYTES ||
        (c->capture_flags & ~MD_KNOWN_CAPTURE_FLAGS) ||
        c->attach_max_bytes < 1 || c->attach_max_bytes > MD_MAX_ATTACH_BYTES)
        return MAYDAY_EINVAL;
    return 0;
}
