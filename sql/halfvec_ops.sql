-- halfvec_ops: comparison operators and the btree operator class, distance
-- functions and operators, norms, arithmetic, concatenation, subvector,
-- binary_quantize and the sum/avg aggregates on halfvec.  Inputs are small
-- integers (exact halves) so every result is exact on any CPU.

-- comparison: by value, element by element, then the shorter first
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le,
       a > b AS gt, a >= b AS ge, halfvec_cmp(a, b) AS cmp
FROM (VALUES ('[1,2,3]'::halfvec, '[1,2,3]'::halfvec),
             ('[1,2,3]', '[1,2,4]'),
             ('[1,2,4]', '[1,2,3]'),
             ('[1,2]', '[1,2,3]'),
             ('[1,2,3]', '[1,2]'),
             ('[-1]', '[-2]'),
             ('[-1]', '[1]'),
             ('[0]', '[-0]')) t(a, b);

-- btree: ORDER BY, DISTINCT, UNIQUE, index scans
CREATE TABLE va_hops_t (id int, v halfvec);
INSERT INTO va_hops_t VALUES
	(1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[-1,5]'), (5, '[1,2,3]'),
	(6, '[1,2]'), (7, '[1]'), (8, '[2,-7,0]'), (9, NULL), (10, '[1,2,2.5]');
SELECT id, v FROM va_hops_t ORDER BY v, id;
SELECT DISTINCT v FROM va_hops_t ORDER BY v;
CREATE INDEX va_hops_btree ON va_hops_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM va_hops_t WHERE v = '[1,2]';
SELECT id FROM va_hops_t WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM va_hops_t WHERE v >= '[1,2]' AND v < '[2]' ORDER BY v, id;
RESET enable_seqscan;
DROP INDEX va_hops_btree;
CREATE TABLE va_hops_u (v halfvec(2) UNIQUE);
INSERT INTO va_hops_u VALUES ('[1,2]'), ('[0,0]');
INSERT INTO va_hops_u VALUES ('[-0,0]');
-- 2049 rounds to 2048: a duplicate
INSERT INTO va_hops_u VALUES ('[2048,1]'), ('[2049,1]');
DROP TABLE va_hops_u;
SELECT opcname, opcdefault, amname
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcintype = 'halfvec'::regtype AND amname IN ('btree', 'hnsw') ORDER BY amname, opcname;

-- distances
SELECT l2_distance('[1,2,3]'::halfvec, '[4,5,6]'), '[1,2,3]'::halfvec <-> '[4,5,6]' AS op,
       sqrt(27::float8) AS expected;
SELECT halfvec_l2_squared_distance('[1,2,3]', '[4,5,6]');
SELECT inner_product('[1,2,3]'::halfvec, '[4,5,6]'), '[1,2,3]'::halfvec <#> '[4,5,6]' AS op,
       halfvec_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT cosine_distance('[1,2,3]'::halfvec, '[4,5,6]'), '[1,2,3]'::halfvec <=> '[4,5,6]' AS op,
       1 - 32 / sqrt(14::float8 * 77) AS expected;
SELECT l1_distance('[1,2,3]'::halfvec, '[4,6,-1]'), '[1,2,3]'::halfvec <+> '[4,6,-1]' AS op;
SELECT '[3,4]'::halfvec <-> '[0,0]' AS l2, '[3,4]'::halfvec <+> '[0,0]' AS l1,
       '[3,4]'::halfvec <#> '[3,4]' AS negip, '[1,2]'::halfvec <=> '[2,4]' AS cos_parallel,
       '[1,0]'::halfvec <=> '[0,1]' AS cos_orthogonal, '[1,1]'::halfvec <=> '[-1,-1]' AS cos_opposite;
SELECT '[0,0]'::halfvec <=> '[1,2]' AS a, cosine_distance('[0,0]'::halfvec, '[0,0]') AS b;
-- the largest halves do not overflow the float4 sums
SELECT '[65504,-65504]'::halfvec <-> '[-65504,65504]' AS l2, '[65504]'::halfvec <#> '[65504]' AS negip;
-- a longer vector exercises the SIMD body and its tail (35 = 2 * 16 + 3)
SELECT l2_distance(a, b), halfvec_l2_squared_distance(a, b), inner_product(a, b),
       cosine_distance(a, a), l1_distance(a, b), l2_norm(a)
FROM (SELECT array_agg(i)::halfvec AS a, array_agg(36 - 2 * i)::halfvec AS b
      FROM generate_series(1, 35) i) t;
SELECT sum((i - (36 - 2 * i)) ^ 2) AS l2sq, sum(i * (36 - 2 * i)) AS ip,
       sum(abs(i - (36 - 2 * i))) AS l1, sqrt(sum(i * i)) AS norm
FROM generate_series(1, 35) i;
SELECT oprname, oprcom::regoperator
FROM pg_operator
WHERE oprleft = 'halfvec'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>', '=', '<>', '<', '>', '+', '*')
ORDER BY oprname;

-- norms and dimensions
SELECT vector_dims('[1,2,3]'::halfvec), vector_dims(array_fill(1::real, ARRAY[16000])::halfvec);
SELECT l2_norm('[3,4]'::halfvec), l2_norm('[0,0,0]'::halfvec), l2_norm('[-2]'::halfvec),
       l2_norm('[65504,65504]'::halfvec);
SELECT l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec), l2_normalize('[-5]'::halfvec),
       l2_normalize('[0,0,2]'::halfvec);

