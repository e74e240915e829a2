// Seeded randomness for property tests: the same seed gives the same scenario, so a
// failure message that names its seed is reproducible.

/** mulberry32: small, fast, and the same sequence for the same seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
  chance: (p: number) => boolean;
}

export function seeded(seed: number): Random {
  const random = generator(seed);
  return { random, pick: (items) => items[Math.floor(random() * items.length)]!, chance: (p) => random() < p };
}
