/* labreport: what every module shares: the exit statuses and the size of
 * the error buffer each fallible call fills ("call(path): reason"). */
#ifndef LABREPORT_H
#define LABREPORT_H

#define LR_ERR_MAX 1024

/* 0: done; 1: the input could not be read or the output written (or, for
 * compare --fail-on-regression, a metric got worse); 2: bad usage. */
#define LR_EXIT_OK 0
#define LR_EXIT_FAIL 1
#define LR_EXIT_USAGE 2

#endif
