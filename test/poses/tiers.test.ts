// The tiered transforms on the FXa ligand: fragments at rotatable bonds, rigid groups keep their
// geometry, a torsion move changes only the dihedrals about its bond, fixed atoms stay put.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readLammpsData, readRotbond } from '../../src/poses/lammps.js';
import {
  addTorsionAxes,
  loopSegments,
  pocketGroups,
  splitAtRotatableBonds,
  TieredTransform,
} from '../../src/poses/tiers.js';
import { noGrad } from '../../src/torch/autograd.js';
import { tensor } from '../../src/torch/creation.js';
import { EMBEDDED_LIGAND } from './helpers.js';

const sys = readLammpsData(EMBEDDED_LIGAND.data);
const rot = readRotbond(EMBEDDED_LIGAND.rotbond, sys);
const fragments = splitAtRotatableBonds(sys.nAtoms, sys.bonds.atoms, rot);
const groups = addTorsionAxes(
  fragments.map((atoms) => ({ atoms, resid: -1 })),
  sys.nAtoms,
  sys.bonds.atoms,
);

const dist = (p: Float64Array, a: number, b: number) =>
  Math.hypot(p[3 * a] - p[3 * b], p[3 * a + 1] - p[3 * b + 1], p[3 * a + 2] - p[3 * b + 2]);

function dihedral(p: Float64Array, [i, j, k, l]: number[]): number {
  const v = (a: number, b: number) => [0, 1, 2].map((c) => p[3 * b + c] - p[3 * a + c]);
  const cross = (a: number[], b: number[]) => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ];
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const [b1, b2, b3] = [v(i, j), v(j, k), v(k, l)];
  const n1 = cross(b1, b2);
  const n2 = cross(b2, b3);
  return Math.atan2(Math.sqrt(dot(b2, b2)) * dot(b1, n2), dot(n1, n2));
}

const positions = (t: TieredTransform) => noGrad(() => t.positions().contiguous().toTypedArray() as Float64Array);

test('the FXa ligand splits at its 4 rotatable bonds into 5 fragments covering every atom once', () => {
  assert.equal(rot.length, 4);
  assert.equal(fragments.length, 5);
  assert.deepEqual(
    fragments.flat().sort((a, b) => a - b),
    Array.from({ length: sys.nAtoms }, (_, k) => k),
  );
  // No bond inside a fragment is rotatable; every rotatable bond joins two fragments.
  const of = new Map(fragments.flatMap((f, k) => f.map((a) => [a, k])));
  for (const { a, b } of rot) assert.notEqual(of.get(a), of.get(b));
  assert.ok(
    groups.some((g) => g.torsion),
    'terminal fragments get a torsion axis',
  );
});

test('rigid-body and segment tiers keep every distance inside each group within 1e-6 Å', () => {
  const t = new TieredTransform(sys.pos, { groups, segments: loopSegments(groups, []) }, { dtype: 'float64' });
  noGrad(() => {
    t.rotation.copy_(
      tensor(
        groups.map((_, k) => [0.3 * k + 0.2, -0.7, 1.1 - 0.2 * k]),
        { dtype: 'float64' },
      ),
    );
    t.translation.copy_(
      tensor(
        groups.map((_, k) => [k, -2, 0.5]),
        { dtype: 'float64' },
      ),
    );
    t.segmentRotation.copy_(tensor([[0.4, 0.9, -1.3]], { dtype: 'float64' }));
    t.segmentTranslation.copy_(tensor([[3, 1, -4]], { dtype: 'float64' }));
  });
  const p = positions(t);
  let worst = 0;
  let moved = 0;
  for (const g of groups) {
    for (const a of g.atoms) {
      moved = Math.max(moved, dist(p, a, a) + Math.abs(p[3 * a] - sys.pos[3 * a]));
      for (const b of g.atoms) worst = Math.max(worst, Math.abs(dist(p, a, b) - dist(sys.pos, a, b)));
    }
  }
  assert.ok(moved > 1, 'the groups did move');
  assert.ok(worst < 1e-6, `a distance changed by ${worst} Å`);
});

test('a torsion move changes only the dihedrals about its bond, by exactly its angle', () => {
  const t = new TieredTransform(sys.pos, { groups, segments: [] }, { dtype: 'float64' });
  const k = groups.findIndex((g) => g.torsion);
  const { anchor, pivot } = groups[k].torsion as { anchor: number; pivot: number };
  const turn = 0.7;
  const angles = Array.from({ length: t.torsion.shape[0] }, () => 0);
  angles[groups.slice(0, k).filter((g) => g.torsion).length] = turn;
  noGrad(() => t.torsion.copy_(tensor(angles, { dtype: 'float64' })));
  const p = positions(t);
  const D = sys.dihedrals.atoms;
  let changedAbout = 0;
  for (let r = 0; r < D.length; r += 4) {
    const q = [D[r], D[r + 1], D[r + 2], D[r + 3]];
    const before = dihedral(sys.pos, q);
    const after = dihedral(p, q);
    const delta = Math.atan2(Math.sin(after - before), Math.cos(after - before));
    const about = (q[1] === anchor && q[2] === pivot) || (q[1] === pivot && q[2] === anchor);
    if (about) {
      changedAbout++;
      assert.ok(Math.abs(Math.abs(delta) - turn) < 1e-9, `dihedral ${q} turned by ${delta}`);
    } else assert.ok(Math.abs(delta) < 1e-9, `dihedral ${q} changed by ${delta}`);
  }
  assert.ok(changedAbout > 0);
  // Bond lengths and angles are untouched.
  const B = sys.bonds.atoms;
  for (let r = 0; r < B.length; r += 2)
    assert.ok(Math.abs(dist(p, B[r], B[r + 1]) - dist(sys.pos, B[r], B[r + 1])) < 1e-9);
  const A = sys.angles.atoms;
  for (let r = 0; r < A.length; r += 3)
    assert.ok(Math.abs(dist(p, A[r], A[r + 2]) - dist(sys.pos, A[r], A[r + 2])) < 1e-9);
});

test('atoms outside the pocket never move, whatever the parameters (free atoms too)', () => {
  // A pocket of 4 Å around the first atom: only the groups with an atom inside may move.
  const centre = [sys.pos[0], sys.pos[1], sys.pos[2]];
  const pocket = pocketGroups(groups, sys.pos, centre, 4);
  assert.ok(pocket.length > 0 && pocket.length < groups.length);
  const t = new TieredTransform(sys.pos, { groups: pocket, segments: [pocket.map((_, k) => k)] }, { freeAtoms: true });
  noGrad(() => {
    for (const prm of t.parameters())
      prm.copy_(
        tensor(
          Array.from({ length: prm.numel() }, (_, k) => Math.sin(k + 1)),
          { dtype: 'float64', shape: prm.shape },
        ),
      );
  });
  const p = positions(t);
  const inPocket = t.movableMask();
  let moved = 0;
  for (let a = 0; a < sys.nAtoms; a++) {
    if (inPocket[a]) moved++;
    else for (let c = 0; c < 3; c++) assert.equal(p[3 * a + c], sys.pos[3 * a + c], `atom ${a} moved`);
  }
  assert.ok(moved > 0);
});
