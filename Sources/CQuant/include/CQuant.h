// Kernels of llama.cpp's arithmetic. Quantised dot products: activations quantised to 8-bit blocks
// of 32 (ggml's Q8_0 / Q8_1), dotted with weights stored as ggml Q4_0, Q4_1 or Q8_0 blocks with
// integer multiply-adds (AVX2 where the CPU has it, portable C otherwise). Also rounding to fp16,
// as llama.cpp's f16 KV cache does. Causal attention for one query row in llama.cpp's summation
// order (attention.c), a decode step's attention over every head split across the thread pool, in
// that order or in Float32 (attention_rows.c), and ggml's exponential, SiLU and 16-lane sum
// (activations.c). The Models target wraps these; nothing here allocates.
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

/// ggml type ids accepted as weights (the values GGUF stores): plq_matmul takes the first three
/// (and PLQ_Q4_0_X8 below), plq_qmatmul all of them.
enum { PLQ_Q4_0 = 2, PLQ_Q4_1 = 3, PLQ_Q8_0 = 8, PLQ_Q5_0 = 6, PLQ_Q5_1 = 7, PLQ_Q4_K = 12, PLQ_Q6_K = 14 };

/// Q4_0 blocks summed as llama.cpp sums a Q4_0 tensor whose row count is a multiple of 8 (on AVX2
/// machines it repacks those into interleaved 8-row blocks): per output, one fused multiply-add
/// per block of the exact integer block sum, acc = fma(Σ(q−8)·y, d_w·d_x, acc). Row ranges start
/// and end on multiples of 8; activations are quantised with the integer sum (with_sum 3). The
/// caller chooses it where llama.cpp would repack the tensor; PLQ_Q4_0 sums a row as ggml's
/// vec_dot does (eight lanes, added at the end).
enum { PLQ_Q4_0_X8 = 0x102 };

/// Quantises `cols` floats (a multiple of 32) into cols/32 blocks, as ggml's quantize_row_q8_0
/// (with_sum = 0) or quantize_row_q8_1 (with_sum = 1) does; with_sum = 2 gives Q8_0's blocks with
/// s = d·Σq exact in Float (d the rounded scale), for plq_qmatmul's Q4_K; with_sum = 3 gives them
/// with s = Σq, the block's integer sum (for PLQ_Q4_0_X8).
void plq_quantize_row(const float *x, plq_block_q8 *y, int64_t cols, int with_sum);

/// Replaces each row of x (rows × cols, cols a multiple of 32) by its Q8_0 or Q8_1 quantisation
/// read back as floats (d·q): the activation a llama.cpp quantised product sees.
void plq_fake_quantize(float *x, int64_t rows, int64_t cols, int with_sum);

/// Rounds n floats to the nearest fp16 value in place (ties to even; overflow to ±inf).
void plq_round_half(float *x, int64_t n);

