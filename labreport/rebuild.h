/* labreport report DIR: every Markdown and chart under DIR again, from
 * the JSON alone. A matrix folder: each run's .md and report.md with its
 * charts (from report.json). Any other folder (results/): each run's .md,
 * every matrix folder in it, and its index, README.md. What was there is
 * replaced (atomically); nothing of the output depends on when it is
 * made, so a rebuild of unchanged JSON gives the same bytes. */
#ifndef LABREPORT_REBUILD_H
#define LABREPORT_REBUILD_H

#include <stddef.h>

/* Returns how many things could not be rebuilt, each reported on stderr
 * as it happens (0: all done), or -1 when dir cannot be read (err). */
int lr_rebuild(const char *dir, char *err, size_t err_len);

#endif
