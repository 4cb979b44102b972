/*
 * ivfflat.c
 *	  IVFFlat access method: the handler (ivfflathandler), the index option
 *	  options lists, quantization, bits and pq_m, the settings ivfflat.probes,
 *	  ivfflat.iterative_scan, ivfflat.max_probes and
 *	  ivfflat.rerank_candidates, the planner's cost estimate, and the accessors the
 *	  AM's files share (operator class ops, metapage).
 */
#include "ivfflat/ivfflat.h"

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
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

int			ivfflat_probes = IVFFLAT_DEFAULT_PROBES;
int			ivfflat_iterative_scan = IVFFLAT_ITERATIVE_SCAN_OFF;
int			ivfflat_max_probes = IVFFLAT_MAX_PROBES;
int			ivfflat_rerank_candidates = IVFFLAT_DEFAULT_RERANK;
bool		ivfflat_check_nearest = false;

static relopt_kind ivfflat_relopt_kind;

static relopt_enum_elt_def quantization_options[] = {
	{"none", IVFFLAT_QUANTIZATION_NONE},
	{"rabitq", IVFFLAT_QUANTIZATION_RABITQ},
	{"pq", IVFFLAT_QUANTIZATION_PQ},
	{(const char *) NULL}
};

/* The index options, WITH (lists = ..., ...): IvfflatOptions. */
static const VaReloption ivfflat_reloptions[] = {
	VA_INT_RELOPTION("lists", "Number of inverted lists (k-means centroids)",
					 IvfflatOptions, lists, IVFFLAT_DEFAULT_LISTS, IVFFLAT_MIN_LISTS,
					 IVFFLAT_MAX_LISTS),
	VA_ENUM_RELOPTION("quantization", "What list items hold: the vector (none), or a RaBitQ (rabitq) or product-quantization (pq) code of its residual",
					  IvfflatOptions, quantization, IVFFLAT_QUANTIZATION_NONE,
					  quantization_options,
					  "Valid values are \"none\", \"rabitq\" and \"pq\"."),
	VA_INT_RELOPTION("bits", "Bits per dimension of RaBitQ codes (quantization = rabitq)",
					 IvfflatOptions, bits, IVFFLAT_DEFAULT_BITS, 1, 8),
	VA_INT_RELOPTION("pq_m", "Subspaces of product quantization, a byte of code each (quantization = pq); must divide the dimensions; 0 picks subvectors of about 8 dimensions",
					 IvfflatOptions, pq_m, 0, 0, IVFFLAT_MAX_PQ_M),
};

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", IVFFLAT_ITERATIVE_SCAN_OFF, false},
	{"relaxed_order", IVFFLAT_ITERATIVE_SCAN_RELAXED, false},
	{NULL, 0, false}
};

