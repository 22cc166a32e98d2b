// One instance of the Q4_0 eight-row kernels of q4_0_rows8.c, compiled for R8_TARGET with R8_DP(acc,
// u, s) as its dot of unsigned bytes u with signed bytes s (four bytes per int32 lane, added to
// acc). Included once per instruction set; every instance computes the same numbers.

/// 16 bytes of nibbles → 32 unsigned bytes 0..15 in element order (low nibbles are elements 0..15).
R8_TARGET static inline __m256i R8_NAME(r8_nibbles)(const uint8_t *qs) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
}

/// The fp16 scales of eight rows (row_bytes apart) at byte offset o, as floats.
R8_TARGET static inline __m256 R8_NAME(r8_scales)(const uint8_t *w, int64_t rb, int64_t o) {
    uint16_t h[8];
    for (int r = 0; r < 8; r++) memcpy(h + r, w + r * rb + o, 2);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

/// fma(float(Σ(q−8)·y), d_w·d_x, acc) for the eight rows' integer sums `dots` (Σ q·y, q unsigned).
#define R8_STEP(acc, dots, scales, y) \
    acc = _mm256_fmadd_ps(_mm256_fnmadd_ps(_mm256_set1_ps(8.f), _mm256_set1_ps((y).s), _mm256_cvtepi32_ps(dots)), \
                          _mm256_mul_ps(scales, _mm256_set1_ps((y).d)), acc)

/// Eight rows (w: the first, rb bytes apart) against one activation row, on the stored blocks: each
/// row's 32-lane dot reduced to its block sum, the eight sums in one vector. For a few activation
/// rows (decoding), where a panel would not pay for itself.
R8_TARGET static void R8_NAME(r8_direct)(const uint8_t *w, int64_t rb, int64_t blocks, const plq_block_q8 *y, float *o8) {
    const __m256i zero = _mm256_setzero_si256();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)y[b].qs);
        const int64_t o = b * 18;
        const __m256i d0 = R8_DP(zero, R8_NAME(r8_nibbles)(w + o + 2), v);
        const __m256i d1 = R8_DP(zero, R8_NAME(r8_nibbles)(w + rb + o + 2), v);
        const __m256i d2 = R8_DP(zero, R8_NAME(r8_nibbles)(w + 2 * rb + o + 2), v);
        const __m256i d3 = R8_DP(zero, R8_NAME(r8_nibbles)(w + 3 * rb + o + 2), v);
        const __m256i d4 = R8_DP(zero, R8_NAME(r8_nibbles)(w + 4 * rb + o + 2), v);
        const __m256i d5 = R8_DP(zero, R8_NAME(r8_nibbles)(w + 5 * rb + o + 2), v);
        const __m256i d6 = R8_DP(zero, R8_NAME(r8_nibbles)(w + 6 * rb + o + 2), v);
        const __m256i d7 = R8_DP(zero, R8_NAME(r8_nibbles)(w + 7 * rb + o + 2), v);
        // hadd pairs lanes within 128-bit halves: after two rounds the low half holds rows 0–3's
        // sums of lanes 0–3 and the high half their lanes 4–7; the same for rows 4–7.
        const __m256i lo = _mm256_hadd_epi32(_mm256_hadd_epi32(d0, d1), _mm256_hadd_epi32(d2, d3));
        const __m256i hi = _mm256_hadd_epi32(_mm256_hadd_epi32(d4, d5), _mm256_hadd_epi32(d6, d7));
        const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
        R8_STEP(acc, sums, R8_NAME(r8_scales)(w, rb, o), y[b]);
    }
    _mm256_storeu_ps(o8, acc);
}

