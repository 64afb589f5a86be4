"""Generates burn-gsq's int/bool ops: each method delegates to burn-flex's implementation.

Methods whose signature mentions a float tensor or a device are listed in HAND_WRITTEN and
written by hand in the generated file's sibling module (they cross into GSE).
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

lines = []
skipped = []
for is_async, name, generics, args, ret, where in methods:
    sig_all = args + ret
    if 'FloatTensor' in sig_all or 'QuantizedTensor' in sig_all or generics or where:
        skipped.append(name); continue
    parts = split_args(args)
    call = []
    for p in parts:
        pname, ptype = p.split(':', 1)
        pname = pname.strip().lstrip('_') if pname.strip() != '_' else pname
        if 'Device<B>' in ptype:
            call.append('&FlexDevice')
        else:
            call.append(pname.replace('mut ', ''))
    if name.endswith('_device') and 'Device<B>' in ret and '&' in args and 'device' not in args.split(':')[0]:
        pass
    params = ', '.join(p.replace('Device<B>', 'Device<Gsq>').replace('<B>', '<Gsq>').lstrip('_') if not p.startswith('_:') else p for p in parts)
    params = re.sub(r'(^|, )_(\w)', r'\1\2', params)
    r = ret.replace('<B>', '<Gsq>')
    params = params.replace('device: &Device<Gsq>', '_device: &Device<Gsq>')
    if r == 'Device<Gsq>':
        lines.append(f"    fn {name}({params.replace('tensor:', '_tensor:')}) -> {r} {{\n        GsqDevice::default()\n    }}\n")
        continue
    if is_async:
        r2 = r.replace('impl Future<Output = ', '').rstrip('> + Send').strip()
        # keep exact return form of the trait
        lines.append(f"    async fn {name}({params}) -> Result<TensorData, ExecutionError> {{\n        <Flex as {trait}<Flex>>::{name}({', '.join(call)}).await\n    }}\n")
    else:
        lines.append(f"    fn {name}({params}) -> {r} {{\n        <Flex as {trait}<Flex>>::{name}({', '.join(call)})\n    }}\n")
open(out, 'w').write('\n'.join(lines))
print("hand-written:", ' '.join(skipped))
