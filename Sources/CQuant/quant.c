// Quantised kernels in llama.cpp's arithmetic; see include/CQuant.h. The portable functions define
// the results; the AVX2 ones compute the same integers with wider instructions.
#include "CQuant.h"
#include "cpu.h"

#include <stdlib.h>

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLQ_X86 1
#endif

// MARK: - fp16

/// The fp16 value nearest to f (ties to even), read back as a float.
static inline float round_half(float f) { return (float)(_Float16)f; }

// MARK: - Portable kernels

static void quantize_row_portable(const float *x, plq_block_q8 *y, int64_t cols, int with_sum) {
    for (int64_t b = 0; b < cols / 32; b++) {
        const float *v = x + b * 32;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
        const float d = amax / 127.f;
        const float id = amax != 0 ? 127.f / amax : 0.f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const int q = (int)nearbyintf(v[j] * id);
            y[b].qs[j] = (int8_t)q;
            sum += q;
        }
        y[b].d = round_half(d);
        // ggml stores the block sum as fp16 too, formed from the unrounded scale; with_sum 2
        // keeps it exact, from the rounded scale (d·Σq in Float: the quantized arithmetic's K-quants).
        // with_sum 3 stores the integer sum itself.
        y[b].s = with_sum == 3 ? (float)sum : with_sum == 2 ? y[b].d * (float)sum : with_sum ? round_half(d * (float)sum) : 0.f;
    }
}

static float dot_portable(int type, const uint8_t *w, int64_t blocks, const plq_block_q8 *x) {
    float total = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const int8_t *qy = x[b].qs;
        int sumi = 0;
        switch (type) {
        case PLQ_Q4_0: {
            const uint8_t *blk = w + b * 18, *qs = blk + 2;
            for (int j = 0; j < 16; j++) sumi += ((qs[j] & 0x0F) - 8) * qy[j] + ((qs[j] >> 4) - 8) * qy[j + 16];
            total += plq_read_half(blk) * x[b].d * (float)sumi;
            break;
        }
        case PLQ_Q4_1: {
            const uint8_t *blk = w + b * 20, *qs = blk + 4;
            for (int j = 0; j < 16; j++) sumi += (qs[j] & 0x0F) * qy[j] + (qs[j] >> 4) * qy[j + 16];
            total += plq_read_half(blk) * x[b].d * (float)sumi
                   + plq_read_half(blk + 2) * x[b].s;
            break;
        }
        default: {   // PLQ_Q8_0
            const uint8_t *blk = w + b * 34;
            const int8_t *qs = (const int8_t *)(blk + 2);
            for (int j = 0; j < 32; j++) sumi += qs[j] * qy[j];
            total += plq_read_half(blk) * x[b].d * (float)sumi;
        }
        }
    }
    return total;
}

// MARK: - AVX2 kernels

#ifdef PLQ_X86
#define PLQ_AVX2 __attribute__((target("avx2,fma,f16c")))

PLQ_AVX2 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

PLQ_AVX2 static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

PLQ_AVX2 static inline float f16c_to_float(uint16_t h) { return _cvtsh_ss(h); }

/// 16 bytes of nibbles → 32 bytes: the low nibbles (elements 0..15), then the high ones (16..31).
PLQ_AVX2 static inline __m256i nibbles(const uint8_t *qs) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/// Σ over 32 lanes of a·b for signed bytes a and b, as 8 int32 partial sums.
PLQ_AVX2 static inline __m256i dot_signed(__m256i a, __m256i b) {
    const __m256i ax = _mm256_sign_epi8(a, a), sy = _mm256_sign_epi8(b, a);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

PLQ_AVX2 static void quantize_row_avx2(const float *x, plq_block_q8 *y, int64_t cols, int with_sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < cols / 32; b++) {
        const float *v = x + b * 32;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.f;
        const __m256 id = _mm256_set1_ps(amax != 0 ? 127.f / amax : 0.f);
#define mode (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, id), mode));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, id), mode));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, id), mode));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, id), mode));
        y[b].d = _cvtsh_ss(_cvtss_sh(d, 0));
        if (with_sum) {
            const float sum = (float)hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
            y[b].s = with_sum == 3 ? sum : with_sum == 2 ? y[b].d * sum : _cvtsh_ss(_cvtss_sh(d * sum, 0));
        } else y[b].s = 0.f;
        // Pack to bytes; packs interleave 128-bit lanes, the permute restores element order.
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[b].qs, p);
#undef mode
    }
}

