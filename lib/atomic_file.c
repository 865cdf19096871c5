#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int afile_fail(char *err, size_t err_len, const char *call, const char *path, int rc)
{
    snprintf(err, err_len, "%s(%s): %s", call, path, strerror(-rc));
    return rc;
}

int afile_write_all(int fd, const char *text, size_t len)
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

int afile_temp_fd(const char *path, char *tmp, size_t tmp_cap, char *err, size_t err_len)
{
    int n = snprintf(tmp, tmp_cap, "%s%sXXXXXX", path, AFILE_TEMP_INFIX);
    if (n < 0 || (size_t)n >= tmp_cap)
        return afile_fail(err, err_len, "mkstemp", path, -ENAMETOOLONG);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return afile_fail(err, err_len, "mkstemp", tmp, -errno);
    /* mkstemp makes 0600; a report is for everyone to read. */
    if (fchmod(fd, 0644) < 0) {
        int rc = -errno;
        (void)close(fd);
        (void)unlink(tmp);
        return afile_fail(err, err_len, "fchmod", tmp, rc);
    }
    return fd;
}

int afile_temp(const char *path, const char *text, int durable, char *tmp, size_t tmp_cap,
               char *err, size_t err_len)
{
    int fd = afile_temp_fd(path, tmp, tmp_cap, err, err_len);
    if (fd < 0)
        return fd;
    const char *call = "write";
    int rc = afile_write_all(fd, text, strlen(text));
    if (rc == 0 && durable && fsync(fd) < 0) {
        rc = -errno;
        call = "fsync";
    }
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
        call = "close";
    }
    if (rc < 0) {
        afile_fail(err, err_len, call, tmp, rc);
        (void)unlink(tmp);
    }
    return rc;
}

int afile_parent(const char *path, char *dir, size_t cap)
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

int afile_sync_dir(const char *dir, char *err, size_t err_len)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return afile_fail(err, err_len, "open", dir, -errno);
    int rc = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc < 0 ? afile_fail(err, err_len, "fsync", dir, rc) : 0;
}

int afile_sync_parent(const char *path, char *err, size_t err_len)
{
    char dir[PATH_MAX];
    if (afile_parent(path, dir, sizeof dir) < 0)
        return afile_fail(err, err_len, "open", path, -ENAMETOOLONG);
    return afile_sync_dir(dir, err, err_len);
}

int afile_replace(const char *path, const char *text, int durable, char *err, size_t err_len)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/')
        return afile_fail(err, err_len, "open", path, -EISDIR);
    char tmp[PATH_MAX];
    int rc = afile_temp(path, text, durable, tmp, sizeof tmp, err, err_len);
    if (rc < 0)
        return rc;
    if (rename(tmp, path) < 0) {
        rc = afile_fail(err, err_len, "rename", path, -errno);
        (void)unlink(tmp);
        return rc;
    }
    return durable ? afile_sync_parent(path, err, err_len) : 0;
}

int afile_create(const char *path, const char *text, char *err, size_t err_len)
{
    char tmp[PATH_MAX];
    int rc = afile_temp(path, text, 1, tmp, sizeof tmp, err, err_len);
    if (rc < 0)
        return rc;
    if (link(tmp, path) < 0)
        rc = afile_fail(err, err_len, "link", path, -errno);
    (void)unlink(tmp);
    return rc < 0 ? rc : afile_sync_parent(path, err, err_len);
}
