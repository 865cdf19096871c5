#include "samples.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "labreport.h"
#include "percentile.h"
#include "samples_file.h"

/* loadgen's percentiles (loadgen/stats.c lg_percentiles), in per mille so
 * that 99.9 is exact. */
static const struct {
    const char *label;
    unsigned per_mille;
} percentiles[] = {
    {"50", 500}, {"60", 600}, {"70", 700}, {"80", 800},     {"90", 900},
    {"95", 950}, {"99", 990}, {"99.9", 999}, {"100", 1000},
};
#define PERCENTILE_COUNT (sizeof percentiles / sizeof percentiles[0])
#define INITIAL_CAP 4096

void lr_samples_init(lr_samples_t *s) { memset(s, 0, sizeof *s); }

void lr_samples_free(lr_samples_t *s)
{
    free(s->corrected_ns);
    free(s->uncorrected_ns);
    lr_samples_init(s);
}

static int grow(lr_samples_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : INITIAL_CAP;
    int64_t *c = realloc(s->corrected_ns, cap * sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    s->corrected_ns = c;
    int64_t *u = realloc(s->uncorrected_ns, cap * sizeof *u);
    if (u == NULL)
        return -ENOMEM;
    s->uncorrected_ns = u;
    s->cap = cap;
    return 0;
}

static int add_row(const lab_sample_t *row, void *arg)
{
    lr_samples_t *s = arg;
    s->rows++;
    if (row->warmup) {
        s->warmup++;
        return 0;
    }
    s->buckets[row->bucket]++;
    if (!lab_sample_is_response(row))
        return 0;
    if (s->responses == s->cap && grow(s) < 0)
        return -ENOMEM;
    s->corrected_ns[s->responses] = lab_sample_corrected_ns(row);
    s->uncorrected_ns[s->responses] = lab_sample_uncorrected_ns(row);
    s->responses++;
    return 0;
}

int lr_samples_add(lr_samples_t *s, const char *path, char *err, size_t err_len)
{
    /* The counts as they were: a file that fails half way adds nothing
     * (the arrays may have grown; what lies past responses is unused). */
    lr_samples_t before = *s;
    err[0] = '\0';
    int rc = samples_file_read(path, add_row, NULL, s, err, err_len);
    if (rc == 0) {
        s->files++;
        return 0;
    }
    if (err[0] == '\0')
        snprintf(err, err_len, "%s: %s", path, strerror(rc < 0 ? -rc : EIO));
    before.corrected_ns = s->corrected_ns;
    before.uncorrected_ns = s->uncorrected_ns;
    before.cap = s->cap;
    *s = before;
    return rc < 0 ? rc : -EIO;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void lr_samples_sort(lr_samples_t *s)
{
    if (s->responses == 0)
        return;
    qsort(s->corrected_ns, s->responses, sizeof *s->corrected_ns, cmp_i64);
    qsort(s->uncorrected_ns, s->responses, sizeof *s->uncorrected_ns, cmp_i64);
}

int64_t lr_samples_percentile_ns(const int64_t *sorted, size_t n, unsigned per_mille)
{
    return sorted[lab_nearest_rank(n, per_mille) - 1];
}

uint64_t lr_samples_issued(const lr_samples_t *s)
{
    uint64_t sum = 0;
    for (int i = 0; i < LAB_BUCKET_COUNT; i++)
        sum += i == LAB_BUCKET_LATE ? 0 : s->buckets[i];
    return sum;
}

uint64_t lr_samples_planned(const lr_samples_t *s)
{
    return lr_samples_issued(s) + s->buckets[LAB_BUCKET_LATE];
}

/* ns as loadgen's report gives ms: rounded to 3 decimals. */
static double ms_3(int64_t ns)
{
    return round((double)ns / 1e6 * 1000) / 1000;
}

static json_t *json_percentiles(const int64_t *sorted, size_t n, int *failed)
{
    if (n == 0)
        return json_null();
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < PERCENTILE_COUNT; i++)
        lr_jset(o, percentiles[i].label,
                lr_jnum((double)lr_samples_percentile_ns(sorted, n, percentiles[i].per_mille) / 1e6,
                        3),
                failed);
    return o;
}

static json_t *json_int(uint64_t v) { return json_integer((json_int_t)v); }

json_t *lr_samples_json(const lr_samples_t *s)
{
    int failed = 0;
    json_t *root = json_object(), *buckets = json_object(), *summary = json_object();
    if (root == NULL || buckets == NULL || summary == NULL) {
        json_decref(root);
        json_decref(buckets);
        json_decref(summary);
        return NULL;
    }
    for (int i = 0; i < LAB_BUCKET_COUNT; i++)
        lr_jset(buckets, lab_bucket_name(i), json_int(s->buckets[i]), &failed);
    lr_jset(summary, "planned", json_int(lr_samples_planned(s)), &failed);
    lr_jset(summary, "issued", json_int(lr_samples_issued(s)), &failed);
    lr_jset(summary, "late", json_int(s->buckets[LAB_BUCKET_LATE]), &failed);
    lr_jset(summary, "responses", json_int(s->responses), &failed);
    lr_jset(summary, "warmup_excluded", json_int(s->warmup), &failed);
    lr_jset(root, "files", json_int(s->files), &failed);
    lr_jset(root, "rows", json_int(s->rows), &failed);
    lr_jset(root, "buckets", buckets, &failed);
    lr_jset(root, "summary", summary, &failed);
    lr_jset(root, "percentiles_ms", json_percentiles(s->corrected_ns, s->responses, &failed),
            &failed);
    lr_jset(root, "percentiles_uncorrected_ms",
            json_percentiles(s->uncorrected_ns, s->responses, &failed), &failed);
    if (failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

void lr_samples_print(const lr_samples_t *s, FILE *out)
{
    fprintf(out, "%zu file(s), %llu rows, %llu of them in the warm-up (left out)\n", s->files,
            (unsigned long long)s->rows, (unsigned long long)s->warmup);
    fprintf(out, "planned %llu = issued %llu + late %llu; responses %zu\n",
            (unsigned long long)lr_samples_planned(s), (unsigned long long)lr_samples_issued(s),
            (unsigned long long)s->buckets[LAB_BUCKET_LATE], s->responses);
    fprintf(out, "buckets:");
    for (int i = 0; i < LAB_BUCKET_COUNT; i++)
        fprintf(out, "%s %s %llu", i ? "," : "", lab_bucket_name(i),
                (unsigned long long)s->buckets[i]);
    fprintf(out, "\n");
    if (s->responses == 0) {
        fprintf(out, "no response outside the warm-up: no percentiles\n");
        return;
    }
    fprintf(out, "\n%-10s %14s %16s\n", "percentile", "corrected ms", "uncorrected ms");
    for (size_t i = 0; i < PERCENTILE_COUNT; i++) {
        unsigned pm = percentiles[i].per_mille;
        fprintf(out, "%-10s %14.3f %16.3f\n", percentiles[i].label,
                ms_3(lr_samples_percentile_ns(s->corrected_ns, s->responses, pm)),
                ms_3(lr_samples_percentile_ns(s->uncorrected_ns, s->responses, pm)));
    }
}

int lr_samples(const char *const *paths, size_t n, int json, FILE *out, char *err,
               size_t err_len)
{
    lr_samples_t s;
    lr_samples_init(&s);
    for (size_t i = 0; i < n; i++) {
        if (lr_samples_add(&s, paths[i], err, err_len) < 0) {
            lr_samples_free(&s);
            return LR_EXIT_FAIL;
        }
    }
    lr_samples_sort(&s);
    int status = LR_EXIT_OK;
    if (json) {
        json_t *j = lr_samples_json(&s);
        char *text = j != NULL ? lr_jdump(j) : NULL;
        json_decref(j);
        if (text == NULL) {
            snprintf(err, err_len, "out of memory");
            status = LR_EXIT_FAIL;
        } else {
            fputs(text, out);
        }
        free(text);
    } else {
        lr_samples_print(&s, out);
    }
    lr_samples_free(&s);
    if (status == LR_EXIT_OK && (fflush(out) == EOF || ferror(out))) {
        snprintf(err, err_len, "write(stdout): %s", strerror(errno ? errno : EIO));
        status = LR_EXIT_FAIL;
    }
    return status;
}
