/*
 * validate.h
 *	  amvalidate shared by the vectorann access methods.
 */
#ifndef VA_VALIDATE_H
#define VA_VALIDATE_H

#include "vectorann.h"

/*
 * Check the operator class opclassoid of access method amname: every
 * support function has a number in 1..nprocs and the signature
 * (internal) RETURNS internal; support function 1 exists for the opclass's
 * input type; every operator is an ORDER BY operator of two arguments
 * returning float8.  Problems are reported as INFO; returns whether none
 * were found.
 */
extern bool VaValidateOpclass(Oid opclassoid, const char *amname, int nprocs);

#endif							/* VA_VALIDATE_H */
