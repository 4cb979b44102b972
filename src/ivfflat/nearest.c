/*
 * nearest.c
 *	  The nearest centroid of a block of rows at once, for the build's
 *	  assignment pass and PQ training: the same list as comparing each row
 *	  with every centroid by the operator class's distance and keeping the
 *	  first of the smallest (as inserts and ivfflat_check do), in a fraction
 *	  of the time.
 *
 *	  For the l2, ip and cosine classes of a type with a float view
 *	  (VaIndexOps.to_floats: vector, halfvec) the rows of a block are
 *	  widened to floats and their inner products with every centroid taken
 *	  by one blocked kernel (VaDotPanels, src/distance/), against the
 *	  centroids laid out in panels of 16 once.  With X the row's norm, C the
 *	  largest centroid norm, n the dimensions and u = 2^-24, a row's key for
 *	  centroid j is
 *	    l2:          |c_j|^2 - 2 <x, c_j>  (= |x - c_j|^2 - |x|^2)
 *	    ip, cosine:  -<x, c_j>             (= distance, less 1 for cosine)
 *	  and differs from its exact value by at most gamma(n + 2) (X + C)^2
 *	  (l2) or gamma(n) X C (ip), as does the opclass's float4 distance from
 *	  the exact distance (cosine: gamma(n + 1) (X C + 1)); gamma(k) = k u /
 *	  (1 - k u) bounds a float sum of k terms in any order, fused or not
 *	  (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
 *	  2002, section 3.1).  So a centroid whose key exceeds the smallest key
 *	  by more than T = 8 (n + 8) u (X + C)^2 (l2; 8 (n + 8) u X C for ip,
 *	  8 (n + 8) u (X C + 1) for cosine; twice what the two errors on both
 *	  sides need, plus an absolute term for subnormal rounding) has a larger
 *	  opclass distance than the centroid of the smallest key, and cannot be
 *	  the one the exact search picks.  The centroids within T are compared
 *	  by the opclass's distance, in ascending order, keeping the first of
 *	  the smallest; when only the smallest key's centroid is within T, it is
 *	  the answer.  A row whose (X + C)^2 could overflow a float4 is searched
 *	  exactly.  The answer never depends on the kernel that ran, so builds
 *	  stay deterministic.  Other operator classes (bit) compare every pair
 *	  with the opclass's distance.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "distance/distance.h"

/*
 * The list whose centroid is nearest to stored by the opclass's distance
 * (the first of equals), comparing it with all nlists centroids.
 */
int
IvfflatNearestExact(const VaIndexOps *ops, const char *centroids, int nlists,
					Size vector_size, const void *stored)
{
	int			best = 0;
	float		bestd = FLT_MAX;

	for (int j = 0; j < nlists; j++)
	{
		float		d = ops->distance(stored, centroids + (Size) j * vector_size);

		if (j == 0 || d < bestd)
		{
			bestd = d;
			best = j;
		}
	}
	return best;
}

/*
 * Set up nn for nlists centroids (contiguous stored forms of vector_size
 * bytes, dims dimensions, which must outlive nn) under ops.  The blocked
 * search needs (nlists rounded up to 16) * dims floats for the panels and
 * IVFFLAT_NEAREST_BLOCK * (dims + nlists + 16) more, allocated in the
 * current memory context; without them (or for a class without float view
 * or a metric the bound covers) every row is searched exactly.
 */
