-- halfvec_io: text and binary I/O of the halfvec type, rounding to half
-- precision, the halfvec(n) typmod, casts to and from vector and arrays,
-- and text and binary COPY round trips through server-side files.

-- text input: whitespace around tokens, rounding to the nearest half
SELECT '[1,2.5,3]'::halfvec;
SELECT '  [ 1 , -2.5 ,3 ]  '::halfvec;
SELECT '[42]'::halfvec;
-- 0.1 is not a half: it prints as the half nearest to it
SELECT '[0.1,0.2,0.3]'::halfvec;
-- largest, smallest normal, smallest subnormal half
SELECT '[65504,-65504,6.1035156e-05,5.9604645e-08]'::halfvec;
-- 2049 lies halfway between the halves 2048 and 2050: ties to even;
-- 65519 is still below the rounding midpoint to infinity
SELECT '[2049,2051,65519,-65519]'::halfvec;
-- too small for a half: rounds to (signed) zero, also below the smallest
-- float4 (1e-46 and less); 3e-08 is past half the smallest subnormal half
SELECT '[1e-10,-1e-10,2.9e-08]'::halfvec;
SELECT '[1e-46,1]'::halfvec, '[-1e-46,1]'::halfvec, '[1e-50,-1e-400,3e-08,-3e-08]'::halfvec;
SELECT halfvec_send('[1e-46,-1e-46,-1e-10]');
SELECT '[-0,0]'::halfvec;

-- text round trips exactly
SELECT v::text::halfvec = v AS same_value,
       halfvec_send(v::text::halfvec) = halfvec_send(v) AS same_bits
FROM (VALUES ('[0.1,5.9604645e-08,65504]'::halfvec),
             ('[-0.33325195,2.71875,3.140625]'::halfvec)) t(v);
SELECT setseed(0.25);
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE halfvec_send(v::text::halfvec) <> halfvec_send(v)) AS mismatches
FROM (SELECT array_agg(((random() - 0.5) * 10 ^ (random() * 12 - 7))::real)::halfvec AS v
      FROM generate_series(1, 2000) g GROUP BY g % 100) t;

-- typmod
SELECT '[1,2,3]'::halfvec(3);
SELECT '[1,2,3]'::halfvec::halfvec(3);
SELECT halfvec('[1,2]'::halfvec, 2, true), halfvec('[1,2]'::halfvec, -1, false);
CREATE TABLE va_hio_t (id int, v halfvec(3), w halfvec);
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'va_hio_t'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO va_hio_t VALUES (1, '[1,2,3]', '[1]'), (2, '[0.5,-0.25,3e-7]', '[1,2,3,4,5]');
INSERT INTO va_hio_t VALUES (3, NULL, NULL);
SELECT * FROM va_hio_t ORDER BY id;
SELECT 'halfvec(16000)'::regtype, 'halfvec(1)'::regtype, 'halfvec'::regtype;
SELECT typname, typlen, typalign, typstorage FROM pg_type WHERE typname = 'halfvec';
SELECT pg_column_size('[1,2,3]'::halfvec) AS three_dims,
       pg_column_size(array_fill(1::real, ARRAY[1000])::halfvec) AS thousand_dims;

-- largest halfvec: 16000 dimensions round-trip through text
SELECT vector_dims(v), v::text::halfvec = v AS round_trip, length(v::text)
FROM (SELECT array_fill(0.5::real, ARRAY[16000])::halfvec(16000) AS v) t;

-- binary send form: int16 dim, int16 zero, binary16 bit patterns
SELECT halfvec_send('[1,2]');
SELECT halfvec_send('[-0,5.9604645e-08,65504,-2]');

-- casts: vector <-> halfvec, arrays -> halfvec, halfvec -> real[]
SELECT '[1.5,0.1,-3]'::vector::halfvec, '[1.5,0.099975586,-3]'::halfvec::vector;
SELECT vector_to_halfvec('[1,2]', 2, true), halfvec_to_vector('[1,2]', -1, false);
SELECT '[1,2,3]'::vector(3)::halfvec(3), '[1,2,3]'::halfvec(3)::vector(3);
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5,2.25,-3]::real[]::halfvec,
       ARRAY[0.1,1e-8]::double precision[]::halfvec, ARRAY[1.5,2.5]::numeric[]::halfvec;
