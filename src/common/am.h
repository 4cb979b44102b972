/*
 * am.h
 *	  Index access method plumbing shared by hnsw and ivfflat: the
 *	  IndexAmRoutine both fill alike, their index options (registered,
 *	  parsed and read from one table each), and scan state set-up, rescan
 *	  and end.
 *	  Knows no access method: what differs comes in as arguments.
 */
#ifndef VA_AM_H
#define VA_AM_H

#include "vectorann.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/reloptions.h"
#include "common/cost.h"
#include "common/heapvalue.h"
#include "common/validate.h"
#include "indexops.h"

/*
 * One index option (WITH (name = ...)) of an access method, an int
 * (RELOPT_TYPE_INT, in min..max) or an enum (RELOPT_TYPE_ENUM, one of
 * members, a NULL-terminated array; detail is the message for any other
 * value), whose value is the int at offset in the access method's options
 * struct (a varlena: build_reloptions makes it), default_value when not
 * given.  Changing an option takes AccessExclusiveLock.
 */
typedef struct VaReloption
{
	const char *name;
	const char *desc;
	relopt_type type;
	int			offset;
	int			default_value;
	int			min;			/* int: the range */
	int			max;
	relopt_enum_elt_def *members;	/* enum: the values */
	const char *detail;			/* enum: the message for another value */
} VaReloption;

/* A VaReloption of an int option, field of the options struct type. */
#define VA_INT_RELOPTION(name, desc, type, field, default_value, min, max) \
	{(name), (desc), RELOPT_TYPE_INT, offsetof(type, field), \
	 (default_value), (min), (max), NULL, NULL}

/* A VaReloption of an enum option, field of the options struct type. */
#define VA_ENUM_RELOPTION(name, desc, type, field, default_value, members, detail) \
	{(name), (desc), RELOPT_TYPE_ENUM, offsetof(type, field), \
	 (default_value), 0, 0, (members), (detail)}

/*
 * Register an access method's options opts[0..n) (in _PG_init); returns
 * their relopt_kind.
 */
extern relopt_kind VaAddReloptions(const VaReloption *opts, int n);

/*
 * amoptions' common part: parse reloptions (from WITH) into an options
 * struct of size bytes as described by opts[0..n) (registered for kind),
 * with the errors of build_reloptions when validate is set.  Returns the
 * palloc'd struct, or NULL when there are no options.
 */
extern void *VaParseReloptions(Datum reloptions, bool validate, relopt_kind kind,
							   Size size, const VaReloption *opts, int n);

/*
 * Copy the options of index (rd_options, a struct of size bytes described
 * by opts[0..n)) into *dst, or, when CREATE INDEX had no WITH clause
 * (rd_options NULL), the options' defaults.
 */
extern void VaGetReloptions(Relation index, void *dst, Size size,
							const VaReloption *opts, int n);

/*
 * Define "Options name(Relation index)": the options of index (its WITH
 * clause's, the defaults for the rest; VaGetReloptions), Options being the
 * access method's options struct and table its VaReloption array.
 */
#define VA_DEFINE_GET_OPTIONS(name, Options, table) \
	Options \
	name(Relation index) \
	{ \
		Options		opts; \
		VaGetReloptions(index, &opts, sizeof(opts), table, lengthof(table)); \
		return opts; \
	}

/*
 * The first member of every access method's scan state (scan->opaque): the
 * operator class's ops, a memory context for what one rescan allocates
 * (reset by VaRescan, deleted by VaEndScan) and the size of the whole
 * state.  VaRescan zeroes the access method's part (what follows the
 * VaScanBase): every search starts from a zeroed state, and what a search
 * needs is allocated in ctx.  release, if the access method set it, is
 * called first (by VaRescan and VaEndScan), for what a context reset cannot
 * let go of.
 */
typedef struct VaScanBase
{
	const VaIndexOps *ops;
	MemoryContext ctx;
	Size		size;
	/* optional: let go of what ctx's reset cannot (buffer pins, slots) */
	void		(*release) (void *opaque);
} VaScanBase;

