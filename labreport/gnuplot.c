#include "gnuplot.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "files.h"

extern char **environ;

#define GNUPLOT "gnuplot"

int lr_gnuplot_found(void)
{
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char candidate[PATH_MAX];
        /* An empty entry means the current folder. */
        int n = len ? snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, path, GNUPLOT)
                    : snprintf(candidate, sizeof candidate, "./%s", GNUPLOT);
        if (n > 0 && (size_t)n < sizeof candidate && access(candidate, X_OK) == 0)
            return 1;
        path += len + (end != NULL);
    }
    return 0;
}

/* gnuplot's environment: ours, but with LC_ALL=C (a '.' in every number,
 * whatever the locale) and a HOME without files, as gnuplot would load
 * ~/.gnuplot first and a user's settings would change the chart. */
static char **gnuplot_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = malloc((n + 3) * sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LC_ALL=", 7) != 0 && strncmp(environ[i], "HOME=", 5) != 0)
            env[k++] = environ[i];
    env[k++] = (char *)"LC_ALL=C";
    env[k++] = (char *)"HOME=/nonexistent";
    env[k] = NULL;
    return env;
}

/* gnuplot SCRIPT with its stdout on out_fd; 0 when it exited 0. */
static int run_gnuplot(const char *script, int out_fd, char *err, size_t err_len)
{
    char **env = gnuplot_env();
    posix_spawn_file_actions_t actions;
    if (env == NULL || posix_spawn_file_actions_init(&actions) != 0) {
        free(env);
        snprintf(err, err_len, "gnuplot: out of memory");
        return -1;
    }
    char *argv[] = {(char *)GNUPLOT, (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    if (rc == 0)
        rc = posix_spawnp(&pid, GNUPLOT, &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    free(env);
    if (rc != 0) {
        snprintf(err, err_len, "posix_spawnp(%s): %s", GNUPLOT, strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, err_len, "waitpid(%s): %s", GNUPLOT, strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    snprintf(err, err_len, "%s %s: %s %d (its messages are above)", GNUPLOT, script,
             WIFEXITED(status) ? "exit status" : "killed by signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return -1;
}

/* The script to a temporary file beside path; its name in tmp. */
static int write_script(const char *path, const char *script, char *tmp, size_t cap, char *err,
                        size_t err_len)
{
    int fd = afile_temp_fd(path, tmp, cap, err, err_len);
    if (fd < 0)
        return -1;
    int rc = afile_write_all(fd, script, strlen(script));
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        snprintf(err, err_len, "write(%s): %s", tmp, strerror(-rc));
        (void)unlink(tmp);
        return -1;
    }
    return 0;
}

int lr_gnuplot_draw(const char *path, const char *script, char *err, size_t err_len)
{
    char script_tmp[PATH_MAX], svg_tmp[PATH_MAX];
    if (write_script(path, script, script_tmp, sizeof script_tmp, err, err_len) < 0)
        return -1;
    int fd = afile_temp_fd(path, svg_tmp, sizeof svg_tmp, err, err_len);
    int rc = fd < 0 ? -1 : run_gnuplot(script_tmp, fd, err, err_len);
    (void)unlink(script_tmp);
    if (fd < 0)
        return -1;
    if (rc == 0 && fsync(fd) < 0) {
        snprintf(err, err_len, "fsync(%s): %s", svg_tmp, strerror(errno));
        rc = -1;
    }
    if (close(fd) < 0 && rc == 0) {
        snprintf(err, err_len, "close(%s): %s", svg_tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(svg_tmp, path) < 0) {
        snprintf(err, err_len, "rename(%s): %s", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        (void)unlink(svg_tmp);
    return rc;
}

void lr_gnuplot_string(lr_buf_t *b, const char *s)
{
    lr_buf_puts(b, "\"");
    for (; *s; s++) {
        char c[3] = {*s, '\0', '\0'};
        if (*s == '"' || *s == '\\') {
            c[0] = '\\';
            c[1] = *s;
        } else if ((unsigned char)*s < 0x20) {
            c[0] = ' ';
        }
        lr_buf_puts(b, c);
    }
    lr_buf_puts(b, "\"");
}

void lr_gnuplot_num(lr_buf_t *b, double v)
{
    if (isfinite(v))
        lr_buf_printf(b, " %.6g", v);
    else
        lr_buf_puts(b, " NaN");
}

void lr_gnuplot_svg_terminal(lr_buf_t *b, int width, int height)
{
    lr_buf_printf(b, "set terminal svg size %d,%d dynamic font \"sans,10\" background "
                     "rgb \"white\"\n", width, height);
    lr_buf_puts(b, "set termoption noenhanced\nset decimalsign '.'\n"
                   "set datafile missing \"NaN\"\n");
}
