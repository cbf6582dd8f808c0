// Prints libtorch's include or library directories for binding.gyp.
// LIBTORCH (an unpacked official libtorch, possibly a CUDA build) wins; otherwise Debian's layout.
const fs = require('node:fs');
const path = require('node:path');

function roots() {
  const lt = process.env.LIBTORCH;
  if (lt) {
    if (!fs.existsSync(path.join(lt, 'include', 'ATen', 'ATen.h'))) {
      throw new Error(`LIBTORCH=${lt} does not look like libtorch (no include/ATen/ATen.h)`);
    }
    return { include: [path.join(lt, 'include'), path.join(lt, 'include/torch/csrc/api/include')], lib: path.join(lt, 'lib') };
  }
  if (!fs.existsSync('/usr/include/ATen/ATen.h')) {
    throw new Error('libtorch headers not found: install libtorch-dev (bash scripts/setup.sh) or set LIBTORCH');
  }
  const multiarch = fs.existsSync('/usr/lib/x86_64-linux-gnu/libtorch.so') ? '/usr/lib/x86_64-linux-gnu' : '/usr/lib/aarch64-linux-gnu';
  return { include: ['/usr/include', '/usr/include/torch/csrc/api/include'], lib: multiarch };
}

const what = process.argv[2];
const r = roots();
if (what === 'include') console.log(r.include.join(' '));
else if (what === 'lib') console.log(r.lib);
else if (what === 'cuda') console.log(fs.existsSync(path.join(r.lib, 'libtorch_cuda.so')) ? '1' : '0');
else throw new Error('usage: torch-paths.cjs include|lib|cuda');
