/* The classic study's published figures (data/classic-study.json, copied
 * from shared/classic-study/published.json with the lab variants that
 * mirror each row): what a matrix report puts beside each variant. */
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
 * with alias, workload and variants. NULL with the reason in err. */
json_t *lr_published_load(const char *data_dir, char *err, size_t err_len);

/* The study's rows that the variant mirrors for the workload, as a new
 * array of {alias, config, rps, mean_ms, failures}; empty when none (or
 * study is NULL). NULL only when out of memory. */
json_t *lr_published_for(const json_t *study, const char *variant, const char *workload);

#endif
