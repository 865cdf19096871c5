/* labreport: the lab's reports from the JSON that loadgen and run.sh
 * write. main() reads the command line and hands each subcommand to its
 * module: run (runmd.c), matrix (matrix.c), report (rebuild.c), compare
 * (compare.c), index (index.c), check (lib/run_check.c), samples
 * (samples.c). Exit status: 0 done, 1 failed, 2 bad
 * usage (compare: 1 is a regression with --fail-on-regression, and an
 * input it cannot read is bad usage). */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "files.h"
#include "index.h"
#include "labreport.h"
#include "matrix.h"
#include "parse.h"
#include "published.h"
#include "rebuild.h"
#include "run_check.h"
#include "runmd.h"
#include "merge.h"
#include "samples.h"

#define PROGRAM "labreport"
#define NOISE_MAX_PCT 1000.0

typedef struct command {
    const char *name;
    const char *args; /* for the usage line */
    const char *help; /* the rest of --help */
    int (*run)(const struct command *cmd, int argc, char **argv);
} command_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: labreport COMMAND [options] ARGS\n"
            "\n"
            "The lab's reports, from the JSON that loadgen and run.sh write.\n"
            "\n"
            "  run FILE.json        write FILE.md (never replacing one) and print the run's\n"
            "                       summary\n"
            "  matrix DIR           a matrix folder (./run.sh all): report.json, report.md\n"
            "                       and the SVG charts\n"
            "  report DIR           rebuild every Markdown and chart under DIR from the JSON\n"
            "  compare A B          two run reports or matrix folders side by side, with a\n"
            "                       verdict per metric\n"
            "  index DIR            write DIR/README.md, the list of what DIR archives\n"
            "  check --check EXPRS FILE.json\n"
            "                       loadgen's pass/fail checks on a run report (exit 3:\n"
            "                       one failed)\n"
            "  merge OUT.json REPORT.json...\n"
            "                       several loadgens' reports of one run as one, the\n"
            "                       latencies from all their samples\n"
            "  samples FILE...      loadgen's samples files merged exactly: counts and\n"
            "                       percentiles of all their requests\n"
            "\n"
            "`labreport COMMAND --help` says more. Exit status: 0 done, 1 failed, 2 bad\n"
            "usage. The charts need gnuplot in PATH (Debian: gnuplot-nox). The classic\n"
            "study's figures come from data/classic-study.json, found above the binary\n"
            "(build/bin -> data/) or in $LAB_DATA_DIR.\n");
}

static void command_usage(const command_t *cmd, FILE *f)
{
    fprintf(f, "usage: labreport %s %s\n\n%s", cmd->name, cmd->args, cmd->help);
}

static int usage_error(const command_t *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "%s %s: %s%s%s (see `labreport %s --help`)\n", PROGRAM, cmd->name, what,
            arg ? " " : "", arg ? arg : "", cmd->name);
    return LR_EXIT_USAGE;
}

/* getopt_long over a subcommand's arguments (argv[0] is its name); each
 * option's value goes to handle. Returns optind, or -1 after --help, or
 * -2 after a usage error (already reported). */
static int parse_options(const command_t *cmd, int argc, char **argv,
                         const struct option *extra, size_t extra_count,
                         int (*handle)(int opt, const char *value, void *ctx), void *ctx)
{
    struct option options[8];
    size_t n = 0;
    for (size_t i = 0; i < extra_count && n < 6; i++)
        options[n++] = extra[i];
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    optind = 1;
    int opt, index = -1;
    while ((opt = getopt_long(argc, argv, ":h", options, &index)) != -1) {
        if (opt == 'h') {
            command_usage(cmd, stdout);
            return -1;
        }
        if (opt == '?') {
            char shortopt[3] = {'-', (char)optopt, '\0'};
            usage_error(cmd, "unknown option", optopt ? shortopt : argv[optind - 1]);
            return -2;
        }
        if (opt == ':') {
            usage_error(cmd, "this option needs a value:", argv[optind - 1]);
            return -2;
        }
        if (handle == NULL || handle(opt, optarg, ctx) < 0) {
            char what[64];
            snprintf(what, sizeof what, "bad value for --%s:",
                     index >= 0 ? options[index].name : "?");
            usage_error(cmd, what, optarg ? optarg : "(none)");
            return -2;
        }
    }
    return optind;
}

