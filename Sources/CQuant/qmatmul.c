// Products on quantised weight blocks for the "quantized" arithmetic; see include/CQuant.h.
// Q4_0 / Q4_1 / Q8_0 go to plq_matmul (llama.cpp's integer kernels, unchanged); Q5_0, Q5_1, Q4_K
// and Q6_K are dotted here against activations in 8-bit blocks of 32 (plq_block_q8), with
// integer multiply-adds per 32 (Q6_K: per 16) weights and one Float scale per sub-block:
//   Q5_0: d·dx·Σ(q−16)·qx                      (q: 4 low bits + 1 high bit)
//   Q5_1: d·dx·Σq·qx + m·s                     (s = fp16(dx·Σqx), the Q8_1 sum, as llama.cpp)
//   Q4_K: (d·sc)·dx·Σq·qx − (dmin·mn)·s        (s = dx·Σqx unrounded; sc, mn the 6-bit pairs)
//   Q6_K: Σ over the two 16-halves (d·sc)·dx·Σ(q−32)·qx
// The SIMD kernels (qmatmul_body.h: AVX-512 VNNI, or AVX2's maddubs where VNNI is missing; 256-bit
// registers) take four weight rows against one or two activation rows per pass; elsewhere a
// portable kernel computes the same sums (Float results equal up to summation order).
#include "CQuant.h"
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLQ_QX86 1
#endif

/// The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K block's 12 packed bytes.
static inline void scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

int plq_activation_sum(int type) {
    switch (type) {
    case PLQ_Q4_0_X8: return 3;   // the integer sum, for the eight-row order
    case PLQ_Q4_0: case PLQ_Q8_0: case PLQ_Q5_0: case PLQ_Q6_K: return 0;
    case PLQ_Q4_1: case PLQ_Q5_1: return 1;
    case PLQ_Q4_K: return 2;
    default: return -1;
    }
}

// MARK: - Portable

/// dot(weight row w, activation row x) for the types of this file, one value at a time.
static float qdot_portable(int type, const uint8_t *w, int64_t cols, const plq_block_q8 *x) {
    float total = 0;
    const int64_t nb = cols / 32;
    for (int64_t k = 0; k < nb; k++) {
        const plq_block_q8 *y = x + k;
        switch (type) {
        case PLQ_Q5_0: {
            const uint8_t *b = w + k * 22;
            uint32_t qh;
            memcpy(&qh, b + 2, 4);
            int sum = 0;
            for (int l = 0; l < 16; l++) {
                const int lo = (b[6 + l] & 0x0F) | (((qh >> l) & 1) << 4);
                const int hi = (b[6 + l] >> 4) | (((qh >> (l + 16)) & 1) << 4);
                sum += (lo - 16) * y->qs[l] + (hi - 16) * y->qs[l + 16];
            }
            total += plq_read_half(b) * y->d * (float)sum;
            break;
        }
        case PLQ_Q5_1: {
            const uint8_t *b = w + k * 24;
            uint32_t qh;
            memcpy(&qh, b + 4, 4);
            int sum = 0;
            for (int l = 0; l < 16; l++) {
                const int lo = (b[8 + l] & 0x0F) | (((qh >> l) & 1) << 4);
                const int hi = (b[8 + l] >> 4) | (((qh >> (l + 16)) & 1) << 4);
                sum += lo * y->qs[l] + hi * y->qs[l + 16];
            }
            total += plq_read_half(b) * y->d * (float)sum + plq_read_half(b + 2) * y->s;
            break;
        }
        case PLQ_Q4_K: {
            const uint8_t *b = w + (k / 8) * 144;
            const int j = (int)(k % 8);
            int sc, m;
            scale_min_k4(j, b + 4, &sc, &m);
            const uint8_t *q = b + 16 + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            int sum = 0;
            for (int l = 0; l < 32; l++) sum += ((q[l] >> shift) & 0x0F) * y->qs[l];
            total += plq_read_half(b) * (float)sc * y->d * (float)sum - plq_read_half(b + 2) * (float)m * y->s;
            break;
        }
        case PLQ_Q6_K: {
            const uint8_t *b = w + (k / 8) * 210;
            const int j = (int)(k % 8), g = j / 4, t = j % 4;
            const uint8_t *ql = b + 64 * g + 32 * (t % 2), *qh = b + 128 + 32 * g;
            const int lshift = 4 * (t / 2), hshift = 2 * t;
            const float d = plq_read_half(b + 208);
            for (int half = 0; half < 2; half++) {
                int sum = 0;
                for (int l = 16 * half; l < 16 * half + 16; l++) {
                    const int q = (((ql[l] >> lshift) & 0x0F) | (((qh[l] >> hshift) & 3) << 4)) - 32;
                    sum += q * y->qs[l];
                }
                total += d * (float)(int8_t)b[192 + 8 * g + 2 * t + half] * y->d * (float)sum;
            }
            break;
        }
        default: break;
        }
    }
    return total;
}

// MARK: - AVX2 and AVX-512 VNNI (256-bit registers)

