#!/usr/bin/env bash
# Resolution check (no install): michigan's dependency ranges resolve together with scvi-tools and
# pertpy, from PyPI, for every supported Python minor version (README, "Install"). The compiled
# dependencies must come as wheels, so that an install needs no compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_VERSIONS="${MICHIGAN_CHECK_PYTHONS:-3.11 3.12 3.13}"
BESIDE="scvi-tools pertpy"
WHEELS_ONLY="jaxlib numba llvmlite numpy scipy h5py scikit-learn pandas"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '%s\n' "-e $PWD" $BESIDE > "$scratch/requirements.in"
wheel_options=()
for package in $WHEELS_ONLY; do
    wheel_options+=(--only-binary "$package")
done

for python in $PYTHON_VERSIONS; do
    if ! uv pip compile --quiet --python-version "$python" \
        --python-platform x86_64-manylinux_2_28 "${wheel_options[@]}" \
        --output-file "$scratch/resolved-$python.txt" "$scratch/requirements.in"; then
        echo "michigan does not resolve beside $BESIDE on Python $python (see above)" >&2
        exit 1
    fi
    printf 'Python %s: michigan resolves beside %s (%s)\n' "$python" "$BESIDE" \
        "$(grep -E '^(jax|scvi-tools|pertpy)==' "$scratch/resolved-$python.txt" | paste -sd ' ')"
done