/* The one argument of run, matrix, report and index; NULL after --help
 * or a usage error (*status says which). */
static const char *one_arg(const command_t *cmd, int argc, char **argv, int *status)
{
    int first = parse_options(cmd, argc, argv, NULL, 0, NULL, NULL);
    *status = first == -1 ? LR_EXIT_OK : LR_EXIT_USAGE;
    if (first < 0)
        return NULL;
    if (argc - first != 1) {
        if (argc - first < 1)
            usage_error(cmd, "missing argument", cmd->args);
        else
            usage_error(cmd, "one argument too many:", argv[first + 1]);
        return NULL;
    }
    return argv[first];
}

static const char *dir_arg(const command_t *cmd, int argc, char **argv, int *status)
{
    const char *dir = one_arg(cmd, argc, argv, status);
    if (dir != NULL && !lr_is_dir(dir)) {
        *status = usage_error(cmd, "not a folder:", dir);
        return NULL;
    }
    return dir;
}

static int fail(const command_t *cmd, const char *err)
{
    fprintf(stderr, "%s %s: %s\n", PROGRAM, cmd->name, err);
    return LR_EXIT_FAIL;
}

static int cmd_run(const command_t *cmd, int argc, char **argv)
{
    int status;
    const char *path = one_arg(cmd, argc, argv, &status);
    if (path == NULL)
        return status;
    if (!lr_is_file(path))
        return usage_error(cmd, "no such file:", path);
    char err[LR_ERR_MAX];
    return lr_runmd_publish(path, stdout, err, sizeof err) < 0 ? fail(cmd, err) : LR_EXIT_OK;
}

/* The classic study, or NULL (with a warning) when it cannot be found: a
 * report without the published figures is still a report. */
static json_t *study_or_null(const command_t *cmd, int *broken)
{
    char dir[PATH_MAX], err[LR_ERR_MAX];
    *broken = 0;
    if (lr_published_data_dir(dir, sizeof dir, err, sizeof err) < 0) {
        fprintf(stderr, "%s %s: warning: %s; report.json will have no published figures\n",
                PROGRAM, cmd->name, err);
        return NULL;
    }
    json_t *study = lr_published_load(dir, err, sizeof err);
    if (study == NULL) {
        fail(cmd, err);
        *broken = 1;
    }
    return study;
}

static int cmd_matrix(const command_t *cmd, int argc, char **argv)
{
    int status, broken;
    const char *dir = dir_arg(cmd, argc, argv, &status);
    if (dir == NULL)
        return status;
    json_t *study = study_or_null(cmd, &broken);
    if (broken)
        return LR_EXIT_FAIL;
    char err[LR_ERR_MAX];
    int rc = lr_matrix_write(dir, study, err, sizeof err);
    json_decref(study);
    if (rc < 0)
        return fail(cmd, err);
    fprintf(stderr, "%s %s: wrote %s/%s, %s and its charts\n", PROGRAM, cmd->name, dir,
            LR_MATRIX_FILE, LR_MATRIX_MD);
    return LR_EXIT_OK;
}

static int cmd_report(const command_t *cmd, int argc, char **argv)
{
    int status;
    const char *dir = dir_arg(cmd, argc, argv, &status);
    if (dir == NULL)
        return status;
    char err[LR_ERR_MAX];
    int failures = lr_rebuild(dir, err, sizeof err);
    if (failures < 0)
        return fail(cmd, err);
    if (failures > 0) {
        fprintf(stderr, "%s %s: %d thing(s) could not be rebuilt (above)\n", PROGRAM,
                cmd->name, failures);
        return LR_EXIT_FAIL;
    }
    return LR_EXIT_OK;
}

