// Causal attention for one query row and one head, in a fixed summation order: the result for a
// position depends only on its query and the cached keys and values, never on how many rows share
// the batch. See include/CQuant.h. The portable function defines the order; the AVX2 one keeps it
// lane by lane (8-lane partial sums reduced in a fixed tree, value rows added in position order).
#include "CQuant.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLA_X86 1
#endif

static inline float half_round(float f) { return (float)(_Float16)f; }

/// Softmax of s[0..<n] in place: max, exponentials, their sum in double (as ggml sums them), scale.
static void softmax_row(float *s, int64_t n, int round_probs) {
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++) if (s[j] > m) m = s[j];
    double sum = 0;
    for (int64_t j = 0; j < n; j++) { const float e = expf(s[j] - m); s[j] = e; sum += (double)e; }
    const float inv = (float)(1.0 / sum);
    for (int64_t j = 0; j < n; j++) s[j] = round_probs ? half_round(s[j] * inv) : s[j] * inv;
}

static void attend_portable(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                            int64_t hd, float scale, int round_probs, float *scores, float *out) {
    for (int64_t j = 0; j < n; j++) {
        const float *k = keys + j * ld;
        float lanes[8] = {0};
        int64_t d = 0;
        for (; d + 8 <= hd; d += 8) for (int l = 0; l < 8; l++) lanes[l] = fmaf(q[d + l], k[d + l], lanes[l]);
        float tail = 0;
        for (; d < hd; d++) tail = fmaf(q[d], k[d], tail);
        const float dot = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
        scores[j] = (dot + tail) * scale;
    }
    softmax_row(scores, n, round_probs);
    for (int64_t d = 0; d < hd; d++) out[d] = 0;
    for (int64_t j = 0; j < n; j++) {
        const float p = scores[j], *v = values + j * ld;
        for (int64_t d = 0; d < hd; d++) out[d] = fmaf(p, v[d], out[d]);
    }
}

#ifdef PLA_X86
#define PLA_AVX2 __attribute__((target("avx2,fma")))

/// (l0+l4 + l2+l6) + (l1+l5 + l3+l7): the same tree as the portable reduction.
PLA_AVX2 static inline float reduce8(__m256 v) {
    const __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));   // l0+l4, l1+l5, l2+l6, l3+l7
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));                                   // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

PLA_AVX2 static void attend_avx2(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                                 int64_t hd, float scale, int round_probs, float *scores, float *out) {
    for (int64_t j = 0; j < n; j++) {
        const float *k = keys + j * ld;
        __m256 acc = _mm256_setzero_ps();
        int64_t d = 0;
        for (; d + 8 <= hd; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k + d), acc);
        float tail = 0;
        for (; d < hd; d++) tail = fmaf(q[d], k[d], tail);
        scores[j] = (reduce8(acc) + tail) * scale;
    }
    softmax_row(scores, n, round_probs);
    int64_t d = 0;
    for (; d + 32 <= hd; d += 32) {   // four accumulators of 8 output lanes, value rows in position order
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t j = 0; j < n; j++) {
            const __m256 p = _mm256_set1_ps(scores[j]);
            const float *v = values + j * ld + d;
            a0 = _mm256_fmadd_ps(p, _mm256_loadu_ps(v), a0);
            a1 = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8), a1);
            a2 = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 16), a2);
            a3 = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 24), a3);
        }
        _mm256_storeu_ps(out + d, a0);
        _mm256_storeu_ps(out + d + 8, a1);
        _mm256_storeu_ps(out + d + 16, a2);
        _mm256_storeu_ps(out + d + 24, a3);
    }
    for (; d < hd; d++) {
        float a = 0;
        for (int64_t j = 0; j < n; j++) a = fmaf(scores[j], values[j * ld + d], a);
        out[d] = a;
    }
}

static int attention_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#endif

void plq_attend_row(const float *q, const float *keys, const float *values, int64_t ld, int64_t n, int64_t head_dim,
                    float scale, int round_probs, float *scores, float *out) {
#ifdef PLA_X86
    if (attention_avx2()) { attend_avx2(q, keys, values, ld, n, head_dim, scale, round_probs, scores, out); return; }
#endif
    attend_portable(q, keys, values, ld, n, head_dim, scale, round_probs, scores, out);
}
