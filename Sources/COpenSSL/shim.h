// OpenSSL's libcrypto (Debian's libssl-dev): the SHA-256 of the data checksums, through
// the EVP interface, which uses the CPU's SHA extensions where it has them.
#include <openssl/evp.h>