static int cmd_index(const command_t *cmd, int argc, char **argv)
{
    int status;
    const char *dir = dir_arg(cmd, argc, argv, &status);
    if (dir == NULL)
        return status;
    char err[LR_ERR_MAX];
    if (lr_index_write(dir, err, sizeof err) < 0)
        return fail(cmd, err);
    return LR_EXIT_OK;
}

enum { OPT_FAIL_ON_REGRESSION = 256, OPT_NOISE };

static int compare_option(int opt, const char *value, void *ctx)
{
    lr_compare_opts_t *o = ctx;
    if (opt == OPT_FAIL_ON_REGRESSION) {
        o->fail_on_regression = 1;
        return 0;
    }
    return opt == OPT_NOISE ? parse_double(value, 0, NOISE_MAX_PCT, &o->noise_pct) : -1;
}

static int cmd_compare(const command_t *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        {"fail-on-regression", no_argument, NULL, OPT_FAIL_ON_REGRESSION},
        {"noise", required_argument, NULL, OPT_NOISE},
    };
    lr_compare_opts_t opts = {.noise_pct = NAN};
    int first = parse_options(cmd, argc, argv, options, 2, compare_option, &opts);
    if (first < 0)
        return first == -1 ? LR_EXIT_OK : LR_EXIT_USAGE;
    if (argc - first < 2)
        return usage_error(cmd, "two arguments expected:", "A B");
    if (argc - first > 2)
        return usage_error(cmd, "one argument too many:", argv[first + 2]);
    char err[LR_ERR_MAX] = "";
    int status = lr_compare(argv[first], argv[first + 1], &opts, stdout, err, sizeof err);
    if (fflush(stdout) == EOF || ferror(stdout)) {
        fprintf(stderr, "%s %s: write(stdout) failed\n", PROGRAM, cmd->name);
        return LR_EXIT_FAIL;
    }
    if (status == LR_EXIT_USAGE)
        fprintf(stderr, "%s %s: %s\n", PROGRAM, cmd->name, err);
    return status;
}

/* check: loadgen's --check on a report already written, with loadgen's
 * exit statuses: a malformed check is bad usage before the file is read
 * (2), a failed check 3. */
enum { OPT_CHECK = 512 };

typedef struct {
    const char *text;
    int given;
} check_opts_t;

static int check_option(int opt, const char *value, void *ctx)
{
    check_opts_t *o = ctx;
    if (opt != OPT_CHECK)
        return -1;
    o->text = value;
    o->given++;
    return 0;
}

static int cmd_check(const command_t *cmd, int argc, char **argv)
{
    static const struct option options[] = {{"check", required_argument, NULL, OPT_CHECK}};
    check_opts_t opts = {NULL, 0};
    int first = parse_options(cmd, argc, argv, options, 1, check_option, &opts);
    if (first < 0)
        return first == -1 ? LR_EXIT_OK : LR_EXIT_USAGE;
    if (opts.given != 1)
        return usage_error(cmd, opts.given ? "--check given twice: join the expressions "
                                "with commas" : "missing option --check EXPRS", NULL);
    if (argc - first != 1)
        return argc - first < 1 ? usage_error(cmd, "missing argument", "FILE.json")
                                : usage_error(cmd, "one argument too many:", argv[first + 1]);
    run_check_list_t list;
    char err[LR_ERR_MAX];
    if (run_check_parse(opts.text, &list, err, sizeof err) < 0)
        return usage_error(cmd, err, NULL);
    json_t *report = lr_json_load(argv[first], err, sizeof err);
    if (report != NULL && !json_is_object(json_object_get(report, "summary"))) {
        snprintf(err, sizeof err, "%s: not a run report (no summary)", argv[first]);
        json_decref(report);
        report = NULL;
    }
    if (report == NULL)
        return fail(cmd, err);
    run_check_result_t results[RUN_CHECK_MAX];
    int failed = run_check_eval(&list, report, results);
    json_decref(report);
    run_check_print(stdout, &list, results);
    if (fflush(stdout) == EOF || ferror(stdout))
        return fail(cmd, "write(stdout) failed");
    return failed > 0 ? RUN_CHECK_EXIT_FAILED : LR_EXIT_OK;
}

