/* What both fan-out drivers share: easy-handle options and the verdict. */
#include "fanout.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#define UPSTREAM_BUFFER_BYTES 4096L        /* curl's minimum is 1024 */
#define UPSTREAM_UPLOAD_BUFFER_BYTES 16384L /* curl's minimum */

int fanout_global_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        log_error("curl_global_init: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

int fanout_status(const fanout_result_t *res)
{
    if (res->timed_out > 0)
        return 504;
    if (res->failed > 0 || res->ok < res->calls)
        return 502;
    return 200;
}

/* The upstream's body is not used: count it and drop it. */
static size_t discard_body(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

CURL *fanout_easy_new(const server_config_t *cfg, int index)
{
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        return NULL;
    /* SLOW_API_PORTS: call i of a fan-out goes to the URL's port + i mod N. */
    long port = cfg->slow_api_port + index % cfg->slow_api_ports;
    if (cfg->slow_api_ports > 1 && curl_easy_setopt(easy, CURLOPT_PORT, port) != CURLE_OK) {
        curl_easy_cleanup(easy);
        return NULL;
    }
    /* NOSIGNAL: timeouts must not use SIGALRM in a threaded server. */
    if (curl_easy_setopt(easy, CURLOPT_URL, cfg->slow_api_url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, cfg->upstream_timeout_ms) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
        /* The upstream's answers are tiny. curl's default buffers (16 KiB
         * down, 64 KiB up) cost fresh pages for every new handle: with
         * c x FANOUT handles the first round spends most of its time in
         * page faults. */
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, UPSTREAM_BUFFER_BYTES) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, UPSTREAM_UPLOAD_BUFFER_BYTES) != CURLE_OK) {
        curl_easy_cleanup(easy);
        return NULL;
    }
    /* HTTP/2 without TLS: a fan-out's calls become streams of one
     * connection. PIPEWAIT makes the calls started together wait for the
     * first one's connection rather than each open its own: FANOUT times
     * fewer sockets, which lets one process hold c=2000 under a 20,000
     * descriptor limit. A new connection starts as HTTP/1.1 with
     * "Upgrade: h2c" (one request, then h2): prior knowledge would skip
     * that, but curl 7.88 sends its preface again on a reused connection
     * (curl #10634, fixed in 8.0), which breaks every call after the
     * first. An upstream without h2c simply answers in HTTP/1.1. */
    if (cfg->upstream_http2 &&
        (curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0) != CURLE_OK ||
         curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L) != CURLE_OK)) {
        log_error("this libcurl cannot call the upstream over HTTP/2 (built without nghttp2?)");
        curl_easy_cleanup(easy);
        return NULL;
    }
    return easy;
}

void fanout_tally(fanout_result_t *res, CURL *easy, CURLcode code)
{
    const char *why = NULL;
    char status_msg[64];
    if (code == CURLE_OPERATION_TIMEDOUT) {
        res->timed_out++;
        why = curl_easy_strerror(code);
    } else if (code != CURLE_OK) {
        res->failed++;
        why = curl_easy_strerror(code);
    } else {
        long status = 0;
        if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
            status >= 200 && status < 300) {
            res->ok++;
        } else {
            res->failed++;
            snprintf(status_msg, sizeof status_msg, "upstream answered %ld", status);
            why = status_msg;
        }
    }
    if (why != NULL && res->first_error[0] == '\0') {
        snprintf(res->first_error, sizeof res->first_error, "%s", why);
        log_debug("upstream call failed: %s", why);
    }
}
