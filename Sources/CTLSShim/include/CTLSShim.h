#ifndef CTLS_SHIM_H
#define CTLS_SHIM_H
// What Swift cannot reach in OpenSSL by itself: macros, BIO methods, callbacks. Kept small on purpose.
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

/// Sets the protocol floor / ceiling (SSL_CTX_set_min/max_proto_version are macros). 0 = no bound.
int ctls_ctx_set_min_proto(SSL_CTX *ctx, int version);
int ctls_ctx_set_max_proto(SSL_CTX *ctx, int version);
/// Options every context of ours gets: AUTO_RETRY, read-ahead, no renegotiation, no compression, server cipher
/// preference, a missing close_notify read as a clean end of stream.
void ctls_ctx_apply_defaults(SSL_CTX *ctx);
/// SNI for a client connection (SSL_set_tlsext_host_name is a macro).
int ctls_set_host_name(SSL *ssl, const char *name);

/// Attaches a socket to `ssl` through our own BIO: writes use MSG_NOSIGNAL (a vanished peer never raises
/// SIGPIPE) and every read and write is bounded by the connection's deadline. The BIO never closes `fd`.
int ctls_attach_socket(SSL *ssl, int fd);
/// Absolute CLOCK_MONOTONIC deadline in nanoseconds for later reads and writes; 0 = none.
void ctls_set_deadline(SSL *ssl, int64_t deadline_ns);
/// Non-blocking mode for an event loop: reads and writes that would block return at once (SSL_get_error says
/// WANT_READ/WANT_WRITE) instead of polling to the deadline; SSL_write may write part of its buffer.
void ctls_set_nonblocking(SSL *ssl);
/// 1 when the last read or write stopped at the deadline.
int ctls_timed_out(SSL *ssl);
/// The errno of the last failed socket call on this connection (0 if none).
int ctls_last_errno(SSL *ssl);
/// CLOCK_MONOTONIC now, in nanoseconds.
int64_t ctls_monotonic_ns(void);

/// Drains this thread's OpenSSL error queue into `buffer` ("; "-joined), then clears it. Returns the length.
size_t ctls_drain_errors(char *buffer, size_t capacity);
/// The peer certificate's subject (RFC 2253) into `buffer`; returns its length, or -1 when there is none.
int ctls_peer_subject(const SSL *ssl, char *buffer, size_t capacity);
/// The peer certificate's serial number in hex into `buffer`; returns its length, or -1 when there is none.
int ctls_peer_serial(const SSL *ssl, char *buffer, size_t capacity);

#endif
