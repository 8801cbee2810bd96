// R1–R4: the data model, enabling, initialisation and symbol resolution,
// func stacks and the redirect decision. Each test names its rule and fails
// if the rule is broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld, snapshot } from '../support/sim.ts';
import { basic, impl, patchOf, runs } from '../support/fixtures.ts';
import { dispatch, type Func, type PatchInfo, type Slot } from '../../src/core/index.ts';

test('R1.1: a null object is the process itself; a module object resolves only in its module', () => {
  const { w, lp, a } = basic();
  const mod = w.module('src/db.ts', true);
  const ma = mod.define('a');
  w.load(mod, { log: false });
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [{ oldName: 'a', newFunc: impl('p', 'vmlinux-a') }] },
      { name: 'src/db.ts', funcs: [{ oldName: 'a', newFunc: impl('p', 'db-a') }] },
    ],
  });
  assert.equal(runs(w, a), 'p:vmlinux-a');
  assert.equal(runs(w, ma), 'p:db-a');
  assert.deepEqual(
    lp.patch('p')!.objects.map((o) => [o.name, o.funcs[0]!.slot]),
    [
      [null, a.id],
      ['src/db.ts', ma.id],
    ],
  );
});

test('R1.2: (patched, transition) moves (0,0)→(0,1)→(1,1)→(1,0) when patching and back when unpatching', () => {
  const { w, lp, a } = basic();
  const seen: string[] = [];
  const pt = () => {
    const f = lp.patch('p')!.objects[0]!.funcs[0]!;
    return `${+f.patched}${+f.transition}`;
  };
  const sleeper = w.spawn('sleeper');
  sleeper.enter(a);
  lp.enablePatch(
    patchOf('p', ['a'], {
      callbacks: {
        prePatch: () => {
          seen.push(pt());
        },
        postPatch: () => {
          seen.push(pt());
        },
        preUnpatch: () => {
          seen.push(pt());
        },
        postUnpatch: () => {
          seen.push(pt());
        },
      },
    }),
  );
  seen.push(pt()); // in transition: sleeper holds the original a
  sleeper.leave();
  w.settle();
  seen.push(pt());
  sleeper.enter(a);
  lp.disable('p');
  seen.push(pt());
  sleeper.leave();
  w.settle();
  // pre_patch (0,1); during (1,1); post_patch sees transition already cleared
  // (1,0); done (1,0); pre_unpatch (1,1); during (1,1); post_unpatch (0,0).
  assert.deepEqual(seen, ['01', '11', '10', '10', '11', '11', '00']);
});

test('R1.3/R1.4: static objects and funcs first, then dynamic objects and nops, in the tree', () => {
  const { w, lp, a } = basic();
  const mod = w.module('m', true);
  mod.define('x');
  w.load(mod, { log: false });
  lp.enablePatch({
    name: 'old',
    objects: [
      { name: null, funcs: [{ oldName: 'b', newFunc: impl('old', 'b') }] },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: impl('old', 'x') }] },
    ],
  });
  const sleeper = w.spawn('s');
  sleeper.enter(a);
  lp.enablePatch(patchOf('new', ['a'], { replace: true }));
  assert.deepEqual(lp.sysfs.list('new'), ['enabled', 'transition', 'force', 'replace', 'stack_order', 'vmlinux', 'm']);
  assert.deepEqual(lp.sysfs.list('new/vmlinux'), ['patched', 'a,1', 'b,1']);
  assert.deepEqual(
    lp.patch('new')!.objects.map((o) => [o.name, o.dynamic, o.funcs.map((f) => f.nop)]),
    [
      [null, false, [false, true]],
      ['m', true, [true]],
    ],
  );
  sleeper.leave();
  w.settle();
  assert.deepEqual(lp.sysfs.list('new'), ['enabled', 'transition', 'force', 'replace', 'stack_order', 'vmlinux']);
  assert.deepEqual(lp.sysfs.list('new/vmlinux'), ['patched', 'a,1']);
});