SELECT ARRAY[1,2,3]::halfvec(3), '[0:1]={7,8}'::real[]::halfvec;
-- values too small for a half become zeros of their sign, from every source
SELECT '{1e-46,-1e-46,1}'::float8[]::halfvec AS from_double,
       '{1e-46,-1e-46,1}'::numeric[]::halfvec AS from_numeric,
       '{1e-8,-1e-8,1e-45}'::real[]::halfvec AS from_real,
       '[1e-8,-1e-8,1e-45]'::vector::halfvec AS from_vector,
       '{1:1e-8,2:-1e-45,3:1}/3'::sparsevec::halfvec AS from_sparsevec;
SELECT array_to_halfvec(ARRAY[1,2], 2, true), array_to_halfvec(ARRAY[1,2]::real[], -1, false);
SELECT '[1,2.5,0.1]'::halfvec::real[], halfvec_to_float4('[5,6]', -1, false);
SELECT pg_typeof('[1]'::halfvec::real[]);
SELECT array_to_string('[1,2,3]'::halfvec::real[], ';');
-- vector -> halfvec is implicit, halfvec -> vector an assignment cast
CREATE TABLE va_hio_c (h halfvec(2), v vector(2));
INSERT INTO va_hio_c VALUES ('[1,2]'::vector, '[3,4]'::halfvec), (ARRAY[5,6], ARRAY[7,8]::real[]);
SELECT * FROM va_hio_c ORDER BY h;
SELECT h <-> '[1,2]'::vector(2) AS implicit_to_halfvec FROM va_hio_c ORDER BY h;
DROP TABLE va_hio_c;
SELECT castsource::regtype, casttarget::regtype, castfunc::regprocedure, castcontext
FROM pg_cast
WHERE castsource = 'halfvec'::regtype OR casttarget = 'halfvec'::regtype
ORDER BY castsource::regtype::text COLLATE "C", casttarget::regtype::text COLLATE "C";

-- binary COPY round trip through a server-side file
INSERT INTO va_hio_t VALUES (4, '[5.9604645e-08,-65504,0.1]', array_fill(0.25::real, ARRAY[2000]));
COPY va_hio_t TO '/tmp/vectorann_regress_hio.bin' (FORMAT binary);
CREATE TABLE va_hio_t2 (LIKE va_hio_t);
COPY va_hio_t2 FROM '/tmp/vectorann_regress_hio.bin' (FORMAT binary);
SELECT a.id, a.v = b.v AS v_equal, a.w = b.w AS w_equal,
       halfvec_send(a.v) = halfvec_send(b.v) AS v_same_bits,
       halfvec_send(a.w) = halfvec_send(b.w) AS w_same_bits
FROM va_hio_t a JOIN va_hio_t2 b USING (id) ORDER BY id;
SELECT v, vector_dims(w) FROM va_hio_t2 ORDER BY id;

-- text COPY round trip
COPY va_hio_t TO '/tmp/vectorann_regress_hio.txt';
TRUNCATE va_hio_t2;
COPY va_hio_t2 FROM '/tmp/vectorann_regress_hio.txt';
SELECT count(*) FILTER (WHERE halfvec_send(a.v) = halfvec_send(b.v)) AS v_same,
       count(*) FILTER (WHERE halfvec_send(a.w) = halfvec_send(b.w)) AS w_same
FROM va_hio_t a JOIN va_hio_t2 b USING (id);

-- binary COPY into typmod'ed columns checks the typmod (row 1's w is 1-d)
CREATE TABLE va_hio_t3 (id int, v halfvec(3), w halfvec(5));
COPY va_hio_t3 FROM '/tmp/vectorann_regress_hio.bin' (FORMAT binary);
SELECT count(*) FROM va_hio_t3;

-- a halfvec parameter of a prepared statement
PREPARE va_hio_p(halfvec) AS SELECT $1 AS v, vector_dims($1);
EXECUTE va_hio_p('[7,8,9]');
DEALLOCATE va_hio_p;

DROP TABLE va_hio_t, va_hio_t2, va_hio_t3;
