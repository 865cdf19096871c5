#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(lr_buf_t *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void lr_buf_puts(lr_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (buf_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

void lr_buf_printf(lr_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void lr_buf_cell(lr_buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            lr_buf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            lr_buf_puts(b, " ");
        else {
            char c[2] = {*s, '\0'};
            lr_buf_puts(b, c);
        }
    }
}

char *lr_buf_take(lr_buf_t *b)
{
    char *out = NULL;
    if (!b->failed) {
        /* An empty buffer still yields "" rather than NULL. */
        if (buf_reserve(b, 0) == 0) {
            b->data[b->len] = '\0';
            out = b->data;
        }
    }
    if (out == NULL)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return out;
}

void lr_buf_free(lr_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
