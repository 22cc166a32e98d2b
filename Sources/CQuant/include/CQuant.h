// Kernels of llama.cpp's arithmetic. Quantised dot products: activations quantised to 8-bit blocks
// of 32 (ggml's Q8_0 / Q8_1), dotted with weights stored as ggml Q4_0, Q4_1 or Q8_0 blocks with
// integer multiply-adds (AVX2 where the CPU has it, portable C otherwise). Also rounding to fp16,
// as llama.cpp's f16 KV cache does. And causal attention for one query row in a fixed summation
// order (attention.c). The Models target wraps these; nothing here allocates.
#ifndef CQUANT_H
#define CQUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One activation block: 32 int8 values q, a scale d (already rounded to fp16) and, for Q8_1,
/// s = fp16(d·Σq) (0 for Q8_0).
typedef struct {
    float d;
    float s;
    int8_t qs[32];
} plq_block_q8;

/// ggml type ids accepted as weights (the values GGUF stores).
enum { PLQ_Q4_0 = 2, PLQ_Q4_1 = 3, PLQ_Q8_0 = 8 };

/// Quantises `cols` floats (a multiple of 32) into cols/32 blocks, as ggml's quantize_row_q8_0
/// (with_sum = 0) or quantize_row_q8_1 (with_sum = 1) does.
void plq_quantize_row(const float *x, plq_block_q8 *y, int64_t cols, int with_sum);

/// Replaces each row of x (rows × cols, cols a multiple of 32) by its Q8_0 or Q8_1 quantisation
/// read back as floats (d·q): the activation a llama.cpp quantised product sees.
void plq_fake_quantize(float *x, int64_t rows, int64_t cols, int with_sum);

/// Rounds n floats to the nearest fp16 value in place (ties to even; overflow to ±inf).
void plq_round_half(float *x, int64_t n);

/// out[i·ldo + r] = (or += when accumulate) dot(weight row r, activation row i) for r in
/// row0..<row1 and i in 0..<count; weights are rows of `row_bytes` bytes of ggml blocks of `type`
/// (PLQ_*), each activation row is cols/32 blocks, quantised with the sum when type is PLQ_Q4_1.
/// Returns 0, or -1 for an unsupported type.
int plq_matmul(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
               const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// A piece of parallel work: called once per chunk with the chunk's index and the number of chunks.
typedef void (*plq_work)(void *context, int chunk, int chunks);

/// Runs fn(context, c, n) for every chunk c in 0..<n (n = 4 per thread) on the calling thread and
/// one helper thread per further core (started on first use; they spin briefly between regions,
/// then sleep), each thread claiming chunks until none is left, and returns the number of threads
/// once every call has returned. Runs fn(context, 0, 1) alone when another thread's region is in
/// progress. fn must give the same results for any partition.
int plq_parallel(plq_work fn, void *context);

/// plq_matmul over rows row0..<row1, split into the chunks of plq_parallel (each chunk takes
/// a contiguous range of rows in whole groups of four). Same results as plq_matmul.
int plq_matmul_parallel(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                        const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// One head of causal attention for one query row: scores s_j = scale·(q·k_j) for the n cached
/// positions j (keys and values are rows of stride `ld` floats; `head_dim` floats of each are this
/// head's), softmax with the exponentials summed in double, each probability rounded to fp16 when
/// `round_probs` (llama.cpp's f16 P·V product), then out = Σ_j p_j·v_j. The summation order is fixed
/// and does not depend on anything but these arguments, so batched and one-token passes agree
/// bit for bit. `scores` is scratch for n floats.
void plq_attend_row(const float *q, const float *keys, const float *values, int64_t ld, int64_t n, int64_t head_dim,
                    float scale, int round_probs, float *scores, float *out);


#ifdef __cplusplus
}
#endif

#endif
