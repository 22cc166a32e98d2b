// Causal attention for a few query rows (a decode step) on the thread pool: plq_attend_rows in
// llama.cpp's order, every (row, head) pair a task (each is plq_attend_row, so the bits do not
// depend on the split), and plq_attend_rows_f32 in Float32 for the float32 and quantized
// arithmetics, split over kv heads and spans of positions. A decode step's attention is a walk over
// the whole cache per head, too short for BLAS calls (two per head) to pay their way and, with a
// long context, as many bytes as a large weight matrix: reading each cached row once per group of
// heads and splitting the walk over the cores is what makes it cheap. See include/CQuant.h.
#include "CQuant.h"
#include "cpu.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLR_X86 1
#endif

/// A decode step's attention in llama.cpp's order: every (row, head) one task.
typedef struct {
    const float *q, *keys, *values;
    int64_t ld, start, rows, heads, group, hd, stride;
    float scale;
    float *scratch, *out;
} plr_llama;

static void llama_chunk(void *context, int chunk, int chunks) {
    const plr_llama *a = context;
    const int64_t tasks = a->rows * a->heads, lo = tasks * chunk / chunks, hi = tasks * (chunk + 1) / chunks;
    const int64_t qwidth = a->heads * a->hd;
    for (int64_t task = lo; task < hi; task++) {
        const int64_t i = task / a->heads, head = task % a->heads, kv = (head / a->group) * a->hd;
        plq_attend_row(a->q + i * qwidth + head * a->hd, a->keys + kv, a->values + kv, a->ld, a->start + i + 1, a->hd,
                       a->scale, a->scratch + task * a->stride, a->out + i * qwidth + head * a->hd);
    }
}

void plq_attend_rows(const float *q, const float *keys, const float *values, int64_t ld, int64_t start, int64_t rows,
                     int64_t heads, int64_t group, int64_t head_dim, float scale, float *scratch, float *out) {
    if (rows <= 0 || heads <= 0) return;
    plr_llama a = {q, keys, values, ld, start, rows, heads, group, head_dim, (start + rows + 15) / 16 * 16, scale, scratch, out};
    plq_parallel(llama_chunk, &a);
}

// MARK: - Float32 arithmetic, split over positions

/// The Float32 attention of a few rows: each task is one (row, kv head, span of positions) and
/// computes, for every query head of the kv head's group, the span's partial softmax (its maximum
/// score m, Σ e^(s−m) and Σ e^(s−m)·v); the spans are then merged. Each cached key and value is
/// read once per row, and the work splits evenly however few heads there are.
typedef struct {
    const float *q, *keys, *values;
    int64_t ld, start, rows, heads, group, hd, spans, span_stride;
    float scale;
    float *scores;    // per task: group × span_stride
    float *partial;   // per (row, head, span): hd + 2 floats (acc…, m, l)
} plr_f32;

/// The positions lo..<hi of span `c` of n positions cut into `spans`.
static inline void span_range(int64_t n, int64_t spans, int64_t c, int64_t *lo, int64_t *hi) {
    *lo = n * c / spans;
    *hi = n * (c + 1) / spans;
}

/// One task in portable C: scores, their maximum, exponentials and the weighted sum, per query head.
static void span_portable(const plr_f32 *a, const float *q, const float *keys, const float *values, int64_t n,
                          float *scores, float *partial) {
    for (int64_t h = 0; h < a->group; h++) {
        const float *qh = q + h * a->hd;
        float *s = scores + h * a->span_stride, *p = partial + h * a->spans * (a->hd + 2);
        float m = -INFINITY;
        for (int64_t j = 0; j < n; j++) {
            const float *k = keys + j * a->ld;
            float dot = 0;
            for (int64_t d = 0; d < a->hd; d++) dot += qh[d] * k[d];
            s[j] = dot * a->scale;
            if (s[j] > m) m = s[j];
        }
        plq_ggml_exp_shifted(s, n, m);
        float l = 0;
        for (int64_t d = 0; d < a->hd; d++) p[d] = 0;
        for (int64_t j = 0; j < n; j++) {
            l += s[j];
            const float *v = values + j * a->ld;
            for (int64_t d = 0; d < a->hd; d++) p[d] += s[j] * v[d];
        }
        p[a->hd] = m;
        p[a->hd + 1] = l;
    }
}

