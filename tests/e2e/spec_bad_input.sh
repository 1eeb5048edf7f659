# learnware spec: every kind of bad input gets one clear message, a
# meaningful exit code (2 usage, 3 bad input, 4 not found) and no crash.
. "$(dirname "$0")/lib.sh"

ok="$FIXTURES/gmm_n1000_d10.csv"
"$LW" spec table "$ok" -o "$WORK/ok.json" -q

# Files that do not exist.
expect 4 "$WORK/nope.csv" -- "$LW" spec table "$WORK/nope.csv" -o "$WORK/x.json"
expect 4 "$WORK/nope.json" -- "$LW" spec show "$WORK/nope.json"

# Malformed tables.
printf 'a,b\n1,2\n3\n5,6\n' >"$WORK/ragged.csv"
expect 3 "row 3" -- "$LW" spec table "$WORK/ragged.csv" -o "$WORK/x.json"
printf 'a,b\n1,2\n3,oops\n' >"$WORK/text.csv"
expect 3 "'oops' is not a number" -- "$LW" spec table "$WORK/text.csv" -o "$WORK/x.json"
: >"$WORK/empty.csv"
expect 3 "empty.csv" -- "$LW" spec table "$WORK/empty.csv" -o "$WORK/x.json"
printf 'a,b\n' >"$WORK/header_only.csv"
expect 3 "header_only.csv" -- "$LW" spec table "$WORK/header_only.csv" -o "$WORK/x.json"
printf 'a,b\n1,2\n' >"$WORK/one_row.csv"
expect 3 "at least 2" -- "$LW" spec table "$WORK/one_row.csv" -o "$WORK/x.json"
printf 'a,b\n1,NaN\n2,NA\n3,\n' >"$WORK/nan_col.csv"
expect 3 "column 2" -- "$LW" spec table "$WORK/nan_col.csv" -o "$WORK/x.json"
printf 'a,"b\n1,2\n' >"$WORK/quote.csv"
expect 3 "quote.csv" -- "$LW" spec table "$WORK/quote.csv" -o "$WORK/x.json"
expect 4 "nosuch" -- "$LW" spec table "$ok" --columns nosuch -o "$WORK/x.json"
perl -e 'print "LWMAT\0\1\0", pack("Q<Q<", 1 << 40, 1 << 20)' >"$WORK/huge.lwmat"
expect 3 "huge.lwmat" -- "$LW" spec table "$WORK/huge.lwmat" -o "$WORK/x.json"

# Malformed specifications.
printf '{"z":[[NaN]],"beta":[1],"gamma":0.1,"type":"RKMETableSpecification"}' >"$WORK/nan.json"
expect 3 "NaN or Infinity" -- "$LW" spec show "$WORK/nan.json"
printf '{"z":[[1]],"beta":[1],"gamma":0.1,"type":"RKMEImageSpecification"}' >"$WORK/image.json"
# An image specification is read as one now: a malformed one names what is wrong.
expect 3 "image specifications are 32 x 32" -- "$LW" spec show "$WORK/image.json"
printf '[1,2,3]' >"$WORK/array.json"
expect 3 "JSON object" -- "$LW" spec show "$WORK/array.json"
printf '{"z":[[1,2]],"beta":[1],"gamma":0.1,"type":"RKMETableSpecification"}' >"$WORK/d2.json"
expect 3 "different dimensions" -- "$LW" spec dist "$WORK/ok.json" "$WORK/d2.json"
printf '{"z":[[1' >"$WORK/cut.json"
expect 3 "cut.json: line 1" -- "$LW" spec show "$WORK/cut.json"

# Bad command lines.
expect 2 "unknown verb" -- "$LW" frobnicate
expect 2 "missing -o" -- "$LW" spec table "$ok"
expect 2 "--gamma expects a number" -- "$LW" spec table "$ok" -o "$WORK/x.json" --gamma abc
expect 3 "gamma must be a positive number" -- "$LW" spec table "$ok" -o "$WORK/x.json" --gamma -1
expect 2 "--header must be" -- "$LW" spec table "$ok" -o "$WORK/x.json" --header maybe
expect 2 "missing -n" -- "$LW" spec herd "$WORK/ok.json" -o "$WORK/h.csv"
expect 2 "expected 2 specification files" -- "$LW" spec dist "$WORK/ok.json"

# A failed run leaves no partial output behind.
checks=$((checks + 1))
[ ! -e "$WORK/x.json" ] || fail "a failed run wrote x.json"
finish
