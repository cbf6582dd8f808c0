// PyTorch's classic VAE example (Kingma & Welling 2014): an MLP encoder 784→400→(μ, log σ²) of 20
// latents, an MLP decoder 20→400→784, Bernoulli reconstruction loss plus the KL divergence to
// N(0, I), trained with Adam. Written with genlab, on Fashion-MNIST.
//
//   npx tsx examples/vae.ts --epochs 10 --out runs/vae
//
// Prints the average train and test loss per image of each epoch; writes, per epoch,
// <out>/reconstruction_<epoch>.png (8 test images over their reconstructions) and
// <out>/sample_<epoch>.png (64 decoded draws from the prior), and at the end the weights to
// <out>/vae.safetensors (PyTorch can read them).
import { join } from 'node:path';
import { data, nn, optim, torch, train } from 'genlab';
import { exampleArgs, fashionMnist, reportMemory } from './common.js';

const args = exampleArgs({ epochs: '10', 'batch-size': '128', lr: '1e-3', out: 'runs/vae' });
const { num, out, seed } = args;
const epochs = num('epochs', 1);
const batchSize = num('batch-size', 1);
const lr = num('lr', 0, false);

class VAE extends nn.Module<[torch.Tensor], [torch.Tensor, torch.Tensor, torch.Tensor]> {
  fc1 = new nn.Linear(784, 400);
  fc21 = new nn.Linear(400, 20);
  fc22 = new nn.Linear(400, 20);
  fc3 = new nn.Linear(20, 400);
  fc4 = new nn.Linear(400, 784);

  encode(x: torch.Tensor): [torch.Tensor, torch.Tensor] {
    const h1 = nn.F.relu(this.fc1.forward(x));
    return [this.fc21.forward(h1), this.fc22.forward(h1)];
  }

  reparameterize(mu: torch.Tensor, logvar: torch.Tensor): torch.Tensor {
    const std = logvar.mul(0.5).exp();
    const eps = torch.randnLike(std);
    return mu.add(eps.mul(std));
  }

  decode(z: torch.Tensor): torch.Tensor {
    const h3 = nn.F.relu(this.fc3.forward(z));
    return nn.F.sigmoid(this.fc4.forward(h3));
  }

  forward(x: torch.Tensor): [torch.Tensor, torch.Tensor, torch.Tensor] {
    const [mu, logvar] = this.encode(x.view(-1, 784));
    const z = this.reparameterize(mu, logvar);
    return [this.decode(z), mu, logvar];
  }
}

/** Reconstruction (binary cross entropy) plus KL divergence, summed over the batch. */
function lossFunction(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor): torch.Tensor {
  const bce = nn.F.binaryCrossEntropy(recon, x.view(-1, 784), { reduction: 'sum' });
  // KL(q(z|x) ‖ N(0, I)) = -½ Σ (1 + log σ² − μ² − σ²)
  const kld = logvar.add(1).sub(mu.pow(2)).sub(logvar.exp()).sum().mul(-0.5);
  return bce.add(kld);
}

function trainEpoch(model: VAE, loader: data.DataLoader, optimizer: optim.Optimizer): number {
  model.train();
  let total = 0;
  for (const { x } of loader) {
    total += torch.tidy(() => {
      optimizer.zeroGrad();
      const [recon, mu, logvar] = model.forward(x);
      const loss = lossFunction(recon, x, mu, logvar);
      loss.backward();
      optimizer.step();
      return loss.item();
    });
  }
  return total / loader.dataset.length;
}

/** Average test loss per image; writes 8 test images over their reconstructions to `grid`. */
function test(model: VAE, loader: data.DataLoader, grid: string): number {
  model.eval();
  let total = 0;
  let first = true;
  torch.noGrad(() => {
    for (const { x } of loader) {
      torch.tidy(() => {
        const [recon, mu, logvar] = model.forward(x);
        total += lossFunction(recon, x, mu, logvar).item();
        if (first) {
          const n = Math.min(x.shape[0], 8);
          const comparison = torch.cat([x.narrow(0, 0, n), recon.view(-1, 1, 28, 28).narrow(0, 0, n)]);
          train.saveImageGrid(grid, comparison, { nrow: n, scale: 2 });
          first = false;
        }
      });
    }
  });
  return total / loader.dataset.length;
}

const { trainSet, testSet } = fashionMnist(args);
const trainLoader = new data.DataLoader(trainSet, { batchSize, shuffle: true, seed });
const testLoader = new data.DataLoader(testSet, { batchSize });

const model = new VAE();
const optimizer = new optim.Adam(model.parameters(), { lr });

let testLoss = Number.NaN;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const start = performance.now();
  const trainLoss = trainEpoch(model, trainLoader, optimizer);
  testLoss = test(model, testLoader, join(out, `reconstruction_${epoch}.png`));
  torch.noGrad(() =>
    torch.tidy(() => {
      const sample = model.decode(torch.randn([64, 20]));
      train.saveImageGrid(join(out, `sample_${epoch}.png`), sample.view(64, 1, 28, 28), { scale: 2 });
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `epoch ${epoch}: train loss ${trainLoss.toFixed(2)}, test loss ${testLoss.toFixed(2)}, ${seconds.toFixed(1)} s`,
  );
  reportMemory(args, epoch);
}

// Checkpoint by the obvious route, then reload it into a fresh model and check the decoder agrees.
const checkpoint = join(out, 'vae.safetensors');
torch.tidy(() => torch.save(model.stateDict(), checkpoint));
const reloaded = new VAE();
torch.tidy(() => reloaded.loadStateDict(torch.load(checkpoint)));
const same = torch.noGrad(() =>
  torch.tidy(() => {
    const z = torch.randn([16, 20]);
    return model.decode(z).equal(reloaded.decode(z));
  }),
);
console.log(`reloaded ${checkpoint}: decoder ${same ? 'identical' : 'DIFFERENT'}`);

model.dispose();
reloaded.dispose();
optimizer.disposeState();
trainLoader.dispose();
testLoader.dispose();
trainSet.dispose();
testSet.dispose();
