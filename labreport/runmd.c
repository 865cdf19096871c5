#include "runmd.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "files.h"
#include "labreport.h"
#include "load.h"
#include "run_chart.h"
#include "run_report.h"

/* The chart of the run's series beside it (run_chart.h), in mode; its
 * file name into chart when it is there, else "". A chart that cannot be
 * drawn is said on stderr and, when rebuilding, counted as a failure
 * (*failed); the Markdown then has no link to it. */
static void draw_chart(const char *path, const lr_run_t *run, lr_run_chart_mode_t mode,
                       char *chart, size_t cap, int *failed)
{
    char err[LR_ERR_MAX], shown[PATH_MAX];
    int rc = lr_run_chart_write(path, run->json, run->resources, mode, chart, cap, err, sizeof err);
    if (rc > 0 && lr_path_swap_json(shown, sizeof shown, path, LR_RUN_CHART_SUFFIX) < 0)
        snprintf(shown, sizeof shown, "%s", chart);
    if (rc == LR_RUN_CHART_KEPT)
        fprintf(stderr, "labreport: %s exists and is left as it is (`labreport report` draws "
                        "it again)\n", shown);
    else if (rc == LR_RUN_CHART_DRAWN && mode == LR_RUN_CHART_CREATE)
        fprintf(stderr, "labreport: wrote %s\n", shown);
    else if (rc < 0)
        fprintf(stderr, "labreport: %s\n", err);
    *failed = rc < 0;
    if (rc <= 0)
        chart[0] = '\0';
}

/* The run at path, its chart drawn in mode, and its Markdown's path and
 * text; -1 with err. */
static int render(const char *path, lr_run_t *run, lr_run_chart_mode_t mode, char *md_path,
                  size_t cap, char **md, int *chart_failed, char *err, size_t err_len)
{
    char chart[NAME_MAX + 1];
    if (lr_path_swap_json(md_path, cap, path, ".md") < 0) {
        snprintf(err, err_len, "%s: a run report's name ends in .json", path);
        return -1;
    }
    if (lr_run_load(path, run, err, err_len) < 0)
        return -1;
    draw_chart(path, run, mode, chart, sizeof chart, chart_failed);
    run_report_md_options_t options = {run->resources, chart[0] ? chart : NULL};
    *md = run_report_markdown_with(run->json, &options);
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
    int chart_failed;
    /* A chart that cannot be drawn does not fail the run: its Markdown
     * and summary are the run's record, and `labreport report` draws the
     * chart later. */
    if (render(path, &run, LR_RUN_CHART_CREATE, md_path, sizeof md_path, &md, &chart_failed, err,
               err_len) < 0)
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
    int chart_failed;
    if (render(path, &run, LR_RUN_CHART_REPLACE, md_path, sizeof md_path, &md, &chart_failed, err,
               err_len) < 0)
        return -1;
    lr_run_free(&run);
    int rc = afile_replace(md_path, md, 1, err, err_len);
    free(md);
    if (rc == 0 && chart_failed)
        snprintf(err, err_len, "%s: written without its chart (above)", md_path);
    return rc < 0 || chart_failed ? -1 : 0;
}
