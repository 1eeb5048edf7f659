# learnware spec: the happy paths through the real binary.
. "$(dirname "$0")/lib.sh"

gmm="$FIXTURES/gmm_n1000_d10.csv"
ref="$FIXTURES/gmm_n1000_d10.reference_rkme.json"

expect 0 "reduced points" -- "$LW" spec table "$gmm" -o "$WORK/gmm.json"
expect 0 "points (K)     100" -- "$LW" spec show "$WORK/gmm.json"
expect 0 '"n":1000,"k":100,"d":10' -- "$LW" spec show --json "$WORK/gmm.json"

# The reference's own file loads, and its distance to itself is zero.
expect 0 "rows (n)       1000" -- "$LW" spec show "$ref"
near "$("$LW" spec dist "$ref" "$ref")" 0 1e-12

# Distances agree with the reference engine's to 1e-6.
lw0="$FIXTURES/search30/learnwares/00000000.rkme.json"
near "$("$LW" spec dist "$lw0" "$FIXTURES/search30/user_rkme.json")" 0.09319789117685598 1e-6

# Our fit of the data is closer to the reference's fit than the user blobs are.
near "$("$LW" spec dist "$WORK/gmm.json" "$ref")" 0 5e-3

# Herding writes the requested rows, which read back as data.
expect 0 "" -- "$LW" spec herd "$WORK/gmm.json" -n 50 -o "$WORK/herd.csv" --seed 3
checks=$((checks + 1))
[ "$(wc -l <"$WORK/herd.csv")" -eq 51 ] || fail "herd.csv should hold a header and 50 rows"
expect 0 "" -- "$LW" spec table "$WORK/herd.csv" -o "$WORK/herd.json" -q

# Options: column selection by name and range, other delimiters, raw input.
printf 'a;b;c\n1;2;x\n3;4;y\n5;6;z\n7;8;w\n' >"$WORK/semi.csv"
expect 0 "4 rows x 2 columns" -- "$LW" spec table "$WORK/semi.csv" --drop c -o "$WORK/s.json"
expect 0 "4 rows x 2 columns" -- "$LW" spec table "$WORK/semi.csv" -c 1-2 -o "$WORK/s.json"
printf '1\t2\n3\t4\n5\t6\n' >"$WORK/tab.csv"
expect 0 "3 rows x 2 columns" -- "$LW" spec table "$WORK/tab.csv" -o "$WORK/t.json" --k 2
perl -e 'print "LWMAT\0\1\0", pack("Q<Q<", 3, 2), pack("d<*", 1, 2, 3, 4, 5, 6)' >"$WORK/m.lwmat"
expect 0 "3 rows x 2 columns" -- "$LW" spec table "$WORK/m.lwmat" -o "$WORK/m.json"
expect 0 "" -- "$LW" spec table "$gmm" -k 20 --steps 1 --gamma 0.05 -o "$WORK/k20.json" -q
expect 0 "points (K)     20" -- "$LW" spec show "$WORK/k20.json"

# Every verb answers --help with exit 0.
for v in "spec" "spec table" "spec dist" "spec show" "spec herd"; do
  expect 0 "usage: learnware $v" -- "$LW" $v --help
done
expect 0 "usage: learnware <verb>" -- "$LW" help
finish
