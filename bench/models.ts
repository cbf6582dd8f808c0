// Models shared by several benchmarks.
import { nn } from '../src/index.js';

/** The small conv net of bench:engine (c) and bench:sweep: 3 × (conv 3×3 + GroupNorm + SiLU), pooled, linear. */
export function smallConvNet(): nn.Sequential {
  const block = (cin: number, cout: number, groups: number) => [
    new nn.Conv2d(cin, cout, 3, { padding: 1 }),
    new nn.GroupNorm(groups, cout),
    new nn.SiLU(),
  ];
  return new nn.Sequential(
    ...block(1, 16, 4),
    ...block(16, 32, 8),
    ...block(32, 32, 8),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Linear(32, 10),
  );
}
