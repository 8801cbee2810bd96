// The patch bench/runtime/patch-under-load.ts loads: a new lookup() for the API server.
import { definePatch } from 'livepatch';
export default definePatch({
  name: 'fix_lookup',
  objects: [
    {
      name: 'bench/loader/workloads/http-app.mjs',
      funcs: [
        {
          oldName: 'lookup',
          async newFunc(id) {
            await null;
            return { id: Number(id), name: `user${id}`, email: `u${id}@example.com`, tags: ['patched'] };
          },
        },
      ],
    },
  ],
});
