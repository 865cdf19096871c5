/* index DIR: DIR/README.md, the list of what DIR archives, newest first:
 * matrix folders (date, workload, mode, variants, a link to report.md)
 * and single run reports (date, variant, workload, mode, rps, of
 * ceiling, failures). Its order is the names' (they start with the UTC
 * start), and it says nothing of when it was made, so that the same
 * folder always gives the same file. */
#ifndef LABREPORT_INDEX_H
#define LABREPORT_INDEX_H

#include <stddef.h>

#define LR_INDEX_FILE "README.md"

/* The index's text (malloc'd), or NULL with the reason in err. A file
 * that is not a readable report is left out with a warning on stderr. */
char *lr_index_markdown(const char *dir, char *err, size_t err_len);

/* Write dir/README.md. Returns 0 or -1 with the reason in err. */
int lr_index_write(const char *dir, char *err, size_t err_len);

#endif
