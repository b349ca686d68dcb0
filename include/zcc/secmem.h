/* SPDX-License-Identifier: ISC */
/*
 * Locked memory for what libcrypto allocates to hold our keys: an AES key
 * schedule lives inside an OpenSSL context, which OpenSSL allocates itself.
 * Between secmem_begin() and secmem_end() its allocations come from a pool
 * of locked pages that core dumps leave out (sodium_malloc), and are wiped
 * when freed; all others go to malloc as before.
 */
#ifndef ZCC_SECMEM_H
#define ZCC_SECMEM_H

#include <stddef.h>

/*
 * Route libcrypto's allocations through secmem. Must come before anything
 * makes libcrypto allocate (the first thing main does); -1 when too late.
 */
int secmem_install(void);

/*
 * From here to secmem_end(), libcrypto allocates from the pool. The pool
 * is made on first use in the calling process: locked pages are not
 * inherited across fork. -1 (and no change) when it cannot be made.
 */
int secmem_begin(void);
void secmem_end(void);

/* Bytes of the pool in use: for tests. */
size_t secmem_in_use(void);

#endif
