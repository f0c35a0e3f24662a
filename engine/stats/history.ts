// Ring-buffer history: the last FINE_POINTS samples as taken (one hour at one a second), and
// beyond them one averaged point per COARSE_FACTOR samples for COARSE_POINTS more (a day at 1 s).
// Memory is bounded per domain whatever the uptime; reads never copy more than asked for.

export const FINE_POINTS = 3600;
export const COARSE_FACTOR = 60;
export const COARSE_POINTS = 1440;

class Ring<T> {
  readonly #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size < this.capacity) {
      this.#items[(this.#start + this.#size) % this.capacity] = item;
      this.#size++;
    } else {
      this.#items[this.#start] = item;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  /** Items with time ≥ since, oldest first. */
  since(since: number, timeOf: (item: T) => number): T[] {
    // Binary search for the first item in the window: the ring is in time order.
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (timeOf(this.#at(mid)) < since) lo = mid + 1;
      else hi = mid;
    }
    const out: T[] = [];
    for (let i = lo; i < this.#size; i++) out.push(this.#at(i));
    return out;
  }

  #at(i: number): T {
    return this.#items[(this.#start + i) % this.capacity]!;
  }
}

/** Averages numeric fields (and arrays of numbers) of points; a null in any point makes it null. */
export function averagePoints<T extends { time: number }>(points: readonly T[]): T {
  const last = points[points.length - 1]!;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(last as Record<string, unknown>)) {
    if (key === 'time' || /Total$|^cpuTime$/.test(key)) {
      out[key] = value; // counters and the time: the latest
    } else if (typeof value === 'number') {
      const values = points.map((p) => (p as Record<string, unknown>)[key]);
      out[key] = values.every((v) => typeof v === 'number') ? (values as number[]).reduce((a, b) => a + b, 0) / values.length : null;
    } else if (Array.isArray(value)) {
      out[key] = (value as number[]).map((_, i) => points.reduce((a, p) => a + (((p as Record<string, unknown>)[key] as number[] | undefined)?.[i] ?? 0), 0) / points.length);
    } else {
      out[key] = value;
    }
  }
  return out as T;
}

export class History<T extends { time: number }> {
  readonly #fine: Ring<T>;
  readonly #coarse: Ring<T>;
  #pending: T[] = [];

  constructor(fine = FINE_POINTS, coarse = COARSE_POINTS, readonly factor = COARSE_FACTOR) {
    this.#fine = new Ring(fine);
    this.#coarse = new Ring(coarse);
  }

  get size(): number {
    return this.#fine.size + this.#coarse.size;
  }

  push(point: T): void {
    this.#fine.push(point);
    this.#pending.push(point);
    if (this.#pending.length >= this.factor) {
      this.#coarse.push(averagePoints(this.#pending));
      this.#pending = [];
    }
  }

  /**
   * Points with time ≥ since, oldest first: coarse ones for the span before the fine ring begins,
   * then the fine ones. With maxPoints, consecutive points are averaged down to at most that many.
   */
  since(since: number, maxPoints?: number): T[] {
    const fine = this.#fine.since(since, (p) => p.time);
    const fineStart = fine[0]?.time ?? Infinity;
    const coarse = this.#coarse.since(since, (p) => p.time).filter((p) => p.time < fineStart);
    const all = coarse.length ? [...coarse, ...fine] : fine;
    return maxPoints && all.length > maxPoints ? decimate(all, maxPoints) : all;
  }
}

function decimate<T extends { time: number }>(points: readonly T[], maxPoints: number): T[] {
  const per = Math.ceil(points.length / maxPoints);
  const out: T[] = [];
  for (let i = 0; i < points.length; i += per) out.push(averagePoints(points.slice(i, i + per)));
  return out;
}
