#ifndef BM_CSHA256_H
#define BM_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// Runs SHA-256's compression function over `blocks` 64-byte blocks with the CPU's SHA
/// instructions (x86 SHA-NI), updating `state` (a..h). Returns 0, touching nothing, when
/// the CPU has none: the caller then uses its portable code.
int bm_sha256_accelerated_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

/// SHA-256's 64 round constants.
const uint32_t *bm_sha256_round_constants(void);

#endif