void
IvfflatNearestInit(IvfflatNearest *nn, const VaIndexOps *ops, const char *centroids,
				   int nlists, Size vector_size, int dims)
{
	float	   *c;

	memset(nn, 0, sizeof(IvfflatNearest));
	nn->ops = ops;
	nn->centroids = centroids;
	nn->nlists = nlists;
	nn->vector_size = vector_size;
	nn->dims = dims;
	if (ops->to_floats == NULL || nlists < 1 || dims < 1 ||
		!(ops->metric == VA_METRIC_L2 || ops->metric == VA_METRIC_IP ||
		  ops->metric == VA_METRIC_COSINE))
		return;

	nn->npanels = (nlists + VA_PANEL_WIDTH - 1) / VA_PANEL_WIDTH;
	nn->panels = palloc_extended(sizeof(float) * (Size) nn->npanels * VA_PANEL_WIDTH * dims,
								 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	if (nn->panels == NULL)
		return;
	nn->cnorm2 = palloc(sizeof(float) * nlists);
	nn->rows = palloc(sizeof(float) * IVFFLAT_NEAREST_BLOCK * dims);
	nn->dots = palloc_extended(sizeof(float) * IVFFLAT_NEAREST_BLOCK *
							   (Size) nn->npanels * VA_PANEL_WIDTH, MCXT_ALLOC_HUGE);
	c = palloc(sizeof(float) * dims);
	for (int j = 0; j < nlists; j++)
	{
		float	   *panel = nn->panels + (Size) (j / VA_PANEL_WIDTH) * dims * VA_PANEL_WIDTH;
		double		norm2 = 0.0;

		ops->to_floats(centroids + (Size) j * vector_size, c);
		for (int d = 0; d < dims; d++)
		{
			panel[(Size) d * VA_PANEL_WIDTH + j % VA_PANEL_WIDTH] = c[d];
			norm2 += (double) c[d] * c[d];
		}
		nn->cnorm2[j] = (float) norm2;
		nn->cmax = Max(nn->cmax, sqrt(norm2));
	}
	pfree(c);
	nn->blocked = true;
}

/*
 * The list of row r of the block (see the file header), from its inner
 * products with the centroids, which become its keys in place.
 */
static int
nearest_of_row(IvfflatNearest *nn, const void *stored, int r)
{
	int			dims = nn->dims;
	int			nlists = nn->nlists;
	const float *x = nn->rows + (Size) r * dims;
	float	   *key = nn->dots + (Size) r * nn->npanels * VA_PANEL_WIDTH;
	double		xnorm2 = 0.0;
	double		xnorm;
	double		span;
	double		limit;
	float		flimit;
	float		kmin;
	int			best = -1;
	float		bestd = 0.0f;
	int			j;

	for (int d = 0; d < dims; d++)
		xnorm2 += (double) x[d] * x[d];
	xnorm = sqrt(xnorm2);
	if (!((xnorm + nn->cmax) * (xnorm + nn->cmax) <= FLT_MAX / 8.0))
		return IvfflatNearestExact(nn->ops, nn->centroids, nlists, nn->vector_size, stored);

	if (nn->ops->metric == VA_METRIC_L2)
	{
		span = (xnorm + nn->cmax) * (xnorm + nn->cmax);
		kmin = VaPanelKeys(key, nn->cnorm2, nlists);
	}
	else
	{
		span = xnorm * nn->cmax + (nn->ops->metric == VA_METRIC_COSINE ? 1.0 : 0.0);
		kmin = VaPanelKeys(key, NULL, nlists);
	}

	/*
	 * The bound, as the least float not below it: every key within it as a
	 * double is within it as a float (a key equal to that float but above the
	 * double bound is let in too, which costs only an exact distance).
	 */
	limit = (double) kmin + 8.0 * (dims + 8) * (ldexp(span, -24) + (double) FLT_MIN);
	flimit = (float) limit;
	if ((double) flimit < limit)
		flimit = nextafterf(flimit, FLT_MAX);

	/* the smallest key's centroid is the answer unless another is near it */
	if (VaCountAtMost(key, nlists, flimit) == 1)
	{
		for (j = 0; key[j] > flimit; j++)
			;
		return j;
	}

	/* near ties: the opclass's distance decides, first of equals */
	for (j = 0; j < nlists; j++)
	{
		float		d;

		if (!(key[j] <= flimit))
			continue;
		d = nn->ops->distance(stored, nn->centroids + (Size) j * nn->vector_size);
		nn->rechecked++;
		if (best < 0 || d < bestd)
		{
			bestd = d;
			best = j;
		}
	}
	nn->tied_rows++;
	return best;
}

/*
 * lists[r] := the list of the centroid nearest to row r by the opclass's
 * distance (the first of equals), for the n <= IVFFLAT_NEAREST_BLOCK rows
 * stored[r * vector_size ...] (stored forms of nn's dimensions).  The same
 * lists as IvfflatNearestExact on each row, whichever kernels run.
 */
void
IvfflatNearestBlock(IvfflatNearest *nn, const char *stored, int n, int *lists)
{
	Assert(n >= 0 && n <= IVFFLAT_NEAREST_BLOCK);
	if (!nn->blocked)
	{
		for (int r = 0; r < n; r++)
			lists[r] = IvfflatNearestExact(nn->ops, nn->centroids, nn->nlists, nn->vector_size,
										   stored + (Size) r * nn->vector_size);
		return;
	}
	for (int r = 0; r < n; r++)
		nn->ops->to_floats(stored + (Size) r * nn->vector_size, nn->rows + (Size) r * nn->dims);
	VaDotPanels(nn->rows, n, nn->dims, nn->panels, nn->npanels, nn->dots,
				nn->npanels * VA_PANEL_WIDTH);
	for (int r = 0; r < n; r++)
		lists[r] = nearest_of_row(nn, stored + (Size) r * nn->vector_size, r);
}

/* Free what IvfflatNearestInit allocated. */
void
IvfflatNearestEnd(IvfflatNearest *nn)
{
	if (nn->panels != NULL)
		pfree(nn->panels);
	if (nn->blocked)
	{
		pfree(nn->cnorm2);
		pfree(nn->rows);
		pfree(nn->dots);
	}
	memset(nn, 0, sizeof(IvfflatNearest));
}
