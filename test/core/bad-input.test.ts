// Every bad input gets a clear KlpError naming what is wrong, and leaves the
// core exactly as it was: same sysfs tree, stacks, patch list, task states,
// transition and timers. Lines the kernel would print are checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SimWorld, snapshot } from '../support/sim.ts';
import { basic, patchOf } from '../support/fixtures.ts';
import { KlpError, Livepatch, type PatchDef, type Ports, type Slot } from '../../src/core/index.ts';

/** A busy world: two patches, a loaded module, optionally a transition in progress. */
function busyWorld(inTransition: boolean) {
  const refuse = new Set<Slot>();
  const { w, lp, c } = basic({ debug: true, refuse });
  w.vmlinux.define('dup');
  w.vmlinux.define('dup');
  w.vmlinux.define('hashed', undefined, 'h1');
  const refused = w.vmlinux.define('refused');
  refuse.add(refused);
  const mod = w.module('m', true);
  mod.define('x');
  w.load(mod, { log: false });
  lp.enablePatch({
    name: 'p1',
    states: [{ id: 1, version: 2 }],
    objects: [
      { name: null, funcs: [{ oldName: 'a', newFunc: () => 1 }] },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: () => 2 }] },
    ],
  });
  lp.enablePatch(patchOf('p2', ['b']));
  if (inTransition) {
    const s = w.spawn('sleeper');
    s.enter(c);
    lp.enablePatch(patchOf('p3', ['c']));
  }
  w.lp.log.clear();
  return { w, lp };
}

const f = (oldName: string, extra: object = {}) => ({ oldName, newFunc: () => 0, ...extra });
/** kobject_add of `name` under `parent` failing with -EEXIST: what sysfs and kobject print (R3.2, R3.3). */
const exists = (parent: string, name: string): string[] => [
  `sysfs: cannot create duplicate filename '${parent}/${name}'`,
  `kobject: kobject_add_internal failed for ${name} with -EEXIST, don't try to register things with the same name in the same directory.`,
];
const v = (funcs: unknown[], extra: object = {}) => ({ name: 'bad', objects: [{ name: null, funcs }], ...extra });