/* samples: loadgen's samples files merged exactly (samples.c). */
enum { OPT_SAMPLES_JSON = 768 };

static int samples_option(int opt, const char *value, void *ctx)
{
    (void)value;
    if (opt != OPT_SAMPLES_JSON)
        return -1;
    *(int *)ctx = 1;
    return 0;
}

static int cmd_samples(const command_t *cmd, int argc, char **argv)
{
    static const struct option options[] = {{"json", no_argument, NULL, OPT_SAMPLES_JSON}};
    int json = 0;
    int first = parse_options(cmd, argc, argv, options, 1, samples_option, &json);
    if (first < 0)
        return first == -1 ? LR_EXIT_OK : LR_EXIT_USAGE;
    if (argc - first < 1)
        return usage_error(cmd, "missing argument", "FILE...");
    char err[LR_ERR_MAX];
    int status = lr_samples((const char *const *)argv + first, (size_t)(argc - first), json,
                            stdout, err, sizeof err);
    return status == LR_EXIT_OK ? status : fail(cmd, err);
}

/* merge: several loadgens' reports of one run as one (merge.c). */
static int cmd_merge(const command_t *cmd, int argc, char **argv)
{
    int first = parse_options(cmd, argc, argv, NULL, 0, NULL, NULL);
    if (first < 0)
        return first == -1 ? LR_EXIT_OK : LR_EXIT_USAGE;
    if (argc - first < 2)
        return usage_error(cmd, "missing argument", "OUT.json REPORT.json...");
    char err[LR_ERR_MAX * 2];
    int status = lr_merge(argv[first], (const char *const *)argv + first + 1,
                          (size_t)(argc - first - 1), err, sizeof err);
    return status == LR_EXIT_OK ? status : fail(cmd, err);
}

