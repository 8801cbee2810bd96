// Shadow variables (R13): the sequence of test_klp_shadow_vars
// (tools/testing/selftests/livepatch/test-shadow-vars.sh), the kernel's
// duplicate and ctor-failure messages, and weak keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SimWorld } from '../support/sim.ts';
import type { ShadowData } from '../../src/core/index.ts';

test('selftest test-shadow-vars: basic shadow variable API (R13.2–R13.6)', () => {
  const { lp } = new SimWorld();
  const sh = lp.shadow;
  const ctorCalls: unknown[] = [];
  const dtorCalls: [object, ShadowData][] = [];
  // shadow_ctor stores a pointer to the ctor data in the variable.
  const ctor = (_obj: object, data: ShadowData, ctorData: unknown) => {
    ctorCalls.push(ctorData);
    data['ptr'] = ctorData;
    return 0;
  };
  const dtor = (obj: object, data: ShadowData) => {
    dtorCalls.push([obj, data]);
  };
  const obj1 = {},
    obj2 = {},
    obj3 = {};
  const v1 = { n: 1 },
    v2 = { n: 2 },
    v3 = { n: 3 },
    v4 = { n: 4 },
    v5 = { n: 5 },
    v6 = { n: 6 };

  assert.equal(sh.get(obj1, 0x1234), null); // got expected NULL result
  const sv1 = sh.getOrAlloc(obj1, 0x1234, ctor, v1)!;
  const sv2 = sh.alloc(obj1, 0x1235, ctor, v2)!;
  const sv3 = sh.alloc(obj2, 0x1234, ctor, v3)!;
  const sv4 = sh.alloc(obj2, 0x1235, ctor, v4)!;
  const sv5 = sh.getOrAlloc(obj3, 0x1234, ctor, v5)!;
  const sv6 = sh.alloc(obj3, 0x1235, ctor, v6)!;
  assert.deepEqual(ctorCalls, [v1, v2, v3, v4, v5, v6]);

  // Every variable is found again, pointing at its ctor data.
  for (const [o, id, sv, v] of [
    [obj1, 0x1234, sv1, v1],
    [obj1, 0x1235, sv2, v2],
    [obj2, 0x1234, sv3, v3],
    [obj2, 0x1235, sv4, v4],
    [obj3, 0x1234, sv5, v5],
    [obj3, 0x1235, sv6, v6],
  ] as const) {
    assert.equal(sh.get(o, id), sv);
    assert.equal(sh.get(o, id)!['ptr'], v);
  }
  // get_or_alloc on an existing variable: the same data, ctor not re-run (R13.4).
  assert.equal(sh.getOrAlloc(obj1, 0x1234, ctor, v1), sv1);
  assert.equal(sh.getOrAlloc(obj2, 0x1234, ctor, v3), sv3);
  assert.equal(sh.getOrAlloc(obj3, 0x1234, ctor, v5), sv5);
  assert.equal(ctorCalls.length, 6);

  // free calls dtor once (R13.5).
  for (const [o, sv] of [
    [obj1, sv1],
    [obj2, sv3],
    [obj3, sv5],
  ] as const) {
    sh.free(o, 0x1234, dtor);
    assert.deepEqual(dtorCalls.pop(), [o, sv]);
    assert.equal(sh.get(o, 0x1234), null);
  }
  sh.free(obj1, 0x1234, dtor); // missing: no-op
  assert.equal(dtorCalls.length, 0);
  assert.equal(sh.get(obj1, 0x1235), sv2);
  assert.equal(sh.get(obj2, 0x1235), sv4);
  assert.equal(sh.get(obj3, 0x1235), sv6);

  // free_all clears every object for that id (R13.6).
  sh.freeAll(0x1235);
  for (const o of [obj1, obj2, obj3]) assert.equal(sh.get(o, 0x1235), null);
  assert.equal(sh.count(), 0);
  assert.equal(sh.trackedObjects, 0);
  assert.deepEqual(lp.log.lines(), []); // the normal path prints nothing
});