PLQ_AVX2 static float dot_avx2(int type, const uint8_t *w, int64_t blocks, const plq_block_q8 *x) {
    __m256 acc = _mm256_setzero_ps();
    float minimums = 0;
    const __m256i ones = _mm256_set1_epi16(1);
    switch (type) {
    case PLQ_Q4_0:
        for (int64_t b = 0; b < blocks; b++) {
            const uint8_t *blk = w + b * 18;
            const __m256i qx = _mm256_sub_epi8(nibbles(blk + 2), _mm256_set1_epi8(8));
            const __m256i qy = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const __m256 scale = _mm256_set1_ps(f16c_to_float(*(const uint16_t *)blk) * x[b].d);
            acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot_signed(qx, qy)), acc);
        }
        break;
    case PLQ_Q4_1:
        for (int64_t b = 0; b < blocks; b++) {
            const uint8_t *blk = w + b * 20;
            const __m256i qx = nibbles(blk + 4);   // unsigned 0..15
            const __m256i qy = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(qx, qy), ones);
            const __m256 scale = _mm256_set1_ps(f16c_to_float(*(const uint16_t *)blk) * x[b].d);
            acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(sums), acc);
            minimums += f16c_to_float(*(const uint16_t *)(blk + 2)) * x[b].s;
        }
        break;
    default:   // PLQ_Q8_0
        for (int64_t b = 0; b < blocks; b++) {
            const uint8_t *blk = w + b * 34;
            const __m256i qx = _mm256_loadu_si256((const __m256i *)(blk + 2));
            const __m256i qy = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const __m256 scale = _mm256_set1_ps(f16c_to_float(*(const uint16_t *)blk) * x[b].d);
            acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot_signed(qx, qy)), acc);
        }
    }
    return hsum_ps(acc) + minimums;
}

