#include "published.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "jsonutil.h"

/* Levels to climb from the binary's folder looking for data/. */
#define DATA_SEARCH_LEVELS 4

int lr_published_data_dir(char *out, size_t cap, char *err, size_t err_len)
{
    const char *env = getenv("LAB_DATA_DIR");
    if (env != NULL && *env != '\0') {
        int n = snprintf(out, cap, "%s", env);
        return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
    }
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) {
        snprintf(err, err_len, "readlink(/proc/self/exe): %s; set LAB_DATA_DIR",
                 n < 0 ? strerror(errno) : "empty");
        return -ENOENT;
    }
    dir[n] = '\0';
    for (int level = 0; level <= DATA_SEARCH_LEVELS; level++) {
        char *slash = strrchr(dir, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        char candidate[PATH_MAX + 64];
        snprintf(candidate, sizeof candidate, "%s/data/%s", *dir ? dir : "", LR_STUDY_FILE);
        if (lr_is_file(candidate)) {
            int w = snprintf(out, cap, "%s/data", *dir ? dir : "");
            return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : 0;
        }
    }
    snprintf(err, err_len, "no data/%s above the labreport binary; set LAB_DATA_DIR",
             LR_STUDY_FILE);
    return -ENOENT;
}

/* A row has alias, workload and variants; python (a list) and published
 * (a boolean) are optional. */
static int row_is_valid(const json_t *row)
{
    const json_t *python = json_object_get(row, "python");
    const json_t *published = json_object_get(row, "published");
    return lr_jstr_get(row, "alias") && lr_jstr_get(row, "workload") &&
           json_is_array(json_object_get(row, "variants")) &&
           (python == NULL || json_is_array(python)) &&
           (published == NULL || json_is_boolean(published));
}

int lr_published_has_figures(const json_t *row)
{
    return !json_is_false(json_object_get(row, "published")) &&
           json_is_number(json_object_get(row, "rps"));
}

json_t *lr_published_load(const char *data_dir, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (lr_path_join(path, sizeof path, data_dir, LR_STUDY_FILE) < 0) {
        snprintf(err, err_len, "%s: path too long", data_dir);
        return NULL;
    }
    json_t *study = lr_json_load(path, err, err_len);
    if (study == NULL)
        return NULL;
    const json_t *rows = json_object_get(study, "rows");
    int ok = json_is_string(json_object_get(study, "source")) && json_is_array(rows);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        if (!ok)
            break;
        ok = row_is_valid(row);
    }
    if (!ok) {
        snprintf(err, err_len, "%s: not the classic study's figures (an object with \"source\" "
                 "and \"rows\", each with alias, workload and variants, python a list and "
                 "published a boolean where given)", path);
        json_decref(study);
        return NULL;
    }
    return study;
}

int lr_published_lists(const json_t *row, const char *list, const char *variant)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(row, list), i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), variant) == 0)
            return 1;
    }
    return 0;
}

/* A copy of a field, or null when the row lacks it. */
static json_t *field(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    return v ? json_deep_copy(v) : json_null();
}

json_t *lr_published_for(const json_t *study, const char *variant, const char *workload)
{
    json_t *out = json_array();
    if (out == NULL || study == NULL)
        return out;
    int failed = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(study, "rows"), i, row) {
        const char *w = lr_jstr_get(row, "workload");
        if (w == NULL || strcmp(w, workload) != 0 || !lr_published_has_figures(row) ||
            (!lr_published_lists(row, "variants", variant) &&
             !lr_published_lists(row, "python", variant)))
            continue;
        json_t *o = json_object();
        lr_jset(o, "alias", field(row, "alias"), &failed);
        lr_jset(o, "config", field(row, "config"), &failed);
        lr_jset(o, "rps", field(row, "rps"), &failed);
        lr_jset(o, "mean_ms", field(row, "mean_ms"), &failed);
        lr_jset(o, "failures", field(row, "failures"), &failed);
        lr_jappend(out, o, &failed);
    }
    if (failed) {
        json_decref(out);
        return NULL;
    }
    return out;
}
