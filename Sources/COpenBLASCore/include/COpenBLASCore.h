#ifndef COPENBLASCORE_H
#define COPENBLASCORE_H

/// What happened to OpenBLAS's kernel choice when this program started (see core.c):
/// "kept" (OpenBLAS recognised the CPU, or OPENBLAS_CORETYPE was set), "not dynamic" (an
/// OpenBLAS built for one CPU, nothing to choose), "no better kernel" (the fallback is all this
/// CPU supports), or the core it was moved to ("SKYLAKEX", "HASWELL").
const char *plb_openblas_core_selection(void);

/// OpenBLAS's name for the kernels in use (openblas_get_corename), or "unknown".
const char *plb_openblas_core_name(void);

#endif