/// dot_avx2 for four weight rows (row_bytes apart) against one activation row: each row's sum is
/// formed in exactly dot_avx2's order, so a row's result does not depend on its neighbours; the
/// four independent chains keep the multiply-add units busy where one row alone waits on latency.
PLQ_AVX2 static void dot4_avx2(int type, const uint8_t *w, int64_t row_bytes, int64_t blocks, const plq_block_q8 *x, float *out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    float min0 = 0, min1 = 0, min2 = 0, min3 = 0;
    const __m256i ones = _mm256_set1_epi16(1);
    const uint8_t *w0 = w, *w1 = w + row_bytes, *w2 = w + 2 * row_bytes, *w3 = w + 3 * row_bytes;
#define PLQ_SCALE(p) _mm256_set1_ps(f16c_to_float(*(const uint16_t *)(p)) * x[b].d)
    switch (type) {
    case PLQ_Q4_0:
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i qy = _mm256_loadu_si256((const __m256i *)x[b].qs), eight = _mm256_set1_epi8(8);
            const int64_t o = b * 18;
            acc0 = _mm256_fmadd_ps(PLQ_SCALE(w0 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_sub_epi8(nibbles(w0 + o + 2), eight), qy)), acc0);
            acc1 = _mm256_fmadd_ps(PLQ_SCALE(w1 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_sub_epi8(nibbles(w1 + o + 2), eight), qy)), acc1);
            acc2 = _mm256_fmadd_ps(PLQ_SCALE(w2 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_sub_epi8(nibbles(w2 + o + 2), eight), qy)), acc2);
            acc3 = _mm256_fmadd_ps(PLQ_SCALE(w3 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_sub_epi8(nibbles(w3 + o + 2), eight), qy)), acc3);
        }
        break;
    case PLQ_Q4_1:
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i qy = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const int64_t o = b * 20;
            const float s = x[b].s;
            acc0 = _mm256_fmadd_ps(PLQ_SCALE(w0 + o), _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(nibbles(w0 + o + 4), qy), ones)), acc0);
            acc1 = _mm256_fmadd_ps(PLQ_SCALE(w1 + o), _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(nibbles(w1 + o + 4), qy), ones)), acc1);
            acc2 = _mm256_fmadd_ps(PLQ_SCALE(w2 + o), _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(nibbles(w2 + o + 4), qy), ones)), acc2);
            acc3 = _mm256_fmadd_ps(PLQ_SCALE(w3 + o), _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(nibbles(w3 + o + 4), qy), ones)), acc3);
            min0 += f16c_to_float(*(const uint16_t *)(w0 + o + 2)) * s;
            min1 += f16c_to_float(*(const uint16_t *)(w1 + o + 2)) * s;
            min2 += f16c_to_float(*(const uint16_t *)(w2 + o + 2)) * s;
            min3 += f16c_to_float(*(const uint16_t *)(w3 + o + 2)) * s;
        }
        break;
    default:   // PLQ_Q8_0
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i qy = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const int64_t o = b * 34;
            acc0 = _mm256_fmadd_ps(PLQ_SCALE(w0 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_loadu_si256((const __m256i *)(w0 + o + 2)), qy)), acc0);
            acc1 = _mm256_fmadd_ps(PLQ_SCALE(w1 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_loadu_si256((const __m256i *)(w1 + o + 2)), qy)), acc1);
            acc2 = _mm256_fmadd_ps(PLQ_SCALE(w2 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_loadu_si256((const __m256i *)(w2 + o + 2)), qy)), acc2);
            acc3 = _mm256_fmadd_ps(PLQ_SCALE(w3 + o), _mm256_cvtepi32_ps(dot_signed(_mm256_loadu_si256((const __m256i *)(w3 + o + 2)), qy)), acc3);
        }
    }
#undef PLQ_SCALE
    out[0] = hsum_ps(acc0) + min0;
    out[1] = hsum_ps(acc1) + min1;
    out[2] = hsum_ps(acc2) + min2;
    out[3] = hsum_ps(acc3) + min3;
}

// MARK: - AVX-512 VNNI kernel (256-bit registers)

#define PLQ_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

/// Σ over 32 lanes of a·b for signed bytes, as 8 int32 partial sums (lane m: bytes 4m..4m+3): the
/// same integers as dot_signed, in one vpdpbusd.
PLQ_VNNI static inline __m256i dot_signed_vnni(__m256i a, __m256i b) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

/// dot4_avx2 for four weight rows against two activation rows at once: each of the eight sums in
/// exactly dot_avx2's order (the integer lane sums are the same integers), the weights decoded once
/// for both activation rows.
PLQ_VNNI static void dot4x2_vnni(int type, const uint8_t *w, int64_t row_bytes, int64_t blocks,
                                 const plq_block_q8 *x0, const plq_block_q8 *x1, float *out0, float *out1) {
    __m256 a00 = _mm256_setzero_ps(), a10 = a00, a20 = a00, a30 = a00, a01 = a00, a11 = a00, a21 = a00, a31 = a00;
    float m00 = 0, m10 = 0, m20 = 0, m30 = 0, m01 = 0, m11 = 0, m21 = 0, m31 = 0;
    const uint8_t *w0 = w, *w1 = w + row_bytes, *w2 = w + 2 * row_bytes, *w3 = w + 3 * row_bytes;
    const __m256i zero = _mm256_setzero_si256();
#define PLQ_PAIR(acc, p, q, xb) acc = _mm256_fmadd_ps(_mm256_set1_ps(f16c_to_float(*(const uint16_t *)(p)) * (xb).d), \
                                                      _mm256_cvtepi32_ps(q), acc)
