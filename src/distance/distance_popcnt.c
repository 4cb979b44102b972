/*
 * distance_popcnt.c
 *	  bit-string kernels (Hamming distance, Jaccard counts) for x86-64 using
 *	  the POPCNT instruction on 64-bit words.  Every function carries
 *	  VA_POPCNT (target("popcnt"), distance_intrin.h) and runs only when VaDistanceInit()
 *	  has checked the CPU.  Same contracts as the scalar kernels in
 *	  distance.c: nbytes >= 0, exactly nbytes read from each string (words
 *	  are loaded with memcpy, so no alignment is assumed), results equal.
 *
 *	  Compiled a second time, against SIMDe instead of the hardware, by the
 *	  emulated kernel test (VA_KERNEL_EMULATE; test/kernels/).
 */
#include "vectorann.h"

#include <string.h>

#include "distance/distance.h"
#include "distance/distance_simd.h"

#if defined(VA_HAVE_POPCNT_KERNELS) || defined(VA_KERNEL_EMULATE)

#include "distance/distance_intrin.h"

/* The 64-bit word at p, in host order (popcounts do not care). */
static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t	w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* number of bits that differ between a and b */
VA_POPCNT uint64_t
VaBitHammingPopcnt(const uint8_t *a, const uint8_t *b, int nbytes)
{
	uint64_t	count = 0;
	int			i = 0;

	for (; i + 8 <= nbytes; i += 8)
		count += (uint64_t) __builtin_popcountll(load64(a + i) ^ load64(b + i));
	for (; i < nbytes; i++)
		count += (uint64_t) __builtin_popcount((unsigned int) (a[i] ^ b[i]));
	return count;
}

/* popcount(a & b) and popcount(a | b) */
VA_POPCNT void
VaBitJaccardCountsPopcnt(const uint8_t *a, const uint8_t *b, int nbytes,
						 uint64_t *both, uint64_t *either)
{
	uint64_t	nboth = 0;
	uint64_t	neither = 0;
	int			i = 0;

	for (; i + 8 <= nbytes; i += 8)
	{
		uint64_t	wa = load64(a + i);
		uint64_t	wb = load64(b + i);

		nboth += (uint64_t) __builtin_popcountll(wa & wb);
		neither += (uint64_t) __builtin_popcountll(wa | wb);
	}
	for (; i < nbytes; i++)
	{
		nboth += (uint64_t) __builtin_popcount((unsigned int) (a[i] & b[i]));
		neither += (uint64_t) __builtin_popcount((unsigned int) (a[i] | b[i]));
	}
	*both = nboth;
	*either = neither;
}

#else							/* !VA_HAVE_POPCNT_KERNELS &&
								 * !VA_KERNEL_EMULATE */

/* Nothing to build on this platform; keep the translation unit non-empty. */
typedef int VaDistancePopcntUnavailable;

#endif							/* VA_HAVE_POPCNT_KERNELS || VA_KERNEL_EMULATE */
