/* report.md's "Latency against offered load" section, for a matrix that
 * swept the offered rate (run.sh --sweep rate=R,...): per variant and
 * rate, what was offered, served and expected, and the latency from the
 * planned send (corrected) beside the latency from the actual send
 * (uncorrected), the table behind latency-vs-rate.svg. */
#ifndef LABREPORT_RATE_MD_H
#define LABREPORT_RATE_MD_H

#include <jansson.h>

#include "buf.h"

/* The section, when the rows hold more than one offered rate; nothing
 * otherwise. */
void lr_markdown_rate(lr_buf_t *b, const json_t *report);

#endif