test('R1.5: an object is loaded iff it is vmlinux or bound to a module', () => {
  const { w, lp } = basic();
  const mod = w.module('m', true);
  mod.define('x');
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: null, funcs: [] },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: impl('p', 'x') }] },
    ],
  });
  const loaded = () => lp.patch('p')!.objects.map((o) => o.loaded);
  assert.deepEqual(loaded(), [true, false]);
  w.load(mod, { log: false });
  assert.deepEqual(loaded(), [true, true]);
  w.unload(mod, { log: false });
  assert.deepEqual(loaded(), [true, false]);
});

test('R1.6: klp_patches lists active patches oldest first; disabled and replaced ones leave it', () => {
  const { lp } = basic();
  lp.enablePatch(patchOf('p1', ['a']));
  lp.enablePatch(patchOf('p2', ['b']));
  lp.enablePatch(patchOf('p3', ['c']));
  assert.deepEqual(
    lp.patches().map((p) => p.name),
    ['p1', 'p2', 'p3'],
  );
  lp.disable('p2');
  assert.deepEqual(
    lp.patches().map((p) => p.name),
    ['p1', 'p3'],
  );
  lp.enablePatch(patchOf('p4', ['d'], { replace: true }));
  assert.deepEqual(
    lp.patches().map((p) => p.name),
    ['p4'],
  );
});

test('R1.7: a patch is named by its name: sysfs directory and every message', () => {
  const { w, lp } = basic();
  lp.enablePatch(patchOf('fix-qs@6.10.3', ['a']));
  assert.deepEqual(lp.sysfs.list(''), ['fix-qs@6.10.3']);
  assert.ok(w.klpLines().every((l) => l.includes("'fix-qs@6.10.3'")));
});

test('R2.1: structural errors are silent EINVAL; the compatibility error alone is logged', () => {
  const { w, lp } = basic();
  lp.enablePatch({ name: 'base', states: [{ id: 1, version: 2 }], objects: [{ name: null, funcs: [] }] });
  w.lp.log.clear();
  const before = snapshot(w);
  assert.throws(() => lp.enablePatch({ name: 'x' } as never), { errno: -22, message: /'objects' must be an array/ });
  assert.throws(() => lp.enablePatch({ name: 'x', objects: [{ name: 'm' }] } as never), {
    errno: -22,
    message: /object 'm' has no 'funcs' array/,
  });
  assert.deepEqual(w.lines(), []);
  // States are checked before names and funcs (R2.1 step 7 before step 9).
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'x',
        states: [{ id: 1, version: 1 }],
        objects: [{ name: null, funcs: [{ oldName: '', newFunc: () => 0 }] }],
      }),
    { errno: -22, message: /not compatible/ },
  );
  assert.deepEqual(w.lines(), [
    'livepatch: Livepatch patch (x) is not compatible with the already installed livepatches.',
  ]);
  assert.deepEqual(snapshot(w), before);
});

test('R2.2: no re-enable — a disabled patch is gone; only a fresh enable brings it back', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p', ['a']));
  lp.disable('p');
  assert.throws(() => lp.sysfs.write('p/enabled', '1'), { code: 'ENOENT' });
  assert.equal(runs(w, a), 'original a');
  lp.enablePatch(patchOf('p', ['a']));
  assert.equal(runs(w, a), 'p:a');
});

test('R3.1: the patch directory exists from init; a replace patch gets its nops before its objects init', () => {
  const { w, lp } = basic();
  lp.enablePatch(patchOf('old', ['a']));
  let during: string[] = [];
  lp.enablePatch({
    name: 'new',
    replace: true,
    objects: [
      {
        name: null,
        funcs: [{ oldName: 'b', newFunc: impl('new', 'b') }],
        callbacks: {
          prePatch: () => {
            during = lp.sysfs.list('new/vmlinux');
          },
        },
      },
    ],
  });
  assert.deepEqual(during, ['patched', 'b,1', 'a,1']);
  assert.equal(w.lp.patch('new')!.stackOrder, 1);
});

test('R3.2: an object binds only to a module that is present and alive', () => {
  const { w, lp } = basic();
  const mod = w.module('m', true);
  const x = mod.define('x');
  // Mid-load (before its coming hook ran): not bound at enable, bound by the hook.
  mod.state = 'coming';
  lp.enablePatch({ name: 'p', objects: [{ name: 'm', funcs: [{ oldName: 'x', newFunc: impl('p', 'x') }] }] });
  assert.equal(lp.sysfs.read('p/m/patched'), '0\n');
  w.load(mod, { log: false });
  assert.equal(lp.sysfs.read('p/m/patched'), '1\n');
  assert.equal(runs(w, x), 'p:x');
  // Past its going hook: not bound by a new patch.
  mod.state = 'going';
  lp.moduleGoing(mod);
  lp.enablePatch({ name: 'q', objects: [{ name: 'm', funcs: [{ oldName: 'x', newFunc: impl('q', 'x') }] }] });
  assert.equal(lp.sysfs.read('q/m/patched'), '0\n');
});

