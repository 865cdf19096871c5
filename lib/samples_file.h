/* The samples file (docs/REPORT.md, "The samples file"): every request of
 * a run as one CSV row, gzip'd, so that runs can be merged exactly later
 * (all samples, never averaged percentiles) and read by any tool:
 *
 *     # loadgen samples 1
 *     # variant=event-loop            <- "# key=value" metadata, any number
 *     planned_ns,sent_ns,latency_ns,bucket,status,warmup
 *     0,15234,1002345678,ok,200,0
 *     10000000,,,late,0,0             <- late: never sent, no send nor latency
 *
 * Integers in ns since the run's start; latency_ns = end_ns - sent_ns for
 * every sent request whatever its bucket; bucket by lab_bucket_name;
 * warmup 0 or 1. A file is written once and never replaced (link(2), as
 * lib/atomic_file.c's create). Calls return 0 or -errno and put "call(path):
 * reason" or, for bad content, "path:line: what is wrong" in err. */
#ifndef LAB_SAMPLES_FILE_H
#define LAB_SAMPLES_FILE_H

#include <stddef.h>

#include "sample.h"

#define SAMPLES_FILE_VERSION 1
#define SAMPLES_FILE_MAGIC "# loadgen samples 1"
#define SAMPLES_FILE_COLUMNS "planned_ns,sent_ns,latency_ns,bucket,status,warmup"
/* The longest line the reader takes (a metadata value, say a command line). */
#define SAMPLES_FILE_LINE_MAX 65536

/* A row read; a non-zero return stops the read, which returns it. */
typedef int (*samples_file_row_cb)(const lab_sample_t *row, void *arg);
/* A "# key=value" line, in file order, before any row; same return rule. */
typedef int (*samples_file_meta_cb)(const char *key, const char *value, void *arg);

/* Before any load: -EEXIST when path exists (it would not be replaced),
 * -errno when its folder cannot take a new file, else 0. */
int samples_file_check_target(const char *path, char *err, size_t err_len);

/* rows[0..n) with meta ("key=value" strings, NULL-terminated; NULL for
 * none; key of [A-Za-z0-9_.-], value without a line break) as path: to a
 * temporary file beside it, fsync'd, then linked to path, so that a reader
 * never sees half a file and an existing file is never replaced
 * (-EEXIST). A row the reader would refuse (bucket out of range, warmup
 * not 0/1, a late row with a send or a sent one without, end before send)
 * is -EINVAL and nothing is written. */
int samples_file_write(const char *path, const char *const *meta, const lab_sample_t *rows,
                       size_t n, char *err, size_t err_len);

/* Reads path (gzip'd; a plain, gunzip'd copy reads too): meta_cb for each
 * metadata line, then row_cb for each row (late rows: sent_ns and end_ns
 * -1); either may be NULL. The header, every line and the gzip stream are
 * checked: bad or truncated input is -EINVAL with "path:line: what". */
int samples_file_read(const char *path, samples_file_row_cb row_cb, samples_file_meta_cb meta_cb,
                      void *arg, char *err, size_t err_len);

#endif