/* Register the reloption and settings; called once from _PG_init. */
void
IvfflatInit(void)
{
	ivfflat_relopt_kind = VaAddReloptions(ivfflat_reloptions,
										  lengthof(ivfflat_reloptions));

	DefineCustomIntVariable("ivfflat.probes",
							"Number of lists searched per query.",
							"Larger values give better recall and slower queries.",
							&ivfflat_probes, IVFFLAT_DEFAULT_PROBES,
							1, IVFFLAT_MAX_PROBES,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan",
							 "Whether a scan searches more lists when the first ones run out of rows.",
							 "relaxed_order returns the rows of each further batch of lists in distance order, "
							 "but a row may follow a nearer one from an earlier batch.",
							 &ivfflat_iterative_scan, IVFFLAT_ITERATIVE_SCAN_OFF,
							 iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.max_probes",
							"Largest number of lists an iterative scan searches.",
							"Only used with ivfflat.iterative_scan; never fewer than ivfflat.probes.",
							&ivfflat_max_probes, IVFFLAT_MAX_PROBES,
							1, IVFFLAT_MAX_PROBES,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.rerank_candidates",
							"Least number of probed rows a scan of a quantized index re-ranks with exact distances before it returns a row.",
							"A scan of a quantized index re-ranks the probed rows in order of the least distance the quantizer's error bound allows each, and returns a row once no row left could be nearer; 0 leaves it to the bound alone, more re-ranks at least this many of each round of probed lists first.",
							&ivfflat_rerank_candidates, IVFFLAT_DEFAULT_RERANK,
							0, IVFFLAT_MAX_RERANK, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("ivfflat.check_nearest",
							 "Compares every nearest centroid the build computes with an exact search (for testing).",
							 "Each row of the assignment pass and of PQ training is also compared with every centroid by the operator class's distance; a different list, even among equals, is an error.",
							 &ivfflat_check_nearest, false,
							 PGC_USERSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	VaReserveGucPrefix("ivfflat");
}

/*
 * amoptions: parse and check WITH (lists = ..., quantization = ..., bits =
 * ..., pq_m = ...).  Whether pq_m divides the dimensions is checked when
 * they are known (the build, or the first insert into an index built on no
 * rows).
 */
static bytea *
ivfflatoptions(Datum reloptions, bool validate)
{
	return VaParseReloptions(reloptions, validate, ivfflat_relopt_kind,
							 sizeof(IvfflatOptions), ivfflat_reloptions,
							 lengthof(ivfflat_reloptions));
}

/*
 * The options of index: those its WITH clause gave, the defaults for the
 * rest.
 */
VA_DEFINE_GET_OPTIONS(IvfflatGetOptions, IvfflatOptions, ivfflat_reloptions)

/*
 * The opclass's VaIndexOps (support function 1 of the index's column).
 * Errors (feature_not_supported) when the type has no k-means support.
 */
const VaIndexOps *
IvfflatGetIndexOps(Relation index)
{
	const VaIndexOps *ops =
	VaGetIndexOps(index_getprocinfo(index, 1, IVFFLAT_INDEX_OPS_PROC));

	if (ops->kmeans == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("operator class of index \"%s\" does not support ivfflat",
						RelationGetRelationName(index)),
				 errdetail("Its type cannot be averaged into k-means centroids.")));
	return ops;
}

/* Copy the metapage of index into *meta; ERROR if it is not ours. */
void
IvfflatReadMeta(Relation index, IvfflatMetaPageData *meta)
{
	VaReadMetaPage(index, VA_PAGE_ID_IVFFLAT, meta, sizeof(IvfflatMetaPageData),
				   IVFFLAT_MAGIC, IVFFLAT_VERSION, "ivfflat");
}

/*
 * ERROR (program_limit_exceeded) when a stored vector of vector_size bytes
 * does not fit one page as a list item of an unquantized index; the hint
 * names quantization when a codec can quantize values under ops.  A
 * quantized index's list items hold codes (their size is checked by the
 * codec) and its centroids are split over pages when they must be, so any
 * vector its types allow (up to VA_MAX_DIM dimensions) is fine.
 */
void
IvfflatCheckVectorSize(Size vector_size, bool quantized, const VaIndexOps *ops)
{
	if (quantized || MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(vector_size)) <= VA_MAX_ITEM_SIZE)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("vector of %zu bytes is too large for an ivfflat index", vector_size),
			 errdetail("An ivfflat list item must fit one page: at most %zu bytes of vector.",
					   (Size) (VA_MAX_ITEM_SIZE - MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(0)))),
			 IvfflatCodecAnySupports(ops) ?
			 errhint("With quantization = 'rabitq' or 'pq' list items hold codes, and vectors of up to %d dimensions can be indexed.",
					 VA_MAX_DIM) : 0));
}

/*
 * The number of lists the index has (its metapage: fewer than the option
 * when the table had fewer rows), the size of what its list items hold
 * (stored vectors or codes), and for a quantized index the size of an
 * exact stored form (what re-ranking computes distances on; 0 otherwise)
 * and the rows its scans re-rank per row wanted (IvfflatCodecRerankPerRow);
 * or the lists option and zeros when the metapage cannot be read as ours
 * or the index has no lists: planning never errors on a damaged index.
 */
static void
index_shape(Oid indexoid, double *lists, double *vector_size,
			double *exact_size, double *per_row)
{
	Relation	index = index_open(indexoid, NoLock);
	IvfflatMetaPageData meta;

	*lists = IvfflatGetOptions(index).lists;
	*vector_size = 0;
	*exact_size = 0;
	*per_row = 0;
	if (VaPeekMetaPage(index, VA_PAGE_ID_IVFFLAT, &meta, sizeof(meta),
					   IVFFLAT_MAGIC, IVFFLAT_VERSION) &&
		meta.nlists > 0 && meta.nlists <= IVFFLAT_MAX_LISTS)
	{
		*lists = meta.nlists;
		*vector_size = IvfflatItemDataSize(&meta);
		if (meta.quantization != IVFFLAT_QUANTIZATION_NONE)
		{
			/* centroids, hence vector_size, are exact stored forms */
			*exact_size = meta.vector_size;
			*per_row = IvfflatCodecRerankPerRow(meta.quantization);
		}
	}
	index_close(index, NoLock);
}

