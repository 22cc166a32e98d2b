// Causal attention for one query row and one head in the order llama.cpp's CPU backend computes
// it for a batch (flash attention off, f16 K/V cache; see include/CQuant.h): K·Q as tinyBLAS does,
// one 16-lane accumulator per score walking the head dimension, summed by the 16-lane tree; the
// softmax of ggml_soft_max (exponentials by ggml's vector expf, 16 at a time, each group's sum
// added in double); the probabilities rounded to fp16 and P·V again as tinyBLAS does, lane l of
// each output holding the positions j ≡ l (mod 16). The result for a position depends only on its
// query and the cached keys and values, never on how many rows share the batch. The portable
// functions define the order; the AVX2 ones keep it lane by lane.
#include "CQuant.h"
#include "cpu.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLA_X86 1
#endif

static inline float half_round(float f) { return (float)(_Float16)f; }

/// scores[0..<n] ← probabilities: exponentials of s − max by ggml's expf, summed 16 at a time
/// (groups aligned at 0, the last padded with zeros) into a double, scaled by (float)(1/sum) and
/// rounded to fp16. `scores` holds n rounded up to 16 floats.
static void softmax_row(float *s, int64_t n, int vector) {
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++) if (s[j] > m) m = s[j];
    const int64_t padded = (n + 15) & ~(int64_t)15;
    if (vector) plq_ggml_exp_shifted(s, n, m);
    else for (int64_t j = 0; j < n; j++) s[j] = plq_ggml_expf(s[j] - m);
    for (int64_t j = n; j < padded; j++) s[j] = 0;
    double sum = 0;
    for (int64_t c = 0; c < padded; c += 16) sum += (double)plq_reduce16(s + c);
    const float inv = (float)(1.0 / sum);
    for (int64_t j = 0; j < n; j++) s[j] = half_round(s[j] * inv);
}

void plq_attend_row_portable(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                            int64_t hd, float scale, float *scores, float *out) {
    for (int64_t j = 0; j < n; j++) {
        const float *k = keys + j * ld;
        float lanes[16] = {0};
        for (int64_t d = 0; d < hd; d++) lanes[d & 15] = fmaf(q[d], k[d], lanes[d & 15]);
        scores[j] = plq_reduce16(lanes) * scale;
    }
    softmax_row(scores, n, 0);
    for (int64_t d0 = 0; d0 < hd; d0 += 64) {
        const int64_t w = hd - d0 < 64 ? hd - d0 : 64;
        float acc[16][64] = {{0}};
        for (int64_t j = 0; j < n; j++) {
            const float p = scores[j], *v = values + j * ld + d0;
            float *a = acc[j & 15];
            for (int64_t d = 0; d < w; d++) a[d] = fmaf(p, v[d], a[d]);
        }
        for (int64_t d = 0; d < w; d++) {
            float lanes[16];
            for (int l = 0; l < 16; l++) lanes[l] = acc[l][d];
            out[d0 + d] = plq_reduce16(lanes);
        }
    }
}

#ifdef PLA_X86
#define PLA_AVX2 __attribute__((target("avx2,fma")))

/// The 16-lane tree of plq_reduce16 on lanes 0–7 (lo) and 8–15 (hi).
PLA_AVX2 static inline float reduce16(__m256 lo, __m256 hi) {
    const __m256 t8 = _mm256_add_ps(lo, hi);
    const __m128 a = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));   // t4
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));                                     // t4[0]+t4[2], t4[1]+t4[3]
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

/// hd a multiple of 16.
PLA_AVX2 static void attend_avx2(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                                 int64_t hd, float scale, float *scores, float *out) {
    for (int64_t j = 0; j < n; j++) {
        const float *k = keys + j * ld;
        plq_prefetch_floats(k + PLQ_PREFETCH_ROWS * ld, hd);
        __m256 lo = _mm256_setzero_ps(), hi = lo;
        for (int64_t d = 0; d < hd; d += 16) {
            lo = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k + d), lo);
            hi = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), _mm256_loadu_ps(k + d + 8), hi);
        }
        scores[j] = reduce16(lo, hi) * scale;
    }
    softmax_row(scores, n, 1);
    for (int64_t d0 = 0; d0 < hd; d0 += 64) {
        const int64_t vecs = (hd - d0 < 64 ? hd - d0 : 64) / 8;
        __m256 acc[16][8];
        for (int l = 0; l < 16; l++) for (int v = 0; v < 8; v++) acc[l][v] = _mm256_setzero_ps();
        for (int64_t j = 0; j < n; j++) {
            const __m256 p = _mm256_set1_ps(scores[j]);
            const float *row = values + j * ld + d0;
            plq_prefetch_floats(row + PLQ_PREFETCH_ROWS * ld, 8 * vecs);
            __m256 *a = acc[j & 15];
            for (int64_t v = 0; v < vecs; v++) a[v] = _mm256_fmadd_ps(p, _mm256_loadu_ps(row + 8 * v), a[v]);
        }
        for (int64_t v = 0; v < vecs; v++) {
            __m256 t8[8], t4[4];
            for (int l = 0; l < 8; l++) t8[l] = _mm256_add_ps(acc[l][v], acc[l + 8][v]);
            for (int l = 0; l < 4; l++) t4[l] = _mm256_add_ps(t8[l], t8[l + 4]);
            const __m256 r = _mm256_add_ps(_mm256_add_ps(t4[0], t4[2]), _mm256_add_ps(t4[1], t4[3]));
            _mm256_storeu_ps(out + d0 + 8 * v, r);
        }
    }
}

#endif

void plq_attend_row(const float *q, const float *keys, const float *values, int64_t ld, int64_t n, int64_t head_dim,
                    float scale, float *scores, float *out) {
#ifdef PLA_X86
    if (head_dim % 16 == 0 && plq_have_avx2_fma()) { attend_avx2(q, keys, values, ld, n, head_dim, scale, scores, out); return; }
#endif
    plq_attend_row_portable(q, keys, values, ld, n, head_dim, scale, scores, out);
}