test('R3.3: func directories are <old_name>,<sympos or 1>; oldName and newFunc are required', () => {
  const { w, lp } = basic();
  w.vmlinux.define('dup');
  w.vmlinux.define('dup');
  lp.enablePatch({
    name: 'p',
    objects: [
      {
        name: null,
        funcs: [
          { oldName: 'a', newFunc: impl('p', 'a') },
          { oldName: 'dup', oldSympos: 2, newFunc: impl('p', 'dup2') },
        ],
      },
    ],
  });
  assert.deepEqual(lp.sysfs.list('p/vmlinux'), ['patched', 'a,1', 'dup,2']);
  assert.throws(
    () => lp.enablePatch({ name: 'q', objects: [{ name: null, funcs: [{ newFunc: () => 0 } as never] }] }),
    { errno: -22, message: /func #0 has no 'oldName'/ },
  );
  assert.throws(() => lp.enablePatch({ name: 'q', objects: [{ name: null, funcs: [{ oldName: 'a' } as never] }] }), {
    errno: -22,
    message: /func 'a' has no 'newFunc'/,
  });
  assert.throws(
    () =>
      lp.enablePatch({ name: 'q', objects: [{ name: null, funcs: [{ oldName: 'x'.repeat(512), newFunc: () => 0 }] }] }),
    { errno: -22, message: /shorter than 512/ },
  );
});

test("R3.3: an empty oldName is refused only where the kernel refuses it: when resolved, as a symbol '' not found", () => {
  // klp_init_func refuses only a NULL old_name; "" gets the directory ",1"
  // and kallsyms has no symbol named "" (R3.5).
  const { w, lp } = basic();
  const empty = { oldName: '', newFunc: () => 0 };
  const before = snapshot(w);
  assert.throws(() => lp.enablePatch({ name: 'q', objects: [{ name: null, funcs: [empty] }] }), {
    errno: -22,
    message: /symbol '' not found in symbol table/,
  });
  assert.deepEqual(w.lines(), ["livepatch: symbol '' not found in symbol table"]);
  assert.deepEqual(snapshot(w), before);
  // In an object whose module is absent nothing is resolved yet: accepted,
  // and the module is refused when it comes (R10.3).
  lp.enablePatch({ name: 'p', objects: [{ name: 'm', funcs: [empty] }] });
  assert.deepEqual(lp.sysfs.list('p/m'), ['patched', ',1']);
  const mod = w.module('m', true);
  mod.define('x');
  assert.throws(() => w.load(mod, { log: false }), { errno: -22, message: /symbol '' not found/ });
  assert.deepEqual(w.klpLines().slice(-3), [
    "livepatch: symbol '' not found in symbol table",
    "livepatch: failed to initialize patch 'p' for module 'm' (-22)",
    "livepatch: patch 'p' failed for module 'm', refusing to load module 'm'",
  ]);
});

test("R3.2: an object named like one of <patch>/'s attribute files is EEXIST, with sysfs's and kobject's lines", () => {
  // kobject_add of <patch>/<object> fails when the patch directory already
  // holds that name: its attribute files enabled, transition, force, replace
  // and stack_order (R12.1–R12.6, klp_patch_attrs).
  const { w, lp } = basic();
  const before = snapshot(w);
  w.lp.log.clear();
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [
          { name: null, funcs: [{ oldName: 'a', newFunc: impl('p', 'a') }] },
          { name: 'stack_order', funcs: [] },
        ],
      }),
    { code: 'EEXIST', message: /object 'stack_order' has the name of the patch's attribute file 'stack_order'/ },
  );
  assert.deepEqual(
    lp.log.records().map((r) => [r.level, r.text]),
    [
      [4, "sysfs: cannot create duplicate filename '/kernel/livepatch/p/stack_order'"],
      [
        3,
        "kobject: kobject_add_internal failed for stack_order with -EEXIST, don't try to register things with the same name in the same directory.",
      ],
    ],
  );
  assert.deepEqual(snapshot(w), before);
  // An object's own attribute (patched) lives one level down, and a func's
  // directory always holds a ',': neither collides.
  w.vmlinux.define('patched');
  lp.enablePatch({
    name: 'p',
    objects: [
      { name: 'patched', funcs: [] },
      { name: null, funcs: [{ oldName: 'patched', newFunc: () => 0 }] },
    ],
  });
  assert.deepEqual(lp.sysfs.list('p'), [
    'enabled',
    'transition',
    'force',
    'replace',
    'stack_order',
    'patched',
    'vmlinux',
  ]);
  assert.equal(lp.sysfs.read('p/patched/patched'), '0\n');
  assert.deepEqual(lp.sysfs.list('p/vmlinux'), ['patched', 'patched,1']);
});