-- arithmetic, concatenation, slicing, quantization
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,-6]';
SELECT halfvec_add('[0.5]', '[0.25]'), halfvec_sub('[1]', '[1]'), halfvec_mul('[3]', '[0]');
-- results are rounded to half: 2048 + 1 is 2048
SELECT '[2048]'::halfvec + '[1]' AS rounded;
SELECT '[1,2]'::halfvec || '[3]', halfvec_concat('[4]', '[5,6]');
SELECT vector_dims(array_fill(1::real, ARRAY[8000])::halfvec || array_fill(2::real, ARRAY[8000])::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3,4,5]'::halfvec, 4, 10),
       subvector('[1,2,3,4,5]'::halfvec, -1, 4), subvector('[1,2,3,4,5]'::halfvec, 5, 1);
SELECT binary_quantize('[1,-2,0,3.5,-0.1,0,7,8,9]'::halfvec), binary_quantize('[1]'::halfvec),
       binary_quantize('[-1,-1]'::halfvec);
SELECT binary_quantize('[1,-2,0,3.5]'::halfvec) = binary_quantize('[1,-2,0,3.5]'::vector) AS same_as_vector;

-- aggregates
CREATE TABLE va_hops_agg (g int, v halfvec);
INSERT INTO va_hops_agg VALUES (1, '[1,2,3]'), (1, '[3,2,1]'), (1, '[2,5,-1]'), (1, NULL),
	(2, '[10]'), (2, '[11]'), (3, NULL);
SELECT g, sum(v), avg(v), count(v) FROM va_hops_agg GROUP BY g ORDER BY g;
SELECT sum(v), avg(v) FROM va_hops_agg WHERE false;
SELECT pg_typeof(sum(v)), pg_typeof(avg(v)) FROM va_hops_agg WHERE g = 1;
SELECT halfvec_accum('{0}', '[1,2]'), halfvec_accum(halfvec_accum('{0}', '[1,2]'), '[3,5]');
SELECT halfvec_avg('{4,2,6}'), halfvec_avg('{0}');
-- a state with sums but count 0 is a state of that many dimensions
SELECT halfvec_accum('{0,0,0}', '[1,2]'), halfvec_avg('{0,1,2}') IS NULL AS no_values;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE va_hops_par AS SELECT ARRAY[i % 100, i % 7, -(i % 3)]::halfvec AS v FROM generate_series(1, 3000) i;
ANALYZE va_hops_par;
EXPLAIN (COSTS OFF) SELECT avg(v), count(*) FROM va_hops_par;
SELECT avg(v), count(*) FROM va_hops_par;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE va_hops_par, va_hops_agg;

-- every halfvec and bit function is IMMUTABLE STRICT PARALLEL SAFE, except
-- the index-ops functions (PARALLEL SAFE, deliberately not STRICT)
SELECT p.oid::regprocedure AS func, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'vectorann'
WHERE ('halfvec'::regtype = ANY (p.proargtypes) OR p.prorettype = 'halfvec'::regtype
       OR 'bit'::regtype = ANY (p.proargtypes) OR p.prorettype = 'bit'::regtype
       OR p.proname LIKE 'halfvec\_%' OR p.proname LIKE 'bit\_%')
  AND p.prokind = 'f'
  AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's')
ORDER BY p.proname COLLATE "C";

DROP TABLE va_hops_t;
