import Foundation
import Models

/// SwiGLU, a = silu(g) ⊙ u with silu(g) = g·σ(g), forward beside backward. The forward is the
/// inference kernel (`ForwardKernels.swiglu`).
public enum SwiGLU {
    /// silu(gate) ⊙ up, element-wise.
    public static func forward(gate: [Float], up: [Float]) -> [Float] {
        precondition(gate.count == up.count, "SwiGLU needs equal gate and up widths")
        var a = gate
        a.withUnsafeMutableBufferPointer { ap in
            up.withUnsafeBufferPointer { up in ForwardKernels.swiglu(gate: ap.baseAddress!, up: up.baseAddress!, count: ap.count) }
        }
        return a
    }

    /// dg = da ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))) and du = da ⊙ silu(g).
    public static func backward(_ da: [Float], gate: [Float], up: [Float]) -> (gate: [Float], up: [Float]) {
        precondition(da.count == gate.count && gate.count == up.count, "SwiGLU's backward needs equal widths")
        var dg = [Float](repeating: 0, count: da.count), du = dg
        da.withUnsafeBufferPointer { dap in
            gate.withUnsafeBufferPointer { gp in
                up.withUnsafeBufferPointer { upp in
                    dg.withUnsafeMutableBufferPointer { dgp in
                        du.withUnsafeMutableBufferPointer { dup in
                            let a = dap.baseAddress!, g = gp.baseAddress!, u = upp.baseAddress!
                            let og = dgp.baseAddress!, ou = dup.baseAddress!
                            ForwardKernels.parallelChunks(da.count) { range in
                                for i in range {
                                    let x = g[i], sig = 1 / (1 + exp(-x))
                                    ou[i] = a[i] * x * sig
                                    og[i] = a[i] * u[i] * sig * (1 + x * (1 - sig))
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dg, du)
    }
}
