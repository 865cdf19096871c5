/* A run report's text forms, rendered from its JSON (docs/REPORT.md): the
 * summary loadgen prints and the Markdown file beside the JSON. loadgen
 * renders them from the JSON text it writes, parsed back, and labreport
 * from the file, with these same functions: a rebuild from the file is
 * byte-identical to what loadgen wrote.
 *
 * Reports of schema 1, 2 and 3 are read; a field an older schema lacks is
 * left out of the text (no row, no line), which is how the older files'
 * own Markdown looked. */
#ifndef LAB_RUN_REPORT_H
#define LAB_RUN_REPORT_H

#include <jansson.h>
#include <stddef.h>

/* loadgen or slowapi busier than this measured itself, not the server. */
#define RUN_REPORT_BUSY_WARN 0.90
/* A server this busy while loadgen ran (run_report_server_busy) was
 * CPU-bound: its CPU, not its concurrency model, set its rate. 0.75, not
 * near 1: at utilisation u a request waits u / (1 - u) times its own CPU
 * time for the CPU (M/M/1), 3 times at 0.75, and in CPython for the GIL
 * as well; the study's sync Python servers stalled short of their ceilings
 * at 78-94% on one CPU. */
#define RUN_REPORT_CPU_BOUND 0.75

/* The summary text: the classic lines (failures, rate, mean, percentiles),
 * the buckets, the rate with its error and the verification (schema 3),
 * the ceiling; in an open loop the load first, the uncorrected latencies
 * beside the corrected ones, planned and late requests and the rate in the
 * ceiling; the steps, the checks and the samples file when the report has
 * them; with resources (the <report>.server.json object, or NULL),
 * the resources lines, a "CPU-bound" line for a server at
 * RUN_REPORT_CPU_BOUND busy or more and a warning for a busy loadgen or
 * slowapi.
 * Returns malloc'd text, or NULL when out of memory. */
char *run_report_summary(const json_t *run, const json_t *resources);

/* The Markdown file: title, settings, the summary's classic lines, the
 * buckets, rate, verification and ceiling, a "Resources" section when
 * resources is not NULL (with the CPU-bound line and the warnings in
 * bold), and the environment. Returns malloc'd text, or
 * NULL when out of memory. */
char *run_report_markdown(const json_t *run, const json_t *resources);

/* What the caller knows beyond the report, for run_report_markdown_with. */
typedef struct run_report_md_options {
    const json_t *resources;   /* the <report>.server.json object, or NULL */
    const char *latency_chart; /* the file name of the chart of the report's
                                * series drawn beside the Markdown
                                * (<base>.latency.svg), or NULL: without a
                                * drawn chart there is no "Over time" section */
} run_report_md_options_t;

/* The Markdown as run_report_markdown makes it (which is this with
 * {resources, NULL}), with an "Over time" section linking
 * options->latency_chart when the report has series points. The open
 * loop's fields (docs/REPORT.md: config.load, percentiles_uncorrected_ms,
 * latency_spectrum, steps, checks, samples, ...) add their lines and
 * sections wherever they are present; a report without them renders as
 * before, byte for byte. options may be NULL. */
char *run_report_markdown_with(const json_t *run, const run_report_md_options_t *options);

/* The load, for a title or a line: "open loop at 90 req/s (constant)",
 * "open loop from 50 to 400 req/s (ramp over 10 s, then 400 req/s)",
 * "open loop at 50, 100, 200 req/s (steps of 10 s each)", into buf (cap
 * bytes, cut as snprintf does). Returns 1 for an open loop, 0 for a
 * closed one (config.load absent or "closed"; buf is then ""). */
int run_report_load(const json_t *run, char *buf, size_t cap);

/* How busy a program was: cpu_seconds / (wall_seconds * cpus) of an object
 * with those three numbers (the resources file's "loadgen" or "slowapi",
 * or the file itself for the server); -1 when not computable (a field
 * missing, or wall_seconds or cpus not positive). */
double run_report_busy(const json_t *program);
/* How busy the server was while loadgen ran (its wait for the server's
 * health, the load and the drain): the server's CPU seconds over loadgen's
 * wall seconds when the resources file has them, else over its own, at most
 * 1. A server's own life also holds its start, the wait for its health and
 * the tear-down (5 to 10 s of a 30 s run), in which it idles: over it, a
 * server busy through the whole load reads 76%. -1 when not measured. */
double run_report_server_busy(const json_t *resources);

/* The requests the server answered over the whole run, which its CPU time
 * covers: schema 3 counts them (verify.answered); before it, the responses
 * plus the warm-up's requests (nearly all of which were answered). -1 when
 * the report has neither. The CPU ms per request of the resources lines
 * and of labreport's table divide by this. */
double run_report_answered(const json_t *run);

/* The upstream calls an answered request should have made, and the
 * verdict of the measured ones against it: loadgen's verify (expected
 * and verdict) unless the resources record injected faults, under which
 * slowapi answers only a share of the calls (fault_spec.h): expected is
 * then that share of loadgen's, and the verdict "ok" within 1% of it
 * ("short" or "over" beyond), as loadgen judges. *expected NaN and
 * verdict "" when the report has no verify. with_faults: 1 when the
 * faults changed the expectation. */
typedef struct run_report_calls {
    double expected;
    char verdict[16];
    int with_faults;
} run_report_calls_t;
void run_report_calls_expected(const json_t *run, const json_t *resources,
                               run_report_calls_t *out);

#endif
