// The worker's SmallMap (src/worker/small-map.ts) answers like a Map for what the worker asks of
// it (get, has, set, delete, size, values and entries in insertion order), checked against a Map
// over a long seeded run of random operations, and holds on to nothing it deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SmallMap } from '../../src/worker/small-map.ts';

// A full collection on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A small deterministic generator (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('answers like a Map over random sets and deletes, insertion order included', () => {
  const random = seeded(12);
  const small = new SmallMap<string, number>();
  const map = new Map<string, number>();
  for (let step = 0; step < 20_000; step++) {
    const key = `k${Math.floor(random() * 12)}`;
    const roll = random();
    if (roll < 0.45) {
      assert.equal(small.set(key, step), small);
      map.set(key, step);
    } else if (roll < 0.9) {
      assert.equal(small.delete(key), map.delete(key), `delete ${key} at step ${step}`);
    } else {
      assert.equal(small.get(key), map.get(key));
      assert.equal(small.has(key), map.has(key));
    }
    assert.equal(small.size, map.size);
    if (step % 97 === 0) {
      assert.deepEqual(small.values(), [...map.values()], `values at step ${step}`);
      assert.deepEqual(small.entries(), [...map.entries()], `entries at step ${step}`);
    }
  }
});

test('a value set again keeps its place; values() is a copy the map does not change', () => {
  const small = new SmallMap<string, string>();
  small.set('a', 'first').set('b', 'second').set('a', 'again');
  const values = small.values();
  small.delete('a');
  assert.deepEqual(values, ['again', 'second']);
  assert.deepEqual(small.entries(), [['b', 'second']]);
});

test('objects are keys by identity, and a deleted entry is not held on to', async () => {
  const small = new SmallMap<object, number>();
  let key: object | undefined = {};
  const ref = new WeakRef(key);
  small.set(key, 1);
  assert.equal(small.get({}), undefined);
  assert.equal(small.get(key), 1);
  small.delete(key);
  key = undefined;
  // A WeakRef keeps its target until the current turn ends; then a full collection.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  assert.equal(ref.deref(), undefined, 'the deleted key was collected');
  assert.equal(small.size, 0);
});