/// A signed dot by offsets (see the Q4_0 case): vpdpbusd of the unsigned q + c, less c·Σ y.
#define PLQ_OFF(q, y, c) _mm256_sub_epi32(_mm256_dpbusd_epi32(zero, q, y), c)
    switch (type) {
    case PLQ_Q4_1:
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i y0 = _mm256_loadu_si256((const __m256i *)x0[b].qs), y1 = _mm256_loadu_si256((const __m256i *)x1[b].qs);
            const int64_t o = b * 20;
            const __m256i q0 = nibbles(w0 + o + 4), q1 = nibbles(w1 + o + 4), q2 = nibbles(w2 + o + 4), q3 = nibbles(w3 + o + 4);
            PLQ_PAIR(a00, w0 + o, _mm256_dpbusd_epi32(zero, q0, y0), x0[b]); PLQ_PAIR(a01, w0 + o, _mm256_dpbusd_epi32(zero, q0, y1), x1[b]);
            PLQ_PAIR(a10, w1 + o, _mm256_dpbusd_epi32(zero, q1, y0), x0[b]); PLQ_PAIR(a11, w1 + o, _mm256_dpbusd_epi32(zero, q1, y1), x1[b]);
            PLQ_PAIR(a20, w2 + o, _mm256_dpbusd_epi32(zero, q2, y0), x0[b]); PLQ_PAIR(a21, w2 + o, _mm256_dpbusd_epi32(zero, q2, y1), x1[b]);
            PLQ_PAIR(a30, w3 + o, _mm256_dpbusd_epi32(zero, q3, y0), x0[b]); PLQ_PAIR(a31, w3 + o, _mm256_dpbusd_epi32(zero, q3, y1), x1[b]);
            const float n0 = f16c_to_float(*(const uint16_t *)(w0 + o + 2)), n1 = f16c_to_float(*(const uint16_t *)(w1 + o + 2));
            const float n2 = f16c_to_float(*(const uint16_t *)(w2 + o + 2)), n3 = f16c_to_float(*(const uint16_t *)(w3 + o + 2));
            const float s0 = x0[b].s, s1 = x1[b].s;
            m00 += n0 * s0; m10 += n1 * s0; m20 += n2 * s0; m30 += n3 * s0;
            m01 += n0 * s1; m11 += n1 * s1; m21 += n2 * s1; m31 += n3 * s1;
        }
        break;
    // Q4_0 and Q8_0 by offsets: Σ q·y = Σ (q + c)·y − c·Σ y with q + c unsigned (Q4_0: the stored
    // nibble, c = 8; Q8_0: q xor 0x80, c = 128), each lane's four-byte sum the same integer as
    // dot_signed_vnni's; c·Σ y is taken once per activation block and serves all four rows.
    case PLQ_Q4_0: {
        const __m256i eight = _mm256_set1_epi8(8);
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i y0 = _mm256_loadu_si256((const __m256i *)x0[b].qs), y1 = _mm256_loadu_si256((const __m256i *)x1[b].qs);
            const __m256i c0 = _mm256_dpbusd_epi32(zero, eight, y0), c1 = _mm256_dpbusd_epi32(zero, eight, y1);
            const int64_t o = b * 18;
            const __m256i q0 = nibbles(w0 + o + 2), q1 = nibbles(w1 + o + 2), q2 = nibbles(w2 + o + 2), q3 = nibbles(w3 + o + 2);
            PLQ_PAIR(a00, w0 + o, PLQ_OFF(q0, y0, c0), x0[b]); PLQ_PAIR(a01, w0 + o, PLQ_OFF(q0, y1, c1), x1[b]);
            PLQ_PAIR(a10, w1 + o, PLQ_OFF(q1, y0, c0), x0[b]); PLQ_PAIR(a11, w1 + o, PLQ_OFF(q1, y1, c1), x1[b]);
            PLQ_PAIR(a20, w2 + o, PLQ_OFF(q2, y0, c0), x0[b]); PLQ_PAIR(a21, w2 + o, PLQ_OFF(q2, y1, c1), x1[b]);
            PLQ_PAIR(a30, w3 + o, PLQ_OFF(q3, y0, c0), x0[b]); PLQ_PAIR(a31, w3 + o, PLQ_OFF(q3, y1, c1), x1[b]);
        }
        break;
    }
    default: {   // PLQ_Q8_0
        const __m256i top = _mm256_set1_epi8((char)0x80);
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i y0 = _mm256_loadu_si256((const __m256i *)x0[b].qs), y1 = _mm256_loadu_si256((const __m256i *)x1[b].qs);
            const __m256i c0 = _mm256_dpbusd_epi32(zero, top, y0), c1 = _mm256_dpbusd_epi32(zero, top, y1);
            const int64_t o = b * 34;
            const __m256i q0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w0 + o + 2)), top);
            const __m256i q1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w1 + o + 2)), top);
            const __m256i q2 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w2 + o + 2)), top);
            const __m256i q3 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w3 + o + 2)), top);
            PLQ_PAIR(a00, w0 + o, PLQ_OFF(q0, y0, c0), x0[b]); PLQ_PAIR(a01, w0 + o, PLQ_OFF(q0, y1, c1), x1[b]);
            PLQ_PAIR(a10, w1 + o, PLQ_OFF(q1, y0, c0), x0[b]); PLQ_PAIR(a11, w1 + o, PLQ_OFF(q1, y1, c1), x1[b]);
            PLQ_PAIR(a20, w2 + o, PLQ_OFF(q2, y0, c0), x0[b]); PLQ_PAIR(a21, w2 + o, PLQ_OFF(q2, y1, c1), x1[b]);
            PLQ_PAIR(a30, w3 + o, PLQ_OFF(q3, y0, c0), x0[b]); PLQ_PAIR(a31, w3 + o, PLQ_OFF(q3, y1, c1), x1[b]);
        }
    }
    }
