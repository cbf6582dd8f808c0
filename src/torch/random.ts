// Seeding and explicit random generators.
import { N } from './native.js';

/** Seeds the default generator of every device, as torch.manual_seed. */
export function manualSeed(seed: number): void {
  checkSeed(seed);
  N.manualSeed(seed);
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
}

const generatorBackstop = new FinalizationRegistry<number>((id) => N.freeGenerator(id));

/** A CPU random generator with its own seed and state; pass it as `{generator}` to random ops. */
export class Generator {
  readonly id: number;

  constructor(seed = 0, id?: number) {
    if (id !== undefined) {
      this.id = id;
      return;
    }
    checkSeed(seed);
    this.id = N.newGenerator(seed);
    generatorBackstop.register(this, this.id);
  }

  /** Reseeds this generator (a non-negative integer), restarting its sequence. */
  manualSeed(seed: number): this {
    checkSeed(seed);
    N.generatorSetSeed(this.id, seed);
    return this;
  }

  /** The seed this generator was last seeded with. */
  initialSeed(): number {
    return N.generatorSeed(this.id);
  }

  /** The whole state as bytes, for checkpoints. */
  getState(): Uint8Array {
    const h = N.generatorGetState(this.id);
    try {
      return new Uint8Array(N.toBuffer(h));
    } finally {
      N.free(h);
    }
  }

  /** Restores a state saved by getState(). */
  setState(state: Uint8Array): void {
    const h = N.fromBuffer(state, [state.length], 0);
    try {
      N.generatorSetState(this.id, h);
    } finally {
      N.free(h);
    }
  }
}

/** libtorch's default CPU generator, the one manualSeed() seeds. */
export const defaultGenerator = new Generator(0, 0);
