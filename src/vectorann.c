/*
 * vectorann.c
 *	  Module entry point: the module magic and _PG_init, which calls each
 *	  module's initialiser (kernel selection and CPU features, index GUCs).
 */
#include "vectorann.h"

#include "distance/distance.h"
#include "hnsw/hnsw.h"
#include "ivfflat/ivfflat.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	VaDistanceInit();
	HnswInit();
	IvfflatInit();
}
