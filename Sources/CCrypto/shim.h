// OpenSSL's libcrypto (libssl-dev) for the Jupyter kernel's HMAC-SHA256 message signatures.
#ifndef PRUNELANG_CCRYPTO_SHIM_H
#define PRUNELANG_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif
