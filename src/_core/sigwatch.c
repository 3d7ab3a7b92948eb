/* SPDX-License-Identifier: MIT */
#include "sigwatch.h"

#include "sync.h"

#if defined(__linux__)
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#define TPROF_SIGWATCH 1
#else
#define TPROF_SIGWATCH 0
#endif

#define TPROF_SIGWATCH_MAX 4
#define TPROF_SIGWATCH_AGAIN_NS 100000000L /* 100 ms */

#if TPROF_SIGWATCH

/* Per signal number: CPython's handler, which ours wraps, and the timer that
 * sends the signal again to the main thread. */
static struct sigaction tprof_python_action[NSIG];
static int tprof_wrapped[NSIG];
static timer_t tprof_timer[NSIG];
static int tprof_timed[NSIG];
static int tprof_handled; /* the Python handler runs (atomic) */

static void
tprof_sigwatch_handler(int signum, siginfo_t *info, void *context)
{
    if (signum <= 0 || signum >= NSIG) {
        return;
    }
    const struct sigaction *python = &tprof_python_action[signum];
    if (python->sa_flags & SA_SIGINFO) {
        python->sa_sigaction(signum, info, context);
    }
    else if (python->sa_handler != SIG_DFL && python->sa_handler != SIG_IGN) {
        python->sa_handler(signum);
    }
    if (tprof_timed[signum] && !tprof_ld_acquire(&tprof_handled)) {
        /* async-signal-safe: again in 100 ms, unless handled by then */
        struct itimerspec again = {.it_value = {0, TPROF_SIGWATCH_AGAIN_NS}};
        timer_settime(tprof_timer[signum], 0, &again, NULL);
    }
}

static int
tprof_is_ours(const struct sigaction *act)
{
    return (act->sa_flags & SA_SIGINFO) &&
           act->sa_sigaction == tprof_sigwatch_handler;
}

/* Watch signum for the thread `tid`; -1 with errno set on failure. */
static int
tprof_sigwatch_one(int signum, pid_t tid)
{
    struct sigaction current;
    if (sigaction(signum, NULL, &current) < 0) {
        return -1;
    }
    if (!tprof_is_ours(&current)) {
        tprof_python_action[signum] = current;
        tprof_wrapped[signum] = 1;
    }
    if (tprof_timed[signum]) { /* an older one, or a dead one after fork */
        timer_delete(tprof_timer[signum]);
        tprof_timed[signum] = 0;
    }
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = signum;
#ifdef sigev_notify_thread_id
    ev.sigev_notify_thread_id = tid;
#else
    ev._sigev_un._tid = tid;
#endif
    if (timer_create(CLOCK_MONOTONIC, &ev, &tprof_timer[signum]) < 0) {
        return -1;
    }
    tprof_timed[signum] = 1;
    struct sigaction ours;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = tprof_sigwatch_handler;
    ours.sa_flags =
        SA_SIGINFO | (tprof_python_action[signum].sa_flags & SA_ONSTACK);
    ours.sa_mask = tprof_python_action[signum].sa_mask;
    return sigaction(signum, &ours, NULL);
}

/* Stop watching signum: its timer is deleted and, if ours is still its
 * handler, CPython's is put back. */
static void
tprof_sigwatch_unwatch(int signum)
{
    if (tprof_timed[signum]) {
        timer_delete(tprof_timer[signum]);
        tprof_timed[signum] = 0;
    }
    struct sigaction current;
    if (tprof_wrapped[signum] && sigaction(signum, NULL, &current) == 0 &&
        tprof_is_ours(&current))
    {
        sigaction(signum, &tprof_python_action[signum], NULL);
    }
}

#endif /* TPROF_SIGWATCH */

PyObject *
tprof_sigwatch_start(PyObject *Py_UNUSED(module), PyObject *const *args,
                     Py_ssize_t nargs)
{
    if (nargs != 1 || !PyTuple_Check(args[0]) ||
        PyTuple_GET_SIZE(args[0]) > TPROF_SIGWATCH_MAX)
    {
        PyErr_SetString(PyExc_TypeError,
                        "_sigwatch_start(signums): a tuple of at most 4 ints");
        return NULL;
    }
#if TPROF_SIGWATCH
    tprof_st_release(&tprof_handled, 0);
    pid_t tid = (pid_t)syscall(SYS_gettid);
    Py_ssize_t n = PyTuple_GET_SIZE(args[0]);
    for (Py_ssize_t i = 0; i < n; i++) {
        long signum = PyLong_AsLong(PyTuple_GET_ITEM(args[0], i));
        if (signum == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (signum < 1 || signum >= NSIG) {
            PyErr_SetString(PyExc_ValueError, "signal number out of range");
            return NULL;
        }
        if (tprof_sigwatch_one((int)signum, tid) < 0) {
            int err = errno;
            for (Py_ssize_t j = 0; j <= i; j++) {
                tprof_sigwatch_unwatch(
                    (int)PyLong_AsLong(PyTuple_GET_ITEM(args[0], j)));
            }
            errno = err;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
    }
    Py_RETURN_TRUE;
#else
    Py_RETURN_FALSE;
#endif
}

PyObject *
tprof_sigwatch_handled(PyObject *Py_UNUSED(module),
                       PyObject *Py_UNUSED(unused))
{
#if TPROF_SIGWATCH
    tprof_st_release(&tprof_handled, 1);
    struct itimerspec off = {{0, 0}, {0, 0}};
    for (int signum = 1; signum < NSIG; signum++) {
        if (tprof_timed[signum]) {
            timer_settime(tprof_timer[signum], 0, &off, NULL);
        }
    }
#endif
    Py_RETURN_NONE;
}

PyObject *
tprof_sigwatch_stop(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
#if TPROF_SIGWATCH
    for (int signum = 1; signum < NSIG; signum++) {
        if (tprof_timed[signum] || tprof_wrapped[signum]) {
            tprof_sigwatch_unwatch(signum);
        }
    }
#endif
    Py_RETURN_NONE;
}
