#ifndef CTLS_SHIM_H
#define CTLS_SHIM_H
#include <openssl/ssl.h>
/// Placeholder; the TLS work fills this in.
int ctls_shim_version(void);
#endif
