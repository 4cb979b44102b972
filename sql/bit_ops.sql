-- bit_ops: Hamming (<~>) and Jaccard (<%>) distances on Postgres' bit type,
-- binary_quantize from vector and halfvec, and errors.

SELECT hamming_distance(B'1010', B'0110'), B'1010' <~> B'0110' AS op;
SELECT jaccard_distance(B'1110', B'0111'), B'1110' <%> B'0111' AS op;
SELECT a, b, a <~> b AS hamming, a <%> b AS jaccard
FROM (VALUES (B'0000', B'0000'), (B'1111', B'1111'), (B'1111', B'0000'),
             (B'1000', B'0001'), (B'1100', B'1000'), (B'1', B'1'), (B'', B'')) t(a, b);
-- lengths that are not a multiple of 8 or 64: padding bits do not count
SELECT B'101' <~> B'011' AS h3, B'1010101010' <~> B'0101010101' AS h10,
       B'1111111111' <%> B'1111100000' AS j10;
-- a long string exercises the 64-bit body and the byte tail (1027 bits)
SELECT (a <~> b) AS hamming, (a <%> b) AS jaccard, length(a)
FROM (SELECT (repeat('1', 1000) || repeat('0', 27))::bit(1027) AS a,
             (repeat('10', 500) || repeat('1', 27))::bit(1027) AS b) t;
-- varbit and bit(n) values work (bit varying casts implicitly to bit)
SELECT '1010'::varbit <~> '0110'::varbit AS varbit_hamming,
       '1010'::bit(4) <%> '0010'::bit(4) AS bit4_jaccard;
-- operators commute
SELECT oprname, oprcom::regoperator FROM pg_operator
WHERE oprleft = 'bit'::regtype AND oprname IN ('<~>', '<%>') ORDER BY oprname;

-- binary_quantize: bits of the elements > 0, for vector and halfvec
SELECT binary_quantize('[1,-1,0.5,0,-0.5,2,3,-4,5]'::vector) AS v,
       binary_quantize('[1,-1,0.5,0,-0.5,2,3,-4,5]'::halfvec) AS h;
SELECT binary_quantize('[1,2,3]'::halfvec) <~> binary_quantize('[-1,2,-3]'::vector) AS mixed;

-- errors: different lengths
SELECT B'101' <~> B'10';
SELECT B'101' <%> B'1010';
SELECT hamming_distance(B'1', B'');
SELECT jaccard_distance(B'1', B'11');
