// Products on quantised weight blocks for the "quantized" arithmetic; see include/CQuant.h.
// Q4_0 / Q4_1 / Q8_0 go to plq_matmul (llama.cpp's integer kernels, unchanged); Q5_0, Q5_1, Q4_K
// and Q6_K are dotted here against activations in 8-bit blocks of 32 (plq_block_q8), with
// integer multiply-adds per 32 (Q6_K: per 16) weights and one Float scale per sub-block:
//   Q5_0: d·dx·Σ(q−16)·qx                      (q: 4 low bits + 1 high bit)
//   Q5_1: d·dx·Σq·qx + m·s                     (s = fp16(dx·Σqx), the Q8_1 sum, as llama.cpp)
//   Q4_K: (d·sc)·dx·Σq·qx − (dmin·mn)·s        (s = dx·Σqx unrounded; sc, mn the 6-bit pairs)
//   Q6_K: Σ over the two 16-halves (d·sc)·dx·Σ(q−32)·qx
// The AVX-512 VNNI kernel (256-bit registers) takes four weight rows against one or two
// activation rows per pass; elsewhere a portable kernel computes the same sums (Float results
// equal up to summation order).
#include "CQuant.h"
#include "cpu.h"

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

// MARK: - AVX-512 VNNI (256-bit registers)

#ifdef PLQ_QX86
#define PLQ_QVNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define PLQ_QINLINE PLQ_QVNNI static inline __attribute__((always_inline))

PLQ_QINLINE float q_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// 16 bytes of nibbles → 32 bytes: the low nibbles, then the high ones.
PLQ_QINLINE __m256i q_nibbles(const uint8_t *qs) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
}

/// Byte i = 0x10 where bit i of the 32 bits at p is set, else 0.
PLQ_QINLINE __m256i q_high_bits(const uint8_t *p) {
    uint32_t qh;
    memcpy(&qh, p, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

/// One 32-weight sub-block decoded: bytes q (unsigned, or signed when `is_signed`), the Float
/// scale of each int32 lane (lanes 0–3: weights 0–15, 4–7: 16–31) and the minimum's factor.
typedef struct {
    __m256i q;
    __m256 scale;
    float min;
} q_sub;

/// Whether `type`'s decoded bytes are signed.
static inline int q_signed(int type) { return type == PLQ_Q5_0 || type == PLQ_Q6_K; }

/// Per-256-block values decoded once per row: Q4_K's 8 scales and minimums (d·sc, dmin·mn), or
/// Q6_K's 16 scales d·sc.
typedef struct {
    float a[16];
    float b[8];
} q_super;

PLQ_QINLINE void q_decode_super(int type, const uint8_t *b, q_super *s) {
    if (type == PLQ_Q4_K) {
        const float d = plq_read_half(b), dmin = plq_read_half(b + 2);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            scale_min_k4(j, b + 4, &sc, &m);
            s->a[j] = d * (float)sc;
            s->b[j] = dmin * (float)m;
        }
    } else {   // Q6_K
        const float d = plq_read_half(b + 208);
        for (int j = 0; j < 16; j++) s->a[j] = d * (float)(int8_t)b[192 + j];
    }
}

/// Sub-block j (of 8) of the 256-block at b, or the 32-block at b (j ignored).
PLQ_QINLINE q_sub q_decode(int type, const uint8_t *b, int j, const q_super *s) {
    q_sub r;
    switch (type) {
    case PLQ_Q5_0:
        r.q = _mm256_sub_epi8(_mm256_or_si256(q_nibbles(b + 6), q_high_bits(b + 2)), _mm256_set1_epi8(16));
        r.scale = _mm256_set1_ps(plq_read_half(b));
        r.min = 0;
        break;
    case PLQ_Q5_1:
        r.q = _mm256_or_si256(q_nibbles(b + 8), q_high_bits(b + 4));
        r.scale = _mm256_set1_ps(plq_read_half(b));
        r.min = plq_read_half(b + 2);
        break;
    case PLQ_Q4_K: {
        const __m256i raw = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * (j / 2)));
        r.q = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(raw, 4) : raw, _mm256_set1_epi8(0x0F));
        r.scale = _mm256_set1_ps(s->a[j]);
        r.min = -s->b[j];
        break;
    }
    default: {   // PLQ_Q6_K
        const int g = j / 4, t = j % 4;
        const __m256i ql = _mm256_loadu_si256((const __m256i *)(b + 64 * g + 32 * (t % 2)));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * g));
        const __m256i lo = _mm256_and_si256(t / 2 ? _mm256_srli_epi16(ql, 4) : ql, _mm256_set1_epi8(0x0F));
        const __m256i hi = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * t), 4), _mm256_set1_epi8(0x30));
        r.q = _mm256_sub_epi8(_mm256_or_si256(lo, hi), _mm256_set1_epi8(32));
        r.scale = _mm256_setr_m128(_mm_set1_ps(s->a[8 * g + 2 * t]), _mm_set1_ps(s->a[8 * g + 2 * t + 1]));
        r.min = 0;
    }
    }
    return r;
}

/// Σ per int32 lane of q·y (signed or unsigned q, signed y).
PLQ_QINLINE __m256i q_dot(int type, __m256i q, __m256i y) {
    const __m256i zero = _mm256_setzero_si256();
    if (q_signed(type)) return _mm256_dpbusd_epi32(zero, _mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q));
    return _mm256_dpbusd_epi32(zero, q, y);
}

