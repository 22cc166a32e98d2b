// Chooses OpenBLAS's kernels when its own CPU detection falls back to the generic ones.
//
// A DYNAMIC_ARCH OpenBLAS (Debian's libopenblas0) picks its kernels from the CPUID model number
// when the library loads. On a CPU model it does not know (OpenBLAS 0.3.21 on this project's
// virtual Xeons, which have AVX-512) it falls back to "Prescott", the SSE3 kernels: sgemm runs
// about 3x slower than with its AVX-512 (SKYLAKEX) kernels, and every product in PruneLang with
// it. OPENBLAS_CORETYPE overrides the choice but is read only once, at load, before main; so this
// constructor (run after the library's own, before main) does what OpenBLAS does at load with
// the variable set: it sets it from the CPU's features, as reported by the compiler's CPU check,
// which also confirms that the OS saves the vector registers, and re-runs OpenBLAS's
// initialisation. It never overrides a core OpenBLAS recognised, nor a variable the user set,
// and does nothing on an OpenBLAS built for one CPU (the entry points are looked up, not linked).
#define _GNU_SOURCE
#include "COpenBLASCore.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <strings.h>

static const char *selection = "kept";

const char *plb_openblas_core_selection(void) { return selection; }

const char *plb_openblas_core_name(void) {
    const char *(*corename)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    return corename ? corename() : "unknown";
}

__attribute__((constructor)) static void plb_choose_openblas_core(void) {
    if (getenv("OPENBLAS_CORETYPE")) return;   // the user's choice stands
    const char *(*corename)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    if (!corename || !init || !quit) { selection = "not dynamic"; return; }
    const char *current = corename();
    if (!current || strcasecmp(current, "prescott") != 0) return;   // OpenBLAS knew this CPU
    __builtin_cpu_init();
    const char *core = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        core = "SKYLAKEX";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        core = "HASWELL";
    }
    if (!core) { selection = "no better kernel"; return; }
    // No BLAS call has run yet: dropping the kernel table and initialising again is what the
    // library's load does, with the variable now set. The variable is removed again so that
    // child processes detect for themselves.
    setenv("OPENBLAS_CORETYPE", core, 1);
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
    selection = core;
}
