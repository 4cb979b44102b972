/*
 * parallel.c
 *	  Parallel index build scaffolding shared by hnsw and ivfflat (see
 *	  parallel.h).  The order of calls on the leader is:
 *
 *		VaParallelBuildBegin		parallel mode, context, snapshot
 *		VaParallelBuildInitDSM		the segment and the shared state; NULL:
 *									no segment, all undone, go serial
 *		shm_toc_allocate/insert		the caller's other chunks
 *		LaunchParallelWorkers ... WaitForParallelWorkersToFinish
 *		VaParallelBuildEnd
 */
#include "common/parallel.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "utils/snapmgr.h"

/*
 * Enter parallel mode and create a context for nworkers workers that run
 * the PGDLLEXPORT function named entry of this library; take the snapshot
 * the heap will be scanned with.
 */
void
VaParallelBuildBegin(VaParallelBuild *pb, const char *entry, int nworkers,
					 IndexInfo *indexInfo)
{
	EnterParallelMode();
	pb->pcxt = CreateParallelContext("vectorann", entry, nworkers);
	if (!indexInfo->ii_Concurrent)
		pb->snapshot = SnapshotAny;
	else
		pb->snapshot = RegisterSnapshot(GetTransactionSnapshot());
}

/*
 * Create the DSM segment for the build's shared state and the caller's
 * nchunks other chunks of chunk_sizes[i] bytes (which it allocates and
 * inserts itself afterwards).  The shared state is a struct of struct_size
 * bytes that starts with a VaParallelShared, followed by the parallel scan
 * of heap (VaParallelSharedScan); it is inserted under shared_key and
 * returned zeroed but for the VaParallelShared (the relations, whether
 * CONCURRENTLY) and the initialised scan.  When the system has no segment
 * to give, VaParallelBuildBegin is undone and NULL returned: the caller
 * then builds without workers.
 */
void *
VaParallelBuildInitDSM(VaParallelBuild *pb, Relation heap, Relation index,
					   IndexInfo *indexInfo, Size struct_size, uint64 shared_key,
					   const Size *chunk_sizes, int nchunks)
{
	ParallelContext *pcxt = pb->pcxt;
	Size		shared_size = add_size(BUFFERALIGN(struct_size),
									   table_parallelscan_estimate(heap, pb->snapshot));
	VaParallelShared *shared;

	shm_toc_estimate_chunk(&pcxt->estimator, shared_size);
	for (int i = 0; i < nchunks; i++)
		shm_toc_estimate_chunk(&pcxt->estimator, chunk_sizes[i]);
	shm_toc_estimate_keys(&pcxt->estimator, 1 + nchunks);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		VaParallelBuildEnd(pb);
		return NULL;
	}

	shared = shm_toc_allocate(pcxt->toc, shared_size);
	memset(shared, 0, struct_size);
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
	table_parallelscan_initialize(heap, VaParallelSharedScan(shared, struct_size),
								  pb->snapshot);
	shm_toc_insert(pcxt->toc, shared_key, shared);
	return shared;
}

int
VaParallelBuildLaunch(VaParallelBuild *pb, const char *amname)
{
	ParallelContext *pcxt = pb->pcxt;

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched > 0)
		WaitForParallelWorkersToAttach(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("%s parallel build: %d workers launched",
							 amname, pcxt->nworkers_launched)));
	return pcxt->nworkers_launched + 1;
}

/* Release the snapshot, the context and parallel mode. */
void
VaParallelBuildEnd(VaParallelBuild *pb)
{
	if (IsMVCCSnapshot(pb->snapshot))
		UnregisterSnapshot(pb->snapshot);
	DestroyParallelContext(pb->pcxt);
	ExitParallelMode();
}

/*
 * In a worker: open the heap and the index with the locks the leader holds
 * (ShareLock and AccessExclusiveLock, or ShareUpdateExclusiveLock and
 * RowExclusiveLock under CONCURRENTLY; group locking lets them through),
 * and build the IndexInfo table_index_build_scan needs.
 */
void
VaParallelWorkerOpen(const VaParallelShared *shared, VaParallelWorker *w)
{
	w->heap_lockmode = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	w->index_lockmode = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	w->heap = table_open(shared->heaprelid, w->heap_lockmode);
	w->index = index_open(shared->indexrelid, w->index_lockmode);
	w->indexInfo = BuildIndexInfo(w->index);
	w->indexInfo->ii_Concurrent = shared->isconcurrent;
}

void
VaParallelWorkerClose(VaParallelWorker *w)
{
	index_close(w->index, w->index_lockmode);
	table_close(w->heap, w->heap_lockmode);
}
