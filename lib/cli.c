#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int cli_apply_env(const cli_env_t *vars, size_t n, cli_apply_fn apply, void *arg)
{
    for (size_t i = 0; i < n; i++) {
        const char *text = getenv(vars[i].name);
        if (text != NULL && *text != '\0' && apply(vars[i].option, vars[i].name, text, arg) < 0)
            return -1;
    }
    return 0;
}

void cli_usage_error(const char *program, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: %s: ", program, what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
