/*
 * kmeans.c
 *	  k-means clustering of the build sample into the ivfflat centroids:
 *	  k-means++ seeding (Arthur & Vassilvitskii, "k-means++: the advantages
 *	  of careful seeding", SODA 2007) followed by Lloyd's iterations (Lloyd,
 *	  "Least squares quantization in PCM", IEEE Trans. Inf. Theory 1982),
 *	  with Elkan's bounds (ICML 2003) to skip most distance computations.
 *	  Values are only touched through the operator class's VaIndexOps
 *	  (kmeans_distance, accum, from_mean), so the same code serves every type
 *	  that can be averaged; under cosine from_mean normalises the means, which
 *	  makes this spherical k-means.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#define SAMPLE(i)	(samples + (Size) (i) * vector_size)
#define CENTROID(j) (centroids + (Size) (j) * vector_size)

/*
 * k-means++ seeding: the first centroid is a uniformly drawn sample, each
 * next one a sample drawn with probability proportional to its distance to
 * the nearest centroid chosen so far (kmeans_distance, a squared distance,
 * so this is the paper's D^2 weighting).  mind[] receives each sample's
 * distance to its nearest seed.
 */
static void
seed(const VaIndexOps *ops, const char *samples, int n, Size vector_size,
	 int k, char *centroids, float *mind, VaRandomState *rng)
{
	int			pick = (int) (VaRandomDouble(rng) * n);

	for (int i = 0; i < n; i++)
		mind[i] = FLT_MAX;
	memcpy(CENTROID(0), SAMPLE(Min(pick, n - 1)), vector_size);

	for (int c = 1; c < k; c++)
	{
		double		total = 0.0;
		double		r;

		for (int i = 0; i < n; i++)
		{
			float		d = Max(ops->kmeans_distance(SAMPLE(i), CENTROID(c - 1)), 0.0f);

			CHECK_FOR_INTERRUPTS();
			if (d < mind[i])
				mind[i] = d;
			total += mind[i];
		}

		if (total > 0.0)
		{
			/*
			 * the sample where the running sum of weights passes r (or, if
			 * rounding keeps it short, the last one of positive weight)
			 */
			r = VaRandomDouble(rng) * total;
			for (int i = 0; i < n; i++)
			{
				if (mind[i] <= 0.0f)
					continue;
				pick = i;
				r -= mind[i];
				if (r < 0.0)
					break;
			}
		}
		else
			pick = Min((int) (VaRandomDouble(rng) * n), n - 1);	/* all samples equal seeds */
		memcpy(CENTROID(c), SAMPLE(pick), vector_size);
	}
}

/* Metric distance: kmeans_distance is a squared one (or proportional to it). */
static inline float
metric(const VaIndexOps *ops, const void *a, const void *b)
{
	return sqrtf(Max(ops->kmeans_distance(a, b), 0.0f));
}

/*
 * Bytes the build needs, apart from the samples themselves, to cluster
 * nsamples samples into k centroids of dims dimensions (stored forms of
 * vector_size bytes): the centroids (which the caller allocates) and
 * IvfflatKmeans' own arrays, without Elkan's optional bounds (those are
 * used only when they fit half of maintenance_work_mem).
 */
Size
IvfflatKmeansMemory(int nsamples, int k, int dims, Size vector_size)
{
	double		bytes = 0.0;

	bytes += 2.0 * k * vector_size;			/* centroids, previous centroids */
	bytes += (double) k * dims * sizeof(double);	/* per-cluster sums */
	bytes += (double) dims * sizeof(double);	/* one mean */
	bytes += (double) k * sizeof(int);		/* cluster sizes */
	bytes += (double) nsamples * (sizeof(float) + sizeof(int));	/* bound, assignment */
	return (Size) Min(bytes, (double) MaxAllocHugeSize);
}

/*
 * Cluster samples[0..nsamples) (stored forms of vector_size bytes and dims
 * dimensions, contiguous) into at most k centroids, written contiguously to
 * centroids (room for k stored forms).  Returns the number of centroids,
 * min(k, nsamples).  Deterministic: the random choices use a fixed seed.
 *
 * Lloyd's iterations (at most IVFFLAT_KMEANS_ITERATIONS, fewer when no
 * sample changes cluster) assign every sample to its nearest centroid and
 * move each centroid to the mean of its samples (from_mean; a mean that
 * cannot be stored leaves the centroid where it was).  A cluster left empty
 * is re-seeded with the sample furthest from its centroid.
 *
 * The assignment step follows Elkan ("Using the triangle inequality to
 * accelerate k-means", ICML 2003) when its bounds fit half of
 * maintenance_work_mem (nsamples * k floats): each sample keeps an upper
 * bound on the distance to its centroid and a lower bound on the distance
 * to every centroid, both moved by how far the centroids move, and a
 * centroid is compared with a sample only when neither those bounds nor
 * half the distance between the two centroids rules it out.  The bounds
 * need a metric: the square root of kmeans_distance (squared L2, or for
 * unit vectors under cosine half of it).  Without room for the bounds,
 * every sample is compared with every centroid.
 */