#ifdef PLQ_QX86
/// One 32-weight sub-block decoded: unsigned bytes q (less q_offset for the weights), the Float
/// scale of each int32 lane (lanes 0–3: weights 0–15, 4–7: 16–31) and the minimum's factor.
typedef struct {
    __m256i q;
    __m256 scale;
    float min;
} q_sub;

/// The offset c the SIMD kernels add to `type`'s signed weights to decode them unsigned (Q5_0:
/// q − 16 stored as q; Q6_K: q − 32 as q); 0 for unsigned types.
static inline int q_offset(int type) { return type == PLQ_Q5_0 ? 16 : type == PLQ_Q6_K ? 32 : 0; }

/// Per-256-block values decoded once per row: Q4_K's 8 scales and minimums (d·sc, dmin·mn), or
/// Q6_K's 16 scales d·sc.
typedef struct {
    float a[16];
    float b[8];
} q_super;

#define Q_TARGET __attribute__((target("avx2,fma,f16c")))
#define Q_NAME(n) n##_avx2
#define Q_DP(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
#include "qmatmul_body.h"
#undef Q_TARGET
#undef Q_NAME
#undef Q_DP

#define Q_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define Q_NAME(n) n##_vnni
#define Q_DP(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
#include "qmatmul_body.h"
#undef Q_TARGET
#undef Q_NAME
#undef Q_DP

int plq_int_kernel_level(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
        const int vnni = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                      && __builtin_cpu_supports("avx512vnni");
        const char *off = getenv("PRUNELANG_NO_VNNI");
        cached = vnni && !(off && *off && *off != '0') ? 2 : avx2 ? 1 : 0;
    }
    return cached;
}
#endif

// MARK: - Entry points

int plq_qmatmul_portable(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                         const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (type != PLQ_Q5_0 && type != PLQ_Q5_1 && type != PLQ_Q4_K && type != PLQ_Q6_K) return -1;
    const int64_t blocks = cols / 32;
    for (int64_t r = row0; r < row1; r++)
        for (int64_t i = 0; i < count; i++) {
            const float v = qdot_portable(type, weights + r * row_bytes, cols, x + i * blocks);
            if (accumulate) out[i * ldo + r] += v; else out[i * ldo + r] = v;
        }
    return 0;
}

int plq_qmatmul_with(int kernel, int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                     const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (type != PLQ_Q5_0 && type != PLQ_Q5_1 && type != PLQ_Q4_K && type != PLQ_Q6_K) return -1;
    int64_t r = row0;
#ifdef PLQ_QX86
    if (kernel < 0 || kernel > plq_int_kernel_level()) return -1;
    switch (kernel) {
    case 2: r = q_rows_vnni(type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate); break;
    case 1: r = q_rows_avx2(type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate); break;
    default: break;
    }
#else
    if (kernel != 0) return -1;
#endif
    return plq_qmatmul_portable(type, weights, row_bytes, r, row1, cols, x, count, out, ldo, accumulate);
}

int plq_qmatmul(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (type == PLQ_Q4_0 || type == PLQ_Q4_1 || type == PLQ_Q8_0 || type == PLQ_Q4_0_X8)
        return plq_matmul(type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
#ifdef PLQ_QX86
    const int kernel = plq_int_kernel_level();
#else
    const int kernel = 0;
#endif
    return plq_qmatmul_with(kernel, type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
}

int plq_qmatmul_parallel(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                         const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (plq_activation_sum(type) < 0) return -1;
    plq_rows_parallel(plq_qmatmul, type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
    return 0;
}

// MARK: - Several products in one parallel region

/// The products of one fused region and the groups of eight rows each starts at.
typedef struct {
    const plq_product *products;
    int count;
    int64_t groups;
} many_args;

/// Groups chunk·G/chunks ..< (chunk+1)·G/chunks of the products' rows laid end to end (each product
/// in whole groups of eight rows), each piece run by plq_qmatmul.
static void many_worker(void *context, int chunk, int chunks) {
    const many_args *a = context;
    int64_t lo = a->groups * chunk / chunks, hi = a->groups * (chunk + 1) / chunks, first = 0;
    for (int p = 0; p < a->count && lo < hi; p++) {
        const plq_product *m = a->products + p;
        const int64_t groups = (m->rows + 7) / 8;
        if (lo < first + groups) {
            const int64_t g0 = lo - first, g1 = (hi < first + groups ? hi : first + groups) - first;
            const int64_t r0 = 8 * g0, r1 = 8 * g1 < m->rows ? 8 * g1 : m->rows;
            plq_qmatmul(m->type, m->weights, m->row_bytes, r0, r1, m->cols, m->x, m->count, m->out, m->ldo, m->accumulate);
            lo = first + g1;
        }
        first += groups;
    }
}

int plq_qmatmul_many(const plq_product *products, int count) {
    int64_t groups = 0;
    for (int p = 0; p < count; p++) {
        if (plq_activation_sum(products[p].type) < 0) return -1;
        groups += (products[p].rows + 7) / 8;
    }
    many_args a = {products, count, groups};
    plq_parallel(many_worker, &a);
    return 0;
}
