/* report.md's "C and Python" section, from report.json's pairs (pairs.h):
 * one line per classic configuration and concurrency, the C variant and
 * the Python deployment side by side with their C/Python ratios, the
 * Python server's CPU busy share and the study's published rps. */
#ifndef LABREPORT_PAIRS_MD_H
#define LABREPORT_PAIRS_MD_H

#include <jansson.h>

#include "buf.h"

/* The section, when the report has pairs; nothing otherwise (a schema 1
 * report has none). */
void lr_markdown_pairs(lr_buf_t *b, const json_t *report);

/* A table cell of a server's busy share: " 93% **CPU-bound** |" at
 * RUN_REPORT_CPU_BOUND or more, " 7% |", or " — |" when unknown. */
void lr_markdown_busy_cell(lr_buf_t *b, double busy);

#endif
