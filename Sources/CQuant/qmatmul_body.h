// One instance of qmatmul.c's four-row kernels for Q5_0, Q5_1, Q4_K and Q6_K (256-bit registers),
// compiled for Q_TARGET with Q_DP(u, s) as its dot of unsigned bytes u with signed bytes s (the sum
// of four adjacent byte products per int32 lane). Included once per instruction set: the integer
// lane sums are the same integers on every instance (no lane can saturate: u ≤ 63, so a pair of
// products stays inside int16 for maddubs), so every instance gives the same Float results.
// Signed weights (Q5_0: q − 16, Q6_K: q − 32) are dotted by offset: Σ(q − c)·y = Σq·y − c·Σy with
// q unsigned, the same integer per lane, and c·Σy is taken once per activation block for the four
// rows (it replaces two sign flips per row and block).

#define Q_INLINE Q_TARGET static inline __attribute__((always_inline))

Q_INLINE float Q_NAME(q_hsum)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// 16 bytes of nibbles → 32 bytes: the low nibbles, then the high ones (the 16 bytes in both
/// halves, the upper half shifted right by 4).
Q_INLINE __m256i Q_NAME(q_nibbles)(const uint8_t *qs) {
    const __m256i raw = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi64(raw, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0F));
}

/// The fp16 at p in all eight lanes.
Q_INLINE __m256 Q_NAME(q_half8)(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _mm256_cvtph_ps(_mm_set1_epi16((short)h));
}

/// Byte i = 0x10 where bit i of the 32 bits at p is set, else 0.
Q_INLINE __m256i Q_NAME(q_high_bits)(const uint8_t *p) {
    uint32_t qh;
    memcpy(&qh, p, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

Q_INLINE void Q_NAME(q_decode_super)(int type, const uint8_t *b, q_super *s) {
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
Q_INLINE q_sub Q_NAME(q_decode)(int type, const uint8_t *b, int j, const q_super *s) {
    q_sub r;
    switch (type) {
    case PLQ_Q5_0:   // q + 16 (unsigned; see q_offset)
        r.q = _mm256_or_si256(Q_NAME(q_nibbles)(b + 6), Q_NAME(q_high_bits)(b + 2));
        r.scale = Q_NAME(q_half8)(b);
        r.min = 0;
        break;
    case PLQ_Q5_1:
        r.q = _mm256_or_si256(Q_NAME(q_nibbles)(b + 8), Q_NAME(q_high_bits)(b + 4));
        r.scale = Q_NAME(q_half8)(b);
        r.min = plq_read_half(b + 2);
        break;
    case PLQ_Q4_K: {
        const __m256i raw = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * (j / 2)));
        r.q = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(raw, 4) : raw, _mm256_set1_epi8(0x0F));
        r.scale = _mm256_set1_ps(s->a[j]);
        r.min = -s->b[j];
        break;
    }
    default: {   // PLQ_Q6_K: q + 32 (unsigned; see q_offset)
        const int g = j / 4, t = j % 4;
        const __m256i ql = _mm256_loadu_si256((const __m256i *)(b + 64 * g + 32 * (t % 2)));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * g));
        const __m256i lo = _mm256_and_si256(t / 2 ? _mm256_srli_epi16(ql, 4) : ql, _mm256_set1_epi8(0x0F));
        const __m256i hi = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * t), 4), _mm256_set1_epi8(0x30));
        r.q = _mm256_or_si256(lo, hi);
        r.scale = _mm256_setr_m128(_mm_set1_ps(s->a[8 * g + 2 * t]), _mm_set1_ps(s->a[8 * g + 2 * t + 1]));
        r.min = 0;
    }
    }
    return r;
}

/// c·Σy per int32 lane for the offset c of `type`'s decoded bytes (0: none).
Q_INLINE __m256i Q_NAME(q_correction)(int type, const plq_block_q8 *y) {
    const int c = q_offset(type);
    if (c == 0) return _mm256_setzero_si256();
    return Q_DP(_mm256_set1_epi8((char)c), _mm256_loadu_si256((const __m256i *)y->qs));
}

/// Σ per int32 lane of (q − c)·y for the decoded bytes q, c·Σy being `correction`.
Q_INLINE __m256i Q_NAME(q_dot)(int type, __m256i q, __m256i y, __m256i correction) {
    if (q_offset(type)) return _mm256_sub_epi32(Q_DP(q, y), correction);
    return Q_DP(q, y);
}

