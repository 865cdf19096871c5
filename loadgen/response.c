#include "response.h"

static int on_message_complete(llhttp_t *parser)
{
    lg_response_t *r = parser->data;
    r->done = 1;
    /* Pause at the end of the message: what follows is no response. */
    return HPE_PAUSED;
}

static const llhttp_settings_t response_settings = {.on_message_complete = on_message_complete};

void lg_response_init(lg_response_t *r)
{
    llhttp_init(&r->parser, HTTP_RESPONSE, &response_settings);
    r->parser.data = r;
    r->done = 0;
}

void lg_response_reset(lg_response_t *r)
{
    llhttp_reset(&r->parser);
    r->done = 0;
}

lg_response_status_t lg_response_feed(lg_response_t *r, const char *data, size_t len)
{
    llhttp_errno_t rc = llhttp_execute(&r->parser, data, len);
    if (rc == HPE_PAUSED && r->done)
        return llhttp_get_error_pos(&r->parser) != data + len ? LG_RESPONSE_JUNK
                                                              : LG_RESPONSE_DONE;
    return rc == HPE_OK ? LG_RESPONSE_MORE : LG_RESPONSE_BAD;
}

int lg_response_eof(lg_response_t *r)
{
    (void)llhttp_finish(&r->parser);
    return r->done;
}
