// Q4_0 products in the order llama.cpp uses for a Q4_0 tensor whose row count is a multiple of 8.
// On AVX2 machines llama.cpp repacks such a tensor into interleaved blocks of 8 rows (its
// "q4_0_8x8" layout) and sums each output as
//     acc = fma(float(Σ_j (q_j − 8)·y_j), d_w·d_x, acc)      one fused step per block of 32,
// the integer block sum exact, the blocks in order. This file computes exactly that, from the
// GGUF blocks as stored (nothing repacked ahead of time), so a row's result is the same whatever
// else is in the batch, on every kernel:
//   - portable C (fmaf), the definition;
//   - AVX2 and AVX-512 VNNI (256-bit registers), two instances of one body (q4_0_rows8_body.h):
//       * few activation rows (decoding): eight rows' integer dots reduced into one vector;
//       * many (a prompt): eight rows interleaved four bytes at a time into a small panel on the
//         stack (a chunk of blocks that stays in L1), each activation's four bytes broadcast
//         against it, four activation rows at a time; the activation rows are taken in chunks
//         that stay in L2 while every panel of the rows passes them.
// The nibbles are used unsigned (0..15); the −8 offset is taken back as 8·Σy, with Σy the
// activation block's integer sum that plq_quantize_row stores in `s` (with_sum 3). Both sides
// are integers below 2^24, so the correction is exact in Float.
#include "CQuant.h"
#include "cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLQ_R8_X86 1
#endif

/// The definition: rows row0..<row1 against `count` activation rows, one value at a time.
static void r8_portable(const uint8_t *w, int64_t row_bytes, int64_t row0, int64_t row1, int64_t blocks,
                        const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    for (int64_t r = row0; r < row1; r++) {
        const uint8_t *row = w + r * row_bytes;
        for (int64_t i = 0; i < count; i++) {
            const plq_block_q8 *y = x + i * blocks;
            float acc = 0;
            for (int64_t b = 0; b < blocks; b++) {
                const uint8_t *blk = row + b * 18, *qs = blk + 2;
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += ((qs[j] & 0x0F) - 8) * y[b].qs[j] + ((qs[j] >> 4) - 8) * y[b].qs[j + 16];
                acc = fmaf((float)sum, plq_read_half(blk) * y[b].d, acc);
            }
            if (accumulate) out[i * ldo + r] += acc; else out[i * ldo + r] = acc;
        }
    }
}

#ifdef PLQ_R8_X86
/// Blocks per panel chunk (8 rows × 64 blocks: 16 KiB of bytes and 2 KiB of scales) and activation
/// rows per chunk (at 4,096 columns about 0.6 MB of blocks).
enum { R8_KC = 64, R8_MC = 128, R8_FEW = 4 };

#define R8_TARGET __attribute__((target("avx2,fma,f16c")))
#define R8_NAME(n) n##_avx2
#define R8_DP(acc, u, s) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
#include "q4_0_rows8_body.h"
#undef R8_TARGET
#undef R8_NAME
#undef R8_DP

#define R8_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define R8_NAME(n) n##_vnni
#define R8_DP(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#include "q4_0_rows8_body.h"
#undef R8_TARGET
#undef R8_NAME
#undef R8_DP
#endif

int plq_q4_0_rows8_with(int kernel, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                        const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (row0 % 8 || row1 % 8 || cols % 32 || kernel < 0 || kernel > 2) return -1;
    const int64_t blocks = cols / 32;
#ifdef PLQ_R8_X86
    if (kernel > plq_int_kernel_level()) return -1;
    switch (kernel) {
    case 2: rows8_vnni(weights, row_bytes, row0, row1, blocks, x, count, out, ldo, accumulate); return 0;
    case 1: rows8_avx2(weights, row_bytes, row0, row1, blocks, x, count, out, ldo, accumulate); return 0;
    default: break;
    }
#else
    if (kernel > 0) return -1;
#endif
    r8_portable(weights, row_bytes, row0, row1, blocks, x, count, out, ldo, accumulate);
    return 0;
}

int plq_q4_0_rows8(const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                   const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
#ifdef PLQ_R8_X86
    const int kernel = plq_int_kernel_level();
#else
    const int kernel = 0;
#endif
    return plq_q4_0_rows8_with(kernel, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
}
