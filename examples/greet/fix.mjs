// The fix, as a patch module: `livepatch load examples/greet/fix.mjs`
import { definePatch } from 'livepatch';

export default definePatch({
  name: 'fix_greeting',
  objects: [
    {
      name: 'examples/greet/greet.mjs',
      funcs: [{ oldName: 'greet', newFunc: (name) => `Hello, ${name}!` }],
    },
  ],
});
