import Numerics

/// One linear layer of the llama forward pass (a projection q, k, v, o, gate, up, down, or the
/// output head) and the one place its product is computed, whatever the arithmetic.
///
/// Layout: `weight` is out × in, row-major (row o holds the weights of output o, as GGUF and
/// Hugging Face store a linear), and the layer maps a batch of inputs x (rows × in, row-major) to
/// y = x·Wᵀ (rows × out). No bias: llama's linears have none.
///
/// Arithmetic: with `stored` nil the product is Float32 on OpenBLAS (`sgemm`). With `stored` set
/// (a weight loaded from a GGUF for llama.cpp's arithmetic, see `ForwardArithmetic.llamaCpp`)
/// the activations are quantised as llama.cpp quantises them and, for Q4_0 / Q4_1 / Q8_0, the
/// product runs on the integer kernel over the stored blocks, row by row, so a token's result
/// does not depend on how many rows share the batch; other stored types round the activations
/// and use BLAS on the dequantised weight.
///
/// In the quantized arithmetic (`ForwardArithmetic.quantized`) a layer loaded from a quantised
/// GGUF tensor holds only its blocks (`quantized`, see `QuantizedMatrix`): no Float32 copy, and the
/// product runs on them. `weight` then dequantises on demand (pruners and the backward pass still
/// read it), and the forward pass never asks for it.
///
/// The stored forms describe the weight as loaded, so they are set only by the initialiser that
/// reads a tensor, and any change to `weight` (assignment or an edit in place, as a pruner makes)
/// drops them: a changed weight is never multiplied stale, and from then on is a Float32 layer
/// meeting Float32 activations.
///
/// The backward pass is beside `apply` (for y = x·Wᵀ: dx = dy·W, dW += dyᵀ·x, in the same
/// layouts, Float32 on BLAS).
public struct Linear: Sendable {
    /// The Float32 weight when held (nil for a quantised-only layer).
    private var dense: Matrix?
    /// The weight, out × in (y = x·Wᵀ). For a quantised-only layer, reading it dequantises the
    /// blocks (a new rows × cols Matrix each time); changing it (assignment or an edit in place)
    /// keeps the changed Float32 matrix and drops `stored` and `quantized`.
    public var weight: Matrix {
        get { dense ?? quantized!.dequantized() }
        set {
            dense = newValue
            stored = nil
            quantized = nil
        }
        _modify {
            if dense == nil { dense = quantized!.dequantized() }
            stored = nil
            quantized = nil
            yield &dense!
        }
    }
    /// llama.cpp's view of the weight as loaded (its activation rounding and, for the integer
    /// kernels, its stored blocks); nil for Float32 arithmetic or once `weight` has changed.
    public private(set) var stored: LlamaCppLinear?
    /// The weight's blocks as loaded, when the layer holds nothing else (the quantized arithmetic);
    /// nil otherwise or once `weight` has changed.
    public private(set) var quantized: QuantizedMatrix?

    /// A Float32 layer with weight `weight` (out × in).
    public init(_ weight: Matrix) {
        dense = weight
        stored = nil
        quantized = nil
    }

    /// A quantised-only layer on `blocks` (the quantized arithmetic; the tied head shares the
    /// embedding's blocks this way).
    public init(blocks: QuantizedMatrix) {
        dense = nil
        stored = nil
        quantized = blocks
    }

    /// Whether the layer holds only quantised blocks (no Float32 weight).
    public var isQuantizedOnly: Bool { dense == nil }

    /// Bytes the layer keeps resident for its weight: the Float32 matrix, the llama.cpp blocks
    /// and the quantised blocks it holds (a mapped tensor's bytes count once their pages are read).
    public var residentBytes: Int {
        (dense.map { $0.count * 4 } ?? 0) + (stored?.packedBytes ?? 0) + (quantized?.storedBytes ?? 0)
    }

    /// The layer of `tensor` (out × in): its dequantised values and, in llama.cpp's arithmetic,
    /// its stored form when llama.cpp's rounding of it is modelled. `weight`, when given, is the
    /// tensor's values already read (the tied output head shares the embedding's storage); it
    /// must equal `tensor.matrix()`.
    public init(_ tensor: WeightTensor, arithmetic: ForwardArithmetic, weight: Matrix? = nil) throws {
        if arithmetic == .quantized, weight == nil, let blocks = try QuantizedMatrix(tensor) {
            dense = nil
            stored = nil
            quantized = blocks
            return
        }
        let values = try weight ?? tensor.matrix()
        precondition(values.rows == tensor.rows && values.cols == tensor.cols, "the weight must be the tensor's values")
        dense = values
        stored = arithmetic == .llamaCpp ? try LlamaCppLinear(tensor) : nil
        quantized = nil
    }

    /// Outputs (rows of the weight).
    public var outputs: Int { dense?.rows ?? quantized!.rows }
    /// Inputs (columns of the weight).
    public var inputs: Int { dense?.cols ?? quantized!.cols }

    /// y = x·Wᵀ for `rows` input rows x (rows × in, row-major); y is rows × out.
    public func apply(_ x: [Float], rows t: Int) -> [Float] {
        var y = [Float](repeating: 0, count: t * outputs)
        product(x, rows: t, into: &y, accumulate: false)
        return y
    }

