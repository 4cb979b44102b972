/*
 * vectorann.c
 *	  Module entry point: the module magic and _PG_init, which calls each
 *	  module's initialiser (CPU features, distance kernel selection, index
 *	  GUCs).
 */
#include "vectorann.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

PG_MODULE_MAGIC;

bool		va_cpu_has_prefetchw = false;

/*
 * CPU features used outside the distance kernels: PREFETCHW (CPUID
 * 0x80000001, ECX bit 8, "3DNowPrefetch"/PRFCHW: AMD since K8, Intel since
 * Broadwell).  Called once from _PG_init.
 */
void
VaCpuInit(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx))
		va_cpu_has_prefetchw = (ecx & (1u << 8)) != 0;
#endif
}

void		_PG_init(void);

void
_PG_init(void)
{
	VaCpuInit();
	VaDistanceInit();
	HnswInit();
	IvfflatInit();
}