#undef PLQ_OFF
#undef PLQ_PAIR
    out0[0] = hsum_ps(a00) + m00; out0[1] = hsum_ps(a10) + m10; out0[2] = hsum_ps(a20) + m20; out0[3] = hsum_ps(a30) + m30;
    out1[0] = hsum_ps(a01) + m01; out1[1] = hsum_ps(a11) + m11; out1[2] = hsum_ps(a21) + m21; out1[3] = hsum_ps(a31) + m31;
}

/// dot4_avx2 with vpdpbusd (one activation row: decoding); the same sums bit for bit.
PLQ_VNNI static void dot4_vnni(int type, const uint8_t *w, int64_t row_bytes, int64_t blocks, const plq_block_q8 *x, float *out) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    float m0 = 0, m1 = 0, m2 = 0, m3 = 0;
    const uint8_t *w0 = w, *w1 = w + row_bytes, *w2 = w + 2 * row_bytes, *w3 = w + 3 * row_bytes;
    const __m256i zero = _mm256_setzero_si256();
#define PLQ_ONE(acc, p, q) acc = _mm256_fmadd_ps(_mm256_set1_ps(f16c_to_float(*(const uint16_t *)(p)) * x[b].d), _mm256_cvtepi32_ps(q), acc)
    switch (type) {
    case PLQ_Q4_1:
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const int64_t o = b * 20;
            const float s = x[b].s;
            PLQ_ONE(a0, w0 + o, _mm256_dpbusd_epi32(zero, nibbles(w0 + o + 4), y));
            PLQ_ONE(a1, w1 + o, _mm256_dpbusd_epi32(zero, nibbles(w1 + o + 4), y));
            PLQ_ONE(a2, w2 + o, _mm256_dpbusd_epi32(zero, nibbles(w2 + o + 4), y));
            PLQ_ONE(a3, w3 + o, _mm256_dpbusd_epi32(zero, nibbles(w3 + o + 4), y));
            m0 += f16c_to_float(*(const uint16_t *)(w0 + o + 2)) * s;
            m1 += f16c_to_float(*(const uint16_t *)(w1 + o + 2)) * s;
            m2 += f16c_to_float(*(const uint16_t *)(w2 + o + 2)) * s;
            m3 += f16c_to_float(*(const uint16_t *)(w3 + o + 2)) * s;
        }
        break;
    case PLQ_Q4_0:
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)x[b].qs), eight = _mm256_set1_epi8(8);
            const int64_t o = b * 18;
            PLQ_ONE(a0, w0 + o, dot_signed_vnni(_mm256_sub_epi8(nibbles(w0 + o + 2), eight), y));
            PLQ_ONE(a1, w1 + o, dot_signed_vnni(_mm256_sub_epi8(nibbles(w1 + o + 2), eight), y));
            PLQ_ONE(a2, w2 + o, dot_signed_vnni(_mm256_sub_epi8(nibbles(w2 + o + 2), eight), y));
            PLQ_ONE(a3, w3 + o, dot_signed_vnni(_mm256_sub_epi8(nibbles(w3 + o + 2), eight), y));
        }
        break;
    default:   // PLQ_Q8_0
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i y = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const int64_t o = b * 34;
            PLQ_ONE(a0, w0 + o, dot_signed_vnni(_mm256_loadu_si256((const __m256i *)(w0 + o + 2)), y));
            PLQ_ONE(a1, w1 + o, dot_signed_vnni(_mm256_loadu_si256((const __m256i *)(w1 + o + 2)), y));
            PLQ_ONE(a2, w2 + o, dot_signed_vnni(_mm256_loadu_si256((const __m256i *)(w2 + o + 2)), y));
            PLQ_ONE(a3, w3 + o, dot_signed_vnni(_mm256_loadu_si256((const __m256i *)(w3 + o + 2)), y));
        }
    }
