/*
 * hnsw.c
 *	  HNSW access method: the handler (hnswhandler), index options (m,
 *	  ef_construction), the hnsw.ef_search setting, the planner's cost
 *	  estimate, and the accessors the AM's files share.
 */
#include "hnsw/hnsw.h"

#include <math.h>

#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "common/am.h"
#include "common/cost.h"
#include "common/page.h"
#include "common/validate.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_layer1_ef = HNSW_DEFAULT_LAYER1_EF;
int			hnsw_iterative_scan = HNSW_ITERATIVE_SCAN_OFF;
int			hnsw_max_scan_tuples = HNSW_DEFAULT_MAX_SCAN_TUPLES;
int			hnsw_rerank_candidates = HNSW_DEFAULT_RERANK;
double		hnsw_scan_mem_multiplier = HNSW_DEFAULT_SCAN_MEM_MULTIPLIER;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", HNSW_ITERATIVE_SCAN_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_SCAN_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_SCAN_STRICT, false},
	{NULL, 0, false}
};

static relopt_kind hnsw_relopt_kind;

static relopt_enum_elt_def quantization_options[] = {
	{"none", HNSW_QUANTIZATION_NONE},
	{"rabitq", HNSW_QUANTIZATION_RABITQ},
	{(const char *) NULL}
};

/* The index options, WITH (m = ..., ...): HnswOptions. */
static const VaReloption hnsw_reloptions[] = {
	VA_INT_RELOPTION("m", "Maximum number of neighbours per element on layers above 0 (2m on layer 0)",
					 HnswOptions, m, HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M),
	VA_INT_RELOPTION("ef_construction", "Size of the dynamic candidate list while building the graph",
					 HnswOptions, ef_construction, HNSW_DEFAULT_EF_CONSTRUCTION,
					 HNSW_MIN_EF_CONSTRUCTION, HNSW_MAX_EF_CONSTRUCTION),
	VA_ENUM_RELOPTION("quantization", "What elements hold: the vector (none) or a RaBitQ code (rabitq)",
					  HnswOptions, quantization, HNSW_QUANTIZATION_NONE, quantization_options,
					  "Valid values are \"none\" and \"rabitq\"."),
	VA_INT_RELOPTION("bits", "Bits per dimension of RaBitQ codes (quantization = rabitq)",
					 HnswOptions, bits, HNSW_DEFAULT_BITS, VA_RABITQ_MIN_BITS, VA_RABITQ_MAX_BITS),
};

/* Register the reloptions and settings; called once from _PG_init. */
void
HnswInit(void)
{
	hnsw_relopt_kind = VaAddReloptions(hnsw_reloptions, lengthof(hnsw_reloptions));

	DefineCustomIntVariable("hnsw.ef_search",
							"Size of the dynamic candidate list for search.",
							"Larger values give better recall and slower queries.",
							&hnsw_ef_search, HNSW_DEFAULT_EF_SEARCH,
							HNSW_MIN_EF_SEARCH, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.layer1_ef",
							"Size of the candidate list of a search's step on layer 1, whose results all start the search of layer 0.",
							"1 descends greedily, as HNSW does; more makes queries that lie between clusters of rows find neighbours in several of them, at some cost per query.",
							&hnsw_layer1_ef, HNSW_DEFAULT_LAYER1_EF,
							1, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan",
							 "Whether a scan goes on searching when the first ef_search results run out.",
							 "off returns at most ef_search rows; strict_order keeps going and returns rows in distance order; relaxed_order keeps going and may return later rows slightly out of order.",
							 &hnsw_iterative_scan, HNSW_ITERATIVE_SCAN_OFF,
							 iterative_scan_options, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples",
							"Largest candidate list an iterative scan grows to.",
							"An iterative scan stops once its candidate list would exceed this many elements.",
							&hnsw_max_scan_tuples, HNSW_DEFAULT_MAX_SCAN_TUPLES,
							1, INT_MAX, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.rerank_candidates",
							"Least number of candidates a scan of a quantized index re-ranks with exact distances before it returns a row.",
							"A scan of an index with quantization = rabitq re-ranks its candidates in order of the least distance RaBitQ's error bound allows each, and returns a row once no candidate left could be nearer; 0 leaves it to the bound alone, more re-ranks at least this many first.",
							&hnsw_rerank_candidates, HNSW_DEFAULT_RERANK,
							0, HNSW_MAX_EF_SEARCH, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Memory an iterative scan may use, as a multiple of work_mem.",
							 NULL,
							 &hnsw_scan_mem_multiplier, HNSW_DEFAULT_SCAN_MEM_MULTIPLIER,
							 1, 1000, PGC_USERSET, 0, NULL, NULL, NULL);
	VaReserveGucPrefix("hnsw");
}

