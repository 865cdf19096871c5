/* A single run's Markdown and summary text, both rendered by
 * lib/run_report.c from the run's JSON and the .server.json beside it:
 * the same function loadgen uses, so a rebuilt .md is what loadgen
 * wrote, byte for byte. */
#ifndef LABREPORT_RUNMD_H
#define LABREPORT_RUNMD_H

#include <stddef.h>
#include <stdio.h>

/* labreport run: draw the chart of the run's series (run_chart.h) and
 * write path's .md, each unless one exists (link(2): never replaced; an
 * existing one is left with a note on stderr), then print the summary to
 * out. A chart that cannot be drawn is said on stderr and left out of the
 * .md, without failing. Returns 0 or -1 with the reason in err. */
int lr_runmd_publish(const char *path, FILE *out, char *err, size_t err_len);

/* Draw path's chart and write its .md, replacing the ones there
 * (labreport report). -1 with err also when the chart could not be drawn
 * (the .md is then written without it). */
int lr_runmd_rebuild(const char *path, char *err, size_t err_len);

#endif
