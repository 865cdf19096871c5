/* The samples file: writer and reader (samples_file.h). loadgen may write
 * 3 million rows, so the writer formats integers by hand into a 1 MiB
 * buffer and hands zlib big blocks at level 1: 1M rows take about 0.4 s
 * (fsync included) and 14.5 bytes a row on a 2-vCPU VM; level 3 took twice
 * as long for a file 2% smaller, level 6 five times for 12% smaller, and
 * the text alone (level 0) 0.1 s for 45 bytes a row. The reader is
 * strict: a file that does not read back exactly (a bad line, a gzip stream
 * cut short) is an error with its line, never a silently shorter run. */
#include "samples_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic_file.h"

#define GZ_WRITE_MODE "wb1"
#define GZ_BUF_BYTES (256u * 1024)
#define TEXT_BUF_BYTES (1u << 20)
/* The longest row: three 19-digit integers, "unfinished", 5 + 1 digits and
 * 6 separators (80 bytes), with room to spare. */
#define ROW_MAX 128
#define FIELD_COUNT 6
#define META_KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static int fail(char *err, size_t err_len, const char *call, const char *path, int rc)
{
    snprintf(err, err_len, "%s(%s): %s", call, path, strerror(-rc));
    return rc;
}

static int exists(char *err, size_t err_len, const char *path)
{
    snprintf(err, err_len, "%s exists: a samples file is never replaced (name another or "
             "remove it)", path);
    return -EEXIST;
}

int samples_file_check_target(const char *path, char *err, size_t err_len)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/')
        return fail(err, err_len, "open", path, -EISDIR);
    struct stat st;
    /* lstat: a dangling symlink would make link(2) fail as well. */
    if (lstat(path, &st) == 0)
        return exists(err, err_len, path);
    if (errno != ENOENT)
        return fail(err, err_len, "stat", path, -errno);
    char dir[PATH_MAX];
    if (afile_parent(path, dir, sizeof dir) < 0)
        return fail(err, err_len, "open", path, -ENAMETOOLONG);
    if (access(dir, W_OK | X_OK) < 0)
        return fail(err, err_len, "access", dir, -errno);
    return 0;
}

/* ---- writing ---- */

/* Why the reader would refuse row s, or NULL. */
static const char *row_problem(const lab_sample_t *s)
{
    if (s->bucket >= LAB_BUCKET_COUNT)
        return "bucket out of range";
    if (s->warmup > 1)
        return "warmup is not 0 or 1";
    if (s->planned_ns < 0)
        return "planned_ns < 0";
    if (s->bucket == LAB_BUCKET_LATE)
        return s->sent_ns == -1 && s->end_ns == -1 ? NULL : "a late row with a send or an end";
    if (s->sent_ns < 0)
        return "sent_ns < 0 (only a late row was never sent)";
    return s->end_ns < s->sent_ns ? "end_ns before sent_ns" : NULL;
}

static int meta_problem(const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv || strspn(kv, META_KEY_CHARS) != (size_t)(eq - kv))
        return 1;
    return strpbrk(eq, "\r\n") != NULL || strlen(kv) + 3 > SAMPLES_FILE_LINE_MAX;
}

static int check_input(const char *path, const char *const *meta, const lab_sample_t *rows,
                       size_t n, char *err, size_t err_len)
{
    for (size_t i = 0; meta != NULL && meta[i] != NULL; i++) {
        if (meta_problem(meta[i])) {
            snprintf(err, err_len, "%s: metadata \"%.60s\" is not key=value (key of "
                     "[A-Za-z0-9_.-], one line)", path, meta[i]);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *why = row_problem(&rows[i]);
        if (why != NULL) {
            snprintf(err, err_len, "%s: row %zu: %s", path, i, why);
            return -EINVAL;
        }
    }
    return 0;
}

/* v in decimal at p; returns the end. Two digits a step: the writer's
 * hot loop. */
static char *put_u64(char *p, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[20];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        t -= 2;
        memcpy(t, pairs + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10) {
        t -= 2;
        memcpy(t, pairs + v * 2, 2);
    } else {
        *--t = (char)('0' + v);
    }
    size_t len = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, len);
    return p + len;
}

