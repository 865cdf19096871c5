/* A single run's Markdown and summary text, both rendered by
 * lib/run_report.c from the run's JSON and the .server.json beside it:
 * the same function loadgen uses, so a rebuilt .md is what loadgen
 * wrote, byte for byte. */
#ifndef LABREPORT_RUNMD_H
#define LABREPORT_RUNMD_H

#include <stddef.h>
#include <stdio.h>

/* labreport run: write path's .md unless one exists (link(2): never
 * replaced; an existing one is left with a note on stderr), then print
 * the summary to out. Returns 0 or -1 with the reason in err. */
int lr_runmd_publish(const char *path, FILE *out, char *err, size_t err_len);

/* Write path's .md, replacing the one there (labreport report). */
int lr_runmd_rebuild(const char *path, char *err, size_t err_len);

#endif
