/* report.md's "Failures by kind" section: per row, every failed request
 * in its bucket (the status, HTTP's or gRPC's, timeouts, connection errors
 * by kind, unfinished), summed over the repeats, and for runs with slow
 * clients (run.sh --slow-clients) how /healthz fared beside them: how a
 * model degrades under a scenario, read off one table. */
#ifndef LABREPORT_FAILURES_MD_H
#define LABREPORT_FAILURES_MD_H

#include <jansson.h>

#include "buf.h"

/* The section, when some row failed a request or had slow clients;
 * nothing otherwise (a report without failures_by_kind has none). */
void lr_markdown_failures(lr_buf_t *b, const json_t *report);

#endif