static char *put_row(char *p, const lab_sample_t *s)
{
    static const char *const names[LAB_BUCKET_COUNT] = {
        "ok,", "http,", "timeout,", "connect,", "read,", "write,", "parse,", "unfinished,", "late,",
    };
    static const unsigned char lens[LAB_BUCKET_COUNT] = {3, 5, 8, 8, 5, 6, 6, 11, 5};
    p = put_u64(p, (uint64_t)s->planned_ns);
    *p++ = ',';
    if (s->bucket != LAB_BUCKET_LATE) {
        p = put_u64(p, (uint64_t)s->sent_ns);
        *p++ = ',';
        p = put_u64(p, (uint64_t)(s->end_ns - s->sent_ns));
    } else {
        *p++ = ',';
    }
    *p++ = ',';
    memcpy(p, names[s->bucket], lens[s->bucket]);
    p += lens[s->bucket];
    p = put_u64(p, s->status);
    *p++ = ',';
    *p++ = (char)('0' + s->warmup);
    *p++ = '\n';
    return p;
}

typedef struct gz_out {
    gzFile gz;
    char *buf;
    size_t len;
    int rc; /* the first failure, -errno */
} gz_out_t;

static void out_flush(gz_out_t *o)
{
    if (o->rc == 0 && o->len > 0 && gzwrite(o->gz, o->buf, (unsigned)o->len) == 0) {
        int errnum = Z_OK;
        int saved = errno;
        (void)gzerror(o->gz, &errnum);
        o->rc = errnum == Z_ERRNO && saved != 0 ? -saved : -EIO;
    }
    o->len = 0;
}

static void out_text(gz_out_t *o, const char *text)
{
    size_t len = strlen(text);
    if (o->len + len > TEXT_BUF_BYTES)
        out_flush(o);
    memcpy(o->buf + o->len, text, len); /* len < SAMPLES_FILE_LINE_MAX < the buffer */
    o->len += len;
}

/* The whole file through zlib to fd (left open: the caller fsyncs it). */
static int write_gz(int fd, const char *const *meta, const lab_sample_t *rows, size_t n)
{
    int gz_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (gz_fd < 0)
        return -errno;
    gz_out_t o = {.gz = gzdopen(gz_fd, GZ_WRITE_MODE), .buf = malloc(TEXT_BUF_BYTES)};
    if (o.gz == NULL || o.buf == NULL || gzbuffer(o.gz, GZ_BUF_BYTES) != 0) {
        if (o.gz != NULL)
            (void)gzclose(o.gz);
        else
            (void)close(gz_fd);
        free(o.buf);
        return -ENOMEM;
    }
    out_text(&o, SAMPLES_FILE_MAGIC "\n");
    for (size_t i = 0; meta != NULL && meta[i] != NULL; i++) {
        out_text(&o, "# ");
        out_text(&o, meta[i]);
        out_text(&o, "\n");
    }
    out_text(&o, SAMPLES_FILE_COLUMNS "\n");
    for (size_t i = 0; i < n && o.rc == 0; i++) {
        if (o.len + ROW_MAX > TEXT_BUF_BYTES)
            out_flush(&o);
        o.len = (size_t)(put_row(o.buf + o.len, &rows[i]) - o.buf);
    }
    out_flush(&o);
    free(o.buf);
    errno = 0;
    int zrc = gzclose(o.gz); /* the last block and the trailer */
    if (o.rc == 0 && zrc != Z_OK)
        o.rc = zrc == Z_ERRNO && errno != 0 ? -errno : -EIO;
    return o.rc;
}

int samples_file_write(const char *path, const char *const *meta, const lab_sample_t *rows,
                       size_t n, char *err, size_t err_len)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/')
        return fail(err, err_len, "open", path, -EISDIR);
    int rc = check_input(path, meta, rows, n, err, err_len);
    if (rc < 0)
        return rc;
    char tmp[PATH_MAX];
    int fd = afile_temp_fd(path, tmp, sizeof tmp, err, err_len);
    if (fd < 0)
        return fd;
    rc = write_gz(fd, meta, rows, n);
    const char *call = "write";
    if (rc == 0 && fsync(fd) < 0) {
        rc = -errno;
        call = "fsync";
    }
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
        call = "close";
    }
    if (rc < 0)
        fail(err, err_len, call, tmp, rc);
    else if (link(tmp, path) < 0)
        rc = errno == EEXIST ? exists(err, err_len, path)
                             : fail(err, err_len, "link", path, -errno);
    (void)unlink(tmp);
    return rc < 0 ? rc : afile_sync_parent(path, err, err_len);
}

/* ---- reading ---- */

typedef struct reader {
    const char *path;
    gzFile gz;
    char *buf; /* TEXT_BUF_BYTES: the current chunk of text */
    size_t start, end;
    int eof;
    unsigned long line; /* of the line last returned */
    char *err;
    size_t err_len;
} reader_t;