// [description, definition, errno, message pattern, kernel lines]
const cases: [string, unknown, number, RegExp, string[]][] = [
  ['not an object', null, -22, /must be an object/, []],
  ['a number', 42, -22, /must be an object/, []],
  ['no name', { objects: [] }, -22, /name must be a non-empty string/, []],
  ['empty name', { name: '', objects: [] }, -22, /non-empty string/, []],
  ['a name that exists', { name: 'p1', objects: [] }, -17, /patch 'p1' already exists/, []],
  ['a name with /', { name: 'a/b', objects: [] }, -22, /'a\/b' cannot be a sysfs directory: it contains '\/'/, []],
  ['a name ..', { name: '..', objects: [] }, -22, /reserved/, []],
  ['a name with a space', { name: 'my fix', objects: [] }, -22, /white space/, []],
  ['a name with a control char', { name: 'x\u0001', objects: [] }, -22, /control character/, []],
  ['a name too long', { name: 'x'.repeat(256), objects: [] }, -22, /longer than 255/, []],
  ['objects missing', { name: 'bad' }, -22, /'objects' must be an array/, []],
  ['an object null', { name: 'bad', objects: [null] }, -22, /object #0 must be an object/, []],
  ['an object name a number', { name: 'bad', objects: [{ name: 3, funcs: [] }] }, -22, /'name' must be a string/, []],
  ['an object without funcs', { name: 'bad', objects: [{ name: 'm' }] }, -22, /object 'm' has no 'funcs' array/, []],
  [
    'an object named vmlinux',
    { name: 'bad', objects: [{ name: 'vmlinux', funcs: [] }] },
    -22,
    /reserved for the process itself/,
    [],
  ],
  ['an object with an empty name', { name: 'bad', objects: [{ name: '', funcs: [] }] }, -22, /name is empty/, []],
  ['an object named ..', { name: 'bad', objects: [{ name: '..', funcs: [] }] }, -22, /reserved/, []],
  [
    'the same object twice',
    {
      name: 'bad',
      objects: [
        { name: null, funcs: [] },
        { name: null, funcs: [] },
      ],
    },
    -17,
    /object 'vmlinux' is listed twice/,
    exists('/kernel/livepatch/bad', 'vmlinux'),
  ],
  [
    'callbacks not an object',
    { name: 'bad', objects: [{ name: null, funcs: [], callbacks: 1 }] },
    -22,
    /'callbacks' must be an object/,
    [],
  ],
  [
    'a callback not a function',
    { name: 'bad', objects: [{ name: null, funcs: [], callbacks: { postPatch: 'x' } }] },
    -22,
    /callback 'postPatch' must be a function/,
    [],
  ],
  ['a func not an object', v([7]), -22, /func #0 must be an object/, []],
  ['a func without oldName', v([{ newFunc: () => 0 }]), -22, /func #0 has no 'oldName'/, []],
  ['a func with a numeric oldName', v([{ oldName: 5, newFunc: () => 0 }]), -22, /has no 'oldName'/, []],
  ['a func without newFunc', v([{ oldName: 'a' }]), -22, /func 'a' has no 'newFunc' function/, []],
  ['a func with a non-function newFunc', v([{ oldName: 'a', newFunc: 'x' }]), -22, /no 'newFunc' function/, []],
  ['an oldName too long', v([f('y'.repeat(600))]), -22, /shorter than 512/, []],
  ['a negative sympos', v([f('a', { oldSympos: -1 })]), -22, /'oldSympos' must be a non-negative integer/, []],
  ['a fractional sympos', v([f('a', { oldSympos: 1.5 })]), -22, /'oldSympos'/, []],
  ['immediate not boolean', v([f('a', { immediate: 'yes' })]), -22, /'immediate' must be a boolean/, []],
  ['an empty oldHash', v([f('a', { oldHash: '' })]), -22, /'oldHash' must be a non-empty string/, []],
  [
    'the same func twice',
    v([f('a'), f('a', { oldSympos: 1 })]),
    -17,
    /func 'a' \(position 1\) is listed twice/,
    exists('/kernel/livepatch/bad/vmlinux', 'a,1'),
  ],
  // R3.3: the kernel refuses only a NULL old_name; '' is a name no symbol has (R3.5).
  ['an empty oldName', v([f('')]), -22, /symbol '' not found/, ["livepatch: symbol '' not found in symbol table"]],
  // R3.2: an object's directory cannot take the name of one of <patch>/'s attribute files (R12.1–R12.6).
  ...['enabled', 'transition', 'force', 'replace', 'stack_order'].map(
    (attr): [string, unknown, number, RegExp, string[]] => [
      `an object named ${attr}`,
      {
        name: 'bad',
        objects: [
          { name: null, funcs: [] },
          { name: attr, funcs: [] },
        ],
      },
      -17,
      new RegExp(`object '${attr}' has the name of the patch's attribute file '${attr}'`),
      exists('/kernel/livepatch/bad', attr),
    ],
  ),
  // R2.1/R3.2: objects are checked and resolved one after the other, so the
  // first object's missing symbol is reported before the second's mistakes.
  [
    'a missing symbol, then the same func twice',
    {
      name: 'bad',
      objects: [
        { name: null, funcs: [f('nope')] },
        { name: 'm', funcs: [f('x'), f('x')] },
      ],
    },
    -22,
    /symbol 'nope' not found/,
    ["livepatch: symbol 'nope' not found in symbol table"],
  ],
  [
    'a missing symbol, then the same object twice',
    {
      name: 'bad',
      objects: [
        { name: 'm', funcs: [f('nope')] },
        { name: null, funcs: [] },
        { name: null, funcs: [] },
      ],
    },
    -22,
    /symbol 'nope' not found/,
    ["livepatch: symbol 'nope' not found in symbol table"],
  ],
  [
    'a missing symbol, then a func without oldName',
    {
      name: 'bad',
      objects: [
        { name: null, funcs: [f('nope')] },
        { name: 'm', funcs: [{ newFunc: () => 0 }] },
      ],
    },
    -22,
    /symbol 'nope' not found/,
    ["livepatch: symbol 'nope' not found in symbol table"],
  ],
  [
    'the same func twice, then a missing symbol',
    {
      name: 'bad',
      objects: [
        { name: 'm', funcs: [f('x'), f('x')] },
        { name: null, funcs: [f('nope')] },
      ],
    },
    -17,
    /func 'x' \(position 0\) is listed twice/,
    exists('/kernel/livepatch/bad/m', 'x,1'),
  ],
  ['replace not boolean', v([], { replace: 1 }), -22, /'replace' must be a boolean/, []],
  [
    'an unknown consistency',
    v([], { consistency: 'eventual' }),
    -22,
    /'consistency' must be 'task', 'request', 'function' or 'global'/,
    [],
  ],
  ['states not an array', v([], { states: {} }), -22, /'states' must be an array/, []],
  ['a state id 0', v([], { states: [{ id: 0, version: 1 }] }), -22, /'id' must be a positive integer/, []],
  [
    'a state version -1',
    v([], { states: [{ id: 5, version: -1 }] }),
    -22,
    /'version' must be a non-negative integer/,
    [],
  ],
  [
    'a state twice',
    v([], {
      states: [
        { id: 5, version: 1 },
        { id: 5, version: 1 },
      ],
    }),
    -22,
    /state 5 is listed twice/,
    [],
  ],
  [
    'incompatible states',
    v([], { states: [{ id: 1, version: 1 }] }),
    -22,
    /not compatible/,
    ['livepatch: Livepatch patch (bad) is not compatible with the already installed livepatches.'],
  ],
  [
    'a cumulative patch dropping a state',
    v([], { replace: true }),
    -22,
    /not compatible/,
    ['livepatch: Livepatch patch (bad) is not compatible with the already installed livepatches.'],
  ],
  [
    'a missing symbol',
    v([f('nope')]),
    -22,
    /symbol 'nope' not found in symbol table \(object 'vmlinux'\)/,
    ["livepatch: symbol 'nope' not found in symbol table"],
  ],
  [
    'an ambiguous symbol',
    v([f('dup')]),
    -22,
    /unresolvable ambiguity for symbol 'dup'/,
    ["livepatch: unresolvable ambiguity for symbol 'dup' in object '(null)'"],
  ],
  [
    'a missing position',
    v([f('dup', { oldSympos: 3 })]),
    -22,
    /symbol position 3/,
    ["livepatch: symbol position 3 for symbol 'dup' in object 'vmlinux' not found"],
  ],
  [
    'a missing symbol in a loaded module',
    { name: 'bad', objects: [{ name: 'm', funcs: [f('y')] }] },
    -22,
    /symbol 'y' not found/,
    ["livepatch: symbol 'y' not found in symbol table"],
  ],
  [
    'a hash mismatch',
    v([f('hashed', { oldHash: 'h2' })]),
    -22,
    /has hash h1, patch expects h2/,
    ["livepatch: symbol 'hashed' in object 'vmlinux' has hash h1, patch expects h2"],
  ],
];

for (const inTransition of [false, true]) {
  test(`bad definitions fail clearly and change nothing${inTransition ? ' (during a transition)' : ''}`, () => {
    const { w, lp } = busyWorld(inTransition);
    const before = snapshot(w);
    for (const [what, def, errno, message, lines] of cases) {
      w.lp.log.clear();
      assert.throws(
        () => lp.enablePatch(def as PatchDef),
        (e: unknown) => {
          assert.ok(e instanceof KlpError, `${what}: ${String(e)}`);
          assert.equal(e.errno, errno, `${what}: ${e.message}`);
          assert.match(e.message, message, what);
          return true;
        },
        what,
      );
      assert.deepEqual(w.lines(), lines, what);
      assert.deepEqual(snapshot(w), before, what);
    }
  });
}

test('failures after init (pre_patch, refused function, EBUSY) leave the core as it was', () => {
  const { w, lp } = busyWorld(false);
  const before = snapshot(w);
  const calls: string[] = [];
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'bad',
        objects: [
          {
            name: null,
            funcs: [f('c')],
            callbacks: {
              prePatch: () => {
                calls.push('pre');
              },
              postUnpatch: () => {
                calls.push('post_unpatch');
              },
            },
          },
          { name: 'm', funcs: [], callbacks: { prePatch: () => -19 } },
        ],
      }),
    { errno: -19 },
  );
  assert.deepEqual(calls, ['pre', 'post_unpatch']);
  assert.deepEqual(snapshot(w), before);
  assert.throws(() => lp.enablePatch(v([f('refused')]) as PatchDef), { errno: -16 });
  assert.deepEqual(snapshot(w), before);
  const s = w.spawn('s');
  s.enter(w.vmlinux.lookup('d')[0]!.slot);
  lp.enablePatch(patchOf('p3', ['d']));
  const during = snapshot(w);
  w.lp.log.clear();
  assert.throws(() => lp.enablePatch(v([f('c')]) as PatchDef), { errno: -16, message: /patch 'p3' is in transition/ });
  assert.deepEqual(w.lines(), []);
  assert.deepEqual(snapshot(w), during);
});