test('R2.1/R3.1/R3.2: objects are initialised one after the other — the first failure in that order is reported', () => {
  // klp_init_patch inits object 1 (name, funcs, symbols), then object 2: a
  // missing symbol in object 1 wins over a func listed twice in object 2.
  const { w, lp } = basic();
  const mod = w.module('m', true);
  mod.define('x');
  w.load(mod, { log: false });
  const before = snapshot(w);
  w.lp.log.clear();
  const func = (oldName: string) => ({ oldName, newFunc: () => 0 });
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [
          { name: null, funcs: [func('nope')] },
          { name: 'm', funcs: [func('x'), func('x')] },
        ],
      }),
    { errno: -22, message: /symbol 'nope' not found/ },
  );
  assert.deepEqual(w.lines(), ["livepatch: symbol 'nope' not found in symbol table"]);
  assert.deepEqual(snapshot(w), before);
  // The other way round the duplicate is met first.
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [
          { name: 'm', funcs: [func('x'), func('x')] },
          { name: null, funcs: [func('nope')] },
        ],
      }),
    { errno: -17, message: /func 'x' \(position 0\) is listed twice/ },
  );
  assert.deepEqual(snapshot(w), before);
});

test('R3.4: a module object is resolved when its module comes, not before', () => {
  const { w, lp } = basic();
  lp.enablePatch({ name: 'p', objects: [{ name: 'm', funcs: [{ oldName: 'x', newFunc: impl('p', 'x') }] }] });
  assert.equal(lp.patch('p')!.objects[0]!.funcs[0]!.slot, null);
  const mod = w.module('m', true);
  const x = mod.define('x');
  w.load(mod, { log: false });
  assert.equal(lp.patch('p')!.objects[0]!.funcs[0]!.slot, x.id);
});

test('R3.5: symbol lookup — not found, ambiguous, position not found, and sympos picks the n-th', () => {
  const { w, lp } = basic();
  const d1 = w.vmlinux.define('dup');
  const d2 = w.vmlinux.define('dup');
  const mod = w.module('m', true);
  mod.define('y');
  mod.define('y');
  w.load(mod, { log: false });
  w.lp.log.clear();
  const fail = (objName: string | null, oldName: string, oldSympos?: number) =>
    assert.throws(
      () =>
        lp.enablePatch({
          name: 'p',
          objects: [
            {
              name: objName,
              funcs: [{ oldName, newFunc: () => 0, ...(oldSympos !== undefined ? { oldSympos } : {}) }],
            },
          ],
        }),
      { errno: -22 },
    );
  fail(null, 'nope');
  fail(null, 'dup');
  fail(null, 'dup', 3);
  fail('m', 'y');
  fail('m', 'y', 5);
  assert.deepEqual(w.lines(), [
    "livepatch: symbol 'nope' not found in symbol table",
    "livepatch: unresolvable ambiguity for symbol 'dup' in object '(null)'",
    "livepatch: symbol position 3 for symbol 'dup' in object 'vmlinux' not found",
    "livepatch: unresolvable ambiguity for symbol 'y' in object 'm'",
    "livepatch: symbol position 5 for symbol 'y' in object 'm' not found",
  ]);
  lp.enablePatch({
    name: 'p',
    objects: [{ name: null, funcs: [{ oldName: 'dup', oldSympos: 2, newFunc: impl('p', 'dup') }] }],
  });
  assert.equal(runs(w, d2), 'p:dup');
  assert.equal(runs(w, d1), 'original dup');
});