int
IvfflatKmeans(const VaIndexOps *ops, const char *samples, int nsamples,
			  Size vector_size, int dims, int k, char *centroids)
{
	int			n = nsamples;
	float	   *upper;			/* >= distance to own centroid */
	float	   *lower = NULL;	/* n x k: <= distance to each centroid */
	float	   *between = NULL; /* k x k: distances between centroids */
	float	   *half = NULL;	/* half the distance to the nearest other centroid */
	float	   *moved = NULL;	/* how far each centroid moved */
	int		   *assign;
	int		   *counts;
	double	   *sums;
	double	   *mean;
	char	   *old;
	bool		bounded;
	VaRandomState rng;

	k = Min(k, n);
	if (k <= 0)
		return 0;

	VaRandomSeed(&rng, 0x1FF5EED);
	bounded = (double) n * k * sizeof(float) <= (double) maintenance_work_mem * 1024 / 2;
	upper = palloc(sizeof(float) * n);
	if (bounded)
	{
		lower = palloc_extended(sizeof(float) * (Size) n * k, MCXT_ALLOC_HUGE);
		between = palloc_extended(sizeof(float) * (Size) k * k, MCXT_ALLOC_HUGE);
		half = palloc(sizeof(float) * k);
		moved = palloc(sizeof(float) * k);
	}
	assign = palloc(sizeof(int) * n);
	counts = palloc(sizeof(int) * k);
	sums = palloc_extended(sizeof(double) * (Size) k * dims, MCXT_ALLOC_HUGE);
	mean = palloc(sizeof(double) * dims);
	old = palloc_extended((Size) k * vector_size, MCXT_ALLOC_HUGE);

	seed(ops, samples, n, vector_size, k, centroids, upper, &rng);

	for (int iter = 0; iter < IVFFLAT_KMEANS_ITERATIONS; iter++)
	{
		int			changed = 0;
		bool		full = !bounded || iter == 0;

		/* assignment step */
		if (!full)
		{
			for (int j = 0; j < k; j++)
			{
				CHECK_FOR_INTERRUPTS();
				half[j] = FLT_MAX;
				between[(Size) j * k + j] = 0.0f;
				for (int j2 = 0; j2 < j; j2++)
				{
					float		d = metric(ops, CENTROID(j), CENTROID(j2));

					between[(Size) j * k + j2] = between[(Size) j2 * k + j] = d;
				}
			}
			for (int j = 0; j < k; j++)
				for (int j2 = 0; j2 < k; j2++)
					if (j2 != j)
						half[j] = Min(half[j], between[(Size) j * k + j2] / 2);
		}
		for (int i = 0; i < n; i++)
		{
			int			a = full ? 0 : assign[i];
			float	   *lo = bounded ? lower + (Size) i * k : NULL;
			bool		tight = full;

			CHECK_FOR_INTERRUPTS();
			if (full)
			{
				upper[i] = FLT_MAX;
				for (int j = 0; j < k; j++)
				{
					float		d = metric(ops, SAMPLE(i), CENTROID(j));

					if (lo)
						lo[j] = d;
					if (d < upper[i])
					{
						upper[i] = d;
						a = j;
					}
				}
			}
			else if (upper[i] > half[a])
			{
				for (int j = 0; j < k; j++)
				{
					float		d;

					if (j == a || upper[i] <= lo[j] ||
						upper[i] <= between[(Size) a * k + j] / 2)
						continue;
					if (!tight)
					{
						upper[i] = lo[a] = metric(ops, SAMPLE(i), CENTROID(a));
						tight = true;
						if (upper[i] <= lo[j] ||
							upper[i] <= between[(Size) a * k + j] / 2)
							continue;
					}
					d = lo[j] = metric(ops, SAMPLE(i), CENTROID(j));
					if (d < upper[i])
					{
						upper[i] = d;
						a = j;
					}
				}
			}
			if (iter == 0 || assign[i] != a)
				changed++;
			assign[i] = a;
		}
		if (changed == 0)
			break;

		/* update step */
		memcpy(old, centroids, (Size) k * vector_size);
		memset(sums, 0, sizeof(double) * (Size) k * dims);
		memset(counts, 0, sizeof(int) * k);
		for (int i = 0; i < n; i++)
		{
			ops->accum(SAMPLE(i), sums + (Size) assign[i] * dims);
			counts[assign[i]]++;
		}
		for (int j = 0; j < k; j++)
		{
			const double *s = sums + (Size) j * dims;
			int			far = -1;

			if (counts[j] > 0)
			{
				for (int d = 0; d < dims; d++)
					mean[d] = s[d] / counts[j];
				ops->from_mean(mean, dims, CENTROID(j));
				continue;
			}

			/* empty: take the furthest sample of a cluster with more than one */
			for (int i = 0; i < n; i++)
				if (counts[assign[i]] > 1 && (far < 0 || upper[i] > upper[far]))
					far = i;
			if (far < 0)
				continue;
			memcpy(CENTROID(j), SAMPLE(far), vector_size);
			counts[assign[far]]--;
			assign[far] = j;
			counts[j] = 1;
			upper[far] = 0.0f;
		}

		/* move the bounds by how far the centroids moved */
		if (bounded)
		{
			for (int j = 0; j < k; j++)
				moved[j] = metric(ops, old + (Size) j * vector_size, CENTROID(j));
			for (int i = 0; i < n; i++)
			{
				float	   *lo = lower + (Size) i * k;

				upper[i] += moved[assign[i]];
				for (int j = 0; j < k; j++)
					lo[j] = Max(lo[j] - moved[j], 0.0f);
			}
		}
	}

	pfree(upper);
	if (bounded)
	{
		pfree(lower);
		pfree(between);
		pfree(half);
		pfree(moved);
	}
	pfree(assign);
	pfree(counts);
	pfree(sums);
	pfree(mean);
	pfree(old);
	return k;
}
