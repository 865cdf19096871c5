#include "http_response.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *http_status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

size_t http_response_head_len(const char *buf, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return len;
}

int http_response_format(char *buf, size_t cap, int status, const char *content_type,
                         const char *body, size_t body_len, int keep_alive)
{
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: %s\r\n"
                     "\r\n",
                     status, http_status_reason(status), content_type, body_len,
                     keep_alive ? "keep-alive" : "close");
    /* Room for a NUL too, so a response can be logged or searched as text. */
    if (n < 0 || (size_t)n + body_len >= cap)
        return -ENOSPC;
    memcpy(buf + n, body, body_len);
    buf[(size_t)n + body_len] = '\0';
    return n + (int)body_len;
}

int http_json_error(char *body, size_t cap, int status, const char *message)
{
    int n = snprintf(body, cap, "{\"error\":\"%s\",\"status\":%d}", message, status);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}
