/*
 * kmeans.c
 *	  k-means clustering of the build sample into the ivfflat centroids:
 *	  k-means++ seeding (Arthur & Vassilvitskii, "k-means++: the advantages
 *	  of careful seeding", SODA 2007) followed by Lloyd's iterations (Lloyd,
 *	  "Least squares quantization in PCM", IEEE Trans. Inf. Theory 1982),
 *	  with Elkan's bounds (ICML 2003) to skip most distance computations.
 *	  Values are only touched through the operator class's VaIndexOps
 *	  (VaKmeansOps: accum, from_mean, distance), so the same code serves every type
 *	  that can be averaged; under cosine from_mean normalises the means, which
 *	  makes this spherical k-means.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

/*
 * Under L2, k-means++ draws its seeds from an evenly spaced subset of the
 * samples when there are more than this many and 16 per centroid (the
 * seeding reads every sample once per seed; 50 samples per list gave
 * 1,000 passes over 25 MB at 1,000 lists of 128 dimensions).
 */
#define IVFFLAT_SEED_SAMPLES_MIN	16384
#define IVFFLAT_SEED_SAMPLES_PER_CENTROID	16

/* distances computed so far by this backend's k-means (DEBUG1 reports) */
static uint64 kmeans_distances = 0;

#define SAMPLE(i)	(samples + (Size) (i) * vector_size)
#define CENTROID(j) (centroids + (Size) (j) * vector_size)

/* Metric distance: kmeans->distance is a squared one (or proportional to it). */
static inline float
metric(const VaIndexOps *ops, const void *a, const void *b)
{
	float		d = ops->kmeans->distance(a, b);	/* once: Max() evaluates twice */

	kmeans_distances++;
	return sqrtf(Max(d, 0.0f));
}

/*
 * k-means++ seeding: the first centroid is a uniformly drawn sample, each
 * next one a sample drawn with probability proportional to its distance to
 * the nearest centroid chosen so far (kmeans->distance, a squared distance,
 * so this is the paper's D^2 weighting).  mind[] receives each sample's
 * distance to its nearest seed, among all k, and nearest[] that seed (the
 * first of equals): Lloyd's first assignment.
 *
 * A sample is compared with a new seed only when the triangle inequality
 * (on metric, the root of the distance) leaves the new seed a chance to be
 * nearer than its nearest so far: not when the new seed is more than
 * twice (plus 0.1 % for rounding) as far from that one as the sample is
 * (Elkan, ICML 2003, lemma 1, applied to seeding).  This skips most pairs
 * once the seeds cover the clusters, and changes no result beyond
 * rounding.
 */
static void
seed(const VaIndexOps *ops, const char *samples, int n, Size vector_size,
	 int k, char *centroids, float *mind, int *nearest, VaRandomState *rng)
{
	int			pick = (int) (VaRandomDouble(rng) * n);
	float	   *gap = palloc(sizeof(float) * k);

	for (int i = 0; i < n; i++)
	{
		mind[i] = FLT_MAX;
		nearest[i] = 0;
	}
	memcpy(CENTROID(0), SAMPLE(Min(pick, n - 1)), vector_size);

	for (int c = 1; c <= k; c++)
	{
		int			p = c - 1;	/* the newest seed */
		double		total = 0.0;
		double		r;

		/* how far the newest seed is from each earlier one */
		for (int j = 0; j < p; j++)
			gap[j] = metric(ops, CENTROID(p), CENTROID(j));

		for (int i = 0; i < n; i++)
		{
			float		d;

			CHECK_FOR_INTERRUPTS();
			if (p > 0 && gap[nearest[i]] > 2.002f * sqrtf(mind[i]))
			{
				total += mind[i];
				continue;
			}
			d = ops->kmeans->distance(SAMPLE(i), CENTROID(p));
			d = Max(d, 0.0f);
			kmeans_distances++;
			if (d < mind[i])
			{
				mind[i] = d;
				nearest[i] = p;
			}
			total += mind[i];
		}
		if (c == k)
			break;

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
		{
			/* all samples equal seeds: any one (one draw: Min() evaluates twice) */
			pick = (int) (VaRandomDouble(rng) * n);
			pick = Min(pick, n - 1);
		}
		memcpy(CENTROID(c), SAMPLE(pick), vector_size);
	}
	pfree(gap);
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

	bytes += 2.0 * k * vector_size; /* centroids, previous centroids */
	bytes += (double) k * dims * sizeof(double);	/* per-cluster sums */
	bytes += (double) dims * sizeof(double);	/* one mean */
	bytes += (double) k * sizeof(int);	/* cluster sizes */
	bytes += (double) nsamples * (sizeof(float) + sizeof(int)); /* bound, assignment */
	return (Size) Min(bytes, (double) MaxAllocHugeSize);
}