/// out[i·ldo + r] = (or += when accumulate) dot(weight row r, activation row i) for r in
/// row0..<row1 and i in 0..<count; weights are rows of `row_bytes` bytes of ggml blocks of `type`
/// (PLQ_*), each activation row is cols/32 blocks, quantised with plq_activation_sum(type)'s sum.
/// Returns 0, or -1 for an unsupported type.
int plq_matmul(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
               const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// plq_matmul for PLQ_Q4_0_X8 on one kernel: 0 portable C (the definition), 1 AVX2, 2 AVX-512
/// VNNI; every kernel gives the same bits. Returns -1 when the CPU lacks the kernel or the rows
/// are not whole groups of 8. (plq_matmul takes the best this CPU has.)
int plq_q4_0_rows8_with(int kernel, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
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
/// a contiguous range of rows in whole groups of eight). Same results as plq_matmul.
int plq_matmul_parallel(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                        const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// The `with_sum` of plq_quantize_row that activations entering a product with `type` need
/// (0, 1, 2 or 3), or -1 when plq_qmatmul does not take the type.
int plq_activation_sum(int type);

/// plq_matmul for every PLQ_* type (the quantized arithmetic's products on stored blocks):
/// Q4_0 / Q4_1 / Q8_0 are plq_matmul itself; Q5_0 / Q5_1 (32-blocks of 22 / 24 bytes) and Q4_K /
/// Q6_K (256-blocks of 144 / 210 bytes) dot each 32 (Q6_K: 16) weights with the activation block in
/// integers and scale in Float (AVX-512 VNNI or AVX2 where the CPU has them, plq_qmatmul_portable otherwise).
/// Activation rows are cols/32 blocks quantised with plq_activation_sum(type). Returns 0, or -1
/// for an unsupported type.
int plq_qmatmul(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// plq_qmatmul's portable kernel for Q5_0 / Q5_1 / Q4_K / Q6_K (the same sums, one value at a time).
int plq_qmatmul_portable(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                         const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// plq_qmatmul for Q5_0 / Q5_1 / Q4_K / Q6_K on one kernel: 0 portable C, 1 AVX2, 2 AVX-512 VNNI
/// (each takes rows in groups of four, the rest portable). Returns -1 when the CPU lacks the kernel.
int plq_qmatmul_with(int kernel, int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                     const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// plq_qmatmul split over plq_parallel's chunks (whole groups of eight rows). Same results.
int plq_qmatmul_parallel(int type, const uint8_t *weights, int64_t row_bytes, int64_t row0, int64_t row1, int64_t cols,
                         const plq_block_q8 *x, int64_t count, float *out, int64_t ldo, int accumulate);

/// One product of a fused region (plq_qmatmul_many): out (+)= x·Wᵀ for the `rows` rows of a weight
/// of `type` (rows of row_bytes bytes) against `count` activation rows x (cols/32 blocks each,
/// quantised with plq_activation_sum(type)), as plq_qmatmul's arguments.
typedef struct {
    int type;
    const uint8_t *weights;
    int64_t row_bytes, rows, cols;
    const plq_block_q8 *x;
    int64_t count;
    float *out;
    int64_t ldo;
    int accumulate;
} plq_product;

/// Several plq_qmatmul products (layers that share an input: q, k and v; gate and up) in one
/// parallel region, their rows laid end to end and split over the pool in groups of eight: one
/// start and one wait instead of one per product. Same results. Returns 0, or -1 when a type is
/// not plq_qmatmul's.
int plq_qmatmul_many(const plq_product *products, int count);

/// One head of causal attention for one query row, in llama.cpp's order for a batch (flash attention
/// off, f16 K/V cache, AVX-512 build): scores s_j = scale·(q·k_j) for the n cached positions j, each
/// dot product one 16-lane accumulator over the head dimension (tinyBLAS) summed by plq_reduce16;
/// softmax with plq_ggml_expf, 16 exponentials at a time summed by plq_reduce16 into a double;
/// probabilities scaled by (float)(1/sum) and rounded to fp16; out = Σ_j p_j·v_j with lane j mod 16
/// of each output accumulating in position order, then plq_reduce16. Keys and values are rows of
/// stride `ld` floats, `head_dim` of each this head's, already rounded to fp16 as the cache stores
/// them. The order depends on nothing but these arguments, so batched and one-token passes agree
/// bit for bit. `scores` is scratch for n rounded up to a multiple of 16 floats.
void plq_attend_row(const float *q, const float *keys, const float *values, int64_t ld, int64_t n, int64_t head_dim,
                    float scale, float *scores, float *out);

/// plq_attend_row in portable C, one value at a time: the order plq_attend_row's AVX2 form keeps.
void plq_attend_row_portable(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                             int64_t head_dim, float scale, float *scores, float *out);

/// Causal attention for `rows` query rows at positions start…start+rows−1 (q: rows × heads·head_dim),
/// every head, over cached keys and values (rows of stride `ld`; query head h reads kv head
/// h/group at offset (h/group)·head_dim), into out (rows × heads·head_dim): each (row, head) is
/// plq_attend_row, the pairs split over the thread pool (the same bits for any split). `scratch`
/// holds rows·heads·S floats, S = start + rows rounded up to a multiple of 16.
void plq_attend_rows(const float *q, const float *keys, const float *values, int64_t ld, int64_t start, int64_t rows,
                     int64_t heads, int64_t group, int64_t head_dim, float scale, float *scratch, float *out);

/// plq_attend_rows in Float32 (the float32 and quantized arithmetics; no fp16 rounding). Each row's
/// positions are cut into up to 8 spans of at least 64 (one span below 128), and each (row, kv head, span) is a task
/// that reads every cached key and value of its span once for all the query heads of the group:
/// scores s_j = scale·(q·k_j), e_j = ggml's expf(s_j − m) with m the span's maximum, Σ e_j and
/// Σ e_j·v_j (eight-lane sums where the CPU has AVX2, head_dim a multiple of 8 up to 128 and a group
/// of at most 8; one value at a time otherwise); the spans are merged as softmax allows
/// (each rescaled by e^(m − max m)). `scratch` holds plq_attend_rows_f32_scratch(...) floats.
void plq_attend_rows_f32(const float *q, const float *keys, const float *values, int64_t ld, int64_t start, int64_t rows,
                         int64_t heads, int64_t group, int64_t head_dim, float scale, float *scratch, float *out);

/// The scratch floats plq_attend_rows_f32 needs for these arguments.
int64_t plq_attend_rows_f32_scratch(int64_t start, int64_t rows, int64_t heads, int64_t group, int64_t head_dim);

/// Float32 attention of one query over n cached positions (one span), in the portable order of
/// plq_attend_rows_f32; `scores` holds n + 16 floats (for tests).
void plq_attend_f32_portable(const float *q, const float *keys, const float *values, int64_t ld, int64_t n,
                             int64_t head_dim, float scale, float *scores, float *out);

/// ggml's vector exponential on AVX-512 (ggml_v_expf) for one value: within 1.5 ulp of e^x, and
/// what llama.cpp's softmax and SiLU use on this machine. 0 below about −104 (|n| > 192 gives 0 or inf).
float plq_ggml_expf(float x);

/// s[j] ← plq_ggml_expf(s[j] − m) for j in 0..<n (eight at a time with AVX2: the same bits).
void plq_ggml_exp_shifted(float *s, int64_t n, float m);

/// The sum of 16 floats in the tree of _mm512_reduce_add_ps: halves, quarters, pairs.
float plq_reduce16(const float v[16]);

/// gate ← SiLU(gate)·up for `rows` rows of n values, as ggml_vec_swiglu_f32: the first n − n mod 16
/// of each row with plq_ggml_expf and x/(1 + e^−x) in float, the rest with the C library's expf.
void plq_ggml_swiglu(float *gate, const float *up, int64_t rows, int64_t n);

/// plq_ggml_swiglu in portable C, one value at a time (the AVX2 form gives the same bits).
void plq_ggml_swiglu_portable(float *gate, const float *up, int64_t rows, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
