/* What a lab program asks of its own process: as many open files as it
 * may have, and children that do not outlive it. The server, slowapi and
 * loadgen each did these their own way; lib/'s convention applies: 0 or
 * -errno, and the caller decides whether to log, go on or exit. */
#ifndef LAB_PROCESS_H
#define LAB_PROCESS_H

#include <sys/resource.h>
#include <sys/types.h>

/* Raise the soft open-file limit to the hard one: every connection a lab
 * program holds is a descriptor, and the usual soft limit of 1024 is far
 * below what a benchmark asks. *limit gets the soft limit in force after
 * the call (the old one when raising failed, 0 when none could be read).
 * Returns 0, or -errno of getrlimit or setrlimit. */
int process_raise_nofile(rlim_t *limit);

/* In a child just forked from parent: have the kernel send sig to it when
 * the parent dies (PR_SET_PDEATHSIG), then check that the parent has not
 * died already, between the fork and this call. Returns 0, -errno of
 * prctl, or -ESRCH when the parent is gone (the child should exit). */
int process_die_with_parent(pid_t parent, int sig);

#endif