__attribute__((format(printf, 3, 4))) static int bad(reader_t *r, unsigned long line,
                                                     const char *fmt, ...)
{
    int n = snprintf(r->err, r->err_len, "%s:%lu: ", r->path, line);
    if (n >= 0 && (size_t)n < r->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* More text after buf[0..end). zlib reports a stream cut short as
 * Z_BUF_ERROR after the text it could decode: that is the truncation. */
static int fill(reader_t *r)
{
    errno = 0;
    int n = gzread(r->gz, r->buf + r->end, (unsigned)(TEXT_BUF_BYTES - r->end));
    int saved = errno;
    if (n > 0) {
        r->end += (size_t)n;
        return 0;
    }
    int errnum = Z_OK;
    const char *msg = gzerror(r->gz, &errnum);
    if (n == 0 && errnum == Z_OK) {
        r->eof = 1;
        return 0;
    }
    if (errnum == Z_ERRNO)
        return fail(r->err, r->err_len, "read", r->path, saved ? -saved : -EIO);
    if (errnum == Z_BUF_ERROR)
        return bad(r, r->line + 1, "the gzip stream ends early: the file is truncated");
    const char *why = strrchr(msg, ':'); /* zlib's message starts "<fd:N>: " */
    return bad(r, r->line + 1, "bad gzip data (%s)", why ? why + 2 : msg);
}

/* The next line, NUL-terminated in place: 1, 0 at the end, or -errno. */
static int next_line(reader_t *r, char **line)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl != NULL) {
            *nl = '\0';
            *line = r->buf + r->start;
            r->line++;
            /* The parser reads C strings: a NUL would hide the rest. */
            if (memchr(*line, '\0', (size_t)(nl - *line)) != NULL)
                return bad(r, r->line, "a NUL byte in the line");
            r->start = (size_t)(nl + 1 - r->buf);
            return 1;
        }
        size_t partial = r->end - r->start;
        if (r->eof)
            return partial == 0 ? 0 : bad(r, r->line + 1, "the last line has no end: "
                                                           "the file is truncated");
        if (partial >= SAMPLES_FILE_LINE_MAX)
            return bad(r, r->line + 1, "a line longer than %d bytes", SAMPLES_FILE_LINE_MAX);
        memmove(r->buf, r->buf + r->start, partial);
        r->start = 0;
        r->end = partial;
        int rc = fill(r);
        if (rc < 0)
            return rc;
    }
}

static int read_meta(reader_t *r, char *line, samples_file_meta_cb meta_cb, void *arg)
{
    char *kv = strncmp(line, "# ", 2) == 0 ? line + 2 : NULL;
    char *eq = kv != NULL ? strchr(kv, '=') : NULL;
    if (eq == NULL || eq == kv || strspn(kv, META_KEY_CHARS) != (size_t)(eq - kv))
        return bad(r, r->line, "a metadata line is \"# key=value\" (key of [A-Za-z0-9_.-]), "
                               "not \"%.40s\"", line);
    *eq = '\0';
    return meta_cb != NULL ? meta_cb(kv, eq + 1, arg) : 0;
}

/* The magic line, the metadata, the column line. */
static int read_header(reader_t *r, samples_file_meta_cb meta_cb, void *arg)
{
    char *line;
    int got = next_line(r, &line);
    if (got <= 0)
        return got < 0 ? got : bad(r, 1, "an empty file, not \"%s\"", SAMPLES_FILE_MAGIC);
    if (strcmp(line, SAMPLES_FILE_MAGIC) != 0) {
        static const char prefix[] = "# loadgen samples ";
        if (strncmp(line, prefix, sizeof prefix - 1) == 0)
            return bad(r, 1, "version %.20s; this reader knows %d", line + sizeof prefix - 1,
                       SAMPLES_FILE_VERSION);
        return bad(r, 1, "not a samples file: the first line is not \"%s\"",
                   SAMPLES_FILE_MAGIC);
    }
    while ((got = next_line(r, &line)) > 0 && line[0] == '#') {
        int rc = read_meta(r, line, meta_cb, arg);
        if (rc != 0)
            return rc;
    }
    if (got <= 0)
        return got < 0 ? got : bad(r, r->line + 1, "no column line \"%s\"", SAMPLES_FILE_COLUMNS);
    if (strcmp(line, SAMPLES_FILE_COLUMNS) != 0)
        return bad(r, r->line, "the column line is not \"%s\"", SAMPLES_FILE_COLUMNS);
    return 0;
}

