"""The shrunk run of a lecture notebook: a code cell tagged "parameters" may carry, in its metadata
under prunelang.ci_source, a variant of its source with smaller settings (fewer seeds, shorter runs).
The test suite and `scripts/execute-notebook --ci` run that variant; the committed outputs are the
full run of the cell as written."""


def apply_ci_parameters(nb):
    """Replaces each parameters cell's source by its CI variant, where it has one; returns how many."""
    n = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            ci = cell.metadata.get("prunelang", {}).get("ci_source")
            if ci is not None:
                cell.source = ci
                n += 1
    return n
