// A small deterministic PRNG (mulberry32) for generated test inputs, so a failure can be replayed from its
// seed: the simulators' own (src/sim/seeded-random.ts), under the name the tests use.
export { seededRandom as rng } from '../../src/sim/seeded-random.js';
