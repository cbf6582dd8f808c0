// A PNG of ligand poses over the pocket: ball-and-stick, orthographic projection onto the two main
// axes of the ligand, painted back to front. Pocket atoms grey (heavy atoms of residues near the
// ligand), each pose's ligand in its own colour, the crystal ligand (if given) in black.
import { writePng } from '../train/png.js';

export interface Pose {
  /** x, y, z per atom, flat (heavy atoms). */
  pos: number[][];
  bonds: [number, number][];
  colour: [number, number, number];
  radius: number;
}

const PALETTE: [number, number, number][] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [188, 189, 34],
  [23, 190, 207],
  [127, 127, 127],
];
export const poseColour = (k: number) => PALETTE[k % PALETTE.length];

/** Principal axes (largest variance first) of points, by power iteration with deflation. */
function axes(points: number[][]): { centre: number[]; u: number[]; v: number[]; w: number[] } {
  const n = points.length;
  const centre = [0, 1, 2].map((c) => points.reduce((s, p) => s + p[c], 0) / n);
  const C = [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) => points.reduce((s, p) => s + (p[i] - centre[i]) * (p[j] - centre[j]), 0)),
  );
  const power = (M: number[][], start: number[]) => {
    let x = start;
    for (let it = 0; it < 200; it++) {
      const y = M.map((r) => r[0] * x[0] + r[1] * x[1] + r[2] * x[2]);
      const norm = Math.hypot(...y) || 1;
      x = y.map((v) => v / norm);
    }
    return x;
  };
  const u = power(C, [1, 0.3, 0.1]);
  const lu = u.reduce((s, _, i) => s + u[i] * C[i].reduce((t, c, j) => t + c * u[j], 0), 0);
  const D = C.map((r, i) => r.map((c, j) => c - lu * u[i] * u[j]));
  let v = power(D, [0.2, 1, 0.3]);
  const d = v[0] * u[0] + v[1] * u[1] + v[2] * u[2];
  v = v.map((x, i) => x - d * u[i]);
  const nv = Math.hypot(...v);
  v = v.map((x) => x / nv);
  const w = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  return { centre, u, v, w };
}

/** Draws the poses into a PNG of size×size pixels; the view frames the first pose (the ligand). */
export function drawPoses(file: string, poses: Pose[], frame: number[][], size = 640): void {
  const { centre, u, v, w } = axes(frame);
  const proj = (p: number[]) => {
    const d = p.map((x, c) => x - centre[c]);
    return [
      d[0] * u[0] + d[1] * u[1] + d[2] * u[2],
      d[0] * v[0] + d[1] * v[1] + d[2] * v[2],
      d[0] * w[0] + d[1] * w[1] + d[2] * w[2],
    ];
  };
  const extent = Math.max(...frame.map((p) => Math.max(Math.abs(proj(p)[0]), Math.abs(proj(p)[1])))) + 4;
  const scale = size / (2 * extent);
  const img = new Uint8Array(size * size * 3).fill(255);
  const depth = new Float64Array(size * size).fill(-Infinity);
  const shade = (c: [number, number, number], z: number, bright: number) => {
    const f = Math.max(0.35, Math.min(1, 0.7 + z / (2 * extent))) * bright;
    return c.map((x) => Math.min(255, Math.round(x * f + (1 - f) * 255 * 0.15)));
  };
  const put = (x: number, y: number, z: number, c: number[]) => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    const k = y * size + x;
    if (z < depth[k]) return;
    depth[k] = z;
    img.set(c, 3 * k);
  };
  for (const p of poses) {
    const q = p.pos.map(proj).map(([x, y, z]) => [size / 2 + x * scale, size / 2 - y * scale, z]);
    for (const [a, b] of p.bonds) {
      const steps = Math.ceil(Math.hypot(q[b][0] - q[a][0], q[b][1] - q[a][1]) * 2) + 1;
      for (let s = 0; s <= steps; s++) {
        const t = s / steps;
        const x = q[a][0] + t * (q[b][0] - q[a][0]);
        const y = q[a][1] + t * (q[b][1] - q[a][1]);
        const z = q[a][2] + t * (q[b][2] - q[a][2]) - 0.3;
        const c = shade(p.colour, z, 0.9);
        const half = Math.max(1, Math.round(p.radius * scale * 0.35));
        for (let dx = -half; dx <= half; dx++)
          for (let dy = -half; dy <= half; dy++) put(Math.round(x + dx), Math.round(y + dy), z, c);
      }
    }
    for (const [x, y, z] of q) {
      const r = p.radius * scale;
      for (let dx = -Math.ceil(r); dx <= r; dx++) {
        for (let dy = -Math.ceil(r); dy <= r; dy++) {
          const h = 1 - (dx * dx + dy * dy) / (r * r);
          if (h < 0) continue;
          put(
            Math.round(x + dx),
            Math.round(y + dy),
            z + Math.sqrt(h) * p.radius,
            shade(p.colour, z + Math.sqrt(h) * p.radius, 0.75 + 0.25 * Math.sqrt(h)),
          );
        }
      }
    }
  }
  writePng(file, { width: size, height: size, channels: 3, data: img });
}