#undef PLQ_ONE
    out[0] = hsum_ps(a0) + m0; out[1] = hsum_ps(a1) + m1; out[2] = hsum_ps(a2) + m2; out[3] = hsum_ps(a3) + m3;
}

static int have_vnni(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
        const char *off = getenv("PRUNELANG_NO_VNNI");   // to measure and test the AVX2 kernel on a VNNI machine
        if (off && *off && *off != '0') cached = 0;
    }
    return cached;
}

PLQ_AVX2 static void round_half_avx2(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(x + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) x[i] = _cvtsh_ss(_cvtss_sh(x[i], 0));
}

static int have_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return cached;
}
#else
static int have_avx2(void) { return 0; }
#endif

// MARK: - Entry points

void plq_quantize_row(const float *x, plq_block_q8 *y, int64_t cols, int with_sum) {
#ifdef PLQ_X86
    if (have_avx2()) { quantize_row_avx2(x, y, cols, with_sum); return; }
#endif
    quantize_row_portable(x, y, cols, with_sum);
}

void plq_fake_quantize(float *x, int64_t rows, int64_t cols, int with_sum) {
    plq_block_q8 blocks[64];
    for (int64_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (int64_t start = 0; start < cols; start += 64 * 32) {
            const int64_t n = cols - start < 64 * 32 ? cols - start : 64 * 32;
            plq_quantize_row(row + start, blocks, n, with_sum);
            for (int64_t j = 0; j < n; j++) row[start + j] = blocks[j / 32].d * (float)blocks[j / 32].qs[j % 32];
        }
    }
}

