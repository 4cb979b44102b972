-- sparsevec_io: text and binary I/O of sparsevec (canonical form, zeros
-- dropped), the sparsevec(n) typmod, casts to and from vector, halfvec and
-- arrays, and text and binary COPY round trips.

SELECT '{1:1.5,3:2}/5'::sparsevec;
SELECT '  { 2 : 0 , 4 : -0.001 , 7:3e5 }  /  9 '::sparsevec;
SELECT '{}/3'::sparsevec, '{ }/1'::sparsevec;
SELECT '{1:0,2:-0}/2'::sparsevec AS zeros_dropped;
SELECT '{1:0.1,1000000000:1e-45}/1000000000'::sparsevec AS largest;
SELECT '{01:1,002:2}/0003'::sparsevec AS leading_zeros;

-- indices in any order: sorted, each value staying with its index
SELECT '{2:1,1:1}/2'::sparsevec, '{3:1,1:2,2:3}/3'::sparsevec;
SELECT '{5:-1, 2:0, 1:3}/5'::sparsevec AS zero_dropped, '{9:9,1:1}/9'::sparsevec(9) AS with_typmod;
SELECT sparsevec_send('{3:3,1:1}/3') = sparsevec_send('{1:1,3:3}/3') AS same_bits;
SELECT ('{' || string_agg(i || ':' || i, ',' ORDER BY i DESC) || '}/1000')::sparsevec
       = ('{' || string_agg(i || ':' || i, ',' ORDER BY i) || '}/1000')::sparsevec AS reversed_equal
FROM generate_series(1, 1000) i;

-- a value too small for a float4 reads as zero and is dropped like one
SELECT '{1:1e-46,2:1}/2'::sparsevec, '{2:-1e-46}/2'::sparsevec, '{1:8e-46}/1'::sparsevec;

-- text round trips exactly
SELECT v::text::sparsevec = v AS same_value, sparsevec_send(v::text::sparsevec) = sparsevec_send(v) AS same_bits
FROM (VALUES ('{1:0.1,5:-3.4028235e+38,6:1e-45}/6'::sparsevec), ('{}/7'::sparsevec)) t(v);

-- typmod
SELECT '{1:1}/3'::sparsevec(3), sparsevec('{1:1}/3'::sparsevec, 3, true), sparsevec('{1:1}/3'::sparsevec, -1, false);
CREATE TABLE va_sio_t (id int, v sparsevec(5), w sparsevec);
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'va_sio_t'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO va_sio_t VALUES (1, '{1:1,5:2}/5', '{}/1'), (2, '{3:0.5}/5', '{100:1}/1000000'), (3, NULL, NULL);
SELECT * FROM va_sio_t ORDER BY id;
SELECT typname, typlen, typalign, typstorage FROM pg_type WHERE typname = 'sparsevec';
SELECT pg_column_size('{1:1,2:2,3:3}/1000'::sparsevec) AS three_nonzeros;

-- binary send form: int32 dim, int32 nnz, int32 zero, 0-based indices, values
SELECT sparsevec_send('{1:1,3:2}/5');
SELECT sparsevec_send('{}/2');

-- casts
SELECT '[1,0,2,0]'::vector::sparsevec, '[0,0.5,0]'::halfvec::sparsevec;
SELECT '{1:1,4:2}/4'::sparsevec::vector, '{2:0.1}/3'::sparsevec::halfvec;
SELECT vector_to_sparsevec('[1,0]', 2, true), halfvec_to_sparsevec('[0,3]', -1, false),
       sparsevec_to_vector('{2:3}/2', 2, true), sparsevec_to_halfvec('{2:3}/2', -1, false);
SELECT ARRAY[0,1,0,2]::sparsevec, ARRAY[0,1.5]::real[]::sparsevec, ARRAY[0.25,0]::float8[]::sparsevec,
       ARRAY[0,0,3]::numeric[]::sparsevec, ARRAY[0,0]::sparsevec(2);
-- values too small for a float4 are zeros, dropped
SELECT '{1e-46,-1e-46,1}'::float8[]::sparsevec AS from_double,
       '{1e-46,-1e-46,1}'::numeric[]::sparsevec AS from_numeric,
       '[-0,1]'::vector::sparsevec AS from_vector;
SELECT array_to_sparsevec(ARRAY[1,0], 2, true);
-- round trips through the dense types
SELECT ('[1,0,-2.5,0,1e-45]'::vector::sparsevec::vector) = '[1,0,-2.5,0,1e-45]'::vector AS vector_round_trip,
       ('{2:0.5,9:-4}/10'::sparsevec::halfvec::sparsevec) = '{2:0.5,9:-4}/10' AS halfvec_round_trip;
SELECT castsource::regtype, casttarget::regtype, castfunc::regprocedure, castcontext
FROM pg_cast
WHERE castsource = 'sparsevec'::regtype OR casttarget = 'sparsevec'::regtype
ORDER BY castsource::regtype::text COLLATE "C", casttarget::regtype::text COLLATE "C";

-- binary and text COPY round trips through server-side files
INSERT INTO va_sio_t VALUES (4, '{2:1e-45,4:-3.4028235e+38}/5', ARRAY(SELECT (i % 3)::real FROM generate_series(1, 3000) i)::sparsevec);
COPY va_sio_t TO '/tmp/vectorann_regress_sio.bin' (FORMAT binary);
CREATE TABLE va_sio_t2 (LIKE va_sio_t);
COPY va_sio_t2 FROM '/tmp/vectorann_regress_sio.bin' (FORMAT binary);
SELECT a.id, sparsevec_send(a.v) = sparsevec_send(b.v) AS v_same_bits,
       sparsevec_send(a.w) = sparsevec_send(b.w) AS w_same_bits
FROM va_sio_t a JOIN va_sio_t2 b USING (id) ORDER BY id;
COPY va_sio_t TO '/tmp/vectorann_regress_sio.txt';
TRUNCATE va_sio_t2;
COPY va_sio_t2 FROM '/tmp/vectorann_regress_sio.txt';
SELECT count(*) FILTER (WHERE sparsevec_send(a.v) = sparsevec_send(b.v)) AS v_same,
       count(*) FILTER (WHERE sparsevec_send(a.w) = sparsevec_send(b.w)) AS w_same
FROM va_sio_t a JOIN va_sio_t2 b USING (id);
-- the typmod is checked on binary input (row 1's w has 1 dimension)
CREATE TABLE va_sio_t3 (id int, v sparsevec(5), w sparsevec(3));
COPY va_sio_t3 FROM '/tmp/vectorann_regress_sio.bin' (FORMAT binary);
DROP TABLE va_sio_t, va_sio_t2, va_sio_t3;
