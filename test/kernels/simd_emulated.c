/*
 * simd_emulated.c
 *	  Tests every SIMD distance kernel on any CPU.  The Makefile compiles
 *	  each SIMD source, src/distance/distance_*.c (AVX2+FMA, F16C, POPCNT,
 *	  AVX-512), with VA_KERNEL_EMULATE, so its intrinsics come from SIMD
 *	  Everywhere (libsimde-dev, portable C; see src/distance/
 *	  distance_intrin.h) instead of the hardware, and links them with the
 *	  scalar reference in distance.c; every kernel is then compared with
 *	  that reference.  The SQL self check (vectorann_kernel_check) runs the
 *	  real instructions, but only those the CPU has; this test covers the
 *	  kernels' logic (blocks, masks, tails, reductions) everywhere.
 *
 *	  Arguments: the file names of the SIMD sources the build found
 *	  (distance_avx2.c ...).  A file this program has no comparisons for
 *	  fails the test, so a new kernel file cannot go untested.
 *
 *	  Inputs: pseudo-random, lengths 0, 1, 7, 15, 16, 17, 1023, 16000 (the
 *	  lengths of the SQL check, plus 0) and 31, 32, 33, 63, 64, 65 (the edges
 *	  of the kernels' 8-, 16- and 32-float and 64-byte blocks); bit kernels
 *	  get that many bytes.  Every array ends right before a page the program
 *	  has made inaccessible, so a kernel that reads past the n-th element
 *	  crashes the test instead of passing it.
 *
 *	  The RaBitQ code kernels (VaRabitqDotPlanes) get padded lengths 64,
 *	  128, 832, 3072 and 16000 and every bits 1..8, random planes and qq and
 *	  the extremes (every bit set, qq all -128 or 127); the planes of each
 *	  bits value end at the guard page too.
 *
 *	  The RaBitQ level-search kernels (VaRabitqLevels): padded lengths 8 to
 *	  3072, caps 0 to 127, 1 to 6 rescalings, exactly.  The nearest-centroid
 *	  panel kernels (VaDotPanels): 0 to 33 rows of 1 to 784 dimensions
 *	  against 1 to 3 panels, within 1e-5 of the sum of |terms|; their key
 *	  and count kernels (VaPanelKeys, VaCountAtMost) on 0 to 1000 keys,
 *	  exactly.
 *
 *	  The PQ kernels (VaPqTableL2/Ip, VaPqScan, VaPqArgmin): tables at several (m, dsub)
 *	  shapes, within 1e-5 of the sum of |terms| per entry; scans of 0 to
 *	  1000 codes of 1 to 98 bytes, exactly, with the codes ending at the
 *	  guard page (n = 1000 is reported as n * 1000 + m in FAIL lines);
 *	  argmins of random rows, rows with ties and a constant row, exactly;
 *	  encodings of 0 to 33 rows (VaPqEncodeL2), exactly the codes of the
 *	  same instruction set's table and argmin kernels row by row.
 *
 *	  Tolerance, the same as VaDistanceCheckKernels in distance.c: float4
 *	  kernels within 1e-5, float8 kernels within 1e-12 of the sum of the
 *	  absolute values of the terms (+1e-30); bit kernels and the binary16
 *	  conversions and the RaBitQ code kernels exactly.
 *
 *	  Prints one line per failed comparison and a summary naming the files
 *	  and kernels compared; exits 0 only if every comparison passed.  Built
 *	  and run by "make emulated-kernel-check".
 */
#include "vectorann.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "distance/distance.h"
#include "distance/distance_simd.h"

#ifndef VA_KERNEL_EMULATE
#error "build with -DVA_KERNEL_EMULATE (make emulated-kernel-check)"
#endif

/* postgres.h (through vectorann.h) maps printf to libpgport's; use libc's. */
#undef printf

static const int lengths[] = {0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1023, 16000};

#define MAXN 16000

