#include "process.h"

#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

int process_raise_nofile(rlim_t *limit)
{
    struct rlimit lim;
    *limit = 0;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
        return -errno;
    *limit = lim.rlim_cur;
    if (lim.rlim_cur >= lim.rlim_max)
        return 0;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
        return -errno;
    *limit = lim.rlim_cur;
    return 0;
}

int process_die_with_parent(pid_t parent, int sig)
{
    if (prctl(PR_SET_PDEATHSIG, sig) < 0)
        return -errno;
    /* A parent that died before prctl sent nothing: the child has been
     * handed to another process already. */
    return getppid() == parent ? 0 : -ESRCH;
}
