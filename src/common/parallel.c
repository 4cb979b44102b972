/*
 * parallel.c
 *	  Parallel index build scaffolding shared by hnsw and ivfflat (see
 *	  parallel.h).  The order of calls on the leader is:
 *
 *		VaParallelBuildBegin		parallel mode, context, snapshot
 *		shm_toc_estimate_*			the caller's chunks (scan size from
 *									table_parallelscan_estimate(heap,
 *									pb->snapshot))
 *		VaParallelBuildInitDSM		false: no segment, all undone, go serial
 *		shm_toc_allocate/insert		the caller's chunks; VaParallelSharedInit
 *		LaunchParallelWorkers ... WaitForParallelWorkersToFinish
 *		VaParallelBuildEnd
 */
#include "common/parallel.h"

#include "access/genam.h"
#include "access/table.h"
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
 * Create the DSM segment of the sizes estimated so far.  When the system
 * has none to give, undo VaParallelBuildBegin and return false: the caller
 * then builds without workers.
 */
bool
VaParallelBuildInitDSM(VaParallelBuild *pb)
{
	InitializeParallelDSM(pb->pcxt);
	if (pb->pcxt->seg != NULL)
		return true;
	VaParallelBuildEnd(pb);
	return false;
}

/* Fill the part of the shared state a worker needs to open the relations. */
void
VaParallelSharedInit(VaParallelShared *shared, Relation heap, Relation index,
					 IndexInfo *indexInfo)
{
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
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
