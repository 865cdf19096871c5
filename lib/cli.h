/* What the lab's programs share on their command line: settings from the
 * environment first (flags, parsed after, override them), and one form
 * for bad usage, "program: what: why" on stderr and exit status 2 (main
 * and config code exit; this only prints). */
#ifndef LAB_CLI_H
#define LAB_CLI_H

#include <stddef.h>

#define CLI_EXIT_USAGE 2

/* An environment variable and the option it sets. */
typedef struct {
    const char *name;
    int option;
} cli_env_t;

/* Set option from text; what names the source ("PORT", "--port") for a
 * message. Returns 0, or -1 once it has said why (cli_usage_error). */
typedef int (*cli_apply_fn)(int option, const char *what, const char *text, void *arg);

/* apply each variable of vars[0..n) that is set, in order. Empty counts
 * as unset, as ${PORT:-8001} has it: Compose files often pass variables
 * through whether set or not. Returns 0, or -1 at the first refusal. */
int cli_apply_env(const cli_env_t *vars, size_t n, cli_apply_fn apply, void *arg);

/* "program: what: why" and a newline on stderr, why from fmt. */
__attribute__((format(printf, 3, 4))) void cli_usage_error(const char *program, const char *what,
                                                           const char *fmt, ...);

#endif
