/* Files: JSON in, and paths. Text goes out through lib/atomic_file.h
 * (a temporary file, then a rename, or a link that never replaces: a
 * run's .md is never overwritten), as loadgen's reports do. */
#ifndef LABREPORT_FILES_H
#define LABREPORT_FILES_H

#include <jansson.h>
#include <stddef.h>

/* Parse path as JSON; NULL with "path: reason" (or "path:LINE:COL:
 * reason") in err. */
json_t *lr_json_load(const char *path, char *err, size_t err_len);

/* dir/name into out; -ENAMETOOLONG when it does not fit. */
int lr_path_join(char *out, size_t cap, const char *dir, const char *name);
/* path with its final ".json" replaced by suffix (".md", ".server.json");
 * -EINVAL when path does not end in ".json". */
int lr_path_swap_json(char *out, size_t cap, const char *path, const char *suffix);

int lr_is_dir(const char *path);
int lr_is_file(const char *path);

#endif
