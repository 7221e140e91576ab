# expect_lib.sh - the check the CLI error scripts share (sourced; POSIX sh):
# that a modelc command fails the way the contract says, with one line.
# The script sets $modelc, $err (a scratch file), n=0 and fails=0 first.
#
# expect CODE PATTERN -- ARGS...: exit status CODE, one stderr line matching PATTERN
expect() {
  code=$1 pattern=$2
  shift 3
  n=$((n + 1))
  "$modelc" "$@" > /dev/null 2> "$err"
  got=$?
  lines=$(wc -l < "$err")
  if [ "$got" -ne "$code" ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$err"; then
    echo "FAIL: modelc $*: exit $got (want $code), $lines stderr lines, want /$pattern/:"
    cat "$err"
    fails=$((fails + 1))
  else
    echo "ok: modelc $* -> $(cat "$err")"
  fi
}
