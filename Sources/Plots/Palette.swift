/// The colours series get when they name none: ten distinguishable hues (the familiar "category
/// 10" set), taken in order and repeated.
public enum Palette {
    /// The ten series colours, in the order series receive them.
    public static let categorical: [Color] = ([
        0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
        0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    ] as [UInt32]).map(Color.init(rgb:))

    /// The colour of the `index`-th series (0-based) that names none.
    public static func color(_ index: Int) -> Color {
        categorical[((index % categorical.count) + categorical.count) % categorical.count]
    }
}

/// How a heatmap turns values into colours.
public enum Colormap: String, Sendable, Equatable, CaseIterable {
    /// Dark purple (low) through blue and green to yellow (high); perceptually even, for any data.
    case viridis
    /// White (low) to black (high).
    case grays
    /// Blue (negative) through white (zero) to red (positive); the colour range is made symmetric
    /// about zero when the data has both signs. For weights and differences.
    case diverging

    /// The colour at `t` in [0, 1] (clamped; NaN gives the low end).
    public func color(at t: Double) -> Color {
        let u = t.isFinite ? max(0, min(1, t)) : 0
        let stops: [Color]
        switch self {
        case .viridis: stops = Colormap.viridisStops
        case .grays: stops = [Color(red: 255, green: 255, blue: 255), Color(red: 0, green: 0, blue: 0)]
        case .diverging: stops = Colormap.divergingStops
        }
        let x = u * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(x))
        return stops[i].mixed(with: stops[i + 1], x - Double(i))
    }

    /// Anchor colours of viridis at eleven even steps (published values of the map).
    private static let viridisStops: [Color] = ([
        0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
        0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
    ] as [UInt32]).map(Color.init(rgb:))

    private static let divergingStops: [Color] = ([
        0x2166ac, 0x67a9cf, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xef8a62, 0xb2182b,
    ] as [UInt32]).map(Color.init(rgb:))
}
