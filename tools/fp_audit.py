"""Static floating-point audit: disassembles a binary and lists every function defined in the
project's own crates that contains a floating-point arithmetic or conversion instruction.

The product's promise is that tensor data is only ever computed on with integer instructions;
this check makes the promise fail the build. Moves of raw bits through SSE registers
(movd, movq, movdqa, pxor, ...) are integer data movement and are allowed; the SSE/AVX/x87
arithmetic, compare and int<->float conversion instructions below are not.
Usage: python3 tools/fp_audit.py BINARY [CRATE,CRATE,...]
(default crates: every crate of the project that computes on tensor data).
"""
import re
import subprocess
import sys

OWN_CRATES = ("gse", "gse_math", "gse_kernels", "gse_gemm", "burn_gsq", "gsq_lora", "gsq_models")
FP_OPS = re.compile(
    r"\b(v?(add|sub|mul|div|sqrt|min|max|rcp|rsqrt|round|hadd|hsub|addsub|dp)(ss|sd|ps|pd)"
    r"|v?f(n?)m(add|sub)\w*"
    r"|v?u?comis[sd]|v?cmp\w*(ss|sd|ps|pd)"
    r"|v?cvt\w*(ss|sd|ps|pd|si2s[sd])\w*"
    r"|f(add|sub|mul|div|sqrt|ld|st|ild|istp?)\w*)\b"
)

def own(name: str, crates) -> bool:
    # Strip the leading `<` of trait impls and generic arguments after the path.
    path = name.lstrip("<").split("<")[0]
    return path.split("::")[0] in crates

def main(binary: str, crates=OWN_CRATES) -> int:
    dump = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-C", binary],
        check=True, capture_output=True, text=True,
    ).stdout
    offenders = {}
    current, audited = None, 0
    for line in dump.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if head:
            current = head.group(1) if own(head.group(1), crates) else None
            audited += current is not None
            continue
        if current is None:
            continue
        parts = line.split("\t")
        if len(parts) >= 2:
            mnemonic = parts[1].split()[0] if parts[1].split() else ""
            if FP_OPS.fullmatch(mnemonic):
                offenders.setdefault(current, set()).add(mnemonic)
    print(f"fp-audit: {audited} functions of {', '.join(crates)} in {binary}")
    for name, ops in sorted(offenders.items()):
        print(f"  FLOAT: {name}: {' '.join(sorted(ops))}")
    if offenders:
        print(f"fp-audit: FAILED: {len(offenders)} functions use floating-point instructions")
        return 1
    if audited == 0:
        print("fp-audit: FAILED: no function of the project's crates found (wrong binary?)")
        return 1
    print("fp-audit: ok, no floating-point instruction")
    return 0

if __name__ == "__main__":
    crates = tuple(sys.argv[2].split(",")) if len(sys.argv) > 2 else OWN_CRATES
    sys.exit(main(sys.argv[1], crates))