static const command_t commands[] = {
    {"run", "FILE.json",
     "Write FILE.md beside the run report FILE.json, rendered from it and from\n"
     "FILE.server.json when there is one (lib/run_report.c, as loadgen renders it),\n"
     "and print the run's summary (with the resources lines) on stdout. An existing\n"
     "FILE.md is never replaced (link(2)); it is left as it is, with a note on\n"
     "stderr (`labreport report` rebuilds it). Reads schema_version 1, 2 and 3.\n",
     cmd_run},
    {"matrix", "DIR",
     "From the matrix folder DIR (run.sh all: plan.json, points/NNN.json, each run's\n"
     "report and .server.json) write DIR/report.json, the matrix report: one row per\n"
     "(variant, concurrency) with the median, min and max of each metric over the\n"
     "repeats (the server's CPU busy share among them), flags, the classic study's\n"
     "figures for the mirrored deployment, the skipped and failed points, and the\n"
     "pairs of a C variant and the Python deployment of one classic configuration\n"
     "at one concurrency, with their C/Python ratios. Then DIR/report.md and the\n"
     "charts (rps.svg, latency.svg, cpu.svg; with a sweep sweep_rps.svg and\n"
     "sweep_p99.svg; with pairs c-python.svg), drawn by gnuplot. Every file is\n"
     "written to a temporary name and renamed.\n",
     cmd_matrix},
    {"report", "DIR",
     "Rebuild every Markdown file and chart under DIR from the JSON: each run's .md;\n"
     "in a matrix folder report.md and its charts, from report.json alone; for any\n"
     "other folder (results/) also every matrix folder in it and DIR/README.md, the\n"
     "index. Nothing depends on when it runs: unchanged JSON gives the same bytes.\n",
     cmd_report},
    {"compare", "[--fail-on-regression] [--noise PCT] A B",
     "A and B are each a run report (.json), a matrix report.json, or a matrix folder.\n"
     "Two run reports are compared as they are; otherwise rows are matched by\n"
     "(variant, workload, concurrency, and a rate sweep's offered rate). For rps,\n"
     "mean, p50 and p99 ms, failures and the server's CPU ms per request, a\n"
     "Markdown table on stdout: A, B, delta % and a verdict. A metric \"changed\"\n"
     "when B's median differs from A's by more than the noise threshold and, when\n"
     "both sides have repeats, by more than the larger of their min-max spreads;\n"
     "else it is \"within noise\". Thresholds: rps 2%, latencies 5%, failures 5%\n"
     "(any rise from 0 is a change), CPU per request 5%.\n"
     "\n"
     "  --noise PCT            one threshold for every metric, in percent of A\n"
     "  --fail-on-regression   exit 1 when a metric changed for the worse\n"
     "\n"
     "Exit status: 0, 1 (a regression, with --fail-on-regression), 2 (bad usage, an\n"
     "input that cannot be read, or no row in common).\n",
     cmd_compare},
    {"index", "DIR",
     "Write DIR/README.md: the matrix folders (date, workload, mode, variants, a link\n"
     "to report.md) and the single run reports (date, variant, workload, mode, rps,\n"
     "of ceiling, failures) in DIR, newest first.\n",
     cmd_index},
    {"check", "--check EXPRS FILE.json",
     "Evaluate EXPRS, loadgen's --check expressions, on the run report FILE.json:\n"
     "comma-separated METRIC OP NUMBER[UNIT], e.g. 'p99<1100ms,rps>95,failures=0';\n"
     "OP is <, <=, >, >=, =, == or !=. One line per check with its measured value\n"
     "and pass or FAIL, then the count. Metrics: p50 p60 p70 p80 p90 p95 p99 p99.9\n"
     "p100, max, min, mean (ms by default, or us, s), p<N>_uncorrected (open loop);\n"
     "failures, ok, issued, timeouts, unfinished, late, errors, http_errors; rps;\n"
     "error_rate (failures / issued) and of_ceiling, as fractions or in %.\n"
     "A figure the report does not have fails its check (\"not measured\").\n"
     "\n"
     "Exit status: 0 every check passed, 3 one failed, 2 bad usage or a malformed\n"
     "check (said before the file is read), 1 a file that cannot be read.\n",
     cmd_check},
    {"samples", "[--json] FILE...",
     "Merge loadgen's samples files (--samples FILE; docs/REPORT.md, \"The samples\n"
     "file\") exactly: every row of every file, so that the percentiles are those of\n"
     "all the requests together, never an average of each run's percentiles. Prints\n"
     "the rows, the rows per bucket, planned = issued + late, the responses (ok and\n"
     "http) and the percentiles 50 to 100 of their latencies, corrected (from the\n"
     "planned send) and uncorrected (from the actual send; the same in a closed\n"
     "loop), in ms as loadgen's report gives them (nearest rank, 3 decimals). Rows\n"
     "of the warm-up are counted in the rows alone, as loadgen's report leaves them\n"
     "out.\n"
     "\n"
     "  --json   {\"files\", \"rows\", \"buckets\", \"summary\", \"percentiles_ms\",\n"
     "           \"percentiles_uncorrected_ms\"}: the keys of loadgen's report\n"
     "\n"
     "Exit status: 0, 1 a file that cannot be read or is malformed (path:line: what),\n"
     "2 bad usage.\n",
     cmd_samples},
    {"merge", "OUT.json REPORT.json...",
     "One run report from several loadgens' reports of one run (run.sh --swarm\n"
     "--load-nodes N: each loadgen a share of the clients or the rate, started\n"
     "together), written to OUT.json (never replacing a file). The counts and\n"
     "rates are summed; the percentiles, mean, min and max come from every request\n"
     "of every loadgen, read from the samples files their reports name (each needs\n"
     "--samples), never from an average of their percentiles; the ceiling is\n"
     "computed for all the clients; \"instances\" keeps each loadgen's own figures.\n"
     "The per-second series, steps and spectrum stay in each loadgen's report.\n"
     "\n"
     "Exit status: 0, 1 a report that cannot be read, has no samples file or is not\n"
     "of the same run, or OUT.json exists; 2 bad usage.\n",
     cmd_merge},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LR_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return LR_EXIT_OK;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s' (run, matrix, report, compare, index, check, samples, merge; "
                    "see `labreport --help`)\n", PROGRAM, name);
    return LR_EXIT_USAGE;
}