/*
 * Cluster samples[0..nsamples) (stored forms of vector_size bytes and dims
 * dimensions, contiguous) into at most k centroids, written contiguously to
 * centroids (room for k stored forms).  Returns the number of centroids,
 * min(k, nsamples).  Deterministic: the random choices use a fixed seed.
 *
 * Lloyd's iterations (at most IVFFLAT_KMEANS_ITERATIONS, fewer when no
 * sample changes cluster) assign every sample to its nearest centroid (the
 * first assignment is the seeding's, which knows each sample's nearest
 * seed; under L2 with more than 16,384 samples and 16 per centroid the
 * seeds come from an evenly spaced subset of that size, and the first
 * assignment from the blocked nearest-centroid search of nearest.c) and
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
 * half the distance between the two centroids rules it out (the lower
 * bounds start at 0, so the second assignment relies on the centroids'
 * distances alone).  The bounds
 * need a metric: the square root of kmeans->distance (squared L2, or for
 * unit vectors under cosine half of it).  Without room for the bounds,
 * every sample is compared with every centroid.
 */
/* The state of one clustering: its inputs and working arrays. */
typedef struct Kmeans
{
	const VaIndexOps *ops;
	const char *samples;		/* n stored forms of vector_size bytes */
	char	   *centroids;		/* k stored forms */
	Size		vector_size;
	int			n;
	int			k;
	int			dims;
	bool		bounded;		/* Elkan's bounds fit: lower, between, half,
								 * moved */
	float	   *upper;			/* >= distance to own centroid */
	float	   *lower;			/* n x k: <= distance to each centroid */
	float	   *between;		/* k x k: distances between centroids */
	float	   *half;			/* half the distance to the nearest other
								 * centroid */
	float	   *moved;			/* how far each centroid moved */
	int		   *assign;			/* each sample's centroid */
	int		   *counts;			/* samples per centroid */
	double	   *sums;			/* k x dims: per-centroid sums */
	double	   *mean;			/* dims */
	char	   *old;			/* the centroids before the update step */
} Kmeans;

#define KSAMPLE(km, i)		((km)->samples + (Size) (i) * (km)->vector_size)
#define KCENTROID(km, j)	((km)->centroids + (Size) (j) * (km)->vector_size)

/* Distances between all centroids, and half the distance to each one's nearest. */
static void
centroid_distances(Kmeans *km)
{
	int			k = km->k;

	for (int j = 0; j < k; j++)
	{
		CHECK_FOR_INTERRUPTS();
		km->half[j] = FLT_MAX;
		km->between[(Size) j * k + j] = 0.0f;
		for (int j2 = 0; j2 < j; j2++)
		{
			float		d = metric(km->ops, KCENTROID(km, j), KCENTROID(km, j2));

			km->between[(Size) j * k + j2] = km->between[(Size) j2 * k + j] = d;
		}
	}
	for (int j = 0; j < k; j++)
		for (int j2 = 0; j2 < k; j2++)
			if (j2 != j)
				km->half[j] = Min(km->half[j], km->between[(Size) j * k + j2] / 2);
}

/*
 * The nearest centroid of sample i, comparing it with every centroid (and
 * setting its bounds exactly, when bounded).
 */
static int
assign_full(Kmeans *km, int i)
{
	float	   *lo = km->bounded ? km->lower + (Size) i * km->k : NULL;
	int			a = 0;

	km->upper[i] = FLT_MAX;
	for (int j = 0; j < km->k; j++)
	{
		float		d = metric(km->ops, KSAMPLE(km, i), KCENTROID(km, j));

		if (lo)
			lo[j] = d;
		if (d < km->upper[i])
		{
			km->upper[i] = d;
			a = j;
		}
	}
	return a;
}

/*
 * The nearest centroid of sample i, now assigned to a, comparing it only
 * with the centroids Elkan's bounds do not rule out (the upper bound made
 * exact first, when one of them is not ruled out by the loose one).
 */
