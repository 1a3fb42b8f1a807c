"""Runs the validator on examples/invalid and compares with expected.json (OK / EXTRA issues / FAIL). -v prints every issue."""
import json, subprocess, sys, os
os.chdir(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
exp = json.load(open('examples/invalid/expected.json'))
files = ['examples/invalid/' + e['file'] for e in exp]
out = subprocess.run(['node', 'bin/peerbridge.js', 'validate', '--format', 'json', *files], capture_output=True, text=True)
results = {os.path.basename(json.loads(l)['file']): json.loads(l) for l in out.stdout.splitlines() if l.strip()}
bad = 0
for e in exp:
    r = results[e['file']]
    iss = [i for i in r['outcome']['issue'] if i['code'] != 'informational']
    errs = [i for i in iss if i['severity'] in ('error', 'fatal')]
    match = [i for i in errs if (i.get('expression') or [''])[0] == e['expression'] and e['message'] in i['details']['text']]
    others = [i for i in iss if i not in match]
    status = 'OK ' if (not r['valid'] and match and not others) else ('EXTRA' if match and not r['valid'] else 'FAIL')
    if status != 'OK ':
        bad += 1
    print(f"{status} {e['file']}  valid={r['valid']}")
    if status != 'OK ' or '-v' in sys.argv:
        for i in iss:
            print(f"      {i['severity']:8} {(i.get('expression') or [''])[0]} :: {i['details']['text']}")
print('problems:', bad)
