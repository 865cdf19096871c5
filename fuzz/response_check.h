/* The oracle the HTTP harnesses share: what a server wrote must be whole
 * HTTP/1.1 responses whose Content-Length is their body's length, or (an
 * answer to HEAD) the head alone, at the end or before the next one. */
#ifndef FUZZ_RESPONSE_CHECK_H
#define FUZZ_RESPONSE_CHECK_H

#include <stddef.h>

/* Check the responses back to back in buf[0..len); abort() with a message
 * at the first that is not one. Stops after a 101 (what follows is another
 * protocol). tail_ok: the last response may be unfinished (a connection
 * closed under a write). Returns how many responses were whole. */
size_t response_check(const char *buf, size_t len, int tail_ok);

#endif
