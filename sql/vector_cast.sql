-- vector_cast: casts between vector and integer[], real[], double precision[],
-- numeric[], honouring the vector(n) typmod; the length-coercion cast.

-- arrays to vector
SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,2.25,-3]::real[]::vector;
SELECT ARRAY[0.1,0.2,1e-45]::double precision[]::vector;
SELECT ARRAY[1.5,2.5,-0.125]::numeric[]::vector;
SELECT ARRAY[2147483647, -2147483648]::vector;
SELECT ARRAY[16777217]::integer[]::vector;
SELECT '{4,5,6}'::real[]::vector(3);
SELECT ARRAY[1,2,3]::vector(3);
SELECT array_to_vector(ARRAY[1,2], 2, true);
SELECT array_to_vector(ARRAY[1,2]::real[], -1, false);

-- values too small for a float4 become zeros of their sign, values that
-- round to the largest float4 are kept (casts from double precision[] and
-- numeric[]; a real[] cannot hold them)
SELECT '{1e-46,-1e-46,1}'::float8[]::vector AS from_double,
       '{1e-46,-1e-46,1}'::numeric[]::vector AS from_numeric;
SELECT ARRAY[1e-46,-1e-46]::numeric[]::vector::float8[] AS signed_zeros,
       ARRAY[1e-45,3.4028235e38,-3.40282356e38]::numeric[]::vector AS extremes;
SELECT ARRAY[3.4028235e38,1.401298464324817e-45]::float8[]::vector AS extremes;

-- non-1 lower bound arrays are fine, only the elements count
SELECT '[0:2]={7,8,9}'::real[]::vector;

-- vector to arrays
SELECT '[1,2.5,3]'::vector::real[];
SELECT '[0.1,1e-45,-3]'::vector::double precision[];
SELECT array_length('[1,2,3,4]'::vector::real[], 1), array_lower('[1,2,3,4]'::vector::real[], 1);
SELECT vector_to_float4('[5,6]', -1, false), vector_to_float8('[5,6]', -1, false);
SELECT pg_typeof('[1]'::vector::real[]), pg_typeof('[1]'::vector::float8[]);

-- round trips
SELECT ('[0.1,0.2,0.3]'::vector::real[])::vector = '[0.1,0.2,0.3]'::vector AS real_round_trip,
       ('[0.1,0.2,0.3]'::vector::float8[])::vector = '[0.1,0.2,0.3]'::vector AS double_round_trip;

-- implicit vector -> real[] lets real[] functions take a vector
SELECT array_to_string('[1,2,3]'::vector::real[], ';');

-- assignment casts into a vector(n) column
CREATE TABLE va_cast_t (v vector(3));
INSERT INTO va_cast_t VALUES (ARRAY[1,2,3]), (ARRAY[1.5,2.5,3.5]::real[]),
	(ARRAY[4,5,6]::float8[]), (ARRAY[7.5,8,9]::numeric[]);
SELECT * FROM va_cast_t ORDER BY v;
SELECT v::real[] FROM va_cast_t ORDER BY v LIMIT 1;
DROP TABLE va_cast_t;

-- length coercion: vector -> vector(n)
SELECT '[1,2]'::vector::vector(2);
SELECT vector('[1,2]'::vector, 2, true);
SELECT vector('[1,2]'::vector, -1, false);

-- cast catalogue entries
SELECT castsource::regtype, casttarget::regtype, castfunc::regprocedure, castcontext
FROM pg_cast
WHERE (castsource = 'vector'::regtype AND casttarget IN ('vector'::regtype, 'real[]'::regtype, 'float8[]'::regtype))
   OR (casttarget = 'vector'::regtype AND castsource IN ('integer[]'::regtype, 'real[]'::regtype, 'float8[]'::regtype, 'numeric[]'::regtype))
ORDER BY castsource::regtype::text COLLATE "C", casttarget::regtype::text COLLATE "C";
