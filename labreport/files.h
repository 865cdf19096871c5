/* Files: JSON in, and text out so that no reader ever sees half a file:
 * each is written to a temporary file in the same folder
 * ("<name>.tmp.XXXXXX", fsync'd), then renamed over its name (replace) or
 * linked to it (link(2) never replaces: a run's .md is never overwritten,
 * as loadgen's report_publish). Calls return 0 or -errno and put
 * "call(path): reason" in err. */
#ifndef LABREPORT_FILES_H
#define LABREPORT_FILES_H

#include <jansson.h>
#include <stddef.h>

/* The temporary files' infix; folder scans skip names that hold it. */
#define LR_TEMP_INFIX ".tmp."

/* Parse path as JSON; NULL with "path: reason" (or "path:LINE:COL:
 * reason") in err. */
json_t *lr_json_load(const char *path, char *err, size_t err_len);

int lr_write_replace(const char *path, const char *text, char *err, size_t err_len);
/* -EEXIST when path exists (it is left as it was). */
int lr_write_new(const char *path, const char *text, char *err, size_t err_len);

/* Make a new, empty temporary file beside path; its name goes to tmp.
 * Returns its descriptor or -errno. */
int lr_temp_beside(const char *path, char *tmp, size_t tmp_cap, char *err, size_t err_len);
/* All of text to fd, through short writes and EINTR; 0 or -errno. */
int lr_write_all(int fd, const char *text, size_t len);
/* fsync the folder that holds path, so that a rename or link in it lasts. */
int lr_sync_parent(const char *path, char *err, size_t err_len);

/* dir/name into out; -ENAMETOOLONG when it does not fit. */
int lr_path_join(char *out, size_t cap, const char *dir, const char *name);
/* path with its final ".json" replaced by suffix (".md", ".server.json");
 * -EINVAL when path does not end in ".json". */
int lr_path_swap_json(char *out, size_t cap, const char *path, const char *suffix);

int lr_is_dir(const char *path);
int lr_is_file(const char *path);

#endif
