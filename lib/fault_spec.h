/* The lab's fault scenarios as a spec, "error=5%,reset=2%,hang=1%,
 * jitter=20%": slowapi injects them (slowapi/faults.h); run.sh passes
 * them; the run report states what they should do to the answers
 * (lib/run_report_scenario.c). One parser for all. */
#ifndef LAB_FAULT_SPEC_H
#define LAB_FAULT_SPEC_H

#include <stddef.h>

typedef struct {
    double error;  /* fractions of requests, 0..1: answered 500 after the delay */
    double reset;  /* the connection reset at the deadline (h2c: the stream) */
    double hang;   /* never answered: the client gives up */
    double jitter; /* the delay times 1 + uniform(-jitter, +jitter) */
} faults_t;

#define FAULTS_NAMES "error, reset, hang, jitter"

/* Parse "name=P%[,name=P%...]" (the % may be left out) into f, over what
 * f holds. Returns 0, or -1 with why (error, reset and hang together at
 * most 100%). */
int faults_parse(const char *spec, faults_t *f, char *why, size_t why_len);
/* Set one fault by name to percent; 0, or -1 for an unknown name or a
 * percent outside 0..100. */
int faults_set(faults_t *f, const char *name, double percent);
int faults_any(const faults_t *f);
/* The share of a request's upstream calls that slowapi answers (and
 * counts in calls_total) under f: a hung call is never answered, nor a
 * reset one; with retried_resets (an HTTP/1.1 client sends a reset call
 * again once) the second try is answered unless it faults too. */
double faults_answered_share(const faults_t *f, int retried_resets);

#endif