/// Packs eight rows (w: the first, rb bytes apart), blocks k0..<k0+kc: vector g of block b (q[8b+g])
/// holds bytes 4g..4g+3 of rows 0..7 in turn (an 8×8 transpose of 32-bit words), d[8b..8b+7] the
/// rows' scales.
R8_TARGET static void R8_NAME(r8_pack)(const uint8_t *w, int64_t rb, int64_t k0, int64_t kc, __m256i *q, float *d) {
    for (int64_t b = 0; b < kc; b++) {
        const int64_t o = (k0 + b) * 18;
        const __m256i u0 = R8_NAME(r8_nibbles)(w + o + 2), u1 = R8_NAME(r8_nibbles)(w + rb + o + 2);
        const __m256i u2 = R8_NAME(r8_nibbles)(w + 2 * rb + o + 2), u3 = R8_NAME(r8_nibbles)(w + 3 * rb + o + 2);
        const __m256i u4 = R8_NAME(r8_nibbles)(w + 4 * rb + o + 2), u5 = R8_NAME(r8_nibbles)(w + 5 * rb + o + 2);
        const __m256i u6 = R8_NAME(r8_nibbles)(w + 6 * rb + o + 2), u7 = R8_NAME(r8_nibbles)(w + 7 * rb + o + 2);
        const __m256i t0 = _mm256_unpacklo_epi32(u0, u1), t1 = _mm256_unpackhi_epi32(u0, u1);
        const __m256i t2 = _mm256_unpacklo_epi32(u2, u3), t3 = _mm256_unpackhi_epi32(u2, u3);
        const __m256i t4 = _mm256_unpacklo_epi32(u4, u5), t5 = _mm256_unpackhi_epi32(u4, u5);
        const __m256i t6 = _mm256_unpacklo_epi32(u6, u7), t7 = _mm256_unpackhi_epi32(u6, u7);
        const __m256i s0 = _mm256_unpacklo_epi64(t0, t2), s1 = _mm256_unpackhi_epi64(t0, t2);
        const __m256i s2 = _mm256_unpacklo_epi64(t1, t3), s3 = _mm256_unpackhi_epi64(t1, t3);
        const __m256i s4 = _mm256_unpacklo_epi64(t4, t6), s5 = _mm256_unpackhi_epi64(t4, t6);
        const __m256i s6 = _mm256_unpacklo_epi64(t5, t7), s7 = _mm256_unpackhi_epi64(t5, t7);
        __m256i *g = q + 8 * b;
        g[0] = _mm256_permute2x128_si256(s0, s4, 0x20); g[4] = _mm256_permute2x128_si256(s0, s4, 0x31);
        g[1] = _mm256_permute2x128_si256(s1, s5, 0x20); g[5] = _mm256_permute2x128_si256(s1, s5, 0x31);
        g[2] = _mm256_permute2x128_si256(s2, s6, 0x20); g[6] = _mm256_permute2x128_si256(s2, s6, 0x31);
        g[3] = _mm256_permute2x128_si256(s3, s7, 0x20); g[7] = _mm256_permute2x128_si256(s3, s7, 0x31);
        _mm256_storeu_ps(d + 8 * b, R8_NAME(r8_scales)(w, rb, o));
    }
}

/// The eight rows' integer sums Σ q·y over one block of a panel: each four activation bytes
/// broadcast against the vector holding those positions of every row.
#define R8_DOTS(qb, yb) ({ \
    const uint8_t *yq_ = (const uint8_t *)(yb).qs; int32_t y_[8]; memcpy(y_, yq_, 32); \
    __m256i s_ = _mm256_setzero_si256(); \
    s_ = R8_DP(s_, (qb)[0], _mm256_set1_epi32(y_[0])); s_ = R8_DP(s_, (qb)[1], _mm256_set1_epi32(y_[1])); \
    s_ = R8_DP(s_, (qb)[2], _mm256_set1_epi32(y_[2])); s_ = R8_DP(s_, (qb)[3], _mm256_set1_epi32(y_[3])); \
    s_ = R8_DP(s_, (qb)[4], _mm256_set1_epi32(y_[4])); s_ = R8_DP(s_, (qb)[5], _mm256_set1_epi32(y_[5])); \
    s_ = R8_DP(s_, (qb)[6], _mm256_set1_epi32(y_[6])); s_ = R8_DP(s_, (qb)[7], _mm256_set1_epi32(y_[7])); \
    s_; })

