/*
 * rerank.c
 *	  The re-ranked rows of a quantized index scan and the rule that
 *	  settles them (see rerank.h).
 */
#include "common/rerank.h"

void
VaRerankInit(VaRerank *rr)
{
	VaHeapInit(&rr->rows, 64, false);
	rr->reranked = 0;
}

void
VaRerankAdd(VaRerank *rr, uint64 id, float distance)
{
	VaCandidate row;

	row.distance = distance;
	row.flags = 0;
	row.id = id;
	row.aux = 0;
	VaHeapPush(&rr->rows, &row);
}

bool
VaRerankSettled(VaRerank *rr, int least, float next_lower)
{
	return rr->rows.count > 0 && rr->reranked >= least &&
		VaHeapTop(&rr->rows)->distance <= next_lower;
}

VaCandidate
VaRerankPop(VaRerank *rr)
{
	return VaHeapPop(&rr->rows);
}