/*
 * An IndexAmRoutine with what both access methods share: amsupport =
 * nprocs, ORDER BY operators only (no strategies, no search keys of their
 * own, one key column, no ordering of their own, no backward scans, no
 * bitmaps, no parallel scans, no INCLUDE), parallel bulk delete.  The
 * caller sets the callbacks (ambuild ... amendscan).
 */
extern IndexAmRoutine *VaMakeAmRoutine(int nprocs);

/* An access method's insert of one value already in stored form. */
typedef void (*VaInsertStoredFn) (Relation index, const VaIndexOps *ops,
								  const void *stored, Size size,
								  ItemPointer heap_tid);

/*
 * aminsert's common part: index heap row heap_tid with value values[0].
 * A NULL is not indexed; otherwise, in a short-lived memory context, the
 * value is detoasted and turned into the operator class's stored form
 * (get_ops(index)->to_stored), and insert(...) adds it unless the class
 * declines the value (a zero vector under cosine).  Returns false (no
 * uniqueness to report).  Errors are the access method's and the class's.
 */
extern bool VaInsert(Relation index, Datum *values, bool *isnull,
					 ItemPointer heap_tid,
					 const VaIndexOps *(*get_ops) (Relation index),
					 VaInsertStoredFn insert);

/*
 * ambeginscan's common part: the scan descriptor, zeroed scan state of
 * opaque_size bytes (at least sizeof(VaScanBase), starting with one) with
 * ops and a context named ctxname (a string literal: it must outlive the
 * context), and the order-by value arrays, which the access method owns
 * (every value NULL until a row is returned).
 */
extern IndexScanDesc VaBeginScan(Relation index, int nkeys, int norderbys,
								 Size opaque_size, const VaIndexOps *ops,
								 const char *ctxname);

/*
 * ambeginscan named name: VaBeginScan with get_ops(index) and a context
 * named ctxname (a string literal) for a scan state of type opaque_type,
 * whose release (VaScanBase) ends the reading of heap values that
 * re-ranking a quantized index's rows begins.  opaque_type has the fields
 * base (first), reading and heap_values, a VaHeapValues begun
 * (VaHeapValuesBegin) when reading is set.
 */
#define VA_DEFINE_AMBEGINSCAN(name, opaque_type, get_ops, ctxname) \
	static void \
	name##_release(void *opaque) \
	{ \
		opaque_type *so = (opaque_type *) opaque; \
		if (so->reading) \
			VaHeapValuesEnd(&so->heap_values); \
		so->reading = false; \
	} \
	IndexScanDesc \
	name(Relation index, int nkeys, int norderbys) \
	{ \
		IndexScanDesc scan = VaBeginScan(index, nkeys, norderbys, \
										 sizeof(opaque_type), get_ops(index), \
										 ctxname); \
		((opaque_type *) scan->opaque)->base.release = name##_release; \
		return scan; \
	}

/*
 * The reader of heap values of a scan state made by VA_DEFINE_AMBEGINSCAN,
 * whose fields heap_values and reading are hv and *reading: begun
 * (VaHeapValuesBegin in the current memory context, for the scan's heap
 * relation, index and ops) on first use.  Errors: a scan without its heap
 * relation ("<amname> scan of a quantized index needs its heap relation").
 */
extern VaHeapValues *VaScanHeapValues(IndexScanDesc scan, VaHeapValues *hv,
									  bool *reading, const char *amname);

/*
 * amrescan of both access methods: copy the new scan keys and order-by keys
 * (either may be NULL: keep the old ones), reset the scan state's context
 * and zero the access method's part of the scan state (see VaScanBase).
 */
extern void VaRescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					 ScanKey orderbys, int norderbys);

