# models_lib.sh - what the end-to-end scripts that build every model's C share
# (sourced; POSIX sh).  Run from the repository root; $modelc is modelc.
#
#   e2e_models NET...        "NAME DIR OPTIONS" lines: the named nets of
#                            bench/models/ (in the order given), then every
#                            bundled model of tests/e2e/models.list
#   e2e_inputs DIR OPTS OUT  the model's test inputs as OUT/in_<i>.npy (from
#                            DIR/test_data_set_0/input_<i>.pb, or DIR/input_<i>.npy),
#                            leaving out those OPTS make constants (--const);
#                            writes OUT/harness_args (the files, in input order)
#                            and OUT/run_args (--input NAME=FILE for modelc run)

e2e_models() {
  for net in "$@"; do echo "$net bench/models/$net"; done
  grep -v '^#' tests/e2e/models.list | while read -r m opts; do
    [ -z "$m" ] || echo "$m models/$m $opts"
  done
}

e2e_inputs() {
  dir=$1 opts=$2 out=$3
  # shellcheck disable=SC2086
  "$modelc" info "$dir/model.onnx" $opts | awk '$1 == "input" { print $2 }' > "$out/input_names" || return 1
  : > "$out/harness_args"
  : > "$out/run_args"
  i=0 k=0
  while :; do
    if [ -f "$dir/test_data_set_0/input_$i.pb" ]; then
      src=$dir/test_data_set_0/input_$i.pb
      case " $opts " in *"=$src "*) i=$((i + 1)); continue ;; esac   # a --const input
      "$modelc" convert "$src" "$out/in_$k.npy" > /dev/null || return 1
    elif [ -f "$dir/input_$i.npy" ]; then
      cp "$dir/input_$i.npy" "$out/in_$k.npy"
    else
      break
    fi
    k=$((k + 1))
    name=$(sed -n "${k}p" "$out/input_names")
    printf ' %s' "$out/in_$((k - 1)).npy" >> "$out/harness_args"
    printf ' --input %s=%s' "$name" "$out/in_$((k - 1)).npy" >> "$out/run_args"
    i=$((i + 1))
  done
  [ "$k" -gt 0 ] && [ "$k" -eq "$(wc -l < "$out/input_names")" ]
}

# e2e_close REF_DIR GOT_DIR [RTOL ATOL]: every .npy of REF_DIR matches GOT_DIR's
# within |got - ref| <= atol + rtol |ref| (defaults 1e-3, 1e-4, as the other
# end-to-end tests); prints the worst difference.
e2e_close() {
  /usr/bin/python3 - "$1" "$2" "${3:-1e-3}" "${4:-1e-4}" << 'EOF'
import glob, os, sys
import numpy as np
ref_dir, got_dir, rtol, atol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
files = sorted(glob.glob(os.path.join(ref_dir, "*.npy")))
worst = 0.0
for f in files:
    r = np.load(f)
    g = np.load(os.path.join(got_dir, os.path.basename(f)))
    if r.shape != g.shape:
        sys.exit("%s: shape %s, want %s" % (os.path.basename(f), g.shape, r.shape))
    r64, g64 = r.astype(np.float64), g.astype(np.float64)
    d = np.abs(g64 - r64)
    if not np.all((d <= atol + rtol * np.abs(r64)) | (np.isnan(r64) & np.isnan(g64))):
        i = int(np.argmax(d - rtol * np.abs(r64)))
        sys.exit("%s: element %d is %r, want %r" % (os.path.basename(f), i, g64.flat[i], r64.flat[i]))
    worst = max(worst, float(np.nanmax(d)) if d.size else 0.0)
if not files:
    sys.exit("no outputs in " + ref_dir)
print("max |diff| %.3g over %d output(s)" % (worst, len(files)))
EOF
}
