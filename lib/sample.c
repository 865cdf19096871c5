#include "sample.h"

#include <string.h>

static const char *const bucket_names[LAB_BUCKET_COUNT] = {
    "ok", "http", "timeout", "connect", "read", "write", "parse", "unfinished", "late",
};

const char *lab_bucket_name(int bucket)
{
    return bucket >= 0 && bucket < LAB_BUCKET_COUNT ? bucket_names[bucket] : NULL;
}

int lab_bucket_parse(const char *name)
{
    for (int i = 0; i < LAB_BUCKET_COUNT; i++) {
        if (strcmp(name, bucket_names[i]) == 0)
            return i;
    }
    return -1;
}
