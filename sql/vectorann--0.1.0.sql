-- vectorann--0.1.0.sql
--   Install script of vectorann 0.1.0: the vector type (I/O, typmod, casts),
--   its comparison operators and btree operator class, element-wise
--   arithmetic, the distance functions and operators, the sum/avg aggregates,
--   and the index-ops support functions the hnsw operator classes use.
--   Every function is implemented in C in src/type/vector.c.

\echo Use "CREATE EXTENSION vectorann" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The vector type: 1..16000 finite float4 values, text form '[1,2.5,3]'
-- ---------------------------------------------------------------------------

CREATE TYPE vector;

-- Text input '[x1,...,xn]' (whitespace allowed around tokens), checked against
-- the typmod.  Errors on malformed text, NaN, infinity, out-of-range numbers,
-- an empty vector, more than 16000 dimensions, a dimension/typmod mismatch.
CREATE FUNCTION vector_in(cstring, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Text output with the shortest exact decimal form of every element.
CREATE FUNCTION vector_out(vector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The n of vector(n); errors unless exactly one modifier in 1..16000.
CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- '(n)' for vector(n), '' without a typmod.
CREATE FUNCTION vector_typmod_out(integer) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Binary input: int16 dim, int16 zero, dim float4 (network byte order);
-- same checks as vector_in.
CREATE FUNCTION vector_recv(internal, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Binary output in the form vector_recv reads.
CREATE FUNCTION vector_send(vector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE vector (
	INPUT = vector_in,
	OUTPUT = vector_out,
	TYPMOD_IN = vector_typmod_in,
	TYPMOD_OUT = vector_typmod_out,
	RECEIVE = vector_recv,
	SEND = vector_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);

-- ---------------------------------------------------------------------------
-- Casts
-- ---------------------------------------------------------------------------

-- Length coercion to vector(n): the value unchanged, or an error when its
-- dimension is not n.
CREATE FUNCTION vector(vector, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- One-dimensional array without nulls to vector(typmod), each element
-- converted to float4.  Errors on nulls, multi-dimensional or empty arrays,
-- NaN, infinity, out-of-range values, more than 16000 elements, and a
-- typmod mismatch.
CREATE FUNCTION array_to_vector(integer[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(real[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(double precision[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(numeric[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The elements as a one-dimensional real[].
CREATE FUNCTION vector_to_float4(vector, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The elements (widened exactly) as a one-dimensional double precision[].
CREATE FUNCTION vector_to_float8(vector, integer, boolean) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (vector AS vector)
	WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;

CREATE CAST (integer[] AS vector)
	WITH FUNCTION array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS vector)
	WITH FUNCTION array_to_vector(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS vector)
	WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS vector)
	WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (vector AS real[])
	WITH FUNCTION vector_to_float4(vector, integer, boolean) AS IMPLICIT;

-- Explicit only, so that vector -> array resolution stays unambiguous.
CREATE CAST (vector AS double precision[])
	WITH FUNCTION vector_to_float8(vector, integer, boolean);

-- ---------------------------------------------------------------------------
-- Comparison: element by element, then by dimension (shorter first)
-- ---------------------------------------------------------------------------

-- -1, 0 or 1; btree support function.
CREATE FUNCTION vector_cmp(vector, vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The six boolean comparisons behind = <> < <= > >=.
CREATE FUNCTION vector_eq(vector, vector) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_ne(vector, vector) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_lt(vector, vector) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_le(vector, vector) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_gt(vector, vector) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_ge(vector, vector) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_eq,
	COMMUTATOR = =, NEGATOR = <>,
	RESTRICT = eqsel, JOIN = eqjoinsel
);

CREATE OPERATOR <> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ne,
	COMMUTATOR = <>, NEGATOR = =,
	RESTRICT = neqsel, JOIN = neqjoinsel
);

CREATE OPERATOR < (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_lt,
	COMMUTATOR = >, NEGATOR = >=,
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);

CREATE OPERATOR <= (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_le,
	COMMUTATOR = >=, NEGATOR = >,
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);

CREATE OPERATOR > (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_gt,
	COMMUTATOR = <, NEGATOR = <=,
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

CREATE OPERATOR >= (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ge,
	COMMUTATOR = <=, NEGATOR = <,
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS vector_ops
	DEFAULT FOR TYPE vector USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 vector_cmp(vector, vector);

-- ---------------------------------------------------------------------------
-- Distances and norms.  Two-vector functions error when the dimensions
-- differ; all accumulate in double precision.
-- ---------------------------------------------------------------------------

-- Euclidean distance sqrt(sum (a_i - b_i)^2); operator <->.
CREATE FUNCTION l2_distance(vector, vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Squared Euclidean distance sum (a_i - b_i)^2.
CREATE FUNCTION vector_l2_squared_distance(vector, vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Inner product sum a_i * b_i.
CREATE FUNCTION inner_product(vector, vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Negative inner product -sum a_i * b_i (smaller is more similar); operator <#>.
CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Cosine distance 1 - a.b / (|a| |b|) in [0, 2]; NaN when a norm is zero;
-- operator <=>.
CREATE FUNCTION cosine_distance(vector, vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Taxicab distance sum |a_i - b_i|; operator <+>.
CREATE FUNCTION l1_distance(vector, vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Number of dimensions.
CREATE FUNCTION vector_dims(vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Euclidean norm sqrt(sum a_i^2).
CREATE FUNCTION vector_norm(vector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The vector scaled to unit Euclidean norm; the zero vector stays zero.
CREATE FUNCTION l2_normalize(vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <-> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l2_distance,
	COMMUTATOR = '<->'
);

CREATE OPERATOR <#> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_negative_inner_product,
	COMMUTATOR = '<#>'
);

CREATE OPERATOR <=> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = cosine_distance,
	COMMUTATOR = '<=>'
);

CREATE OPERATOR <+> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l1_distance,
	COMMUTATOR = '<+>'
);

-- ---------------------------------------------------------------------------
-- Element-wise arithmetic, concatenation, slicing, quantization
-- ---------------------------------------------------------------------------

-- a_i + b_i; errors on different dimensions or float4 overflow; operator +.
CREATE FUNCTION vector_add(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- a_i - b_i; errors as vector_add; operator -.
CREATE FUNCTION vector_sub(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- a_i * b_i; errors as vector_add, and on underflow to zero; operator *.
CREATE FUNCTION vector_mul(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The elements of a followed by those of b; errors past 16000; operator ||.
CREATE FUNCTION vector_concat(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Elements start .. start + count - 1 (1-based), clipped to the vector;
-- errors when no element is left.
CREATE FUNCTION subvector(vector, integer, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- One bit per element: 1 where the element is > 0.
CREATE FUNCTION binary_quantize(vector) RETURNS bit
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR + (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_add,
	COMMUTATOR = +
);

CREATE OPERATOR - (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_sub
);

CREATE OPERATOR * (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_mul,
	COMMUTATOR = *
);

CREATE OPERATOR || (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_concat
);

-- ---------------------------------------------------------------------------
-- Aggregates sum(vector) and avg(vector).  avg keeps a double precision[]
-- state {count, sum_1, ..., sum_n}, '{0}' before the first value.
-- ---------------------------------------------------------------------------

-- avg transition: adds one vector to the state; errors on a dimension change.
CREATE FUNCTION vector_accum(double precision[], vector) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- avg combine (parallel aggregation): adds two states.
CREATE FUNCTION vector_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- avg final: sums / count as a vector; NULL for no rows.
CREATE FUNCTION vector_avg(double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE avg(vector) (
	SFUNC = vector_accum,
	STYPE = double precision[],
	FINALFUNC = vector_avg,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE sum(vector) (
	SFUNC = vector_add,
	STYPE = vector,
	COMBINEFUNC = vector_add,
	PARALLEL = SAFE
);

-- ---------------------------------------------------------------------------
-- Index ops: support function 1 of the hnsw vector_*_ops operator classes.
-- Each returns a pointer to a static C table (stored form, distance, mapping
-- to the SQL operator's value); the argument is ignored and the functions
-- are deliberately not STRICT, since the index calls them with a null Datum.
-- ---------------------------------------------------------------------------

-- vector_l2_ops: squared L2 in the index, sqrt for <->.
CREATE FUNCTION vector_l2_index_ops(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;

-- vector_ip_ops: negative inner product, as <#>.
CREATE FUNCTION vector_ip_index_ops(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;

-- vector_cosine_ops: vectors normalised when stored (zero norm not indexed),
-- distance 1 - a.b, as <=>.
CREATE FUNCTION vector_cosine_index_ops(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;

-- vector_l1_ops: taxicab distance, as <+>.
CREATE FUNCTION vector_l1_index_ops(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;

-- hnsw access method and operator classes (appended by the index work; keep this line last)

-- hnswhandler(internal): the handler of the hnsw index access method, an
-- HNSW graph (Malkov & Yashunin 2018) kept in Postgres pages.
CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;

COMMENT ON ACCESS METHOD hnsw IS 'HNSW graph index for approximate nearest-neighbour search';

-- hnsw_check(index regclass): one row per structural violation of an hnsw
-- index; problem is the kind (page, element, link, entry point, unreachable:
-- a live element no chain of links from the entry point reaches), detail
-- says where.  No rows when sound.  Errors: not an hnsw index.  Blocks
-- inserts into the index while it runs.
CREATE FUNCTION hnsw_check(index regclass, OUT problem text, OUT detail text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- Each operator class pairs one ORDER BY operator with the support function
-- that tells the index how to store values and measure distance.
CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l2_index_ops(internal);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_ip_index_ops(internal);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_cosine_index_ops(internal);

CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 (vector, vector) vector_l1_index_ops(internal);
