-- vector_io: text and binary I/O of the vector type, the vector(n) typmod,
-- shortest exact float text, and a binary COPY round trip through a
-- server-side file.

-- text input: whitespace around brackets, commas and numbers
SELECT '[1,2.5,3]'::vector;
SELECT '  [ 1 , 2.5 ,3 ]  '::vector;
SELECT (E'\t[\n-1,\r+2e0 ,\f3.0' || chr(11) || E']\n')::vector;
SELECT '[42]'::vector;
SELECT '[1.5e2,-0.25,0x10]'::vector;

-- shortest text that reads back as the same float4
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[1e-45,1.17549435e-38,3.4028235e+38,-3.4028235e+38]'::vector;
SELECT '[0.333333333333,123456789,1e10,1e-10]'::vector;
SELECT '[-0,0,-1e-45,1.4e-45]'::vector;
SELECT '[1.00000001,16777217,0.30000001192092896]'::vector;

-- a number too small even for a subnormal float4 becomes a zero of its sign
-- (as in pgvector; type real rejects it); 8e-46 still rounds up to 1e-45
SELECT '[1e-46,1]'::vector, '[-1e-46,1]'::vector, '[1e-50,-1e-400,8e-46,-7e-46]'::vector;
SELECT vector_send('[1e-46,-1e-46]');

-- text round trips exactly: output, re-input, same bits (compare send form)
SELECT v::text::vector = v AS same_value,
       vector_send(v::text::vector) = vector_send(v) AS same_bits
FROM (VALUES ('[0.1,1e-45,3.4028235e+38]'::vector),
             ('[-0.33333334,2.7182817,3.1415927]'::vector)) t(v);

SELECT setseed(0.25);
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE vector_send(v::text::vector) <> vector_send(v)) AS mismatches
FROM (SELECT array_agg(((random() - 0.5) * 10 ^ (random() * 70 - 35))::real)::vector AS v
      FROM generate_series(1, 2000) g GROUP BY g % 100) t;

-- typmod: declared, shown, enforced on input, assignment and cast
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector::vector(3);
CREATE TABLE va_io_t (id int, v vector(3), w vector);
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'va_io_t'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO va_io_t VALUES (1, '[1,2,3]', '[1]'), (2, '[0.1,-0.2,3e-7]', '[1,2,3,4,5]');
INSERT INTO va_io_t VALUES (3, NULL, NULL);
SELECT * FROM va_io_t ORDER BY id;
SELECT id, vector_dims(v), vector_dims(w) FROM va_io_t ORDER BY id;
SELECT pg_typeof(v), pg_typeof(w) FROM va_io_t WHERE id = 1;
SELECT 'vector(16000)'::regtype, 'vector(1)'::regtype, 'vector'::regtype;

-- storage: external (no compression) and int alignment
SELECT typname, typlen, typalign, typstorage FROM pg_type WHERE typname = 'vector';
SELECT pg_column_size('[1,2,3]'::vector) AS three_dims,
       pg_column_size(array_fill(1::real, ARRAY[1000])::vector) AS thousand_dims;

-- largest vector: 16000 dimensions round-trip through text
SELECT vector_dims(v), v::text::vector = v AS round_trip, length(v::text)
FROM (SELECT array_fill(0.5::real, ARRAY[16000])::vector(16000) AS v) t;

-- binary send form: int16 dim, int16 zero, float4s, network byte order
SELECT vector_send('[1,2]');
SELECT vector_send('[-0,1e-45,3.4028235e+38]');

-- binary COPY round trip through a server-side file
INSERT INTO va_io_t VALUES (4, '[1e-45,-3.4028235e+38,0.1]', array_fill(0.25::real, ARRAY[2000]));
COPY va_io_t TO '/tmp/vectorann_regress_io.bin' (FORMAT binary);
CREATE TABLE va_io_t2 (LIKE va_io_t);
COPY va_io_t2 FROM '/tmp/vectorann_regress_io.bin' (FORMAT binary);
SELECT a.id, a.v = b.v AS v_equal, a.w = b.w AS w_equal,
       vector_send(a.v) = vector_send(b.v) AS v_same_bits,
       vector_send(a.w) = vector_send(b.w) AS w_same_bits
FROM va_io_t a JOIN va_io_t2 b USING (id) ORDER BY id;
SELECT count(*) FROM va_io_t2;
SELECT v, vector_dims(w) FROM va_io_t2 ORDER BY id;

-- text COPY round trip as well
COPY va_io_t TO '/tmp/vectorann_regress_io.txt';
TRUNCATE va_io_t2;
COPY va_io_t2 FROM '/tmp/vectorann_regress_io.txt';
SELECT count(*) FILTER (WHERE vector_send(a.v) = vector_send(b.v)) AS v_same,
       count(*) FILTER (WHERE vector_send(a.w) = vector_send(b.w)) AS w_same
FROM va_io_t a JOIN va_io_t2 b USING (id);

-- binary COPY into typmod'ed columns checks the typmod (row 1's w is 1-d)
CREATE TABLE va_io_t3 (id int, v vector(3), w vector(5));
COPY va_io_t3 FROM '/tmp/vectorann_regress_io.bin' (FORMAT binary);
SELECT count(*) FROM va_io_t3;

-- a vector parameter of a prepared statement
PREPARE va_io_p(vector) AS SELECT $1 AS v, vector_dims($1);
EXECUTE va_io_p('[7,8,9]');
DEALLOCATE va_io_p;

DROP TABLE va_io_t, va_io_t2, va_io_t3;
