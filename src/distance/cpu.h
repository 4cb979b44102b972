/*
 * cpu.h
 *	  CPU features used outside the distance kernels, detected with theirs
 *	  by VaDistanceInit() (distance.c): the one place that asks the CPU.
 */
#ifndef VA_CPU_H
#define VA_CPU_H

/* Whether the CPU has PREFETCHW (set by VaDistanceInit; false before). */
extern bool va_cpu_has_prefetchw;

/*
 * Whether code compiled for AVX2 (without FMA) may run: the CPU and OS
 * have it and VECTORANN_KERNELS does not say "scalar" (set by
 * VaDistanceInit; false before).
 */
extern bool va_cpu_has_avx2;

/*
 * Hint the CPU to load the cache line at addr for writing: in exclusive
 * state, so that an atomic operation on it soon after (pinning a buffer
 * updates its descriptor's state word) does not wait for ownership too.
 * On x86-64 that takes PREFETCHW, which compilers emit for
 * __builtin_prefetch(addr, 1) only when told the CPU has it, so it is used
 * when CPUID says so; an ordinary prefetch otherwise.  Other
 * architectures' write prefetch comes from the builtin.
 */
static inline void
VaPrefetchWrite(const void *addr)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (va_cpu_has_prefetchw)
	{
		/* INDENT OFF */
		__asm__ volatile("prefetchw %0" : : "m"(*(const char *) addr));
		/* INDENT ON */

		return;
	}
#endif
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(addr, 1);
#else
	(void) addr;
#endif
}

#endif							/* VA_CPU_H */