#ifdef PLR_X86
#define PLR_AVX2 __attribute__((target("avx2,fma")))
enum { PLR_MAX_GROUP = 8, PLR_MAX_VECS = 16 };

PLR_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/// span_portable with eight lanes, every key and value row read once for the whole group
/// (hd a multiple of 8, at most 128; group at most 8).
PLR_AVX2 static void span_avx2(const plr_f32 *a, const float *q, const float *keys, const float *values, int64_t n,
                               float *scores, float *partial) {
    const int64_t vecs = a->hd / 8, group = a->group, stride = a->span_stride;
    float m[PLR_MAX_GROUP];
    for (int64_t h = 0; h < group; h++) m[h] = -INFINITY;
    for (int64_t j = 0; j < n && j < PLQ_PREFETCH_ROWS; j++) plq_prefetch_floats(keys + j * a->ld, a->hd);
    if (vecs == 8) {
        // Head dimension 64: one query at a time with its eight vectors in registers (the span's key
        // rows stay in cache after the first query); each score summed in the order of the loop below.
        for (int64_t h = 0; h < group; h++) {
            const float *qh = q + h * a->hd;
            const __m256 q0 = _mm256_loadu_ps(qh), q1 = _mm256_loadu_ps(qh + 8), q2 = _mm256_loadu_ps(qh + 16), q3 = _mm256_loadu_ps(qh + 24);
            const __m256 q4 = _mm256_loadu_ps(qh + 32), q5 = _mm256_loadu_ps(qh + 40), q6 = _mm256_loadu_ps(qh + 48), q7 = _mm256_loadu_ps(qh + 56);
            float *sh = scores + h * stride, best = -INFINITY;
            for (int64_t j = 0; j < n; j++) {
                const float *k = keys + j * a->ld;
                if (h == 0) plq_prefetch_floats(k + PLQ_PREFETCH_ROWS * a->ld, 64);
                __m256 x = _mm256_mul_ps(q0, _mm256_loadu_ps(k));
                __m256 y = _mm256_fmadd_ps(q1, _mm256_loadu_ps(k + 8), _mm256_setzero_ps());
                x = _mm256_fmadd_ps(q2, _mm256_loadu_ps(k + 16), x);
                y = _mm256_fmadd_ps(q3, _mm256_loadu_ps(k + 24), y);
                x = _mm256_fmadd_ps(q4, _mm256_loadu_ps(k + 32), x);
                y = _mm256_fmadd_ps(q5, _mm256_loadu_ps(k + 40), y);
                x = _mm256_fmadd_ps(q6, _mm256_loadu_ps(k + 48), x);
                y = _mm256_fmadd_ps(q7, _mm256_loadu_ps(k + 56), y);
                const float sc = hsum8(_mm256_add_ps(x, y)) * a->scale;
                sh[j] = sc;
                if (sc > best) best = sc;
            }
            m[h] = best;
        }
    } else for (int64_t j = 0; j < n; j++) {
        // The key row is read for each query of the group (from L1 after the first), not held in an
        // array of a variable count of registers, which the compiler copies with memcpy.
        const float *k = keys + j * a->ld;
        plq_prefetch_floats(k + PLQ_PREFETCH_ROWS * a->ld, a->hd);
        for (int64_t h = 0; h < group; h++) {
            const float *qh = q + h * a->hd;
            __m256 x = _mm256_mul_ps(_mm256_loadu_ps(qh), _mm256_loadu_ps(k)), y = _mm256_setzero_ps();
            int64_t v = 1;
            for (; v + 1 < vecs; v += 2) {
                y = _mm256_fmadd_ps(_mm256_loadu_ps(qh + 8 * v), _mm256_loadu_ps(k + 8 * v), y);
                x = _mm256_fmadd_ps(_mm256_loadu_ps(qh + 8 * v + 8), _mm256_loadu_ps(k + 8 * v + 8), x);
            }
            if (v < vecs) y = _mm256_fmadd_ps(_mm256_loadu_ps(qh + 8 * v), _mm256_loadu_ps(k + 8 * v), y);
            const float sc = hsum8(_mm256_add_ps(x, y)) * a->scale;
            scores[h * stride + j] = sc;
            if (sc > m[h]) m[h] = sc;
        }
    }
    for (int64_t j = 0; j < n && j < PLQ_PREFETCH_ROWS; j++) plq_prefetch_floats(values + j * a->ld, vecs < 8 ? 8 * vecs : 64);
    float l[PLR_MAX_GROUP];
    for (int64_t h = 0; h < group; h++) {
        float *s = scores + h * stride;
        plq_ggml_exp_shifted(s, n, m[h]);
        __m256 total = _mm256_setzero_ps();
        int64_t j = 0;
        for (; j + 8 <= n; j += 8) total = _mm256_add_ps(total, _mm256_loadu_ps(s + j));
        l[h] = hsum8(total);
        for (; j < n; j++) l[h] += s[j];
    }
    // The weighted sums, 64 dimensions at a time so the group's accumulators stay in registers.
    for (int64_t v0 = 0; v0 < vecs; v0 += 8) {
        const int64_t w = vecs - v0 < 8 ? vecs - v0 : 8;
        if (w == 8) {
            // A whole chunk: one query at a time with its eight accumulators in registers (the
            // span's value rows stay in cache after the first query), each sum over the positions
            // in the same order as below.
            for (int64_t h = 0; h < group; h++) {
                __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                const float *sh = scores + h * stride;
                for (int64_t j = 0; j < n; j++) {
                    const float *row = values + j * a->ld + 8 * v0;
                    if (h == 0) plq_prefetch_floats(row + PLQ_PREFETCH_ROWS * a->ld, 64);
                    const __m256 pj = _mm256_broadcast_ss(sh + j);
                    c0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row), c0);
                    c1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 8), c1);
                    c2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 16), c2);
                    c3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 24), c3);
                    c4 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 32), c4);
                    c5 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 40), c5);
                    c6 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 48), c6);
                    c7 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row + 56), c7);
                }
                float *out = partial + h * a->spans * (a->hd + 2) + 8 * v0;
                _mm256_storeu_ps(out, c0); _mm256_storeu_ps(out + 8, c1); _mm256_storeu_ps(out + 16, c2); _mm256_storeu_ps(out + 24, c3);
                _mm256_storeu_ps(out + 32, c4); _mm256_storeu_ps(out + 40, c5); _mm256_storeu_ps(out + 48, c6); _mm256_storeu_ps(out + 56, c7);
            }
            continue;
        }
        __m256 acc[PLR_MAX_GROUP][8];
        for (int64_t h = 0; h < group; h++) for (int64_t v = 0; v < 8; v++) acc[h][v] = _mm256_setzero_ps();
        for (int64_t j = 0; j < n; j++) {
            const float *row = values + j * a->ld + 8 * v0;
            plq_prefetch_floats(row + PLQ_PREFETCH_ROWS * a->ld, 8 * w);
            __m256 p[PLR_MAX_GROUP];
            for (int64_t h = 0; h < group; h++) p[h] = _mm256_broadcast_ss(scores + h * stride + j);
            for (int64_t v = 0; v < w; v++) {
                const __m256 x = _mm256_loadu_ps(row + 8 * v);
                for (int64_t h = 0; h < group; h++) acc[h][v] = _mm256_fmadd_ps(p[h], x, acc[h][v]);
            }
        }
        for (int64_t h = 0; h < group; h++)
            for (int64_t v = 0; v < w; v++) _mm256_storeu_ps(partial + h * a->spans * (a->hd + 2) + 8 * (v0 + v), acc[h][v]);
    }
    for (int64_t h = 0; h < group; h++) {
        partial[h * a->spans * (a->hd + 2) + a->hd] = m[h];
        partial[h * a->spans * (a->hd + 2) + a->hd + 1] = l[h];
    }
}
#endif

