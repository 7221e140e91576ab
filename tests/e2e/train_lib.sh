# train_lib.sh - what the training end-to-end scripts share (sourced; POSIX sh).
# Run from the repository root; $modelc is modelc, $cc the C compiler, fail() reports.
#
#   train_build MODEL OUT SPEC WHAT  compiles MODEL with --train --loss softmax_cross_entropy
#                                    --optimizer SPEC at batch 4 into OUT (name m, with the
#                                    harness) and builds OUT/m_main with $cc -std=c99 -O2 -Wall
#                                    -Wextra -Werror; on failure calls fail "WHAT: ..." with the
#                                    first line that says why and returns 1

train_build() {
  if ! "$modelc" compile "$1" -o "$2" --dim batch=4 --name m --emit-main --train --loss softmax_cross_entropy \
      --optimizer "$3" > "$2.log" 2>&1; then
    fail "$4: compile: $(tail -1 "$2.log")"
    return 1
  fi
  if ! $cc -std=c99 -O2 -Wall -Wextra -Werror "$2"/*.c -lm -o "$2/m_main" > "$2.log" 2>&1; then
    fail "$4: $cc: $(head -1 "$2.log")"
    return 1
  fi
}
