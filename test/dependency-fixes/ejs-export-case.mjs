// ejs's fix adds an export to lib/utils.js (see packages.test.ts): present
// while the patch is on, gone when it is disabled.
export default {
  package: 'ejs',
  load: 'require',
  async probe(ejs, state, ctx) {
    const utils = await ctx.load('ejs/lib/utils.js');
    let out;
    try {
      out = ejs.render('<%= x %>', { x: 1 }, { outputFunctionName: 'x; globalThis.lpPwned = 1; var y' });
    } catch (e) {
      out = e.message;
    }
    const pwned = globalThis.lpPwned === 1;
    delete globalThis.lpPwned;
    return { export: typeof utils.createNullProtoObjWherePossible, out, pwned };
  },
};
