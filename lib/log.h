/* Logging to stderr. The level comes from LOG_LEVEL (error, warn, info,
 * debug; default info). stdout is left to programs whose output is data. */
#ifndef LAB_LOG_H
#define LAB_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Names the program in every line and reads LOG_LEVEL. Returns 0, or
 * -EINVAL when LOG_LEVEL names no level (the level stays info). */
int log_init(const char *program);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
