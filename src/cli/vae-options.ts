// The options of `genlab vae train` for the nonlinear-ICA benchmark and ilkhem/iVAE's runner setting
// (--preset reference sets them all; each can also be given alone), and their conversion to settings.
import { GenlabError } from '../torch/errors.js';
import { VAE_DATA } from '../vae/data.js';
import { ICA_DEFAULTS, type VaeSettings } from '../vae/experiment.js';
import { choice, float, floats, int, text } from './args.js';

const icaInt = (help: string, dflt: number) => int(`ica: ${help}`, { min: 1, max: 1e7, defaultText: String(dflt) });
const onOff = ['on', 'off'] as const;

export const referenceOptions = {
  preset: choice("reference: ilkhem/iVAE's runner (ivae or vae on ica); other options override it", ['reference']),
  init: choice("MLP init: PyTorch's default, Xavier, or Xavier with zero biases", [
    'pytorch',
    'xavier',
    'xavier-zero-bias',
  ]),
  slope: float('slope of lrelu / linear term of xtanh in the MLPs', { min: 0, max: 10, defaultText: '0.1' }),
  splitEncoder: choice('separate networks for the encoder mean and log-variance', onOff, { defaultText: 'off' }),
  weights: floats('constant weights a,b,c,d of the reweighted ELBO (turns --anneal off)', {
    min: 0,
    max: 1e9,
    defaultText: 'the plain ELBO',
  }),
  lrSchedule: choice('learning-rate schedule', ['cosine', 'plateau'], { defaultText: 'cosine' }),
  plateauFactor: float('plateau: lr factor after an epoch without improvement', {
    min: 1e-6,
    max: 1,
    defaultText: '0.1',
  }),
  plateauPatience: int('plateau: epochs without improvement before reducing', { min: 0, max: 1e6, defaultText: '0' }),
  epochs: int('training length in epochs of the ica data (overrides --steps)', { min: 1, max: 1e6 }),
  segments: icaInt('segments', ICA_DEFAULTS.segments),
  perSegment: icaInt('points per segment', ICA_DEFAULTS.perSegment),
  dim: icaInt('source dimension', ICA_DEFAULTS.dim),
  mixLayers: icaInt('layers of the mixing MLP', ICA_DEFAULTS.layers),
  mixActivation: choice('ica: mixing nonlinearity', ['lrelu', 'xtanh', 'none'], {
    defaultText: ICA_DEFAULTS.activation,
  }),
  mixRepeat: choice('ica: one mixing matrix repeated across layers, as the reference runner', onOff, {
    defaultText: 'off',
  }),
  scaleRange: floats('ica: per-segment source scales U(lo,hi), e.g. 0.5,3', {
    min: 1e-6,
    max: 1e6,
    defaultText: '0.5,3',
  }),
  source: choice('ica: source distribution', ['gauss', 'laplace'], { defaultText: ICA_DEFAULTS.source }),
};

/** --data: a name, or ica:<file.npz> for an external ICA data set (keys x, u, s). */
export const dataOption = text(`data set: ${VAE_DATA.join(', ')}, or ica:<file.npz> (keys x, u, s)`, {
  default: 'ica',
});

export function parseData(data: string): { data: (typeof VAE_DATA)[number]; icaFile?: string } {
  if (data.startsWith('ica:') && data.length > 4) return { data: 'ica', icaFile: data.slice(4) };
  if ((VAE_DATA as readonly string[]).includes(data)) return { data: data as (typeof VAE_DATA)[number] };
  throw new GenlabError('usage', `unknown data '${data}'`, `choose {data} ${VAE_DATA.join(', ')} or ica:<file.npz>`);
}

const on = (v: 'on' | 'off' | undefined) => (v === undefined ? undefined : v === 'on');

type ReferenceValues = { [K in keyof typeof referenceOptions]?: unknown } & {
  preset?: 'reference';
  init?: 'pytorch' | 'xavier' | 'xavier-zero-bias';
  slope?: number;
  splitEncoder?: 'on' | 'off';
  weights?: number[];
  lrSchedule?: 'cosine' | 'plateau';
  plateauFactor?: number;
  plateauPatience?: number;
  epochs?: number;
  segments?: number;
  perSegment?: number;
  dim?: number;
  mixLayers?: number;
  mixActivation?: 'lrelu' | 'xtanh' | 'none';
  mixRepeat?: 'on' | 'off';
  scaleRange?: number[];
  source?: 'gauss' | 'laplace';
};

type Given = 'preset' | 'xavier' | 'zeroBias' | 'slope' | 'splitEncoder' | 'weights' | 'lrSchedule' | 'plateau';
/** Every key present (possibly undefined), so it replaces the raw option values when spread after them. */
type ReferenceSettings = { [K in Given | 'epochs' | 'ica']-?: VaeSettings[K] | undefined };

/** The settings these options give (unset ones stay unset, so presets and defaults apply). */
export function referenceSettings(o: ReferenceValues): ReferenceSettings {
  if (o.weights && o.weights.length !== 4) {
    throw new GenlabError('usage', `weights takes four numbers a,b,c,d, got ${o.weights.length}`, 'check {weights}');
  }
  if (o.scaleRange && (o.scaleRange.length !== 2 || o.scaleRange[0] > o.scaleRange[1])) {
    throw new GenlabError('usage', 'scale-range takes lo,hi with lo ≤ hi', 'check {scaleRange}');
  }
  const plateau =
    o.plateauFactor !== undefined || o.plateauPatience !== undefined
      ? { factor: o.plateauFactor ?? 0.1, patience: o.plateauPatience ?? 0, threshold: 1e-4 }
      : undefined;
  const [a, b, c, d] = o.weights ?? [];
  return {
    preset: o.preset,
    xavier: o.init === undefined ? undefined : o.init !== 'pytorch',
    zeroBias: o.init === undefined ? undefined : o.init === 'xavier-zero-bias',
    slope: o.slope,
    splitEncoder: on(o.splitEncoder),
    weights: o.weights ? { a, b, c, d } : undefined,
    lrSchedule: o.lrSchedule ?? (plateau ? 'plateau' : undefined),
    plateau,
    epochs: o.epochs,
    ica: {
      segments: o.segments,
      perSegment: o.perSegment,
      dim: o.dim,
      layers: o.mixLayers,
      activation: o.mixActivation,
      repeatMatrix: on(o.mixRepeat),
      scaleRange: o.scaleRange as [number, number] | undefined,
      source: o.source,
    },
  };
}
