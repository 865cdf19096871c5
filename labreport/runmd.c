#include "runmd.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "files.h"
#include "load.h"
#include "run_report.h"

/* The run at path and its Markdown's path and text; -1 with err. */
static int render(const char *path, lr_run_t *run, char *md_path, size_t cap, char **md,
                  char *err, size_t err_len)
{
    if (lr_path_swap_json(md_path, cap, path, ".md") < 0) {
        snprintf(err, err_len, "%s: a run report's name ends in .json", path);
        return -1;
    }
    if (lr_run_load(path, run, err, err_len) < 0)
        return -1;
    *md = run_report_markdown(run->json, run->resources);
    if (*md == NULL) {
        snprintf(err, err_len, "%s: out of memory", md_path);
        lr_run_free(run);
        return -1;
    }
    return 0;
}

int lr_runmd_publish(const char *path, FILE *out, char *err, size_t err_len)
{
    lr_run_t run;
    char md_path[PATH_MAX], *md;
    if (render(path, &run, md_path, sizeof md_path, &md, err, err_len) < 0)
        return -1;
    int rc = afile_create(md_path, md, err, err_len);
    free(md);
    if (rc == -EEXIST)
        fprintf(stderr, "labreport: %s exists and is left as it is (`labreport report` "
                        "rebuilds it)\n", md_path);
    else if (rc == 0)
        fprintf(stderr, "labreport: wrote %s\n", md_path);
    if (rc < 0 && rc != -EEXIST) {
        lr_run_free(&run);
        return -1;
    }
    char *summary = run_report_summary(run.json, run.resources);
    lr_run_free(&run);
    if (summary == NULL) {
        snprintf(err, err_len, "%s: out of memory", path);
        return -1;
    }
    rc = fputs(summary, out) == EOF || fflush(out) == EOF ? -1 : 0;
    free(summary);
    if (rc < 0)
        snprintf(err, err_len, "write(stdout): %s", strerror(errno));
    return rc;
}

int lr_runmd_rebuild(const char *path, char *err, size_t err_len)
{
    lr_run_t run;
    char md_path[PATH_MAX], *md;
    if (render(path, &run, md_path, sizeof md_path, &md, err, err_len) < 0)
        return -1;
    lr_run_free(&run);
    int rc = afile_replace(md_path, md, 1, err, err_len);
    free(md);
    return rc < 0 ? -1 : 0;
}
