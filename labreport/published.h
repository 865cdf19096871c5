/* The classic study's published figures (data/classic-study.json, copied
 * from shared/classic-study/published.json with the lab's C variants that
 * mirror each row and the study's own Python deployments that run it):
 * what a matrix report puts beside each variant, and how it pairs a C
 * variant with its Python deployment. */
#ifndef LABREPORT_PUBLISHED_H
#define LABREPORT_PUBLISHED_H

#include <jansson.h>
#include <stddef.h>

#define LR_STUDY_FILE "classic-study.json"

/* The data folder: $LAB_DATA_DIR, else the first "data" folder that holds
 * classic-study.json going up from the binary's folder (build/bin ->
 * ../../data; build/san/bin and other build folders one more level up).
 * Returns 0, or -ENOENT with err saying where it looked. */
int lr_published_data_dir(char *out, size_t cap, char *err, size_t err_len);

/* Read and check the study: an object with "source" and "rows", each row
 * with alias, workload and variants (and, where given, python a list and
 * published a boolean). NULL with the reason in err. */
json_t *lr_published_load(const char *data_dir, char *err, size_t err_len);

/* The study's published rows for the workload that the variant mirrors
 * (a C variant, in "variants") or runs (a Python deployment, in
 * "python"), as a new array of {alias, config, rps, mean_ms, failures};
 * empty when none (or study is NULL). A row the study left out
 * (lr_published_has_figures 0) is never one. NULL only when out of
 * memory. */
json_t *lr_published_for(const json_t *study, const char *variant, const char *workload);

/* 1 when the study row has its published figures: not marked
 * "published": false (async-gevent-pywsgi, the row the study left out,
 * which the lab runs all the same) and with a number for rps. */
int lr_published_has_figures(const json_t *row);

/* 1 when the study row's list ("variants": the C variants that mirror
 * it; "python": the Python deployments that run it) names variant. */
int lr_published_lists(const json_t *row, const char *list, const char *variant);

#endif
