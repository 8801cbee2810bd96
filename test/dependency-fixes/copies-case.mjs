// Several copies of qs in one application (see packages.test.ts): the
// application's own (6.10.2), a nested one of a dependency (6.10.1), and a
// nested one loaded only after the patch (6.10.2, asked for with the
// argument 'late'). The probe asks each copy whether `__proto__` still sets
// a prototype.
export default {
  package: 'qs',
  load: 'require',
  async probe(qs, state, ctx) {
    const ask = (q) =>
      Array.isArray(
        Object.getPrototypeOf(q.parse('c[__proto__]=login&c[__proto__]&c[length]=42', { allowPrototypes: true }).c),
      );
    const out = { top: ask(qs), nested: ask(await ctx.load('qs', 'node_modules/lib-a')) };
    if (ctx.arg === 'late') out.late = ask(await ctx.load('qs', 'node_modules/lib-c'));
    return out;
  },
};
