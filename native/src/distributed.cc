// torch.distributed over libtorch's own c10d: a store (TCPStore or FileStore), a ProcessGroupGloo,
// collectives that complete off the JS thread, and a bucketed gradient reducer for
// DistributedDataParallel. The store keys and the start-up barrier follow PyTorch 1.13's
// init_process_group, so a genlab rank and a Python rank can share one group.
#include "common.h"
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <dlfcn.h>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

namespace genlab {
namespace {

using Ms = std::chrono::milliseconds;

struct Group {
  c10::intrusive_ptr<c10d::Store> store;  // PyTorch's "default_pg" prefix store
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  int rank = 0;
  int size = 1;
  Ms timeout{0};
};

std::map<int, std::shared_ptr<Group>> groups;
int nextGroupId = 1;

std::shared_ptr<Group> groupArg(const Napi::CallbackInfo& info, size_t i) {
  int id = info[i].As<Napi::Number>().Int32Value();
  auto it = groups.find(id);
  if (it == groups.end()) throw std::runtime_error("the process group was destroyed or never initialised");
  return it->second;
}

// One line: c10d and Gloo messages carry file positions and newlines.
std::string oneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string errorText(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return oneLine(c->what_without_backtrace());
  return oneLine(e.what());
}

// Which ranks are still answering? Every rank that sees a collective fail marks itself in the store
// and waits a moment for the others; the ranks that never mark themselves are the dead or hung
// ones. When the store itself is gone, rank 0 (which hosts it) is the one that died.
std::string diagnose(const Group& g) {
  if (g.size <= 1) return "";
  std::vector<std::string> keys;
  for (int r = 0; r < g.size; r++) keys.push_back("genlab/failed/" + std::to_string(r));
  std::vector<int> missing;
  bool polled = false;
  try {
    g.store->set(keys[g.rank], std::vector<uint8_t>{'1'});
    auto grace = std::min<Ms>(Ms(3000), g.timeout);
    auto until = std::chrono::steady_clock::now() + grace;
    do {
      std::vector<int> now;
      for (int r = 0; r < g.size; r++) {
        if (!g.store->check({keys[r]})) now.push_back(r);
      }
      missing = now;
      polled = true;
      if (missing.empty()) return "";
      std::this_thread::sleep_for(Ms(50));
    } while (std::chrono::steady_clock::now() < until);
  } catch (const std::exception&) {
    // The store went away: rank 0 hosts it. If it answered before, it left after marking itself
    // (it diagnosed the same failure and exited), and the last answer stands.
    if (!polled) return g.rank == 0 ? "the store is gone" : "rank 0 (which hosts the store) is gone";
  }
  if (missing.empty()) return "";
  std::ostringstream out;
  out << (missing.size() == 1 ? "rank " : "ranks ");
  for (size_t i = 0; i < missing.size(); i++) out << (i ? ", " : "") << missing[i];
  out << (missing.size() == 1 ? " is" : " are") << " gone or hung";
  return out.str();
}

std::string failure(const Group& g, const std::string& what, const std::exception& e) {
  std::string who = diagnose(g);
  std::ostringstream out;
  out << what << " failed on rank " << g.rank << " of " << g.size;
  if (!who.empty()) out << ": " << who;
  out << " (" << errorText(e) << ")";
  return out.str();
}

// A promise settled by work done on libuv's thread pool; `settle` runs back on the JS thread.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> settle)
      : PromiseWorker(env, Napi::Promise::Deferred::New(env), std::move(work), std::move(settle)) {}
  PromiseWorker(Napi::Env env, Napi::Promise::Deferred deferred, std::function<void()> work,
                std::function<Napi::Value(Napi::Env)> settle)
      : Napi::AsyncWorker(env), deferred_(deferred), work_(std::move(work)), settle_(std::move(settle)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      work_();
    } catch (const std::exception& e) {
      SetError(errorText(e));
    }
  }
  void OnOK() override {
    try {
      deferred_.Resolve(settle_ ? settle_(Env()) : Env().Undefined());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(Env(), errorText(e)).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> settle_;
};

Napi::Value runAsync(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> settle = {}) {
  auto* w = new PromiseWorker(env, std::move(work), std::move(settle));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// c10d logs a failed connection attempt or a closed peer on stderr through glog, over several
// lines, before the error that genlab turns into one line. Debian's libtorch logs through glog:
// raise its threshold to FATAL unless GENLAB_C10D_LOGS is set. Other builds are left alone.
void quietC10dLogs() {
  if (std::getenv("GENLAB_C10D_LOGS") != nullptr) return;
  if (void* glog = dlopen("libglog.so.1", RTLD_LAZY | RTLD_NOLOAD)) {
    if (auto* level = static_cast<int32_t*>(dlsym(glog, "_ZN3fLI17FLAGS_minloglevelE"))) *level = 3;
  }
}

c10::intrusive_ptr<c10d::ProcessGroupGloo::Options> glooOptions(Ms timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  // GLOO_SOCKET_IFNAME names the interfaces to use, as in PyTorch; else the host name's address.
  const char* ifnames = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifnames != nullptr && ifnames[0] != '\0') {
    std::stringstream list(ifnames);
    std::string name;
    while (std::getline(list, name, ',')) {
      if (!name.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
  } else {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  opts->threads = static_cast<int>(opts->devices.size()) * 2;
  return opts;
}

// The store-based barrier of PyTorch's init_process_group: every rank adds one to a counter and
// waits until all have.
void storeBarrier(c10d::Store& store, int size, Ms timeout) {
  const std::string key = "store_based_barrier_key:1";
  store.add(key, 1);
  auto start = std::chrono::steady_clock::now();
  int64_t joined;
  while ((joined = store.add(key, 0)) != size) {
    if (std::chrono::steady_clock::now() - start > timeout) {
      throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms with " +
                               std::to_string(joined) + " of " + std::to_string(size) + " ranks joined");
    }
    std::this_thread::sleep_for(Ms(10));
  }
}

c10d::ReduceOp reduceOp(const std::string& name) {
  if (name == "sum" || name == "avg") return c10d::ReduceOp(c10d::ReduceOp::SUM);
  if (name == "min") return c10d::ReduceOp(c10d::ReduceOp::MIN);
  if (name == "max") return c10d::ReduceOp(c10d::ReduceOp::MAX);
  if (name == "product") return c10d::ReduceOp(c10d::ReduceOp::PRODUCT);
  throw std::runtime_error("unknown reduce op '" + name + "' (sum, avg, min, max, product)");
}

// A collective is enqueued on the JS thread, so that every rank issues its collectives in program
// order. Its completion comes back through one thread-safe function: Gloo's worker thread completes
// the Work's future and queues the call, with no thread-pool thread waiting in between (one thread
// hop, as when Python waits). `after` (e.g. the division of avg) and `settle` then run on the JS
// thread. A failure goes on to the thread pool, where diagnose() looks for the dead or hung rank.
struct Completion {
  Napi::Promise::Deferred deferred;
  std::shared_ptr<Group> g;
  std::string what;
  c10::intrusive_ptr<c10d::Work> work;
  std::function<void()> after;
  std::function<Napi::Value(Napi::Env)> settle;
};

napi_threadsafe_function completions = nullptr;
size_t pendingCompletions = 0;  // the function keeps the event loop alive only while some are pending

void deliver(napi_env env, napi_value, void*, void* data) {
  std::unique_ptr<Completion> c(static_cast<Completion*>(data));
  if (env == nullptr) return;  // the environment is shutting down
  if (--pendingCompletions == 0) napi_unref_threadsafe_function(env, completions);
  Napi::Env e(env);
  Napi::HandleScope scope(e);
  if (c->work->getFuture()->hasError()) {
    auto g = c->g;
    auto what = c->what;
    auto work = c->work;
    auto* w = new PromiseWorker(
        e, c->deferred,
        [g, what, work] {
          try {
            work->wait();
          } catch (const std::exception& ex) {
            throw std::runtime_error(failure(*g, what, ex));
          }
        },
        {});
    w->Queue();
    return;
  }
  try {
    if (c->after) c->after();
    c->deferred.Resolve(c->settle ? c->settle(e) : e.Undefined());
  } catch (const std::exception& ex) {
    c->deferred.Reject(Napi::Error::New(e, errorText(ex)).Value());
  }
}

Napi::Value completeAsync(Napi::Env env, std::shared_ptr<Group> g, std::string what, c10::intrusive_ptr<c10d::Work> work,
                          std::function<void()> after = {}, std::function<Napi::Value(Napi::Env)> settle = {}) {
  if (completions == nullptr) {
    napi_value name;
    napi_create_string_utf8(env, "genlab c10d completions", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr, deliver,
                                        &completions) != napi_ok) {
      throw std::runtime_error("cannot create the completion queue of collectives");
    }
    napi_unref_threadsafe_function(env, completions);
  }
  auto* c = new Completion{Napi::Promise::Deferred::New(env), std::move(g), std::move(what), work, std::move(after), std::move(settle)};
  Napi::Promise promise = c->deferred.Promise();
  if (pendingCompletions++ == 0) napi_ref_threadsafe_function(env, completions);
  work->getFuture()->addCallback(
      [c](c10::ivalue::Future&) { napi_call_threadsafe_function(completions, c, napi_tsfn_nonblocking); });
  return promise;
}

// ---- DistributedDataParallel's reducer ----
// Gradients are all-reduced in buckets of about `bucketBytes`, filled in reverse parameter order
// (the order backward usually produces them). A post-hook on each parameter's gradient accumulator
// marks it ready; a full bucket is flattened and its all-reduce launched at once, while backward
// goes on. Buckets launch in index order on every rank, as in PyTorch's reducer, so ranks agree on
// the sequence of collectives. A callback queued on the autograd engine waits for them at the end
// of backward, averages, and writes the results back into the .grad fields.
struct Reducer {
  std::shared_ptr<Group> g;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // keeps the hooks alive
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> bucketOf;
  std::vector<size_t> pending;
  std::vector<at::Tensor> flat;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;
  bool inBackward = false;
  bool sync = true;
  bool alive = true;
  uint64_t reductions = 0;
  uint64_t launchedInBackward = 0;  // buckets launched by a hook, overlapping the rest of backward

  void reset() {
    next = 0;
    works.assign(buckets.size(), {});
    flat.assign(buckets.size(), {});
    for (size_t b = 0; b < buckets.size(); b++) pending[b] = buckets[b].size();
  }

  void launch(size_t b) {
    std::vector<at::Tensor> pieces;
    for (size_t i : buckets[b]) {
      const at::Tensor& p = params[i];
      at::Tensor grad = p.grad();
      pieces.push_back(grad.defined() ? materialised(grad).reshape({-1}) : at::zeros({p.numel()}, p.options()));
    }
    flat[b] = at::cat(pieces);
    std::vector<at::Tensor> ts{flat[b]};
    works[b] = g->pg->allreduce(ts);
  }

  void ready(size_t i) {
    if (!alive || !sync) return;
    if (!inBackward) {
      inBackward = true;
      reset();
      torch::autograd::Engine::get_default_engine().queue_callback([this] { finish(); });
    }
    size_t b = bucketOf[i];
    if (pending[b] > 0) pending[b]--;
    while (next < buckets.size() && pending[next] == 0) {
      launch(next++);
      launchedInBackward++;
    }
  }

  void finish() {
    inBackward = false;
    // Buckets whose parameters got no gradient on this rank still take part, as zeros.
    while (next < buckets.size()) launch(next++);
    for (size_t b = 0; b < buckets.size(); b++) {
      try {
        works[b]->wait();
      } catch (const std::exception& e) {
        throw std::runtime_error(failure(*g, "allReduce of gradient bucket " + std::to_string(b), e));
      }
      flat[b].div_(g->size);
      int64_t offset = 0;
      for (size_t i : buckets[b]) {
        at::Tensor& p = params[i];
        int64_t n = p.numel();
        at::Tensor avg = flat[b].narrow(0, offset, n).view(p.sizes());
        offset += n;
        if (p.grad().defined()) {
          p.mutable_grad().copy_(avg);
        } else {
          p.mutable_grad() = avg.clone();
        }
      }
    }
    flat.assign(buckets.size(), {});
    works.assign(buckets.size(), {});
    reductions++;
  }
};

std::map<int, std::unique_ptr<Reducer>> reducers;
int nextReducerId = 1;

// The hooks on the accumulators hold a raw pointer to their reducer, and a hook cannot be removed
// in libtorch 1.13: a retired reducer is kept (a few bytes) but stops doing anything.
std::map<int, std::unique_ptr<Reducer>>::iterator retire(std::map<int, std::unique_ptr<Reducer>>::iterator it) {
  Reducer* r = it->second.release();
  r->alive = false;
  r->params.clear();
  r->flat.clear();
  r->works.clear();
  r->accumulators.clear();
  r->g.reset();
  return reducers.erase(it);
}

Reducer& reducerArg(const Napi::CallbackInfo& info, size_t i) {
  auto it = reducers.find(info[i].As<Napi::Number>().Int32Value());
  if (it == reducers.end()) throw std::runtime_error("the DistributedDataParallel reducer was released");
  return *it->second;
}

std::vector<at::Tensor> tensorArray(const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(tensorAt(arr.Get(i).As<Napi::Number>().Int32Value()));
  return out;
}

}  // namespace

void registerDistributedFunctions(Napi::Env env, Napi::Object exports) {
  // distInit(kind 'tcp'|'file', hostOrPath, port, rank, worldSize, timeoutMs) → Promise<group id>
  exportFn(env, exports, "distInit", [](const Napi::CallbackInfo& info) -> Napi::Value {
    std::string kind = info[0].As<Napi::String>().Utf8Value();
    std::string where = info[1].As<Napi::String>().Utf8Value();
    int port = info[2].As<Napi::Number>().Int32Value();
    int rank = info[3].As<Napi::Number>().Int32Value();
    int size = info[4].As<Napi::Number>().Int32Value();
    Ms timeout(info[5].As<Napi::Number>().Int64Value());
    if (size < 1 || rank < 0 || rank >= size) throw std::runtime_error("rank must be in [0, worldSize)");
    quietC10dLogs();
    auto g = std::make_shared<Group>();
    g->rank = rank;
    g->size = size;
    g->timeout = timeout;
    return runAsync(
        info.Env(),
        [g, kind, where, port, rank, size, timeout] {
          c10::intrusive_ptr<c10d::Store> base;
          std::string stage = "connecting to the store";
          try {
            if (kind == "file") {
              base = c10::make_intrusive<c10d::FileStore>(where, size);
            } else {
              c10d::TCPStoreOptions o;
              o.port = static_cast<uint16_t>(port);
              o.isServer = rank == 0;
              o.numWorkers = size;
              o.waitWorkers = true;
              o.timeout = timeout;
              o.multiTenant = true;
              base = c10::make_intrusive<c10d::TCPStore>(where, o);
            }
            base->setTimeout(timeout);
            // init_process_group's prefixes: "default_pg" for the group's store, "0" for the first group.
            g->store = c10::make_intrusive<c10d::PrefixStore>("default_pg", base);
            auto pgStore = c10::make_intrusive<c10d::PrefixStore>("0", g->store);
            stage = "connecting the Gloo process group";
            g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pgStore, rank, size, glooOptions(timeout));
            stage = "waiting for every rank to join";
            storeBarrier(*g->store, size, timeout);
            g->pg->setSequenceNumberForGroup();
          } catch (const std::exception& e) {
            throw std::runtime_error("initProcessGroup failed on rank " + std::to_string(rank) + " of " +
                                     std::to_string(size) + " while " + stage + " (" + errorText(e) + ")");
          }
        },
        [g](Napi::Env env) -> Napi::Value {
          int id = nextGroupId++;
          groups[id] = g;
          return Napi::Number::New(env, id);
        });
  });
  exportFn(env, exports, "distInfo", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    auto o = Napi::Object::New(info.Env());
    o.Set("rank", g->rank);
    o.Set("worldSize", g->size);
    o.Set("timeoutMs", static_cast<double>(g->timeout.count()));
    o.Set("backend", g->pg->getBackendName());
    return o;
  });
  // distAllReduce(group, tensor, op) → Promise<void>; in place, as torch.distributed.all_reduce.
  exportFn(env, exports, "distAllReduce", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    at::Tensor t = tensorArg(info, 1);
    std::string op = info[2].As<Napi::String>().Utf8Value();
    if (op == "avg" && !at::isFloatingType(t.scalar_type())) {
      throw std::runtime_error("avg needs a floating-point tensor, not " + describeTensor(t));
    }
    c10d::AllreduceOptions o;
    o.reduceOp = reduceOp(op);
    std::vector<at::Tensor> ts{t};
    auto work = g->pg->allreduce(ts, o);
    std::function<void()> after;
    // Gloo has no AVG: sum, then divide by the world size.
    if (op == "avg") after = [t, g]() mutable { t.div_(g->size); };
    return completeAsync(info.Env(), g, "allReduce(" + op + ")", work, after);
  });
  // distBroadcast(group, tensor, src) → Promise<void>; in place.
  exportFn(env, exports, "distBroadcast", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    at::Tensor t = tensorArg(info, 1);
    c10d::BroadcastOptions o;
    o.rootRank = info[2].As<Napi::Number>().Int32Value();
    if (o.rootRank < 0 || o.rootRank >= g->size) throw std::runtime_error("src must be a rank of the group");
    std::vector<at::Tensor> ts{t};
    auto work = g->pg->broadcast(ts, o);
    return completeAsync(info.Env(), g, "broadcast(src " + std::to_string(o.rootRank) + ")", work);
  });
  // distAllGather(group, tensor) → Promise<handle[]>, one tensor per rank.
  exportFn(env, exports, "distAllGather", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    at::Tensor t = tensorArg(info, 1);
    auto outputs = std::make_shared<std::vector<std::vector<at::Tensor>>>(1);
    for (int r = 0; r < g->size; r++) (*outputs)[0].push_back(at::empty_like(t, at::MemoryFormat::Contiguous));
    std::vector<at::Tensor> ins{t};
    auto work = g->pg->allgather(*outputs, ins);
    return completeAsync(info.Env(), g, "allGather", work, {}, [outputs](Napi::Env env) -> Napi::Value {
      auto arr = Napi::Array::New(env, (*outputs)[0].size());
      for (size_t i = 0; i < (*outputs)[0].size(); i++) arr.Set(static_cast<uint32_t>(i), newHandle(env, (*outputs)[0][i]));
      return arr;
    });
  });
  // distReduceScatter(group, output, inputs[], op) → Promise<void>
  exportFn(env, exports, "distReduceScatter", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    at::Tensor out = tensorArg(info, 1);
    std::vector<std::vector<at::Tensor>> ins{tensorArray(info[2])};
    std::string op = info[3].As<Napi::String>().Utf8Value();
    c10d::ReduceScatterOptions o;
    o.reduceOp = reduceOp(op);
    std::vector<at::Tensor> outs{out};
    auto work = g->pg->reduce_scatter(outs, ins, o);
    std::function<void()> after;
    if (op == "avg") after = [out, g]() mutable { out.div_(g->size); };
    return completeAsync(info.Env(), g, "reduceScatter(" + op + ")", work, after);
  });
  exportFn(env, exports, "distBarrier", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    auto work = g->pg->barrier();
    return completeAsync(info.Env(), g, "barrier", work);
  });
  // distDestroy(group) → Promise<void>: joins Gloo's threads off the JS thread.
  exportFn(env, exports, "distDestroy", [](const Napi::CallbackInfo& info) -> Napi::Value {
    int id = info[0].As<Napi::Number>().Int32Value();
    auto it = groups.find(id);
    if (it == groups.end()) return runAsync(info.Env(), [] {});
    auto g = it->second;
    groups.erase(it);
    for (auto r = reducers.begin(); r != reducers.end();) {
      r = r->second->g == g ? retire(r) : std::next(r);
    }
    return runAsync(info.Env(), [g]() mutable { g.reset(); });
  });
  // ddpCreate(group, params[], bucketBytes) → reducer id
  exportFn(env, exports, "ddpCreate", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = groupArg(info, 0);
    auto r = std::make_unique<Reducer>();
    r->g = g;
    r->params = tensorArray(info[1]);
    int64_t cap = info[2].As<Napi::Number>().Int64Value();
    r->bucketOf.assign(r->params.size(), 0);
    int64_t filled = 0;
    for (size_t k = r->params.size(); k-- > 0;) {
      const at::Tensor& p = r->params[k];
      if (!p.requires_grad() || !p.is_leaf()) throw std::runtime_error("parameter " + std::to_string(k) + " is not a leaf that requires grad");
      int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
      if (r->buckets.empty() || filled + bytes > cap || p.scalar_type() != r->params[r->buckets.back()[0]].scalar_type()) {
        r->buckets.emplace_back();
        filled = 0;
      }
      r->buckets.back().push_back(k);
      r->bucketOf[k] = r->buckets.size() - 1;
      filled += bytes;
    }
    r->pending.assign(r->buckets.size(), 0);
    r->reset();
    Reducer* raw = r.get();
    for (size_t k = 0; k < r->params.size(); k++) {
      auto acc = torch::autograd::impl::grad_accumulator(r->params[k]);
      acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [raw, k](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            raw->ready(k);
            return outputs;
          }));
      r->accumulators.push_back(acc);
    }
    int id = nextReducerId++;
    reducers[id] = std::move(r);
    return Napi::Number::New(info.Env(), id);
  });
  exportFn(env, exports, "ddpSetSync", [](const Napi::CallbackInfo& info) -> Napi::Value {
    reducerArg(info, 0).sync = info[1].As<Napi::Boolean>().Value();
    return info.Env().Undefined();
  });
  exportFn(env, exports, "ddpInfo", [](const Napi::CallbackInfo& info) -> Napi::Value {
    Reducer& r = reducerArg(info, 0);
    auto o = Napi::Object::New(info.Env());
    auto bs = Napi::Array::New(info.Env(), r.buckets.size());
    for (size_t b = 0; b < r.buckets.size(); b++) {
      auto idx = Napi::Array::New(info.Env(), r.buckets[b].size());
      for (size_t j = 0; j < r.buckets[b].size(); j++) idx.Set(static_cast<uint32_t>(j), static_cast<double>(r.buckets[b][j]));
      bs.Set(static_cast<uint32_t>(b), idx);
    }
    o.Set("buckets", bs);
    o.Set("reductions", static_cast<double>(r.reductions));
    o.Set("launchedInBackward", static_cast<double>(r.launchedInBackward));
    return o;
  });
  // ddpRelease(id): the hooks stay on the accumulators but do nothing from now on.
  exportFn(env, exports, "ddpRelease", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto it = reducers.find(info[0].As<Napi::Number>().Int32Value());
    if (it != reducers.end()) retire(it);
    return info.Env().Undefined();
  });
}

}  // namespace genlab