/*
 * A quantized scan's re-ranking (scan.c; VaRerankCost per row) of a scan
 * whose probed lists hold probed rows: every codec bounds its error, and
 * the scan re-ranks about per_row rows per row the query takes (the
 * codec's measured number: 2 for RaBitQ, 30 for PQ), at least
 * ivfflat.rerank_candidates, at most every probed row.
 */
static Cost
rerank_cost(IndexOptInfo *index, const VaScanDemand *demand, double probed,
			double exact_size, double per_row)
{
	double		needed = demand->wanted / Max(demand->filter, 1e-9);
	double		rows = Max(per_row * needed, (double) ivfflat_rerank_candidates);

	return VaRerankCost(index, Min(rows, probed), exact_size);
}

/*
 * VaScanCostFn, for amcostestimate (VaCostEstimate: without an ORDER BY on
 * our operator the index is useless).  A scan of an index of n rows in L lists
 * computes one distance per list to rank them, then reads the p nearest
 * lists whole, n p / L rows: per row one distance (cpu_operator_cost +
 * VaDistanceCost, which grows with the vectors' size) and
 * cpu_index_tuple_cost, and p / L of the index's pages at
 * random_page_cost for the share of the index that does not fit
 * effective_cache_size.  The WHERE clauses the index does not check keep a
 * share s of the rows it returns; the query wants k (the LIMIT).
 *   - ivfflat.iterative_scan off: p = ivfflat.probes.
 *   - iterative: rounds of ivfflat.probes lists until the lists read hold
 *     k / s rows, at most max(probes, ivfflat.max_probes) lists: p is the
 *     smallest multiple of probes (or that bound) with n p s / L >= k, so
 *     the cost grows about as k / s.
 * If n p s / L is still below k (and p below L), the path cannot fill the
 * LIMIT: it is charged an exact plan's cost on top of its own
 * (VaEstimateDemand), so any exact plan the planner can use wins.  All work
 * happens before the first row, so startup cost equals total cost.  A
 * quantized index adds its re-ranking (rerank_cost).
 */
static Cost
scan_cost(IndexOptInfo *index, const VaScanDemand *demand)
{
	double		tuples = Max(index->tuples, 1);
	double		lists;
	double		vector_size;
	double		exact_size;
	double		per_row;
	double		probes;
	double		per_list;
	double		ratio;
	Cost		cost;

	index_shape(index->indexoid, &lists, &vector_size, &exact_size, &per_row);

	per_list = tuples / lists;
	probes = Min((double) ivfflat_probes, lists);
	if (ivfflat_iterative_scan != IVFFLAT_ITERATIVE_SCAN_OFF)
	{
		double		max_probes = Max(probes, Min((double) ivfflat_max_probes, lists));

		while (probes * per_list * demand->filter < demand->wanted && probes < max_probes)
			probes = Min(probes + ivfflat_probes, max_probes);
	}
	ratio = probes / lists;

	cost = (lists + tuples * ratio) * (cpu_operator_cost + VaDistanceCost(vector_size)) +
		tuples * ratio * cpu_index_tuple_cost +
		index->pages * ratio * VaUncachedPageCost(index);
	if (exact_size > 0)
		cost += rerank_cost(index, demand, tuples * ratio, exact_size, per_row);
	if (probes < lists && probes * per_list * demand->filter < demand->wanted)
		cost += demand->exact;
	return cost;
}

/* The build's progress phases, from 1 (PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE) on. */
static const char *const ivfflat_build_phases[] = {
	"initializing",
	"sampling rows",
	"performing k-means",
	"assigning tuples",
	"loading tuples"
};

/* ivfflathandler(internal) RETURNS index_am_handler, SQL: the access method */
VA_DEFINE_AM_HANDLER(ivfflat, IVFFLAT_NPROCS, IVFFLAT_NSTRATEGIES, ivfflat_build_phases, scan_cost)