test('R13.3: alloc of an existing <obj, id> returns null and WARNs "Duplicate shadow variable"', () => {
  const { lp } = new SimWorld();
  const o = {};
  const first = lp.shadow.alloc(o, 0x1234)!;
  first['x'] = 1;
  assert.equal(
    lp.shadow.alloc(o, 0x1234, () => {
      throw new Error('ctor must not run');
    }),
    null,
  );
  assert.equal(lp.shadow.get(o, 0x1234), first);
  assert.equal(first['x'], 1);
  assert.deepEqual(lp.log.lines(), ['Duplicate shadow variable <0000000000000001, 1234>']);
  assert.equal(lp.log.records()[0]!.level, 4);
});

test('R13.3: a failing ctor (non-zero return or throw) leaves nothing and logs pr_err', () => {
  const { lp } = new SimWorld();
  const o = {};
  assert.equal(
    lp.shadow.alloc(o, 7, () => -12),
    null,
  );
  assert.equal(
    lp.shadow.getOrAlloc(o, 'conn', () => {
      throw new Error('boom');
    }),
    null,
  );
  assert.equal(lp.shadow.get(o, 7), null);
  assert.equal(lp.shadow.get(o, 'conn'), null);
  assert.equal(lp.shadow.trackedObjects, 0);
  assert.deepEqual(lp.log.lines(), [
    'livepatch: Failed to construct shadow variable <0000000000000001, 7> (-12)',
    'livepatch: Failed to construct shadow variable <0000000000000001, conn> (-22)',
  ]);
  assert.equal(lp.log.records()[0]!.level, 3);
  // After a failed ctor, a later alloc works.
  assert.notEqual(lp.shadow.alloc(o, 7), null);
});

test('R13.1: several ids per object; data is a fresh object per variable', () => {
  const { lp } = new SimWorld();
  const o = {};
  const a = lp.shadow.alloc(o, 1)!;
  const b = lp.shadow.alloc(o, 2)!;
  assert.notEqual(a, b);
  assert.deepEqual(a, {});
  assert.equal(lp.shadow.count(), 2);
  const f = function named() {};
  assert.notEqual(lp.shadow.alloc(f, 1), null); // functions are objects too
});

test('R13: non-object keys and bad ids are TypeErrors', () => {
  const { lp } = new SimWorld();
  for (const bad of [null, undefined, 1, 'str', Symbol('s'), true]) {
    assert.throws(() => lp.shadow.alloc(bad as unknown as object, 1), TypeError);
    assert.throws(() => lp.shadow.get(bad as unknown as object, 1), TypeError);
    assert.throws(() => lp.shadow.free(bad as unknown as object, 1), TypeError);
  }
  assert.throws(() => lp.shadow.alloc({}, -1), TypeError);
  assert.throws(() => lp.shadow.alloc({}, 1.5), TypeError);
  assert.throws(() => lp.shadow.freeAll({} as unknown as number), TypeError);
  assert.equal(lp.shadow.trackedObjects, 0);
});

test('R13: shadow keys are weak — a shadowed object is still collected and forgotten', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const { lp } = new SimWorld();
  const tick = () => new Promise((r) => setImmediate(r));
  let ref!: WeakRef<object>;
  (() => {
    const o = { big: new Array(1000).fill(0) };
    lp.shadow.alloc(o, 1)!['payload'] = o; // even a cycle through the data
    lp.shadow.alloc(o, 2);
    ref = new WeakRef(o);
  })();
  assert.equal(lp.shadow.trackedObjects, 1);
  for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
    await tick();
    gc();
  }
  assert.equal(ref.deref(), undefined, 'the shadowed object was collected');
  for (let i = 0; i < 20 && lp.shadow.trackedObjects > 0; i++) {
    await tick();
    gc();
  }
  assert.equal(lp.shadow.trackedObjects, 0, 'the finalizer dropped its entry');
  lp.shadow.freeAll(1); // and free_all over nothing is fine
});
