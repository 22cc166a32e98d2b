// What the CPU can do, for the kernels' dispatch (private to CQuant).
#ifndef CQUANT_CPU_H
#define CQUANT_CPU_H

#if defined(__x86_64__) || defined(__i386__)
/// 1 when the CPU has AVX2 and FMA (checked once), else 0.
int plq_have_avx2_fma(void);
/// The integer kernels this CPU runs (checked once): 2 with AVX-512 VNNI (unless PRUNELANG_NO_VNNI
/// is set), 1 with AVX2, FMA and F16C, else 0.
int plq_int_kernel_level(void);
#endif

#include "CQuant.h"

#include <string.h>

/// The float value of the fp16 stored (little-endian) at p, which need not be aligned.
static inline float plq_read_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}

/// How far ahead of the rows being dotted a product of one or two activation rows (decoding) asks
/// the cache for weight bytes.
enum { PLQ_PREFETCH_BYTES = 8192 };

/// Asks for the `bytes` at p (those before `end`) in L1 ahead of use. A four-row kernel walks four
/// short weight rows side by side, a pattern the hardware prefetcher follows poorly (measured on an
/// AVX2 EPYC: SmolLM2's Q8_0 head at 8 GB/s without this, 17-22 GB/s with it, two threads), so
/// with few activation rows, where the product is memory-bound, the kernels request the group
/// after next while they dot this one.
static inline void plq_prefetch(const uint8_t *p, int64_t bytes, const uint8_t *end) {
    const uint8_t *stop = p + bytes < end ? p + bytes : end;
    for (; p < stop; p += 64) __builtin_prefetch(p, 0, 3);
}

/// Positions ahead of the one being read that the decode attention kernels ask for: a head's keys
/// and values are `hd` floats every `ld`, a strided walk the hardware prefetcher follows poorly.
enum { PLQ_PREFETCH_ROWS = 8 };

/// Asks for the `n` floats at p in L1 (a prefetch never faults, so p may lie past the cache's end).
static inline void plq_prefetch_floats(const float *p, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(p + i, 0, 3);
}

/// One step of a prefetch spread over a kernel's loop: the next two cache lines of *pf, while
/// before `end`.
static inline void plq_prefetch_step(const uint8_t **pf, const uint8_t *end) {
    if (*pf < end) {
        __builtin_prefetch(*pf, 0, 3);
        __builtin_prefetch(*pf + 64, 0, 3);
        *pf += 128;
    }
}

/// A row-range product kernel (plq_matmul, plq_qmatmul): rows row0..<row1 of the weights against
/// `count` activation rows.
typedef int (*plq_rows_kernel)(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1,
                               int64_t cols, const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// Runs `kernel` over rows row0..<row1 split across the thread pool in whole groups of eight rows.
void plq_rows_parallel(plq_rows_kernel kernel, int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1,
                       int64_t cols, const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// plq_matmul for PLQ_Q4_0_X8 (q4_0_rows8.c): rows row0..<row1, both multiples of 8. Returns -1
/// otherwise.
int plq_q4_0_rows8(const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                   const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

#endif
