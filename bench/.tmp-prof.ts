import { join } from 'node:path';
import { PROJECT_ROOT, Validator } from '../src/validation';
import { generateWorkload } from './workload';
const v = Validator.create();
const kind = process.argv[2] ?? 'Encounter';
const w = generateWorkload(20261101, 60, join(PROJECT_ROOT, 'profiles', 'package')).filter((i) => i.kind === kind);
let t = performance.now(); let n = 0;
while (performance.now() - t < 4000) { for (const it of w) { v.validate(it.resource); n++; } }
console.log(kind, ((performance.now() - t) * 1000) / n, 'us');
