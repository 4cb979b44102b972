/*
 * cost.c
 *	  What the cost estimates of the vectorann access methods share (see
 *	  cost.h): rows wanted from an ordered scan, the filter's selectivity,
 *	  and the cost of the exact plan a scan that cannot fill its LIMIT is
 *	  charged.
 */
#include "common/cost.h"

#include <math.h>

#include "access/heaptoast.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/spccache.h"

/* The restriction clauses of path's relation that the index does not check. */
static List *
filter_quals(IndexPath *path)
{
	List	   *quals = NIL;
	ListCell   *lc;

	foreach(lc, path->indexinfo->indrestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		bool		in_index = false;
		ListCell   *ic;

		foreach(ic, path->indexclauses)
		{
			if (lfirst_node(IndexClause, ic)->rinfo == rinfo)
			{
				in_index = true;
				break;
			}
		}
		if (!in_index)
			quals = lappend(quals, rinfo);
	}
	return quals;
}

Cost
VaDistanceCost(double vector_size)
{
	return cpu_operator_cost * Max(1.0, vector_size / 40.0);
}

void
VaEstimateDemand(PlannerInfo *root, IndexPath *path, VaScanDemand *demand)
{
	RelOptInfo *rel = path->indexinfo->rel;
	List	   *quals = filter_quals(path);
	double		kept;
	double		seq_page_cost;
	QualCost	qual_cost;
	QualCost	order_cost;

	demand->filter = quals == NIL ? 1.0 :
		clauselist_selectivity(root, quals, rel->relid, JOIN_INNER, NULL);
	demand->filter = Min(Max(demand->filter, 0.0), 1.0);

	kept = Max(rel->rows, 1.0);
	demand->wanted = root->limit_tuples > 0 ? Min(root->limit_tuples, kept) : kept;

	/* seq scan: pages, every tuple and its quals */
	get_tablespace_page_costs(rel->reltablespace, NULL, &seq_page_cost);
	cost_qual_eval(&qual_cost, rel->baserestrictinfo, root);
	cost_qual_eval(&order_cost, path->indexorderbys, root);
	demand->exact = rel->pages * seq_page_cost + qual_cost.startup +
		rel->tuples * (cpu_tuple_cost + qual_cost.per_tuple);
	/* every kept row's distance, then a top-k heap sort (cost_sort's terms) */
	demand->exact += order_cost.startup +
		kept * (order_cost.per_tuple + cpu_operator_cost +
				2.0 * cpu_operator_cost * log2(Max(2.0, 2.0 * demand->wanted)));
	list_free(quals);
}

void
VaCostEstimate(PlannerInfo *root, IndexPath *path,
			   Cost *indexStartupCost, Cost *indexTotalCost,
			   Selectivity *indexSelectivity, double *indexCorrelation,
			   double *indexPages, VaScanCostFn scan_cost)
{
	VaScanDemand demand;

	*indexCorrelation = 0;
	*indexSelectivity = 1.0;
	*indexPages = path->indexinfo->pages;
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = disable_cost;
		*indexTotalCost = disable_cost;
		return;
	}
	VaEstimateDemand(root, path, &demand);
	*indexStartupCost = *indexTotalCost = scan_cost(path->indexinfo, &demand);
}

Cost
VaUncachedPageCost(IndexOptInfo *index)
{
	double		spc_random_page_cost;
	double		uncached;

	get_tablespace_page_costs(index->reltablespace, &spc_random_page_cost, NULL);
	uncached = index->pages > 0 ?
		Max(0.0, 1.0 - (double) effective_cache_size / (double) index->pages) : 0.0;
	return uncached * spc_random_page_cost;
}

Cost
VaRerankCost(IndexOptInfo *index, double rows, double exact_size)
{
	double		chunks = exact_size > TOAST_TUPLE_THRESHOLD ?
	1.0 + ceil(exact_size / TOAST_MAX_CHUNK_SIZE) : 1.0;
	double		table_pages = Max(index->rel->pages, 1);
	double		uncached = Max(0.0, 1.0 - (double) effective_cache_size / table_pages);

	return rows * (chunks * (cpu_tuple_cost + uncached * random_page_cost) +
				   cpu_operator_cost + VaDistanceCost(exact_size));
}