/// Four weight rows (row_bytes apart) against `C` (1 or 2) activation rows.
PLQ_QINLINE void q_kernel(int type, int C, const uint8_t *w, int64_t row_bytes, int64_t cols,
                          const plq_block_q8 *x0, const plq_block_q8 *x1, float *out0, float *out1) {
    __m256 acc[4][2];
    float mins[4][2];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 2; c++) { acc[r][c] = _mm256_setzero_ps(); mins[r][c] = 0; }
    const plq_block_q8 *xs[2] = {x0, x1};
    const int64_t nb = cols / 32;
    if (type == PLQ_Q4_K || type == PLQ_Q6_K) {
        const int64_t bytes = type == PLQ_Q4_K ? 144 : 210;
        for (int64_t sb = 0; sb < nb / 8; sb++) {
            q_super sup[4];
            for (int r = 0; r < 4; r++) q_decode_super(type, w + r * row_bytes + sb * bytes, &sup[r]);
            for (int j = 0; j < 8; j++) {
                const int64_t k = sb * 8 + j;
                for (int r = 0; r < 4; r++) {
                    const q_sub s = q_decode(type, w + r * row_bytes + sb * bytes, j, &sup[r]);
                    for (int c = 0; c < C; c++) {
                        const plq_block_q8 *y = xs[c] + k;
                        const __m256i isum = q_dot(type, s.q, _mm256_loadu_si256((const __m256i *)y->qs));
                        acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(s.scale, _mm256_set1_ps(y->d)), _mm256_cvtepi32_ps(isum), acc[r][c]);
                        if (type == PLQ_Q4_K) mins[r][c] += s.min * y->s;
                    }
                }
            }
        }
    } else {
        const int64_t bytes = type == PLQ_Q5_0 ? 22 : 24;
        for (int64_t k = 0; k < nb; k++) {
            for (int r = 0; r < 4; r++) {
                const q_sub s = q_decode(type, w + r * row_bytes + k * bytes, 0, NULL);
                for (int c = 0; c < C; c++) {
                    const plq_block_q8 *y = xs[c] + k;
                    const __m256i isum = q_dot(type, s.q, _mm256_loadu_si256((const __m256i *)y->qs));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(s.scale, _mm256_set1_ps(y->d)), _mm256_cvtepi32_ps(isum), acc[r][c]);
                    if (type == PLQ_Q5_1) mins[r][c] += s.min * y->s;
                }
            }
        }
    }
    for (int r = 0; r < 4; r++) {
        out0[r] = q_hsum(acc[r][0]) + mins[r][0];
        if (C == 2) out1[r] = q_hsum(acc[r][1]) + mins[r][1];
    }
}

#define PLQ_QKERNELS(NAME, TYPE) \
    PLQ_QVNNI static void NAME##_x1(const uint8_t *w, int64_t rb, int64_t cols, const plq_block_q8 *x0, float *o0) { \
        q_kernel(TYPE, 1, w, rb, cols, x0, x0, o0, o0); } \
    PLQ_QVNNI static void NAME##_x2(const uint8_t *w, int64_t rb, int64_t cols, const plq_block_q8 *x0, const plq_block_q8 *x1, float *o0, float *o1) { \
        q_kernel(TYPE, 2, w, rb, cols, x0, x1, o0, o1); }
PLQ_QKERNELS(q5_0, PLQ_Q5_0)
PLQ_QKERNELS(q5_1, PLQ_Q5_1)
PLQ_QKERNELS(q4_k, PLQ_Q4_K)
PLQ_QKERNELS(q6_k, PLQ_Q6_K)
#undef PLQ_QKERNELS

static int q_have_vnni(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")
              && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
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

int plq_qmatmul(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (type == PLQ_Q4_0 || type == PLQ_Q4_1 || type == PLQ_Q8_0 || type == PLQ_Q4_0_X8)
        return plq_matmul(type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
    if (type != PLQ_Q5_0 && type != PLQ_Q5_1 && type != PLQ_Q4_K && type != PLQ_Q6_K) return -1;
    const int64_t blocks = cols / 32;
    int64_t r = row0;
#ifdef PLQ_QX86
    if (q_have_vnni()) {
        float v[4], v1[4];
        for (; r + 4 <= row1; r += 4) {
            const uint8_t *w = weights + r * row_bytes;
            int64_t i = 0;
            for (; i + 2 <= count; i += 2) {
                const plq_block_q8 *a = x + i * blocks, *b = a + blocks;
                switch (type) {
                case PLQ_Q5_0: q5_0_x2(w, row_bytes, cols, a, b, v, v1); break;
                case PLQ_Q5_1: q5_1_x2(w, row_bytes, cols, a, b, v, v1); break;
                case PLQ_Q4_K: q4_k_x2(w, row_bytes, cols, a, b, v, v1); break;
                default: q6_k_x2(w, row_bytes, cols, a, b, v, v1);
                }
                float *o = out + i * ldo + r, *o1 = o + ldo;
                for (int j = 0; j < 4; j++) {
                    if (accumulate) { o[j] += v[j]; o1[j] += v1[j]; } else { o[j] = v[j]; o1[j] = v1[j]; }
                }
            }
            for (; i < count; i++) {
                const plq_block_q8 *a = x + i * blocks;
                switch (type) {
                case PLQ_Q5_0: q5_0_x1(w, row_bytes, cols, a, v); break;
                case PLQ_Q5_1: q5_1_x1(w, row_bytes, cols, a, v); break;
                case PLQ_Q4_K: q4_k_x1(w, row_bytes, cols, a, v); break;
                default: q6_k_x1(w, row_bytes, cols, a, v);
                }
                float *o = out + i * ldo + r;
                for (int j = 0; j < 4; j++) { if (accumulate) o[j] += v[j]; else o[j] = v[j]; }
            }
        }
    }
#endif
    return plq_qmatmul_portable(type, weights, row_bytes, r, row1, cols, x, count, out, ldo, accumulate);
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
