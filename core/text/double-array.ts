/**
 * The layout of a double-array trie, shared by the rule matcher (core/rules/matcher.ts) and the
 * segmenter's dictionary (core/segment/word-dictionary.ts): breadth first, each state's children
 * placed at the first base where all their slots are free. A child of state s on unit id c sits at
 * slot base[s] + c with check = s; slot 0 is the root.
 */

/** Placement heuristics, chosen by measurement (build time against density). */
const DENSE_SPAN = 20;
const BIG_NODE = 16;
const BIG_WINDOW = 4096;

export interface DoubleArrayLayout {
  /** Parent of each slot, -1 where free. */
  check: Int32Array;
  base: Int32Array;
  /** Length of `check` and `base` (a power of two, at least `size`). */
  capacity: number;
  /** Slots a walk can reach: one past every slot used and every base + alphabet. */
  size: number;
  /** The states in breadth-first order, the root first. */
  order: Int32Array;
  /** Per key, the state where it ends (-1 for the empty key, which ends nowhere). */
  stateOf: Int32Array;
}

export interface DoubleArrayOptions {
  /**
   * Give every state with children a base of its own (the root keeps 0). A slot's label (the id
   * that leads into it) then names its parent as well as `check` does — base = slot − label —
   * so a walk may check 16-bit labels instead of 32-bit parents (core/rules/matcher.ts).
   */
  uniqueBases?: boolean;
}

/**
 * Lays out distinct `keys` given in code-unit order; `idOf` maps a code unit to its id in an
 * alphabet of `alphabet` ids (1-based; 0 unused).
 */
