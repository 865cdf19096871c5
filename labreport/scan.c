#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "files.h"
#include "matrix.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_ascending(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_descending(const void *a, const void *b) { return cmp_ascending(b, a); }

void lr_scan_free(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

char **lr_scan_names(const char *dir, int newest_first, size_t *count, char *err,
                     size_t err_len)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, err_len, "opendir(%s): %s", dir, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int failed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, grown_cap * sizeof *grown);
            if (grown == NULL) {
                failed = 1;
                break;
            }
            names = grown;
            cap = grown_cap;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            failed = 1;
            break;
        }
        n++;
    }
    (void)closedir(d);
    if (!failed && names == NULL && (names = calloc(1, sizeof *names)) == NULL)
        failed = 1;
    if (failed) {
        lr_scan_free(names, n);
        snprintf(err, err_len, "%s: out of memory", dir);
        return NULL;
    }
    qsort(names, n, sizeof *names, newest_first ? cmp_descending : cmp_ascending);
    *count = n;
    return names;
}

int lr_scan_is_matrix_folder(const char *dir, const char *name)
{
    char folder[PATH_MAX], path[PATH_MAX];
    if (lr_path_join(folder, sizeof folder, dir, name) < 0 || !lr_is_dir(folder))
        return 0;
    return (lr_path_join(path, sizeof path, folder, LR_PLAN_FILE) == 0 && lr_is_file(path)) ||
           (lr_path_join(path, sizeof path, folder, LR_MATRIX_FILE) == 0 && lr_is_file(path));
}

int lr_scan_is_run_name(const char *dir, const char *name)
{
    char path[PATH_MAX];
    return ends_with(name, ".json") && !ends_with(name, ".server.json") &&
           strstr(name, AFILE_TEMP_INFIX) == NULL && strcmp(name, LR_PLAN_FILE) != 0 &&
           strcmp(name, LR_MATRIX_FILE) != 0 && lr_path_join(path, sizeof path, dir, name) == 0 &&
           lr_is_file(path);
}
