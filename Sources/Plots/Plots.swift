/// Plots: one figure model (lines, ECDF steps, histograms, scatter, bars, heatmaps) with a text
/// renderer for terminals and an SVG renderer for notebooks, plus tables as text and HTML.
/// Depends on nothing else in the package. (Empty until the language issue lands.)
