import Plots

/// A value that `plot` draws as a figure of its own: `plot(a)` for an analysis from `analyze` is
/// its α by block and role, the same figure as `a.figure`.
protocol FigureSource {
    /// The figure `plot` overlays for this value.
    var defaultFigure: Figure { get }
}

extension SpectralAnalysisObject: FigureSource {
    var defaultFigure: Figure { alphaFigure() }
}
