/* samples FILE...: loadgen's samples files (lib/samples_file.h) merged
 * exactly: every row of every file, so that the percentiles are those of
 * all the requests together, never an average of each run's. The counts
 * and percentiles are over the counted set (rows outside the warm-up), as
 * in loadgen's report, and the percentiles use loadgen's rule (nearest
 * rank, loadgen/stats.c) and rounding (ms to 3 decimals), so that one
 * run's file gives back its report's figures. */
#ifndef LABREPORT_SAMPLES_H
#define LABREPORT_SAMPLES_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "sample.h"

typedef struct lr_samples {
    size_t files;
    uint64_t rows;                        /* every row read */
    uint64_t warmup;                      /* rows of the warm-up, left out */
    uint64_t buckets[LAB_BUCKET_COUNT];   /* the counted rows by bucket */
    /* The counted responses' (ok + http) latencies in ns: corrected (from
     * the planned send) and uncorrected (from the actual send); sorted by
     * lr_samples_sort. In a closed loop the two are equal. */
    int64_t *corrected_ns;
    int64_t *uncorrected_ns;
    size_t responses, cap;
} lr_samples_t;

void lr_samples_init(lr_samples_t *s);
void lr_samples_free(lr_samples_t *s);

/* Every row of the file at path into s. 0, or -errno with err set
 * ("path:line: what" for bad content); s is then as it was before. */
int lr_samples_add(lr_samples_t *s, const char *path, char *err, size_t err_len);

/* Sort the latencies; the percentiles and the output need it. */
void lr_samples_sort(lr_samples_t *s);

/* Nearest rank on sorted[0..n), n > 0: the value at index
 * ceil(per_mille / 1000 * n) - 1 (index 0 for 0), as loadgen/stats.c. */
int64_t lr_samples_percentile_ns(const int64_t *sorted, size_t n, unsigned per_mille);

/* Planned (issued + late), issued (sent: every bucket but late) and
 * responses, over the counted rows. */
uint64_t lr_samples_planned(const lr_samples_t *s);
uint64_t lr_samples_issued(const lr_samples_t *s);

/* {"files", "rows", "buckets": {name: n}, "summary": {"planned", "issued",
 * "late", "responses", "warmup_excluded"}, "percentiles_ms": {"50": ms, ...}
 * | null, "percentiles_uncorrected_ms": same}: the keys of loadgen's
 * report. NULL when out of memory. Needs lr_samples_sort first. */
json_t *lr_samples_json(const lr_samples_t *s);

/* The same as text. Needs lr_samples_sort first. */
void lr_samples_print(const lr_samples_t *s, FILE *out);

/* The command: read paths[0..n), print text or JSON to out. Returns the
 * exit status (LR_EXIT_OK, or LR_EXIT_FAIL with err set). */
int lr_samples(const char *const *paths, size_t n, int json, FILE *out, char *err,
               size_t err_len);

#endif
