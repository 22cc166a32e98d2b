/// An sRGB colour for a series, written `#rrggbb` in SVG and as the nearest xterm-256 colour in a
/// terminal.
public struct Color: Sendable, Equatable, Hashable {
    /// Red, 0–255.
    public var red: UInt8
    /// Green, 0–255.
    public var green: UInt8
    /// Blue, 0–255.
    public var blue: UInt8

    /// A colour from its three 0–255 components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from a 24-bit 0xRRGGBB value.
    public init(rgb: UInt32) {
        self.init(red: UInt8(rgb >> 16 & 0xff), green: UInt8(rgb >> 8 & 0xff), blue: UInt8(rgb & 0xff))
    }

    /// A colour from `#rgb`, `#rrggbb` (the `#` is optional) or one of the names `red`, `green`,
    /// `blue`, `orange`, `purple`, `brown`, `pink`, `gray`/`grey`, `olive`, `cyan`, `black`,
    /// `white`, `yellow`, `magenta` (case-insensitive); nil for anything else.
    public init?(_ text: String) {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let named = Color.names[s] {
            self = named
            return
        }
        var hex = Substring(s)
        if hex.hasPrefix("#") { hex = hex.dropFirst() }
        guard hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        if hex.count == 3 {
            let d = hex.map { UInt8(String([$0, $0]), radix: 16)! }
            self.init(red: d[0], green: d[1], blue: d[2])
        } else if hex.count == 6 {
            let v = UInt32(hex, radix: 16)!
            self.init(red: UInt8(v >> 16 & 0xff), green: UInt8(v >> 8 & 0xff), blue: UInt8(v & 0xff))
        } else {
            return nil
        }
    }

    /// The colour as `#rrggbb`.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for c in [red, green, blue] {
            s.append(digits[Int(c >> 4)])
            s.append(digits[Int(c & 15)])
        }
        return s
    }

    /// The nearest colour of the xterm 256-colour palette (the 6×6×6 cube or the grey ramp), as
    /// used by `ESC[38;5;Nm`.
    public var xterm256: Int {
        let levels = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for i in 1..<levels.count where abs(levels[i] - Int(v)) < abs(levels[best] - Int(v)) { best = i }
            return best
        }
        let (r, g, b) = (nearestLevel(red), nearestLevel(green), nearestLevel(blue))
        let cube = (levels[r], levels[g], levels[b])
        let cubeIndex = 16 + 36 * r + 6 * g + b
        let mean = (Int(red) + Int(green) + Int(blue)) / 3
        let greyStep = max(0, min(23, (mean - 8 + 5) / 10))
        let grey = 8 + 10 * greyStep
        func distance(_ a: (Int, Int, Int)) -> Int {
            let dr = a.0 - Int(red), dg = a.1 - Int(green), db = a.2 - Int(blue)
            return dr * dr + dg * dg + db * db
        }
        return distance((grey, grey, grey)) < distance(cube) ? 232 + greyStep : cubeIndex
    }

    /// Mixes two colours: `t` = 0 gives `self`, 1 gives `other`.
    public func mixed(with other: Color, _ t: Double) -> Color {
        let u = t.isFinite ? max(0, min(1, t)) : 0
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8(max(0, min(255, (Double(a) + (Double(b) - Double(a)) * u).rounded())))
        }
        return Color(red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
    }

    private static let names: [String: Color] = [
        "blue": Palette.categorical[0], "orange": Palette.categorical[1], "green": Palette.categorical[2],
        "red": Palette.categorical[3], "purple": Palette.categorical[4], "brown": Palette.categorical[5],
        "pink": Palette.categorical[6], "gray": Palette.categorical[7], "grey": Palette.categorical[7],
        "olive": Palette.categorical[8], "cyan": Palette.categorical[9],
        "black": Color(red: 0, green: 0, blue: 0), "white": Color(red: 255, green: 255, blue: 255),
        "yellow": Color(red: 0xe6, green: 0xc2, blue: 0x29), "magenta": Color(red: 0xc0, green: 0x2c, blue: 0xc0),
    ]
}