/// A packed panel's kc blocks against four activation rows (x: row 0 at the panel's first block,
/// rows `blocks` apart), continuing the accumulators acc[0..3].
R8_TARGET static void R8_NAME(r8_tile4)(const __m256i *q, const float *d, int64_t kc, const plq_block_q8 *x, int64_t blocks, __m256 *acc) {
    __m256 a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const plq_block_q8 *x0 = x, *x1 = x + blocks, *x2 = x + 2 * blocks, *x3 = x + 3 * blocks;
    for (int64_t b = 0; b < kc; b++) {
        const __m256i *qb = q + 8 * b;
        const __m256 sc = _mm256_loadu_ps(d + 8 * b);
        R8_STEP(a0, R8_DOTS(qb, x0[b]), sc, x0[b]);
        R8_STEP(a1, R8_DOTS(qb, x1[b]), sc, x1[b]);
        R8_STEP(a2, R8_DOTS(qb, x2[b]), sc, x2[b]);
        R8_STEP(a3, R8_DOTS(qb, x3[b]), sc, x3[b]);
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

/// r8_tile4 for one activation row.
R8_TARGET static void R8_NAME(r8_tile1)(const __m256i *q, const float *d, int64_t kc, const plq_block_q8 *x, __m256 *acc) {
    __m256 a = *acc;
    for (int64_t b = 0; b < kc; b++) R8_STEP(a, R8_DOTS(q + 8 * b, x[b]), _mm256_loadu_ps(d + 8 * b), x[b]);
    *acc = a;
}

/// Rows row0..<row1 (whole groups of eight) against `count` activation rows.
R8_TARGET static void R8_NAME(rows8)(const uint8_t *w, int64_t rb, int64_t row0, int64_t row1, int64_t blocks,
                                     const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    float v[8];
    if (count < R8_FEW) {
        if (count <= 2) plq_prefetch(w + row0 * rb, PLQ_PREFETCH_BYTES, w + row1 * rb);
        for (int64_t r = row0; r < row1; r += 8) {
            if (count <= 2) plq_prefetch(w + r * rb + PLQ_PREFETCH_BYTES, 8 * rb, w + row1 * rb);
            for (int64_t i = 0; i < count; i++) {
                R8_NAME(r8_direct)(w + r * rb, rb, blocks, x + i * blocks, v);
                float *o = out + i * ldo + r;
                for (int j = 0; j < 8; j++) o[j] = accumulate ? o[j] + v[j] : v[j];
            }
        }
        return;
    }
    __m256i q[R8_KC * 8];
    float d[R8_KC * 8];
    __m256 acc[R8_MC];
    for (int64_t i0 = 0; i0 < count; i0 += R8_MC) {
        const int64_t mc = count - i0 < R8_MC ? count - i0 : R8_MC;
        const plq_block_q8 *xc = x + i0 * blocks;
        for (int64_t r = row0; r < row1; r += 8) {
            for (int64_t i = 0; i < mc; i++) acc[i] = _mm256_setzero_ps();
            for (int64_t k0 = 0; k0 < blocks; k0 += R8_KC) {
                const int64_t kc = blocks - k0 < R8_KC ? blocks - k0 : R8_KC;
                R8_NAME(r8_pack)(w + r * rb, rb, k0, kc, q, d);
                int64_t i = 0;
                for (; i + 4 <= mc; i += 4) R8_NAME(r8_tile4)(q, d, kc, xc + i * blocks + k0, blocks, acc + i);
                for (; i < mc; i++) R8_NAME(r8_tile1)(q, d, kc, xc + i * blocks + k0, acc + i);
            }
            for (int64_t i = 0; i < mc; i++) {
                _mm256_storeu_ps(v, acc[i]);
                float *o = out + (i0 + i) * ldo + r;
                for (int j = 0; j < 8; j++) o[j] = accumulate ? o[j] + v[j] : v[j];
            }
        }
    }
}

#undef R8_DOTS
#undef R8_STEP
