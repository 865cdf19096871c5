/* gRPC status codes by name, for logs and reports (no gRPC dependency:
 * the codes are fixed by the gRPC protocol, doc/statuscodes.md). */
#ifndef LAB_GRPC_STATUS_H
#define LAB_GRPC_STATUS_H

#define GRPC_STATUS_CODES 17 /* OK (0) .. UNAUTHENTICATED (16) */

/* "UNAVAILABLE" for 14; "UNKNOWN_CODE" outside 0..16. */
const char *grpc_status_name(int code);

#endif
