/* What every server variant shares: its configuration, its self-description
 * and start-up (listen, readiness, limits). A variant file adds only its
 * concurrency model. */
#ifndef LAB_SERVER_H
#define LAB_SERVER_H

#include <signal.h>
#include <stddef.h>

#define SERVER_URL_MAX 512
/* SLOW_API_PORTS at most: slowapi's --ports. */
#define SERVER_UPSTREAM_PORTS_MAX 16

/* The settings a model has beyond the common ones (HOST, PORT, the
 * workload's): --help lists only these, a flag for another is refused
 * (exit 2), and an environment variable for another is ignored, so that
 * one environment can serve every variant. */
enum {
    SETTINGS_HTTP = 1 << 0,        /* BACKLOG, CLIENT_TIMEOUT: it speaks HTTP itself */
    SETTINGS_THREADS = 1 << 1,     /* THREADS */
    SETTINGS_WORKERS = 1 << 2,     /* WORKERS, ACCEPT, MASTER */
    SETTINGS_CONNECTIONS = 1 << 3, /* CONNECTIONS */
    SETTINGS_GRACE = 1 << 4,       /* GRACE_PERIOD */
};

/* A variant describes itself once; /healthz and ./run.sh list show it. */
typedef struct variant_s {
    const char *name;     /* e.g. "event-loop" */
    const char *model;    /* the concurrency model in a few words */
    int keep_alive;       /* keeps client connections open between requests */
    int threads;          /* THREADS and WORKERS by default (0: 1) */
    int workers;
    int connections;      /* CONNECTIONS by default, where the model has it */
    unsigned settings;    /* SETTINGS_*: what the model has */
} variant_t;

/* How the processes of a multi-process model get their connections. */
typedef enum {
    ACCEPT_SHARED,    /* one listening socket, made before fork (gunicorn, uwsgi) */
    ACCEPT_REUSEPORT, /* a socket per worker, SO_REUSEPORT: the kernel spreads */
} accept_mode_t;

typedef struct server_config_s {
    const char *name;       /* reported in /healthz: the variant or preset */
    const char *host;
    int port;
    int backlog;
    int ready_fd;
    char slow_api_url[SERVER_URL_MAX];
    int slow_api_port;      /* the URL's port (80 when it names none) */
    int slow_api_ports;     /* the calls go round its port and the next ones */
    int fanout;
    long upstream_timeout_ms;
    int upstream_http2;     /* calls over HTTP/2 without TLS (h2c), multiplexed */
    long client_timeout_ms; /* idle or slow client: 408 and close */
    long cpu_iterations;
    int threads;            /* worker threads, for the models that have them */
    int workers;            /* worker processes, likewise */
    int connections;        /* connections served at once per worker (coroutines) */
    accept_mode_t accept_mode; /* for the models with worker processes */
    int master;             /* under a master process even with one worker */
    long grace_ms;          /* on SIGTERM, how long in-flight requests may take */
} server_config_t;

/* Defaults, then environment variables, then flags; --help prints the
 * usage and exits 0, a bad value prints why and exits 2. */
void server_config_load(server_config_t *cfg, const variant_t *variant, int argc, char **argv);

/* Requests this server can have in progress at once; 0 = unbounded.
 * Set by the variant after reading its config (single thread: 1). */
extern int server_capacity;
extern const variant_t *server_variant;
extern const server_config_t *server_config;

/* The server's self-description as JSON (what /healthz and gRPC's
 * Describe answer): variant, model, capacity, threads, workers, accept,
 * transport, fan-out, upstream. Returns its length, or -1 if cap is short. */
int server_describe_json(char *buf, size_t cap);

/* The soft open-file limit up to the hard one (a warning when it cannot). */
void server_raise_open_file_limit(void);

/* Raise the open-file limit, listen (SO_REUSEPORT when reuseport, so more
 * processes can share the port), log and notify the ready pipe. Exits 1
 * with a clear message when it cannot listen. Returns the socket. */
int server_listen(const server_config_t *cfg, int reuseport, int nonblock);

/* server_listen's two halves, for a master that opens sockets before its
 * workers exist: raise the limit and open a socket (backlog 0: bind only,
 * see net_listen_tcp), exiting 1 with a message when it cannot; then log
 * and notify the ready pipe once the server can take connections. */
int server_open_socket(const server_config_t *cfg, int port, int backlog, int reuseport,
                       int nonblock);
void server_announce(const server_config_t *cfg, int port);

/* The stop signals, SIGTERM and SIGINT, as a set. */
sigset_t server_stop_signals(void);

/* For models with threads: block SIGTERM and SIGINT in the calling thread
 * before it starts any other (they inherit the mask; SIGPIPE is ignored),
 * then wait for one of them in that thread. Returns the signal. */
sigset_t server_block_stop_signals(void);
int server_wait_stop_signal(const sigset_t *set);

/* For a worker that takes the stop signals through a handler (libuv's
 * uv_signal) rather than sigwait: unblock them once the handler is set,
 * so one that came meanwhile is delivered then, not lost. */
void server_unblock_stop_signals(void);

/* SIGTERM/SIGINT set server_stopping (without SA_RESTART, so a blocking
 * accept returns EINTR); SIGPIPE is ignored. */
extern volatile sig_atomic_t server_stopping;
void server_install_stop_handlers(void);

#endif
