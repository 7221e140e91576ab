#!/bin/sh
# update.sh MODELC - regenerate tests/onnx/<suite>.pass and docs/conformance.md
# from one run of the ONNX backend tests.  Run from the repository root after
# building, e.g. tests/onnx/update.sh build/modelc
exec "$(dirname "$0")/conformance.sh" "${1:?usage: update.sh MODELC}" --update