/* padded lengths (multiples of 64) for the RaBitQ code kernels */
static const int rabitq_lengths[] = {64, 128, 832, 3072, 16000};

static int	comparisons = 0;
static int	failures = 0;

/*
 * SIGSEGV handler: the guard page after an input was read, i.e. a kernel
 * over-read.  Says so (write() is async-signal-safe) and exits non-zero.
 */
static void
on_segv(int sig)
{
	static const char msg[] =
		"FAIL a kernel read past the end of its input (SIGSEGV at a guard page)\n";

	(void) sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/*
 * nbytes of memory that end exactly where an inaccessible page begins (so
 * any read past them faults).  Exits the program if mmap fails.
 */
static void *
alloc_guarded(size_t nbytes)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);
	size_t		span = (nbytes + page - 1) / page * page;
	char	   *base = mmap(NULL, span + page, PROT_READ | PROT_WRITE,
							MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED || mprotect(base + span, page, PROT_NONE) != 0)
	{
		perror("simd_emulated: mmap");
		exit(2);
	}
	return base + span - nbytes;
}

/* xorshift64: deterministic pseudo-random numbers */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t	x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* A float in [-1, 1) with 24 random bits. */
static float
random_float(uint64_t *state)
{
	return (float) ((int64_t) (next_random(state) >> 40) - (1 << 23)) / (float) (1 << 23);
}

/* Counts one comparison of a float result against the reference. */
static void
expect_close(const char *kernel, int n, double got, double ref, double scale, double rel)
{
	comparisons++;
	if (!(fabs(got - ref) <= rel * scale + 1e-30))
	{
		failures++;
		printf("FAIL %s n=%d: got %.17g, scalar %.17g, allowed %.3g\n",
			   kernel, n, got, ref, rel * scale + 1e-30);
	}
}

/* Counts one comparison of an integer result against the reference. */
static void
expect_equal(const char *kernel, int n, uint64_t got, uint64_t ref)
{
	comparisons++;
	if (got != ref)
	{
		failures++;
		printf("FAIL %s n=%d: got %llu, scalar %llu\n",
			   kernel, n, (unsigned long long) got, (unsigned long long) ref);
	}
}

/* The SIMD sources whose kernels this program compares. */
static const char *const covered_files[] = {
	"distance_avx2.c", "distance_f16c.c", "distance_popcnt.c", "distance_avx512.c"
};

/*
 * Is every file named in argv[1..argc-1] one this program covers?  Prints a
 * FAIL line for each that is not.
 */
static bool
files_covered(int argc, char **argv)
{
	bool		all = true;

	for (int i = 1; i < argc; i++)
	{
		bool		found = false;

		for (size_t j = 0; j < lengthof(covered_files); j++)
			found |= strcmp(argv[i], covered_files[j]) == 0;
		if (!found)
		{
			printf("FAIL %s: a SIMD source this test has no comparisons for\n", argv[i]);
			all = false;
		}
	}
	return all;
}

/*
 * Runs every emulated SIMD kernel against the scalar reference on the
 * lengths above; returns 0 if all agreed and every source file named in the
 * arguments is covered, 1 otherwise.
 */
