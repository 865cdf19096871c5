#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t err_len, const char *call, const char *path, int rc)
{
    snprintf(err, err_len, "%s(%s): %s", call, path, strerror(-rc));
    return rc;
}

json_t *lr_json_load(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        return NULL;
    }
    json_error_t jerr;
    json_t *json = json_load_file(path, 0, &jerr);
    if (json == NULL)
        snprintf(err, err_len, "%s:%d:%d: not valid JSON: %s", path, jerr.line, jerr.column,
                 jerr.text);
    return json;
}

/* The folder of path ("." when it has none). */
static int parent_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (slash == NULL)
        n = snprintf(dir, cap, ".");
    else if (slash == path)
        n = snprintf(dir, cap, "/");
    else
        n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int lr_temp_beside(const char *path, char *tmp, size_t tmp_cap, char *err, size_t err_len)
{
    int n = snprintf(tmp, tmp_cap, "%s%sXXXXXX", path, LR_TEMP_INFIX);
    if (n < 0 || (size_t)n >= tmp_cap)
        return fail(err, err_len, "mkstemp", path, -ENAMETOOLONG);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(err, err_len, "mkstemp", tmp, -errno);
    /* mkstemp makes 0600; a report is for everyone to read. */
    if (fchmod(fd, 0644) < 0) {
        int rc = -errno;
        (void)close(fd);
        (void)unlink(tmp);
        return fail(err, err_len, "fchmod", tmp, rc);
    }
    return fd;
}

int lr_sync_parent(const char *path, char *err, size_t err_len)
{
    char dir[PATH_MAX];
    if (parent_of(path, dir, sizeof dir) < 0)
        return fail(err, err_len, "open", path, -ENAMETOOLONG);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, err_len, "open", dir, -errno);
    int rc = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc < 0 ? fail(err, err_len, "fsync", dir, rc) : 0;
}

int lr_write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/* text into a new temporary file beside path, on disk when this returns 0. */
static int write_temp(const char *path, const char *text, char *tmp, size_t tmp_cap, char *err,
                      size_t err_len)
{
    int fd = lr_temp_beside(path, tmp, tmp_cap, err, err_len);
    if (fd < 0)
        return fd;
    const char *call = "write";
    int rc = lr_write_all(fd, text, strlen(text));
    if (rc == 0 && fsync(fd) < 0) {
        rc = -errno;
        call = "fsync";
    }
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
        call = "close";
    }
    if (rc < 0) {
        fail(err, err_len, call, tmp, rc);
        (void)unlink(tmp);
    }
    return rc;
}

int lr_write_replace(const char *path, const char *text, char *err, size_t err_len)
{
    char tmp[PATH_MAX];
    int rc = write_temp(path, text, tmp, sizeof tmp, err, err_len);
    if (rc < 0)
        return rc;
    if (rename(tmp, path) < 0) {
        rc = fail(err, err_len, "rename", path, -errno);
        (void)unlink(tmp);
        return rc;
    }
    return lr_sync_parent(path, err, err_len);
}

int lr_write_new(const char *path, const char *text, char *err, size_t err_len)
{
    char tmp[PATH_MAX];
    int rc = write_temp(path, text, tmp, sizeof tmp, err, err_len);
    if (rc < 0)
        return rc;
    /* link(2) fails with EEXIST rather than replace: the check and the
     * creation are one step, so two writers cannot both win. */
    if (link(tmp, path) < 0)
        rc = fail(err, err_len, "link", path, -errno);
    (void)unlink(tmp);
    return rc < 0 ? rc : lr_sync_parent(path, err, err_len);
}

int lr_path_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t len = strlen(dir);
    const char *sep = len > 0 && dir[len - 1] == '/' ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", dir, sep, name);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int lr_path_swap_json(char *out, size_t cap, const char *path, const char *suffix)
{
    size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 5, ".json") != 0)
        return -EINVAL;
    int n = snprintf(out, cap, "%.*s%s", (int)(len - 5), path, suffix);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int lr_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int lr_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