/*
 * amoptions: parse and check WITH (m = ..., ef_construction = ...,
 * quantization = ..., bits = ...).
 */
static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	HnswOptions *opts;

	opts = VaParseReloptions(reloptions, validate, hnsw_relopt_kind,
							 sizeof(HnswOptions), hnsw_reloptions,
							 lengthof(hnsw_reloptions));
	if (validate && opts != NULL && opts->ef_construction < 2 * opts->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("ef_construction is %d and m is %d.",
						   opts->ef_construction, opts->m)));
	return (bytea *) opts;
}

/*
 * The options of index: those its WITH clause gave, the defaults for the
 * rest.
 */
VA_DEFINE_GET_OPTIONS(HnswGetOptions, HnswOptions, hnsw_reloptions)

/* The opclass's VaIndexOps (support function 1 of the index's column). */
const VaIndexOps *
HnswGetIndexOps(Relation index)
{
	return VaGetIndexOps(index_getprocinfo(index, 1, HNSW_INDEX_OPS_PROC));
}

/*
 * The m the index's graph was built with and the size of its stored vectors
 * (its metapage), or the reloption and 0 when the metapage cannot be read
 * as ours: planning never errors on a damaged index.
 */
/*
 * What the cost of a scan depends on: m, the bytes of what an element holds
 * (a vector or a code; 0 before the first build), and for a quantized
 * index the bytes of an exact stored form that re-ranking reads from the
 * table (0 otherwise).
 */
static void
index_shape(Oid indexoid, double *m, double *vector_size, double *exact_size)
{
	Relation	index = index_open(indexoid, NoLock);
	HnswMetaPageData meta;

	*m = HnswGetOptions(index).m;
	*vector_size = 0;
	*exact_size = 0;
	if (VaPeekMetaPage(index, VA_PAGE_ID_HNSW, &meta, sizeof(meta),
					   HNSW_MAGIC, HNSW_VERSION) &&
		meta.m >= HNSW_MIN_M && meta.m <= HNSW_MAX_M)
	{
		*m = meta.m;
		*vector_size = meta.vector_size;
		if (meta.quantization != HNSW_QUANTIZATION_NONE && meta.dimensions > 0 &&
			HnswGetIndexOps(index)->max_stored_size != NULL)
			*exact_size = HnswGetIndexOps(index)->max_stored_size(meta.dimensions);
	}
	index_close(index, NoLock);
}

/*
 * A quantized scan's re-ranking (scan.c; VaRerankCost per row).  The error
 * bound makes it re-rank about as many rows as the query takes plus as
 * many again (Fashion-MNIST: 32 for a LIMIT 10 at ef_search 40), at least
 * hnsw.rerank_candidates, at most every candidate the searches found.
 */
static Cost
rerank_cost(IndexOptInfo *index, const VaScanDemand *demand, double ef,
			double exact_size)
{
	double		rows = Max(2.0 * demand->wanted / Max(demand->filter, 1e-9),
						   (double) hnsw_rerank_candidates);

	return VaRerankCost(index, Min(ef, rows), exact_size);
}

/*
 * Elements one search with candidate list size ef evaluates in an index of
 * n: on layer 0 about 2m per candidate, m per upper layer, and with
 * hnsw.layer1_ef = u > 1 about u m more for the search of layer 1.
 */
