-- sparsevec_errors: malformed, non-canonical, oversize and non-finite
-- sparsevec input through text, casts and binary COPY.

-- malformed text
SELECT ''::sparsevec;
SELECT '[1,2]'::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{1:1}/'::sparsevec;
SELECT '{1:1}/3x'::sparsevec;
SELECT '{1:1}/3/3'::sparsevec;
SELECT '{1:1'::sparsevec;
SELECT '{1}/3'::sparsevec;
SELECT '{1:}/3'::sparsevec;
SELECT '{:1}/3'::sparsevec;
SELECT '{1:1,}/3'::sparsevec;
SELECT '{,1:1}/3'::sparsevec;
SELECT '{1:1 2:2}/3'::sparsevec;
SELECT '{a:1}/3'::sparsevec;
SELECT '{1:a}/3'::sparsevec;
SELECT '{+1:1}/3'::sparsevec;
SELECT '{1.5:1}/3'::sparsevec;
SELECT '{1:1}/3.0'::sparsevec;
SELECT '{1:1}/+3'::sparsevec;

-- duplicate and out-of-range indices (in any order; an index with a zero
-- value counts too; any order is fine otherwise: sparsevec_io)
SELECT '{1:1,1:2}/3'::sparsevec;
SELECT '{1:0,1:2}/3'::sparsevec;
SELECT '{2:0,2:0}/3'::sparsevec;
SELECT '{3:1,1:1,2:2,1:5}/3'::sparsevec;
SELECT '{3:1,1:1}/2'::sparsevec;
SELECT '{1:1,5:0}/3'::sparsevec;
SELECT '{0:1}/3'::sparsevec;
SELECT '{-1:1}/3'::sparsevec;
SELECT '{4:1}/3'::sparsevec;
SELECT '{1000000001:1}/1000000000'::sparsevec;
SELECT '{99999999999999999999999:1}/3'::sparsevec;

-- dimensions
SELECT '{}/0'::sparsevec;
SELECT '{}/-1'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{}/99999999999999999999999'::sparsevec;

-- NaN, infinity, out-of-range values
SELECT '{1:NaN}/3'::sparsevec;
SELECT '{1:inf}/3'::sparsevec;
SELECT '{1:1e39}/3'::sparsevec;
SELECT '{2:1e-50,1:1e39}/3'::sparsevec;
-- (a value too small for a float4 is not an error: it reads as 0, sparsevec_io)

-- too many non-zeros (zeros do not count)
SELECT ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec FROM generate_series(1, 16001) i;
-- 32000 entries, half of them zeros: the 16000 non-zeros are the limit, and
-- the value keeps exactly them (the text output drops the zeros)
WITH t(v) AS (
	SELECT ('{' || string_agg(i || ':' || (i % 2), ',') || '}/40000')::sparsevec
	FROM generate_series(1, 32000) i)
SELECT v::text = (SELECT '{' || string_agg(i || ':1', ',') || '}/40000'
                  FROM generate_series(1, 32000, 2) i) AS nonzeros_kept
FROM t;

-- typmod
SELECT '{}/3'::sparsevec(0);
SELECT '{}/3'::sparsevec(1000000001);
SELECT '{}/3'::sparsevec(3, 4);
SELECT '{}/3'::sparsevec(4);
SELECT '[1,2]'::vector::sparsevec(3);
SELECT '{1:1}/3'::sparsevec::vector(2);

-- casts
SELECT '{1:1}/16001'::sparsevec::vector;
SELECT '{1:1}/16001'::sparsevec::halfvec;
SELECT '{1:70000}/2'::sparsevec::halfvec;
SELECT array_fill(1, ARRAY[16001])::sparsevec;
SELECT ARRAY[1,NULL]::sparsevec;
SELECT '{}'::real[]::sparsevec;
SELECT '{{1}}'::real[]::sparsevec;
SELECT ARRAY['NaN']::real[]::sparsevec;
SELECT ARRAY[1e39]::float8[]::sparsevec;
SELECT ARRAY[1e-50,1e39]::numeric[]::sparsevec;
SELECT ARRAY['NaN']::numeric[]::sparsevec;

-- different dimensions
SELECT '{}/3'::sparsevec <-> '{}/2';
SELECT '{}/3'::sparsevec <#> '{}/2';
SELECT '{}/3'::sparsevec <=> '{}/2';
SELECT '{}/3'::sparsevec <+> '{}/2';
SELECT sparsevec_l2_squared_distance('{}/3', '{}/2');
SELECT inner_product('{}/3'::sparsevec, '{}/2');

-- binary input through binary COPY of crafted bytes
CREATE TABLE va_serr_raw (b bytea);
CREATE TABLE va_serr_vec (v sparsevec);
CREATE FUNCTION va_serr_recv(raw bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE va_serr_raw;
	INSERT INTO va_serr_raw VALUES (raw);
	COPY va_serr_raw TO '/tmp/vectorann_regress_serr.bin' (FORMAT binary);
	TRUNCATE va_serr_vec;
	COPY va_serr_vec FROM '/tmp/vectorann_regress_serr.bin' (FORMAT binary);
	RETURN (SELECT string_agg(v::text, ' ') FROM va_serr_vec);
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- well-formed {1:1,3:2}/5, and {}/2
SELECT va_serr_recv('\x00000005000000020000000000000000000000023f80000040000000');
SELECT va_serr_recv('\x000000020000000000000000');
-- dim 0, negative nnz, nnz > dim, reserved field set
SELECT va_serr_recv('\x000000000000000000000000');
SELECT va_serr_recv('\x00000002ffffffff00000000');
SELECT va_serr_recv('\x000000010000000200000000');
SELECT va_serr_recv('\x000000020000000000000001');
-- truncated, trailing bytes
SELECT va_serr_recv('\x00000005000000020000000000000000000000023f800000');
SELECT va_serr_recv('\x00000002000000000000000000');
-- index out of range, negative, unsorted, duplicate
SELECT va_serr_recv('\x0000000500000001000000000000000540000000');
SELECT va_serr_recv('\x0000000500000001000000008000000040000000');
SELECT va_serr_recv('\x00000005000000020000000000000002000000003f80000040000000');
SELECT va_serr_recv('\x00000005000000020000000000000002000000023f80000040000000');
-- zero, NaN, infinity values
SELECT va_serr_recv('\x0000000500000001000000000000000000000000');
SELECT va_serr_recv('\x000000050000000100000000000000007fc00000');
SELECT va_serr_recv('\x00000005000000010000000000000000ff800000');
DROP FUNCTION va_serr_recv(bytea);
DROP TABLE va_serr_raw, va_serr_vec;

-- nothing above crashed the backend
SELECT '{1:1}/2'::sparsevec <-> '{2:1}/2' AS still_alive;
