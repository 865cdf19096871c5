/* What a results folder holds: its entries by name, which of them are
 * matrix folders (plan.json or report.json inside) and which may be a
 * single run's report (*.json, not .server.json, plan.json, report.json
 * or a temporary file). */
#ifndef LABREPORT_SCAN_H
#define LABREPORT_SCAN_H

#include <stddef.h>

/* dir's entry names but dot files, sorted by strcmp, ascending (newest
 * last: names begin with the UTC time); newest_first reverses it. NULL
 * with the reason in err. Free with lr_scan_free. */
char **lr_scan_names(const char *dir, int newest_first, size_t *count, char *err,
                     size_t err_len);
void lr_scan_free(char **names, size_t count);

int lr_scan_is_matrix_folder(const char *dir, const char *name);
int lr_scan_is_run_name(const char *dir, const char *name);

#endif
