#include "CTLSShim.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

int ctls_ctx_set_min_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_min_proto_version(ctx, version); }
int ctls_ctx_set_max_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_max_proto_version(ctx, version); }

void ctls_ctx_apply_defaults(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    // Read whole socket buffers, not a record header then its body: half the recv calls.
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE
                                 | SSL_OP_IGNORE_UNEXPECTED_EOF);
}

int ctls_set_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }

int64_t ctls_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

// ---- The socket BIO: blocking semantics with a deadline, MSG_NOSIGNAL on writes. ----

typedef struct {
    int fd;
    int nonblocking; // an event loop waits for readiness itself: never poll here
    int timed_out;
    int last_errno;
    int64_t deadline_ns;
} ctls_socket;

// Waits for `events` until the deadline; 1 ready, 0 deadline passed, -1 error (errno set).
static int wait_ready(ctls_socket *s, short events) {
    for (;;) {
        int timeout_ms = -1;
        if (s->deadline_ns != 0) {
            int64_t remaining = s->deadline_ns - ctls_monotonic_ns();
            if (remaining <= 0) return 0;
            int64_t ms = (remaining + 999999) / 1000000;
            timeout_ms = ms > 0x7fffffff ? 0x7fffffff : (int)ms;
        }
        struct pollfd entry = { .fd = s->fd, .events = events, .revents = 0 };
        int ready = poll(&entry, 1, timeout_ms);
        if (ready > 0) return 1; // readable, writable, or hung up: the next recv/send says which
        if (ready < 0 && errno != EINTR) return -1;
    }
}

static int socket_io(BIO *bio, char *data, int length, int writing) {
    ctls_socket *s = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (s == NULL || length < 0) return -1;
    s->timed_out = 0;
    for (;;) {
        ssize_t count = writing ? send(s->fd, data, (size_t)length, MSG_NOSIGNAL | MSG_DONTWAIT)
                                : recv(s->fd, data, (size_t)length, MSG_DONTWAIT);
        if (count >= 0) return (int)count;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { s->last_errno = errno; return -1; }
        if (s->nonblocking) {
            // SSL_get_error then says WANT_READ/WANT_WRITE, and the caller waits for the socket.
            if (writing) BIO_set_retry_write(bio); else BIO_set_retry_read(bio);
            return -1;
        }
        int ready = wait_ready(s, writing ? POLLOUT : POLLIN);
        if (ready < 0) { s->last_errno = errno; return -1; }
        if (ready == 0) {
            // The deadline passed: report it as "retry" so SSL_get_error says WANT_READ/WANT_WRITE.
            s->timed_out = 1;
            s->last_errno = ETIMEDOUT;
            if (writing) BIO_set_retry_write(bio); else BIO_set_retry_read(bio);
            return -1;
        }
    }
}

static int socket_write(BIO *bio, const char *data, int length) { return socket_io(bio, (char *)data, length, 1); }
static int socket_read(BIO *bio, char *data, int length) { return socket_io(bio, data, length, 0); }
static int socket_puts(BIO *bio, const char *text) { return socket_write(bio, text, (int)strlen(text)); }

static long socket_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    switch (command) {
    case BIO_CTRL_FLUSH: return 1;
    default: return 0;
    }
}

static int socket_create(BIO *bio) {
    BIO_set_data(bio, NULL);
    BIO_set_init(bio, 0);
    return 1;
}

static int socket_destroy(BIO *bio) {
    free(BIO_get_data(bio));
    BIO_set_data(bio, NULL);
    return 1;
}

static BIO_METHOD *socket_method = NULL;
static CRYPTO_ONCE socket_method_once = CRYPTO_ONCE_STATIC_INIT;

static void make_socket_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ctls socket");
    if (method == NULL) return;
    BIO_meth_set_write(method, socket_write);
    BIO_meth_set_read(method, socket_read);
    BIO_meth_set_puts(method, socket_puts);
    BIO_meth_set_ctrl(method, socket_ctrl);
    BIO_meth_set_create(method, socket_create);
    BIO_meth_set_destroy(method, socket_destroy);
    socket_method = method;
}

int ctls_attach_socket(SSL *ssl, int fd) {
    if (!CRYPTO_THREAD_run_once(&socket_method_once, make_socket_method) || socket_method == NULL) return 0;
    ctls_socket *s = calloc(1, sizeof(ctls_socket));
    if (s == NULL) return 0;
    s->fd = fd;
    BIO *bio = BIO_new(socket_method);
    if (bio == NULL) { free(s); return 0; }
    BIO_set_data(bio, s);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio); // one BIO for both directions: SSL_set_bio takes one reference for each
    return 1;
}

static ctls_socket *socket_of(const SSL *ssl) {
    BIO *bio = SSL_get_rbio(ssl);
    return bio == NULL ? NULL : BIO_get_data(bio);
}

void ctls_set_deadline(SSL *ssl, int64_t deadline_ns) {
    ctls_socket *s = socket_of(ssl);
    if (s != NULL) s->deadline_ns = deadline_ns;
}

void ctls_set_nonblocking(SSL *ssl) {
    ctls_socket *s = socket_of(ssl);
    if (s != NULL) s->nonblocking = 1;
    // Partial writes: SSL_write returns what it could send; a moving buffer: a retry may pass another pointer.
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

int ctls_timed_out(SSL *ssl) {
    ctls_socket *s = socket_of(ssl);
    return s != NULL && s->timed_out;
}

int ctls_last_errno(SSL *ssl) {
    ctls_socket *s = socket_of(ssl);
    return s == NULL ? 0 : s->last_errno;
}

// ---- Errors and peer certificates ----

size_t ctls_drain_errors(char *buffer, size_t capacity) {
    size_t used = 0;
    if (capacity > 0) buffer[0] = 0;
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        char line[256];
        ERR_error_string_n(code, line, sizeof line);
        size_t length = strlen(line);
        size_t separator = used > 0 ? 2 : 0;
        if (capacity > 0 && used + separator + length < capacity) {
            if (separator) { memcpy(buffer + used, "; ", 2); used += 2; }
            memcpy(buffer + used, line, length);
            used += length;
            buffer[used] = 0;
        }
    }
    ERR_clear_error();
    return used;
}

static int copy_from_bio(BIO *mem, char *buffer, size_t capacity) {
    char *data = NULL;
    long length = BIO_get_mem_data(mem, &data);
    if (length < 0) length = 0;
    if ((size_t)length >= capacity) length = capacity > 0 ? (long)capacity - 1 : 0;
    if (capacity > 0) { memcpy(buffer, data, (size_t)length); buffer[length] = 0; }
    return (int)length;
}

int ctls_peer_subject(const SSL *ssl, char *buffer, size_t capacity) {
    X509 *certificate = SSL_get0_peer_certificate(ssl);
    if (certificate == NULL) return -1;
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem == NULL) return -1;
    X509_NAME_print_ex(mem, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
    int length = copy_from_bio(mem, buffer, capacity);
    BIO_free(mem);
    return length;
}

int ctls_peer_serial(const SSL *ssl, char *buffer, size_t capacity) {
    X509 *certificate = SSL_get0_peer_certificate(ssl);
    if (certificate == NULL) return -1;
    BIGNUM *number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), NULL);
    if (number == NULL) return -1;
    char *hex = BN_bn2hex(number);
    BN_free(number);
    if (hex == NULL) return -1;
    size_t length = strlen(hex);
    if (length >= capacity) length = capacity > 0 ? capacity - 1 : 0;
    if (capacity > 0) { memcpy(buffer, hex, length); buffer[length] = 0; }
    OPENSSL_free(hex);
    return (int)length;
}
