// Each family's config.json validator: a valid config passes; a wrong, missing or unknown field, or
// another family's run, is refused with a one-line message naming it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifierConfig, parseClassifierConfig } from '../../src/classifier/experiment.js';
import { parseVdmConfig, vdmConfig } from '../../src/diffusion/experiment.js';
import { flowsConfig, parseFlowsConfig } from '../../src/flows/experiment.js';
import { GenlabError } from '../../src/torch/errors.js';
import { parseVaeConfig, vaeConfig } from '../../src/vae/experiment.js';

const families = [
  { family: 'classifier', parse: parseClassifierConfig, valid: classifierConfig('digits'), field: 'batchSize' },
  { family: 'flows', parse: parseFlowsConfig, valid: flowsConfig('digits'), field: 'levels' },
  { family: 'diffusion', parse: parseVdmConfig, valid: vdmConfig('digits'), field: 'gammaMax' },
  { family: 'vae', parse: parseVaeConfig, valid: vaeConfig('ivae', 'ica'), field: 'latent' },
];

function refused(fn: () => unknown, pattern: RegExp, kind = 'config'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GenlabError, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('each family parses its own valid config as it was written', () => {
  for (const { parse, valid } of families) {
    assert.deepEqual(parse(JSON.parse(JSON.stringify(valid)), 'config.json'), valid);
  }
});

test('a field of the wrong type, a missing field and an unknown field are refused by name', () => {
  for (const { family, parse, valid, field } of families) {
    const raw = JSON.parse(JSON.stringify(valid));
    refused(
      () => parse({ ...raw, [field]: 'many' }, 'x/config.json'),
      new RegExp(`^x/config\\.json: field ${field}: .*number`),
    );
    const { [field]: _, ...missing } = raw;
    refused(() => parse(missing, 'x/config.json'), new RegExp(`field ${field}: `), 'config');
    refused(() => parse({ ...raw, stpes: 3 }, 'x/config.json'), /unrecognized key.*'stpes'/i);
    refused(() => parse(null, 'x/config.json'), new RegExp(`not a ${family} run \\(no family\\)`), 'run');
  }
});

test("another family's run is named as such, before its fields are checked", () => {
  for (const { family, parse } of families) {
    const other = family === 'vae' ? flowsConfig('digits') : vaeConfig('vae', 'digits');
    refused(
      () => parse(other, 'r/config.json'),
      new RegExp(`^r/config\\.json: not a ${family} run \\(family '${other.family}'\\)$`),
      'run',
    );
  }
});

test('nested and cross-field rules: VDM endpoints, VAE data options', () => {
  const vdm = vdmConfig('digits');
  refused(
    () => parseVdmConfig({ ...vdm, gammaMax: vdm.gammaMin - 1 }, 'c.json'),
    /field gammaMax: 'gammaMax' must exceed 'gammaMin'/,
  );
  const ivae = vaeConfig('ivae', 'ica');
  refused(() => parseVaeConfig({ ...ivae, ica: { ...ivae.ica, segments: 0 } }, 'c.json'), /field ica\.segments: /);
  refused(() => parseVaeConfig({ ...ivae, variance: -1 }, 'c.json'), /field variance: /);
});
