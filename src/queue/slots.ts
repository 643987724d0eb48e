/**
 * A counting semaphore: at most `size` tasks run at once, the others wait in order. A worker
 * holds more jobs than it computes at once (the ones waiting for their publish batch to commit),
 * and this bounds the computing ones to its --concurrency.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`slots must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** `task` once a slot is free; the slot is given back when it settles, whichever way. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next task in line, or back to the free count.
      if (next === undefined) this.free++;
      else next();
    }
  }
}
