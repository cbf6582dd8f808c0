// The poses family: 3T protein–ligand conformations over a differentiable CHARMM force field.
export * from './experiment.js';
export * from './forcefield.js';
export * from './lammps.js';
export * from './picture.js';
export * from './structure.js';
export * from './tiers.js';