/*
 * The query of an ordered scan in stored form (ops->to_stored of the
 * detoasted ORDER BY argument, palloc'd in the current context), or NULL
 * when there is no distance to order by: the argument is NULL, or the
 * operator class does not index it (a zero vector under cosine); the scan
 * then returns every row in any order, with NULL distances.  Errors:
 * DATA_EXCEPTION when the query has other dimensions than the index's
 * vectors (dimensions, from its metapage).
 */
extern void *VaScanQuery(IndexScanDesc scan, int dimensions);

/*
 * Hand heap row tid at distance (an index distance, turned into the
 * operator's value by ops->to_sql; NULL when null_distance) to the
 * executor: no recheck of the row or of its order.
 */
static inline void
VaScanReturn(IndexScanDesc scan, const ItemPointerData *tid, float distance,
			 bool null_distance)
{
	scan->xs_heaptid = *tid;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_orderbynulls[0] = null_distance;
		scan->xs_orderbyvals[0] = null_distance ? (Datum) 0 :
			Float8GetDatum(((VaScanBase *) scan->opaque)->ops->to_sql(distance));
	}
}

/*
 * ambuild's end: WAL-log every block of the index's main fork as full
 * pages (the build wrote them without WAL) and return the result to report:
 * heap_tuples rows scanned, index_tuples indexed.
 */
extern IndexBuildResult *VaFinishBuild(Relation index, double heap_tuples,
									   double index_tuples);

/*
 * ambuildphasename: names[i] is the name of build phase i + 1 (phase 1 is
 * PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE); NULL for any other number.
 */
extern char *VaBuildPhaseName(int64 phasenum, const char *const *names, int nnames);

/*
 * For an index-only scan: the access methods return no column (no
 * amcanreturn), so the planner picks one only when the query needs no
 * column of the index (SELECT count(*) with sequential scans off, say),
 * but the executor still wants a tuple with every row.  Give it one index
 * tuple with every column NULL, made once per scan.  Call before the first
 * row is returned; does nothing for other scans.
 */
extern void VaPrepareIndexOnly(IndexScanDesc scan);

/*
 * An access method's count of the index tuples on one page (buf pinned and
 * share-locked) for amvacuumcleanup; it may set *room to the bytes a new
 * item could take on the page (for the free space map; 0 when not set).
 */
typedef double (*VaCountPageFn) (Relation index, Buffer buf, Size *room);

/*
 * amvacuumcleanup's count, alike in both access methods: stats (allocated
 * when NULL) gets num_pages, the index's blocks now, and num_index_tuples,
 * the sum of count over blocks first and after, each read by
 * VaVacuumReadBuffer (cost-based delay, info->strategy, share lock).  With
 * fsm, each page's *room is recorded in the free space map after the page
 * is unlocked (on every VACUUM: the map is not WAL-logged, so it is found
 * again after a crash or promotion) and the map is vacuumed at the end.
 * Returns stats.
 */
extern IndexBulkDeleteResult *VaVacuumCount(IndexVacuumInfo *info,
											IndexBulkDeleteResult *stats,
											BlockNumber first, VaCountPageFn count,
											bool fsm);

/* amendscan: free the scan state and its context. */
extern void VaEndScan(IndexScanDesc scan);

/*
 * CREATE INDEX of a quantized index: ERROR (FEATURE_NOT_SUPPORTED) that
 * quantization (the option's value) does not serve index's operator class,
 * named in the message, with hint saying which classes it serves.
 */
extern void VaQuantizationUnsupported(Relation index, const char *quantization,
									  const char *hint) pg_attribute_noreturn();

/*
 * The callbacks an access method defines in its own files, named by its
 * prefix as DESIGN.md says (hnswbuild, ivfflatgettuple, ...): its header
 * declares them with VA_DECLARE_AM_CALLBACKS(prefix).  amoptions
 * (prefix##options) is static in the file that defines the handler;
 * amcostestimate is VaCostEstimate with the access method's scan cost,
 * amrescan and amendscan are VaRescan and VaEndScan.
 */
