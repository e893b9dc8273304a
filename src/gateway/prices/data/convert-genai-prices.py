"""Converts genai-prices' data/prices.json (openai and anthropic only) into src/gateway/prices/data/llm-prices.json.

Usage: python3 src/gateway/prices/data/convert-genai-prices.py PATH/TO/genai-prices-0.2.1/data/prices.json src/gateway/prices/data/llm-prices.json
Prices stay decimal text (parsed with Decimal, never float); the fixes applied are printed.
"""
import json, decimal, sys
D=decimal.Decimal
d=json.load(open(sys.argv[1]), parse_float=D, parse_int=D)
FIELDS={'input_mtok':'input','output_mtok':'output','cache_read_mtok':'cache_read',
        'cache_write_mtok':'cache_write_5m','cache_write_1h_mtok':'cache_write_1h'}
def s(x): return format(D(x).normalize(),'f')
def matches(m, out):
    for k,v in m.items():
        if k=='or': [matches(x,out) for x in v]
        elif k=='equals': out['ids'].append(v)
        elif k=='starts_with': out['prefixes'].append(v)
        else: out['skipped'].append(k)
fixes=[]
def convert(pid, mid, pr):
    base={}; tiers={}
    for k,v in pr.items():
        if k not in FIELDS: continue
        f=FIELDS[k]
        if isinstance(v,dict):
            base[f]=s(v['base'])
            for t in v['tiers']: tiers.setdefault(int(t['start']),{})[f]=s(t['price'])
        else: base[f]=s(v)
    if pid=='anthropic':
        def fill(ps, where):
            if not any(f in ps for f in ('cache_read','cache_write_5m','cache_write_1h')): return
            i=D(ps['input'])
            for f,mult in (('cache_read','0.1'),('cache_write_5m','1.25'),('cache_write_1h','2')):
                if f not in ps: ps[f]=s(i*D(mult)); fixes.append(f'{mid}{where}: {f} added as {mult}x input')
        fill(base,'')
        if mid=='claude-sonnet-4-0' and not tiers:
            tiers[200000]={'input':'6','output':'22.5'}
            fixes.append(f'{mid}: long-context tier above 200000 added (input $6, output $22.50)')
        for t,ps in tiers.items():
            full=dict(base); full.update(ps)
            if 'input' in ps:
                i=D(ps['input'])
                for f,mult in (('cache_read','0.1'),('cache_write_5m','1.25'),('cache_write_1h','2')):
                    if f not in ps: full[f]=s(i*D(mult)); fixes.append(f'{mid} tier {t}: {f} set to {mult}x tier input')
            tiers[t]=full
    else:
        tiers={t:{**base,**ps} for t,ps in tiers.items()}
    out={'prices':base}
    if tiers: out['tiers']=[{'above':t,'prices':tiers[t]} for t in sorted(tiers)]
    return out
models=[]; skipped=[]
for p in d:
    if p['id'] not in ('openai','anthropic'): continue
    for m in p['models']:
        mt={'ids':[],'prefixes':[],'skipped':[]}
        matches(m['match'],mt)
        if mt['skipped']: skipped.append((m['id'],mt['skipped']))
        pl=m['prices'] if isinstance(m['prices'],list) else [{'prices':m['prices']}]
        hist=[]
        for e in pl:
            c=convert(p['id'],m['id'],e['prices'])
            if 'input' not in c['prices']: continue
            c={'from':e.get('constraint',{}).get('start_date'),**c}
            hist.append(c)
        if p['id']=='openai' and m['id']=='o3' and hist[0]['from'] is None and hist[0]['prices'].get('cache_read')=='0.5':
            hist[0]['prices']['cache_read']='2.5'; fixes.append('o3 before 2025-06-10: cache_read 0.5 -> 2.5 (launch price)')
        if not hist: skipped.append((m['id'],'no token prices')); continue
        ids=[x for x in dict.fromkeys([m['id']]+mt['ids'])]
        e={'provider':p['id'],'model':m['id'],'ids':ids}
        if mt['prefixes']: e['prefixes']=mt['prefixes']
        e['history']=hist
        models.append(e)
doc={'source':'genai-prices 0.2.1 (crates.io, data/prices.json), MIT licence, Copyright (c) Pydantic; openai and anthropic only, normalised by AuditPulse',
     'unit':'USD per million tokens, exact decimal text','models':models}
with open(sys.argv[2],'w') as f:
    f.write('{"source": %s,\n "unit": %s,\n "models": [\n' % (json.dumps(doc['source']), json.dumps(doc['unit'])))
    f.write(',\n'.join('  '+json.dumps(m,separators=(',',':')) for m in models))
    f.write('\n]}\n')
print(len(models)); print('\n'.join(fixes)); print(skipped)
