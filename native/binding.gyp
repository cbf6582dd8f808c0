{
  "targets": [
    {
      "target_name": "genlab",
      "sources": ["src/addon.cc", "src/slots.cc", "src/ops.cc", "src/autograd.cc", "src/tensor_io.cc", "src/runtime.cc", "src/allocator.cc", "src/distributed.cc", "src/data_kernels.cc", "src/fused_kernels.cc", "src/norm_kernels.cc", "src/norm_silu_kernels.cc", "src/pool_kernels.cc"],
      "include_dirs": ["<!(node -p \"require('path').dirname(require.resolve('node-addon-api/package.json'))\")", "<!@(node torch-paths.cjs include)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "GENLAB_CUDA=<!(node torch-paths.cjs cuda)", "USE_C10D_GLOO"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-L<!(node torch-paths.cjs lib)",
        "-Wl,-rpath,<!(node torch-paths.cjs lib)",
        "-Wl,--no-as-needed",
        "-ltorch_cpu", "-ltorch", "-lc10",
        "-Wl,--as-needed"
      ]
    }
  ]
}