test('R3.5 (oldHash): a hash mismatch fails the resolution with EINVAL, naming symbol, object and both hashes', () => {
  const w = new SimWorld();
  const mod = w.module('src/db.ts', true);
  mod.define('query', undefined, 'sha256-AAA');
  w.load(mod, { log: false });
  assert.throws(
    () =>
      w.lp.enablePatch({
        name: 'p',
        objects: [{ name: 'src/db.ts', funcs: [{ oldName: 'query', oldHash: 'sha256-BBB', newFunc: () => 0 }] }],
      }),
    { errno: -22, message: /symbol 'query' in object 'src\/db.ts' has hash sha256-AAA, patch expects sha256-BBB/ },
  );
  assert.deepEqual(w.lines(), [
    "livepatch: symbol 'query' in object 'src/db.ts' has hash sha256-AAA, patch expects sha256-BBB",
  ]);
  w.lp.enablePatch({
    name: 'p',
    objects: [{ name: 'src/db.ts', funcs: [{ oldName: 'query', oldHash: 'sha256-AAA', newFunc: () => 0 }] }],
  });
  assert.equal(w.lp.patches().length, 1);
});

test('R3.5 (oldHash): a mismatch when the module loads later refuses the module', () => {
  const w = new SimWorld();
  w.lp.enablePatch({ name: 'p', objects: [{ name: 'm', funcs: [{ oldName: 'f', oldHash: 'h1', newFunc: () => 0 }] }] });
  const mod = w.module('m', true);
  mod.define('f', undefined, 'h2');
  assert.throws(() => w.load(mod, { log: false }), { errno: -22 });
  assert.deepEqual(w.klpLines(), [
    "livepatch: enabling patch 'p'",
    "livepatch: 'p': starting patching transition",
    "livepatch: 'p': patching complete",
    "livepatch: symbol 'f' in object 'm' has hash h2, patch expects h1",
    "livepatch: failed to initialize patch 'p' for module 'm' (-22)",
    "livepatch: patch 'p' failed for module 'm', refusing to load module 'm'",
  ]);
});

test('R4.1: one stack per function; a second patch is pushed on top; the sink hears each change', () => {
  const { w, lp, a } = basic({ sink: true });
  lp.enablePatch(patchOf('p1', ['a']));
  lp.enablePatch(patchOf('p2', ['a']));
  assert.deepEqual(lp.patchedSlots(), [a]);
  assert.deepEqual(
    lp.stackOf(a).map((f) => f.patchName),
    ['p2', 'p1'],
  );
  assert.ok(w.sinkLog.length >= 4 && w.sinkLog.every((s) => s === a));
  assert.equal(runs(w, a), 'p2:a');
});

test('R4.2: unpatching removes a func wherever it is; the last one frees the stack', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p1', ['a']));
  lp.enablePatch(patchOf('p2', ['a']));
  lp.disable('p1'); // from the bottom
  assert.deepEqual(
    lp.stackOf(a).map((f) => f.patchName),
    ['p2'],
  );
  lp.disable('p2');
  assert.deepEqual(lp.stackOf(a), []);
  assert.deepEqual(lp.patchedSlots(), []);
  assert.equal(runs(w, a), 'original a');
});

test("R4.1: a function the runtime cannot arm at all is the kernel's untraceable function (-EINVAL)", () => {
  const untraceable = new Set<Slot>();
  const w = new SimWorld({ debug: true, untraceable });
  const a = w.vmlinux.define('a');
  untraceable.add(a);
  assert.throws(() => w.lp.enablePatch(patchOf('p', ['a'])), {
    errno: -22,
    code: 'EINVAL',
    message: /failed to find location for function 'a'/,
  });
  assert.deepEqual(w.lp.stackOf(a), []);
  assert.deepEqual(w.lp.patches(), []);
  assert.ok(w.klpLines().includes("livepatch: failed to find location for function 'a'"));
});

