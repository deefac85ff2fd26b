/*
 * staller.c - holds mayday's ptrace helper off the CPU, as a busy machine
 * or a virtual CPU the host did not run does (mode "stall-helper").
 *
 * Context: test program (a child of the scenario runner).
 *
 * The staller listens to the kernel's process events (the netlink proc
 * connector, CAP_NET_ADMIN). The first process the runner forks is the
 * crasher; the first process (not thread) that a thread other than its
 * main thread creates is the helper, cloned by the exception thread when
 * the crash report begins. The staller stops it with
 * SIGSTOP, usually before it seized any thread, and lets it go on after
 * STALL_MS, longer than suspend_timeout_ms (200 ms): a budget counted
 * from the reporter's start would be used up before the helper could
 * stop anyone. The crasher runs on CPU 0 and the staller, at a real-time
 * priority, on CPU 1, so that the helper does not run before the staller
 * sees it (the reporter keeps CPU 0 while it writes).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "staller.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STALL_MS 300

static int listen_proc_events(void)
{
    int sk = socket(PF_NETLINK, SOCK_DGRAM, NETLINK_CONNECTOR);
    if (sk < 0)
        return -1;
    struct sockaddr_nl a = {.nl_family = AF_NETLINK,
                            .nl_groups = CN_IDX_PROC,
                            .nl_pid = (uint32_t)getpid()};
    if (bind(sk, (struct sockaddr *)&a, sizeof a) < 0) {
        close(sk);
        return -1;
    }
    struct __attribute__((packed)) {
        struct nlmsghdr nl;
        struct cn_msg cn;
        enum proc_cn_mcast_op op;
    } m;
    memset(&m, 0, sizeof m);
    m.nl.nlmsg_len = sizeof m;
    m.nl.nlmsg_type = NLMSG_DONE;
    m.nl.nlmsg_pid = (uint32_t)getpid();
    m.cn.id.idx = CN_IDX_PROC;
    m.cn.id.val = CN_VAL_PROC;
    m.cn.len = sizeof m.op;
    m.op = PROC_CN_MCAST_LISTEN;
    if (send(sk, &m, sizeof m, 0) != (ssize_t)sizeof m) {
        close(sk);
        return -1;
    }
    return sk;
}

static void pin(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(pid, sizeof set, &set);
}

/* The staller's life: writes 'c' to tell once it caught the helper,
 * and exits after the stall. Killed by the runner otherwise. */
static void stall(int sk, pid_t runner, int tell)
{
    pid_t crasher = 0;
    char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    for (;;) {
        /* Spins: an idle virtual CPU takes hundreds of microseconds to
         * wake, and by then the helper has stopped everyone. */
        ssize_t n = recv(sk, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            continue;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
             h = NLMSG_NEXT(h, n)) {
            struct cn_msg *cn = NLMSG_DATA(h);
            /* The event follows a 20-byte cn_msg: copied out, since it
             * needs 8-byte alignment (UBSan). */
            struct proc_event e;
            size_t len = cn->len < sizeof e ? cn->len : sizeof e;
            memset(&e, 0, sizeof e);
            memcpy(&e, cn->data, len);
            struct proc_event *ev = &e;
            if (ev->what != PROC_EVENT_FORK)
                continue;
            pid_t parent = ev->event_data.fork.parent_tgid;
            pid_t child = ev->event_data.fork.child_pid;
            if (child != ev->event_data.fork.child_tgid)
                continue; /* a thread */
            if (!crasher && parent == runner) {
                crasher = child;
            } else if (crasher && parent == crasher &&
                       ev->event_data.fork.parent_pid != crasher) {
                /* Cloned by a thread other than main: the exception
                 * thread's helper, not install's (inject.c). */
                kill(child, SIGSTOP);
                if (write(tell, "c", 1) != 1)
                    _exit(1);
                struct timespec d = {0, STALL_MS * 1000000L};
                nanosleep(&d, 0);
                kill(child, SIGCONT);
                _exit(0);
            }
        }
    }
}

static cpu_set_t runner_cpus;
static int tell_fd = -1;

pid_t mdt_staller_start(void)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
        sched_getaffinity(0, sizeof runner_cpus, &runner_cpus) < 0)
        return -1;
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t runner = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        alarm(30); /* never outlive the test */
        pin(0, 1);
        struct sched_param p = {.sched_priority = 10};
        sched_setscheduler(0, SCHED_FIFO, &p);
        int sk = listen_proc_events();
        char c = sk >= 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || sk < 0)
            _exit(1);
        stall(sk, runner, ready[1]);
    }
    close(ready[1]);
    char c = 'n';
    if (pid < 0 || read(ready[0], &c, 1) != 1 || c != 'y') {
        close(ready[0]);
        if (pid > 0)
            waitpid(pid, 0, 0);
        return -1;
    }
    tell_fd = ready[0];
    pin(0, 0); /* the crasher inherits it */
    return pid;
}

int mdt_staller_stop(pid_t pid)
{
    sched_setaffinity(0, sizeof runner_cpus, &runner_cpus);
    kill(pid, SIGKILL);
    waitpid(pid, 0, 0);
    /* The staller has exited or is killed: a 'c' is in the pipe or not. */
    char c = 0;
    int caught = read(tell_fd, &c, 1) == 1 && c == 'c';
    close(tell_fd);
    tell_fd = -1;
    return caught;
}
