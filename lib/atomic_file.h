/* Files that no reader ever sees half written: the text goes to a
 * temporary file in the same folder ("<path>.tmp.XXXXXX", mode 0644,
 * fsync'd when durable), which is then renamed over the name (replace) or
 * linked to it (create: link(2) fails with EEXIST rather than replace, so
 * a report is never overwritten, and two writers cannot both win). loadgen
 * and labreport write every report this way. Calls return 0 or -errno
 * and put "call(path): reason" in err. */
#ifndef LAB_ATOMIC_FILE_H
#define LAB_ATOMIC_FILE_H

#include <stddef.h>

/* The temporary files' infix: folder scans skip names that hold it. */
#define AFILE_TEMP_INFIX ".tmp."

/* All of text to fd, through short writes and EINTR; 0 or -errno. */
int afile_write_all(int fd, const char *text, size_t len);

/* A new, empty temporary file beside path (mode 0644); its name goes to
 * tmp. Returns its descriptor or -errno. */
int afile_temp_fd(const char *path, char *tmp, size_t tmp_cap, char *err, size_t err_len);

/* text into a new temporary file beside path, flushed to disk when
 * durable; its name goes to tmp. On failure no file is left. */
int afile_temp(const char *path, const char *text, int durable, char *tmp, size_t tmp_cap,
               char *err, size_t err_len);

/* path's folder into dir ("." when it names none). */
int afile_parent(const char *path, char *dir, size_t cap);

/* fsync a folder, so that a rename or link in it lasts. */
int afile_sync_dir(const char *dir, char *err, size_t err_len);
int afile_sync_parent(const char *path, char *err, size_t err_len);

/* text as path, replacing what was there; durable: fsync the file and
 * its folder. */
int afile_replace(const char *path, const char *text, int durable, char *err, size_t err_len);

/* text as path, durably, never replacing: -EEXIST when path exists (it is
 * left as it was). */
int afile_create(const char *path, const char *text, char *err, size_t err_len);

#endif