#define VA_DECLARE_AM_CALLBACKS(prefix) \
	extern Datum prefix##handler(PG_FUNCTION_ARGS); \
	extern IndexBuildResult *prefix##build(Relation heap, Relation index, \
										   IndexInfo *indexInfo); \
	extern void prefix##buildempty(Relation index); \
	extern bool prefix##insert(Relation index, Datum *values, bool *isnull, \
							   ItemPointer heap_tid, Relation heap, \
							   IndexUniqueCheck checkUnique \
							   VA_INDEX_UNCHANGED_PARAM, \
							   IndexInfo *indexInfo); \
	extern IndexBulkDeleteResult *prefix##bulkdelete(IndexVacuumInfo *info, \
													 IndexBulkDeleteResult *stats, \
													 IndexBulkDeleteCallback callback, \
													 void *callback_state); \
	extern IndexBulkDeleteResult *prefix##vacuumcleanup(IndexVacuumInfo *info, \
														IndexBulkDeleteResult *stats); \
	extern IndexScanDesc prefix##beginscan(Relation index, int nkeys, int norderbys); \
	extern bool prefix##gettuple(IndexScanDesc scan, ScanDirection dir)

/*
 * The handler, SQL prefix##handler(internal) RETURNS index_am_handler, of
 * the access method named by prefix (also its name for amvalidate's
 * messages): VaMakeAmRoutine(nprocs) with the callbacks above,
 * amcostestimate by VaCostEstimate with scan_cost (a VaScanCostFn),
 * amvalidate by VaValidateOpclass(nprocs, nstrategies) and
 * ambuildphasename from the array phases (phase 1 first).  Use once, in
 * the file that defines prefix##options.
 */
#define VA_DEFINE_AM_HANDLER(prefix, nprocs, nstrategies, phases, scan_cost) \
	static void \
	prefix##costestimate(PlannerInfo *root, IndexPath *path, double loop_count, \
						 Cost *indexStartupCost, Cost *indexTotalCost, \
						 Selectivity *indexSelectivity, double *indexCorrelation, \
						 double *indexPages) \
	{ \
		VaCostEstimate(root, path, indexStartupCost, indexTotalCost, \
					   indexSelectivity, indexCorrelation, indexPages, scan_cost); \
	} \
	static char * \
	prefix##buildphasename(int64 phasenum) \
	{ \
		return VaBuildPhaseName(phasenum, phases, lengthof(phases)); \
	} \
	static bool \
	prefix##validate(Oid opclassoid) \
	{ \
		return VaValidateOpclass(opclassoid, #prefix, nprocs, nstrategies); \
	} \
	PG_FUNCTION_INFO_V1(prefix##handler); \
	Datum \
	prefix##handler(PG_FUNCTION_ARGS) \
	{ \
		IndexAmRoutine *am = VaMakeAmRoutine(nprocs); \
		am->ambuild = prefix##build; \
		am->ambuildempty = prefix##buildempty; \
		am->aminsert = prefix##insert; \
		am->ambulkdelete = prefix##bulkdelete; \
		am->amvacuumcleanup = prefix##vacuumcleanup; \
		am->amcostestimate = prefix##costestimate; \
		am->amoptions = prefix##options; \
		am->ambuildphasename = prefix##buildphasename; \
		am->amvalidate = prefix##validate; \
		am->ambeginscan = prefix##beginscan; \
		am->amrescan = VaRescan; \
		am->amgettuple = prefix##gettuple; \
		am->amendscan = VaEndScan; \
		PG_RETURN_POINTER(am); \
	}

/*
 * aminsert named name: VaInsert with the access method's get_ops and its
 * insert of a stored value (a VaInsertStoredFn).
 */
#define VA_DEFINE_AMINSERT(name, get_ops, insert) \
	bool \
	name(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, \
		 Relation heap, IndexUniqueCheck checkUnique \
		 VA_INDEX_UNCHANGED_PARAM, \
		 IndexInfo *indexInfo) \
	{ \
		return VaInsert(index, values, isnull, heap_tid, get_ops, insert); \
	}

#endif							/* VA_AM_H */