int
main(int argc, char **argv)
{
	uint64_t	state = 0x2545F4914F6CDD1DULL;
	bool		covered;

	signal(SIGSEGV, on_segv);
	setvbuf(stdout, NULL, _IONBF, 0);

	covered = files_covered(argc, argv);

	/*
	 * The kernel pointers start out scalar; VECTORANN_KERNELS=scalar keeps
	 * them so even on a CPU where VaDistanceInit() would pick SIMD ones.
	 */
	setenv("VECTORANN_KERNELS", "scalar", 1);
	VaDistanceInit();
	if (strcmp(VaDistanceKernelName(), "scalar") != 0)
	{
		printf("FAIL the reference kernels are not the scalar ones\n");
		return 1;
	}

	for (size_t li = 0; li < lengthof(lengths); li++)
	{
		int			n = lengths[li];
		float	   *fa = alloc_guarded(sizeof(float) * n);
		float	   *fb = alloc_guarded(sizeof(float) * n);
		float	   *fc = alloc_guarded(sizeof(float) * n);
		float	   *fd = alloc_guarded(sizeof(float) * n);
		uint16_t   *ha = alloc_guarded(sizeof(uint16_t) * n);
		uint16_t   *hb = alloc_guarded(sizeof(uint16_t) * n);
		uint16_t   *hc = alloc_guarded(sizeof(uint16_t) * n);
		uint8_t    *ba = alloc_guarded(n);
		uint8_t    *bb = alloc_guarded(n);
		double		sabs_ip = 0.0;
		double		sabs_l2 = 0.0;
		double		sabs_l1 = 0.0;
		double		hsabs_ip = 0.0;
		double		hsabs_l2 = 0.0;
		double		hsabs_l1 = 0.0;
		uint64_t	both1,
					either1,
					both2,
					either2;
		int			bad;

		for (int i = 0; i < n; i++)
		{
			fa[i] = random_float(&state);
			fb[i] = random_float(&state);
			/* halves spread over [-64, 64) */
			ha[i] = VaFloatToHalf(random_float(&state) * 64.0f);
			hb[i] = VaFloatToHalf(random_float(&state) * 64.0f);
			ba[i] = (uint8_t) (next_random(&state) >> 56);
			bb[i] = (uint8_t) (next_random(&state) >> 56);
			/* floats over the whole binary16 range, below and past it */
			fc[i] = ldexpf(random_float(&state), (int) (next_random(&state) % 48) - 30);
		}
		for (int i = 0; i < n; i++)
		{
			double		d = (double) fa[i] - fb[i];
			double		x = VaHalfToFloat(ha[i]);
			double		y = VaHalfToFloat(hb[i]);

			sabs_ip += fabs((double) fa[i] * fb[i]);
			sabs_l2 += d * d;
			sabs_l1 += fabs(d);
			hsabs_ip += fabs(x * y);
			hsabs_l2 += (x - y) * (x - y);
			hsabs_l1 += fabs(x - y);
		}

		/* distance_avx2.c */
		expect_close("l2_squared_float_avx2", n, VaL2SquaredFloatAvx2(fa, fb, n),
					 VaL2SquaredFloat(fa, fb, n), sabs_l2, 1e-5);
		expect_close("inner_product_float_avx2", n, VaInnerProductFloatAvx2(fa, fb, n),
					 VaInnerProductFloat(fa, fb, n), sabs_ip, 1e-5);
		expect_close("l1_float_avx2", n, VaL1FloatAvx2(fa, fb, n),
					 VaL1Float(fa, fb, n), sabs_l1, 1e-5);
		expect_close("l2_squared_double_avx2", n, VaL2SquaredDoubleAvx2(fa, fb, n),
					 VaL2SquaredDouble(fa, fb, n), sabs_l2, 1e-12);
		expect_close("inner_product_double_avx2", n, VaInnerProductDoubleAvx2(fa, fb, n),
					 VaInnerProductDouble(fa, fb, n), sabs_ip, 1e-12);
		expect_close("l1_double_avx2", n, VaL1DoubleAvx2(fa, fb, n),
					 VaL1Double(fa, fb, n), sabs_l1, 1e-12);

		/* distance_f16c.c */
		expect_close("halfvec_l2_squared_float_f16c", n, VaHalfL2SquaredFloatF16c(ha, hb, n),
					 VaHalfL2SquaredFloat(ha, hb, n), hsabs_l2, 1e-5);
		expect_close("halfvec_inner_product_float_f16c", n, VaHalfInnerProductFloatF16c(ha, hb, n),
					 VaHalfInnerProductFloat(ha, hb, n), hsabs_ip, 1e-5);
		expect_close("halfvec_l1_float_f16c", n, VaHalfL1FloatF16c(ha, hb, n),
					 VaHalfL1Float(ha, hb, n), hsabs_l1, 1e-5);
		VaFloatToHalfF16c(fc, hc, n);
		bad = 0;
		for (int i = 0; i < n; i++)
			bad += hc[i] != VaFloatToHalf(fc[i]);
		expect_equal("float_to_half_f16c (values differing)", n, bad, 0);
		VaHalfToFloatF16c(ha, fd, n);
		bad = 0;
		for (int i = 0; i < n; i++)
		{
			float		ref = VaHalfToFloat(ha[i]);

			bad += memcmp(&fd[i], &ref, sizeof(float)) != 0;
		}
		expect_equal("half_to_float_f16c (values differing)", n, bad, 0);

		/* distance_popcnt.c */
		expect_equal("bit_hamming_popcnt", n, VaBitHammingPopcnt(ba, bb, n), VaBitHamming(ba, bb, n));
		VaBitJaccardCountsPopcnt(ba, bb, n, &both1, &either1);
		VaBitJaccardCounts(ba, bb, n, &both2, &either2);
		expect_equal("bit_jaccard_counts_popcnt (both)", n, both1, both2);
		expect_equal("bit_jaccard_counts_popcnt (either)", n, either1, either2);

		/* distance_avx512.c */
		expect_close("l2_squared_float_avx512", n, VaL2SquaredFloatAvx512(fa, fb, n),
					 VaL2SquaredFloat(fa, fb, n), sabs_l2, 1e-5);
		expect_close("inner_product_float_avx512", n, VaInnerProductFloatAvx512(fa, fb, n),
					 VaInnerProductFloat(fa, fb, n), sabs_ip, 1e-5);
		expect_close("l1_float_avx512", n, VaL1FloatAvx512(fa, fb, n),
					 VaL1Float(fa, fb, n), sabs_l1, 1e-5);
		expect_close("l2_squared_double_avx512", n, VaL2SquaredDoubleAvx512(fa, fb, n),
					 VaL2SquaredDouble(fa, fb, n), sabs_l2, 1e-12);
		expect_close("inner_product_double_avx512", n, VaInnerProductDoubleAvx512(fa, fb, n),
					 VaInnerProductDouble(fa, fb, n), sabs_ip, 1e-12);
		expect_close("l1_double_avx512", n, VaL1DoubleAvx512(fa, fb, n),
					 VaL1Double(fa, fb, n), sabs_l1, 1e-12);
		expect_close("halfvec_l2_squared_float_avx512", n, VaHalfL2SquaredFloatAvx512(ha, hb, n),
					 VaHalfL2SquaredFloat(ha, hb, n), hsabs_l2, 1e-5);
		expect_close("halfvec_inner_product_float_avx512", n, VaHalfInnerProductFloatAvx512(ha, hb, n),
					 VaHalfInnerProductFloat(ha, hb, n), hsabs_ip, 1e-5);
		expect_close("halfvec_l1_float_avx512", n, VaHalfL1FloatAvx512(ha, hb, n),
					 VaHalfL1Float(ha, hb, n), hsabs_l1, 1e-5);
		expect_equal("bit_hamming_avx512", n, VaBitHammingAvx512(ba, bb, n), VaBitHamming(ba, bb, n));
		VaBitJaccardCountsAvx512(ba, bb, n, &both1, &either1);
		VaBitJaccardCounts(ba, bb, n, &both2, &either2);
		expect_equal("bit_jaccard_counts_avx512 (both)", n, both1, both2);
		expect_equal("bit_jaccard_counts_avx512 (either)", n, either1, either2);
	}

	/* RaBitQ code kernels: distance_avx2.c, distance_avx512.c */
	for (size_t li = 0; li < lengthof(rabitq_lengths); li++)
	{
		int			padded = rabitq_lengths[li];
		uint8_t    *planes = alloc_guarded(padded);
		int8_t	   *qq = alloc_guarded(padded);

		for (int pass = 0; pass < 3; pass++)
		{
			for (int i = 0; i < padded; i++)
			{
				planes[i] = pass == 0 ? (uint8_t) (next_random(&state) >> 56) : 0xff;
				qq[i] = pass == 0 ? (int8_t) (next_random(&state) >> 56) : pass == 1 ? -128 : 127;
			}
			for (int bits = 1; bits <= 8; bits++)
			{
				/* the bits planes end at the guard page */
				const uint8_t *p = planes + padded - bits * padded / 8;
				int64_t		ref = VaRabitqDotPlanes(p, qq, padded, bits);

				expect_equal("rabitq_dot_planes_avx2", padded,
							 (uint64_t) (int64_t) VaRabitqDotPlanesAvx2(p, qq, padded, bits), (uint64_t) ref);
				expect_equal("rabitq_dot_planes_avx512vnni", padded,
							 (uint64_t) (int64_t) VaRabitqDotPlanesAvx512Vnni(p, qq, padded, bits), (uint64_t) ref);
			}
		}
	}

	/*
	 * PQ kernels: distance_avx2.c, distance_avx512.c.  Tables at several
	 * (m, dsub), within 1e-5 of the sum of |terms| per entry; scans exactly,
	 * with the codes ending at the guard page (the gathers read 32-bit words
	 * at byte positions, so a block that runs too far faults).
	 */
	{
		static const int shapes[][2] = {{1, 1}, {2, 3}, {3, 5}, {49, 16}, {8, 96}, {1, 784}};
		static const int scan_n[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000};
		static const int scan_m[] = {1, 2, 3, 4, 5, 49, 98};

		for (size_t si = 0; si < lengthof(shapes); si++)
		{
			int			m = shapes[si][0];
			int			dsub = shapes[si][1];
			float	   *x = alloc_guarded(sizeof(float) * m * dsub);
			float	   *cb = alloc_guarded(sizeof(float) * m * dsub * VA_PQ_KSUB);
			float	   *tref = alloc_guarded(sizeof(float) * m * VA_PQ_KSUB);
			float	   *tgot = alloc_guarded(sizeof(float) * m * VA_PQ_KSUB);

			for (int i = 0; i < m * dsub; i++)
				x[i] = random_float(&state);
			for (int i = 0; i < m * dsub * VA_PQ_KSUB; i++)
				cb[i] = random_float(&state);
			for (int ip = 0; ip < 2; ip++)
			{
				void		(*ref) (const float *, const float *, int, int, float *) = ip ? VaPqTableIp : VaPqTableL2;
				void		(*got[2]) (const float *, const float *, int, int, float *) = {
					ip ? VaPqTableIpAvx2 : VaPqTableL2Avx2,
					ip ? VaPqTableIpAvx512 : VaPqTableL2Avx512
				};
				const char *names[2][2] = {{"pq_table_l2_avx2", "pq_table_l2_avx512"},
				{"pq_table_ip_avx2", "pq_table_ip_avx512"}};

				ref(x, cb, m, dsub, tref);
				for (int g = 0; g < 2; g++)
				{
					got[g] (x, cb, m, dsub, tgot);
					for (int e = 0; e < m * VA_PQ_KSUB; e++)
					{
						int			j = e / VA_PQ_KSUB,
									k = e % VA_PQ_KSUB;
						double		scale = 0.0;

						for (int d = 0; d < dsub; d++)
						{
							double		c = cb[((size_t) j * dsub + d) * VA_PQ_KSUB + k];
							double		xd = x[j * dsub + d];

							scale += ip ? fabs(xd * c) : (xd - c) * (xd - c);
						}
						expect_close(names[ip][g], m * dsub, tgot[e], tref[e], scale, 1e-5);
					}
				}
			}
		}

		for (size_t mi = 0; mi < lengthof(scan_m); mi++)
		{
			int			m = scan_m[mi];
			float	   *table = alloc_guarded(sizeof(float) * m * VA_PQ_KSUB);

			for (int i = 0; i < m * VA_PQ_KSUB; i++)
				table[i] = random_float(&state) * 100.0f;
			for (size_t ni = 0; ni < lengthof(scan_n); ni++)
			{
				int			n = scan_n[ni];
				uint8_t    *codes = alloc_guarded((size_t) n * m);
				float	   *oref = alloc_guarded(sizeof(float) * n);
				float	   *o2 = alloc_guarded(sizeof(float) * n);
				float	   *o512 = alloc_guarded(sizeof(float) * n);

				for (int pass = 0; pass < 3; pass++)
				{
					for (int i = 0; i < n * m; i++)
						codes[i] = pass == 0 ? (uint8_t) (next_random(&state) >> 56) : pass == 1 ? 0 : 255;
					VaPqScan(table, m, codes, n, oref);
					VaPqScanAvx2(table, m, codes, n, o2);
					VaPqScanAvx512(table, m, codes, n, o512);
					expect_equal("pq_scan_avx2 (codes differing)", n * 1000 + m,
								 n == 0 ? 0 : memcmp(o2, oref, sizeof(float) * n) != 0, 0);
					expect_equal("pq_scan_avx512 (codes differing)", n * 1000 + m,
								 n == 0 ? 0 : memcmp(o512, oref, sizeof(float) * n) != 0, 0);
				}
			}
		}
	}

	/* PQ argmin: random rows, rows with many ties, constant rows */
	{
		float	   *t = alloc_guarded(sizeof(float) * VA_PQ_KSUB);

		for (int r = 0; r < 3000; r++)
		{
			int			ref;

			for (int k = 0; k < VA_PQ_KSUB; k++)
				t[k] = r < 2000 ? random_float(&state) :
					r < 2999 ? (float) (next_random(&state) % 4) : 1.0f;
			ref = VaPqArgmin(t);
			expect_equal("pq_argmin_avx2", r, (uint64_t) VaPqArgminAvx2(t), (uint64_t) ref);
			expect_equal("pq_argmin_avx512", r, (uint64_t) VaPqArgminAvx512(t), (uint64_t) ref);
		}
	}

	/*
	 * PQ encoding of blocks of rows: each kernel's codes exactly those of
	 * its own table and argmin kernels row by row, with random and
	 * small-integer (tied) codebooks; the rows end at the guard page.
	 */
	{
		static const int shapes[][2] = {{1, 1}, {2, 3}, {16, 8}, {49, 16}, {1, 784}};
		static const int nrows_list[] = {0, 1, 3, 4, 5, 8, 15, 16, 17, 21, 33};

		for (size_t si = 0; si < lengthof(shapes); si++)
			for (size_t ni = 0; ni < lengthof(nrows_list); ni++)
				for (int pass = 0; pass < 2; pass++)
				{
					int			m = shapes[si][0];
					int			dsub = shapes[si][1];
					int			nrows = nrows_list[ni];
					float	   *x = alloc_guarded(sizeof(float) * nrows * m * dsub);
					float	   *cb = alloc_guarded(sizeof(float) * m * dsub * VA_PQ_KSUB);
					float	   *t = alloc_guarded(sizeof(float) * m * VA_PQ_KSUB);
					uint8_t    *cref = alloc_guarded((size_t) nrows * m + 1);
					uint8_t    *cgot = alloc_guarded((size_t) nrows * m + 1);

					for (int i = 0; i < nrows * m * dsub; i++)
						x[i] = pass == 0 ? random_float(&state) : (float) (next_random(&state) % 4);
					for (int i = 0; i < m * dsub * VA_PQ_KSUB; i++)
						cb[i] = pass == 0 ? random_float(&state) : (float) (next_random(&state) % 4);
					for (int g = 0; g < 2; g++)
					{
						void		(*table) (const float *, const float *, int, int, float *) =
							g == 0 ? VaPqTableL2Avx2 : VaPqTableL2Avx512;
						int			(*argmin) (const float *) = g == 0 ? VaPqArgminAvx2 : VaPqArgminAvx512;

						for (int r = 0; r < nrows; r++)
						{
							table(x + (size_t) r * m * dsub, cb, m, dsub, t);
							for (int j = 0; j < m; j++)
								cref[r * m + j] = (uint8_t) argmin(t + (size_t) j * VA_PQ_KSUB);
						}
						(g == 0 ? VaPqEncodeL2Avx2 : VaPqEncodeL2Avx512) (x, nrows, cb, m, dsub, cgot, t);
						expect_equal(g == 0 ? "pq_encode_l2_avx2 (codes differing)" :
									 "pq_encode_l2_avx512 (codes differing)", nrows * 10000 + m * dsub,
									 nrows == 0 ? 0 : memcmp(cref, cgot, (size_t) nrows * m) != 0, 0);
					}
				}
	}

	/*
	 * RaBitQ level search (exactly) and nearest-centroid panels (within
	 * 1e-5 of the sum of |terms|): distance_avx2.c, distance_avx512.c.  The
	 * magnitudes, rows and panels end at the guard page.
	 */
	{
		static const int padded_lengths[] = {8, 64, 128, 136, 832, 3072};
		static const int maxks[] = {0, 1, 3, 7, 127};

		for (size_t li = 0; li < lengthof(padded_lengths); li++)
		{
			int			padded = padded_lengths[li];
			float	   *a = alloc_guarded(sizeof(float) * padded);

			for (int i = 0; i < padded; i++)
				a[i] = fabsf(random_float(&state)) * (i % 5 == 0 ? 1.0f : 0.25f);
			for (size_t mi = 0; mi < lengthof(maxks); mi++)
				for (int nt = 1; nt <= 6; nt++)
				{
					float		t[6];
					float		ipr[6],
								nxr[6],
								ipg[6],
								nxg[6];

					for (int e = 0; e < nt; e++)
						t[e] = 0.5f + 300.0f * fabsf(random_float(&state));
					VaRabitqLevels(a, padded, maxks[mi], t, nt, ipr, nxr);
					VaRabitqLevelsAvx2(a, padded, maxks[mi], t, nt, ipg, nxg);
					expect_equal("rabitq_levels_avx2 (sums differing)", padded * 100 + nt,
								 memcmp(ipr, ipg, sizeof(float) * nt) != 0 ||
								 memcmp(nxr, nxg, sizeof(float) * nt) != 0, 0);
					VaRabitqLevelsAvx512(a, padded, maxks[mi], t, nt, ipg, nxg);
					expect_equal("rabitq_levels_avx512 (sums differing)", padded * 100 + nt,
								 memcmp(ipr, ipg, sizeof(float) * nt) != 0 ||
								 memcmp(nxr, nxg, sizeof(float) * nt) != 0, 0);
				}
		}
	}
	{
		static const int nrows_list[] = {0, 1, 3, 4, 5, 7, 8, 9, 17, 32, 33};
		static const int dims_list[] = {1, 2, 17, 128, 784};

		for (size_t ri = 0; ri < lengthof(nrows_list); ri++)
			for (size_t di = 0; di < lengthof(dims_list); di++)
				for (int npanels = 1; npanels <= 3; npanels++)
				{
					int			nrows = nrows_list[ri];
					int			dims = dims_list[di];
					int			ldo = npanels * VA_PANEL_WIDTH + 3;
					float	   *x = alloc_guarded(sizeof(float) * nrows * dims);
					float	   *c = alloc_guarded(sizeof(float) * npanels * dims * VA_PANEL_WIDTH);
					float	   *oref = alloc_guarded(sizeof(float) * (nrows * ldo + 1));
					float	   *o2 = alloc_guarded(sizeof(float) * (nrows * ldo + 1));
					float	   *o512 = alloc_guarded(sizeof(float) * (nrows * ldo + 1));

					for (int i = 0; i < nrows * dims; i++)
						x[i] = random_float(&state);
					for (int i = 0; i < npanels * dims * VA_PANEL_WIDTH; i++)
						c[i] = random_float(&state);
					VaDotPanels(x, nrows, dims, c, npanels, oref, ldo);
					VaDotPanelsAvx2(x, nrows, dims, c, npanels, o2, ldo);
					VaDotPanelsAvx512(x, nrows, dims, c, npanels, o512, ldo);
					for (int r = 0; r < nrows; r++)
						for (int j = 0; j < npanels * VA_PANEL_WIDTH; j++)
						{
							double		scale = 0.0;

							for (int d = 0; d < dims; d++)
								scale += fabs((double) x[r * dims + d] *
											  c[((j / VA_PANEL_WIDTH) * dims + d) * VA_PANEL_WIDTH + j % VA_PANEL_WIDTH]);
							expect_close("dot_panels_avx2", nrows * 10000 + dims, o2[r * ldo + j],
										 oref[r * ldo + j], scale, 1e-5);
							expect_close("dot_panels_avx512", nrows * 10000 + dims, o512[r * ldo + j],
										 oref[r * ldo + j], scale, 1e-5);
						}
				}
	}

	/* nearest-centroid keys and counts, exactly: distance_avx2.c, distance_avx512.c */
	for (int n = 0; n <= 1000; n += (n < 40 ? 1 : 97))
	{
		float	   *bias = alloc_guarded(sizeof(float) * n);
		float	   *kref = alloc_guarded(sizeof(float) * n);
		float	   *k2 = alloc_guarded(sizeof(float) * n);
		float	   *k512 = alloc_guarded(sizeof(float) * n);

		for (int b = 0; b < 2; b++)
		{
			float		mref,
						m2,
						m512;

			for (int j = 0; j < n; j++)
			{
				kref[j] = k2[j] = k512[j] = random_float(&state) * 100.0f;
				bias[j] = random_float(&state) * 100.0f;
			}
			mref = VaPanelKeys(kref, b ? bias : NULL, n);
			m2 = VaPanelKeysAvx2(k2, b ? bias : NULL, n);
			m512 = VaPanelKeysAvx512(k512, b ? bias : NULL, n);
			expect_equal("panel_keys_avx2 (keys or minimum differing)", n,
						 memcmp(&m2, &mref, sizeof(float)) != 0 ||
						 (n > 0 && memcmp(k2, kref, sizeof(float) * n) != 0), 0);
			expect_equal("panel_keys_avx512 (keys or minimum differing)", n,
						 memcmp(&m512, &mref, sizeof(float)) != 0 ||
						 (n > 0 && memcmp(k512, kref, sizeof(float) * n) != 0), 0);
			for (int l = 0; l < 3; l++)
			{
				float		limit = l == 0 ? mref : l == 1 ? 0.0f : 30.0f;

				expect_equal("count_at_most_avx2", n, VaCountAtMostAvx2(kref, n, limit),
							 VaCountAtMost(kref, n, limit));
				expect_equal("count_at_most_avx512", n, VaCountAtMostAvx512(kref, n, limit),
							 VaCountAtMost(kref, n, limit));
			}
		}
	}

	printf("simd_emulated: %s, %s, %s, %s: %d comparisons on %d lengths, %d failed\n",
		   covered_files[0], covered_files[1], covered_files[2], covered_files[3],
		   comparisons, (int) lengthof(lengths), failures);
	return failures == 0 && covered ? 0 : 1;
}
