/* A growing text buffer for the Markdown and gnuplot texts. A failed
 * allocation is remembered (failed), later appends do nothing, and
 * lr_buf_take answers NULL: callers check once, at the end. */
#ifndef LABREPORT_BUF_H
#define LABREPORT_BUF_H

#include <stddef.h>

typedef struct lr_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} lr_buf_t;

#define LR_BUF_INIT {NULL, 0, 0, 0}

void lr_buf_puts(lr_buf_t *b, const char *s);
void lr_buf_printf(lr_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with Markdown table cell's specials escaped ("|" and line breaks). */
void lr_buf_cell(lr_buf_t *b, const char *s);
/* The text (the caller frees it), or NULL if an append failed; b is
 * emptied either way. */
char *lr_buf_take(lr_buf_t *b);
void lr_buf_free(lr_buf_t *b);

#endif
