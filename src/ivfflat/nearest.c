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
 *
 *	  The l2 class (vector_l2_ops, halfvec_l2_ops; with at least 64 lists
 *	  and 48 dimensions) first prunes with lower bounds: partial distance
 *	  search (Bei & Gray, IEEE Trans. Communications 33(10), 1985) with the
 *	  norm of the rest of the dimensions added.  Split x and c into a prefix
 *	  of p dimensions and the rest R:
 *	    |x - c|^2 = |x_p - c_p|^2 + |x_R - c_R|^2
 *	             >= |x_p - c_p|^2 + (|x_R| - |c_R|)^2      (Cauchy-Schwarz)
 *	             = |x|^2 + |c|^2 - 2 (<x_p, c_p> + |x_R| |c_R|),
 *	  so the key of the prefix, extended by one coordinate (|x_R| for the
 *	  row, |c_R| for the centroid), L_j = |c_j|^2 - 2 (<x_p, c_jp> + |x_R|
 *	  |c_jR|), is at most the key K_j above.  One blocked kernel call on p +
 *	  1 dimensions gives every L_j; its float value is within e_L = gamma(p
 *	  + 8) (X + C)^2 of L_j (the sum as the keys', plus the rounding of the
 *	  two norms, of |c|^2 and of the subtraction).  For a row, the centroid
 *	  g of the smallest computed L is a guess: D_g, its distance by the
 *	  opclass, is computed, and a centroid j with computed L_j > D_g - |x|^2
 *	  + T (T as above, at least e_L + e_D with e_D = gamma(n + 2) (X +
 *	  C)^2 the error of an opclass distance; |x|^2 in double) has
 *	    D_j >= |x - c_j|^2 - e_D >= L_j + |x|^2 - e_D > D_g + T - e_L - e_D
 *	        >= D_g,
 *	  so it is not among the smallest opclass distances, nor among equals.
 *	  Before counting those, the triangle inequality (Elkan, ICML 2003,
 *	  lemma 1) may settle the row at once: with s_g a lower bound of the
 *	  distance from c_g to its nearest other centroid (computed once, in
 *	  double, rounded down), 2 sqrt(D_g + T) < s_g gives for every j != g
 *	    |x - c_j| >= |c_j - c_g| - |x - c_g| > 2 sqrt(D_g + T) - sqrt(D_g +
 *	    e_D) >= sqrt(D_g + T),
 *	  so |x - c_j|^2 > D_g + T and D_j > D_g + T - e_D >= D_g.  Otherwise
 *	  the survivors of the bounds (g among them) are compared by the
 *	  opclass's distance in ascending order, first of the smallest, which is
 *	  the exact search's answer (g alone is the answer).  Prefixes: 16
 *	  dimensions, then, for the rows with more survivors than max(8, lists /
 *	  16), half the dimensions rounded down to 16 (when that is at least 48);
 *	  rows with too many survivors after both take the full blocked path
 *	  above.  After a block where most rows did, the next blocks (1, 2, 4,
 *	  ... up to 64) skip the pruning, so data without clusters (where the
 *	  bounds prune little) pays for prefixes in few blocks.  Which path a row
 *	  takes, and which g, may depend on the kernel; the answer does not.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "distance/distance.h"

static void nearest_block(IvfflatNearest *nn, const char *stored, int n, int *lists);

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
 * The prefix panels of nn's centroids for a prefix of p dimensions: their
 * first p coordinates and, as coordinate p, the norm of the rest (see the
 * file header); NULL without the memory.
 */