test('bad sysfs paths and values, unknown patches, and misuse of the module hooks change nothing', () => {
  const { w, lp } = busyWorld(true);
  const before = snapshot(w);
  const bad: [() => unknown, string, RegExp][] = [
    [() => lp.sysfs.read('nope'), 'ENOENT', /nope: No such file/],
    [() => lp.sysfs.read('p1'), 'EISDIR', /Is a directory/],
    [() => lp.sysfs.read('p1/force'), 'EACCES', /Permission denied/],
    [() => lp.sysfs.read('p1/vmlinux/nope'), 'ENOENT', /No such file/],
    [() => lp.sysfs.list('p1/enabled'), 'ENOTDIR', /Not a directory/],
    [() => lp.sysfs.write('p1/enabled', 'maybe'), 'EINVAL', /"maybe" is not a boolean/],
    [() => lp.sysfs.write('p1/enabled', '1'), 'EINVAL', /already enabled/],
    [() => lp.sysfs.write('p1/enabled', '0'), 'EBUSY', /patch 'p3' is in transition/],
    [() => lp.sysfs.write('p1/force', '1'), 'EINVAL', /not in transition/],
    [() => lp.sysfs.write('p1/transition', '1'), 'EACCES', /Permission denied/],
    [() => lp.sysfs.write('p1/stack_order', '1'), 'EACCES', /Permission denied/],
    [() => lp.sysfs.write('p1/vmlinux', '1'), 'EISDIR', /Is a directory/],
    [() => lp.sysfs.write('p1/m/patched', '1'), 'EACCES', /Permission denied/],
    [() => lp.disable('nope'), 'ENOENT', /no patch 'nope'/],
    [() => lp.force('nope'), 'ENOENT', /no patch 'nope'/],
    [() => lp.reverse('p1'), 'EINVAL', /not in transition/],
    [() => lp.reverse('nope'), 'ENOENT', /no patch/],
    [() => lp.moduleComing({ name: 'm', state: 'coming', symbols: { lookup: () => [] } }), 'EEXIST', /already loaded/],
    [
      () => lp.moduleComing({ name: 'n', state: 'going', symbols: { lookup: () => [] } }),
      'EINVAL',
      /must be in state 'coming'/,
    ],
  ];
  for (const [fn, code, message] of bad) {
    assert.throws(fn, (e: unknown) => e instanceof KlpError && e.code === code && message.test(e.message), String(fn));
    assert.deepEqual(snapshot(w), before, String(fn));
  }
  assert.deepEqual(w.lines(), []);
});