/// Four weight rows (row_bytes apart) against `C` (1 or 2) activation rows. The bytes pf..<pf_end
/// (rows further on) are prefetched two cache lines per block along the way, so that the requests
/// are spread over the group's work rather than issued in one burst.
Q_INLINE void Q_NAME(q_kernel)(int type, int C, const uint8_t *w, int64_t row_bytes, int64_t cols,
                               const plq_block_q8 *x0, const plq_block_q8 *x1, float *out0, float *out1,
                               const uint8_t *pf, const uint8_t *pf_end) {
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
            for (int r = 0; r < 4; r++) Q_NAME(q_decode_super)(type, w + r * row_bytes + sb * bytes, &sup[r]);
            for (int j = 0; j < 8; j++) {
                const int64_t k = sb * 8 + j;
                plq_prefetch_step(&pf, pf_end);
                __m256i corr[2];
                for (int c = 0; c < C; c++) corr[c] = Q_NAME(q_correction)(type, xs[c] + k);
                for (int r = 0; r < 4; r++) {
                    const q_sub s = Q_NAME(q_decode)(type, w + r * row_bytes + sb * bytes, j, &sup[r]);
                    for (int c = 0; c < C; c++) {
                        const plq_block_q8 *y = xs[c] + k;
                        const __m256i isum = Q_NAME(q_dot)(type, s.q, _mm256_loadu_si256((const __m256i *)y->qs), corr[c]);
                        acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(s.scale, _mm256_set1_ps(y->d)), _mm256_cvtepi32_ps(isum), acc[r][c]);
                        if (type == PLQ_Q4_K) mins[r][c] += s.min * y->s;
                    }
                }
            }
        }
    } else {
        const int64_t bytes = type == PLQ_Q5_0 ? 22 : 24;
        for (int64_t k = 0; k < nb; k++) {
            plq_prefetch_step(&pf, pf_end);
            __m256i corr[2];
            for (int c = 0; c < C; c++) corr[c] = Q_NAME(q_correction)(type, xs[c] + k);
            for (int r = 0; r < 4; r++) {
                const q_sub s = Q_NAME(q_decode)(type, w + r * row_bytes + k * bytes, 0, NULL);
                for (int c = 0; c < C; c++) {
                    const plq_block_q8 *y = xs[c] + k;
                    const __m256i isum = Q_NAME(q_dot)(type, s.q, _mm256_loadu_si256((const __m256i *)y->qs), corr[c]);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(s.scale, _mm256_set1_ps(y->d)), _mm256_cvtepi32_ps(isum), acc[r][c]);
                    if (type == PLQ_Q5_1) mins[r][c] += s.min * y->s;
                }
            }
        }
    }
    for (int r = 0; r < 4; r++) {
        out0[r] = Q_NAME(q_hsum)(acc[r][0]) + mins[r][0];
        if (C == 2) out1[r] = Q_NAME(q_hsum)(acc[r][1]) + mins[r][1];
    }
}

#define Q_KERNELS(TYPENAME, TYPE) \
    Q_TARGET static void Q_NAME(TYPENAME##_x1)(const uint8_t *w, int64_t rb, int64_t cols, const plq_block_q8 *x0, float *o0, \
                                               const uint8_t *pf, const uint8_t *pf_end) { \
        Q_NAME(q_kernel)(TYPE, 1, w, rb, cols, x0, x0, o0, o0, pf, pf_end); } \
    Q_TARGET static void Q_NAME(TYPENAME##_x2)(const uint8_t *w, int64_t rb, int64_t cols, const plq_block_q8 *x0, const plq_block_q8 *x1, float *o0, float *o1, \
                                               const uint8_t *pf, const uint8_t *pf_end) { \
        Q_NAME(q_kernel)(TYPE, 2, w, rb, cols, x0, x1, o0, o1, pf, pf_end); }
Q_KERNELS(q5_0, PLQ_Q5_0)
Q_KERNELS(q5_1, PLQ_Q5_1)
Q_KERNELS(q4_k, PLQ_Q4_K)
Q_KERNELS(q6_k, PLQ_Q6_K)
#undef Q_KERNELS

/// Rows row0..<row1 in whole groups of four against `count` activation rows (two per pass); returns
/// the first row not done (the tail, fewer than four rows, is left to the portable kernel).
Q_TARGET static int64_t Q_NAME(q_rows)(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                                       const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate) {
    const int64_t blocks = cols / 32;
    float v[4], v1[4];
    int64_t r = row0;
    const uint8_t *end = weights + row1 * row_bytes;
    if (count <= 2) plq_prefetch(weights + row0 * row_bytes, PLQ_PREFETCH_BYTES, end);
    for (; r + 4 <= row1; r += 4) {
        const uint8_t *w = weights + r * row_bytes;
        // With one or two activation rows (one pass over the group) the kernel prefetches the group
        // of rows PLQ_PREFETCH_BYTES further on as it goes.
        const uint8_t *pf = count <= 2 ? w + PLQ_PREFETCH_BYTES : NULL;
        const uint8_t *pf_end = pf ? (pf + 4 * row_bytes < end ? pf + 4 * row_bytes : end) : NULL;
        int64_t i = 0;
        for (; i + 2 <= count; i += 2) {
            const plq_block_q8 *a = x + i * blocks, *b = a + blocks;
            switch (type) {
            case PLQ_Q5_0: Q_NAME(q5_0_x2)(w, row_bytes, cols, a, b, v, v1, pf, pf_end); break;
            case PLQ_Q5_1: Q_NAME(q5_1_x2)(w, row_bytes, cols, a, b, v, v1, pf, pf_end); break;
            case PLQ_Q4_K: Q_NAME(q4_k_x2)(w, row_bytes, cols, a, b, v, v1, pf, pf_end); break;
            default: Q_NAME(q6_k_x2)(w, row_bytes, cols, a, b, v, v1, pf, pf_end);
            }
            float *o = out + i * ldo + r, *o1 = o + ldo;
            for (int j = 0; j < 4; j++) {
                if (accumulate) { o[j] += v[j]; o1[j] += v1[j]; } else { o[j] = v[j]; o1[j] = v1[j]; }
            }
        }
        for (; i < count; i++) {
            const plq_block_q8 *a = x + i * blocks;
            switch (type) {
            case PLQ_Q5_0: Q_NAME(q5_0_x1)(w, row_bytes, cols, a, v, pf, pf_end); break;
            case PLQ_Q5_1: Q_NAME(q5_1_x1)(w, row_bytes, cols, a, v, pf, pf_end); break;
            case PLQ_Q4_K: Q_NAME(q4_k_x1)(w, row_bytes, cols, a, v, pf, pf_end); break;
            default: Q_NAME(q6_k_x1)(w, row_bytes, cols, a, v, pf, pf_end);
            }
            float *o = out + i * ldo + r;
            for (int j = 0; j < 4; j++) { if (accumulate) o[j] += v[j]; else o[j] = v[j]; }
        }
    }
    return r;
}

#undef Q_INLINE
