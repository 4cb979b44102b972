/*
 * cost.h
 *	  What the cost estimates of the vectorann access methods share: how
 *	  many rows an ordered index scan must produce, how many of its rows a
 *	  WHERE filter keeps, and what an exact plan would cost instead.
 */
#ifndef VA_COST_H
#define VA_COST_H

#include "vectorann.h"

#include "nodes/pathnodes.h"

typedef struct VaScanDemand
{
	double		wanted;			/* rows the query needs from the scan: the
								 * LIMIT (plus OFFSET), at most the rows that
								 * pass the filter; all of those without a
								 * LIMIT */
	Selectivity filter;			/* share of the index's rows that the quals
								 * not handled by the index keep (1: none) */
	Cost		exact;			/* what an exact plan costs at most: read the
								 * whole table, filter, compute every kept
								 * row's distance, top-k sort */
} VaScanDemand;

/*
 * Fill *demand for the ordered index path (amcostestimate's arguments).
 * The LIMIT comes from root->limit_tuples (set by the planner for a query
 * with a constant LIMIT and no grouping, aggregates or DISTINCT); the
 * filter selectivity is that of the index's restriction clauses
 * (indrestrictinfo: the WHERE clauses not implied by a partial index's
 * predicate) minus its index clauses.  The exact-plan cost is at least the
 * planner's own estimate of a sequential scan plus a top-k sort, so an
 * index path charged it on top of its own cost costs more than that plan
 * and any cheaper exact one, yet still wins when they are all disabled
 * (enable_seqscan = off and no other index).  No errors.
 */
extern void VaEstimateDemand(PlannerInfo *root, IndexPath *path, VaScanDemand *demand);

/*
 * Cost of one distance between a query and a stored vector of vector_size
 * bytes (0: unknown, as for an empty index): one cpu_operator_cost per 40
 * bytes (10 float4 elements), at least one.  Calibrated on Fashion-MNIST
 * (784 dimensions, 3,144 bytes): a search visits an element in about 0.14
 * microseconds, an exact plan's bitmap heap scan spends about 2.4 on a row
 * it estimates at about 3.2 units, so a visit is worth about 0.2 units
 * there; with a flat operator cost the planner took an iterative hnsw scan
 * under a 3 % filter that ran 1.3 times slower than the exact plan.  No
 * errors.
 */
extern Cost VaDistanceCost(double vector_size);

/*
 * An access method's cost of the ordered scans of index a query with
 * demand needs (all their work happens before the first row is returned).
 */
typedef Cost (*VaScanCostFn) (IndexOptInfo *index, const VaScanDemand *demand);

/*
 * amcostestimate of both access methods (its arguments but loop_count,
 * then the access method's scan_cost): no correlation, selectivity 1 (the
 * scan returns what the LIMIT takes), all the index's pages.  Without an
 * ORDER BY on our operator the index is useless: both costs are
 * disable_cost.  Otherwise both are scan_cost(index, demand) with the
 * query's demand (VaEstimateDemand): startup cost equals total cost.
 */
extern void VaCostEstimate(PlannerInfo *root, IndexPath *path,
						   Cost *indexStartupCost, Cost *indexTotalCost,
						   Selectivity *indexSelectivity, double *indexCorrelation,
						   double *indexPages, VaScanCostFn scan_cost);

/*
 * What reading one page of index at random costs on average: the
 * random_page_cost of its tablespace times the share of its pages beyond
 * effective_cache_size (0 for an index of no pages).  No errors.
 */
extern Cost VaUncachedPageCost(IndexOptInfo *index);

/*
 * What re-ranking rows rows of a quantized index costs (the access method
 * estimates how many): each is fetched from the table (one tuple fetch,
 * one more per TOAST chunk of a value over about 2 kB, and a random page
 * read for the share of the table beyond effective_cache_size) and its
 * exact distance computed on exact_size bytes (VaDistanceCost), on top of
 * what the planner charges for the rows the scan returns.  No errors.
 */
extern Cost VaRerankCost(IndexOptInfo *index, double rows, double exact_size);

#endif							/* VA_COST_H */