export function layOutDoubleArray(keys: readonly string[], idOf: Uint16Array, alphabet: number, options: DoubleArrayOptions = {}): DoubleArrayLayout {
  const uniqueBases = options.uniqueBases ?? false;
  let capacity = 1024;
  while (capacity < alphabet * 2 + 2) capacity <<= 1;
  let check = new Int32Array(capacity).fill(-1);
  let base = new Int32Array(capacity);
  /** Free slots as a doubly linked list over 1..capacity-1 (slot 0 is the root). */
  let nextFree = new Int32Array(capacity);
  let prevFree = new Int32Array(capacity);
  /** With unique bases: bases taken (the root's 0 from the start). */
  let baseTaken = new Uint8Array(uniqueBases ? capacity : 0);
  if (uniqueBases) baseTaken[0] = 1;
  const link = (from: number, to: number) => {
    for (let s = from; s < to; s++) {
      nextFree[s] = s + 1;
      prevFree[s] = s - 1;
    }
  };
  link(1, capacity);
  nextFree[capacity - 1] = 0;
  prevFree[1] = 0;
  let head = 1;
  let tail = capacity - 1;
  /**
   * Free slots where searches for states with several children start (0: past the end). Single
   * children take the first free slot from the head. A search that crossed a region at least
   * 1 - 1/{@link DENSE_SPAN} full moves `cursor` past it (double-array tries do the same); states
   * with {@link BIG_NODE} or more children, whose ids spread over most of the alphabet and fit
   * nowhere in the packed front, search from `bigCursor`, which trails the last one placed by
   * {@link BIG_WINDOW} slots. This keeps the build near-linear at a small cost in density.
   */
  let cursor = 1;
  let bigCursor = 1;
  const grow = (need: number) => {
    let size = capacity;
    while (size <= need) size <<= 1;
    const widen = (a: Int32Array, fill: number) => {
      const b = new Int32Array(size).fill(fill);
      b.set(a);
      return b;
    };
    check = widen(check, -1);
    base = widen(base, 0);
    nextFree = widen(nextFree, 0);
    prevFree = widen(prevFree, 0);
    if (uniqueBases) {
      const taken = new Uint8Array(size);
      taken.set(baseTaken);
      baseTaken = taken;
    }
    link(capacity, size);
    nextFree[size - 1] = 0;
    if (tail === 0) {
      head = capacity;
      prevFree[capacity] = 0;
    } else {
      nextFree[tail] = capacity;
      prevFree[capacity] = tail;
    }
    tail = size - 1;
    if (cursor === 0) cursor = capacity;
    if (bigCursor === 0) bigCursor = capacity;
    capacity = size;
  };
  const occupy = (s: number, parent: number) => {
    check[s] = parent;
    const p = prevFree[s]!;
    const n = nextFree[s]!;
    if (p === 0) head = n;
    else nextFree[p] = n;
    if (n === 0) tail = p;
    else prevFree[n] = p;
    if (s === cursor) cursor = n;
    if (s === bigCursor) bigCursor = n;
  };
  /** The first free slot after `from`, walking the free list from free slot `e` (0: none left). */
  const freeAfter = (from: number, e: number) => {
    while (e !== 0 && e <= from) e = nextFree[e]!;
    if (e === 0) {
      e = Math.max(capacity, from + 1);
      grow(e + alphabet + 1);
    }
    return e;
  };

  const stateOf = new Int32Array(keys.length).fill(-1);
  /** Breadth-first queue of (slot, lo, hi, depth); its slots are the breadth-first order. */
  let queue = new Int32Array(1 << 16);
  let emptyKeys = 0;
  while (emptyKeys < keys.length && keys[emptyKeys]!.length === 0) emptyKeys++;
  queue.set([0, emptyKeys, keys.length, 0]);
  let queued = 4;
  const childIds: number[] = [];
  const childLo: number[] = [];
  let last = 0;
  for (let q = 0; q < queued; q += 4) {
    const slot = queue[q]!;
    let lo = queue[q + 1]!;
    const hi = queue[q + 2]!;
    const depth = queue[q + 3]!;
    if (slot > last) last = slot;
    while (lo < hi && keys[lo]!.length === depth) stateOf[lo++] = slot;
    if (lo === hi) continue;
    childIds.length = 0;
    childLo.length = 0;
    let unit = -1;
    let first = 0xffff;
    let lastId = 0;
    for (let k = lo; k < hi; k++) {
      const c = keys[k]!.charCodeAt(depth);
      if (c !== unit) {
        unit = c;
        const id = idOf[c]!;
        childIds.push(id);
        childLo.push(k);
        if (id < first) first = id;
        if (id > lastId) lastId = id;
      }
    }
    childLo.push(hi);
    // First fit over free slots: base = e - first, with every child slot free.
    let b = 0;
    if (slot !== 0 && childIds.length === 1) {
      let e = freeAfter(first, head);
      while (uniqueBases && baseTaken[e - first] === 1) e = freeAfter(e, e);
      b = e - first;
    } else if (slot !== 0) {
      const big = childIds.length >= BIG_NODE;
      const start = big ? bigCursor : cursor;
      const from = start > first ? start : 0;
      let e = freeAfter(first, start);
      let tries = 0;
      for (;;) {
        if (e === 0) {
          e = capacity;
          grow(capacity + alphabet + 1);
        }
        b = e - first;
        if (b + lastId >= capacity) grow(b + lastId + 1);
        let fits = !uniqueBases || baseTaken[b] === 0;
        for (let j = 0; fits && j < childIds.length; j++) {
          if (check[b + childIds[j]!] !== -1) {
            fits = false;
            break;
          }
        }
        if (fits) break;
        tries++;
        e = nextFree[e]!;
      }
      if (big) {
        let c = Math.max(bigCursor, e - BIG_WINDOW, 1);
        while (c < capacity && check[c] !== -1) c++;
        bigCursor = c < capacity ? c : 0;
      } else if (from !== 0 && tries * DENSE_SPAN <= e - from) {
        cursor = e;
      }
    } else if (lastId >= capacity) {
      grow(lastId + 1);
    }
    base[slot] = b;
    if (uniqueBases) baseTaken[b] = 1;
    if (queued + 4 * childIds.length > queue.length) {
      const wider = new Int32Array(Math.max(queue.length * 2, queued + 4 * childIds.length));
      wider.set(queue);
      queue = wider;
    }
    for (let j = 0; j < childIds.length; j++) {
      const child = b + childIds[j]!;
      occupy(child, slot);
      queue[queued++] = child;
      queue[queued++] = childLo[j]!;
      queue[queued++] = childLo[j + 1]!;
      queue[queued++] = depth + 1;
    }
  }
  // Room for base + any id past the last used slot, so a walk never leaves the arrays.
  let maxBase = 0;
  for (let s = 0; s <= last; s++) if (base[s]! > maxBase) maxBase = base[s]!;
  const size = Math.max(last, maxBase + alphabet) + 1;
  if (size > capacity) grow(size);
  const order = new Int32Array(queued / 4);
  for (let i = 0; i < order.length; i++) order[i] = queue[i * 4]!;
  return { check, base, capacity, size, order, stateOf };
}
