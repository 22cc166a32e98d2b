// ggml's CPU activations as llama.cpp computes them on an AVX-512 machine, reproduced bit for bit:
// its vector exponential (ggml_v_expf, the AVX-512 form: a degree-5 polynomial on the reduced
// argument, scaled by 2^n), SiLU and SwiGLU in 16-value groups with the C library's expf for a
// row's last n mod 16 values, and the 16-lane horizontal sum. See include/CQuant.h.
#include "CQuant.h"
#include "cpu.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLG_X86 1
#endif

float plq_ggml_expf(float x) {
    const float r = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    if (fabsf(n) > 192) return n <= 0 ? 0.0f : INFINITY;
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                         fmaf(0x1.ffffecp-1f, b, 1.0f));
    return ldexpf(j, (int)n);   // _mm512_scalef_ps(j, n): j·2^n rounded once
}

float plq_reduce16(const float v[16]) {
    float t8[8], t4[4];
    for (int i = 0; i < 8; i++) t8[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; i++) t4[i] = t8[i] + t8[i + 4];
    return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

static inline float silu_group(float g) { return g / (1.0f + plq_ggml_expf(0.0f - g)); }

#ifdef PLG_X86
#define PLG_AVX2 __attribute__((target("avx2,fma")))

/// Eight lanes of plq_ggml_expf. 2^n is built from its exponent bits when every lane's result is a
/// normal number (then j·2^n is exact, as scalef's is); other lanes go through the scalar form.
PLG_AVX2 static __m256 expf8(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    const __m256 inRange = _mm256_and_ps(_mm256_cmp_ps(n, _mm256_set1_ps(-125.0f), _CMP_GE_OQ),
                                         _mm256_cmp_ps(n, _mm256_set1_ps(127.0f), _CMP_LE_OQ));
    if (_mm256_movemask_ps(inRange) == 0xff) {
        const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(j, _mm256_castsi256_ps(e));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, x);
    for (int i = 0; i < 8; i++) lanes[i] = plq_ggml_expf(lanes[i]);
    return _mm256_loadu_ps(lanes);
}

PLG_AVX2 static void swiglu_avx2(float *g, const float *u, int64_t n) {
    const int64_t whole = n & ~(int64_t)15;   // ggml's 16-lane loop; the rest one value at a time
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    for (int64_t i = 0; i < whole; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 s = _mm256_div_ps(x, _mm256_add_ps(one, expf8(_mm256_sub_ps(zero, x))));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    for (int64_t i = whole; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

PLG_AVX2 static void exp_shifted_avx2(float *s, int64_t n, float m) {
    int64_t j = 0;
    const __m256 mv = _mm256_set1_ps(m);
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, expf8(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv)));
    for (; j < n; j++) s[j] = plq_ggml_expf(s[j] - m);
}

int plq_have_avx2_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#endif

static void swiglu_row_portable(float *g, const float *u, int64_t n) {
    const int64_t whole = n & ~(int64_t)15;
    for (int64_t i = 0; i < whole; i++) g[i] = silu_group(g[i]) * u[i];
    for (int64_t i = whole; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void plq_ggml_swiglu(float *gate, const float *up, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
#ifdef PLG_X86
        if (plq_have_avx2_fma()) { swiglu_avx2(gate + r * n, up + r * n, n); continue; }
#endif
        swiglu_row_portable(gate + r * n, up + r * n, n);
    }
}

void plq_ggml_exp_shifted(float *s, int64_t n, float m) {
#ifdef PLG_X86
    if (plq_have_avx2_fma()) { exp_shifted_avx2(s, n, m); return; }
#endif
    for (int64_t j = 0; j < n; j++) s[j] = plq_ggml_expf(s[j] - m);
}

void plq_ggml_swiglu_portable(float *gate, const float *up, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) swiglu_row_portable(gate + r * n, up + r * n, n);
}