static int
assign_bounded(Kmeans *km, int i, int a)
{
	int			k = km->k;
	float	   *lo = km->lower + (Size) i * k;
	bool		tight = false;

	if (km->upper[i] <= km->half[a])
		return a;
	for (int j = 0; j < k; j++)
	{
		float		d;

		if (j == a || km->upper[i] <= lo[j] ||
			km->upper[i] <= km->between[(Size) a * k + j] / 2)
			continue;
		if (!tight)
		{
			km->upper[i] = lo[a] = metric(km->ops, KSAMPLE(km, i), KCENTROID(km, a));
			tight = true;
			if (km->upper[i] <= lo[j] ||
				km->upper[i] <= km->between[(Size) a * k + j] / 2)
				continue;
		}
		d = lo[j] = metric(km->ops, KSAMPLE(km, i), KCENTROID(km, j));
		if (d < km->upper[i])
		{
			km->upper[i] = d;
			a = j;
		}
	}
	return a;
}

/*
 * Lloyd's first assignment when the seeds came from a subset of the
 * samples: every sample to its nearest seed under the opclass's L2 order
 * (IvfflatNearestBlock, blocked; the same order as kmeans->distance for
 * the L2 classes, the only ones that seed from a subset), its upper bound
 * the exact metric to it.
 */
static void
assign_blocked(Kmeans *km)
{
	IvfflatNearest nn;

	IvfflatNearestInit(&nn, km->ops, km->centroids, km->k, km->vector_size, km->dims);
	for (int i = 0; i < km->n; i += IVFFLAT_NEAREST_BLOCK)
	{
		CHECK_FOR_INTERRUPTS();
		IvfflatNearestBlock(&nn, KSAMPLE(km, i), Min(IVFFLAT_NEAREST_BLOCK, km->n - i),
							km->assign + i);
	}
	IvfflatNearestEnd(&nn);
	for (int i = 0; i < km->n; i++)
		km->upper[i] = metric(km->ops, KSAMPLE(km, i), KCENTROID(km, km->assign[i]));
}

/*
 * Move every centroid to the mean of its samples (from_mean; a mean that
 * cannot be stored leaves the centroid where it was); re-seed an empty one
 * with the sample furthest from its centroid among clusters of more than
 * one.  The centroids before are kept in km->old.
 */
static void
update_centroids(Kmeans *km)
{
	int			n = km->n;
	int			k = km->k;
	int			dims = km->dims;

	memcpy(km->old, km->centroids, (Size) k * km->vector_size);
	memset(km->sums, 0, sizeof(double) * (Size) k * dims);
	memset(km->counts, 0, sizeof(int) * k);
	for (int i = 0; i < n; i++)
	{
		km->ops->kmeans->accum(KSAMPLE(km, i), km->sums + (Size) km->assign[i] * dims);
		km->counts[km->assign[i]]++;
	}
	for (int j = 0; j < k; j++)
	{
		const double *s = km->sums + (Size) j * dims;
		int			far = -1;

		if (km->counts[j] > 0)
		{
			for (int d = 0; d < dims; d++)
				km->mean[d] = s[d] / km->counts[j];
			km->ops->kmeans->from_mean(km->mean, dims, KCENTROID(km, j));
			continue;
		}

		/* empty: take the furthest sample of a cluster with more than one */
		for (int i = 0; i < n; i++)
			if (km->counts[km->assign[i]] > 1 && (far < 0 || km->upper[i] > km->upper[far]))
				far = i;
		if (far < 0)
			continue;
		memcpy(KCENTROID(km, j), KSAMPLE(km, far), km->vector_size);
		km->counts[km->assign[far]]--;
		km->assign[far] = j;
		km->counts[j] = 1;
		km->upper[far] = 0.0f;
	}
}

/* Loosen every sample's bounds by how far the centroids moved. */
static void
move_bounds(Kmeans *km)
{
	int			k = km->k;

	for (int j = 0; j < k; j++)
		km->moved[j] = metric(km->ops, km->old + (Size) j * km->vector_size,
							  KCENTROID(km, j));
	for (int i = 0; i < km->n; i++)
	{
		float	   *lo = km->lower + (Size) i * k;

		km->upper[i] += km->moved[km->assign[i]];
		for (int j = 0; j < k; j++)
			lo[j] = Max(lo[j] - km->moved[j], 0.0f);
	}
}