/// Tasks chunk·tasks/chunks ..< (chunk+1)·tasks/chunks: task = (row·kvHeads + kvHead)·spans + span.
static void f32_chunk(void *context, int chunk, int chunks) {
    const plr_f32 *a = context;
    const int64_t kv_heads = a->heads / a->group, tasks = a->rows * kv_heads * a->spans;
    const int64_t lo = tasks * chunk / chunks, hi = tasks * (chunk + 1) / chunks, qwidth = a->heads * a->hd;
    for (int64_t task = lo; task < hi; task++) {
        const int64_t c = task % a->spans, g = (task / a->spans) % kv_heads, i = task / (a->spans * kv_heads);
        int64_t p0, p1;
        span_range(a->start + i + 1, a->spans, c, &p0, &p1);
        const float *q = a->q + i * qwidth + g * a->group * a->hd;
        const float *keys = a->keys + p0 * a->ld + g * a->hd, *values = a->values + p0 * a->ld + g * a->hd;
        float *scores = a->scores + task * a->group * a->span_stride;
        float *partial = a->partial + ((i * a->heads + g * a->group) * a->spans + c) * (a->hd + 2);
#ifdef PLR_X86
        if (a->hd % 8 == 0 && a->hd <= 8 * PLR_MAX_VECS && a->group <= PLR_MAX_GROUP && plq_have_avx2_fma()) {
            span_avx2(a, q, keys, values, p1 - p0, scores, partial);
            continue;
        }
#endif
        span_portable(a, q, keys, values, p1 - p0, scores, partial);
    }
}

