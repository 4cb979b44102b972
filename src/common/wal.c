/*
 * wal.c
 *	  GenericXLog wrapper with the build-time bypass (see wal.h).
 */
#include "common/wal.h"

#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/smgr.h"

void
VaWalBegin(VaWal *wal, Relation index, bool building)
{
	wal->nbuffers = 0;
	wal->xlog = building ? NULL : GenericXLogStart(index);
}

Page
VaWalRegister(VaWal *wal, Buffer buffer, bool is_new)
{
	if (wal->nbuffers >= MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "too many pages in one vectorann WAL record");
	wal->buffers[wal->nbuffers++] = buffer;
	if (wal->xlog == NULL)
		return BufferGetPage(buffer);
	return GenericXLogRegisterBuffer(wal->xlog, buffer,
									 is_new ? GENERIC_XLOG_FULL_IMAGE : 0);
}

void
VaWalFinish(VaWal *wal)
{
	if (wal->xlog != NULL)
	{
		/* GenericXLogFinish copies the images back and marks buffers dirty */
		GenericXLogFinish(wal->xlog);
		wal->xlog = NULL;
	}
	else
	{
		for (int i = 0; i < wal->nbuffers; i++)
			MarkBufferDirty(wal->buffers[i]);
	}
	wal->nbuffers = 0;
}

void
VaWalAbort(VaWal *wal)
{
	if (wal->xlog != NULL)
		GenericXLogAbort(wal->xlog);
	wal->xlog = NULL;
	wal->nbuffers = 0;
}

void
VaWalLogRange(Relation index, ForkNumber fork,
			  BlockNumber start, BlockNumber end)
{
	if (end <= start)
		return;
	if (fork == INIT_FORKNUM || RelationNeedsWAL(index))
		log_newpage_range(index, fork, start, end, true);
}
