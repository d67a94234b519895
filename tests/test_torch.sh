#!/bin/sh
# Runs torch_check.py where a Python with PyTorch exists; exit 77 (skipped) elsewhere.
exe="$1"
for py in /usr/bin/python3 python3; do
    if "$py" -c 'import torch' 2>/dev/null; then
        exec "$py" "$(dirname "$0")/torch_check.py" "$exe" "${BP_TORCH_CASES:-300}"
    fi
done
echo "skipped: no python3 with torch (Debian: apt-get install python3-torch)"
exit 77