static float *
prefix_panels(IvfflatNearest *nn, int p)
{
	int			pd = p + 1;
	float	   *c;
	float	   *panels;

	panels = palloc_extended(sizeof(float) * (Size) nn->npanels * VA_PANEL_WIDTH * pd,
							 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	if (panels == NULL)
		return NULL;
	c = palloc(sizeof(float) * nn->dims);
	for (int j = 0; j < nn->nlists; j++)
	{
		float	   *panel = panels + (Size) (j / VA_PANEL_WIDTH) * pd * VA_PANEL_WIDTH;
		double		rest2 = 0.0;

		nn->ops->to_floats(nn->centroids + (Size) j * nn->vector_size, c);
		for (int d = 0; d < p; d++)
			panel[(Size) d * VA_PANEL_WIDTH + j % VA_PANEL_WIDTH] = c[d];
		for (int d = p; d < nn->dims; d++)
			rest2 += (double) c[d] * c[d];
		panel[(Size) p * VA_PANEL_WIDTH + j % VA_PANEL_WIDTH] = (float) sqrt(rest2);
	}
	pfree(c);
	return panels;
}

/*
 * The l2 pruning's state (see the file header): a prefix of 16 dimensions
 * and, for rows that one leaves too many centroids, one of half the
 * dimensions (rounded down to 16) when that is at least 48; the nearest
 * other centroid of each.  Without the memory, no pruning.
 */
static void
prefix_init(IvfflatNearest *nn)
{
	int			p2 = nn->dims / 2 / VA_PANEL_WIDTH * VA_PANEL_WIDTH;

	nn->prefix[0] = VA_PANEL_WIDTH;
	nn->prefix[1] = p2;
	for (int s = 0; s < (p2 >= 3 * VA_PANEL_WIDTH ? 2 : 1); s++)
	{
		nn->ppanels[s] = prefix_panels(nn, nn->prefix[s]);
		if (nn->ppanels[s] == NULL)
			break;
		nn->nstages = s + 1;
	}
	if (nn->nstages == 0)
		return;
	nn->prows = palloc(sizeof(float) * IVFFLAT_NEAREST_BLOCK * (nn->prefix[nn->nstages - 1] + 1));
	nn->zeros = palloc0(sizeof(float) * nn->dims);

	/*
	 * Each centroid's distance to its nearest other (Elkan, ICML 2003), in
	 * double (relative error below (n + 2) 2^-53), made smaller by more than
	 * that and rounded down to a float: never above the exact one.  Only for
	 * up to 2^30 multiply-adds (1,000 lists of 128 dimensions: 2^26).
	 */
	if ((double) nn->nlists * nn->nlists * nn->dims <= 1073741824.0)
	{
		float	   *cf = palloc_extended(sizeof(float) * (Size) nn->nlists * nn->dims,
										 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);

		if (cf == NULL)
			return;
		nn->cmin = palloc(sizeof(float) * nn->nlists);
		for (int j = 0; j < nn->nlists; j++)
		{
			nn->ops->to_floats(nn->centroids + (Size) j * nn->vector_size,
							   cf + (Size) j * nn->dims);
			nn->cmin[j] = FLT_MAX;
		}
		for (int i = 0; i < nn->nlists; i++)
			for (int j = 0; j < i; j++)
			{
				double		dd = sqrt(VaL2SquaredDouble(cf + (Size) i * nn->dims,
														cf + (Size) j * nn->dims, nn->dims)) *
				(1.0 - ldexp(1.0, -30));
				float		f = (float) dd;

				if ((double) f > dd)
					f = nextafterf(f, 0.0f);
				nn->cmin[i] = Min(nn->cmin[i], f);
				nn->cmin[j] = Min(nn->cmin[j], f);
			}
		pfree(cf);
	}
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

	/* l2: prefix bounds, when the prefix is at most a third of the vector */
	if (ops->metric == VA_METRIC_L2 && nlists >= 64 && dims >= 3 * VA_PANEL_WIDTH)
		prefix_init(nn);
}

/*
 * The list of the row stored, x its floats, from its inner products with
 * the centroids in key, which become its keys in place.
 */
static int
nearest_of_row(IvfflatNearest *nn, const void *stored, const float *x, float *key)
{
	int			dims = nn->dims;
	int			nlists = nn->nlists;
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
 * The first j in [from, n) with key[j] <= limit, or n: counted 64 keys at a
 * time by the kernel, one at a time only in a chunk that has one.
 */
static int
first_at_most(const float *key, int from, int n, float limit)
{
	int			j = from;

	while (j < n)
	{
		int			len = Min(64, n - j);

		if (VaCountAtMost(key + j, len, limit) > 0)
		{
			while (!(key[j] <= limit))
				j++;
			return j;
		}
		j += len;
	}
	return n;
}

/*
 * The list of the row stored (xnorm2 its squared norm, in double) from its
 * prefix inner products in key, which become its lower bounds in place (the file header's
 * pruning), or -1 when more centroids than nn allows survive the bounds.
 */
static int
pruned_row(IvfflatNearest *nn, const void *stored, double xnorm2, float *key)
{
	int			dims = nn->dims;
	int			nlists = nn->nlists;
	double		xnorm;
	double		t;
	double		limit;
	float		flimit;
	float		kmin;
	float		bestd;
	float		dg;
	int			g;
	int			best;
	int			count;

	xnorm = sqrt(xnorm2);
	if (!((xnorm + nn->cmax) * (xnorm + nn->cmax) <= FLT_MAX / 8.0))
		return IvfflatNearestExact(nn->ops, nn->centroids, nlists, nn->vector_size, stored);

	kmin = VaPanelKeys(key, nn->cnorm2, nlists);
	g = first_at_most(key, 0, nlists, kmin);
	Assert(g < nlists);
	dg = nn->ops->distance(stored, nn->centroids + (Size) g * nn->vector_size);

	/* T as in nearest_of_row; the limit rounded up to a float */
	t = 8.0 * (dims + 8) * (ldexp((xnorm + nn->cmax) * (xnorm + nn->cmax), -24) +
							(double) FLT_MIN);
	limit = ((double) dg - xnorm2) + t;
	flimit = (float) limit;
	if ((double) flimit < limit)
		flimit = nextafterf(flimit, FLT_MAX);

	/*
	 * The triangle inequality around g (Elkan, ICML 2003, lemma 1): when g's
	 * nearest other centroid is further than 2 sqrt(D_g + T) from g, every
	 * other centroid is further than sqrt(D_g + T) from x, so has D_j > D_g
	 * (T is at least twice an opclass distance's error, see the file header).
	 * The threshold is rounded up, cmin down.
	 */
	if (nn->cmin != NULL &&
		2.0 * sqrt((double) dg + t) * (1.0 + ldexp(1.0, -30)) <
		(double) nn->cmin[g])
		return g;

	count = VaCountAtMost(key, nlists, flimit);
	if (count <= 1)
		return g;				/* g always survives: it is the answer */
	if (count > Max(8, nlists / 16))
		return -1;

	/* the survivors by the opclass's distance, first of equals */
	best = -1;
	bestd = 0.0f;
	for (int j = first_at_most(key, 0, nlists, flimit); j < nlists;
		 j = first_at_most(key, j + 1, nlists, flimit))
	{
		float		d = dg;

		if (j != g)
			d = nn->ops->distance(stored, nn->centroids + (Size) j * nn->vector_size);
		nn->survivors++;
		if (best < 0 || d < bestd)
		{
			bestd = d;
			best = j;
		}
	}
	return best;
}

/*
 * The block searched with prefix bounds first, the longer prefix for rows
 * the first leaves too many survivors, the full blocked path for rows
 * both do.  Returns how many took the full path.
 */
static int
block_pruned(IvfflatNearest *nn, const char *stored, int n, int *lists)
{
	int			dims = nn->dims;
	int			ldo = nn->npanels * VA_PANEL_WIDTH;
	int			rows[IVFFLAT_NEAREST_BLOCK];
	double		xnorm2[IVFFLAT_NEAREST_BLOCK];
	int			m = n;

	for (int r = 0; r < n; r++)
	{
		rows[r] = r;
		xnorm2[r] = VaL2SquaredDouble(nn->rows + (Size) r * dims, nn->zeros, dims);
	}
	for (int s = 0; s < nn->nstages && m > 0; s++)
	{
		int			p = nn->prefix[s];
		int			pd = p + 1;
		int			padded = Min(IVFFLAT_NEAREST_BLOCK, (m + 7) / 8 * 8);
		int			left = 0;

		/*
		 * The rows' prefixes and rest norms; the kernel takes rows eight at a
		 * time, each alone several times slower, so the count is rounded up
		 * to eight with copies of the last row, whose products go unused.
		 */
		for (int k = 0; k < padded; k++)
		{
			const float *x = nn->rows + (Size) rows[Min(k, m - 1)] * dims;
			float	   *xp = nn->prows + (Size) k * pd;

			memcpy(xp, x, sizeof(float) * p);
			xp[p] = (float) sqrt(VaL2SquaredDouble(x + p, nn->zeros, dims - p));
		}
		VaDotPanels(nn->prows, padded, pd, nn->ppanels[s], nn->npanels, nn->dots, ldo);
		for (int k = 0; k < m; k++)
		{
			int			r = rows[k];

			lists[r] = pruned_row(nn, stored + (Size) r * nn->vector_size, xnorm2[r],
								  nn->dots + (Size) k * ldo);
			if (lists[r] < 0)
				rows[left++] = r;
			else
				nn->pruned_rows++;
		}
		m = left;
	}
	if (m == 0)
		return 0;

	/* the rest by the full path, their floats moved to the front, padded */
	for (int k = 0; k < m; k++)
		if (rows[k] != k)
			memcpy(nn->rows + (Size) k * dims, nn->rows + (Size) rows[k] * dims,
				   sizeof(float) * dims);
	VaDotPanels(nn->rows, Min(n, (m + 7) / 8 * 8), dims, nn->panels, nn->npanels,
				nn->dots, ldo);
	for (int k = 0; k < m; k++)
		lists[rows[k]] = nearest_of_row(nn, stored + (Size) rows[k] * nn->vector_size,
										nn->rows + (Size) k * dims,
										nn->dots + (Size) k * ldo);
	return m;
}

/*
 * lists[r] := the list of the centroid nearest to row r by the opclass's
 * distance (the first of equals), for the n <= IVFFLAT_NEAREST_BLOCK rows
 * stored[r * vector_size ...] (stored forms of nn's dimensions).  The same
 * lists as IvfflatNearestExact on each row, whichever kernels run.  With
 * ivfflat.check_nearest on, each row is also searched by IvfflatNearestExact
 * and a different list is an internal_error (for tests).
 */
void
IvfflatNearestBlock(IvfflatNearest *nn, const char *stored, int n, int *lists)
{
	nearest_block(nn, stored, n, lists);
	if (ivfflat_check_nearest)
		for (int r = 0; r < n; r++)
		{
			int			exact = IvfflatNearestExact(nn->ops, nn->centroids, nn->nlists,
													nn->vector_size,
													stored + (Size) r * nn->vector_size);

			if (lists[r] != exact)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("nearest centroid of a row is list %d, an exact search finds list %d",
								lists[r], exact)));
		}
}

