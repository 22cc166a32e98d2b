import Foundation

/// Short, noise-free number text for tick labels, legends, tables and SVG coordinates.
public enum NumberFormatting {
    /// `%.Ng`-like text with a tidy exponent: `compact(0.1 + 0.2)` is "0.3", `compact(1234567)` is
    /// "1.235e6", `compact(1.5e-5)` is "1.5e-5"; NaN is "NaN", infinities "inf" and "-inf", and
    /// negative zero "0".
    public static func compact(_ x: Double, significant: Int = 4) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        let digits = max(1, min(17, significant))
        return tidyExponent(String(format: "%.\(digits)g", x))
    }

    /// Labels for evenly spaced tick values `step` apart: fixed decimals just fine enough for the
    /// step ("0", "0.5", "1"), or exponent form when the values are very large or very small.
    public static func tickLabels(_ ticks: [Double], step: Double) -> [String] {
        guard step.isFinite, step > 0 else { return ticks.map { compact($0) } }
        let maxAbs = ticks.map { abs($0) }.max() ?? 0
        if maxAbs >= 1e6 || (step < 1e-4 && maxAbs < 1e-3) || step < 1e-9 * maxAbs {
            let sig = max(1, min(15, Int((Foundation.log10(max(maxAbs, step) / step)).rounded(.up)) + 1))
            return ticks.map { compact($0, significant: sig) }
        }
        var decimals = max(0, -Int(Foundation.log10(step).rounded(.down)))
        while decimals < 12 {
            let scaled = step * Foundation.pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
            decimals += 1
        }
        return ticks.map { fixed($0, decimals: decimals) }
    }

    /// `%.{decimals}f` text without a minus sign on zero ("-0.00" becomes "0.00").
    public static func fixed(_ x: Double, decimals: Int) -> String {
        if !x.isFinite { return compact(x) }
        var s = String(format: "%.\(max(0, min(20, decimals)))f", x)
        if s.hasPrefix("-") && !s.contains(where: { ("1"..."9").contains($0) }) { s.removeFirst() }
        return s
    }

    /// A coordinate for SVG: at most two decimals, trailing zeros dropped ("12.5", "3", "-0.25").
    public static func coordinate(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let r = (x * 100).rounded()
        if abs(r) >= 1e15 { return compact(x, significant: 8) }
        var n = Int64(r)
        if n == 0 { return "0" }
        var s = ""
        if n < 0 { s = "-"; n = -n }
        let whole = n / 100, frac = n % 100
        s += String(whole)
        if frac != 0 {
            s += frac % 10 == 0 ? "." + String(frac / 10) : (frac < 10 ? ".0" + String(frac) : "." + String(frac))
        }
        return s
    }

    /// "1.5e-05" → "1.5e-5", "1e+06" → "1e6".
    static func tidyExponent(_ s: String) -> String {
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return s }
        let mantissa = s[..<e]
        var exponent = s[s.index(after: e)...]
        var sign = ""
        if exponent.hasPrefix("+") { exponent = exponent.dropFirst() }
        else if exponent.hasPrefix("-") { sign = "-"; exponent = exponent.dropFirst() }
        while exponent.count > 1 && exponent.hasPrefix("0") { exponent = exponent.dropFirst() }
        return mantissa + "e" + sign + exponent
    }
}
