/* The matrix report's Markdown (report.md), from report.json alone: the
 * title, the settings, the table of every (variant, concurrency, rate),
 * the latency against offered load (a rate sweep), the C and Python pairs
 * (schema 2, when there are any), the flags, the points
 * that were skipped or failed, the lab's overhead per run, the charts,
 * and the classic study's figures used. Nothing in it
 * depends on when it was made, so a rebuild gives the same bytes. */
#ifndef LABREPORT_MARKDOWN_H
#define LABREPORT_MARKDOWN_H

#include <jansson.h>

/* malloc'd text, or NULL when out of memory. */
char *lr_markdown_matrix(const json_t *report);

#endif