/* IvfflatNearestBlock's search, without the check. */
static void
nearest_block(IvfflatNearest *nn, const char *stored, int n, int *lists)
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
	if (nn->nstages > 0 && n > 0)
	{
		if (nn->skip > 0)
			nn->skip--;
		else
		{
			if (2 * block_pruned(nn, stored, n, lists) > n)
			{
				nn->backoff = Min(64, Max(1, 2 * nn->backoff));
				nn->skip = nn->backoff;
			}
			else
				nn->backoff = 0;
			return;
		}
	}
	VaDotPanels(nn->rows, n, nn->dims, nn->panels, nn->npanels, nn->dots,
				nn->npanels * VA_PANEL_WIDTH);
	for (int r = 0; r < n; r++)
		lists[r] = nearest_of_row(nn, stored + (Size) r * nn->vector_size,
								  nn->rows + (Size) r * nn->dims,
								  nn->dots + (Size) r * nn->npanels * VA_PANEL_WIDTH);
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
	for (int s = 0; s < 2; s++)
		if (nn->ppanels[s] != NULL)
			pfree(nn->ppanels[s]);
	if (nn->nstages > 0)
	{
		pfree(nn->prows);
		pfree(nn->zeros);
		if (nn->cmin != NULL)
			pfree(nn->cmin);
	}
	memset(nn, 0, sizeof(IvfflatNearest));
}
