// What the CPU can do, for the kernels' dispatch (private to CQuant).
#ifndef CQUANT_CPU_H
#define CQUANT_CPU_H

#if defined(__x86_64__) || defined(__i386__)
/// 1 when the CPU has AVX2 and FMA (checked once), else 0.
int plq_have_avx2_fma(void);
#endif

#endif
