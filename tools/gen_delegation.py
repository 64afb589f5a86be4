"""Generates burn-gsq's int/bool ops: each method delegates to burn-flex's implementation.

Int and bool tensors are burn-flex's wrapped with their `GsqDevice` (`GsqIntTensor`,
`GsqBoolTensor`): arguments are unwrapped and results tagged with the device (see below).
Methods whose signature mentions a float tensor are printed as "hand-written" and written by
hand (they cross into GSE).
Usage: python3 tools/gen_delegation.py <burn-backend src dir> <trait file> <trait> <out>
"""
import re, sys

src_dir, trait_file, trait, out = sys.argv[1:5]
src = open(f"{src_dir}/backend/ops/{trait_file}").read()
src = re.sub(r'^\s*//.*\n', '', src, flags=re.M)
body = src[src.index(f"pub trait {trait}"):]
methods = []
for m in re.finditer(r'\n    (async )?fn (\w+)(<[^>]*>)?\((.*?)\)\s*(->\s*(.*?))?\s*(where[^{;]*)?(;|\{)', body, flags=re.S):
    is_async, name, generics, args, _, ret, where, end = m.groups()
    args = re.sub(r'\s+', ' ', args).strip().rstrip(',')
    ret = re.sub(r'\s+', ' ', ret or '()').strip()
    methods.append((is_async, name, generics or '', args, ret, where or ''))

def split_args(args):
    parts, depth, cur = [], 0, ''
    for ch in args:
        if ch in '<([': depth += 1
        if ch in '>)]': depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur.strip()); cur = ''
        else:
            cur += ch
    if cur.strip(): parts.append(cur.strip())
    return parts

def wrapped(ret, expr, dev):
    """`expr` (burn-flex's result) tagged with `dev`, for int/bool tensors and tuples of them."""
    kinds = {'IntTensor<Gsq>': 'GsqIntTensor', 'BoolTensor<Gsq>': 'GsqBoolTensor'}
    if ret in kinds:
        return f"crate::{kinds[ret]}::new({expr}, {dev})"
    m = re.match(r'\((.*)\)$', ret)
    if m and all(t in kinds for t in split_args(m.group(1))):
        tys = split_args(m.group(1))
        names = [f"r{i}" for i in range(len(tys))]
        inner = ', '.join(wrapped(t, n, dev) for t, n in zip(tys, names))
        return f"{{\n            let ({', '.join(names)}) = {expr};\n            ({inner})\n        }}"
    return None

# Int and bool tensors are burn-flex's wrapped with their device (GsqIntTensor, GsqBoolTensor):
# tensor arguments are unwrapped (`.flex`), and results are tagged with the device asked for
# or, failing that, the device of the first tensor argument.
lines = []
skipped = []
for is_async, name, generics, args, ret, where in methods:
    sig_all = args + ret
    if 'FloatTensor' in sig_all or 'QuantizedTensor' in sig_all or generics or where:
        skipped.append(name); continue
    parts = split_args(args)
    types = {}
    for p in parts:
        pname, ptype = p.split(':', 1)
        types[pname.strip().lstrip('_')] = ptype.strip().replace('<B>', '<Gsq>')
    call, lets = [], ''
    dev = next((f'*{n}' for n, t in types.items() if t == '&Device<Gsq>'), None)
    for pname, ptype in types.items():
        if ptype == '&Device<Gsq>':
            call.append('&FlexDevice')
        elif ptype in ('IntTensor<Gsq>', 'BoolTensor<Gsq>'):
            call.append(f'{pname}.flex')
            if dev is None:
                lets, dev = f"        let device = {pname}.device;\n", 'device'
        elif ptype in ('Vec<IntTensor<Gsq>>', 'Vec<BoolTensor<Gsq>>'):
            call.append(f'{pname}.into_iter().map(|t| t.flex).collect()')
            if dev is None:
                lets = f"        let device = {pname}.first().map(|t| t.device).unwrap_or_default();\n"
                dev = 'device'
        else:
            call.append(pname)
    params = ', '.join(f"{n}: {t}" for n, t in types.items())
    r = ret.replace('<B>', '<Gsq>')
    if r == 'Device<Gsq>':
        lines.append(f"    fn {name}({params}) -> {r} {{\n        tensor.device\n    }}\n")
        continue
    flex = f"<Flex as {trait}<Flex>>::{name}({', '.join(call)})"
    if is_async:
        lines.append(f"    async fn {name}({params}) -> Result<TensorData, ExecutionError> {{\n        {flex}.await\n    }}\n")
        continue
    fut = re.match(r'impl Future<Output = (.*)> \+ .*$', r)
    if fut and wrapped(fut.group(1), '', '') is not None:
        body = f"let result = {flex};\n        async move {{ {wrapped(fut.group(1), 'result.await', 'device')} }}"
        lines.append(f"    fn {name}({params}) -> {r} {{\n{lets}        {body}\n    }}\n")
        continue
    w = wrapped(r, flex, dev) if dev else None
    if w is None:
        lines.append(f"    fn {name}({params}) -> {r} {{\n        {flex}\n    }}\n")
    else:
        lines.append(f"    fn {name}({params}) -> {r} {{\n{lets}        {w}\n    }}\n")
open(out, 'w').write('\n'.join(lines))
print("hand-written:", ' '.join(skipped))