/* A whole number >= 0 of at most 19 digits that fits int64_t. */
static int parse_nonneg(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        v = v * 10 + d;
    }
    if (v > INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

typedef struct field {
    const char *s;
    size_t len;
} field_t;

static const char *const column_names[FIELD_COUNT] = {
    "planned_ns", "sent_ns", "latency_ns", "bucket", "status", "warmup",
};

static int bad_field(reader_t *r, int i, const field_t *f, const char *what)
{
    int shown = (int)(f->len < 32 ? f->len : 32);
    return bad(r, r->line, "%s \"%.*s\" is not %s", column_names[i], shown, f->s, what);
}

static int split_row(reader_t *r, const char *line, field_t f[FIELD_COUNT])
{
    int count = 0;
    for (const char *p = line;; count++) {
        const char *comma = strchr(p, ',');
        if (count == FIELD_COUNT)
            return bad(r, r->line, "more than %d fields (%s)", FIELD_COUNT, SAMPLES_FILE_COLUMNS);
        f[count].s = p;
        f[count].len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (count + 1 != FIELD_COUNT)
        return bad(r, r->line, "%d field(s), not %d (%s)", count + 1, FIELD_COUNT,
                   SAMPLES_FILE_COLUMNS);
    return 0;
}

static int parse_row(reader_t *r, const char *line, lab_sample_t *s)
{
    field_t f[FIELD_COUNT];
    int rc = split_row(r, line, f);
    if (rc < 0)
        return rc;
    char name[16];
    int bucket = -1;
    if (f[3].len < sizeof name) {
        memcpy(name, f[3].s, f[3].len);
        name[f[3].len] = '\0';
        bucket = lab_bucket_parse(name);
    }
    if (bucket < 0)
        return bad_field(r, 3, &f[3], "a bucket (ok, http, timeout, connect, read, write, "
                                      "parse, unfinished, late)");
    int64_t planned, sent = -1, latency = 0, status;
    if (parse_nonneg(f[0].s, f[0].len, &planned) < 0)
        return bad_field(r, 0, &f[0], "a whole number of ns");
    if (bucket == LAB_BUCKET_LATE) {
        if (f[1].len != 0 || f[2].len != 0)
            return bad(r, r->line, "a late request was never sent: sent_ns and latency_ns "
                                   "must be empty");
    } else {
        if (f[1].len == 0 || f[2].len == 0)
            return bad(r, r->line, "sent_ns or latency_ns is empty, which only a late "
                                   "request may be");
        if (parse_nonneg(f[1].s, f[1].len, &sent) < 0)
            return bad_field(r, 1, &f[1], "a whole number of ns");
        if (parse_nonneg(f[2].s, f[2].len, &latency) < 0 || latency > INT64_MAX - sent)
            return bad_field(r, 2, &f[2], "a whole number of ns");
    }
    if (parse_nonneg(f[4].s, f[4].len, &status) < 0 || status > UINT16_MAX)
        return bad_field(r, 4, &f[4], "a status (0-65535)");
    if (f[5].len != 1 || (f[5].s[0] != '0' && f[5].s[0] != '1'))
        return bad_field(r, 5, &f[5], "0 or 1");
    *s = (lab_sample_t){
        .planned_ns = planned,
        .sent_ns = sent,
        .end_ns = sent < 0 ? -1 : sent + latency,
        .status = (uint16_t)status,
        .bucket = (uint8_t)bucket,
        .warmup = (uint8_t)(f[5].s[0] - '0'),
    };
    return 0;
}

static int read_rows(reader_t *r, samples_file_row_cb row_cb, void *arg)
{
    char *line;
    int got;
    while ((got = next_line(r, &line)) > 0) {
        lab_sample_t s;
        int rc = parse_row(r, line, &s);
        if (rc == 0 && row_cb != NULL)
            rc = row_cb(&s, arg);
        if (rc != 0)
            return rc;
    }
    return got;
}

int samples_file_read(const char *path, samples_file_row_cb row_cb, samples_file_meta_cb meta_cb,
                      void *arg, char *err, size_t err_len)
{
    reader_t r = {.path = path, .err = err, .err_len = err_len};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, err_len, "open", path, -errno);
    r.gz = gzdopen(fd, "rb");
    r.buf = malloc(TEXT_BUF_BYTES);
    if (r.gz == NULL || r.buf == NULL || gzbuffer(r.gz, GZ_BUF_BYTES) != 0) {
        if (r.gz != NULL)
            (void)gzclose(r.gz);
        else
            (void)close(fd);
        free(r.buf);
        return fail(err, err_len, "gzdopen", path, -ENOMEM);
    }
    int rc = read_header(&r, meta_cb, arg);
    if (rc == 0)
        rc = read_rows(&r, row_cb, arg);
    /* gzclose says Z_BUF_ERROR too for a stream cut short. */
    if (gzclose(r.gz) == Z_BUF_ERROR && rc == 0)
        rc = bad(&r, r.line + 1, "the gzip stream ends early: the file is truncated");
    free(r.buf);
    return rc;
}
