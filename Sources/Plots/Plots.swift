/// Plots: one figure model (lines, ECDF steps, histograms, scatter, bars, heatmaps) with a text
/// renderer for terminals (`TextRenderer`) and an SVG renderer for notebooks (`SVGRenderer`), plus
/// tables (`Table`) as box-drawn text and HTML. Depends on nothing else in the package.
///
/// A quick tour:
///
///     var fig = Figure.ecdf(values: s, label: "dense", title: "layer 12")
///     fig.add(.ecdf(values: pruned, label: "30% rows dropped"))
///     print(fig.text(width: 60, height: 15))        // braille at a terminal
///     let svg = fig.svg()                            // for a notebook
///
/// Values that cannot be drawn (NaN, ±infinity, and values ≤ 0 on a log axis) are skipped, never
/// turned into NaN coordinates; `Figure.skippedValueCount` counts them and both renderers print a
/// one-line note saying how many were left out.
import Foundation
