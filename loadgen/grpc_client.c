/* loadgen's gRPC calls outside the load (grpc_client.h). */
#include "grpc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.pb-c.h"
#include "clock.h"
#include "grpc_status.h"
#include "grpc_unary.h"
#include "health.pb-c.h"

int lg_grpc_client_method(const lg_url_t *url, char *method, size_t cap, char *err, size_t err_len)
{
    const char *path = url->target;
    const char *name = strcmp(path, "/io") == 0    ? "/bench.Bench/Io"
                       : strcmp(path, "/cpu") == 0 ? "/bench.Bench/Cpu"
                                                   : path;
    if (name[0] != '/' || strchr(name, '?') != NULL || strlen(name) >= cap) {
        snprintf(err, err_len, "--grpc: %s: the path must be /io, /cpu or a gRPC method "
                 "(/package.Service/Method)", path);
        return -EINVAL;
    }
    snprintf(method, cap, "%s", name);
    return 0;
}

grpc_channel *lg_grpc_client_channel(const lg_url_t *url, int own_connection)
{
    char ip[INET_ADDRSTRLEN], target[INET_ADDRSTRLEN + 16];
    if (inet_ntop(AF_INET, &url->addr.sin_addr, ip, sizeof ip) == NULL)
        return NULL;
    snprintf(target, sizeof target, "ipv4:%s:%d", ip, url->port);
    return grpc_unary_channel(target, own_connection);
}

/* One health check: 0 when SERVING, else -1 with why. */
static int health_once(grpc_channel *channel, long timeout_ms, char *err, size_t err_len)
{
    grpc_unary_result_t r;
    if (grpc_unary_call(channel, "/grpc.health.v1.Health/Check", "", 0, timeout_ms, &r) < 0) {
        snprintf(err, err_len, "health check: the call could not be made");
        return -1;
    }
    int rc = -1;
    if (r.status != 0) {
        snprintf(err, err_len, "health check: %s (%s)", grpc_status_name(r.status), r.details);
    } else {
        Grpc__Health__V1__HealthCheckResponse *resp = grpc__health__v1__health_check_response__unpack(
            NULL, r.reply_len, (const uint8_t *)(r.reply ? r.reply : ""));
        if (resp == NULL)
            snprintf(err, err_len, "health check: malformed reply");
        else if (resp->status != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
            snprintf(err, err_len, "health check: status %d, not SERVING", (int)resp->status);
        else
            rc = 0;
        if (resp != NULL)
            grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
    }
    grpc_unary_result_free(&r);
    return rc;
}

int lg_grpc_client_wait(const lg_url_t *url, double wait_s, char *err, size_t err_len)
{
    grpc_channel *channel = lg_grpc_client_channel(url, 1);
    if (channel == NULL) {
        snprintf(err, err_len, "cannot make a gRPC channel");
        return -ETIMEDOUT;
    }
    uint64_t end_ns = clock_now_ns() + (uint64_t)(wait_s * 1e9);
    int rc = -ETIMEDOUT;
    for (;;) {
        if (health_once(channel, LG_HEALTH_TIMEOUT_MS, err, err_len) == 0) {
            rc = 0;
            break;
        }
        if (clock_now_ns() + LG_HEALTH_BACKOFF_MS * NS_PER_MS >= end_ns)
            break;
        struct timespec pause = {0, LG_HEALTH_BACKOFF_MS * 1000000L};
        nanosleep(&pause, NULL); /* a poll interval, not synchronisation */
    }
    grpc_channel_destroy(channel);
    return rc;
}

int lg_grpc_client_describe(const lg_url_t *url, int timeout_ms, char *body, size_t cap, char *err,
                         size_t err_len)
{
    grpc_channel *channel = lg_grpc_client_channel(url, 1);
    if (channel == NULL) {
        snprintf(err, err_len, "cannot make a gRPC channel");
        return -1;
    }
    grpc_unary_result_t r;
    int rc = -1;
    if (grpc_unary_call(channel, "/bench.Bench/Describe", "", 0, timeout_ms, &r) < 0) {
        snprintf(err, err_len, "Describe: the call could not be made");
        grpc_channel_destroy(channel);
        return -1;
    }
    if (r.status != 0) {
        snprintf(err, err_len, "Describe: %s (%s)", grpc_status_name(r.status), r.details);
    } else {
        Bench__DescribeReply *reply =
            bench__describe_reply__unpack(NULL, r.reply_len, (const uint8_t *)(r.reply ? r.reply : ""));
        if (reply == NULL) {
            snprintf(err, err_len, "Describe: malformed reply");
        } else {
            snprintf(body, cap, "%s", reply->json);
            bench__describe_reply__free_unpacked(reply, NULL);
            rc = 0;
        }
    }
    grpc_unary_result_free(&r);
    grpc_channel_destroy(channel);
    return rc;
}
