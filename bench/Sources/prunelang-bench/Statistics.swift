import Foundation
import Numerics

/// Times the two-sample KS and k-sample Anderson–Darling statistics on the driver's two sample sets.
func runStatistics(_ dir: URL, manifest: Manifest, wanted: (String) -> Bool) throws {
    guard wanted("ks_2samp_1e6") || wanted("anderson_ksamp_1e6") else { return }
    let a = try readArray(dir.appendingPathComponent("samples_a.f64"), as: Double.self)
    let b = try readArray(dir.appendingPathComponent("samples_b.f64"), as: Double.self)
    if wanted("ks_2samp_1e6") {
        var r: KSResult?
        let t = try time(repeats: manifest.repeats) { r = try ks2samp(a, b) }
        report("ks_2samp_1e6", t, ["statistic": r!.statistic, "p_value": r!.pValue])
    }
    if wanted("anderson_ksamp_1e6") {
        var r: ADResult?
        let t = try time(repeats: manifest.repeats) { r = try andersonKSample([a, b]) }
        report("anderson_ksamp_1e6", t, ["statistic": r!.statistic])
    }
}
