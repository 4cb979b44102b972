/*
 * vectorann.c
 *	  Module entry point: the module magic and _PG_init, which calls each
 *	  module's initialiser (distance kernel selection, index GUCs).
 */
#include "vectorann.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	VaDistanceInit();
	HnswInit();
	IvfflatInit();
}
