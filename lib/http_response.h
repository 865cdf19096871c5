/* HTTP/1.1 response writing, shared by slowapi and every server variant. */
#ifndef LAB_HTTP_RESPONSE_H
#define LAB_HTTP_RESPONSE_H

#include <stddef.h>

/* Room for any response the lab sends: its bodies are small JSON. */
#define HTTP_RESPONSE_MAX 1024

const char *http_status_reason(int status);

/* Write a whole response with Content-Length into buf. keep_alive chooses
 * the Connection header; a NUL follows the body. Returns the length (without
 * the NUL), or -ENOSPC. */
int http_response_format(char *buf, size_t cap, int status, const char *content_type,
                         const char *body, size_t body_len, int keep_alive);

/* The length of the head of the response in buf[0..len): its status line
 * and headers, through the blank line (len when there is none). A HEAD
 * request's answer is that alone (RFC 9110 9.3.2): a body after it would
 * be read as the start of the next response on a kept-alive connection. */
size_t http_response_head_len(const char *buf, size_t len);

/* A JSON error body: {"error":"<message>","status":<status>}. The message
 * must need no JSON escaping (the lab's messages are fixed strings). */
int http_json_error(char *body, size_t cap, int status, const char *message);

#endif
