/*
 * rabitq_kernel_bench.c
 *	  Nanoseconds per call of the RaBitQ code kernel (VaRabitqDotPlanes):
 *	  scalar, AVX2 and AVX-512 BW+VNNI, at padded lengths 832 (784 dims,
 *	  Fashion-MNIST) and 3072, bits 1, 2, 4 and 8.  Each measurement walks
 *	  256 codes (all in L1/L2, as in a search touching a page of codes) with
 *	  one prepared query, many times, and keeps the best of 5 runs.  Kernels
 *	  the CPU lacks are skipped.  Built and run by "make rabitq-kernel-bench"
 *	  (the real instructions, not the emulation); prints a Markdown table.
 */
#include "vectorann.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "distance/distance.h"
#include "distance/distance_simd.h"

#undef printf

#define NCODES 256

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* best-of-5 ns per call of kernel over NCODES codes */
static double
bench(int32_t (*kernel) (const uint8_t *, const int8_t *, int, int),
	  const uint8_t *codes, const int8_t *qq, int padded, int bits, int64_t *check)
{
	size_t		code_bytes = (size_t) padded;	/* room for 8 planes */
	int			reps = (int) (2e8 / ((double) padded * bits * NCODES)) + 1;
	double		best = 1e30;

	for (int run = 0; run < 5; run++)
	{
		int64_t		sum = 0;
		double		t0 = now_ns();

		for (int r = 0; r < reps; r++)
			for (int c = 0; c < NCODES; c++)
				sum += kernel(codes + c * code_bytes, qq, padded, bits);
		best = Min(best, (now_ns() - t0) / ((double) reps * NCODES));
		*check = sum;
	}
	return best;
}

int
main(void)
{
	static const int lengths[] = {832, 3072};
	static const int bitss[] = {1, 2, 4, 8};
	uint64_t	state = 88172645463325252ULL;
	int32_t		(*scalar) (const uint8_t *, const int8_t *, int, int);

	setenv("VECTORANN_KERNELS", "scalar", 1);
	VaDistanceInit();
	scalar = VaRabitqDotPlanes;
	unsetenv("VECTORANN_KERNELS");
	VaDistanceInit();

	__builtin_cpu_init();
	printf("| padded | bits | scalar ns | AVX2 ns | AVX-512 VNNI ns |\n");
	printf("|---:|---:|---:|---:|---:|\n");
	for (size_t li = 0; li < lengthof(lengths); li++)
	{
		int			padded = lengths[li];
		uint8_t    *codes = malloc((size_t) NCODES * padded);
		int8_t	   *qq = malloc(padded);

		for (size_t i = 0; i < (size_t) NCODES * padded; i++)
		{
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			codes[i] = (uint8_t) (state >> 56);
		}
		for (int i = 0; i < padded; i++)
			qq[i] = (int8_t) (codes[i * 7 % padded] % 255 - 127);
		for (size_t bi = 0; bi < lengthof(bitss); bi++)
		{
			int			bits = bitss[bi];
			int64_t		c0,
						c1 = 0,
						c2 = 0;
			double		ts = bench(scalar, codes, qq, padded, bits, &c0);
			double		t2 = -1,
						t5 = -1;

			if (__builtin_cpu_supports("avx2"))
				t2 = bench(VaRabitqDotPlanesAvx2, codes, qq, padded, bits, &c1);
			if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
				t5 = bench(VaRabitqDotPlanesAvx512Vnni, codes, qq, padded, bits, &c2);
			if ((t2 >= 0 && c1 != c0) || (t5 >= 0 && c2 != c0))
			{
				printf("MISMATCH at padded %d bits %d\n", padded, bits);
				return 1;
			}
			printf("| %d | %d | %.1f | %.1f | %.1f |\n", padded, bits, ts, t2, t5);
		}
		free(codes);
		free(qq);
	}
	printf("\nkernel set picked: %s\n", VaDistanceKernelName());
	return 0;
}
