// PyTorch's classic MNIST convolutional network (two convolutions, max-pooling, dropout, two linear
// layers, log-softmax; Adadelta with StepLR), written with genlab and trained on Fashion-MNIST.
//
//   npx tsx examples/cnn.ts --epochs 2 --subset 5000 --out runs/cnn
//
// Prints the train loss, test loss and test accuracy of each epoch; writes the weights to
// <out>/cnn.safetensors (PyTorch can read them) and a grid of misclassified test images to
// <out>/mistakes.png.
import { join } from 'node:path';
import { data, nn, optim, torch, train } from 'genlab';
import { exampleArgs, fashionMnist, reportMemory } from './common.js';

const args = exampleArgs(
  { epochs: '14', 'batch-size': '64', lr: '1.0', out: 'runs/cnn' },
  { 'test-batch-size': '1000', gamma: '0.7' },
);
const { num, out, seed } = args;
const epochs = num('epochs', 1);
const batchSize = num('batch-size', 1);
const testBatchSize = num('test-batch-size', 1);
const lr = num('lr', 0, false);
const gamma = num('gamma', 0, false);

class Net extends nn.Module<[torch.Tensor], torch.Tensor> {
  conv1 = new nn.Conv2d(1, 32, 3);
  conv2 = new nn.Conv2d(32, 64, 3);
  dropout1 = new nn.Dropout(0.25);
  dropout2 = new nn.Dropout(0.5);
  fc1 = new nn.Linear(9216, 128);
  fc2 = new nn.Linear(128, 10);

  forward(x: torch.Tensor): torch.Tensor {
    x = nn.F.relu(this.conv1.forward(x));
    x = nn.F.relu(this.conv2.forward(x));
    x = nn.F.maxPool2d(x, 2);
    x = this.dropout1.forward(x);
    x = x.flatten(1);
    x = nn.F.relu(this.fc1.forward(x));
    x = this.dropout2.forward(x);
    x = this.fc2.forward(x);
    return nn.F.logSoftmax(x, 1);
  }
}

// Fashion-MNIST's pixel mean and standard deviation, as transforms.Normalize((0.2860,), (0.3530,)).
const normalize: data.BatchTransform = ({ x, y }) => ({ x: x.sub(0.286).div(0.353), y });

function trainEpoch(model: Net, loader: data.DataLoader, optimizer: optim.Optimizer): number {
  model.train();
  let total = 0;
  let count = 0;
  for (const { x, y } of loader) {
    const loss = torch.tidy(() => {
      optimizer.zeroGrad();
      const output = model.forward(x);
      const loss = nn.F.nllLoss(output, y);
      loss.backward();
      optimizer.step();
      return loss.item();
    });
    total += loss * x.shape[0];
    count += x.shape[0];
  }
  return total / count;
}

interface Evaluation {
  loss: number;
  correct: number;
  count: number;
}

/** Test loss and accuracy; when `mistakes` is given, keeps up to 64 misclassified images in it. */
function test(model: Net, loader: data.DataLoader, mistakes?: torch.Tensor[]): Evaluation {
  model.eval();
  let loss = 0;
  let correct = 0;
  let count = 0;
  let kept = 0;
  torch.noGrad(() => {
    for (const { x, y } of loader) {
      torch.tidy(() => {
        const output = model.forward(x);
        loss += nn.F.nllLoss(output, y, { reduction: 'sum' }).item();
        const right = output.argmax(1).eq(y);
        correct += right.sum().item();
        count += x.shape[0];
        if (mistakes !== undefined && kept < 64) {
          const wrong = torch.ops.nonzero(right.logicalNot()).flatten();
          const k = Math.min(64 - kept, wrong.shape[0]);
          // Undo the normalisation for display; keep() lets the images outlive this tidy().
          if (k > 0)
            mistakes.push(
              x
                .indexSelect(0, wrong.narrow(0, 0, k))
                .mul(0.353)
                .add(0.286)
                .keep(),
            );
          kept += k;
        }
      });
    }
  });
  return { loss: loss / count, correct, count };
}

const { trainSet, testSet } = fashionMnist(args);
const trainLoader = new data.DataLoader(trainSet, { batchSize, shuffle: true, seed, transform: normalize });
const testLoader = new data.DataLoader(testSet, { batchSize: testBatchSize, transform: normalize });

const model = new Net();
const optimizer = new optim.Adadelta(model.parameters(), { lr });
const scheduler = new optim.StepLR(optimizer, { stepSize: 1, gamma });

let last: Evaluation = { loss: Number.NaN, correct: 0, count: 0 };
for (let epoch = 1; epoch <= epochs; epoch++) {
  const start = performance.now();
  const trainLoss = trainEpoch(model, trainLoader, optimizer);
  last = test(model, testLoader);
  scheduler.step();
  const seconds = (performance.now() - start) / 1000;
  const accuracy = (100 * last.correct) / last.count;
  console.log(
    `epoch ${epoch}: train loss ${trainLoss.toFixed(4)}, test loss ${last.loss.toFixed(4)}, ` +
      `test accuracy ${accuracy.toFixed(2)}% (${last.correct}/${last.count}), ${seconds.toFixed(1)} s`,
  );
  reportMemory(args, epoch);
}

// Checkpoint by the obvious route, then reload it into a fresh model and check it scores the same.
const checkpoint = join(out, 'cnn.safetensors');
torch.tidy(() => torch.save(model.stateDict(), checkpoint));
const reloaded = new Net();
torch.tidy(() => reloaded.loadStateDict(torch.load(checkpoint)));
const mistakes: torch.Tensor[] = [];
const again = test(reloaded, testLoader, mistakes);
console.log(`reloaded ${checkpoint}: test accuracy ${((100 * again.correct) / again.count).toFixed(2)}%`);
const grid = join(out, 'mistakes.png');
if (mistakes.length > 0) torch.tidy(() => train.saveImageGrid(grid, torch.cat(mistakes), { nrow: 8, scale: 2 }));
console.log(`wrote ${mistakes.reduce((n, t) => n + t.shape[0], 0)} misclassified test images to ${grid}`);
torch.dispose(mistakes);

model.dispose();
reloaded.dispose();
optimizer.disposeState();
trainLoader.dispose();
testLoader.dispose();
trainSet.dispose();
testSet.dispose();