static double
visited_per_search(double ef, double m, double n)
{
	double		layer1 = hnsw_layer1_ef > 1 ? (double) hnsw_layer1_ef * m : 0.0;

	return Min(ef * 2.0 * m + log(n) * m + layer1, n);
}

/*
 * VaScanCostFn, for amcostestimate (VaCostEstimate: without an ORDER BY on
 * our operator the index is useless).  With n elements and the index's m, a search
 * with candidate list size ef evaluates about min(n, 2m ef + m ln n)
 * elements (2m neighbours of each of ef candidates on layer 0, m per upper
 * layer), each one distance and one element access: cpu_index_tuple_cost +
 * cpu_operator_cost + VaDistanceCost (which grows with the vectors' size),
 * plus random_page_cost for the share of the index
 * that does not fit effective_cache_size.  A search returns about ef rows,
 * of which the WHERE clauses the index does not check keep a share s; the
 * query wants k of them (the LIMIT).
 *   - hnsw.iterative_scan off: one search with ef = hnsw.ef_search.
 *   - iterative: searches with ef = ef_search, 2 ef_search, 4 ef_search ...
 *     (scan.c) until ef s >= k or ef reaches hnsw.max_scan_tuples; the cost
 *     is the sum over those searches, so it grows about as k / s.  Under
 *     strict_order a batch's rows go out only as far as the next search
 *     confirms them (scan.c), so the first search counts for ef / 2 rows
 *     and a later one for ef / 4.
 * If the last search's ef s is still below k (and ef below n: a search
 * that sees every element returns all there is), the path cannot fill the
 * LIMIT: it is charged an exact plan's cost on top of its own
 * (VaEstimateDemand), so any exact plan the planner can use wins.  All work
 * happens before the first row, so startup cost equals total cost; the
 * planner adds the heap fetches (about k / s rows under a LIMIT).  A
 * quantized index adds its re-ranking (rerank_cost).
 */
static Cost
scan_cost(IndexOptInfo *index, const VaScanDemand *demand)
{
	double		tuples = Max(index->tuples, 1);
	double		m;
	double		vector_size;
	double		exact_size;
	double		ef;
	double		ef_total;
	double		max_ef;
	double		visited;
	Cost		cost;

	index_shape(index->indexoid, &m, &vector_size, &exact_size);

	ef = ef_total = hnsw_ef_search;
	visited = visited_per_search(ef, m, tuples);
	if (hnsw_iterative_scan != HNSW_ITERATIVE_SCAN_OFF)
	{
		/* ef stops growing once a search reaches every element */
		bool		strict = hnsw_iterative_scan == HNSW_ITERATIVE_SCAN_STRICT;
		double		yield = strict ? 0.5 : 1.0;

		max_ef = Min((double) hnsw_max_scan_tuples, tuples);
		while (ef * yield * demand->filter < demand->wanted && ef < max_ef)
		{
			if (strict)
				yield = 0.25;
			ef = Min(ef * 2.0, (double) hnsw_max_scan_tuples);
			ef_total += ef;
			visited += visited_per_search(ef, m, tuples);
		}
	}

	cost = visited * (cpu_index_tuple_cost + cpu_operator_cost + VaDistanceCost(vector_size)) +
		visited * VaUncachedPageCost(index);
	if (exact_size > 0)
		cost += rerank_cost(index, demand, Min(ef_total, tuples), exact_size);
	if (ef < tuples && ef * demand->filter < demand->wanted)
		cost += demand->exact;
	return cost;
}

/* The build's progress phases, from 1 (PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE) on. */
static const char *const hnsw_build_phases[] = {
	"initializing",
	"loading tuples",
	"writing graph"
};

/* hnswhandler(internal) RETURNS index_am_handler, SQL: the access method */
VA_DEFINE_AM_HANDLER(hnsw, HNSW_NPROCS, HNSW_NSTRATEGIES, hnsw_build_phases, scan_cost)
