/*
 * validate.h
 *	  amvalidate shared by the vectorann access methods.
 */
#ifndef VA_VALIDATE_H
#define VA_VALIDATE_H

#include "vectorann.h"

/*
 * Check the operator class opclassoid of access method amname, whose
 * operator family serves that one class:
 *   - every support function has a number in 1..nprocs and the signature
 *     (internal) RETURNS internal, and support function 1 exists for the
 *     class's input type;
 *   - every operator has a strategy number in 1..nstrategies, is an ORDER BY
 *     operator of two arguments returning double precision whose sort
 *     family can sort double precision (FOR ORDER BY float_ops), and takes
 *     the class's input type on the left;
 *   - at least one operator passes all of that (the index is searched only
 *     through one).
 * Each problem is reported as an INFO message saying what is wrong; returns
 * whether none were found.
 */
extern bool VaValidateOpclass(Oid opclassoid, const char *amname, int nprocs,
							  int nstrategies);

#endif							/* VA_VALIDATE_H */