int
IvfflatKmeans(const VaIndexOps *ops, const char *samples, int nsamples,
			  Size vector_size, int dims, int k, char *centroids)
{
	Kmeans		km = {0};
	int			n = nsamples;
	int			m;
	VaRandomState rng;
	instr_time	start;
	instr_time	now;

	k = Min(k, n);
	if (k <= 0)
		return 0;

	km.ops = ops;
	km.samples = samples;
	km.centroids = centroids;
	km.vector_size = vector_size;
	km.n = n;
	km.k = k;
	km.dims = dims;
	VaRandomSeed(&rng, 0x1FF5EED);
	km.bounded = (double) n * k * sizeof(float) <= (double) maintenance_work_mem * 1024 / 2;
	km.upper = palloc(sizeof(float) * n);
	if (km.bounded)
	{
		km.lower = palloc_extended(sizeof(float) * (Size) n * k, MCXT_ALLOC_HUGE);
		km.between = palloc_extended(sizeof(float) * (Size) k * k, MCXT_ALLOC_HUGE);
		km.half = palloc(sizeof(float) * k);
		km.moved = palloc(sizeof(float) * k);
	}
	km.assign = palloc(sizeof(int) * n);
	km.counts = palloc(sizeof(int) * k);
	km.sums = palloc_extended(sizeof(double) * (Size) k * dims, MCXT_ALLOC_HUGE);
	km.mean = palloc(sizeof(double) * dims);
	km.old = palloc_extended((Size) k * vector_size, MCXT_ALLOC_HUGE);

	INSTR_TIME_SET_CURRENT(start);
	kmeans_distances = 0;
	m = n;
	if (ops->metric == VA_METRIC_L2 && ops->to_floats != NULL)
		m = Min(n, Max(IVFFLAT_SEED_SAMPLES_MIN, IVFFLAT_SEED_SAMPLES_PER_CENTROID * k));
	if (m < n)
	{
		/* seeds from every (n / m)-th sample, then all to their nearest */
		char	   *subset = palloc_extended((Size) m * vector_size, MCXT_ALLOC_HUGE);

		for (int i = 0; i < m; i++)
			memcpy(subset + (Size) i * vector_size, SAMPLE((int) ((int64) i * n / m)),
				   vector_size);
		seed(ops, subset, m, vector_size, k, centroids, km.upper, km.assign, &rng);
		pfree(subset);
		assign_blocked(&km);
	}
	else
	{
		/* Lloyd's first assignment is the seeding's */
		seed(ops, samples, n, vector_size, k, centroids, km.upper, km.assign, &rng);
		for (int i = 0; i < n; i++)
			km.upper[i] = sqrtf(km.upper[i]);
	}
	/* the lower bounds start at 0 */
	if (km.bounded)
		memset(km.lower, 0, sizeof(float) * (Size) n * k);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	elog(DEBUG1, "ivfflat k-means: %d seeds from %d of %d samples, %llu distances, %.0f ms",
		 k, m, n, (unsigned long long) kmeans_distances, INSTR_TIME_GET_MILLISEC(now));

	for (int iter = 0; iter < IVFFLAT_KMEANS_ITERATIONS; iter++)
	{
		int			changed = 0;

		if (iter == 0)
			changed = n;		/* assigned by seed or assign_blocked */
		else
		{
			if (km.bounded)
				centroid_distances(&km);
			for (int i = 0; i < n; i++)
			{
				int			a;

				CHECK_FOR_INTERRUPTS();
				a = km.bounded ? assign_bounded(&km, i, km.assign[i]) : assign_full(&km, i);
				if (km.assign[i] != a)
					changed++;
				km.assign[i] = a;
			}
		}
		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, start);
		elog(DEBUG1, "ivfflat k-means: iteration %d, %d samples changed, %llu distances, %.0f ms in all",
			 iter, changed, (unsigned long long) kmeans_distances, INSTR_TIME_GET_MILLISEC(now));
		if (changed == 0)
			break;
		update_centroids(&km);
		if (km.bounded)
			move_bounds(&km);
	}

	pfree(km.upper);
	if (km.bounded)
	{
		pfree(km.lower);
		pfree(km.between);
		pfree(km.half);
		pfree(km.moved);
	}
	pfree(km.assign);
	pfree(km.counts);
	pfree(km.sums);
	pfree(km.mean);
	pfree(km.old);
	return k;
}