/// How n positions are cut: one span below 128, else n/64 spans up to 8; `stride` scores per span.
static inline void span_layout(int64_t n, int64_t *spans, int64_t *stride) {
    *spans = n < 128 ? 1 : (n / 64 < 8 ? n / 64 : 8);
    *stride = (n + *spans - 1) / *spans + 16;
}

int64_t plq_attend_rows_f32_scratch(int64_t start, int64_t rows, int64_t heads, int64_t group, int64_t head_dim) {
    (void)group;
    int64_t spans, span_stride;
    span_layout(start + rows, &spans, &span_stride);
    return rows * heads * spans * (span_stride + head_dim + 2);
}

void plq_attend_rows_f32(const float *q, const float *keys, const float *values, int64_t ld, int64_t start, int64_t rows,
                         int64_t heads, int64_t group, int64_t head_dim, float scale, float *scratch, float *out) {
    if (rows <= 0 || heads <= 0) return;
    int64_t spans, span_stride;
    span_layout(start + rows, &spans, &span_stride);
    plr_f32 a = {q, keys, values, ld, start, rows, heads, group, head_dim, spans, span_stride, scale,
                 scratch, scratch + rows * heads * spans * span_stride};
    plq_parallel(f32_chunk, &a);
    // Merge the spans: out = Σ_c e^(m_c − M)·acc_c / Σ_c e^(m_c − M)·l_c, M the largest m_c. A span
    // with no positions of its row has m = −∞, l = 0 and acc = 0, so it adds nothing.
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t h = 0; h < heads; h++) {
            const float *p = a.partial + (i * heads + h) * spans * (head_dim + 2);
            float *o = out + (i * heads + h) * head_dim;
            float big = -INFINITY;
            for (int64_t c = 0; c < spans; c++) if (p[c * (head_dim + 2) + head_dim] > big) big = p[c * (head_dim + 2) + head_dim];
            float total = 0;
            for (int64_t d = 0; d < head_dim; d++) o[d] = 0;
            for (int64_t c = 0; c < spans; c++) {
                const float *pc = p + c * (head_dim + 2), f = plq_ggml_expf(pc[head_dim] - big);
                total += f * pc[head_dim + 1];
                for (int64_t d = 0; d < head_dim; d++) o[d] += f * pc[d];
            }
            const float inv = 1 / total;
            for (int64_t d = 0; d < head_dim; d++) o[d] *= inv;
        }
    }
}

void plq_attend_f32_portable(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                             int64_t head_dim, float scale, float *scores, float *out) {
    plr_f32 a = {q, keys, values, ld, n - 1, 1, 1, 1, head_dim, 1, n + 16, scale, scores, NULL};
    float partial[head_dim + 2];
    span_portable(&a, q, keys, values, n, scores, partial);
    for (int64_t d = 0; d < head_dim; d++) out[d] = partial[d] / partial[head_dim + 1];
}
