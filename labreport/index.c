#include "index.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "buf.h"
#include "files.h"
#include "format.h"
#include "jsonutil.h"
#include "labreport.h"
#include "load.h"
#include "matrix.h"
#include "scan.h"

/* A link target: characters outside a safe set percent-encoded. */
static void url_path(lr_buf_t *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/", c) != NULL)
            lr_buf_printf(b, "%c", c);
        else
            lr_buf_printf(b, "%%%02X", c);
    }
}

static void cell(lr_buf_t *b, const char *s)
{
    lr_buf_puts(b, " ");
    lr_buf_cell(b, s ? s : LR_MISSING);
    lr_buf_puts(b, " |");
}

/* The variants of a matrix: its report's rows (each once), else its
 * plan's list. */
static void variants_cell(lr_buf_t *b, const json_t *report, const json_t *plan)
{
    const json_t *list =
        report ? json_object_get(report, "rows") : json_object_get(plan, "variants");
    const char *key = report ? "variant" : "name";
    size_t i, shown = 0;
    const json_t *v;
    lr_buf_puts(b, " ");
    json_array_foreach(list, i, v) {
        const char *name = lr_jstr_get(v, key);
        int seen = name == NULL;
        for (size_t k = 0; k < i && !seen; k++) {
            const char *other = lr_jstr_get(json_array_get(list, k), key);
            seen = other != NULL && strcmp(other, name) == 0;
        }
        if (seen)
            continue;
        lr_buf_puts(b, shown++ ? ", `" : "`");
        lr_buf_cell(b, name);
        lr_buf_puts(b, "`");
    }
    lr_buf_puts(b, shown ? " |" : LR_MISSING " |");
}

static void matrix_line(lr_buf_t *b, const char *dir, const char *name)
{
    char folder[PATH_MAX], path[PATH_MAX], err[LR_ERR_MAX];
    if (lr_path_join(folder, sizeof folder, dir, name) < 0)
        return;
    json_t *report = NULL, *plan = NULL;
    if (lr_path_join(path, sizeof path, folder, LR_MATRIX_FILE) == 0 && lr_is_file(path)) {
        report = lr_json_load(path, err, sizeof err);
        if (report != NULL && lr_matrix_check(report, path, err, sizeof err) < 0) {
            json_decref(report);
            report = NULL;
        }
    }
    if (report == NULL && lr_path_join(path, sizeof path, folder, LR_PLAN_FILE) == 0)
        plan = lr_json_load(path, err, sizeof err);
    const json_t *src = report ? report : plan;
    if (src == NULL) {
        fprintf(stderr, "labreport: index: %s left out: %s\n", name, err);
        return;
    }
    lr_buf_puts(b, "|");
    cell(b, lr_jstr_get(src, "created_at"));
    cell(b, lr_jstr_get(src, "workload"));
    cell(b, lr_jstr_get(src, "mode"));
    variants_cell(b, report, plan);
    if (report != NULL) {
        lr_buf_puts(b, " [report.md](");
        url_path(b, name);
        lr_buf_puts(b, "/" LR_MATRIX_MD ") |\n");
    } else {
        lr_buf_puts(b, " no report yet (`labreport matrix`) |\n");
    }
    json_decref(report);
    json_decref(plan);
}

static void run_line(lr_buf_t *b, const char *dir, const char *name)
{
    char path[PATH_MAX], err[LR_ERR_MAX], num[LR_FMT_MAX];
    if (lr_path_join(path, sizeof path, dir, name) < 0)
        return;
    json_t *json = lr_json_load(path, err, sizeof err);
    if (json == NULL || !lr_is_run_report(json)) {
        if (json == NULL)
            fprintf(stderr, "labreport: index: %s left out: %s\n", name, err);
        json_decref(json);
        return;
    }
    lr_run_t run;
    if (lr_run_from_json(json, NULL, name, &run, err, sizeof err) < 0) {
        fprintf(stderr, "labreport: index: %s left out: %s\n", name, err);
        return;
    }
    lr_buf_puts(b, "| [");
    lr_buf_cell(b, run.started_at);
    lr_buf_puts(b, "](");
    size_t stem = strlen(name) - strlen(".json");
    char md[PATH_MAX];
    snprintf(md, sizeof md, "%.*s.md", (int)stem, name);
    url_path(b, md);
    lr_buf_puts(b, ") | `");
    lr_buf_cell(b, run.variant);
    lr_buf_puts(b, "` |");
    cell(b, run.workload);
    cell(b, run.mode);
    lr_buf_printf(b, " %ld |", run.concurrency);
    lr_buf_printf(b, " %s |", lr_fmt(num, run.rps, LR_FMT_RPS));
    lr_buf_printf(b, " %s |", lr_fmt(num, run.of_ceiling, LR_FMT_RATIO));
    lr_buf_printf(b, " %s |\n", lr_fmt(num, run.failures, LR_FMT_COUNT));
    lr_run_free(&run);
}

char *lr_index_markdown(const char *dir, char *err, size_t err_len)
{
    size_t count = 0;
    char **names = lr_scan_names(dir, 1, &count, err, err_len);
    if (names == NULL)
        return NULL;
    lr_buf_t b = LR_BUF_INIT, matrices = LR_BUF_INIT, runs = LR_BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        if (lr_scan_is_matrix_folder(dir, names[i]))
            matrix_line(&matrices, dir, names[i]);
        else if (lr_scan_is_run_name(dir, names[i]))
            run_line(&runs, dir, names[i]);
    }
    lr_scan_free(names, count);
    char *m = lr_buf_take(&matrices), *r = lr_buf_take(&runs);
    lr_buf_puts(&b, "# Results\n\n"
                    "What this folder holds, newest first: matrices (`./run.sh all`: a folder "
                    "each, with its report.md) and single runs (a JSON report and its .md). "
                    "Made by `labreport index`; `labreport report` rebuilds it with every "
                    "report.\n\n## Matrices\n\n");
    if (m != NULL && *m)
        lr_buf_printf(&b, "| date | workload | mode | variants | report |\n"
                          "|---|---|---|---|---|\n%s\n", m);
    else
        lr_buf_puts(&b, "None.\n\n");
    lr_buf_puts(&b, "## Single runs\n\n");
    if (r != NULL && *r)
        lr_buf_printf(&b, "| date | variant | workload | mode | c | rps | of ceiling | "
                          "failures |\n|---|---|---|---|---:|---:|---:|---:|\n%s", r);
    else
        lr_buf_puts(&b, "None.\n");
    if (m == NULL || r == NULL)
        b.failed = 1;
    free(m);
    free(r);
    char *text = lr_buf_take(&b);
    if (text == NULL)
        snprintf(err, err_len, "%s: out of memory", dir);
    return text;
}

int lr_index_write(const char *dir, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (lr_path_join(path, sizeof path, dir, LR_INDEX_FILE) < 0) {
        snprintf(err, err_len, "%s: path too long", dir);
        return -1;
    }
    char *text = lr_index_markdown(dir, err, err_len);
    if (text == NULL)
        return -1;
    int rc = afile_replace(path, text, 1, err, err_len);
    free(text);
    return rc < 0 ? -1 : 0;
}