test('re-entering the core from a callback is refused with EDEADLK, and the outer operation completes', () => {
  const { w, lp } = basic();
  let inner: unknown;
  lp.enablePatch(
    patchOf('p', ['a'], {
      callbacks: {
        postPatch: () => {
          try {
            lp.enablePatch(patchOf('q', ['b']));
          } catch (e) {
            inner = e;
          }
          try {
            lp.sysfs.write('p/enabled', '0');
          } catch (e) {
            inner = [inner, e];
          }
        },
      },
    }),
  );
  assert.deepEqual(
    (inner as KlpError[]).map((e) => e.code),
    ['EDEADLK', 'EDEADLK'],
  );
  assert.deepEqual(lp.sysfs.list(''), ['p']);
  assert.equal(w.lp.sysfs.read('p/enabled'), '1\n');
});

test('property: arbitrary junk definitions either enable cleanly or fail with a KlpError and change nothing', () => {
  const junk = fc.oneof(
    fc.anything(),
    fc.constantFrom(undefined, null, '', 'a', 0, -1, 1.5, [], {}, () => 0),
  );
  const funcArb = fc.record(
    {
      oldName: fc.oneof(junk, fc.constantFrom('a', 'b', 'dup', 'nope')),
      newFunc: fc.oneof(
        junk,
        fc.constant(() => 1),
      ),
      oldSympos: fc.oneof(junk, fc.constantFrom(0, 1, 2)),
      immediate: fc.oneof(junk, fc.boolean()),
    },
    { requiredKeys: [] },
  );
  const objArb = fc.record(
    {
      name: fc.oneof(junk, fc.constantFrom(null, 'm', 'vmlinux', 'absent')),
      funcs: fc.oneof(junk, fc.array(funcArb, { maxLength: 3 })),
      callbacks: fc.oneof(junk, fc.constant({ prePatch: () => -1 })),
    },
    { requiredKeys: [] },
  );
  const defArb = fc.record(
    {
      name: fc.oneof(junk, fc.constantFrom('p1', 'x', 'y/z')),
      objects: fc.oneof(junk, fc.array(objArb, { maxLength: 3 })),
      states: fc.oneof(
        junk,
        fc.array(
          fc.record({
            id: fc.oneof(junk, fc.integer({ min: -1, max: 3 })),
            version: fc.oneof(junk, fc.integer({ min: -1, max: 3 })),
          }),
        ),
      ),
      replace: fc.oneof(junk, fc.boolean()),
      consistency: fc.oneof(junk, fc.constantFrom('task', 'function', 'global')),
    },
    { requiredKeys: [] },
  );
  const { w, lp } = busyWorld(false);
  fc.assert(
    fc.property(defArb, (def) => {
      const before = snapshot(w);
      try {
        lp.enablePatch(def as unknown as PatchDef);
      } catch (e) {
        if (!(e instanceof KlpError)) throw e;
        assert.deepEqual(snapshot(w), before);
        return;
      }
      // It was a valid definition: take it away again.
      const name = (def as { name: string }).name;
      if (lp.patch(name) !== null) lp.disable(name);
      w.settle();
    }),
    { numRuns: 300 },
  );
});

test('construction with bad ports is a TypeError', () => {
  assert.throws(() => new Livepatch({} as Ports), TypeError);
  assert.throws(() => new Livepatch(null as unknown as Ports), TypeError);
  assert.throws(
    () => new Livepatch({ clock: new SimWorld().clock, tasks: [] as unknown as Ports['tasks'] }, { logSize: 0 }),
    RangeError,
  );
});
