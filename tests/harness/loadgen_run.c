#include "loadgen_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "harness.h"

/* Where loadgen writes the report: a temporary file, removed after, or
 * with LAB_TEST_REPORTS_DIR (tests/run.sh sets it) a file kept there, so
 * that every report the tests make is validated against schemas/. */
static int report_path(char *path, size_t cap, int *keep)
{
    const char *dir = getenv("LAB_TEST_REPORTS_DIR");
    *keep = dir != NULL && dir[0] != '\0';
    int n = snprintf(path, cap, "%s/lab-test-report-XXXXXX.json", *keep ? dir : "/tmp");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    int fd = mkstemps(path, 5);
    if (fd < 0) {
        perror("mkstemps");
        return -1;
    }
    close(fd);
    return 0;
}

json_t *loadgen_run(const char *const args[], int timeout_ms)
{
    char path[4096];
    int keep;
    if (report_path(path, sizeof path, &keep) < 0)
        return NULL;
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin_path("loadgen");
    for (size_t i = 0; args[i] != NULL && n < 60; i++)
        argv[n++] = args[i];
    argv[n++] = "--json";
    argv[n++] = path;
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        (void)unlink(path);
        return NULL;
    }
    if (pid == 0) {
        /* Die with the test (see proc_start). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
            _exit(127);
        /* The summary on stdout is for people; keep test output short. */
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int pidfd = pidfd_open(pid, 0);
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int r = pidfd < 0 ? -1 : poll(&pfd, 1, timeout_ms);
    if (pidfd >= 0)
        close(pidfd);
    if (r <= 0)
        (void)kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    json_t *report = NULL;
    if (r <= 0) {
        fprintf(stderr, "loadgen did not finish in %d ms\n", timeout_ms);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "loadgen exited with status %d\n", status);
    } else {
        json_error_t err;
        report = json_load_file(path, 0, &err);
        if (report == NULL)
            fprintf(stderr, "loadgen report %s: %s\n", path, err.text);
    }
    if (report == NULL || !keep)
        (void)unlink(path);
    return report;
}

double report_number(json_t *report, const char *key)
{
    json_t *v = json_object_get(json_object_get(report, "summary"), key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

static double sum_values(json_t *obj)
{
    double sum = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
        sum += json_number_value(v);
    return sum;
}

int report_buckets_add_up(json_t *report)
{
    json_t *s = json_object_get(report, "summary");
    double issued = report_number(report, "issued");
    double sum = report_number(report, "ok") + report_number(report, "timeouts") +
                 report_number(report, "unfinished") +
                 sum_values(json_object_get(s, "http_errors")) +
                 sum_values(json_object_get(s, "errors"));
    if (issued != sum || issued < 0) {
        fprintf(stderr, "issued %.0f != sum of buckets %.0f\n", issued, sum);
        return 0;
    }
    return 1;
}
