/* The machine's CPU model, as /proc/cpuinfo names it ("model name"; on
 * some architectures "Model" or "cpu model"): the reports say on what each
 * program ran, which matters once they run on different nodes. */
#ifndef LAB_CPU_MODEL_H
#define LAB_CPU_MODEL_H

#include <stddef.h>

/* The model into buf (cap bytes, cut as snprintf does; quotes and
 * backslashes replaced, for JSON written by hand). Returns 0, or -errno
 * (buf is then "unknown"). */
int cpu_model(char *buf, size_t cap);

#endif
