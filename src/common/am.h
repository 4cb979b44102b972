/*
 * am.h
 *	  Index access method plumbing shared by hnsw and ivfflat: the
 *	  IndexAmRoutine both fill alike, and scan state set-up, rescan and end.
 *	  Knows no access method: what differs comes in as arguments.
 */
#ifndef VA_AM_H
#define VA_AM_H

#include "vectorann.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/relscan.h"

/*
 * The first members of every access method's scan state (scan->opaque):
 * the operator class's ops and a memory context for what one rescan
 * allocates (reset by VaRescan, deleted by VaEndScan).
 */
typedef struct VaScanBase
{
	const VaIndexOps *ops;
	MemoryContext ctx;
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
 * context), and the order-by value arrays, which the
 * access method owns (every value NULL until a row is returned).
 */
extern IndexScanDesc VaBeginScan(Relation index, int nkeys, int norderbys,
								 Size opaque_size, const VaIndexOps *ops,
								 const char *ctxname);

/*
 * amrescan's common part: copy the new scan keys and order-by keys (either
 * may be NULL: keep the old ones) and reset the scan state's context.  The
 * caller resets its own members.
 */
extern void VaRescan(IndexScanDesc scan, ScanKey keys, ScanKey orderbys);

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

/* amendscan: free the scan state and its context. */
extern void VaEndScan(IndexScanDesc scan);

#endif							/* VA_AM_H */
