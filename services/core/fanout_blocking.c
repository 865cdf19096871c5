/* Blocking fan-out: the calling thread drives one curl multi handle until
 * all FANOUT calls end, like grequests in the classic study. The multi
 * handle and its easy handles live as long as the thread, so upstream
 * connections are reused from request to request. */
#include "fanout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

struct fanout_client_s {
    CURLM *multi;
    int fanout;
    CURL *easy[]; /* fanout handles */
};

/* Upstream connections shared by every client of the process (a curl
 * share of the connection cache and DNS), for models whose clients live
 * one request: without it each request opens FANOUT new connections, and
 * at 100 requests a second their TIME_WAITs alone exhaust the ~28k
 * ephemeral ports to the upstream within a minute. */
static CURLSH *shared_pool;
#define SHARED_POOL_MAX_IDLE 20000L
static pthread_mutex_t shared_locks[CURL_LOCK_DATA_LAST];

static void lock_cb(CURL *easy, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)easy, (void)access, (void)arg;
    pthread_mutex_lock(&shared_locks[data]);
}

static void unlock_cb(CURL *easy, curl_lock_data data, void *arg)
{
    (void)easy, (void)arg;
    pthread_mutex_unlock(&shared_locks[data]);
}

int fanout_share_connections(void)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&shared_locks[i], NULL);
    shared_pool = curl_share_init();
    if (shared_pool == NULL ||
        curl_share_setopt(shared_pool, CURLSHOPT_LOCKFUNC, lock_cb) != CURLSHE_OK ||
        curl_share_setopt(shared_pool, CURLSHOPT_UNLOCKFUNC, unlock_cb) != CURLSHE_OK ||
        curl_share_setopt(shared_pool, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_share_setopt(shared_pool, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        log_error("curl share for the upstream connections: cannot set up");
        return -1;
    }
    return 0;
}

fanout_client_t *fanout_client_new(const server_config_t *cfg)
{
    fanout_client_t *c = calloc(1, sizeof *c + (size_t)cfg->fanout * sizeof(CURL *));
    if (c == NULL)
        return NULL;
    c->fanout = cfg->fanout;
    c->multi = curl_multi_init();
    if (c->multi == NULL)
        goto fail;
    for (int i = 0; i < c->fanout; i++) {
        if ((c->easy[i] = fanout_easy_new(cfg, i)) == NULL)
            goto fail;
        if (shared_pool != NULL &&
            curl_easy_setopt(c->easy[i], CURLOPT_SHARE, shared_pool) != CURLE_OK)
            goto fail;
    }
    /* Shared: the pool keeps what every client returns, up to this many
     * idle connections (curl's default, 4 per handle, would close most). */
    if (shared_pool != NULL &&
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, SHARED_POOL_MAX_IDLE) != CURLM_OK)
        goto fail;
    return c;
fail:
    fanout_client_free(c);
    return NULL;
}

void fanout_client_free(fanout_client_t *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->fanout; i++)
        if (c->easy[i] != NULL)
            curl_easy_cleanup(c->easy[i]);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    free(c);
}

/* Detach every handle, so the next run can add them again. */
static void detach_all(fanout_client_t *c, int added)
{
    for (int i = 0; i < added; i++)
        (void)curl_multi_remove_handle(c->multi, c->easy[i]);
}

int fanout_client_run(fanout_client_t *c, fanout_result_t *res)
{
    memset(res, 0, sizeof *res);
    uint64_t start_ns = clock_now_ns();
    int added = 0;
    for (; added < c->fanout; added++) {
        CURLMcode mc = curl_multi_add_handle(c->multi, c->easy[added]);
        if (mc != CURLM_OK) {
            snprintf(res->first_error, sizeof res->first_error, "curl_multi_add_handle: %s",
                     curl_multi_strerror(mc));
            goto fail;
        }
    }
    res->calls = c->fanout;
    int running = c->fanout;
    while (running > 0) {
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc == CURLM_OK && running > 0)
            mc = curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK) {
            snprintf(res->first_error, sizeof res->first_error, "curl multi: %s",
                     curl_multi_strerror(mc));
            goto fail;
        }
    }
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            fanout_tally(res, msg->easy_handle, msg->data.result);
    detach_all(c, added);
    res->elapsed_ns = clock_now_ns() - start_ns;
    return 0;
fail:
    log_error("%s", res->first_error);
    detach_all(c, added);
    res->failed = res->calls = c->fanout;
    res->elapsed_ns = clock_now_ns() - start_ns;
    return -1;
}
