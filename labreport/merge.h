/* merge OUT.json REPORT.json...: one run report from several loadgens'
 * reports of one run (run.sh --swarm --load-nodes N: each loadgen a share
 * of the clients, started together). The counts are summed, and the
 * latencies come from every request of every loadgen, read from their
 * samples files (samples.h), never from an average of their percentiles;
 * each loadgen's own figures are kept in "instances". What cannot be
 * merged exactly without more than the samples (the per-second series, the
 * steps, the percentile spectrum) is left null: each loadgen's report has
 * its own. */
#ifndef LABREPORT_MERGE_H
#define LABREPORT_MERGE_H

#include <jansson.h>
#include <stddef.h>

/* The merged report of the reports at paths[0..n) (parsed in reports[]),
 * their samples files read from each report's samples.path (relative to
 * its folder). NULL with err set when a report has no samples file, the
 * reports are not of one run (variant, workload, protocol, load), or out
 * of memory. */
json_t *lr_merge_reports(const char *const *paths, json_t *const *reports, size_t n, char *err,
                         size_t err_len);

/* The command: merge paths[0..n) into out_path, written durably and never
 * replacing a file. Returns the exit status (0, or 1 with err set). */
int lr_merge(const char *out_path, const char *const *paths, size_t n, char *err,
             size_t err_len);

#endif
