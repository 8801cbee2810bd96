// Summarize ab.mjs output lines (stdin): median of all pair ratios per label.
import { readFileSync } from 'node:fs';
const med = (a) => {
  a = [...a].sort((x, y) => x - y);
  return a[a.length >> 1];
};
const by = {};
for (const line of readFileSync(0, 'utf8').split('\n')) {
  if (!line.startsWith('{')) continue;
  const l = JSON.parse(line);
  (by[(l.label ?? '') + l.workload] ??= []).push(l);
}
for (const [k, ls] of Object.entries(by)) {
  console.log(
    k.padEnd(34),
    'totals',
    med(ls.map((l) => l.total)).toFixed(3),
    `(${ls.map((l) => l.total.toFixed(3)).join(' ')})`,
    ' pair-median',
    med(ls.flatMap((l) => l.ratios)).toFixed(3),
  );
}