    /// y_i = x·W_iᵀ for layers that share one input x (rows × in): q, k and v; gate and up. When every
    /// layer holds only integer-kernel blocks (the quantized arithmetic), their products run in one
    /// parallel region (`QuantizedMatrix.multiply(_:_:rows:into:)`); otherwise each layer's `apply`.
    /// The same results either way.
    public static func apply(_ layers: [Linear], _ x: [Float], rows t: Int) -> [[Float]] {
        let blocks = layers.compactMap { $0.quantized.flatMap { $0.hasIntegerKernel ? $0 : nil } }
        guard layers.count > 1, blocks.count == layers.count, t > 0, blocks.allSatisfy({ $0.cols == blocks[0].cols }) else {
            return layers.map { $0.apply(x, rows: t) }
        }
        precondition(x.count == t * blocks[0].cols, "linears of \(blocks[0].cols) inputs need \(t) × \(blocks[0].cols) inputs")
        // One buffer for every output, cut into the layers' arrays afterwards.
        let offsets = blocks.reduce(into: [0]) { $0.append($0.last! + t * $1.rows) }
        var all = [Float](repeating: 0, count: offsets.last!)
        all.withUnsafeMutableBufferPointer { out in
            x.withUnsafeBufferPointer { xp in
                QuantizedMatrix.multiply(blocks, xp.baseAddress!, rows: t, into: offsets.dropLast().map { out.baseAddress! + $0 })
            }
        }
        return blocks.indices.map { Array(all[offsets[$0]..<offsets[$0 + 1]]) }
    }

    /// y += x·Wᵀ for `rows` input rows x (rows × in) and y rows × out (a residual connection).
    public func apply(_ x: [Float], rows t: Int, addingTo y: inout [Float]) {
        product(x, rows: t, into: &y, accumulate: true)
    }

    /// The backward pass of `apply` for the upstream gradient dy (rows × out) and the forward's
    /// input x (rows × in): adds dyᵀ·x to `weightGradient` (out × in; gradients accumulate, the
    /// caller zeroes them once per step) and returns dx = dy·W (rows × in). Float32 on BLAS over
    /// `weight`, whatever the forward's arithmetic.
    public func backward(_ dy: [Float], input x: [Float], rows t: Int, weightGradient: inout Matrix) -> [Float] {
        accumulateWeightGradient(dy, input: x, rows: t, into: &weightGradient)
        var dx = [Float](repeating: 0, count: t * inputs)
        backward(dy, rows: t, addingTo: &dx)
        return dx
    }

    /// dW += dyᵀ·x: the weight's gradient from dy (rows × out) and the forward's input x (rows × in).
    public func accumulateWeightGradient(_ dy: [Float], input x: [Float], rows t: Int, into dW: inout Matrix) {
        let n = outputs, k = inputs
        precondition(dy.count == t * n && x.count == t * k && dW.rows == n && dW.cols == k,
                     "a \(n) × \(k) linear's weight gradient needs \(t) × \(n) gradients, \(t) × \(k) inputs and an \(n) × \(k) gradient")
        guard t > 0, n > 0, k > 0 else { return }
        dy.withUnsafeBufferPointer { dyp in
            x.withUnsafeBufferPointer { xp in
                dW.data.withUnsafeMutableBufferPointer { gp in
                    StridedBLAS.gemm(transA: true, m: n, n: k, k: t, a: dyp.baseAddress!, lda: n,
                                     b: xp.baseAddress!, ldb: k, beta: 1, c: gp.baseAddress!, ldc: k)
                }
            }
        }
    }

    /// dx += dy·W: the input's gradient (rows × in) from dy (rows × out), added to `dx` (inputs
    /// that feed several layers, as q, k and v share theirs, sum their gradients).
    public func backward(_ dy: [Float], rows t: Int, addingTo dx: inout [Float]) {
        let n = outputs, k = inputs
        precondition(dy.count == t * n && dx.count == t * k, "a \(n) × \(k) linear's input gradient needs \(t) × \(n) gradients and \(t) × \(k) outputs")
        guard t > 0, k > 0, n > 0 else { return }
        dy.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    StridedBLAS.gemm(m: t, n: k, k: n, a: dyp.baseAddress!, lda: n, b: wp.baseAddress!, ldb: k,
                                     beta: 1, c: dxp.baseAddress!, ldc: k)
                }
            }
        }
    }

    /// y (+)= x·Wᵀ in this layer's arithmetic (see the type's doc).
    private func product(_ x: [Float], rows t: Int, into y: inout [Float], accumulate: Bool) {
        let n = outputs, k = inputs
        precondition(x.count == t * k && y.count == t * n, "a \(n) × \(k) linear needs \(t) × \(k) inputs and \(t) × \(n) outputs")
        guard k > 0, t > 0 else { return }
        if let quantized {
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in quantized.multiply(xp.baseAddress!, rows: t, into: yp.baseAddress!, accumulate: accumulate) }
            }
            return
        }
        if let stored, stored.hasIntegerKernel {
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in stored.multiply(xp.baseAddress!, rows: t, into: yp.baseAddress!, accumulate: accumulate) }
            }
            return
        }
        var input = x
        stored?.roundActivations(&input, rows: t)
        input.withUnsafeBufferPointer { xp in
            dense!.data.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    StridedBLAS.gemm(transB: true, m: t, n: n, k: k, a: xp.baseAddress!, lda: k,
                                     b: wp.baseAddress!, ldb: k, beta: accumulate ? 1 : 0, c: yp.baseAddress!, ldc: n)
                }
            }
        }
    }
}
