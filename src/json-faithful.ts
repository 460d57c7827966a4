/**
 * The one rule for what a payload may hold: values that JSON carries unchanged.
 *
 * Input, output and checkpoint are stored as JSON and handed back parsed. A Date would come
 * back a string, a Set or Map `{}`, NaN null, a class instance a plain object: the handler
 * would see something other than what `submit()` returned and what `runJob` passed. So such a
 * value is refused with its path named, the same on every store (review defect 5).
 * Strings must be well-formed Unicode without NUL: Postgres cannot store `\u0000` or a lone
 * surrogate in jsonb, and SQLite must not accept what Postgres refuses (defect 8).
 */

/** Where a value first stops being JSON-faithful, and why; `null` when it is faithful. */
export interface UnfaithfulValue {
  path: (string | number)[];
  message: string;
}

/** Depth beyond which a value is refused: deeper JSON is almost always a cycle or an attack. */
const MAX_DEPTH = 200;

/** Finds the first part of `value` that JSON would not carry unchanged. */
export function findUnfaithful(value: unknown): UnfaithfulValue | null {
  const path: (string | number)[] = [];
  const open = new Set<object>();
  const fail = (message: string): UnfaithfulValue => ({ path: [...path], message });

  function visit(v: unknown): UnfaithfulValue | null {
    switch (typeof v) {
      case 'string': {
        const problem = checkString(v);
        return problem === null ? null : fail(problem);
      }
      case 'boolean':
        return null;
      case 'number':
        return Number.isFinite(v) ? null : fail(`is ${v}, which JSON stores as null: pass a finite number or null`);
      case 'bigint':
        return fail('is a BigInt, which JSON cannot store: pass a string or a number');
      case 'undefined':
        return fail('is undefined, which JSON cannot store (inside an array it becomes null): use null');
      case 'function':
      case 'symbol':
        return fail(`is a ${typeof v}, which JSON drops`);
    }
    if (v === null) return null;
    const obj = v as object;
    if (open.has(obj)) return fail('refers back to itself (a cycle), which JSON cannot store');
    if (path.length >= MAX_DEPTH) return fail(`nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(obj)) {
      open.add(obj);
      for (let i = 0; i < obj.length; i++) {
        path.push(i);
        const r = visit(obj[i]);
        path.pop();
        if (r) return r;
      }
      open.delete(obj);
      return null;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) return fail(describeInstance(obj));
    open.add(obj);
    for (const key of Object.keys(obj)) {
      const keyProblem = checkString(key);
      path.push(key);
      if (keyProblem) return fail(`has a key that ${keyProblem.slice(0, 1).toLowerCase()}${keyProblem.slice(1)}`);
      const child = (obj as Record<string, unknown>)[key];
      // An undefined property is left out by JSON; reading it back gives undefined again.
      const r = child === undefined ? null : visit(child);
      path.pop();
      if (r) return r;
    }
    open.delete(obj);
    return null;
  }
  return visit(value);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored unchanged by every store, or `null`. */
export function checkString(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which Postgres cannot store';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not well-formed Unicode), which Postgres cannot store';
  return null;
}

function describeInstance(obj: object): string {
  if (obj instanceof Date) return 'is a Date, which JSON stores as a string: pass an ISO string or epoch milliseconds';
  if (obj instanceof Set) return 'is a Set, which JSON stores as {}: pass an array';
  if (obj instanceof Map) return 'is a Map, which JSON stores as {}: pass a plain object or an array of pairs';
  const name = (obj.constructor as { name?: unknown } | undefined)?.name;
  const what = typeof name === 'string' && name !== '' ? `a ${name.slice(0, 40)} instance` : 'an object with a custom prototype';
  return `is ${what}, which JSON stores as a plain object (or via toJSON): pass plain objects, arrays, strings, finite numbers, booleans and null`;
}

/**
 * `s` with what no store can keep replaced by U+FFFD: for text jobwing stores on a handler's
 * behalf (error and progress messages), where refusing would lose the failure itself.
 */
export function toStorableText(s: string): string {
  if (!s.includes('\u0000') && !LONE_SURROGATE.test(s)) return s;
  return s.replace(/\u0000/g, '\ufffd').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
}
