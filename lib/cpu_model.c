#include "cpu_model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cpu_model(char *buf, size_t cap)
{
    static const char *const keys[] = {"model name", "Model", "cpu model"};
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return -errno;
    char line[512];
    int rc = -ENOENT;
    while (rc != 0 && fgets(line, sizeof line, f) != NULL) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t n = strlen(keys[i]);
            const char *colon = strchr(line, ':');
            if (strncmp(line, keys[i], n) != 0 || colon == NULL)
                continue;
            const char *v = colon + 1 + strspn(colon + 1, " \t");
            snprintf(buf, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
            for (char *p = buf; *p != '\0'; p++)
                if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
                    *p = ' ';
            rc = 0;
            break;
        }
    }
    (void)fclose(f);
    return rc;
}
