#pragma once

/// \file
/// IsolationOptions: how the elements whose strategy is `isolated` run in
/// worker processes: the sandbox each worker enters, how a dead or hung
/// worker is noticed, and how often it is started again. User guide:
/// docs/guide/isolation.md.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/ipc/shm_wait.hpp>
#include <parallax/pipeline/restart_policy.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// What an isolated element may do besides computing on its buffers.
enum class SandboxKind : std::uint8_t {
    compute_only,    ///< No files, no sockets, no exec: only what the worker was given.
    with_network,    ///< compute_only plus creating and using sockets.
    with_filesystem, ///< compute_only plus files under `allowed_paths` (Landlock).
    none,            ///< No seccomp filter or Landlock rules (namespaces and limits still apply).
};

/// "compute-only", "with-network", "with-filesystem", "none".
PARALLAX_API std::string_view to_string(SandboxKind kind) noexcept;

/// The sandbox of one worker process.
struct SandboxSettings {
    SandboxKind kind = SandboxKind::compute_only;
    /// with_filesystem: absolute paths (directories or files) the element may
    /// open, read and write; each must exist when the worker starts.
    std::vector<std::string> allowed_paths;
    /// RLIMIT_AS of the worker in bytes (nullopt: inherited).
    std::optional<std::uint64_t> max_address_space;
    /// RLIMIT_CPU of the worker (nullopt: inherited).
    std::optional<std::chrono::seconds> max_cpu;
    /// cgroup v2 memory.max and pids.max, applied when the hierarchy is
    /// writable and offers the controller (reported otherwise).
    std::optional<std::uint64_t> cgroup_memory_max;
    std::optional<std::uint64_t> cgroup_pids_max;

    friend bool operator==(const SandboxSettings&, const SandboxSettings&) = default;
};

/// Reads `KIND[:PATH[:PATH...]]` as plx-launch's --sandbox takes it:
/// `compute-only`, `with-network`, `with-filesystem:/srv/in:/tmp/out`, `none`.
/// An Error names what is wrong (an unknown kind, paths with a kind that
/// takes none, a relative path).
PARALLAX_API Result<SandboxSettings> parse_sandbox_settings(std::string_view text);

/// How isolated elements run.
struct IsolationOptions {
    /// The sandbox of every worker, unless `sandbox_for` names the element.
    SandboxSettings sandbox;
    /// Per element (by name): its own sandbox.
    std::map<std::string, SandboxSettings, std::less<>> sandbox_for;
    /// When and how often a worker that died is started again.
    RestartPolicy restart;
    /// A worker that holds input and finishes none of it for this long is
    /// declared hung, killed and restarted (0: never).
    std::chrono::milliseconds hang_timeout{5000};
    /// The plx-worker program; empty: $PARALLAX_WORKER, then the one
    /// installed beside the library (or built with it).
    std::string worker_path;
    /// Adjacent isolated elements with the same sandbox share one worker
    /// (one process, no crossing between them; a crash restarts them
    /// together). False: a worker for each.
    bool group_adjacent = true;
    /// How each side waits for the other's buffers: the worker for its
    /// input, the pipeline for the worker's output (ipcsrc's wait-mode:
    /// sleep, predict for a steady live stream, spin for the lowest latency
    /// at a core per waiting side).
    ShmWait wait = ShmWait::sleep;
};

} // namespace parallax
