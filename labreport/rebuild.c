#include "rebuild.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "files.h"
#include "index.h"
#include "jsonutil.h"
#include "labreport.h"
#include "load.h"
#include "matrix.h"
#include "runmd.h"
#include "scan.h"

static void report_failure(const char *err) { fprintf(stderr, "labreport: %s\n", err); }

/* Whether a run report's .md is ours to render again: a schema-3 report's
 * .md was rendered from its JSON by lib/run_report.c and comes back byte
 * for byte; an older report's .md was the loadgen of its day's own text,
 * from figures the JSON keeps rounded, so an archived one stays as it is
 * (one that is missing is rendered). */
static int md_is_ours(const json_t *run, const char *path)
{
    char md[PATH_MAX];
    return lr_jnum_get(run, "schema_version") >= 3 ||
           lr_path_swap_json(md, sizeof md, path, ".md") < 0 || !lr_is_file(md);
}

/* Each run report directly in dir gets its .md again; other JSON files
 * are not reports and are left alone. */
static int rebuild_runs(const char *dir, char **names, size_t count)
{
    int failures = 0, kept = 0;
    for (size_t i = 0; i < count; i++) {
        char path[PATH_MAX], err[LR_ERR_MAX];
        if (!lr_scan_is_run_name(dir, names[i]) ||
            lr_path_join(path, sizeof path, dir, names[i]) < 0)
            continue;
        json_t *json = lr_json_load(path, err, sizeof err);
        int is_run = lr_is_run_report(json), ours = is_run && md_is_ours(json, path);
        json_decref(json);
        kept += is_run && !ours;
        if (json == NULL) {
            report_failure(err);
            failures++;
        } else if (ours && lr_runmd_rebuild(path, err, sizeof err) < 0) {
            report_failure(err);
            failures++;
        }
    }
    if (kept > 0)
        fprintf(stderr, "labreport: %s: %d archived Markdown file(s) of schema 1 and 2 reports "
                "left as their loadgen wrote them\n", dir, kept);
    return failures;
}

static int rebuild_matrix_report(const char *dir)
{
    char path[PATH_MAX], err[LR_ERR_MAX];
    if (lr_path_join(path, sizeof path, dir, LR_MATRIX_FILE) < 0)
        return 1;
    if (!lr_is_file(path)) {
        fprintf(stderr, "labreport: %s: no %s yet: `labreport matrix %s` makes it\n", dir,
                LR_MATRIX_FILE, dir);
        return 1;
    }
    json_t *report = lr_json_load(path, err, sizeof err);
    int rc = report == NULL || lr_matrix_check(report, path, err, sizeof err) < 0 ||
                     lr_matrix_render(dir, report, err, sizeof err) < 0
                 ? -1
                 : 0;
    json_decref(report);
    if (rc < 0)
        report_failure(err);
    return rc < 0;
}

static int rebuild_folder(const char *dir, int is_matrix, char *err, size_t err_len)
{
    size_t count = 0;
    char **names = lr_scan_names(dir, 0, &count, err, err_len);
    if (names == NULL)
        return -1;
    int failures = rebuild_runs(dir, names, count);
    if (is_matrix) {
        failures += rebuild_matrix_report(dir);
        lr_scan_free(names, count);
        return failures;
    }
    for (size_t i = 0; i < count; i++) {
        char sub[PATH_MAX], sub_err[LR_ERR_MAX];
        if (!lr_scan_is_matrix_folder(dir, names[i]) ||
            lr_path_join(sub, sizeof sub, dir, names[i]) < 0)
            continue;
        int rc = rebuild_folder(sub, 1, sub_err, sizeof sub_err);
        if (rc < 0)
            report_failure(sub_err);
        failures += rc < 0 ? 1 : rc;
    }
    lr_scan_free(names, count);
    char index_err[LR_ERR_MAX];
    if (lr_index_write(dir, index_err, sizeof index_err) < 0) {
        report_failure(index_err);
        failures++;
    }
    return failures;
}

int lr_rebuild(const char *dir, char *err, size_t err_len)
{
    char plan[PATH_MAX], report[PATH_MAX];
    if (lr_path_join(plan, sizeof plan, dir, LR_PLAN_FILE) < 0 ||
        lr_path_join(report, sizeof report, dir, LR_MATRIX_FILE) < 0) {
        snprintf(err, err_len, "%s: path too long", dir);
        return -1;
    }
    return rebuild_folder(dir, lr_is_file(plan) || lr_is_file(report), err, err_len);
}
