// Quantised dot-product kernels in llama.cpp's arithmetic: activations quantised to 8-bit blocks
// of 32 (ggml's Q8_0 / Q8_1), dotted with weights stored as ggml Q4_0, Q4_1 or Q8_0 blocks with
// integer multiply-adds (AVX2 where the CPU has it, portable C otherwise). Also rounding to fp16,
// as llama.cpp's f16 KV cache does. The Models target wraps these; nothing here allocates.
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

/// Whether the AVX2 kernels are in use on this CPU (1) or the portable ones (0).
int plq_uses_avx2(void);

#ifdef __cplusplus
}
#endif

#endif
