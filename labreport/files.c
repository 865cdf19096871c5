#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
