/*
 * rerank.h
 *	  Exact re-ranking of a quantized index's candidates, shared by the
 *	  scans of both access methods: the heap of re-ranked rows (exact
 *	  distances, nearest on top) and the rule that says when its nearest
 *	  row may be returned.  The rule is the multi-step k-nearest-neighbour
 *	  search of Seidl & Kriegel, "Optimal multi-step k-nearest neighbor
 *	  search", SIGMOD 1998: candidates are re-ranked in order of a lower
 *	  bound on their exact distance (an estimate less its slack), and the
 *	  nearest re-ranked row is final once it is no further than the next
 *	  candidate's bound.  Knows no access method: the caller owns its
 *	  candidates, fetches the rows and decides what happens when a batch of
 *	  candidates runs out.
 */
#ifndef VA_RERANK_H
#define VA_RERANK_H

#include "vectorann.h"

#include "common/candidates.h"

typedef struct VaRerank
{
	VaHeap		rows;			/* re-ranked rows not yet returned: id = heap
								 * TID (VaTidToId), distance exact */
	int			reranked;		/* candidates re-ranked since the last
								 * VaRerankRestart */
} VaRerank;

/* Set up an empty re-ranking in the current memory context. */
extern void VaRerankInit(VaRerank *rr);

/* A new batch of candidates begins: the count of re-ranked ones restarts. */
static inline void
VaRerankRestart(VaRerank *rr)
{
	rr->reranked = 0;
}

/* One more candidate has been re-ranked (whatever rows it gave). */
static inline void
VaRerankCounted(VaRerank *rr)
{
	rr->reranked++;
}

/* Add a re-ranked row: heap TID id (VaTidToId) at exact distance. */
extern void VaRerankAdd(VaRerank *rr, uint64 id, float distance);

/* Whether re-ranked rows wait to be returned. */
static inline bool
VaRerankHasRows(const VaRerank *rr)
{
	return rr->rows.count > 0;
}

/*
 * Whether the nearest re-ranked row may be returned while candidates of
 * the batch are left, the next of which has lower bound next_lower (no
 * candidate left can be nearer than that): at least least candidates of
 * the batch are re-ranked and the row is no further than next_lower.
 * With no candidate left the caller decides (the batch is done).
 */
extern bool VaRerankSettled(VaRerank *rr, int least, float next_lower);

/* Remove and return the nearest re-ranked row; there must be one. */
extern VaCandidate VaRerankPop(VaRerank *rr);

#endif							/* VA_RERANK_H */
