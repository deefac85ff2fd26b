/*
 * clone.c - mds_clone(): a new task running a function on a given stack
 * (see sys.h). glibc's clone() would do, but it is a libc entry point
 * (PLT, lazy binding) and the crash path calls none.
 *
 * Context: async-signal-safe. The child starts on its own stack with no
 * libc set up for it (with CLONE_VM it shares our memory and TLS pointer):
 * it must only run crash-path code, and it ends with a raw exit.
 */
#include "sys.h"

#include "poison.h"

#if defined(__x86_64__)
/* rdi flags, rsi stack_top, rdx ctid, rcx fn, r8 arg.
 * clone(flags, newsp, parent_tid, child_tid, tls): rdi, rsi, rdx, r10, r8.
 * ctid serves as parent_tid too (CLONE_PARENT_SETTID). fn and arg ride
 * on the child's stack; the child pops them. */
__asm__(".text\n"
        ".globl mds__clone_raw\n"
        ".hidden mds__clone_raw\n"
        ".type mds__clone_raw,@function\n"
        "mds__clone_raw:\n"
        "  andq $-16, %rsi\n"
        "  subq $16, %rsi\n"
        "  movq %rcx, 0(%rsi)\n"
        "  movq %r8, 8(%rsi)\n"
        "  movq %rdx, %r10\n"
        "  xorl %r8d, %r8d\n"
        "  movl $56, %eax\n" /* SYS_clone */
        "  syscall\n"
        "  testq %rax, %rax\n"
        "  jnz 1f\n"
        "  xorl %ebp, %ebp\n" /* the child: outermost frame */
        "  popq %rax\n"
        "  popq %rdi\n"
        "  callq *%rax\n"
        "  movl %eax, %edi\n"
        "  movl $60, %eax\n" /* SYS_exit: this task only */
        "  syscall\n"
        "  hlt\n"
        "1: ret\n"
        ".size mds__clone_raw, .-mds__clone_raw\n");
#elif defined(__aarch64__)
/* x0 flags, x1 stack_top, x2 ctid, x3 fn, x4 arg.
 * clone(flags, newsp, parent_tid, tls, child_tid): x0, x1, x2, x3, x4;
 * ctid serves as parent_tid too (CLONE_PARENT_SETTID). */
__asm__(".text\n"
        ".globl mds__clone_raw\n"
        ".hidden mds__clone_raw\n"
        ".type mds__clone_raw,%function\n"
        "mds__clone_raw:\n"
        "  and x1, x1, #-16\n"
        "  stp x3, x4, [x1, #-16]!\n"
        "  mov x5, x2\n"   /* ctid */
        "  mov x3, xzr\n"  /* tls */
        "  mov x4, x5\n"   /* child_tid */
        "  mov x8, #220\n" /* SYS_clone */
        "  svc #0\n"
        "  cbnz x0, 1f\n"
        "  mov x29, xzr\n"
        "  mov x30, xzr\n"
        "  ldp x1, x0, [sp], #16\n"
        "  blr x1\n"
        "  mov x8, #93\n" /* SYS_exit */
        "  svc #0\n"
        "  brk #0\n"
        "1: ret\n"
        ".size mds__clone_raw, .-mds__clone_raw\n");
#endif

long mds__clone_raw(unsigned long flags, void *stack_top,
                    volatile uint32_t *ctid, int (*fn)(void *), void *arg);

long mds_clone(unsigned long flags, void *stack_top, volatile uint32_t *ctid,
               int (*fn)(void *), void *arg)
{
    return mds__clone_raw(flags, stack_top, ctid, fn, arg);
}