test('R4.3: patching an object is all or nothing (a refused function unpatches the others)', () => {
  const refuse = new Set<Slot>();
  const w = new SimWorld({ debug: true, refuse });
  const a = w.vmlinux.define('a');
  const b = w.vmlinux.define('b');
  refuse.add(b); // the runtime cannot arm b: the kernel's handler registration failure
  assert.throws(() => w.lp.enablePatch(patchOf('p', ['a', 'b'])), { errno: -16, code: 'EBUSY' });
  assert.deepEqual(w.lp.stackOf(a), []);
  assert.deepEqual(w.lp.patchedSlots(), []);
  assert.deepEqual(w.klpLines(), [
    "livepatch: enabling patch 'p'",
    "livepatch: 'p': initializing patching transition",
    "livepatch: failed to register ftrace handler for function 'b' (-16)",
    "livepatch: failed to patch object 'vmlinux'",
    "livepatch: failed to enable patch 'p'",
    "livepatch: 'p': canceling patching transition, going to unpatch",
    "livepatch: 'p': completing unpatching transition",
    "livepatch: 'p': unpatching complete",
  ]);
});

test('R4.4: with several patches on one function the most recently enabled wins, also for modules loaded later', () => {
  const { w, lp } = basic();
  const obj = (p: string) => ({ name: p, objects: [{ name: 'm', funcs: [{ oldName: 'x', newFunc: impl(p, 'x') }] }] });
  lp.enablePatch(obj('p1'));
  lp.enablePatch(obj('p2'));
  lp.enablePatch(obj('p3'));
  const mod = w.module('m', true);
  const x = mod.define('x');
  w.load(mod, { log: false });
  assert.deepEqual(
    lp.stackOf(x).map((f) => f.patchName),
    ['p3', 'p2', 'p1'],
  );
  assert.equal(runs(w, x), 'p3:x');
});

test('R4.5: the redirect decision table', () => {
  const f = (version: number, o: Partial<Func> = {}): Func => ({
    version,
    oldName: 'a',
    oldSympos: 0,
    newFunc: () => version,
    nop: false,
    immediate: false,
    patched: true,
    transition: false,
    patchName: 'p',
    ...o,
  });
  const top = f(2),
    below = f(1),
    nopTop = f(3, { nop: true }),
    tr = f(4, { transition: true }),
    trNop = f(5, { transition: true, nop: true });
  assert.equal(dispatch([], 1), null); // nothing patched: original
  assert.equal(dispatch([top, below], -1), top); // newest func
  assert.equal(dispatch([top, below], 0), top); // not in transition: the state does not matter
  assert.equal(dispatch([tr, below], 0), below); // unpatched task during a transition: the one below
  assert.equal(dispatch([tr], 0), null); // ...or the original
  assert.equal(dispatch([tr, below], 1), tr); // patched task: the new one
  assert.equal(dispatch([nopTop, below], 1), null); // a nop runs the original
  assert.equal(dispatch([trNop, below], 1), null);
  assert.equal(dispatch([trNop, below], 0), below);
  assert.equal(dispatch([tr, nopTop], 0), null); // the one below is a nop: original
  assert.equal(dispatch([top, tr], 0), top); // only the top's transition flag counts
});

test('R4.6: during a transition an unpatched task sees the old set, a patched one the new set', () => {
  const { w, lp, a, b, c } = basic();
  lp.enablePatch(patchOf('p1', ['a']));
  const sleeper = w.spawn('sleeper');
  sleeper.enter(c);
  lp.enablePatch(patchOf('p2', ['a', 'b', 'c']));
  const fresh = w.spawn('fresh'); // no frames: switched at once
  assert.equal(sleeper.patchState, 0);
  assert.equal(fresh.patchState, 1);
  assert.deepEqual(
    [a, b].map((s) => sleeper.call(s)),
    ['p1:a', 'original b'],
  );
  assert.deepEqual(
    [a, b].map((s) => fresh.call(s)),
    ['p2:a', 'p2:b'],
  );
});

test('R4 (info): PatchInfo shows versions and slots', () => {
  const { lp, a } = basic();
  lp.enablePatch(patchOf('p', ['a']));
  const info: PatchInfo = lp.patch('p')!;
  const f = info.objects[0]!.funcs[0]!;
  assert.equal(f.slot, a.id);
  assert.ok(f.version > 0);
  assert.equal(lp.stackOf(a)[0]!.version, f.version);
});
