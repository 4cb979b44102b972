/*
 * wal.h
 *	  The one wrapper around GenericXLog through which every page change of
 *	  the vectorann access methods goes.  During an index build the wrapper
 *	  bypasses WAL (pages are only marked dirty) and the build logs all pages
 *	  at its end with VaWalLogRange(); after the build every change is a
 *	  GenericXLog record of at most MAX_GENERIC_XLOG_PAGES (4) pages.
 */
#ifndef VA_WAL_H
#define VA_WAL_H

#include "vectorann.h"

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

typedef struct VaWal
{
	GenericXLogState *xlog;		/* NULL while building */
	int			nbuffers;
	Buffer		buffers[MAX_GENERIC_XLOG_PAGES];
} VaWal;

/*
 * Start a change of up to MAX_GENERIC_XLOG_PAGES pages of index.  building
 * says the index is being built (no WAL now; VaWalLogRange later).
 */
extern void VaWalBegin(VaWal *wal, Relation index, bool building);

/*
 * Register a pinned, exclusively locked buffer; returns the page image to
 * modify (a copy under GenericXLog).  is_new: the page is (re)initialised
 * whole, so a full image is logged.
 */
extern Page VaWalRegister(VaWal *wal, Buffer buffer, bool is_new);

/* Apply the change: emit the WAL record (or mark buffers dirty when building). */
extern void VaWalFinish(VaWal *wal);

/* Abandon the change: the registered pages are left untouched. */
extern void VaWalAbort(VaWal *wal);

/*
 * WAL-log blocks [start, end) of fork as full page images, if the fork needs
 * WAL (always for the init fork).  Used at the end of a build.
 */
extern void VaWalLogRange(Relation index, ForkNumber fork,
						  BlockNumber start, BlockNumber end);

#endif							/* VA_WAL_H */