void plq_round_half(float *x, int64_t n) {
#ifdef PLQ_X86
    if (have_avx2()) { round_half_avx2(x, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) x[i] = round_half(x[i]);
}

int plq_matmul(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
               const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (type == PLQ_Q4_0_X8) return plq_q4_0_rows8(weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
    if (type != PLQ_Q4_0 && type != PLQ_Q4_1 && type != PLQ_Q8_0) return -1;
    const int64_t blocks = cols / 32;
    float (*dot)(int, const uint8_t *, int64_t, const plq_block_q8 *) = dot_portable;
    int64_t r = row0;
#ifdef PLQ_X86
    if (have_avx2()) {
        dot = dot_avx2;
        // Four weight rows at a time (they stay in L1 while every activation row streams past them).
        float v[4], v1[4];
        const int vnni = have_vnni();
        const uint8_t *end = weights + row1 * row_bytes;
        if (count <= 2) plq_prefetch(weights + row0 * row_bytes, PLQ_PREFETCH_BYTES, end);
        for (; r + 4 <= row1; r += 4) {
            const uint8_t *w = weights + r * row_bytes;
            if (count <= 2) plq_prefetch(w + PLQ_PREFETCH_BYTES, 4 * row_bytes, end);
            int64_t i = 0;
            for (; vnni && i + 2 <= count; i += 2) {   // two activation rows per pass of the weights
                dot4x2_vnni(type, w, row_bytes, blocks, x + i * blocks, x + (i + 1) * blocks, v, v1);
                float *o = out + i * ldo + r, *o1 = o + ldo;
                if (accumulate) { o[0] += v[0]; o[1] += v[1]; o[2] += v[2]; o[3] += v[3]; o1[0] += v1[0]; o1[1] += v1[1]; o1[2] += v1[2]; o1[3] += v1[3]; }
                else { o[0] = v[0]; o[1] = v[1]; o[2] = v[2]; o[3] = v[3]; o1[0] = v1[0]; o1[1] = v1[1]; o1[2] = v1[2]; o1[3] = v1[3]; }
            }
            for (; i < count; i++) {
                if (vnni) dot4_vnni(type, w, row_bytes, blocks, x + i * blocks, v);
                else dot4_avx2(type, w, row_bytes, blocks, x + i * blocks, v);
                float *o = out + i * ldo + r;
                if (accumulate) { o[0] += v[0]; o[1] += v[1]; o[2] += v[2]; o[3] += v[3]; }
                else { o[0] = v[0]; o[1] = v[1]; o[2] = v[2]; o[3] = v[3]; }
            }
        }
    }
#endif
    // The remaining rows one at a time, weight row outermost.
    for (; r < row1; r++) {
        const uint8_t *w = weights + r * row_bytes;
        for (int64_t i = 0; i < count; i++) {
            const float v = dot(type, w, blocks, x + i * blocks);
            if (accumulate) out[i * ldo + r] += v; else out[i * ldo + r] = v;
        }
    }
    return 0;
}

typedef struct {
    plq_rows_kernel kernel;
    int type, accumulate;
    const uint8_t *weights;
    int64_t row_bytes, row0, row1, cols, count, ldo;
    const plq_block_q8 *x;
    float *out;
} rows_args;

// One pool chunk's rows: whole groups of eight, so a kernel's four- or eight-row passes never
// straddle chunks.
static void rows_worker(void *context, int chunk, int chunks) {
    const rows_args *a = context;
    const int64_t groups = (a->row1 - a->row0 + 7) / 8;
    const int64_t lo = a->row0 + 8 * (groups * chunk / chunks), hi = a->row0 + 8 * (groups * (chunk + 1) / chunks);
    const int64_t end = hi < a->row1 ? hi : a->row1;
    if (lo < end) a->kernel(a->type, a->weights, a->row_bytes, lo, end, a->cols, a->x, a->count, a->out, a->ldo, a->accumulate);
}

void plq_rows_parallel(plq_rows_kernel kernel, int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1,
                       int64_t cols, const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    rows_args a = {kernel, type, accumulate, weights, row_bytes, row0, row1, cols, count, ldo, x, out};
    plq_parallel(rows_worker, &a);
}

int plq_matmul_parallel(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                        const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    if (type != PLQ_Q4_0 && type != PLQ_Q4_1 && type != PLQ_Q8_0 && type != PLQ_Q4_0_X8) return -1;
    plq_rows_parallel(plq_matmul, type, weights, row_bytes, row0, row1, cols, x, count, out, ldo, accumulate);
    return 0;
}
