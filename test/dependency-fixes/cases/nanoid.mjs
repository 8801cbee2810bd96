// nanoid 3.1.30 -> 3.1.31: CVE-2021-23566 (GHSA-qrpm-p2h7-hrv2). A size that
// is not a number was read several times (`valueOf`), so a crafted size
// could make nanoid return bytes of its pool that earlier ids used. An ES
// module (index.js, the `import` condition) and its CommonJS twin
// (index.cjs, `require`): both are in the patch; the process loads one.
export default {
  package: 'nanoid', old: '3.1.30', new: '3.1.31',
  advisory: 'CVE-2021-23566, GHSA-qrpm-p2h7-hrv2 (information exposure through a crafted size)',
  load: 'import',
  expect: { patched: ['nanoid/index.js random', 'nanoid/index.js nanoid', 'nanoid/index.cjs random', 'nanoid/index.cjs nanoid'] },
  setup(m, state) {
    state.first = m.nanoid();
  },
  probe(m, state) {
    let reads = 0;
    const size = { valueOf() { reads++; return 8; } };
    const id = m.nanoid(size);
    return { reads, length: id.length, plain: m.nanoid(10).length, first: state.first.length };
  },
};
