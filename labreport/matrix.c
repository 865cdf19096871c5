#include "matrix.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "charts.h"
#include "files.h"
#include "jsonutil.h"
#include "labreport.h"
#include "load.h"
#include "markdown.h"
#include "open_row.h"
#include "pairs.h"
#include "published.h"
#include "row.h"

/* A row being gathered: one (variant, concurrency, rate) and its repeats. */
typedef struct acc {
    const char *variant; /* these point into the plan */
    const char *model;
    const char *classic;
    const char *impl; /* lr_impl_of_program's */
    long concurrency;
    double rate; /* the points' constant offered rate; NaN: none (closed loop) */
    lr_run_t *runs;
    double *overhead_s; /* one per run */
    size_t run_count;
    size_t run_cap;
    size_t failed;
    size_t skipped;
    const char *skip_reason;
} acc_t;

typedef struct build {
    const char *dir;
    const json_t *plan;
    acc_t *rows;
    size_t row_count;
    size_t row_cap;
    json_t *skipped; /* [{index, variant, concurrency, repeat, reason}] */
    json_t *failed;
    int oom;
} build_t;

static const json_t *plan_variant(const json_t *plan, const char *name)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(plan, "variants"), i, v) {
        const char *n = lr_jstr_get(v, "name");
        if (n != NULL && strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

/* The row of (variant, concurrency, rate), made at the end when new; NULL
 * when out of memory. */
static acc_t *row_for(build_t *b, const char *variant, long concurrency, double rate)
{
    for (size_t i = 0; i < b->row_count; i++)
        if (b->rows[i].concurrency == concurrency && lr_same_rate(b->rows[i].rate, rate) &&
            strcmp(b->rows[i].variant, variant) == 0)
            return &b->rows[i];
    if (b->row_count == b->row_cap) {
        size_t cap = b->row_cap ? b->row_cap * 2 : 16;
        acc_t *rows = realloc(b->rows, cap * sizeof *rows);
        if (rows == NULL) {
            b->oom = 1;
            return NULL;
        }
        b->rows = rows;
        b->row_cap = cap;
    }
    const json_t *v = plan_variant(b->plan, variant);
    acc_t *a = &b->rows[b->row_count++];
    *a = (acc_t){.variant = variant,
                 .model = lr_jstr_get(v, "model"),
                 .classic = lr_jstr_get(v, "classic"),
                 .impl = lr_impl_of_program(lr_jstr_get(v, "program")),
                 .concurrency = concurrency,
                 .rate = rate};
    return a;
}

static int acc_add_run(acc_t *a, lr_run_t *run, double overhead_s)
{
    if (a->run_count == a->run_cap) {
        size_t cap = a->run_cap ? a->run_cap * 2 : 4;
        lr_run_t *runs = realloc(a->runs, cap * sizeof *runs);
        if (runs == NULL)
            return -ENOMEM;
        a->runs = runs;
        double *over = realloc(a->overhead_s, cap * sizeof *over);
        if (over == NULL)
            return -ENOMEM;
        a->overhead_s = over;
        a->run_cap = cap;
    }
    /* The run's pointers lead into its own JSON, so the struct may move. */
    a->runs[a->run_count] = *run;
    a->overhead_s[a->run_count] = overhead_s;
    a->run_count++;
    memset(run, 0, sizeof *run);
    return 0;
}

static void build_free(build_t *b)
{
    for (size_t i = 0; i < b->row_count; i++) {
        for (size_t k = 0; k < b->rows[i].run_count; k++)
            lr_run_free(&b->rows[i].runs[k]);
        free(b->rows[i].runs);
        free(b->rows[i].overhead_s);
    }
    free(b->rows);
    json_decref(b->skipped);
    json_decref(b->failed);
}

/* A point's or a plan's rate: a number above 0, else NaN (none). */
static double rate_of(const json_t *v)
{
    double r = json_is_number(v) ? json_number_value(v) : NAN;
    return r > 0 && isfinite(r) ? r : NAN;
}

/* The plan's rates: the sweep's, else settings.rate when it is one number
 * (run.sh --rate R: every point's), else one NaN (closed, ramp or steps). */
static json_t *plan_rates(const json_t *plan, int *oom)
{
    const json_t *sweep = json_object_get(json_object_get(plan, "sweep"), "rate");
    if (json_is_array(sweep))
        return json_incref((json_t *)sweep);
    json_t *single = json_array();
    const char *text = lr_jstr_get(json_object_get(plan, "settings"), "rate");
    char *end = NULL;
    double r = text ? strtod(text, &end) : NAN;
    if (text == NULL || end == text || *end != '\0')
        r = NAN;
    lr_jappend(single, isnan(r) ? json_null() : json_real(r), oom);
    return single;
}

/* The plan's rows in order: each variant at each of the sweep's
 * concurrency values (else settings.concurrency) and rates. */
static void plan_rows(build_t *b)
{
    const json_t *sweep = json_object_get(json_object_get(b->plan, "sweep"), "concurrency");
    json_t *single = NULL, *rates = plan_rates(b->plan, &b->oom);
    if (!json_is_array(sweep)) {
        const json_t *c = json_object_get(json_object_get(b->plan, "settings"), "concurrency");
        single = json_array();
        if (json_is_integer(c))
            lr_jappend(single, json_integer(json_integer_value(c)), &b->oom);
        sweep = single;
    }
    size_t i, j, k;
    const json_t *v, *c, *r;
    json_array_foreach(json_object_get(b->plan, "variants"), i, v) {
        const char *name = lr_jstr_get(v, "name");
        json_array_foreach(sweep, j, c) {
            json_array_foreach(rates, k, r) {
                if (name != NULL && json_is_integer(c) && json_integer_value(c) > 0 &&
                    json_integer_value(c) <= LONG_MAX)
                    (void)row_for(b, name, (long)json_integer_value(c), rate_of(r));
            }
        }
    }
    json_decref(single);
    json_decref(rates);
}

static json_t *copy_or_null(const json_t *v) { return v ? json_deep_copy(v) : json_null(); }

/* A point of the plan that has no run: into "skipped" or "failed". */
static void list_point(build_t *b, json_t *list, const json_t *point, const char *reason)
{
    int failed = 0;
    json_t *o = json_object();
    lr_jset(o, "index", copy_or_null(json_object_get(point, "index")), &failed);
    lr_jset(o, "variant", copy_or_null(json_object_get(point, "variant")), &failed);
    lr_jset(o, "concurrency", copy_or_null(json_object_get(point, "concurrency")), &failed);
    if (json_object_get(point, "rate") != NULL)
        lr_jset(o, "rate", json_deep_copy(json_object_get(point, "rate")), &failed);
    lr_jset(o, "repeat", copy_or_null(json_object_get(point, "repeat")), &failed);
    lr_jset(o, "reason", lr_jstr(reason), &failed);
    lr_jappend(list, o, &failed);
    if (failed)
        b->oom = 1;
}

static void point_failed(build_t *b, acc_t *a, const json_t *point, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void point_failed(build_t *b, acc_t *a, const json_t *point, const char *fmt, ...)
{
    char reason[LR_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    list_point(b, b->failed, point, reason);
    a->failed++;
}

/* An open loop at a constant rate cannot serve more than it is offered:
 * its ceiling is min(rate, the closed loop's at its connection limit).
 * loadgen's report says so already; this keeps a matrix right for a
 * report that does not (the rule is the matrix's too). */
static void open_loop_ceiling(lr_run_t *run, double rate)
{
    if (isnan(rate) || !(run->ceiling_rps > rate))
        return;
    run->ceiling_rps = rate;
    run->of_ceiling = run->rps / rate;
}

/* A done point: its run report, checked against the plan. */
static void point_done(build_t *b, acc_t *a, const json_t *plan_point, const json_t *result)
{
    const char *report = lr_jstr_get(result, "report");
    if (report == NULL || *report == '\0') {
        point_failed(b, a, plan_point, "done, but its point file names no report");
        return;
    }
    /* The reports list holds file names of this folder, nothing else. */
    if (strchr(report, '/') != NULL) {
        point_failed(b, a, plan_point, "its report \"%s\" is not a file name of this folder",
                     report);
        return;
    }
    char path[PATH_MAX], err[LR_ERR_MAX];
    lr_run_t run;
    if (lr_path_join(path, sizeof path, b->dir, report) < 0) {
        point_failed(b, a, plan_point, "%s: path too long", report);
        return;
    }
    if (lr_run_load(path, &run, err, sizeof err) < 0) {
        point_failed(b, a, plan_point, "%s", err);
        return;
    }
    if (strcmp(run.variant, a->variant) != 0 || run.concurrency != a->concurrency) {
        point_failed(b, a, plan_point, "%s is a run of %s at c=%ld, not of this point", report,
                     run.variant, run.concurrency);
        lr_run_free(&run);
        return;
    }
    double rate = lr_run_rate(run.json);
    if (!lr_same_rate(rate, a->rate)) {
        char shown[64] = "no constant rate";
        if (!isnan(rate))
            snprintf(shown, sizeof shown, "rate %g", rate);
        point_failed(b, a, plan_point, "%s is a run at %s, not at this point's rate", report,
                     shown);
        lr_run_free(&run);
        return;
    }
    open_loop_ceiling(&run, rate);
    double elapsed = lr_jnum_get(result, "elapsed_s");
    double warmup = isnan(run.warmup_s) ? 0 : run.warmup_s;
    double overhead = elapsed - (warmup + run.window_s); /* NaN when unknown */
    if (acc_add_run(a, &run, overhead) < 0) {
        lr_run_free(&run);
        b->oom = 1;
    }
}

static void add_point(build_t *b, const json_t *point)
{
    const char *variant = lr_jstr_get(point, "variant");
    const json_t *c = json_object_get(point, "concurrency");
    const json_t *index = json_object_get(point, "index");
    const json_t *rate = json_object_get(point, "rate");
    if (variant == NULL || !json_is_integer(c) || !json_is_integer(index) ||
        json_integer_value(index) < 0 || json_integer_value(c) <= 0 ||
        json_integer_value(c) > LONG_MAX || (rate != NULL && isnan(rate_of(rate)))) {
        list_point(b, b->failed, point, "plan.json: a point without a valid index, variant "
                                        "and concurrency (or with a rate that is not one)");
        return;
    }
    acc_t *a = row_for(b, variant, (long)json_integer_value(c), rate_of(rate));
    if (a == NULL)
        return;
    const char *status = lr_jstr_get(point, "status");
    if (status != NULL && strcmp(status, "skipped") == 0) {
        const char *reason = lr_jstr_get(point, "reason");
        list_point(b, b->skipped, point, reason);
        if (a->skipped++ == 0)
            a->skip_reason = reason;
        return;
    }
    char name[64], path[PATH_MAX], err[LR_ERR_MAX];
    snprintf(name, sizeof name, "points/%03lld", (long long)json_integer_value(index));
    if (lr_path_join(path, sizeof path, b->dir, name) < 0 ||
        strlen(path) + sizeof ".json" > sizeof path) {
        point_failed(b, a, point, "%s: path too long", name);
        return;
    }
    strcat(path, ".json");
    if (!lr_is_file(path)) {
        point_failed(b, a, point, "no %s.json: the point never ended (the matrix was "
                     "interrupted, or is still running)", name);
        return;
    }
    json_t *result = lr_json_load(path, err, sizeof err);
    const char *pstatus = lr_jstr_get(result, "status");
    if (result == NULL)
        point_failed(b, a, point, "%s", err);
    else if (pstatus != NULL && strcmp(pstatus, "done") == 0)
        point_done(b, a, point, result);
    else if (pstatus != NULL && strcmp(pstatus, "failed") == 0)
        point_failed(b, a, point, "%s", lr_jstr_get(result, "reason") ?
                     lr_jstr_get(result, "reason") : "failed (no reason given)");
    else
        point_failed(b, a, point, "%s.json: status is neither \"done\" nor \"failed\"", name);
    json_decref(result);
}

/* Mean and max of every run's overhead, for the report's last section. */
static json_t *overall_overhead(const build_t *b, int *failed)
{
    double sum = 0, max = NAN;
    size_t n = 0;
    for (size_t i = 0; i < b->row_count; i++)
        for (size_t k = 0; k < b->rows[i].run_count; k++) {
            double v = b->rows[i].overhead_s[k];
            if (isnan(v))
                continue;
            sum += v;
            max = isnan(max) || v > max ? v : max;
            n++;
        }
    json_t *o = json_object();
    lr_jset(o, "mean", lr_jnum(n ? sum / (double)n : NAN, 2), failed);
    lr_jset(o, "max", lr_jnum(max, 2), failed);
    lr_jset(o, "runs", json_integer((json_int_t)n), failed);
    return o;
}

static json_t *assemble(build_t *b, const json_t *study)
{
    int failed = 0;
    const json_t *plan = b->plan;
    const char *workload = lr_jstr_get(plan, "workload");
    json_t *rows = json_array();
    for (size_t i = 0; i < b->row_count; i++) {
        const acc_t *a = &b->rows[i];
        json_t *published = lr_published_for(study, a->variant, workload);
        lr_row_in_t in = {
            .variant = a->variant, .model = a->model, .classic = a->classic,
            .impl = a->impl, .concurrency = a->concurrency, .runs = a->runs,
            .run_count = a->run_count, .overhead_s = a->overhead_s, .failed = a->failed, .skipped = a->skipped,
            .skip_reason = a->skip_reason, .published = published,
        };
        json_t *row = published ? lr_row_json(&in) : NULL;
        if (row != NULL && lr_open_loop_row(row, a->runs, a->run_count, a->rate) < 0)
            failed = 1;
        lr_jappend(rows, row, &failed);
        json_decref(published);
    }
    json_t *r = json_object();
    lr_jset(r, "kind", json_string(LR_MATRIX_KIND), &failed);
    lr_jset(r, "schema_version", json_integer(LR_MATRIX_SCHEMA), &failed);
    lr_jset(r, "workload", json_string(workload), &failed);
    lr_jset(r, "mode", copy_or_null(json_object_get(plan, "mode")), &failed);
    /* The network (native, bridge, host): in plans since issue 12 only. */
    if (json_is_string(json_object_get(plan, "network")))
        lr_jset(r, "network", json_deep_copy(json_object_get(plan, "network")), &failed);
    lr_jset(r, "created_at", copy_or_null(json_object_get(plan, "created_at")), &failed);
    lr_jset(r, "command", copy_or_null(json_object_get(plan, "command")), &failed);
    lr_jset(r, "settings", copy_or_null(json_object_get(plan, "settings")), &failed);
    lr_jset(r, "sweep", copy_or_null(json_object_get(plan, "sweep")), &failed);
    lr_jset(r, "repeat", copy_or_null(json_object_get(plan, "repeat")), &failed);
    lr_jset(r, "published_source", lr_jstr(lr_jstr_get(study, "source")), &failed);
    lr_jset(r, "rows", rows, &failed);
    lr_jset(r, "skipped", json_incref(b->skipped), &failed);
    lr_jset(r, "failed", json_incref(b->failed), &failed);
    lr_jset(r, "overhead_s", overall_overhead(b, &failed), &failed);
    lr_jset(r, "pairs", lr_pairs_build(rows, study, workload), &failed);
    if (failed) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Whether json is one of the matrix's files: its kind, a schema version
 * from schema_min to schema, a workload, and each of the lists named
 * (NULL-terminated). Else -1 with "name: not a WHAT: problem" in err. */
static int check_file(const json_t *json, const char *kind, int schema_min, int schema,
                      const char *const lists[], const char *what, const char *name, char *err,
                      size_t err_len)
{
    const char *actual = lr_jstr_get(json, "kind");
    const json_t *version = json_object_get(json, "schema_version");
    char problem[128] = "", versions[32];
    if (schema_min == schema)
        snprintf(versions, sizeof versions, "%d", schema);
    else
        snprintf(versions, sizeof versions, "%d to %d", schema_min, schema);
    if (actual == NULL || strcmp(actual, kind) != 0)
        snprintf(problem, sizeof problem, "\"kind\" is not \"%s\"", kind);
    else if (!json_is_integer(version) || json_integer_value(version) < schema_min ||
             json_integer_value(version) > schema)
        snprintf(problem, sizeof problem, "its schema_version is not %s", versions);
    else if (lr_jstr_get(json, "workload") == NULL)
        snprintf(problem, sizeof problem, "no \"workload\"");
    for (size_t i = 0; problem[0] == '\0' && lists[i] != NULL; i++)
        if (!json_is_array(json_object_get(json, lists[i])))
            snprintf(problem, sizeof problem, "no \"%s\" list", lists[i]);
    if (problem[0] == '\0')
        return 0;
    snprintf(err, err_len, "%s: not a %s: %s", name, what, problem);
    return -1;
}

static int check_plan(const json_t *plan, const char *path, char *err, size_t err_len)
{
    static const char *const lists[] = {"variants", "points", NULL};
    return check_file(plan, LR_PLAN_KIND, LR_PLAN_SCHEMA, LR_PLAN_SCHEMA, lists, "matrix plan",
                      path, err, err_len);
}

json_t *lr_matrix_build(const char *dir, const json_t *study, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (lr_path_join(path, sizeof path, dir, LR_PLAN_FILE) < 0) {
        snprintf(err, err_len, "%s: path too long", dir);
        return NULL;
    }
    if (!lr_is_file(path)) {
        snprintf(err, err_len, "%s: no %s: not a matrix folder (run.sh all writes it before "
                 "the first run)", dir, LR_PLAN_FILE);
        return NULL;
    }
    json_t *plan = lr_json_load(path, err, err_len);
    if (plan == NULL)
        return NULL;
    if (check_plan(plan, path, err, err_len) < 0) {
        json_decref(plan);
        return NULL;
    }
    build_t b = {.dir = dir, .plan = plan, .skipped = json_array(), .failed = json_array()};
    if (b.skipped == NULL || b.failed == NULL)
        b.oom = 1;
    plan_rows(&b);
    size_t i;
    const json_t *point;
    json_array_foreach(json_object_get(plan, "points"), i, point) {
        if (b.oom)
            break;
        add_point(&b, point);
    }
    json_t *report = b.oom ? NULL : assemble(&b, study);
    if (report == NULL)
        snprintf(err, err_len, "%s: out of memory", dir);
    build_free(&b);
    json_decref(plan);
    return report;
}

int lr_matrix_check(const json_t *report, const char *name, char *err, size_t err_len)
{
    static const char *const lists[] = {"rows", NULL};
    return check_file(report, LR_MATRIX_KIND, LR_MATRIX_SCHEMA_MIN, LR_MATRIX_SCHEMA, lists,
                      "matrix report", name, err, err_len);
}

int lr_matrix_schema(const json_t *report)
{
    const json_t *version = json_object_get(report, "schema_version");
    return json_is_integer(version) && json_integer_value(version) > 0 &&
                   json_integer_value(version) <= INT_MAX
               ? (int)json_integer_value(version)
               : 0;
}

int lr_matrix_render(const char *dir, const json_t *report, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (lr_path_join(path, sizeof path, dir, LR_MATRIX_MD) < 0) {
        snprintf(err, err_len, "%s: path too long", dir);
        return -1;
    }
    char *md = lr_markdown_matrix(report);
    if (md == NULL) {
        snprintf(err, err_len, "%s: out of memory", path);
        return -1;
    }
    int rc = afile_replace(path, md, 1, err, err_len);
    free(md);
    if (rc < 0)
        return -1;
    return lr_charts_write(dir, report, err, err_len) < 0 ? -1 : 0;
}

int lr_matrix_write(const char *dir, const json_t *study, char *err, size_t err_len)
{
    json_t *report = lr_matrix_build(dir, study, err, err_len);
    if (report == NULL)
        return -1;
    char *text = lr_jdump(report);
    json_decref(report);
    char path[PATH_MAX];
    if (text == NULL || lr_path_join(path, sizeof path, dir, LR_MATRIX_FILE) < 0) {
        snprintf(err, err_len, "%s: %s", dir, text ? "path too long" : "out of memory");
        free(text);
        return -1;
    }
    int rc = afile_replace(path, text, 1, err, err_len);
    /* Render from the text as written: a rebuild reads the same numbers. */
    json_error_t jerr;
    json_t *parsed = rc < 0 ? NULL : json_loads(text, 0, &jerr);
    free(text);
    if (rc < 0)
        return -1;
    if (parsed == NULL) {
        snprintf(err, err_len, "%s: cannot parse what was written: %s", path, jerr.text);
        return -1;
    }
    rc = lr_matrix_render(dir, parsed, err, err_len);
    json_decref(parsed);
    return rc;
}
